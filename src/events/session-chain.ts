import { readFile, readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isSafeId } from './event-schema.js';
import { runPaths, runsDir } from './paths.js';
import { readFirstEvent } from './read-event-log.js';

/**
 * Whether the process that writes a run's log is still there, read from `events.lock` (which
 * holds the writer's pid and host): `alive`, `gone` (no lock, or its pid is dead on this host),
 * or `unknown` (a writer on another host, which cannot be checked from here).
 */
export type RunWriterState = 'alive' | 'gone' | 'unknown';

export async function runWriterState(projectRoot: string, runId: string): Promise<RunWriterState> {
  const text = await readFile(runPaths(projectRoot, runId).lockPath, 'utf8').catch(() => null);
  if (text === null) return 'gone';
  let owner: { pid?: unknown; host?: unknown };
  try {
    owner = JSON.parse(text) as { pid?: unknown; host?: unknown };
  } catch {
    return 'gone';
  }
  if (typeof owner.pid !== 'number' || typeof owner.host !== 'string') return 'gone';
  if (owner.host !== hostname()) return 'unknown';
  try {
    process.kill(owner.pid, 0);
    return 'alive';
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'alive' : 'gone';
  }
}

interface AdmittedRun {
  readonly runId: string;
  readonly missionId: string | null;
  /** The mission id and run id the run continues (either may be what names it), or none. */
  readonly continues: readonly string[];
  readonly ts: string;
}

function continuedIds(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' || value === null) return [];
  const named = value as Record<string, unknown>;
  return [named['mission_id'], named['run_id']].filter(
    (id): id is string => typeof id === 'string',
  );
}

/**
 * The run ids of a session, oldest first: `runId`, then the newest run admitted as its
 * continuation (`run.admitted.continues` naming its mission id and run id), then that run's, and so
 * on (PRODUCT.md §6.3). An orchestrator that resumes a session by continuing it keeps asking
 * about the first mission id; this is how the answer follows it to the run doing the work now.
 */
export async function continuationChain(projectRoot: string, runId: string): Promise<string[]> {
  const names = await readdir(runsDir(projectRoot)).catch(() => [] as string[]);
  const runs: AdmittedRun[] = [];
  for (const name of names) {
    if (!isSafeId(name)) continue;
    const first = await readFirstEvent(runPaths(projectRoot, name).logPath).catch(() => null);
    if (first?.['type'] !== 'run.admitted') continue;
    const payload = (first['payload'] ?? {}) as Record<string, unknown>;
    runs.push({
      runId: name,
      missionId: typeof payload['mission_id'] === 'string' ? payload['mission_id'] : null,
      continues: continuedIds(payload['continues']),
      ts: typeof first['ts'] === 'string' ? first['ts'] : '',
    });
  }
  const byRun = new Map(runs.map((run) => [run.runId, run]));
  const chain = [runId];
  const seen = new Set(chain);
  let current = byRun.get(runId);
  while (current !== undefined) {
    const here = current;
    const next = runs
      .filter(
        (run) =>
          !seen.has(run.runId) &&
          (run.continues.includes(here.runId) ||
            (here.missionId !== null && run.continues.includes(here.missionId))),
      )
      .sort((a, b) => b.ts.localeCompare(a.ts) || b.runId.localeCompare(a.runId))[0];
    if (next === undefined) break;
    chain.push(next.runId);
    seen.add(next.runId);
    current = next;
  }
  return chain;
}
