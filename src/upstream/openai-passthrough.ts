import { Readable } from 'node:stream';
import { request } from 'undici';
import type { Config } from '../config/index.js';
import { abortReason } from './abort.js';
import { classifyNetworkError, deadlineError } from './classify-upstream-error.js';
import { sharedAgent } from './shared-agent.js';
import { upstreamUrl, userAgent } from './upstream-attempt.js';

export interface PassthroughInput {
  /** The client's request body, forwarded byte for byte. */
  readonly body: string | Uint8Array;
  readonly signal: AbortSignal;
  readonly config: Config;
}

export interface PassthroughResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: NodeJS.ReadableStream;
}

const label = 'OpenAI (GPT passthrough)';

/**
 * GPT_MODEL_STRATEGY=openai: POST the Responses body verbatim to `{OPENAI_BASE_URL}/responses`
 * on the shared keep-alive pool. No retries: Codex retries on its own (wire-protocol.md §3.5).
 * The first-byte deadline covers headers and the first body byte, so the promise settles only
 * once OpenAI is really answering; after that the body streams until it ends or the signal aborts.
 */
export async function passthroughToOpenAI(input: PassthroughInput): Promise<PassthroughResult> {
  const { config, signal } = input;
  if (signal.aborted) throw abortReason(signal);
  const controller = new AbortController();
  let timedOut = false;
  const onAbort = (): void => controller.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const firstByteMs = config.UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS * 1000;
  const timer =
    firstByteMs > 0
      ? setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, firstByteMs)
      : undefined;
  const fail = (error: unknown): unknown => {
    if (signal.aborted) return abortReason(signal);
    if (timedOut)
      return deadlineError('first-byte', config.UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS, label);
    return classifyNetworkError(error, label);
  };
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'text/event-stream, application/json',
    'user-agent': userAgent,
  };
  if (config.OPENAI_API_KEY !== undefined)
    headers['authorization'] = `Bearer ${config.OPENAI_API_KEY}`;

  let response;
  let first: IteratorResult<Uint8Array> | undefined;
  let iterator: AsyncIterator<Uint8Array> | undefined;
  try {
    response = await request(upstreamUrl(config.OPENAI_BASE_URL, 'responses'), {
      method: 'POST',
      headers,
      body: input.body,
      signal: controller.signal,
      dispatcher: sharedAgent(),
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    iterator = (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    first = await iterator.next();
  } catch (error) {
    signal.removeEventListener('abort', onAbort);
    response?.body.destroy();
    throw fail(error);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }

  const upstreamBody = response.body;
  const rest = iterator;
  const firstChunk = first;
  async function* forward(): AsyncGenerator<Uint8Array> {
    try {
      if (firstChunk.done !== true) yield firstChunk.value;
      for (let next = await rest.next(); next.done !== true; next = await rest.next())
        yield next.value;
    } finally {
      signal.removeEventListener('abort', onAbort);
      upstreamBody.destroy();
    }
  }

  const flatHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    flatHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    statusCode: response.statusCode,
    headers: flatHeaders,
    body: Readable.from(forward(), { objectMode: false }),
  };
}
