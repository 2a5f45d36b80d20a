import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { STATE_DIR } from '../events/index.js';
import { WriteBehind } from './write-behind.js';

/**
 * What the bridge itself spent upstream, call by call (raw lane and missions alike), so it can
 * tell how much of each OpenCode Go plan window is left before Go says no (delegation.md §5).
 * It is our own count: Go's console is the authority, and spend from other machines is not here.
 */
export interface SpendLedger {
  readonly path: string;
  /** Counted at once; written to the file with others within a few ms (decision 0011). */
  record(entry: { readonly model: string; readonly usd: number; readonly at?: number }): void;
  /** Spend inside `[now - seconds, now]`, oldest first (ms timestamps). */
  entriesSince(sinceMs: number): { at: number; usd: number }[];
  /** Writes what is pending; close() does it too. */
  flush(): void;
  close(): void;
}

export interface SpendLedgerOptions {
  /** How long a recorded spend may wait to be written with others; 0: end of the tick. */
  readonly writeDelayMs?: number;
  /** Told when a deferred write fails; the entries stay pending and counted. */
  readonly onWriteError?: (error: unknown, droppedEntries: number) => void;
}

export interface WindowLimit {
  readonly name: string;
  readonly label: string;
  readonly seconds: number;
  readonly limitUsd: number;
}

export interface WindowStatus {
  readonly name: string;
  readonly label: string;
  readonly seconds: number;
  readonly limit_usd: number;
  readonly spent_usd: number;
  readonly left_usd: number;
  /** When the oldest spend still counted ages out of the window (null when nothing counts). */
  readonly next_release_at: string | null;
}

/** Longest window kept; older rows are deleted a few at a time as new ones arrive. */
const KEEP_MS = 31 * 86_400_000;
const TRIM_EVERY = 64;
const WRITE_DELAY_MS = 25;
const MAX_PENDING = 10_000;

interface SpendRow {
  readonly at: number;
  readonly model: string;
  readonly usd: number;
}

export function openSpendLedger(
  projectRoot: string,
  options: SpendLedgerOptions = {},
): SpendLedger {
  const dir = join(projectRoot, STATE_DIR, 'state');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'spend.sqlite');
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`CREATE TABLE IF NOT EXISTS spend (
      at INTEGER NOT NULL, model TEXT NOT NULL, usd REAL NOT NULL);
      CREATE INDEX IF NOT EXISTS spend_by_time ON spend (at);`);
  } catch (error) {
    db.close();
    throw error;
  }
  const insert = db.prepare('INSERT INTO spend (at, model, usd) VALUES (?, ?, ?)');
  const trim = db.prepare(
    'DELETE FROM spend WHERE rowid IN (SELECT rowid FROM spend WHERE at < ? LIMIT 100)',
  );
  const since = db.prepare('SELECT at, usd FROM spend WHERE at >= ? ORDER BY at ASC');
  // Rows past the longest window are dead weight, not wrong: trimming them once per
  // TRIM_EVERY inserts keeps a second write statement off every upstream response.
  let sinceTrim = TRIM_EVERY - 1;
  const insertAll = db.transaction((rows: readonly SpendRow[]) => {
    for (const row of rows) insert.run(row.at, row.model, row.usd);
    sinceTrim += rows.length;
    if (sinceTrim >= TRIM_EVERY) {
      sinceTrim = 0;
      trim.run(Date.now() - KEEP_MS);
    }
  });
  const writes = new WriteBehind<SpendRow>({
    write: (rows) => insertAll(rows),
    delayMs: options.writeDelayMs ?? WRITE_DELAY_MS,
    maxPending: MAX_PENDING,
    onError: (error, dropped) => options.onWriteError?.(error, dropped),
  });
  return {
    path,
    record: ({ model, usd, at }) => {
      if (!(usd > 0)) return;
      writes.add({ at: at ?? Date.now(), model, usd });
    },
    entriesSince: (sinceMs) => {
      const rows = since.all(sinceMs) as { at: number; usd: number }[];
      const pending = writes.pending.filter((row) => row.at >= sinceMs);
      if (pending.length === 0) return rows;
      return [...rows, ...pending.map(({ at, usd }) => ({ at, usd }))].sort((a, b) => a.at - b.at);
    },
    flush: () => {
      if (db.open) writes.flush();
    },
    close: () => {
      if (!db.open) return;
      writes.close();
      db.close();
    },
  };
}

/** Each window's spend and what is left, as of `now`. */
export function windowStatuses(
  ledger: SpendLedger,
  limits: readonly WindowLimit[],
  now: number = Date.now(),
): WindowStatus[] {
  return limits.map((limit) => {
    const entries = ledger.entriesSince(now - limit.seconds * 1000);
    const spent = entries.reduce((sum, entry) => sum + entry.usd, 0);
    const first = entries[0];
    return {
      name: limit.name,
      label: limit.label,
      seconds: limit.seconds,
      limit_usd: limit.limitUsd,
      spent_usd: round(spent),
      left_usd: round(Math.max(0, limit.limitUsd - spent)),
      next_release_at:
        first === undefined ? null : new Date(first.at + limit.seconds * 1000).toISOString(),
    };
  });
}

/**
 * The earliest time at which `neededUsd` fits in the window, as spend ages out oldest first;
 * null when it never can (more than the whole limit).
 */
export function freesUpAt(
  ledger: SpendLedger,
  limit: WindowLimit,
  neededUsd: number,
  now: number = Date.now(),
): Date | null {
  if (neededUsd > limit.limitUsd) return null;
  const entries = ledger.entriesSince(now - limit.seconds * 1000);
  let spent = entries.reduce((sum, entry) => sum + entry.usd, 0);
  if (limit.limitUsd - spent >= neededUsd) return new Date(now);
  for (const entry of entries) {
    spent -= entry.usd;
    if (limit.limitUsd - spent >= neededUsd - 1e-9)
      return new Date(entry.at + limit.seconds * 1000);
  }
  return new Date(now);
}

function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
