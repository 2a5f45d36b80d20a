import type { RunRecord } from '../events/index.js';
import type { MissionAlias } from '../models/index.js';
import type { CommentaryLine } from './commentary-channel.js';
import type { EarlierRun } from './mission-continuation.js';
import type { MissionReport } from './mission-report.js';

/** One request to run a mission, as the daemon, `mission run` and the MCP server make it. */
export interface ExecuteMissionInput {
  /** User-role text only. */
  readonly userTexts: readonly string[];
  /** The request's model name (a mission alias, or a raw model whose input carried a block). */
  readonly model: string;
  readonly missionAlias?: MissionAlias | undefined;
  readonly signal: AbortSignal;
  readonly requestId?: string | undefined;
  readonly sessionKey?: string | undefined;
  /** Live progress (SSE reasoning items, CLI stderr). */
  readonly onCommentary?: (line: CommentaryLine) => void;
  /**
   * The mission this run continues (the CLI's `--continue`, MCP's `continuation_id`), set over
   * whatever the handoff says (PRODUCT.md §6.3).
   */
  readonly continues?: string | undefined;
  /**
   * The earlier run as `MissionRuntime.continuationScope` already read and verified it, so
   * admission does not read its log a second time. Used only for the run `continues` names.
   */
  readonly continuation?: EarlierRun | undefined;
}

/** The answer to one request: the run it ran (or reused) and its final text. */
export interface MissionOutcome {
  readonly runId: string;
  readonly missionId: string;
  readonly status: string;
  readonly finalText: string;
  readonly report: MissionReport | null;
  readonly record: RunRecord;
  /** Time spent waiting on model calls (excluded from the bridge's overhead figure). */
  readonly modelTimeMs: number;
  /** Set when this request ran nothing itself (mission_id idempotency, PRODUCT.md §4). */
  readonly reusedRun?: 'replay' | 'follow' | 'conflict';
}
