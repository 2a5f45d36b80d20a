import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import {
  copyFile,
  link,
  mkdir,
  open,
  readFile,
  rename,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { canonicalJson } from './canonical-json.js';
import { EventLogError } from './event-log-error.js';
import { EVENT_SCHEMA, eventSources, ZERO_HASH } from './event-schema.js';
import type { EventSource, MissionEvent } from './event-schema.js';
import {
  durableEventTypes,
  eventPayloadSchemas,
  isKnownEventType,
  TERMINAL_EVENT_TYPE,
} from './event-types.js';
import type { EventType, PayloadFor } from './event-types.js';
import { canonicalEnvelope, eventLine, sha256Hex } from './hash-event.js';
import type { EventHeader } from './hash-event.js';
import { runPaths } from './paths.js';
import { readEventLog } from './read-event-log.js';
import type { TornTail } from './read-event-log.js';
import { redactPayload } from './redact-payload.js';

/** Sync policy between the contract's durable points: whichever limit is reached first. */
export interface GroupCommitOptions {
  /** Flush and fdatasync once this many events are buffered. */
  readonly maxEvents: number;
  /** Flush and fdatasync at most this long after the first buffered event. */
  readonly maxDelayMs: number;
}

export interface OpenEventLogOptions {
  readonly projectRoot: string;
  readonly runId: string;
  readonly groupCommit?: GroupCommitOptions;
  /** Continue an existing log (verified first) instead of refusing to open it. */
  readonly resume?: boolean;
  /**
   * Opens the log file (`fs/promises.open` unless given). The writer only writes, datasyncs and
   * closes the handle it returns, so a test can wrap the real handle and see when each sync
   * happens relative to the bytes written.
   */
  readonly openFile?: (path: string, flags: 'a' | 'ax') => Promise<FileHandle>;
}

export interface EventLogHead {
  readonly seq: number;
  readonly hash: string;
}

/** The single writer of one run's log. */
export interface EventLogWriter {
  readonly runId: string;
  readonly logPath: string;
  /** The partial line found and set aside when resuming, if any. */
  readonly recoveredTornTail: TornTail | null;
  /**
   * Sequences, hashes and buffers one event. Durable types (admission, tool results, the terminal
   * event; and seq 0) resolve only after the event is written and fdatasync'd. Other types resolve
   * once buffered, and are made durable by group commit; the promise also waits when the buffer
   * is full, which is the writer's backpressure.
   */
  append<T extends EventType>(
    type: T,
    source: EventSource,
    payload: PayloadFor<T>,
  ): Promise<MissionEvent>;
  /** The last sequenced event (buffered or durable); null before the first append. */
  head(): EventLogHead | null;
  /** Resolves when every event appended so far is written and fdatasync'd. */
  flush(): Promise<void>;
  /** Flushes, closes the file and releases the lock. Idempotent. */
  close(): Promise<void>;
  /**
   * Calls `listener` synchronously for each event as it is sequenced, in seq order (live views).
   * A throwing listener is ignored. Returns the unsubscribe function.
   */
  onEvent(listener: (event: MissionEvent) => void): () => void;
  /** Calls `listener` after each successful fdatasync with the durable head. */
  onFlush(listener: (head: EventLogHead) => void): () => void;
}

const DEFAULT_GROUP_COMMIT: GroupCommitOptions = { maxEvents: 64, maxDelayMs: 5 };

// Logs with a live writer in this process; the lock file covers other processes.
const openLogs = new Set<string>();

/**
 * Opens the one writer of `.codex-oss/runs/<runId>/events.jsonl`. Refuses a log that already
 * exists unless `resume` is set (then the chain is verified and continued, and a torn last line
 * is moved aside to `events.jsonl.torn-<offset>`), and refuses a run another live writer holds.
 */
export async function openEventLog(options: OpenEventLogOptions): Promise<EventLogWriter> {
  const paths = runPaths(options.projectRoot, options.runId);
  const groupCommit = options.groupCommit ?? DEFAULT_GROUP_COMMIT;
  const openFile = options.openFile ?? open;
  if (
    !Number.isInteger(groupCommit.maxEvents) ||
    groupCommit.maxEvents < 1 ||
    !(groupCommit.maxDelayMs >= 0)
  ) {
    throw new RangeError('groupCommit needs maxEvents >= 1 and maxDelayMs >= 0');
  }
  const key = resolve(paths.logPath);
  if (openLogs.has(key)) {
    throw new EventLogError(
      'run_locked',
      `run ${options.runId} already has a writer in this process`,
    );
  }
  openLogs.add(key);
  let lockHeld = false;
  try {
    await mkdir(paths.runDir, { recursive: true });
    await acquireLock(paths.lockPath, options.runId);
    lockHeld = true;

    let head: EventLogHead | null = null;
    let completed = false;
    let recoveredTornTail: TornTail | null = null;
    let handle: FileHandle;
    if (options.resume === true) {
      const existing = await readEventLog(paths.logPath).catch((error: unknown) => {
        if (isErrno(error, 'ENOENT')) return null;
        throw error;
      });
      if (existing !== null) {
        const first = existing.events[0];
        if (first !== undefined && first.run_id !== options.runId) {
          existing.chainErrors.unshift(`run_id_mismatch at seq 0`);
        }
        if (existing.chainErrors.length > 0) {
          throw new EventLogError(
            'chain_invalid',
            `cannot resume run ${options.runId}: ${existing.chainErrors.slice(0, 5).join('; ')}`,
          );
        }
        if (existing.tornTail !== null) {
          // Keep the partial bytes as evidence, then cut them so the next line starts clean.
          const aside = `${paths.logPath}.torn-${existing.completeBytes}`;
          await copyFile(paths.logPath, aside);
          await truncate(paths.logPath, existing.completeBytes);
          recoveredTornTail = existing.tornTail;
        }
        const last = existing.events.at(-1);
        if (last !== undefined) {
          head = { seq: last.seq, hash: last.hash };
          completed = last.type === TERMINAL_EVENT_TYPE;
        }
      }
      handle = await openFile(paths.logPath, 'a');
    } else {
      handle = await openFile(paths.logPath, 'ax').catch((error: unknown) => {
        if (isErrno(error, 'EEXIST')) {
          throw new EventLogError(
            'run_log_exists',
            `run ${options.runId} already has an event log; open it with { resume: true } to continue`,
          );
        }
        throw error;
      });
    }
    await handle.datasync();
    // A new file is durable only once its directory entry is (fsync the parent directories too).
    await syncDir(paths.runDir);
    await syncDir(dirname(paths.runDir));
    return new FileEventLogWriter({
      runId: options.runId,
      logPath: paths.logPath,
      lockPath: paths.lockPath,
      registryKey: key,
      handle,
      head,
      completed,
      recoveredTornTail,
      groupCommit,
    });
  } catch (error) {
    openLogs.delete(key);
    if (lockHeld) await unlink(paths.lockPath).catch(() => undefined);
    throw error;
  }
}

interface WriterInit {
  readonly runId: string;
  readonly logPath: string;
  readonly lockPath: string;
  readonly registryKey: string;
  readonly handle: FileHandle;
  readonly head: EventLogHead | null;
  readonly completed: boolean;
  readonly recoveredTornTail: TornTail | null;
  readonly groupCommit: GroupCommitOptions;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

const sourceSet: ReadonlySet<string> = new Set(eventSources);

class FileEventLogWriter implements EventLogWriter {
  readonly runId: string;
  readonly logPath: string;
  readonly recoveredTornTail: TornTail | null;
  readonly #lockPath: string;
  readonly #registryKey: string;
  readonly #handle: FileHandle;
  readonly #maxEvents: number;
  readonly #maxDelayMs: number;
  // Past this many buffered events, append waits for a flush, bounding memory when a caller
  // appends faster than the disk syncs.
  readonly #highWater: number;

  #head: EventLogHead | null;
  #completed: boolean;
  #pending: string[] = [];
  #pendingWaiters: Waiter[] = [];
  #flushRequested = false;
  #flushLoop: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #failure: Error | null = null;
  #closing: Promise<void> | null = null;
  readonly #eventListeners = new Set<(event: MissionEvent) => void>();
  readonly #flushListeners = new Set<(head: EventLogHead) => void>();

  constructor(init: WriterInit) {
    this.runId = init.runId;
    this.logPath = init.logPath;
    this.recoveredTornTail = init.recoveredTornTail;
    this.#lockPath = init.lockPath;
    this.#registryKey = init.registryKey;
    this.#handle = init.handle;
    this.#head = init.head;
    this.#completed = init.completed;
    this.#maxEvents = init.groupCommit.maxEvents;
    this.#maxDelayMs = init.groupCommit.maxDelayMs;
    this.#highWater = Math.max(init.groupCommit.maxEvents * 4, 256);
  }

  append<T extends EventType>(
    type: T,
    source: EventSource,
    payload: PayloadFor<T>,
  ): Promise<MissionEvent> {
    try {
      return this.#append(type, source, payload);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #append(type: string, source: EventSource, payload: unknown): Promise<MissionEvent> {
    if (this.#closing !== null) {
      throw new EventLogError('writer_closed', `the event log of run ${this.runId} is closed`);
    }
    if (this.#failure !== null) throw this.#failedError();
    if (this.#completed) {
      throw new EventLogError(
        'run_already_completed',
        `run ${this.runId} already has its terminal ${TERMINAL_EVENT_TYPE} event`,
      );
    }
    if (typeof type !== 'string' || type.length === 0) {
      throw new EventLogError('invalid_event', 'event type must be a non-empty string');
    }
    if (!sourceSet.has(source)) {
      throw new EventLogError('invalid_event', `unknown event source ${JSON.stringify(source)}`);
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new EventLogError('invalid_event', `payload of ${type} must be a JSON object`);
    }
    if (!isKnownEventType(type)) {
      throw new EventLogError(
        'invalid_event',
        `unknown event type ${JSON.stringify(type)}: every event type is declared in events/event-types.ts`,
      );
    }
    // Validated once, here at the boundary; the schemas are built once at module load.
    const checked = eventPayloadSchemas[type].safeParse(payload);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new EventLogError(
        'invalid_event',
        `payload of ${type} does not match its schema: ${issue?.path.join('.') || '(payload)'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    let canonicalPayload: string;
    try {
      canonicalPayload = canonicalJson(redactPayload(payload));
    } catch (error) {
      throw new EventLogError('invalid_event', `payload of ${type} is not JSON: ${String(error)}`);
    }

    const seq = this.#head === null ? 0 : this.#head.seq + 1;
    const header: EventHeader = {
      schema: EVENT_SCHEMA,
      run_id: this.runId,
      seq,
      ts: new Date().toISOString(),
      type,
      source,
      prev_hash: this.#head?.hash ?? ZERO_HASH,
    };
    const hash = sha256Hex(canonicalEnvelope(header, canonicalPayload));
    // The returned payload is re-read from its canonical text so that live listeners see exactly
    // what a reader of the file will see (undefined dropped, NaN as null, dates as strings).
    const event: MissionEvent = {
      schema: header.schema,
      run_id: header.run_id,
      seq,
      ts: header.ts,
      type,
      source,
      payload: JSON.parse(canonicalPayload) as Record<string, unknown>,
      prev_hash: header.prev_hash,
      hash,
    };
    this.#head = { seq, hash };
    if (type === TERMINAL_EVENT_TYPE) this.#completed = true;
    this.#pending.push(eventLine(header, canonicalPayload, hash));

    for (const listener of this.#eventListeners) {
      try {
        listener(event);
      } catch {
        // A broken live view must never stop the log.
      }
    }

    const durable = seq === 0 || durableEventTypes.has(type);
    if (durable || this.#pending.length >= this.#highWater) {
      return this.#waitForPending().then(() => event);
    }
    if (this.#pending.length >= this.#maxEvents) this.#requestFlush();
    else this.#armTimer();
    return Promise.resolve(event);
  }

  head(): EventLogHead | null {
    return this.#head;
  }

  async flush(): Promise<void> {
    if (this.#pending.length > 0) await this.#waitForPending();
    else if (this.#flushLoop !== null) await this.#flushLoop;
    if (this.#failure !== null) throw this.#failedError();
  }

  #failedError(): EventLogError {
    return new EventLogError('writer_failed', `the event log of run ${this.runId} failed`, {
      cause: this.#failure,
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    let failure: Error | null = null;
    try {
      await this.flush();
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    this.#clearTimer();
    await this.#handle.close().catch(() => undefined);
    await unlink(this.#lockPath).catch(() => undefined);
    openLogs.delete(this.#registryKey);
    this.#eventListeners.clear();
    this.#flushListeners.clear();
    if (failure !== null) throw failure;
  }

  onEvent(listener: (event: MissionEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  onFlush(listener: (head: EventLogHead) => void): () => void {
    this.#flushListeners.add(listener);
    return () => this.#flushListeners.delete(listener);
  }

  /** A promise settled when the events buffered right now are durable (or the write failed). */
  #waitForPending(): Promise<void> {
    const promise = new Promise<void>((resolve, reject) => {
      this.#pendingWaiters.push({ resolve, reject });
    });
    this.#requestFlush();
    return promise;
  }

  #armTimer(): void {
    if (this.#timer !== null || this.#flushRequested) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#requestFlush();
    }, this.#maxDelayMs);
  }

  #clearTimer(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #requestFlush(): void {
    this.#flushRequested = true;
    this.#clearTimer();
    // One loop at a time keeps writes in seq order; a request made during a sync is picked up
    // when it finishes, and everything buffered meanwhile goes out in that one batch.
    this.#flushLoop ??= this.#runFlushLoop();
  }

  async #runFlushLoop(): Promise<void> {
    try {
      while (this.#flushRequested && this.#pending.length > 0 && this.#failure === null) {
        this.#flushRequested = false;
        const lines = this.#pending;
        const waiters = this.#pendingWaiters;
        const head = this.#head;
        this.#pending = [];
        this.#pendingWaiters = [];
        try {
          await writeAll(this.#handle, Buffer.from(lines.join(''), 'utf8'));
          await this.#handle.datasync();
        } catch (error) {
          // After a failed fsync the page cache can no longer be trusted (Linux drops the dirty
          // pages), so the writer is poisoned: every later append fails instead of guessing.
          this.#failure = error instanceof Error ? error : new Error(String(error));
          const failure = new EventLogError(
            'writer_failed',
            `writing the event log of run ${this.runId} failed: ${this.#failure.message}`,
            { cause: this.#failure },
          );
          for (const waiter of [...waiters, ...this.#pendingWaiters]) waiter.reject(failure);
          this.#pendingWaiters = [];
          return;
        }
        for (const waiter of waiters) waiter.resolve();
        if (head !== null) {
          // The batch ends at the head as it was when the batch was taken.
          const durableHead = head;
          for (const listener of this.#flushListeners) {
            try {
              listener(durableHead);
            } catch {
              // A listener's failure is its own.
            }
          }
        }
        // Events appended during the sync wait for their own trigger (count, timer, durability).
        if (!this.#flushRequested && this.#pending.length > 0 && this.#timer === null) {
          this.#armTimer();
        }
      }
    } finally {
      this.#flushLoop = null;
    }
  }
}

async function writeAll(handle: FileHandle, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset);
    offset += bytesWritten;
  }
}

async function syncDir(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

interface LockOwner {
  readonly pid: number;
  readonly host: string;
}

/**
 * Takes `events.lock` exclusively (hard link: atomic like O_EXCL). A lock left by a killed process (same host, pid no longer
 * alive) is taken over: it is renamed aside first, and the renamed copy is checked to be the
 * stale one we saw, so two processes racing for the same stale lock cannot both win.
 */
async function acquireLock(lockPath: string, runId: string): Promise<void> {
  const me: LockOwner = { pid: process.pid, host: hostname() };
  const body = JSON.stringify({ ...me, acquired_at: new Date().toISOString() }) + '\n';
  for (let attempt = 0; attempt < 3; attempt++) {
    // Written aside and hard-linked into place, so the lock never exists without its owner:
    // link() fails with EEXIST atomically, like O_EXCL, but the body is already there.
    const draft = `${lockPath}.${process.pid}-${attempt}.tmp`;
    await writeFile(draft, body, { flag: 'w' });
    try {
      await link(draft, lockPath);
      return;
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
    } finally {
      await unlink(draft).catch(() => undefined);
    }
    const text = await readFile(lockPath, 'utf8').catch(() => null);
    if (text === null) continue; // released meanwhile: try again
    const owner = parseLockOwner(text);
    // An unreadable body cannot come from acquireLock (see above), so it is stale; a lock from
    // another host cannot be checked, so it is respected.
    if (owner !== null && (owner.host !== me.host || isAlive(owner.pid))) {
      throw new EventLogError(
        'run_locked',
        `run ${runId} is locked by pid ${owner.pid} on ${owner.host} (${lockPath})`,
      );
    }
    const aside = `${lockPath}.stale-${process.pid}-${Date.now()}`;
    try {
      await rename(lockPath, aside);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) continue;
      throw error;
    }
    const moved = await readFile(aside, 'utf8').catch(() => null);
    if (moved !== text) {
      // We moved a lock someone else just took: put it back and give up.
      await rename(aside, lockPath).catch(() => undefined);
      throw new EventLogError('run_locked', `run ${runId} is being opened by another process`);
    }
    await unlink(aside).catch(() => undefined);
  }
  throw new EventLogError('run_locked', `could not take the lock of run ${runId} (${lockPath})`);
}

function parseLockOwner(text: string): LockOwner | null {
  try {
    const parsed = JSON.parse(text) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host };
    }
  } catch {
    // Fall through: an unreadable lock body is treated as stale.
  }
  return null;
}

function isAlive(pid: number): boolean {
  // Our own pid on a lock not in the registry (checked before) was left by a writer of this
  // process that was never closed: the registry is the in-process truth, so it is stale.
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return isErrno(error, 'EPERM');
  }
}
