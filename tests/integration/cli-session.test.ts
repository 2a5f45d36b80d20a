import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, startMockUpstream, type MockUpstream } from '../../src/demo/index.js';
import { createFixtureProject, handoff, type FixtureProject } from '../support/mission-fixtures.js';
import {
  buildPackageCopy,
  cliEnv,
  PidTracker,
  removeDir,
  runCli,
  spawnCli,
  waitFor,
  type BuiltPackage,
} from './cli-harness.js';

/**
 * `codex-oss session`, driven as an orchestrator would: the built CLI in child processes, against
 * runs this file makes with `mission run` on the scripted mock upstream.
 */

let pkg: BuiltPackage;
let mock: MockUpstream;
let fixture: FixtureProject;
const pids = new PidTracker();

interface View {
  session_id: string;
  mission_id: string;
  run_id: string;
  state: string;
  status: string | null;
  activity: string;
  activity_reason: string;
  summary: string | null;
  summary_is_fallback: boolean;
  tokens: { input_tokens: number; output_tokens: number; total_tokens: number };
  cost_usd: number;
  permission: string | null;
  workspace: string;
  chain: { mission_id: string; run_id: string }[];
  restore_command: string | null;
  restore_argv: string[] | null;
}

const env = () => cliEnv({ UPSTREAM_BASE: mock.baseUrl, OPENCODE_GO_API_KEY: 'sk-upstream-test' });
const cli = (args: string[]) => runCli(pkg, args, { cwd: fixture.root, env: env() });

async function session(id: string, ...extra: string[]): Promise<View> {
  const result = await cli(['session', id, '--project', fixture.root, '--json', ...extra]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as View;
}

function reportPort(summary: string, usage: { prompt_tokens: number; completion_tokens: number }) {
  return reply()
    .toolCall('submit_report', {
      status: 'COMPLETE',
      summary,
      findings: [{ claim: 'PORT = 4000', evidence_refs: ['file:src/config.ts#L2-L2'] }],
      confidence: 'HIGH',
    })
    .usage(usage);
}

function writeHandoff(missionId: string, extra: Record<string, unknown> = {}): string {
  const file = `handoff-${missionId}.md`;
  writeFileSync(path.join(fixture.root, file), handoff({ mission_id: missionId, ...extra }));
  return file;
}

beforeAll(async () => {
  [pkg, mock] = await Promise.all([buildPackageCopy(), startMockUpstream()]);
  fixture = createFixtureProject();
}, 300_000);

afterAll(async () => {
  pids.killAll();
  // Undefined when beforeAll itself failed; nothing else to clean up then.
  await (mock as MockUpstream | undefined)?.close();
  removeDir(path.dirname(fixture.root));
  removeDir(pkg.root);
});

describe('codex-oss session on a finished mission', () => {
  it('answers state, activity, summary, tokens, cost and a continuation that round-trips through sh', async () => {
    mock.reset();
    mock.script(
      reply()
        .toolCall('read_file', { path: 'src/config.ts' })
        .usage({ prompt_tokens: 2000, completion_tokens: 100, cached_tokens: 500 }),
      reply()
        .toolCall('submit_report', {
          status: 'COMPLETE',
          summary: 'Port 4000 on 127.0.0.1.',
          findings: [{ claim: 'PORT = 4000', evidence_refs: ['file:src/config.ts#L2-L2'] }],
          confidence: 'HIGH',
        })
        .usage({ prompt_tokens: 2500, completion_tokens: 120 }),
    );
    const run = await cli([
      'mission',
      'run',
      writeHandoff('sess-done'),
      '--model',
      'mission-a3-kimi',
    ]);
    expect(run.code, run.stderr).toBe(0);

    const view = await session('sess-done');
    expect(view).toMatchObject({
      session_id: 'sess-done',
      mission_id: 'sess-done',
      state: 'completed',
      status: 'COMPLETE',
      activity: 'exited',
      summary: 'Port 4000 on 127.0.0.1.',
      summary_is_fallback: false,
      permission: 'read-only',
      workspace: fixture.root,
    });
    expect(view.tokens).toMatchObject({
      input_tokens: 4500,
      output_tokens: 220,
      total_tokens: 4720,
    });
    // kimi-k2.6's prices per million: 1500 uncached + 500 cached + 100 out, then 2500 + 120.
    const expected = (1500 * 0.95 + 500 * 0.16 + 100 * 4 + 2500 * 0.95 + 120 * 4) / 1e6;
    expect(view.cost_usd).toBeCloseTo(expected, 9);
    expect(view.chain.map((entry) => entry.mission_id)).toEqual(['sess-done']);
    expect(view.restore_argv).toEqual([
      'codex-oss',
      'delegate',
      '--continue',
      'sess-done',
      '--workspace',
      fixture.root,
      '--permission',
      'read-only',
      '--model',
      'mission-a3-kimi',
      expect.stringContaining('Continue this mission'),
    ]);

    // A follow-up with quotes, $ and backticks comes back from a real shell as one argument.
    const prompt = `What's next? Don't run $(rm -rf /) or \`id\`; "quote" it.`;
    const custom = await session('sess-done', '--prompt', prompt);
    expect(custom.restore_argv?.at(-1)).toBe(prompt);
    const words = execFileSync('sh', ['-c', `printf '%s\\0' ${custom.restore_command ?? ''}`], {
      encoding: 'utf8',
    })
      .split('\0')
      .slice(0, -1);
    expect(words).toEqual(custom.restore_argv);

    const human = await cli(['session', 'sess-done', '--project', fixture.root]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('Activity: exited (the run ended COMPLETE');
    expect(human.stdout).toContain('Summary: Port 4000 on 127.0.0.1.');
    expect(human.stdout).toContain('Continue: codex-oss delegate --continue sess-done');
  });

  it('follows a continuation: the newest run answers, tokens and dollars add up the chain', async () => {
    mock.reset();
    mock.script(
      reply()
        .toolCall('read_file', { path: 'src/config.ts' })
        .usage({ prompt_tokens: 1000, completion_tokens: 50 }),
      reportPort('Port 4000.', { prompt_tokens: 1200, completion_tokens: 60 }),
    );
    expect((await cli(['mission', 'run', writeHandoff('sess-chain-1')])).code).toBe(0);
    const first = await session('sess-chain-1');
    mock.script(reportPort('Still port 4000.', { prompt_tokens: 3000, completion_tokens: 70 }));
    const follow = await cli([
      'mission',
      'run',
      writeHandoff('sess-chain-2', { objective: 'Is the port still 4000?' }),
      '--continue',
      'sess-chain-1',
    ]);
    expect(follow.code, follow.stdout + follow.stderr).toBe(0);
    const second = await session('sess-chain-2');

    const chained = await session('sess-chain-1');
    expect(chained).toMatchObject({
      session_id: 'sess-chain-1',
      mission_id: 'sess-chain-2',
      run_id: second.run_id,
      summary: 'Still port 4000.',
    });
    expect(chained.chain.map((entry) => entry.run_id)).toEqual([first.run_id, second.run_id]);
    expect(chained.tokens.total_tokens).toBe(1050 + 1260 + 3070);
    expect(chained.cost_usd).toBeCloseTo(first.cost_usd + second.cost_usd, 9);
    expect(chained.restore_argv?.slice(2, 4)).toEqual(['--continue', 'sess-chain-2']);
  });

  it('says a refused mission exited with nothing to continue, and why', async () => {
    const file = writeHandoff('sess-refused', { allowed_tool_classes: ['read', 'shell'] });
    const run = await cli(['mission', 'run', file]);
    expect(run.code).toBe(1);
    const view = await session('sess-refused');
    expect(view).toMatchObject({ state: 'failed', activity: 'exited', restore_command: null });
    expect(view.activity_reason).toContain('refused before it ran');
    expect(view.summary).toContain('allowed_tool_classes');
  });
});

describe('codex-oss session on a mission in flight', () => {
  it('is active while a model call is pending, then exited once its process is killed', async () => {
    mock.reset();
    mock.script(reply().toolCall('read_file', { path: 'src/config.ts' }), reply().hang());
    const child = spawnCli(
      pkg,
      ['mission', 'run', writeHandoff('sess-live'), '--model', 'mission-a3-kimi'],
      { cwd: fixture.root, env: { ...env(), UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '600' } },
    );
    pids.track(child.child.pid);
    await mock.waitForRequests(2, 30_000);

    const live = await waitFor('the run to show its pending model call', async () => {
      const view = await session('sess-live');
      return view.state === 'waiting_upstream' ? view : undefined;
    });
    expect(live.activity).toBe('active');
    expect(live.restore_command).toBeNull();
    expect(live.summary_is_fallback).toBe(true);
    const running = await cli(['session', 'sess-live', '--project', fixture.root]);
    expect(running.stdout).toContain('Continue: not while it runs');

    process.kill(child.child.pid ?? 0, 'SIGKILL');
    await child.exited;
    const after = await session('sess-live');
    expect(after).toMatchObject({ state: 'waiting_upstream', activity: 'exited' });
    expect(after.activity_reason).toContain('gone');
    // The runtime continues only ended runs; this one ends when the next daemon start closes it.
    expect(after.restore_command).toBeNull();
    const human = await cli(['session', 'sess-live', '--project', fixture.root]);
    expect(human.stdout).toContain('the next `codex-oss up` records it as interrupted');
  }, 60_000);
});

describe('codex-oss session refuses what it cannot answer', () => {
  it('exits 1 for an unknown mission, with a JSON error under --json', async () => {
    const plain = await cli(['session', 'no-such-mission', '--project', fixture.root]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('No mission or run "no-such-mission"');
    const json = await cli(['session', 'no-such-mission', '--project', fixture.root, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'mission_not_found' } });
    const hostile = await cli(['session', '../../etc', '--project', fixture.root]);
    expect(hostile.code).toBe(1);
  });

  it('exits 2 for a missing id, a bad threshold or an empty prompt, naming the problem', async () => {
    for (const [args, text] of [
      [['session'], 'needs a mission id'],
      [['session', 'x', '--ready-threshold-ms', 'soon'], '--ready-threshold-ms'],
      [['session', 'x', '--prompt', ' '], '--prompt'],
      [['session', 'x', 'y'], 'one mission id'],
    ] as const) {
      const result = await cli([...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(text);
    }
  });
});
