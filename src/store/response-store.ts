import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { STATE_DIR } from '../events/index.js';
import { WriteBehind } from './write-behind.js';

/**
 * The conversation state of PRODUCT.md §2.0: every stored response's input and output items, so
 * `previous_response_id`, `item_reference` and `GET /v1/responses/:id` work. It lives in its own
 * file (`.codex-oss/state/responses.sqlite`), apart from the run index: the index is derived and
 * may be dropped and rebuilt at any time, this is not.
 */
export interface StoredResponse {
  readonly id: string;
  readonly createdAt: number;
  /** The response object exactly as it was answered. */
  readonly response: Record<string, unknown>;
  /** The whole conversation this response answered (references already resolved). */
  readonly input: readonly unknown[];
}

export interface ResponseStore {
  readonly path: string;
  /** False when RESPONSE_STORE_MAX_RESPONSES is 0: nothing is ever kept. */
  readonly enabled: boolean;
  /** Keeps a response; returns false when the store is disabled. Pruning runs later, never here. */
  save(entry: { response: Record<string, unknown>; input: readonly unknown[] }): boolean;
  get(id: string): StoredResponse | null;
  /** An input or output item of any live stored response, by its id. */
  item(id: string): Record<string, unknown> | null;
  delete(id: string): boolean;
  /** Removes expired and over-count responses, at most `batch` per call; returns how many. */
  prune(batch?: number): number;
  close(): void;
}

export interface ResponseStoreOptions {
  readonly ttlSeconds: number;
  readonly maxResponses: number;
  /** Seconds since the epoch; tests pass their own clock. */
  readonly now?: () => number;
  /** How often the background prune runs; 0 turns the timer off (tests call prune()). */
  readonly pruneIntervalMs?: number;
  /**
   * How long a saved response may wait to be written with others (decision 0011); it is
   * readable at once either way. Tests pass 0 to write at the end of the tick.
   */
  readonly writeDelayMs?: number;
  /** Told when a deferred write fails (a full disk); the responses stay pending and readable. */
  readonly onWriteError?: (error: unknown, droppedResponses: number) => void;
}

/** A saved response not yet in the database, serialised as it will be written. */
interface PendingResponse {
  readonly id: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly responseJson: string;
  readonly inputJson: string;
  readonly items: readonly (readonly [itemId: string, json: string])[];
}

export const RESPONSE_STORE_SCHEMA_VERSION = 1;
const PRUNE_BATCH = 200;
/** A save triggers a prune after this many saves, or when the last one is this old. */
const PRUNE_EVERY_SAVES = 32;
const PRUNE_MIN_INTERVAL_MS = 1_000;
const WRITE_DELAY_MS = 25;
/** Responses kept in memory while their writes fail, before the oldest are given up. */
const MAX_PENDING = 1_000;

const TABLES = `
CREATE TABLE IF NOT EXISTS responses (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  response_json TEXT NOT NULL,
  input_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_by_created ON responses (created_at);
CREATE INDEX IF NOT EXISTS responses_by_expiry ON responses (expires_at);
CREATE TABLE IF NOT EXISTS response_items (
  item_id TEXT PRIMARY KEY,
  response_id TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
  item_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS response_items_by_response ON response_items (response_id);
`;

export function openResponseStore(
  projectRoot: string,
  options: ResponseStoreOptions,
): ResponseStore {
  const dir = join(projectRoot, STATE_DIR, 'state');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'responses.sqlite');
  const db = new Database(path);
  try {
    // Conversations are the user's content: readable by the owner only.
    chmodSync(path, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = db.prepare('SELECT version FROM schema_version').get() as
      { version: number } | undefined;
    if (row === undefined) {
      db.exec(TABLES);
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(
        RESPONSE_STORE_SCHEMA_VERSION,
      );
    } else if (row.version !== RESPONSE_STORE_SCHEMA_VERSION) {
      throw new Error(
        `${path} has schema version ${row.version}, this bridge reads ${RESPONSE_STORE_SCHEMA_VERSION}; move the file aside to start an empty store.`,
      );
    }
    return new SqliteResponseStore(db, path, options);
  } catch (error) {
    db.close();
    throw error;
  }
}

class SqliteResponseStore implements ResponseStore {
  readonly path: string;
  readonly enabled: boolean;
  readonly #db: Database.Database;
  readonly #options: ResponseStoreOptions;
  readonly #now: () => number;
  readonly #write: WriteBehind<PendingResponse>;
  /** Saved, not yet written: by response id, and by item id (newest response wins). */
  readonly #pending = new Map<string, PendingResponse>();
  readonly #pendingItems = new Map<string, PendingResponse>();
  readonly #get: Database.Statement;
  readonly #item: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #pruneExpired: Database.Statement;
  readonly #pruneOldest: Database.Statement;
  readonly #count: Database.Statement;
  #timer: NodeJS.Timeout | undefined;
  #pruneScheduled = false;
  #savesSincePrune = 0;
  #lastPruneAt = 0;

  constructor(db: Database.Database, path: string, options: ResponseStoreOptions) {
    this.#db = db;
    this.path = path;
    this.#options = options;
    this.enabled = options.maxResponses > 0;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
    const insertResponse = db.prepare(
      `INSERT OR REPLACE INTO responses (id, created_at, expires_at, response_json, input_json)
       VALUES (?, ?, ?, ?, ?)`,
    );
    // An id seen again (Codex echoes msg_… ids turn after turn) points at the newest response.
    const insertItem = db.prepare(
      'INSERT OR REPLACE INTO response_items (item_id, response_id, item_json) VALUES (?, ?, ?)',
    );
    const insertAll = db.transaction((rows: readonly PendingResponse[]) => {
      for (const row of rows) {
        insertResponse.run(row.id, row.createdAt, row.expiresAt, row.responseJson, row.inputJson);
        for (const [itemId, json] of row.items) insertItem.run(itemId, row.id, json);
      }
    });
    this.#write = new WriteBehind<PendingResponse>({
      write: (rows) => insertAll(rows),
      delayMs: options.writeDelayMs ?? WRITE_DELAY_MS,
      maxPending: MAX_PENDING,
      onError: (error, dropped) => options.onWriteError?.(error, dropped),
      onDone: (rows) => {
        for (const row of rows) this.#forget(row);
        this.#schedulePrune(rows.length);
      },
    });
    this.#get = db.prepare(
      'SELECT id, created_at, response_json, input_json FROM responses WHERE id = ? AND expires_at > ?',
    );
    this.#item = db.prepare(`SELECT i.item_json FROM response_items i
      JOIN responses r ON r.id = i.response_id WHERE i.item_id = ? AND r.expires_at > ?`);
    this.#delete = db.prepare('DELETE FROM responses WHERE id = ?');
    this.#pruneExpired = db.prepare(`DELETE FROM responses WHERE id IN
      (SELECT id FROM responses WHERE expires_at <= ? LIMIT ?)`);
    this.#pruneOldest = db.prepare(`DELETE FROM responses WHERE id IN
      (SELECT id FROM responses ORDER BY created_at ASC, rowid ASC LIMIT ?)`);
    this.#count = db.prepare('SELECT COUNT(*) AS n FROM responses');
    const interval = options.pruneIntervalMs ?? 60_000;
    if (interval > 0) {
      this.#timer = setInterval(() => this.#safePrune(), interval);
      this.#timer.unref();
    }
  }

  save(entry: { response: Record<string, unknown>; input: readonly unknown[] }): boolean {
    if (!this.enabled) return false;
    const id = String(entry.response['id']);
    const now = this.#now();
    const output = Array.isArray(entry.response['output']) ? entry.response['output'] : [];
    const items: (readonly [string, string])[] = [];
    for (const item of [...entry.input, ...(output as unknown[])]) {
      const itemId = idOf(item);
      if (itemId !== undefined) items.push([itemId, JSON.stringify(item)]);
    }
    // Serialised now: the caller's objects may change once the request is answered.
    const row: PendingResponse = {
      id,
      createdAt: now,
      expiresAt: now + this.#options.ttlSeconds,
      responseJson: JSON.stringify(entry.response),
      inputJson: JSON.stringify(entry.input),
      items,
    };
    this.#pending.set(id, row);
    for (const [itemId] of items) this.#pendingItems.set(itemId, row);
    this.#write.add(row);
    return true;
  }

  get(id: string): StoredResponse | null {
    const pending = this.#pending.get(id);
    if (pending !== undefined) {
      if (pending.expiresAt <= this.#now()) return null;
      return {
        id,
        createdAt: pending.createdAt,
        response: JSON.parse(pending.responseJson) as Record<string, unknown>,
        input: JSON.parse(pending.inputJson) as unknown[],
      };
    }
    const row = this.#get.get(id, this.#now()) as
      { id: string; created_at: number; response_json: string; input_json: string } | undefined;
    if (row === undefined) return null;
    return {
      id: row.id,
      createdAt: row.created_at,
      response: JSON.parse(row.response_json) as Record<string, unknown>,
      input: JSON.parse(row.input_json) as unknown[],
    };
  }

  item(id: string): Record<string, unknown> | null {
    const pending = this.#pendingItems.get(id);
    if (pending !== undefined) {
      if (pending.expiresAt <= this.#now()) return null;
      const json = pending.items.find(([itemId]) => itemId === id)?.[1];
      if (json !== undefined) return JSON.parse(json) as Record<string, unknown>;
    }
    const row = this.#item.get(id, this.#now()) as { item_json: string } | undefined;
    return row === undefined ? null : (JSON.parse(row.item_json) as Record<string, unknown>);
  }

  delete(id: string): boolean {
    const pending = this.#pending.get(id);
    if (pending !== undefined) {
      this.#write.discard(pending);
      this.#forget(pending);
    }
    return this.#delete.run(id).changes > 0 || pending !== undefined;
  }

  prune(batch = PRUNE_BATCH): number {
    this.#write.flush();
    let removed = this.#pruneExpired.run(this.#now(), batch).changes;
    const { n } = this.#count.get() as { n: number };
    const over = n - this.#options.maxResponses;
    if (over > 0 && removed < batch)
      removed += this.#pruneOldest.run(Math.min(over, batch - removed)).changes;
    return removed;
  }

  close(): void {
    if (this.#db.open) this.#write.close();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#db.open) this.#db.close();
  }

  /**
   * After the request that saved has been answered: a bounded delete per turn of the event loop,
   * repeated while there is more to remove, so a large backlog never holds up a request.
   */
  /** Drops a row from the pending view, unless a newer save has taken its place. */
  #forget(row: PendingResponse): void {
    if (this.#pending.get(row.id) === row) this.#pending.delete(row.id);
    for (const [itemId] of row.items)
      if (this.#pendingItems.get(itemId) === row) this.#pendingItems.delete(itemId);
  }

  #schedulePrune(saved: number): void {
    // A prune costs a COUNT(*) over the whole table: on the raw lane's hot path it ran after
    // every response. Now at most once per PRUNE_EVERY_SAVES saves or PRUNE_MIN_INTERVAL_MS, so
    // the table may briefly hold that many rows over the cap (expired ones are hidden at once).
    this.#savesSincePrune += saved;
    const now = Date.now();
    if (
      this.#savesSincePrune < PRUNE_EVERY_SAVES &&
      now - this.#lastPruneAt < PRUNE_MIN_INTERVAL_MS
    )
      return;
    this.#savesSincePrune = 0;
    this.#lastPruneAt = now;
    this.#prunePass();
  }

  #prunePass(): void {
    if (this.#pruneScheduled) return;
    this.#pruneScheduled = true;
    setImmediate(() => {
      this.#pruneScheduled = false;
      if (this.#safePrune() >= PRUNE_BATCH) this.#prunePass();
    });
  }

  #safePrune(): number {
    if (!this.#db.open) return 0;
    try {
      return this.prune();
    } catch {
      // A busy or closed database: the next save or tick tries again.
      return 0;
    }
  }
}

function idOf(item: unknown): string | undefined {
  if (item === null || typeof item !== 'object') return undefined;
  const id = (item as { id?: unknown }).id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
