import type { FastifyReply, FastifyRequest } from 'fastify';
import { toBridgeError } from '../../errors/index.js';
import type { RunRecord } from '../../events/index.js';
import type { TokenUsage } from '../../upstream/index.js';
import type { MissionAlias } from '../../models/index.js';
import { ResponseEmitter, type ResponsesRequest } from '../../responses/index.js';
import type { AppDeps } from '../app-deps.js';
import { OVERHEAD_HEADER, SseWriter } from '../sse-writer.js';
import { elapsedMs, timing } from '../request-timing.js';

export interface ManagedLaneInput {
  readonly request: ResponsesRequest;
  readonly missionAlias: MissionAlias | undefined;
  readonly userTexts: readonly string[];
  readonly httpRequest: FastifyRequest;
  readonly reply: FastifyReply;
  readonly signal: AbortSignal;
}

/**
 * The managed lane's HTTP half: opens the stream at once (so commentary reaches the client while
 * the mission runs, with keepalives between), then hands the emitter to the mission runtime,
 * which ends it with the report. Items are final when written, so nothing is held back.
 */
export async function runManagedLane(input: ManagedLaneInput, deps: AppDeps): Promise<void> {
  const { request, httpRequest, reply } = input;
  const clock = timing(httpRequest);
  const writer =
    request.stream === true
      ? new SseWriter(reply.raw, {
          keepaliveMs: deps.config.SSE_KEEPALIVE_SECONDS * 1000,
          overheadMs: () => elapsedMs(clock) - clock.upstreamMs,
        })
      : undefined;
  const emitter = new ResponseEmitter({
    model: request.model,
    sink: writer ?? { write: () => undefined },
    holdItemDone: false,
    includeEncryptedReasoning: false,
  });
  if (writer) {
    reply.hijack();
    writer.open(elapsedMs(clock));
    emitter.start();
  }
  try {
    const outcome = await deps.missions.execute({
      userTexts: input.userTexts,
      model: request.model,
      missionAlias: input.missionAlias,
      signal: input.signal,
      requestId: httpRequest.id,
      sessionKey: request.prompt_cache_key ?? undefined,
      onCommentary: (line) => emitter.commentary(line.message),
    });
    clock.upstreamMs += outcome.modelTimeMs;
    emitter.message(outcome.finalText, { phase: 'final_answer' });
    emitter.complete(toTokenUsage(outcome.record));
    httpRequest.log.info(
      { runId: outcome.runId, missionId: outcome.missionId, status: outcome.status },
      'mission answered',
    );
  } catch (error) {
    const failure = toBridgeError(error);
    if (!writer) throw failure;
    emitter.fail(failure);
  } finally {
    writer?.end();
  }
  if (!writer) {
    reply.header(OVERHEAD_HEADER, (elapsedMs(clock) - clock.upstreamMs).toFixed(3));
    await reply.code(200).send(emitter.response());
  }
}

function toTokenUsage(record: RunRecord): TokenUsage {
  const tokens = record.tokens;
  return {
    inputTokens: tokens.input,
    cachedInputTokens: tokens.cached_input,
    cacheWriteTokens: tokens.cache_write,
    outputTokens: tokens.output,
    reasoningTokens: tokens.reasoning,
    totalTokens: tokens.total,
  };
}
