import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BridgeError } from '../../errors/index.js';
import { containsHandoff } from '../../mission/index.js';
import type { LaneDecision } from '../../models/index.js';
import {
  parseResponsesRequest,
  refuseFileOnlyParts,
  resolveConversation,
  type ResponsesRequest,
} from '../../responses/index.js';
import type { AppDeps } from '../app-deps.js';
import { runGptPassthrough } from '../lanes/gpt-passthrough-lane.js';
import { runManagedLane } from '../lanes/managed-lane.js';
import { runRawLane } from '../lanes/raw-lane.js';

export function registerResponsesRoutes(app: FastifyInstance, deps: AppDeps): void {
  const handler = (httpRequest: FastifyRequest, reply: FastifyReply) =>
    handleResponses(httpRequest, reply, deps);
  app.post('/v1/responses', handler);
  app.post('/responses', handler);

  const getStored = (id: string) => {
    const stored = deps.responses.get(id);
    if (!stored) throw responseNotFound(id);
    return stored;
  };
  for (const prefix of ['/v1/responses', '/responses']) {
    app.get<{ Params: { id: string } }>(`${prefix}/:id`, (request) =>
      Promise.resolve(getStored(request.params.id).response),
    );
    app.get<{ Params: { id: string } }>(`${prefix}/:id/input_items`, (request) => {
      const items = getStored(request.params.id).input as { id?: string }[];
      return Promise.resolve({
        object: 'list',
        data: items,
        first_id: items[0]?.id ?? null,
        last_id: items.at(-1)?.id ?? null,
        has_more: false,
      });
    });
    app.delete<{ Params: { id: string } }>(`${prefix}/:id`, (request) => {
      const id = request.params.id;
      if (!deps.responses.delete(id)) throw responseNotFound(id);
      return Promise.resolve({ id, object: 'response', deleted: true });
    });
  }
}

function responseNotFound(id: string): BridgeError {
  return new BridgeError(
    'response_not_found',
    `No stored response "${id}": it was made with store:false, expired (RESPONSE_STORE_TTL_SECONDS) or was deleted.`,
    { param: 'id' },
  );
}

async function handleResponses(
  httpRequest: FastifyRequest,
  reply: FastifyReply,
  deps: AppDeps,
): Promise<void> {
  // A disconnecting client aborts whatever the lane is waiting on, upstream calls included.
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });

  const decision = deps.registry.resolve(peekModel(httpRequest.body));
  if (decision.lane === 'gpt-passthrough') {
    // Verbatim: the body is not ours to validate or reshape.
    await runGptPassthrough(httpRequest, reply, controller.signal, deps);
    return;
  }
  const parsed = parseResponsesRequest(httpRequest.body);
  const request = resolveConversation(parsed, {
    response: (id) => {
      const stored = deps.responses.get(id);
      const output = stored?.response['output'];
      return stored ? { input: stored.input, output: Array.isArray(output) ? output : [] } : null;
    },
    item: (id) => deps.responses.item(id),
  });
  refuseFileOnlyParts(request);
  httpRequest.log.info(
    { model: request.model, lane: decision.lane, stream: request.stream === true },
    'responses request',
  );

  const userTexts = collectUserTexts(request);
  if (decision.lane === 'managed' || (decision.lane === 'raw' && containsHandoff(userTexts))) {
    await runManagedLane(
      {
        request,
        missionAlias: decision.lane === 'managed' ? decision.mission : undefined,
        userTexts,
        httpRequest,
        reply,
        signal: controller.signal,
      },
      deps,
    );
    return;
  }
  switch (decision.lane) {
    case 'gpt-error':
      throw gptRefusal(decision.requested);
    case 'raw':
      await assertServed(decision, controller.signal, deps);
      await runRawLane(
        {
          request,
          chain: [decision.model, ...decision.fallbacks],
          httpRequest,
          reply,
          signal: controller.signal,
        },
        deps,
      );
      return;
  }
}

function peekModel(body: unknown): string {
  const model =
    body !== null && typeof body === 'object' ? (body as { model?: unknown }).model : undefined;
  if (typeof model !== 'string' || model.trim() === '') {
    throw new BridgeError(
      'invalid_request',
      'model: a model name is required (for example mission-a3-kimi or ocg-kimi-k2.6).',
      {
        param: 'model',
      },
    );
  }
  return model;
}

/**
 * The latest user message's text only (PRODUCT.md §4): a MissionV1 block quoted in
 * developer/system text (AGENTS.md) never counts, and a block in an earlier turn never starts a
 * mission again, so a plain follow-up after a mission is just a follow-up.
 */
function collectUserTexts(request: ResponsesRequest): string[] {
  if (typeof request.input === 'string') return [request.input];
  const texts: string[] = [];
  const latest = request.input.findLast((item) => 'role' in item && item.role === 'user');
  for (const item of latest ? [latest] : []) {
    const content = (item as { content: unknown }).content;
    if (typeof content === 'string') texts.push(content);
    else if (Array.isArray(content)) {
      for (const part of content as { type?: string; text?: unknown }[]) {
        if ((part.type === 'input_text' || part.type === 'text') && typeof part.text === 'string')
          texts.push(part.text);
      }
    }
  }
  return texts;
}

/** A model id the registry does not know must be one the upstream serves, when we can ask it. */
async function assertServed(
  decision: Extract<LaneDecision, { lane: 'raw' }>,
  signal: AbortSignal,
  deps: AppDeps,
): Promise<void> {
  if (decision.known) return;
  if (decision.model.id.trim() === '') {
    throw new BridgeError(
      'invalid_request',
      `model: "${decision.requested}" names no model after its prefix (try ocg-kimi-k2.6).`,
      { param: 'model' },
    );
  }
  const served = await deps.upstream.listModels(signal);
  if (served === null || served.includes(decision.model.id)) return;
  const examples = [
    'mission-a3-kimi',
    'ocg-kimi-k2.6',
    'ocg-deepseek-v4-pro',
    ...served.slice(0, 5),
  ];
  throw new BridgeError(
    'model_not_found',
    `Unknown model "${decision.requested}": it is not a bridge alias and the upstream does not serve "${decision.model.id}". Try one of: ${examples.join(', ')} (GET /v1/models lists them all).`,
    { param: 'model' },
  );
}

function gptRefusal(model: string): BridgeError {
  return new BridgeError(
    'unsupported_bridge_model',
    `"${model}" is a GPT model and GPT_MODEL_STRATEGY=error. Either keep GPT sessions on OpenAI's own provider and send only OSS models here (mission-a3-kimi, ocg-kimi-k2.6…), ` +
      'or set GPT_MODEL_STRATEGY=openai with OPENAI_API_KEY so GPT requests pass through to OpenAI (needed when the bridge is the Codex parent provider on Codex 0.149 and later), ' +
      'or GPT_MODEL_STRATEGY=oss to answer them with GPT_MODEL_OSS_FALLBACK.',
    { param: 'model' },
  );
}
