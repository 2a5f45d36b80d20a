import type { BridgeError } from '../errors/index.js';
import { abortReason } from './abort.js';

export type Release = () => void;

export interface LimiterSnapshot {
  readonly inUse: number;
  readonly max: number;
  readonly queued: number;
}

export interface LimiterOptions {
  readonly max: number;
  /** Waiters beyond this are refused at once; 0 means no waiting at all. */
  readonly queueMax: number;
  /** How long a waiter may wait; 0 disables the limit (it then waits until aborted). */
  readonly queueTimeoutMs: number;
  /** Builds the error for a refused or timed-out waiter; it names the setting to raise. */
  readonly rejection: (reason: 'full' | 'timeout') => BridgeError;
}

interface Waiter {
  readonly grant: () => void;
}

export interface AcquireOptions {
  readonly signal: AbortSignal;
  /** Called once when the caller has to wait, with its 1-based place in the queue. */
  readonly onQueued?: (position: number) => void;
}

/**
 * A counting semaphore with a bounded FIFO queue. A freed slot goes straight to the oldest
 * waiter, so a burst cannot overtake callers that queued earlier. Waiters leave the queue when
 * their signal aborts or their wait times out.
 */
export class ConcurrencyLimiter {
  private inUse = 0;
  private readonly waiters: Waiter[] = [];
  private max: number;

  constructor(private readonly options: LimiterOptions) {
    this.max = options.max;
  }

  snapshot(): LimiterSnapshot {
    return { inUse: this.inUse, max: this.max, queued: this.waiters.length };
  }

  /**
   * Changes the number of slots. Growing hands the new slots to waiters at once; shrinking lets
   * calls in flight finish and grants no slot until the count is under the new limit.
   */
  resize(max: number): void {
    this.max = Math.max(1, Math.floor(max));
    while (this.inUse < this.max && this.waiters.length > 0) {
      this.inUse += 1;
      this.waiters[0]?.grant();
    }
  }

  /** A free slot now, without queueing; undefined when the caller would have to wait. */
  tryAcquire(): Release | undefined {
    if (this.inUse >= this.max || this.waiters.length > 0) return undefined;
    this.inUse += 1;
    return this.releaser();
  }

  acquire(acquireOptions: AcquireOptions): Promise<Release> {
    const { signal } = acquireOptions;
    if (signal.aborted) return Promise.reject(abortReason(signal));
    const free = this.tryAcquire();
    if (free) return Promise.resolve(free);
    if (this.waiters.length >= this.options.queueMax) {
      return Promise.reject(this.options.rejection('full'));
    }
    return new Promise<Release>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const leave = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        if (timer !== undefined) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        leave();
        reject(abortReason(signal));
      };
      const waiter: Waiter = {
        grant: () => {
          leave();
          resolve(this.releaser());
        },
      };
      this.waiters.push(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.options.queueTimeoutMs > 0) {
        timer = setTimeout(() => {
          leave();
          reject(this.options.rejection('timeout'));
        }, this.options.queueTimeoutMs);
      }
      acquireOptions.onQueued?.(this.waiters.length);
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters[0];
      // The slot passes to the next waiter without ever being free, keeping the queue FIFO;
      // after a shrink, slots above the new limit are retired instead.
      if (next !== undefined && this.inUse <= this.max) next.grant();
      else this.inUse -= 1;
    };
  }
}
