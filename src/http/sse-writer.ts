import type { ServerResponse } from 'node:http';
import type { ResponseEvent, ResponseEventSink } from '../responses/index.js';

const TERMINAL = new Set(['response.completed', 'response.failed', 'response.incomplete']);
export const OVERHEAD_HEADER = 'x-bridge-overhead-ms';

export interface SseWriterOptions {
  /** Idle time after which a keepalive data event is sent; 0 disables keepalives. */
  readonly keepaliveMs: number;
  /** Called just before the stream ends, to fill the overhead trailer. */
  readonly overheadMs?: () => number;
}

/**
 * All SSE framing for Responses streams. It stamps `sequence_number` (0, 1, 2… on every event,
 * keepalives included), sends `{"type":"keepalive"}` data events when the stream is idle — SSE
 * comments do not reset Codex's idle timer (wire-protocol.md finding 7) — and closes the stream
 * right after the one terminal event.
 */
export class SseWriter implements ResponseEventSink {
  private sequence = 0;
  /** Frames written in this tick, sent together as one string at its end. */
  private readonly pending: string[] = [];
  private flushScheduled = false;
  private readonly flush = (): void => {
    this.flushScheduled = false;
    const { pending } = this;
    if (pending.length === 0 || this.response.destroyed) {
      pending.length = 0;
      return;
    }
    this.response.write(pending.length === 1 ? (pending[0] ?? '') : pending.join(''));
    pending.length = 0;
  };
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly response: ServerResponse,
    private readonly options: SseWriterOptions,
  ) {}

  /** Sends the headers; `headerOverheadMs` is the bridge time spent before the first byte. */
  open(headerOverheadMs: number, extraHeaders: Record<string, string> = {}): void {
    this.response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      [OVERHEAD_HEADER]: headerOverheadMs.toFixed(3),
      // The total (upstream wait excluded) is only known at the end; send it as a trailer too.
      trailer: OVERHEAD_HEADER,
      ...extraHeaders,
    });
    // No flushHeaders: response.created follows in the same tick, and the headers leave with it
    // in one socket write instead of two.
    if (this.options.keepaliveMs > 0) {
      this.timer = setTimeout(() => this.keepalive(), this.options.keepaliveMs);
      this.timer.unref();
    }
  }

  get closed(): boolean {
    return this.ended || this.response.destroyed;
  }

  write(event: ResponseEvent): void {
    if (this.closed) return;
    const payload = stampSequence(event, this.sequence);
    this.sequence += 1;
    // Events written in the same tick (an upstream network chunk often holds several deltas, and
    // one delta makes several events) leave as one string: one chunk of the chunked body and one
    // socket write, instead of a write (three buffers, with the chunk framing) per event.
    this.pending.push(`event: ${event.type}\ndata: ${payload}\n\n`);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
    if (TERMINAL.has(event.type)) this.end();
    else this.timer?.refresh();
  }

  /** Resolves when the socket can take more; lets a fast upstream feel a slow client's pace. */
  drained(): Promise<void> | undefined {
    if (!this.response.writableNeedDrain || this.closed) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        this.response.off('drain', done);
        this.response.off('close', done);
        resolve();
      };
      this.response.on('drain', done);
      this.response.on('close', done);
    });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    if (this.response.destroyed) return;
    this.flush();
    if (this.options.overheadMs) {
      this.response.addTrailers({ [OVERHEAD_HEADER]: this.options.overheadMs().toFixed(3) });
    }
    this.response.end();
  }

  private keepalive(): void {
    if (this.closed) return;
    this.write({ type: 'keepalive' });
  }
}

/**
 * `JSON.stringify({ ...event, sequence_number })` without copying the event: the number is
 * spliced in before the closing brace, which gives the same text (the key comes last either
 * way). An event that already carries the key takes the copying path, so it is overwritten in place.
 */
function stampSequence(event: ResponseEvent, sequence: number): string {
  if (Object.hasOwn(event, 'sequence_number'))
    return JSON.stringify({ ...event, sequence_number: sequence });
  const json = JSON.stringify(event);
  return json.length === 2
    ? `{"sequence_number":${sequence}}`
    : `${json.slice(0, -1)},"sequence_number":${sequence}}`;
}
