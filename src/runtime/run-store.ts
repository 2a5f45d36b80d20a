import {
  reduceRunRecord,
  writeProjections,
  type EventLogWriter,
  type MissionEvent,
  type RunRecord,
} from '../events/index.js';
import type { Logger } from '../log/index.js';
import { openRunIndex, type RunIndex } from '../store/index.js';

/**
 * Where a run's derived state goes once its events are written: the SQLite index row and the
 * projections. Both are derived from the log, so neither may fail a mission.
 */
export class RunStore {
  private index: RunIndex | undefined;

  constructor(
    readonly projectRoot: string,
    private readonly logger: Logger,
  ) {}

  /** The run index, opened on first use. */
  runIndex(): RunIndex {
    this.index ??= openRunIndex(this.projectRoot);
    return this.index;
  }

  /** Flushes and closes a run's log, then writes its projections and index row. */
  async finish(writer: EventLogWriter, events: readonly MissionEvent[]): Promise<RunRecord> {
    try {
      await writer.flush();
    } finally {
      // A failed writer refuses to flush; its file and lock must be released all the same.
      await writer
        .close()
        .catch((error: unknown) => this.logger.error({ err: error }, 'event log close failed'));
    }
    return this.deriveViews(events, reduceRunRecord(events));
  }

  /**
   * Projections and the index row, both derived from the log: neither may fail a run the log
   * already closed (the client would hear `response.failed` of a completed run). Startup
   * recovery re-renders missing projections and rebuilds missing rows.
   */
  async deriveViews(events: readonly MissionEvent[], record: RunRecord): Promise<RunRecord> {
    try {
      await writeProjections(this.projectRoot, record, events);
    } catch (error) {
      this.logger.warn({ err: error, runId: record.run_id }, 'projections not written');
    }
    try {
      this.runIndex().upsertRun(record);
    } catch (error) {
      this.logger.warn({ err: error }, 'run index update failed');
    }
    return record;
  }

  upsert(events: readonly MissionEvent[]): void {
    try {
      this.runIndex().upsertRun(reduceRunRecord(events));
    } catch (error) {
      // The index is derived; a failure here must never fail a mission (`codex-oss reindex` repairs it).
      this.logger.warn({ err: error }, 'run index update failed');
    }
  }

  close(): void {
    this.index?.close();
    this.index = undefined;
  }
}

/** The totals of a run that made no call (rejected, or crashed before its first). */
export function emptyTotals() {
  return {
    model_calls: 0,
    tool_calls: 0,
    input_tokens: 0,
    cached_input_tokens: 0,
    output_tokens: 0,
    reasoning_tokens: 0,
    total_tokens: 0,
    cost_usd: 0,
  };
}
