import { execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitByStatus } from '../../src/cli/commands/mission.js';
import type { MockUpstream } from '../../src/demo/index.js';
import {
  BUG,
  makeDiscountRepo,
  TEST_COMMAND,
  workspaceHash,
} from '../support/implementation-lane.js';
import {
  BIN,
  missionEvents,
  scriptedWorker,
  serverEnv,
  startMockUpstream,
} from '../support/mcp-harness.js';

/**
 * `codex-oss delegate`, as agent-orchestrator launches it: a real process, the scripted mock as
 * the worker; commentary on stderr, the report on stdout, the exit code from the status.
 */

let mock: MockUpstream;
let project: string;

beforeAll(async () => {
  project = makeDiscountRepo();
  mock = await startMockUpstream({ responder: scriptedWorker });
});
afterAll(async () => {
  await mock.close();
  rmSync(project, { recursive: true, force: true });
});

function delegate(
  args: string[],
  cwd = project,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, 'delegate', ...args],
      { cwd, env: serverEnv(mock, { LOG_LEVEL: 'warn' }), timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('codex-oss delegate', () => {
  it('read-only: exit 0, commentary on stderr as it happens, the report on stdout', async () => {
    const result = await delegate([
      '--workspace',
      project,
      '--mission-id',
      'cli-read-1',
      '--context-path',
      'src',
      'Where is applyDiscount defined? [read src/discount.mjs]',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Status: COMPLETE');
    expect(result.stdout).toContain('Scope: src/');
    expect(result.stdout).not.toContain('  · ');
    const commentary = result.stderr.split('\n').filter((line) => line.startsWith('  · '));
    const recorded = (await missionEvents(project, 'cli-read-1'))
      .filter((event) => event.type === 'commentary.emitted')
      .map((event) => `  · ${String(event.payload['message'])}`);
    expect(commentary).toEqual(recorded);
  });

  it('--continue and --json: a new mission that names the earlier one', async () => {
    const result = await delegate([
      '--workspace',
      project,
      '--continue',
      'cli-read-1',
      '--json',
      'And what does it return? [read src/discount.mjs]',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ status: 'COMPLETE', tier: 'A3', continues: 'cli-read-1' });
    expect(json['mission_id']).not.toBe('cli-read-1');
  });

  it('workspace-write: VERIFIED exit 0, the workspace unchanged, the promote command printed', async () => {
    const before = workspaceHash(project);
    const result = await delegate([
      '--workspace',
      project,
      '--permission',
      'workspace-write',
      '--mission-id',
      'cli-write-1',
      '--context-path',
      'src/discount.mjs',
      '--verification-command',
      TEST_COMMAND.join(' '),
      'Fix applyDiscount so the test passes.',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Status: VERIFIED');
    expect(result.stdout).toContain('codex-oss promote cli-write-1');
    expect(workspaceHash(project)).toBe(before);
    expect(readFileSync(path.join(project, 'src', 'discount.mjs'), 'utf8')).toContain(BUG);
  });

  it('SIGTERM mid-run (an orchestrator killing the session) ends it cancelled, exit code from its status', async () => {
    const before = mock.requests.length;
    const child = spawn(
      process.execPath,
      [
        BIN,
        'delegate',
        '--workspace',
        project,
        '--mission-id',
        'cli-term-1',
        '--json',
        'Wait [hang]',
      ],
      {
        cwd: project,
        env: serverEnv(mock, { LOG_LEVEL: 'warn' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await mock.waitForRequests(before + 1, 30_000);
    child.kill('SIGTERM');
    const code = await exited;
    const json = JSON.parse(stdout) as { status: string };
    expect(json.status).not.toBe('COMPLETE');
    expect(code).toBe(exitByStatus[json.status]);
    const completed = (await missionEvents(project, 'cli-term-1')).at(-1);
    expect(completed?.payload).toMatchObject({ reason: 'cancelled' });
    expect(String(completed?.payload['reason_text'])).toContain('Stopped by SIGTERM');
  });

  it('refused requests exit 2 with the reason on stderr and nothing run', async () => {
    const before = mock.requests.length;
    const unlimited = await delegate(['--permission', 'unlimited', '--workspace', project, 'x']);
    expect(unlimited.code).toBe(2);
    expect(unlimited.stderr).toContain('delegation_refused');
    const noPath = await delegate(['--permission', 'workspace-write', '--workspace', project, 'x']);
    expect(noPath.code).toBe(2);
    expect(noPath.stderr).toContain('needs at least one path');
    const outside = await delegate([
      '--workspace',
      project,
      '--context-path',
      '/etc/hostname',
      'x',
    ]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain('outside the workspace');
    const noPrompt = await delegate(['--workspace', project]);
    expect(noPrompt.code).toBe(2);
    expect(mock.requests.length).toBe(before);
  });
});
