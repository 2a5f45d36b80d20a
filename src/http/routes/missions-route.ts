import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BridgeError } from '../../errors/index.js';
import type { RunRecord } from '../../events/index.js';
import { promoteMission, promotionRefusalError } from '../../implementation/index.js';
import type { AppDeps } from '../app-deps.js';
import { elapsedMs, timing } from '../request-timing.js';
import { OVERHEAD_HEADER } from '../sse-writer.js';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  state: z.enum(['running', 'waiting_upstream', 'completed', 'failed', 'cancelled']).optional(),
});

/**
 * Mission introspection for orchestrators: which runs exist, what state each is in (running,
 * waiting on the model, done), and their events as SSE with Last-Event-ID (= seq) replay.
 */
export function registerMissionRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/v1/missions', (request, reply) => {
    const query = listQuery.safeParse(request.query);
    if (!query.success) {
      const issue = query.error.issues[0];
      throw new BridgeError(
        'invalid_request',
        `${issue?.path.join('.') ?? 'query'}: ${issue?.message ?? 'invalid'}`,
        { param: issue?.path.join('.') ?? null },
      );
    }
    const runs = deps.missions.list({
      limit: query.data.limit,
      ...(query.data.state ? { state: query.data.state } : {}),
    });
    return reply.send({ object: 'list', data: runs });
  });

  app.get<{ Params: { id: string } }>('/v1/missions/:id', async (request) => {
    const record = await deps.missions.get(request.params.id);
    if (!record) throw notFound(request.params.id);
    return missionView(record);
  });

  app.get<{ Params: { id: string } }>('/v1/missions/:id/events', (request, reply) =>
    streamEvents(request, reply, deps),
  );

  app.post<{ Params: { id: string } }>('/v1/missions/:id/promote', async (request) => {
    const body = promoteBody.safeParse(request.body ?? {});
    if (!body.success) {
      const issue = body.error.issues[0];
      throw new BridgeError(
        'invalid_request',
        `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
        { param: issue?.path.join('.') ?? null },
      );
    }
    const record = await deps.missions.get(request.params.id);
    if (!record) throw notFound(request.params.id);
    // PRODUCT.md §6.1: over HTTP only A5; an A6 rehearsal is promoted by a person at the CLI.
    if (record.tier !== 'A5')
      throw new BridgeError(
        'promotion_refused',
        record.tier === 'A6'
          ? `Mission ${request.params.id} is an A6 critical rehearsal: promote it from the CLI with codex-oss promote ${request.params.id} --confirm-critical after review.`
          : `Mission ${request.params.id} is ${record.tier ?? 'not a mission'}: only A5 patches are promoted over HTTP.`,
      );
    const result = await promoteMission({
      projectRoot: deps.missions.projectRoot,
      id: record.run_id,
      dryRun: body.data.dry_run,
      acceptUnverified: body.data.accept_unverified,
      revert: body.data.revert,
    });
    const refusal = promotionRefusalError(result);
    if (refusal) throw refusal;
    return result;
  });
}

const promoteBody = z.strictObject({
  dry_run: z.boolean().default(false),
  accept_unverified: z.boolean().default(false),
  revert: z.boolean().default(false),
});

async function streamEvents(
  request: FastifyRequest<{ Params: { id: string } }>,
  reply: FastifyReply,
  deps: AppDeps,
): Promise<void> {
  const header = request.headers['last-event-id'];
  const lastEventId = Array.isArray(header) ? header[0] : header;
  const afterSeq =
    lastEventId !== undefined && /^\d+$/.test(lastEventId) ? Number(lastEventId) : -1;
  const raw = reply.raw;
  const pending: string[] = [];
  let opened = false;
  const subscription = await deps.missions.follow(request.params.id, afterSeq, (event) => {
    const frame = `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    if (opened) raw.write(frame);
    else pending.push(frame);
  });
  if (!subscription) throw notFound(request.params.id);

  reply.hijack();
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    [OVERHEAD_HEADER]: (elapsedMs(timing(request)) - timing(request).upstreamMs).toFixed(3),
  });
  opened = true;
  for (const frame of pending.splice(0)) raw.write(frame);
  // This stream is read by orchestrators, not Codex, so an SSE comment is a sufficient heartbeat.
  const keepalive = setInterval(
    () => raw.write(': keepalive\n\n'),
    Math.max(1000, deps.config.SSE_KEEPALIVE_SECONDS * 1000),
  );
  keepalive.unref();
  raw.on('close', () => subscription.stop());
  await subscription.done;
  clearInterval(keepalive);
  if (!raw.destroyed) raw.end();
}

function notFound(id: string): BridgeError {
  return new BridgeError(
    'mission_not_found',
    `No run or mission "${id}" under this project. GET /v1/missions lists them.`,
    { param: 'id' },
  );
}

/** The detail view: the RunRecord's headline figures, with the report summary up front. */
function missionView(record: RunRecord): Record<string, unknown> {
  const report = record.report as { summary?: unknown } | null;
  return {
    object: 'mission',
    run_id: record.run_id,
    mission_id: record.mission_id,
    state: record.state,
    status: record.status,
    reason: record.reason,
    reason_text: record.reason_text,
    tier: record.tier,
    model_alias: record.model_alias,
    model: record.model,
    continues: record.continues ?? null,
    started_at: record.started_at,
    last_event_at: record.last_event_at,
    ended_at: record.ended_at,
    deadline_at: record.deadline_at,
    event_count: record.event_count,
    head_hash: record.head_hash,
    model_calls: record.model_calls,
    tool_calls: record.tool_calls,
    tools_denied: record.tools_denied,
    fallbacks_used: record.fallbacks_used,
    tokens: record.tokens,
    cost_usd: record.cost_usd,
    report_summary: typeof report?.summary === 'string' ? report.summary : null,
    final_text: record.final_text,
    rejection: record.rejection,
  };
}
