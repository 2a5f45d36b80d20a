import type { FastifyReply, FastifyRequest } from 'fastify';
import { pipeline } from 'node:stream/promises';
import { BridgeError } from '../../errors/index.js';
import { passthroughToOpenAI } from '../../upstream/index.js';
import type { AppDeps } from '../app-deps.js';
import { OVERHEAD_HEADER } from '../sse-writer.js';
import { elapsedMs, timing } from '../request-timing.js';

/** Response headers from OpenAI worth passing on; hop-by-hop and encoding headers are not. */
const forwardedHeaders = [
  'content-type',
  'retry-after',
  'x-request-id',
  'openai-processing-ms',
  'openai-version',
];

/**
 * GPT_MODEL_STRATEGY=openai: the body goes to OpenAI byte for byte and the answer comes back
 * byte for byte. This is what lets the bridge be a Codex *parent's* provider on Codex ≥ 0.149,
 * where subagents inherit the parent's provider (wire-protocol.md finding 1).
 */
export async function runGptPassthrough(
  httpRequest: FastifyRequest,
  reply: FastifyReply,
  signal: AbortSignal,
  deps: AppDeps,
): Promise<void> {
  const rawBody = httpRequest.rawBody;
  if (rawBody === undefined)
    throw new BridgeError('invalid_json', 'The request body is empty; send a JSON object.');
  if (!deps.config.OPENAI_API_KEY) {
    throw new BridgeError(
      'openai_key_missing',
      'GPT_MODEL_STRATEGY=openai needs OPENAI_API_KEY; set it and restart the bridge.',
    );
  }
  const clock = timing(httpRequest);
  const upstreamStart = performance.now();
  const upstream = await passthroughToOpenAI({ body: rawBody, signal, config: deps.config });
  clock.upstreamMs += performance.now() - upstreamStart;

  const headers: Record<string, string> = {};
  for (const name of forwardedHeaders) {
    const value = upstream.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  headers[OVERHEAD_HEADER] = (elapsedMs(clock) - clock.upstreamMs).toFixed(3);
  reply.hijack();
  reply.raw.writeHead(upstream.statusCode, headers);
  try {
    await pipeline(upstream.body, reply.raw);
  } catch (error) {
    // The client went away, or OpenAI cut the stream: either way there is no one to tell.
    httpRequest.log.info({ err: error }, 'gpt passthrough stream ended early');
    reply.raw.destroy();
  }
}
