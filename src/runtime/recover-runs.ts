import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  isSafeId,
  MANIFEST_FILE_NAME,
  openEventLog,
  projectionDir,
  projectionFileNames,
  readEventLog,
  reduceRunRecord,
  runPaths,
  runsDir,
  writeProjections,
  type EventLogWriter,
  type MissionEvent,
} from '../events/index.js';
import type { Logger } from '../log/index.js';
import type { RunIndex } from '../store/index.js';
import { cleanRunFolder } from './clean-run-folder.js';
import { WRITE_FAILED_REASON } from './end-on-write-failure.js';

/**
 * Startup recovery from the run folders themselves (issue 9, Medium #5). After a crash or a
 * full disk the index can lack runs (it held 3 of 13 in the sweep), so every folder under
 * `.codex-oss/runs/` is looked at, not only the runs the index knows:
 *
 * - a log with no terminal event whose writer is gone gets `run.completed` (`interrupted`),
 * - a finished run whose projections (or their manifest) are missing gets them re-rendered,
 * - a run the index lacks, or holds as unfinished, gets its row rebuilt from the log.
 *
 * A run whose lock a live process holds is left to that process. Leftovers whose writer is gone
 * are removed first: lock drafts and set-aside locks, projection temp files, and a log that
 * never received a line (with its folder when nothing else is in it). A run the index holds as
 * ended by a failed write is closed with that reason, so the log says what the client was told.
 */

export interface RecoverRunsInput {
  readonly projectRoot: string;
  readonly index: RunIndex;
  readonly logger: Logger;
  /** Runs this process is executing right now. */
  readonly isActive: (runId: string) => boolean;
}

export interface RecoveryReport {
  /** Runs closed with reason `interrupted`. */
  readonly closed: string[];
  readonly projectionsRendered: string[];
  readonly indexRowsRebuilt: string[];
  /** Leftover files removed, as `<runId>/<file>`. */
  readonly leftoversRemoved: string[];
  /** Folders that could not be repaired (an empty or unreadable log, a broken chain). */
  readonly skipped: { readonly runId: string; readonly why: string }[];
}

export async function recoverRuns(input: RecoverRunsInput): Promise<RecoveryReport> {
  const { projectRoot, logger } = input;
  const report: RecoveryReport = {
    closed: [],
    projectionsRendered: [],
    indexRowsRebuilt: [],
    leftoversRemoved: [],
    skipped: [],
  };
  let folders: string[];
  try {
    folders = readdirSync(runsDir(projectRoot), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && isSafeId(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch {
    return report;
  }
  for (const runId of folders) {
    if (input.isActive(runId)) continue;
    const cleanup = cleanRunFolder(runPaths(projectRoot, runId).runDir);
    report.leftoversRemoved.push(...cleanup.removed.map((name) => `${runId}/${name}`));
    if (cleanup.emptyLogRemoved) continue;
    try {
      await recoverOne(runId, input, report);
    } catch (error) {
      report.skipped.push({ runId, why: error instanceof Error ? error.message : String(error) });
      logger.warn({ err: error, runId }, 'run recovery failed');
    }
  }
  return report;
}

async function recoverOne(
  runId: string,
  input: RecoverRunsInput,
  report: RecoveryReport,
): Promise<void> {
  const { projectRoot, index } = input;
  const { logPath } = runPaths(projectRoot, runId);
  const read = await readEventLog(logPath).catch(() => undefined);
  if (!read || read.events.length === 0) {
    report.skipped.push({ runId, why: 'the log is missing or empty' });
    return;
  }
  if (read.chainErrors.length > 0) {
    report.skipped.push({ runId, why: 'the hash chain is broken; audit-mission says where' });
    return;
  }
  let events: MissionEvent[] = [...read.events];
  if (!events.some((event) => event.type === 'run.completed')) {
    let writer: EventLogWriter;
    try {
      writer = await openEventLog({ projectRoot, runId, resume: true });
    } catch {
      report.skipped.push({ runId, why: 'a live writer holds the log, or it cannot be continued' });
      return;
    }
    writer.onEvent((event) => events.push(event));
    const record = reduceRunRecord(read.events);
    const gathered = record.tool_calls > 0 || record.files_inspected.length > 0;
    // The client of a run that ended on a failed write was told so; the log now says it too.
    const told = index.getRun(runId);
    const writeFailed = told?.reason === WRITE_FAILED_REASON;
    const tornNote = writer.recoveredTornTail ? ' Its torn last line was set aside.' : '';
    try {
      await writer.append('run.completed', 'runtime', {
        status: writeFailed ? 'FAILED' : gathered ? 'PARTIAL' : 'FAILED',
        reason: writeFailed ? WRITE_FAILED_REASON : 'interrupted',
        reason_text: writeFailed
          ? `${told.reason_text ?? 'The event log could not be written.'} The run was closed when the daemon next started.${tornNote}`
          : 'The daemon stopped (killed, crashed or out of disk) before this mission finished; the run was closed when the daemon next started.' +
            tornNote,
        totals: {
          model_calls: record.model_calls,
          tool_calls: record.tool_calls,
          input_tokens: record.tokens.input_tokens,
          cached_input_tokens: record.tokens.cached_input_tokens,
          output_tokens: record.tokens.output_tokens,
          reasoning_tokens: record.tokens.reasoning_tokens,
          total_tokens: record.tokens.total_tokens,
          cost_usd: record.cost_usd,
        },
      });
      await writer.flush();
    } finally {
      await writer.close().catch(() => undefined);
    }
    report.closed.push(runId);
    // What is on disk now is the truth, whatever the writer buffered.
    events = (await readEventLog(logPath)).events;
  }
  const record = reduceRunRecord(events);
  const dir = projectionDir(projectRoot, record);
  const complete =
    existsSync(path.join(dir, MANIFEST_FILE_NAME)) &&
    projectionFileNames.every((name) => existsSync(path.join(dir, name)));
  if (!complete || report.closed.includes(runId)) {
    await writeProjections(projectRoot, record, events);
    report.projectionsRendered.push(runId);
  }
  const row = index.getRun(runId);
  if (
    !row ||
    row.state !== record.state ||
    row.status !== record.status ||
    report.closed.includes(runId)
  ) {
    index.upsertRun(record);
    report.indexRowsRebuilt.push(runId);
  }
}
