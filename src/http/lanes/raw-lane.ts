import type { FastifyReply, FastifyRequest } from 'fastify';
import { toBridgeError } from '../../errors/index.js';
import type { ModelEntry } from '../../models/index.js';
import { convertToChat, streamToEmitter, type ResponsesRequest } from '../../responses/index.js';
import type { AppDeps } from '../app-deps.js';
import { openResponseChannel } from '../response-channel.js';

export interface RawLaneInput {
  readonly request: ResponsesRequest;
  readonly chain: readonly ModelEntry[];
  readonly httpRequest: FastifyRequest;
  readonly reply: FastifyReply;
  readonly signal: AbortSignal;
}

/**
 * The translating proxy: Responses → Chat Completions (or Messages) → Responses. Streams deltas
 * live but holds every item's `done` until the upstream finished cleanly, and turns upstream
 * failures into `response.failed` with a code Codex acts on.
 */
export async function runRawLane(input: RawLaneInput, deps: AppDeps): Promise<void> {
  const { request, httpRequest, reply } = input;
  const conversion = convertToChat(request);
  if (conversion.droppedTools.length > 0) {
    httpRequest.log.debug(
      { dropped: conversion.droppedTools },
      'hosted tools dropped for a chat upstream',
    );
  }
  const { emitter, writer, clock, open, sendJson } = openResponseChannel(
    request,
    httpRequest,
    reply,
    deps,
    {
      holdItemDone: true,
      includeEncryptedReasoning: request.include?.includes('reasoning.encrypted_content') ?? false,
    },
  );

  // The upstream request leaves before anything is written to the client. The stream then opens
  // with the first part, so response.created, in_progress and the first delta reach the client
  // in one write (one wake-up), or after a short grace, so keepalives still cover a slow upstream.
  const upstream = startNow(
    deps.upstream.stream({
      chain: input.chain,
      request: conversion.request,
      signal: input.signal,
      ...sessionKey(httpRequest, request),
      ...nonStreamDeadline(request, deps),
      onAttempt: (event) =>
        httpRequest.log.info(
          { attempt: event.type, model: 'model' in event ? event.model : event.from },
          'upstream attempt',
        ),
    }),
  );
  const openNow = (): void => open(upstream.waitedMs());
  // From a timer a throw would be uncaught: it is logged, and the stream opens (or fails) later
  // on the awaited path.
  const grace = writer
    ? setTimeout(() => {
        try {
          openNow();
        } catch (error) {
          httpRequest.log.warn({ err: error }, 'opening the stream after the grace failed');
        }
      }, openGraceMs)
    : undefined;
  try {
    const outcome = await streamToEmitter(
      upstream.parts,
      emitter,
      conversion.toolNames,
      writer ? () => writer.drained() : undefined,
      {
        onFirstPart: openNow,
        singleToolCall: request.parallel_tool_calls === false,
        onDroppedCall: (call) =>
          httpRequest.log.warn(
            { tool: call.name, callId: call.id },
            'parallel_tool_calls is false: extra tool call from the upstream dropped',
          ),
      },
    );
    openNow();
    clock.upstreamMs += outcome.upstreamWaitMs;
    if (outcome.finishReason === 'length') emitter.incomplete('max_output_tokens', outcome.usage);
    else if (outcome.finishReason === 'content_filter')
      emitter.incomplete('content_filter', outcome.usage);
    else emitter.complete(outcome.usage);
    httpRequest.log.info(
      {
        model: outcome.model,
        fallbackFrom: outcome.fallbackFrom,
        finish: outcome.finishReason,
        usage: outcome.usage,
      },
      'raw lane completed',
    );
  } catch (error) {
    const failure = toBridgeError(error);
    if (!writer) throw failure;
    openNow();
    if (input.signal.aborted) {
      httpRequest.log.info('client disconnected; upstream call aborted');
      writer.end();
      return;
    }
    httpRequest.log.warn({ code: failure.code, message: failure.message }, 'raw lane failed');
    emitter.fail(failure);
    return;
  } finally {
    clearTimeout(grace);
    writer?.end();
  }
  if (!writer) await sendJson();
}

/** How long response.created may wait for the upstream's first part to leave with it. */
const openGraceMs = 20;

interface StartedCall<T> {
  readonly parts: AsyncIterable<T>;
  /** Time spent waiting on the upstream so far: from the request to its first part, or now. */
  waitedMs(): number;
}

/** Asks for the first part now, which sends the upstream request before the caller goes on. */
function startNow<T>(source: AsyncIterable<T>): StartedCall<T> {
  const iterator = source[Symbol.asyncIterator]();
  const sentAt = performance.now();
  let firstAt: number | undefined;
  let first: Promise<IteratorResult<T>> | undefined = iterator.next();
  const arrived = (): void => {
    firstAt = performance.now();
  };
  first.then(arrived, arrived);
  return {
    parts: {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          const pending = first;
          if (pending === undefined) return iterator.next();
          first = undefined;
          return pending;
        },
      }),
    },
    waitedMs: () => (firstAt ?? performance.now()) - sentAt,
  };
}

/**
 * OpenCode Go sticks a session to one provider by x-opencode-session, which keeps prompt-cache
 * hits (wire-protocol.md §5). Codex's thread id (or its prompt_cache_key) is a stable key for that.
 */
function sessionKey(
  httpRequest: FastifyRequest,
  request: ResponsesRequest,
): { sessionKey?: string } {
  const header = httpRequest.headers['thread-id'] ?? httpRequest.headers['session-id'];
  const key = (Array.isArray(header) ? header[0] : header) ?? request.prompt_cache_key ?? undefined;
  return key ? { sessionKey: key } : {};
}

/** A non-streaming request gets one total deadline across retries and fallbacks. */
function nonStreamDeadline(
  request: ResponsesRequest,
  deps: AppDeps,
): { totalTimeoutMs?: number; totalTimeoutSetting?: string } {
  const { UPSTREAM_NONSTREAM_TIMEOUT_SECONDS: nonStream, UPSTREAM_TIMEOUT_SECONDS: total } =
    deps.config;
  if (request.stream === true || nonStream <= 0 || (total > 0 && total <= nonStream)) return {};
  return {
    totalTimeoutMs: nonStream * 1000,
    totalTimeoutSetting: 'UPSTREAM_NONSTREAM_TIMEOUT_SECONDS',
  };
}
