import type { Dispatcher } from 'undici';

/** An upstream answer whose body is read chunk by chunk, as the attempt loop waits for it. */
export interface UpstreamBody {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The next body chunk; undefined once the body has ended. Rejects with the request's error. */
  readonly next: () => Promise<Uint8Array | undefined>;
  /** Drops the request (a body nobody will read), closing its connection. */
  readonly destroy: () => void;
}

export interface UpstreamRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly dispatcher: Dispatcher;
  /** Aborting it aborts the request at any stage, with the signal's reason. */
  readonly signal: AbortSignal;
}

/** Chunks held before the upstream socket is paused (backpressure toward the upstream). */
const maxQueuedBytes = 256 * 1024;

/**
 * POST through undici's dispatcher with a handler of our own, resolving at the response headers.
 * undici's `request()` wraps the body in a Readable and an async iterator on top: for a small
 * streamed answer that machinery cost more CPU than everything the bridge does with the chunks
 * (`bench/stream-overhead`: about a third of a millisecond per stream on this machine).
 */
export function openUpstreamBody(request: UpstreamRequest): Promise<UpstreamBody> {
  const { signal } = request;
  const target = new URL(request.url);
  return new Promise<UpstreamBody>((resolveStart, rejectStart) => {
    let controller: Dispatcher.DispatchController | undefined;
    let started = false;
    let ended = false;
    let failure: Error | undefined;
    const queue: Uint8Array[] = [];
    let queuedBytes = 0;
    let waiter:
      | { resolve: (chunk: Uint8Array | undefined) => void; reject: (error: Error) => void }
      | undefined;

    const onAbort = (): void => {
      // Still queued for a connection: answer now; onRequestStart aborts it when it gets one.
      if (controller === undefined) fail(asError(signal.reason));
      else controller.abort(asError(signal.reason));
    };
    const settle = (): void => signal.removeEventListener('abort', onAbort);
    const fail = (error: Error): void => {
      if (failure !== undefined || ended) return;
      failure = error;
      settle();
      if (!started) rejectStart(error);
      const pending = waiter;
      waiter = undefined;
      pending?.reject(error);
    };

    const body: UpstreamBody = {
      statusCode: 0,
      headers: {},
      next: () => {
        const chunk = queue.shift();
        if (chunk !== undefined) {
          queuedBytes -= chunk.byteLength;
          if (controller?.paused === true && queuedBytes < maxQueuedBytes / 2) controller.resume();
          return Promise.resolve(chunk);
        }
        if (failure !== undefined) return Promise.reject(failure);
        if (ended) return Promise.resolve(undefined);
        return new Promise((resolve, reject) => {
          waiter = { resolve, reject };
        });
      },
      destroy: () => {
        queue.length = 0;
        queuedBytes = 0;
        if (ended || failure !== undefined) return;
        const dropped = new Error('upstream body dropped unread');
        if (controller === undefined) fail(dropped);
        else controller.abort(dropped);
      },
    };

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: (requestController) => {
        controller = requestController;
        if (signal.aborted) requestController.abort(asError(signal.reason));
      },
      onResponseStart: (_controller, statusCode, headers) => {
        // 1xx (103 Early Hints from a proxy) is interim: the real status follows.
        if (statusCode < 200) return;
        started = true;
        resolveStart({
          ...body,
          statusCode,
          headers,
        });
      },
      onResponseData: (dataController, chunk) => {
        const pending = waiter;
        if (pending !== undefined) {
          waiter = undefined;
          pending.resolve(chunk);
          return;
        }
        queue.push(chunk);
        queuedBytes += chunk.byteLength;
        if (queuedBytes >= maxQueuedBytes) dataController.pause();
      },
      onResponseEnd: () => {
        ended = true;
        settle();
        const pending = waiter;
        waiter = undefined;
        pending?.resolve(undefined);
      },
      onResponseError: (_controller, error) => fail(error),
    };

    if (signal.aborted) {
      rejectStart(asError(signal.reason));
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      request.dispatcher.dispatch(
        {
          origin: target.origin,
          path: `${target.pathname}${target.search}`,
          method: 'POST',
          headers: request.headers,
          body: request.body,
          headersTimeout: 0,
          bodyTimeout: 0,
        },
        handler,
      );
    } catch (error) {
      fail(asError(error));
    }
  });
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
