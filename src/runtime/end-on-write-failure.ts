import type { FileHandle } from 'node:fs/promises';
import {
  EVENT_SCHEMA,
  EventLogError,
  hashEvent,
  openEventLog,
  readEventLog,
  reduceRunRecord,
  runPaths,
  ZERO_HASH,
  type EventLogWriter,
  type MissionEvent,
  type RunRecord,
} from '../events/index.js';
import type { Logger } from '../log/index.js';
import { redactSecrets } from './redact-secrets.js';

/** The closing reason of a run whose own event log could not be written (issue 9, Medium #5). */
export const WRITE_FAILED_REASON = 'event_log_write_failed';

export type OpenLogFile = (path: string, flags: 'a' | 'ax') => Promise<FileHandle>;

/** Whether `error` is the event-log writer reporting that its disk refused a write or a sync. */
export function isLogWriteFailure(error: unknown): boolean {
  return error instanceof EventLogError && error.code === 'writer_failed';
}

/** The errno behind a writer failure (ENOSPC, EIO…), for the reason text. */
function causeOf(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'writer_failed') return `${code}: ${current.message}`;
    current = current.cause;
  }
  return error instanceof Error ? error.message : String(error);
}

export interface WriteFailureInput {
  readonly projectRoot: string;
  readonly runId: string;
  /** The poisoned writer: closed here so its lock is released before the log is reopened. */
  readonly writer: EventLogWriter;
  /** Every event the run sequenced, written or not. */
  readonly events: readonly MissionEvent[];
  readonly error: unknown;
  readonly logger: Logger;
  readonly openFile?: OpenLogFile | undefined;
}

export interface WriteFailureOutcome {
  readonly record: RunRecord;
  readonly reasonText: string;
  /** Whether `run.completed` with the reason reached the log (it did unless the disk still refuses). */
  readonly recorded: boolean;
  /** The events the record was reduced from (the log as read back, when the reason was recorded). */
  readonly events: readonly MissionEvent[];
}

/**
 * Ends a run whose event log refused a write. The failed writer cannot be trusted (after a failed
 * fsync Linux may have dropped the dirty pages), so the log is reopened the way startup recovery
 * does it: verified from disk, a torn last line set aside, and `run.completed` appended with
 * reason `event_log_write_failed`. When the disk still refuses, the same terminal record is
 * built in memory so the client, the index and `/v1/missions/:id` all say the same thing, and
 * recovery closes the log with that reason at the next start (it reads the index row).
 */
export async function endRunOnWriteFailure(input: WriteFailureInput): Promise<WriteFailureOutcome> {
  const { projectRoot, runId, logger } = input;
  const reasonText = redactSecrets(
    `The event log could not be written (${causeOf(input.error)}); the runtime ended the mission. What was written before the failure is in .codex-oss/runs/${runId}/events.jsonl.`,
  ).text;
  await input.writer.close().catch(() => undefined);
  const sequenced = input.events.filter((event) => event.type !== 'run.completed');
  const totals = totalsOf(reduceRunRecord(sequenced));
  const payload = {
    status: 'FAILED',
    reason: WRITE_FAILED_REASON,
    reason_text: reasonText,
    totals,
  };
  try {
    const writer = await openEventLog({
      projectRoot,
      runId,
      resume: true,
      ...(input.openFile ? { openFile: input.openFile } : {}),
    });
    try {
      await writer.append('run.completed', 'runtime', payload);
      await writer.flush();
    } finally {
      await writer.close().catch(() => undefined);
    }
    const events = (await readEventLog(runPaths(projectRoot, runId).logPath)).events;
    return { record: reduceRunRecord(events), reasonText, recorded: true, events };
  } catch (error) {
    logger.error({ err: error, runId }, 'the reason a run ended could not be written to its log');
  }
  const last = sequenced.at(-1);
  const header: Omit<MissionEvent, 'hash'> = {
    schema: EVENT_SCHEMA,
    run_id: runId,
    seq: last === undefined ? 0 : last.seq + 1,
    ts: new Date().toISOString(),
    type: 'run.completed',
    source: 'runtime',
    payload,
    prev_hash: last?.hash ?? ZERO_HASH,
  };
  const terminal: MissionEvent = { ...header, hash: hashEvent(header) };
  const events = [...sequenced, terminal];
  return { record: reduceRunRecord(events), reasonText, recorded: false, events };
}

function totalsOf(record: RunRecord) {
  return {
    model_calls: record.model_calls,
    tool_calls: record.tool_calls,
    input_tokens: record.tokens.input_tokens,
    cached_input_tokens: record.tokens.cached_input_tokens,
    output_tokens: record.tokens.output_tokens,
    reasoning_tokens: record.tokens.reasoning_tokens,
    total_tokens: record.tokens.total_tokens,
    cost_usd: record.cost_usd,
  };
}

/** The answer the client gets: the same reason the log and the index hold. */
export function writeFailureText(missionId: string, runId: string, reasonText: string): string {
  return [
    'Status: FAILED',
    `Mission: ${missionId} (run ${runId})`,
    '',
    'Summary:',
    `  The mission ended early (${WRITE_FAILED_REASON}): ${reasonText}`,
    '',
    'How to fix:',
    '  Free disk space (or fix the disk) under .codex-oss/, then send the mission again.',
  ].join('\n');
}
