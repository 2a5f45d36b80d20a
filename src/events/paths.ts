import { join } from 'node:path';
import { EventLogError } from './event-log-error.js';
import { isSafeId } from './event-schema.js';

/** Where the bridge keeps its state inside a project. */
export const STATE_DIR = '.codex-oss';

export interface RunPaths {
  readonly runDir: string;
  readonly logPath: string;
  readonly lockPath: string;
}

function assertSafeId(kind: string, id: string): void {
  if (!isSafeId(id)) {
    throw new EventLogError(
      'unsafe_id',
      `${kind} ${JSON.stringify(id)} cannot name a directory: use letters, digits, '.', '_' or '-' (max 128)`,
    );
  }
}

/** `.codex-oss/runs/<run_id>/events.jsonl` and its lock (PRODUCT.md §7). */
export function runPaths(projectRoot: string, runId: string): RunPaths {
  assertSafeId('run id', runId);
  const runDir = join(projectRoot, STATE_DIR, 'runs', runId);
  return {
    runDir,
    logPath: join(runDir, 'events.jsonl'),
    lockPath: join(runDir, 'events.lock'),
  };
}

export function runsDir(projectRoot: string): string {
  return join(projectRoot, STATE_DIR, 'runs');
}

/** `.codex-oss/missions/<mission_id>/`, where projections live. */
export function missionDir(projectRoot: string, missionId: string): string {
  assertSafeId('mission id', missionId);
  return join(projectRoot, STATE_DIR, 'missions', missionId);
}
