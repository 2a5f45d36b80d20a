/**
 * Rows that reach SQLite together: one transaction per `delayMs` instead of one per request.
 * A transaction per small raw-lane response was a tenth of its CPU (the WAL pages, the locks),
 * and most of it is shared when several responses commit at once. Callers keep their own view
 * of the rows still pending, so a read right after a write sees it (decision 0011).
 */
export interface WriteBehindOptions<T> {
  /** Writes every pending row, in one transaction; throwing keeps them for the next try. */
  readonly write: (rows: readonly T[]) => void;
  /** How long a first pending row waits for others; 0 writes at the end of the tick. */
  readonly delayMs: number;
  /** Most rows kept while writes fail (a full disk); the oldest are given up beyond it. */
  readonly maxPending: number;
  /** Told about a failed write and about rows given up; never throws back into a request. */
  readonly onError: (error: unknown, droppedRows: number) => void;
  /** Told when rows leave the queue, written or given up: the caller drops its view of them. */
  readonly onDone?: (rows: readonly T[]) => void;
}

export class WriteBehind<T> {
  #pending: T[] = [];
  #closed = false;
  /** Cancels the scheduled flush; set while one is scheduled. */
  #cancel: (() => void) | undefined;
  readonly #options: WriteBehindOptions<T>;

  constructor(options: WriteBehindOptions<T>) {
    this.#options = options;
  }

  get pending(): readonly T[] {
    return this.#pending;
  }

  add(row: T): void {
    if (this.#closed) {
      this.#options.onError(new Error('written after the store was closed'), 1);
      return;
    }
    this.#pending.push(row);
    if (this.#cancel === undefined) this.#schedule(this.#options.delayMs);
  }

  /** Writes what is pending one last time; later rows are refused, and nothing is retried. */
  close(): void {
    this.flush();
    this.#closed = true;
    this.#cancel?.();
    this.#cancel = undefined;
  }

  /** Takes a row back before it is written (its response was deleted). */
  discard(row: T): void {
    this.#pending = this.#pending.filter((pending) => pending !== row);
  }

  /** Writes what is pending now; on failure the rows stay, bounded, for the next flush. */
  flush(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    const rows = this.#pending;
    if (rows.length === 0) return;
    this.#pending = [];
    try {
      this.#options.write(rows);
    } catch (error) {
      const kept = [...rows, ...this.#pending];
      const dropped = Math.max(0, kept.length - this.#options.maxPending);
      this.#pending = kept.slice(dropped);
      this.#options.onError(error, dropped);
      if (dropped > 0) this.#options.onDone?.(kept.slice(0, dropped));
      // Try again later, not in a tight loop against a full disk.
      if (this.#pending.length > 0) this.#schedule(Math.max(1000, this.#options.delayMs));
      return;
    }
    this.#options.onDone?.(rows);
  }

  #schedule(delayMs: number): void {
    // Not what keeps a process alive: close() flushes what is left.
    if (delayMs <= 0) {
      const immediate = setImmediate(() => this.flush());
      immediate.unref();
      this.#cancel = () => clearImmediate(immediate);
      return;
    }
    const timer = setTimeout(() => this.flush(), delayMs);
    timer.unref();
    this.#cancel = () => clearTimeout(timer);
  }
}
