import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BridgeError } from '../../errors/index.js';
import { containsHandoff } from '../../mission/index.js';
import type { LaneDecision } from '../../models/index.js';
import { parseResponsesRequest, type ResponsesRequest } from '../../responses/index.js';
import type { AppDeps } from '../app-deps.js';
import { runGptPassthrough } from '../lanes/gpt-passthrough-lane.js';
import { runManagedLane } from '../lanes/managed-lane.js';
import { runRawLane } from '../lanes/raw-lane.js';

export function registerResponsesRoutes(app: FastifyInstance, deps: AppDeps): void {
  const handler = (httpRequest: FastifyRequest, reply: FastifyReply) =>
    handleResponses(httpRequest, reply, deps);
  app.post('/v1/responses', handler);
  app.post('/responses', handler);
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
  const request = parseResponsesRequest(httpRequest.body);
  if (request.previous_response_id) {
    throw new BridgeError(
      'unsupported_parameter',
      'previous_response_id is not supported: the bridge keeps no server-side state (store is always false). Send the whole conversation in `input` instead.',
      { param: 'previous_response_id' },
    );
  }
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

/** User-role text only: a MissionV1 block quoted in developer/system text (AGENTS.md) never counts. */
function collectUserTexts(request: ResponsesRequest): string[] {
  if (typeof request.input === 'string') return [request.input];
  const texts: string[] = [];
  for (const item of request.input) {
    if (!('role' in item) || item.role !== 'user') continue;
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
