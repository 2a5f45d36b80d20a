import type { FastifyReply, FastifyRequest } from 'fastify';
import { echoedFields, ResponseEmitter, type ResponsesRequest } from '../responses/index.js';
import type { AppDeps } from './app-deps.js';
import { elapsedMs, timing, type RequestClock } from './request-timing.js';
import { OVERHEAD_HEADER, SseWriter } from './sse-writer.js';

export interface ResponseChannel {
  readonly emitter: ResponseEmitter;
  /** Present when the client asked for a stream. */
  readonly writer: SseWriter | undefined;
  readonly clock: RequestClock;
  /**
   * Streams: sends the headers and `response.created` now, so keepalives cover the wait. The
   * time already spent waiting on the upstream is left out of the header's overhead figure.
   */
  readonly open: (upstreamWaitMs?: number) => void;
  /** Non-streams: sends the emitter's response object as the JSON answer. */
  readonly sendJson: () => Promise<void>;
}

/**
 * The one place a lane gets its output path: an SSE writer or nothing (for `stream: false`,
 * the emitter's final object is the answer), and the overhead figure either way.
 */
export function openResponseChannel(
  request: ResponsesRequest,
  httpRequest: FastifyRequest,
  reply: FastifyReply,
  deps: AppDeps,
  options: { holdItemDone: boolean; includeEncryptedReasoning: boolean },
): ResponseChannel {
  const clock = timing(httpRequest);
  const overhead = () => elapsedMs(clock) - clock.upstreamMs;
  const writer =
    request.stream === true
      ? new SseWriter(reply.raw, {
          keepaliveMs: deps.config.SSE_KEEPALIVE_SECONDS * 1000,
          overheadMs: overhead,
        })
      : undefined;
  // store defaults to true (PRODUCT.md §2.0); `store` in the answer says whether it really was.
  const keep = request.store !== false && deps.responses.enabled;
  const emitter = new ResponseEmitter({
    model: request.model,
    sink: writer ?? { write: () => undefined },
    ...options,
    echo: echoedFields(request, keep),
    ...(keep
      ? {
          onSettled: (response: Record<string, unknown>) => {
            try {
              deps.responses.save({ response, input: conversationItems(request) });
              return undefined;
            } catch (error) {
              httpRequest.log.warn({ err: error }, 'response store: save failed');
              return { store: false };
            }
          },
        }
      : {}),
  });
  let opened = false;
  return {
    emitter,
    writer,
    clock,
    open: (upstreamWaitMs = 0) => {
      if (!writer || opened) return;
      opened = true;
      reply.hijack();
      writer.open(elapsedMs(clock) - upstreamWaitMs);
      emitter.start();
    },
    sendJson: async () => {
      reply.header(OVERHEAD_HEADER, overhead().toFixed(3));
      await reply.code(200).send(emitter.response());
    },
  };
}

/** The conversation the response answered, as stored items (a string input is one user message). */
function conversationItems(request: ResponsesRequest): readonly unknown[] {
  return typeof request.input === 'string'
    ? [{ type: 'message', role: 'user', content: request.input }]
    : request.input;
}
