import { readdirSync, readFileSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

/**
 * What a crash or a full disk leaves in a run folder besides the log (issue 9, Medium #5): the
 * lock's drafts (`events.lock.<pid>-<n>.tmp`, written aside and hard-linked into place), locks
 * renamed aside while a stale one was taken over (`events.lock.stale-<pid>-<ms>`), a projection
 * writer's temp file, and a log that was created but never received a whole line.
 */
const leftoverPatterns: readonly RegExp[] = [
  /^events\.lock\.(\d+)-\d+\.tmp$/,
  /^events\.lock\.stale-(\d+)-\d+$/,
  /\.tmp-(\d+)-[0-9a-f]+$/,
];

export interface FolderCleanup {
  /** Leftover files removed, relative to the run folder. */
  readonly removed: string[];
  /**
   * Set when an `events.jsonl` without one whole line was removed (and the folder too, when
   * nothing else was in it).
   */
  readonly emptyLogRemoved: boolean;
}

/**
 * Removes a run folder's leftovers whose writer is gone. A file of a live process is kept: a pid
 * that still runs, or this process's own pid on a file made since it started (an earlier daemon
 * in a container often had the same pid, and its files are older than this process).
 */
export function cleanRunFolder(runDir: string): FolderCleanup {
  const removed: string[] = [];
  const startedAt = Date.now() - process.uptime() * 1000;
  const isLive = (pid: number, file: string): boolean => {
    if (pid === process.pid) return mtimeOf(file) >= startedAt;
    return pidRuns(pid);
  };
  let names: string[];
  try {
    names = readdirSync(runDir);
  } catch {
    return { removed, emptyLogRemoved: false };
  }
  for (const name of names) {
    for (const pattern of leftoverPatterns) {
      const pid = Number(pattern.exec(name)?.[1]);
      if (!Number.isInteger(pid) || pid <= 0) continue;
      const file = path.join(runDir, name);
      if (isLive(pid, file)) break;
      try {
        unlinkSync(file);
        removed.push(name);
      } catch {
        // Gone meanwhile, or not ours to remove: either way nothing is lost.
      }
      break;
    }
  }
  const logPath = path.join(runDir, 'events.jsonl');
  const lockPath = path.join(runDir, 'events.lock');
  let emptyLogRemoved = false;
  if (neverGotALine(logPath) && !lockIsLive(lockPath, isLive)) {
    try {
      unlinkSync(logPath);
      emptyLogRemoved = true;
      removed.push('events.jsonl');
      // The lock of a writer that died before its first line goes with the log.
      if (sizeOf(lockPath) !== null) {
        unlinkSync(lockPath);
        removed.push('events.lock');
      }
      rmdirSync(runDir);
    } catch {
      // A folder with anything else in it (a torn-tail copy, an index of its own) stays.
    }
  }
  return { removed, emptyLogRemoved };
}

function lockIsLive(lockPath: string, isLive: (pid: number, file: string) => boolean): boolean {
  let owner: { pid?: unknown; host?: unknown };
  try {
    owner = JSON.parse(readFileSync(lockPath, 'utf8')) as { pid?: unknown; host?: unknown };
  } catch {
    // No lock, or one no writer wrote (the writer links a complete body into place).
    return false;
  }
  // A lock of another host cannot be checked; it is respected, as the writer does.
  if (typeof owner.host === 'string' && owner.host !== hostname()) return true;
  return typeof owner.pid === 'number' && isLive(owner.pid, lockPath);
}

/**
 * Empty, or only the torn start of a first line (a disk that refused the run's admission): no
 * event ever reached the log, so there is nothing to close or keep.
 */
function neverGotALine(logPath: string): boolean {
  const size = sizeOf(logPath);
  if (size === null) return false;
  if (size === 0) return true;
  if (size > maxFirstLineBytes) return false;
  try {
    return !readFileSync(logPath).includes(0x0a);
  } catch {
    return false;
  }
}

/** Larger than any admission line; a bigger file without a newline is not left to this rule. */
const maxFirstLineBytes = 1024 * 1024;

function sizeOf(file: string): number | null {
  try {
    return statSync(file).size;
  } catch {
    return null;
  }
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as someone else.
    return (error as { code?: unknown }).code === 'EPERM';
  }
}
