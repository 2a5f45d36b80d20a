import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { BridgeError } from '../errors/index.js';
import type { ModelEntry } from '../models/index.js';
import { abortReason } from './abort.js';
import { convertToMessagesBody } from './anthropic/convert-to-messages-body.js';
import { mapMessagesBody, MessagesStreamMapper } from './anthropic/map-messages-stream.js';
import type { ChatRequest } from './chat-request.js';
import {
  classifyHttpError,
  classifyNetworkError,
  deadlineError,
  malformedChunkError,
  type DeadlineKind,
} from './classify-upstream-error.js';
import { convertToChatBody } from './openai-chat/convert-to-chat-body.js';
import { ChatStreamMapper, mapChatCompletionBody } from './openai-chat/map-chat-stream.js';
import { openUpstreamBody, type UpstreamBody } from './open-upstream-body.js';
import { SseDecoder, type SseEvent } from './sse-decoder.js';
import type { StreamPart } from './stream-part.js';

export const userAgent = 'opencode-bridge/0.1';
/** Error bodies are read for their message only; a proxy's HTML page can be large. */
const maxErrorBodyBytes = 64 * 1024;

export interface AttemptDeadlines {
  /** Headers plus the first body byte; 0 disables. */
  readonly firstByteMs: number;
  /** Silence between body chunks while we wait for the upstream; 0 disables. */
  readonly idleMs: number;
  /** Epoch ms when the whole call (all attempts) must be over; Infinity disables. */
  readonly totalDeadlineAt: number;
  /** The configured total, for the error message. */
  readonly totalSeconds: number;
  /** The setting the total comes from, for the error message. */
  readonly totalSetting?: string;
}

export interface AttemptInput {
  readonly entry: ModelEntry;
  readonly request: ChatRequest;
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  readonly sessionKey: string | undefined;
  readonly dispatcher: Dispatcher;
  /** The caller's signal: aborting it cancels the request and closes the socket. */
  readonly signal: AbortSignal;
  readonly deadlines: AttemptDeadlines;
}

/** Joins the base (which already ends in /v1 on Go, §6.6) and a path, without doubling slashes. */
export function upstreamUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** Request headers per dialect (wire-protocol.md §5): Bearer for chat, x-api-key for messages. */
export function upstreamHeaders(
  endpoint: ModelEntry['endpoint'],
  apiKey: string | undefined,
  sessionKey: string | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'text/event-stream, application/json',
    'user-agent': userAgent,
  };
  if (endpoint === 'messages') {
    headers['anthropic-version'] = '2023-06-01';
    if (apiKey !== undefined) headers['x-api-key'] = apiKey;
  } else if (apiKey !== undefined) {
    headers['authorization'] = `Bearer ${apiKey}`;
  }
  // Zen hashes this to keep a thread on one provider, which keeps prompt-cache hits (§5).
  if (sessionKey !== undefined && sessionKey !== '')
    headers['x-opencode-session'] = sessionHeader(sessionKey);
  return headers;
}

/**
 * The key comes from the client (Codex's thread id, or any prompt_cache_key). Anything that is
 * not a plain token is hashed: a value undici refuses as a header would otherwise fail the call
 * as if the upstream had, and trip the circuit breaker for every user of that model.
 */
export function sessionHeader(key: string): string {
  return /^[A-Za-z0-9._:-]{1,128}$/.test(key)
    ? key
    : createHash('sha256').update(key).digest('hex').slice(0, 32);
}

interface Mapper {
  readonly finished: boolean;
  push(payload: unknown): StreamPart[];
  end(): StreamPart[];
}

/**
 * One HTTP attempt against one model, as StreamParts. Throws BridgeErrors; the caller decides on
 * retries and fallbacks. Deadlines are our own timers on one AbortController, because the idle
 * timer must only run while we wait for the upstream, not while the consumer is busy.
 */
export async function* runAttempt(
  input: AttemptInput,
): AsyncGenerator<StreamPart, void, undefined> {
  const { entry, deadlines } = input;
  const model = entry.id;
  const controller = new AbortController();
  let fired: DeadlineKind | 'client' | undefined;
  const fire = (kind: DeadlineKind | 'client'): void => {
    if (fired !== undefined) return;
    fired = kind;
    controller.abort();
  };
  const onCallerAbort = (): void => fire('client');
  if (input.signal.aborted) throw abortReason(input.signal);
  input.signal.addEventListener('abort', onCallerAbort, { once: true });

  let totalTimer: NodeJS.Timeout | undefined;
  const remainingTotal = deadlines.totalDeadlineAt - Date.now();
  if (Number.isFinite(remainingTotal)) {
    if (remainingTotal <= 0) {
      input.signal.removeEventListener('abort', onCallerAbort);
      throw deadlineError('total', deadlines.totalSeconds, model, deadlines.totalSetting);
    }
    totalTimer = setTimeout(() => fire('total'), remainingTotal);
  }
  // One timer object for the first-byte and idle deadlines, refreshed per wait rather than
  // created and cleared per chunk (a measurable cost on the streaming hot path). It only fires
  // while we are waiting on the upstream: if it expires while the consumer is busy, it re-arms.
  let phaseTimer: NodeJS.Timeout | undefined;
  let phase: 'first-byte' | 'idle' = 'first-byte';
  let waiting = false;
  const onPhaseTimer = (): void => {
    if (waiting) fire(phase);
    else phaseTimer?.refresh();
  };
  /** Whether the last chunk carried data; SSE comments alone do not (issue 9, Low #9). */
  let sawData = true;
  const armPhase = (kind: 'first-byte' | 'idle'): void => {
    waiting = true;
    const ms = kind === 'first-byte' ? deadlines.firstByteMs : deadlines.idleMs;
    if (ms <= 0) return;
    if (phaseTimer !== undefined && phase === kind) {
      // Only data restarts the idle clock: an upstream sending nothing but `: ping` comments
      // is as silent as one sending nothing.
      if (sawData) phaseTimer.refresh();
      return;
    }
    if (phaseTimer !== undefined) clearTimeout(phaseTimer);
    phase = kind;
    phaseTimer = setTimeout(onPhaseTimer, ms);
  };
  const disarmPhase = (): void => {
    waiting = false;
  };

  const messages = entry.endpoint === 'messages';
  let serialized: string;
  try {
    serialized = JSON.stringify(
      messages
        ? convertToMessagesBody(input.request, entry)
        : convertToChatBody(input.request, entry),
    );
  } catch (error) {
    // Nothing was sent: a failure here is the bridge's or the request's, never the upstream's,
    // so it must not be retried, fall back or count against the model (issue 9, High #2).
    clearTimeout(totalTimer);
    input.signal.removeEventListener('abort', onCallerAbort);
    throw localFailure(error, model);
  }
  const url = upstreamUrl(input.baseUrl, messages ? 'messages' : 'chat/completions');
  const mapper: Mapper = messages ? new MessagesStreamMapper(model) : new ChatStreamMapper(model);
  let response: UpstreamBody | undefined;
  let consumed = false;
  let streamedAny = false;

  /** Every failure goes through here, so a deadline or the caller's abort wins over undici's error. */
  const translate = (error: unknown): unknown => {
    if (fired === 'client') return abortReason(input.signal);
    if (fired === 'first-byte')
      return deadlineError('first-byte', deadlines.firstByteMs / 1000, model);
    if (fired === 'idle') return deadlineError('idle', deadlines.idleMs / 1000, model);
    if (fired === 'total')
      return deadlineError('total', deadlines.totalSeconds, model, deadlines.totalSetting);
    if (error instanceof BridgeError) return error;
    if (isLocalFailure(error)) return localFailure(error, model);
    return classifyNetworkError(error, model, streamedAny);
  };

  try {
    armPhase('first-byte');
    response = await openUpstreamBody({
      url,
      headers: upstreamHeaders(entry.endpoint, input.apiKey, input.sessionKey),
      body: serialized,
      signal: controller.signal,
      dispatcher: input.dispatcher,
    });
    const body = response;
    /** The next body chunk under the first-byte or idle deadline; undefined at EOF. */
    // The first chunk stays under the first-byte deadline armed before the request was sent.
    let firstChunk = true;
    const nextChunk = async (): Promise<Uint8Array | undefined> => {
      if (firstChunk) firstChunk = false;
      else armPhase('idle');
      try {
        const chunk = await body.next();
        if (chunk === undefined) consumed = true;
        return chunk;
      } finally {
        disarmPhase();
      }
    };

    if (response.statusCode >= 400) {
      const text = await readErrorBody(nextChunk);
      throw classifyHttpError({
        status: response.statusCode,
        bodyText: text,
        retryAfterHeader: headerValue(response.headers['retry-after']),
        model,
      });
    }

    const contentType = headerValue(response.headers['content-type']) ?? '';
    if (/json/i.test(contentType) && !/event-stream/i.test(contentType)) {
      const text = await readAll(nextChunk);
      yield* parseJsonBody(text, messages, model);
      return;
    }

    const decoder = new SseDecoder();
    /** One event's parts; events are handled one by one so a bad frame cannot swallow earlier ones. */
    const handle = (event: SseEvent): StreamPart[] => {
      // Frames are JSON objects; only look closer (and copy) when one does not start with '{'.
      const data = event.data.charCodeAt(0) === 123 ? event.data : event.data.trim();
      // Zen can send its cost frame after [DONE] (§7 item 13), so [DONE] is not the end: EOF is.
      if (data === '' || data === '[DONE]') return [];
      let payload: unknown;
      try {
        payload = JSON.parse(data);
      } catch (error) {
        // A garbled trailer after finish_reason cannot change the answer; only usage/cost is lost.
        if (mapper.finished) return [];
        throw malformedChunkError(data, model, error);
      }
      try {
        return mapper.push(payload);
      } catch (error) {
        if (error instanceof BridgeError) throw error;
        throw malformedChunkError(data, model, error);
      }
    };

    for (;;) {
      let chunk: Uint8Array | undefined;
      try {
        chunk = await nextChunk();
      } catch (error) {
        // Once the upstream has said why it stopped, a stall or a dropped connection while we
        // wait for the trailing usage/cost frames ends the stream cleanly rather than failing a
        // finished answer. The caller's own abort still wins.
        if (mapper.finished && fired !== 'client') break;
        throw error;
      }
      if (chunk === undefined) break;
      const events = decoder.push(chunk);
      sawData = decoder.lastChunkHadContent();
      for (const event of events) {
        for (const part of handle(event)) {
          streamedAny = true;
          yield part;
        }
      }
    }
    const tail = decoder.end().flatMap(handle);
    const raw = decoder.rawBodyIfNotSse();
    if (!streamedAny && tail.length === 0 && raw !== undefined && raw.trim().startsWith('{')) {
      // A server that ignored stream:true and did not label its JSON answer.
      yield* parseJsonBody(raw, messages, model);
      return;
    }
    for (const part of tail) {
      streamedAny = true;
      yield part;
    }
    yield* mapper.end();
  } catch (error) {
    throw translate(error);
  } finally {
    disarmPhase();
    if (phaseTimer !== undefined) clearTimeout(phaseTimer);
    if (totalTimer !== undefined) clearTimeout(totalTimer);
    input.signal.removeEventListener('abort', onCallerAbort);
    if (response !== undefined && !consumed) {
      // Leaving early (error, consumer break, abort): destroy the body so undici drops the socket
      // instead of draining a stream nobody reads.
      if (fired === undefined) fired = 'client';
      controller.abort();
      response.destroy();
    }
  }
}

/**
 * Errors our side raises (a stack overflow, undici refusing an argument, a Node argument check):
 * they say nothing about the upstream, unlike a refused or reset connection.
 */
function isLocalFailure(error: unknown): boolean {
  if (error instanceof RangeError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    (code === 'UND_ERR_INVALID_ARG' ||
      code === 'UND_ERR_NOT_SUPPORTED' ||
      code.startsWith('ERR_INVALID_'))
  );
}

/** A failure before anything reached the upstream: a 400 for input too deep, else a bug (500). */
function localFailure(error: unknown, model: string): BridgeError {
  if (error instanceof BridgeError) return error;
  if (error instanceof RangeError) {
    return new BridgeError(
      'invalid_request',
      `The request for ${model} could not be prepared: it is nested too deeply (${error.message}). Nothing was sent upstream.`,
      { cause: error },
    );
  }
  return new BridgeError(
    'internal_error',
    `Internal bridge error while preparing the request for ${model}: ${error instanceof Error ? error.message : String(error)}. Nothing was sent upstream.`,
    { cause: error },
  );
}

function parseJsonBody(text: string, messages: boolean, model: string): StreamPart[] {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw malformedChunkError(text, model, error);
  }
  try {
    return messages ? mapMessagesBody(payload, model) : mapChatCompletionBody(payload, model);
  } catch (error) {
    if (error instanceof BridgeError) throw error;
    throw malformedChunkError(text, model, error);
  }
}

async function readAll(next: () => Promise<Uint8Array | undefined>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for (let chunk = await next(); chunk !== undefined; chunk = await next()) {
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

async function readErrorBody(next: () => Promise<Uint8Array | undefined>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (let chunk = await next(); chunk !== undefined; chunk = await next()) {
    bytes += chunk.byteLength;
    text += decoder.decode(chunk, { stream: true });
    if (bytes >= maxErrorBodyBytes) break;
  }
  return text + decoder.decode();
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
