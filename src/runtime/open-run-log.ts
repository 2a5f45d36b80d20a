import { existsSync, rmSync } from 'node:fs';
import { BridgeError } from '../errors/index.js';
import { EventLogError, openEventLog, runPaths, type EventLogWriter } from '../events/index.js';
import type { Logger } from '../log/index.js';
import type { OpenLogFile } from './end-on-write-failure.js';
import { redactSecrets } from './redact-secrets.js';

export interface NewRunLogInput {
  readonly projectRoot: string;
  readonly runId: string;
  readonly logger: Logger;
  readonly openFile?: OpenLogFile | undefined;
}

/** Errno codes that mean the path itself was refused, not the disk. */
const pathCodes = new Set(['ENOTDIR', 'EEXIST', 'ELOOP', 'ENAMETOOLONG', 'EISDIR']);

/**
 * Opens a new run's log and writes its first event. A run that cannot get that far has no record
 * to close, so nothing of it is kept: the run folder (made here, under a fresh run id) is removed,
 * and the caller gets `run_log_unwritable` with the errno and the path instead of a 500.
 */
export async function startRunLog(
  input: NewRunLogInput,
  listen: (writer: EventLogWriter) => void,
  first: (writer: EventLogWriter) => Promise<unknown>,
): Promise<EventLogWriter> {
  const { runDir } = runPaths(input.projectRoot, input.runId);
  const existed = existsSync(runDir);
  let writer: EventLogWriter | undefined;
  try {
    writer = await openEventLog({
      projectRoot: input.projectRoot,
      runId: input.runId,
      ...(input.openFile ? { openFile: input.openFile } : {}),
    });
    listen(writer);
    await first(writer);
    await writer.flush();
    return writer;
  } catch (error) {
    await writer?.close().catch(() => undefined);
    // Anything but the disk refusing is a bug: it stays an internal error, and the run (if its
    // first line got written) is closed as interrupted by recovery at the next start.
    if (writer !== undefined && !isWriteFailure(error)) throw error;
    // The folder is this run's alone (a fresh id); one that was there before is not ours.
    if (!existed) discard(runDir, input.logger);
    const failure = runLogUnwritable(input.runId, runDir, error);
    // The caller answers with the whole reason; a stack adds nothing a user can act on.
    input.logger.warn({ runId: input.runId, code: failure.code }, failure.message);
    throw failure;
  }
}

function isWriteFailure(error: unknown): boolean {
  return error instanceof EventLogError && error.code === 'writer_failed';
}

function discard(runDir: string, logger: Logger): void {
  try {
    rmSync(runDir, { recursive: true, force: true });
  } catch (error) {
    // A runs path that is not a folder never let the run folder be made: nothing to remove.
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOTDIR' || code === 'ENOENT') return;
    // Startup recovery removes a log that never received a whole line (clean-run-folder.ts).
    logger.warn({ err: error, runDir }, 'the folder of a run that never started stays');
  }
}

function errnoOf(error: unknown): { code: string; message: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code))
      return { code, message: current.message };
    current = current.cause;
  }
  return undefined;
}

function runLogUnwritable(runId: string, runDir: string, error: unknown): BridgeError {
  const errno = errnoOf(error);
  const cause =
    errno?.code ??
    (error instanceof EventLogError ? error.code : error instanceof Error ? error.name : 'error');
  const message = errno?.message ?? (error instanceof Error ? error.message : String(error));
  // Node's messages start with the code already ("ENOTDIR: not a directory, mkdir '…'").
  const detail = message.startsWith(`${cause}: `) ? message.slice(cause.length + 2) : message;
  const fix =
    errno !== undefined && pathCodes.has(errno.code)
      ? 'Make .codex-oss/runs/ a plain directory in the project (not a file or a symlink loop), then send the mission again.'
      : errno?.code === 'ENOSPC' || errno?.code === 'EDQUOT'
        ? 'Free disk space under .codex-oss/, then send the mission again.'
        : errno?.code === 'EACCES' || errno?.code === 'EPERM' || errno?.code === 'EROFS'
          ? 'Let the user running the bridge write .codex-oss/runs/ (or mount it read-write), then send the mission again.'
          : 'Fix what the cause names under .codex-oss/runs/, then send the mission again.';
  return new BridgeError(
    'run_log_unwritable',
    redactSecrets(
      `The event log of run ${runId} could not be created at ${runDir} (${cause}: ${detail}). Nothing ran and nothing was kept. ${fix}`,
    ).text,
    { cause: error },
  );
}
