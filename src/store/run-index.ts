import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  isSafeId,
  readEventLog,
  reduceRunRecord,
  runPaths,
  runsDir,
  STATE_DIR,
  type RunRecord,
  type RunState,
} from '../events/index.js';

/** Bumped when the tables change; an index of another version is dropped and must be rebuilt. */
export const INDEX_SCHEMA_VERSION = 1;

/** One row of `listRuns`: the figures a listing needs, without the whole record. */
export interface RunSummary {
  run_id: string;
  mission_id: string | null;
  tier: string | null;
  model_alias: string | null;
  model: string | null;
  state: RunState;
  status: string | null;
  reason: string | null;
  started_at: string | null;
  ended_at: string | null;
  last_event_at: string | null;
  event_count: number;
  head_hash: string | null;
  model_calls: number;
  tool_calls: number;
  total_tokens: number;
  cost_usd: number;
}

export interface UsageFigures {
  runs: number;
  model_calls: number;
  input_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  total_tokens: number;
  cost_usd: number;
}

export interface UsageReport {
  /** ISO lower bound on `started_at`, when one was asked for. */
  since: string | null;
  overall: UsageFigures;
  by_model: (UsageFigures & { model: string })[];
}

export interface RebuildResult {
  indexed: number;
  /** Logs not indexed because their chain does not verify. */
  failed: { run_id: string; path: string; errors: string[] }[];
  /** Logs indexed up to their last complete line, with a torn tail reported. */
  torn: { run_id: string; path: string; line: number; bytes: number }[];
}

export interface ListRunsOptions {
  /** Most recent first; default 50. */
  limit?: number;
  state?: RunState;
  status?: string;
}

/** The listing row of a run: what `listRuns` returns, and what live views overlay on it. */
export function runSummaryOf(record: RunRecord): RunSummary {
  return {
    run_id: record.run_id,
    mission_id: record.mission_id,
    tier: record.tier,
    model_alias: record.model_alias,
    model: record.model,
    state: record.state,
    status: record.status,
    reason: record.reason,
    started_at: record.started_at,
    ended_at: record.ended_at,
    last_event_at: record.last_event_at,
    event_count: record.event_count,
    head_hash: record.head_hash,
    model_calls: record.model_calls,
    tool_calls: record.tool_calls,
    total_tokens: record.tokens.total_tokens,
    cost_usd: record.cost_usd,
  };
}

/** The derived SQLite index of runs (`.codex-oss/state/index.sqlite`). */
export interface RunIndex {
  readonly path: string;
  upsertRun(record: RunRecord): void;
  /** By run id, else the latest run of that mission id. */
  getRun(runIdOrMissionId: string): RunRecord | null;
  listRuns(options?: ListRunsOptions): RunSummary[];
  /** Every run of a mission id, oldest first (idempotency reads them). */
  missionRuns(missionId: string): RunRecord[];
  usage(options?: { since?: string }): UsageReport;
  /** Empties the index and re-derives it from every `events.jsonl`, in one transaction. */
  rebuild(projectRoot?: string): Promise<RebuildResult>;
  close(): void;
}

const TABLES = `
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  mission_id TEXT,
  tier TEXT,
  model_alias TEXT,
  model TEXT,
  state TEXT NOT NULL,
  status TEXT,
  reason TEXT,
  started_at TEXT,
  ended_at TEXT,
  last_event_at TEXT,
  event_count INTEGER NOT NULL,
  head_hash TEXT,
  model_calls INTEGER NOT NULL,
  tool_calls INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  cached_input_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  total_tokens INTEGER NOT NULL,
  cost_usd REAL NOT NULL,
  record_json TEXT NOT NULL
);
CREATE INDEX runs_by_mission ON runs (mission_id, started_at);
CREATE INDEX runs_by_start ON runs (started_at);
CREATE TABLE run_models (
  run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  model TEXT NOT NULL,
  calls INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  cached_input_tokens INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  total_tokens INTEGER NOT NULL,
  cost_usd REAL NOT NULL,
  PRIMARY KEY (run_id, model)
);
`;

const SUMMARY_COLUMNS = `run_id, mission_id, tier, model_alias, model, state, status, reason,
  started_at, ended_at, last_event_at, event_count, head_hash, model_calls, tool_calls,
  total_tokens, cost_usd`;

const USAGE_SUMS = `COALESCE(SUM(input_tokens), 0) AS input_tokens,
  COALESCE(SUM(cached_input_tokens), 0) AS cached_input_tokens,
  COALESCE(SUM(cache_write_tokens), 0) AS cache_write_tokens,
  COALESCE(SUM(output_tokens), 0) AS output_tokens,
  COALESCE(SUM(reasoning_tokens), 0) AS reasoning_tokens,
  COALESCE(SUM(total_tokens), 0) AS total_tokens,
  COALESCE(SUM(cost_usd), 0) AS cost_usd`;

/**
 * Opens (creating if needed) the index of a project. WAL with `synchronous=NORMAL`: the index is
 * derived from the logs, so losing its last transactions in a power cut costs a reindex, never
 * data; in exchange a commit does not wait for an fsync.
 */
export function openRunIndex(projectRoot: string): RunIndex {
  const dir = join(projectRoot, STATE_DIR, 'state');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'index.sqlite');
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return new SqliteRunIndex(db, path, projectRoot);
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as
    { version: number } | undefined;
  if (row?.version === INDEX_SCHEMA_VERSION) return;
  // Any other version (or none): the index is derived, so replace it rather than migrate it.
  db.transaction(() => {
    db.exec('DROP TABLE IF EXISTS run_models; DROP TABLE IF EXISTS runs;');
    db.exec(TABLES);
    db.exec('DELETE FROM schema_version');
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(INDEX_SCHEMA_VERSION);
  })();
}

class SqliteRunIndex implements RunIndex {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #projectRoot: string;
  readonly #upsertRun: Database.Statement;
  readonly #deleteModels: Database.Statement;
  readonly #insertModel: Database.Statement;
  readonly #byRunId: Database.Statement;
  readonly #byMissionId: Database.Statement;
  readonly #list: Database.Statement;
  readonly #missionRuns: Database.Statement;
  readonly #usageOverall: Database.Statement;
  readonly #usageByModel: Database.Statement;
  readonly #upsertTx: (record: RunRecord) => void;

  constructor(db: Database.Database, path: string, projectRoot: string) {
    this.#db = db;
    this.path = path;
    this.#projectRoot = projectRoot;
    this.#upsertRun = db.prepare(`
      INSERT INTO runs (run_id, mission_id, tier, model_alias, model, state, status, reason,
        started_at, ended_at, last_event_at, event_count, head_hash, model_calls, tool_calls,
        input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens,
        total_tokens, cost_usd, record_json)
      VALUES (@run_id, @mission_id, @tier, @model_alias, @model, @state, @status, @reason,
        @started_at, @ended_at, @last_event_at, @event_count, @head_hash, @model_calls,
        @tool_calls, @input_tokens, @cached_input_tokens, @cache_write_tokens, @output_tokens,
        @reasoning_tokens, @total_tokens, @cost_usd, @record_json)
      ON CONFLICT (run_id) DO UPDATE SET
        mission_id = excluded.mission_id, tier = excluded.tier,
        model_alias = excluded.model_alias, model = excluded.model, state = excluded.state,
        status = excluded.status, reason = excluded.reason, started_at = excluded.started_at,
        ended_at = excluded.ended_at, last_event_at = excluded.last_event_at,
        event_count = excluded.event_count, head_hash = excluded.head_hash,
        model_calls = excluded.model_calls, tool_calls = excluded.tool_calls,
        input_tokens = excluded.input_tokens, cached_input_tokens = excluded.cached_input_tokens,
        cache_write_tokens = excluded.cache_write_tokens, output_tokens = excluded.output_tokens,
        reasoning_tokens = excluded.reasoning_tokens, total_tokens = excluded.total_tokens,
        cost_usd = excluded.cost_usd, record_json = excluded.record_json`);
    this.#deleteModels = db.prepare('DELETE FROM run_models WHERE run_id = ?');
    this.#insertModel = db.prepare(`
      INSERT INTO run_models (run_id, model, calls, input_tokens, cached_input_tokens,
        cache_write_tokens, output_tokens, reasoning_tokens, total_tokens, cost_usd)
      VALUES (@run_id, @model, @calls, @input_tokens, @cached_input_tokens, @cache_write_tokens,
        @output_tokens, @reasoning_tokens, @total_tokens, @cost_usd)`);
    this.#byRunId = db.prepare('SELECT record_json FROM runs WHERE run_id = ?');
    this.#byMissionId = db.prepare(`SELECT record_json FROM runs WHERE mission_id = ?
      ORDER BY started_at DESC, run_id DESC LIMIT 1`);
    this.#missionRuns = db.prepare(`SELECT record_json FROM runs WHERE mission_id = ?
      ORDER BY started_at ASC, run_id ASC`);
    this.#list = db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM runs
      WHERE (@state IS NULL OR state = @state) AND (@status IS NULL OR status = @status)
      ORDER BY started_at DESC, run_id DESC LIMIT @limit`);
    this.#usageOverall = db.prepare(`SELECT COUNT(*) AS runs,
      COALESCE(SUM(model_calls), 0) AS model_calls, ${USAGE_SUMS}
      FROM runs WHERE (@since IS NULL OR started_at >= @since)`);
    this.#usageByModel = db.prepare(`SELECT m.model AS model,
      COUNT(DISTINCT m.run_id) AS runs, COALESCE(SUM(m.calls), 0) AS model_calls,
      ${USAGE_SUMS.replaceAll('SUM(', 'SUM(m.')}
      FROM run_models m JOIN runs r ON r.run_id = m.run_id
      WHERE (@since IS NULL OR r.started_at >= @since)
      GROUP BY m.model ORDER BY cost_usd DESC, m.model`);
    this.#upsertTx = db.transaction((record: RunRecord) => this.#write(record));
  }

  upsertRun(record: RunRecord): void {
    this.#upsertTx(record);
  }

  #write(record: RunRecord): void {
    const t = record.tokens;
    this.#upsertRun.run({
      ...runSummaryOf(record),
      ...t,
      record_json: JSON.stringify(record),
    });
    this.#deleteModels.run(record.run_id);
    for (const m of record.models_used) {
      this.#insertModel.run({
        run_id: record.run_id,
        model: m.model,
        calls: m.calls,
        ...m.tokens,
        cost_usd: m.cost_usd,
      });
    }
  }

  getRun(runIdOrMissionId: string): RunRecord | null {
    const row = (this.#byRunId.get(runIdOrMissionId) ?? this.#byMissionId.get(runIdOrMissionId)) as
      { record_json: string } | undefined;
    return row === undefined ? null : (JSON.parse(row.record_json) as RunRecord);
  }

  missionRuns(missionId: string): RunRecord[] {
    return (this.#missionRuns.all(missionId) as { record_json: string }[]).map(
      (row) => JSON.parse(row.record_json) as RunRecord,
    );
  }

  listRuns(options: ListRunsOptions = {}): RunSummary[] {
    const limit = Math.max(1, Math.floor(options.limit ?? 50));
    return this.#list.all({
      state: options.state ?? null,
      status: options.status ?? null,
      limit,
    }) as RunSummary[];
  }

  usage(options: { since?: string } = {}): UsageReport {
    const since = options.since ?? null;
    const overall = this.#usageOverall.get({ since }) as UsageFigures;
    const byModel = this.#usageByModel.all({ since }) as (UsageFigures & { model: string })[];
    return { since, overall: roundCost(overall), by_model: byModel.map(roundCost) };
  }

  async rebuild(projectRoot: string = this.#projectRoot): Promise<RebuildResult> {
    const result: RebuildResult = { indexed: 0, failed: [], torn: [] };
    const records: RunRecord[] = [];
    let names: string[];
    try {
      names = readdirSync(runsDir(projectRoot));
    } catch {
      names = [];
    }
    // Read every log before touching the index, so the swap below is one short transaction.
    for (const name of names.sort()) {
      if (!isSafeId(name)) continue;
      const { logPath } = runPaths(projectRoot, name);
      let log: Awaited<ReturnType<typeof readEventLog>>;
      try {
        log = await readEventLog(logPath);
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ENOENT') continue;
        result.failed.push({ run_id: name, path: logPath, errors: [String(error)] });
        continue;
      }
      if (log.chainErrors.length > 0) {
        result.failed.push({ run_id: name, path: logPath, errors: log.chainErrors });
        continue;
      }
      if (log.events.length === 0) continue;
      if (log.tornTail !== null) {
        result.torn.push({
          run_id: name,
          path: logPath,
          line: log.tornTail.lineNumber,
          bytes: log.tornTail.bytes,
        });
      }
      records.push(reduceRunRecord(log.events));
    }
    this.#db.transaction(() => {
      this.#db.exec('DELETE FROM run_models; DELETE FROM runs;');
      for (const record of records) this.#write(record);
    })();
    result.indexed = records.length;
    return result;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

// SQLite sums REAL in binary floating point; round like the reducer does.
function roundCost<T extends { cost_usd: number }>(row: T): T {
  return { ...row, cost_usd: Math.round(row.cost_usd * 1e9) / 1e9 };
}
