import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockUpstream, type MockUpstream } from '../../src/demo/index.js';
import { runGit } from '../support/implementation-repos.js';
import {
  a5Mission,
  fixReplies,
  handoffText,
  makeDiscountRepo,
  processesWith,
  workspaceHash,
} from '../support/implementation-lane.js';
import {
  buildPackageCopy,
  cliEnv,
  health,
  listeningPort,
  LOCAL_KEY,
  PidTracker,
  removeDir,
  spawnCli,
  tempProject,
  waitFor,
  type BuiltPackage,
  type RunningChild,
} from './cli-harness.js';

/**
 * A daemon SIGKILLed while a verification command runs in an isolated worktree: on restart the
 * run is closed `interrupted`, the worktree is gone (git's list too), the command is dead and
 * the main workspace is untouched.
 */

let pkg: BuiltPackage;
let upstream: MockUpstream;
const pids = new PidTracker();
const dirs: string[] = [];

beforeAll(async () => {
  [pkg, upstream] = await Promise.all([buildPackageCopy(), startMockUpstream()]);
  dirs.push(pkg.root);
}, 240_000);

afterAll(async () => {
  pids.killAll();
  await upstream.close();
  for (const dir of dirs) removeDir(dir);
});

/** A foreground `up --port 0`; its port is read from the listening line. */
async function startDaemon(project: string): Promise<{ daemon: RunningChild; port: number }> {
  const codexHome = tempProject('crash-codex-home');
  dirs.push(codexHome);
  const daemon = spawnCli(pkg, ['up', '--port', '0'], {
    cwd: project,
    env: cliEnv({
      UPSTREAM_BASE: upstream.baseUrl,
      CODEX_HOME: codexHome,
      CODEX_OSS_PROJECT: project,
      UPSTREAM_RETRIES: '0',
    }),
  });
  pids.track(daemon.child.pid);
  const port = await waitFor(
    'the listening line',
    () => listeningPort(daemon.output.stderr),
    30_000,
  );
  await waitFor('the daemon to answer /health', () => health(port), 30_000);
  return { daemon, port };
}

const get = async (port: number, url: string) =>
  (await (
    await fetch(`http://127.0.0.1:${port}${url}`, {
      headers: { authorization: `Bearer ${LOCAL_KEY}` },
    })
  ).json()) as Record<string, unknown>;

describe('a daemon killed during verification', () => {
  it('closes the run interrupted and removes its worktree on restart', async () => {
    const project = makeDiscountRepo();
    dirs.push(project);
    const before = workspaceHash(project);
    const token = `crash-sleep-${randomUUID()}`;
    const missionId = `crash-${Date.now()}`;
    const mission = a5Mission(missionId, {
      verification_policy: {
        allowed_commands: [[process.execPath, '-e', `setTimeout(() => {}, 120000); // ${token}`]],
        timeout_seconds: 300,
      },
    });
    upstream.reset();
    upstream.script(...fixReplies());
    const { daemon: first, port } = await startDaemon(project);

    const pending = fetch(`http://127.0.0.1:${port}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${LOCAL_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mission-a5-deepseek', input: handoffText(mission) }),
    }).catch((error: unknown) => error);

    const runId = await waitFor('the run to be indexed', async () => {
      const record = await get(port, `/v1/missions/${missionId}`).catch(() => undefined);
      return typeof record?.['run_id'] === 'string' ? record['run_id'] : undefined;
    });
    const log = path.join(project, '.codex-oss', 'runs', runId, 'events.jsonl');
    await waitFor(
      'verification to start',
      () => existsSync(log) && readFileSync(log, 'utf8').includes('"verification.started"'),
      30_000,
    );
    // The command itself, not only the sandbox that starts it: bwrap ties itself to the daemon
    // (--die-with-parent) a moment after it starts, and a kill inside that moment (a loaded
    // machine makes it long) orphans the sandbox and the command for their whole 120 s.
    await waitFor('the verification command to run', () =>
      processesWith(token).some((pid) => commandName(pid) === path.basename(process.execPath)),
    );
    const worktrees = path.join(project, '.codex-oss', 'worktrees');
    expect(readdirSync(worktrees)).toEqual([runId]);

    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    await pending;
    // The command dies with the daemon (its sandbox is tied to its parent), or is left to the OS;
    // either way it must not write anything: the main workspace is checked below.
    await waitFor(
      'the verification command to die',
      () => processesWith(token).length === 0,
      15_000,
    );

    const { daemon: second, port: again } = await startDaemon(project);
    const record = await waitFor('the run to be closed', async () => {
      const view = await get(again, `/v1/missions/${missionId}`);
      return view['state'] !== 'running' && view['state'] !== 'waiting_upstream' ? view : undefined;
    });
    expect(record['reason']).toBe('interrupted');
    expect(readFileSync(log, 'utf8')).toContain('"run.completed"');
    await waitFor('the stale worktree to be removed', () =>
      existsSync(worktrees) ? readdirSync(worktrees).length === 0 : true,
    );
    const listed = runGit(project, ['worktree', 'list', '--porcelain'])
      .split('\n')
      .filter((line) => line.startsWith('worktree '));
    expect(listed).toEqual([`worktree ${project}`]);
    expect(workspaceHash(project)).toBe(before);

    second.child.kill('SIGTERM');
    await second.exited;
  }, 120_000);
});

/** A process's command name (`/proc/<pid>/comm`), or null once it is gone. */
function commandName(pid: number): string | null {
  try {
    return readFileSync(`/proc/${String(pid)}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}
