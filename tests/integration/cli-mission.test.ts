import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import { reply, startMockUpstream, type MockUpstream } from '../../src/demo/index.js';
import { readEventLog } from '../../src/events/index.js';
import { createFixtureProject, handoff, type FixtureProject } from '../support/mission-fixtures.js';

const root = path.resolve(import.meta.dirname, '../..');
let mock: MockUpstream;
let fixture: FixtureProject;

async function cli(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    env: {
      UPSTREAM_BASE: mock.baseUrl,
      OPENCODE_GO_API_KEY: 'sk-upstream-test',
      LOG_LEVEL: 'warn',
      ...env,
    },
    cwd: fixture.root,
  });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  mock = await startMockUpstream();
  fixture = createFixtureProject();
});
afterAll(async () => mock.close());

describe('codex-oss mission template / compile / validate-handoff', () => {
  it('prints a template that validates, for every tier', async () => {
    for (const tier of ['A2', 'A3', 'A4', 'A5', 'A6']) {
      const template = await cli(['mission', 'template', '--tier', tier, '--handoff']);
      expect(template.code).toBe(0);
      writeFileSync(path.join(fixture.root, 'template.md'), template.stdout);
      const checked = await cli(['validate-handoff', 'template.md']);
      expect(checked.stdout, tier).toMatch(new RegExp(`^VALID: mission_\\w+ \\(${tier},`));
    }
  });

  it('names the field and why for an invalid handoff, and exits 1', async () => {
    writeFileSync(
      path.join(fixture.root, 'bad.md'),
      handoff({ tier: 'A3', allowed_tool_classes: ['read', 'shell'] }),
    );
    const checked = await cli(['validate-handoff', 'bad.md']);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toContain('INVALID (invalid_mission)');
    expect(checked.stdout).toContain('invalid_mission: allowed_tool_classes[1]:');
  });

  it('compiles from flags and refuses what the schema refuses', async () => {
    const good = await cli([
      'mission',
      'compile',
      '--objective',
      'Where is PORT set?',
      '--allowed-root',
      'src/',
      '--max-cost-usd',
      '0.05',
    ]);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({
      tier: 'A3',
      objective: 'Where is PORT set?',
      allowed_roots: ['src/'],
      max_cost_usd: 0.05,
    });
    const bad = await cli([
      'mission',
      'compile',
      '--objective',
      'x',
      '--tier',
      'A3',
      '--risk-tier',
      'extreme',
      '--allowed-root',
      'src/',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid_mission: risk_tier:');
    const usage = await cli(['mission', 'compile']);
    expect(usage.code).toBe(2);
  });
});

/** Runs one COMPLETE mission through the CLI (no daemon); each test makes the runs it reads. */
async function runCompleteMission(missionId: string) {
  const file = `handoff-${missionId}.md`;
  writeFileSync(path.join(fixture.root, file), handoff({ mission_id: missionId }));
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
  return cli(['mission', 'run', file, '--model', 'mission-a3-kimi']);
}

describe('codex-oss mission run and the run inspection verbs', () => {
  it('runs a mission without any daemon and prints the report, progress on stderr', async () => {
    const run = await runCompleteMission('cli-run-1');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('Status: COMPLETE');
    expect(run.stderr).toContain("I'm reading src/config.ts.");
  });

  it('lists the run, its usage, trace, summary and explanation, and audits it', async () => {
    const missionId = 'cli-inspect-1';
    expect((await runCompleteMission(missionId)).code).toBe(0);
    const runs = await cli(['runs', '--json']);
    const row = (
      JSON.parse(runs.stdout) as {
        mission_id: string;
        status: string;
        total_tokens: number;
        cost_usd: number;
      }[]
    ).find((entry) => entry.mission_id === missionId);
    expect(row).toMatchObject({ status: 'COMPLETE', total_tokens: 4720 });
    // 1500 uncached + 500 cached + 100 out, then 2500 + 120, at kimi-k2.6's prices per million.
    const expected = (1500 * 0.95 + 500 * 0.16 + 100 * 4 + 2500 * 0.95 + 120 * 4) / 1e6;
    expect(row?.cost_usd).toBeCloseTo(expected, 9);

    const usage = await cli(['usage', '--json']);
    expect(
      (JSON.parse(usage.stdout) as { by_model: { model: string }[] }).by_model.map(
        (entry) => entry.model,
      ),
    ).toContain('kimi-k2.6');

    const trace = await cli(['show-trace', missionId]);
    expect(trace.stdout).toContain('tool.completed');
    expect(trace.stdout).toContain('file:src/config.ts#L1-L4');

    const summary = await cli(['show-summary', missionId]);
    expect(summary.code).toBe(0);
    expect(summary.stdout).toContain('COMPLETE');

    const explain = await cli(['explain', missionId]);
    expect(explain.stdout).toContain(`Mission ${missionId}`);
    expect(explain.stdout).toContain('Why: valid_report');

    const audit = await cli(['audit-mission', missionId]);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toContain('Audit passed');
  });

  it('fails the audit, naming the event, when one line of the log is tampered with', async () => {
    const missionId = 'cli-tamper-1';
    expect((await runCompleteMission(missionId)).code).toBe(0);
    const explain = JSON.parse((await cli(['explain', missionId, '--json'])).stdout) as {
      run_id: string;
    };
    const log = path.join(fixture.root, '.codex-oss', 'runs', explain.run_id, 'events.jsonl');
    const original = readFileSync(log, 'utf8');
    const tampered = original.replace('"PORT = 4000"', '"PORT = 8080"');
    expect(tampered).not.toBe(original);
    writeFileSync(log, tampered);
    const audit = await cli(['audit-mission', missionId]);
    expect(audit.code).toBe(1);
    expect(audit.stdout).toMatch(/FAIL .*hash_mismatch at seq \d+/);
    writeFileSync(log, original);
    expect((await cli(['audit-mission', missionId])).code).toBe(0);
  });

  it('rebuilds the index from the logs', async () => {
    expect((await runCompleteMission('cli-reindex-1')).code).toBe(0);
    const reindex = await cli(['reindex', '--json']);
    expect(reindex.code).toBe(0);
    expect((JSON.parse(reindex.stdout) as { indexed: number }).indexed).toBeGreaterThanOrEqual(1);
  });

  it('exits 3 for a PARTIAL mission and 1 for a rejected one', async () => {
    writeFileSync(path.join(fixture.root, 'prose.md'), handoff({ mission_id: 'cli-partial' }));
    mock.script(reply().text('prose'), reply().text('more prose'));
    expect((await cli(['mission', 'run', 'prose.md'])).code).toBe(3);
    writeFileSync(path.join(fixture.root, 'none.md'), 'no block here');
    const rejected = await cli(['mission', 'run', 'none.md']);
    expect(rejected.code).toBe(1);
    expect(rejected.stdout).toContain('missing_handoff');
  });
});

describe('a daemon killed with SIGKILL in the middle of a mission', () => {
  let daemon: ChildProcess | undefined;
  afterAll(() => {
    if (daemon?.pid && daemon.exitCode === null && daemon.signalCode === null)
      process.kill(daemon.pid, 'SIGKILL');
  });

  it('leaves a log whose chain verifies up to its last complete line, torn tail reported', async () => {
    const missionId = 'killed-mid-run';
    mock.reset();
    mock.script(reply().toolCall('read_file', { path: 'src/config.ts' }), reply().hang());
    let port: number;
    ({ child: daemon, port } = await spawnDaemon({ UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '600' }));
    await waitFor(
      async () =>
        (
          await fetch(`http://127.0.0.1:${port}/health`, {
            headers: { authorization: 'Bearer sk-local-codex-bridge' },
          }).catch(() => undefined)
        )?.ok === true,
    );
    const request = fetch(`http://127.0.0.1:${port}/v1/responses`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer sk-local-codex-bridge',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model: 'mission-a3-kimi',
        stream: true,
        input: handoff({ mission_id: missionId }),
      }),
    }).catch(() => undefined);
    // The second model call hangs: the run is now waiting on the upstream, mid-mission.
    await mock.waitForRequests(2, 20_000);
    process.kill(daemon.pid ?? 0, 'SIGKILL');
    await new Promise((resolve) => daemon?.once('exit', resolve));
    await request;

    const explain = JSON.parse((await cli(['explain', missionId, '--json'])).stdout) as {
      run_id: string;
      state: string;
      chain_ok: boolean;
    };
    expect(explain.chain_ok).toBe(true);
    expect(explain.state).toBe('waiting_upstream');
    const log = path.join(fixture.root, '.codex-oss', 'runs', explain.run_id, 'events.jsonl');
    const intact = await readEventLog(log);
    expect(intact.chainErrors).toEqual([]);
    expect(intact.events.map((event) => event.type)).toContain('tool.completed');

    // A write cut short by the kill leaves a partial last line; simulate the byte-level tear.
    writeFileSync(
      log,
      `${readFileSync(log, 'utf8')}{"schema":"mission_event.v1","run_id":"${explain.run_id}","seq":`,
    );
    const torn = await readEventLog(log);
    expect(torn.chainErrors).toEqual([]);
    expect(torn.events).toHaveLength(intact.events.length);
    expect(torn.tornTail).toMatchObject({ lineNumber: intact.events.length + 1 });
    const audit = await cli(['audit-mission', missionId]);
    expect(audit.code).toBe(1);
    expect(audit.stdout).toMatch(/torn/i);
    const trace = await cli(['show-trace', missionId]);
    expect(trace.stdout).toContain('torn last line');

    // The next daemon on this project closes the run as interrupted, setting the torn line aside.
    ({ child: daemon, port } = await spawnDaemon());
    const recovered = await waitForValue(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/v1/missions/${missionId}`, {
        headers: { authorization: 'Bearer sk-local-codex-bridge' },
      }).catch(() => undefined);
      const view = response?.ok
        ? ((await response.json()) as { state: string; status: string; reason: string })
        : undefined;
      return view && view.state !== 'waiting_upstream' ? view : undefined;
    });
    expect(recovered).toMatchObject({
      state: 'completed',
      status: 'PARTIAL',
      reason: 'interrupted',
    });
    // Recovery runs in the background after the daemon listens: the run is closed in its log
    // first, its projections rendered right after, so the audit is polled until they are there.
    const after = await waitForValue(async () => {
      const result = await cli(['audit-mission', missionId]);
      return result.stdout.includes('Audit passed') ? result : undefined;
    });
    expect(after.stdout).toContain('Audit passed');
    process.kill(daemon.pid ?? 0, 'SIGTERM');
    await new Promise((resolve) => daemon?.once('exit', resolve));
  }, 90_000);
});

/**
 * The real CLI's foreground daemon on this fixture, talking to the mock upstream. It listens on
 * port 0 and the port is read from its listening line, so no port is picked and released first.
 */
async function spawnDaemon(
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [path.join(root, 'bin', 'codex-oss'), 'up', '--port', '0', '--project', fixture.root],
    {
      env: {
        ...process.env,
        UPSTREAM_BASE: mock.baseUrl,
        OPENCODE_GO_API_KEY: 'sk-upstream-test',
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const port = await waitForValue(() => {
    const match = /opencode-bridge listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
    return Promise.resolve(match?.[1] === undefined ? undefined : Number(match[1]));
  });
  return { child, port };
}

async function waitForValue<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('condition not met in time');
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('condition not met in time');
}

describe('the inspection verbs refuse bad input and never plant state', () => {
  it('rejects a bad --limit, --state or --since with exit 2, naming the flag', async () => {
    for (const [args, flag] of [
      [['runs', '--limit', 'abc'], '--limit'],
      [['runs', '--state', 'bogus'], '--state'],
      [['usage', '--since', 'yesterday'], '--since'],
    ] as const) {
      const result = await cli([...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(flag);
    }
  });

  it('says a directory has no mission state, points at --project, and creates nothing', async () => {
    const { mkdtempSync, readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const empty = mkdtempSync(path.join(tmpdir(), 'ocb-empty-'));
    for (const verb of ['runs', 'usage', 'reindex']) {
      const result = await cli([verb, '--project', empty]);
      expect(result.code, verb).toBe(1);
      expect(result.stderr).toContain('Pass --project PATH');
    }
    expect(readdirSync(empty)).toEqual([]);
  });
});

describe('codex-oss install', () => {
  it('sets a project up once, and keeps what is already there', async () => {
    const { mkdtempSync, statSync, existsSync, readFileSync: read } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const target = mkdtempSync(path.join(tmpdir(), 'ocb-install-'));
    const first = await cli(['install', '--project', target]);
    expect(first.code).toBe(0);
    expect(existsSync(path.join(target, '.codex', 'agents', 'oss-kimi-investigator.toml'))).toBe(
      true,
    );
    expect(read(path.join(target, '.codex', 'config.toml'), 'utf8')).toContain(
      '[model_providers.opencode_bridge]',
    );
    expect(statSync(path.join(target, '.codex-oss', 'env', 'opencode-go.env')).mode & 0o777).toBe(
      0o600,
    );
    expect(read(path.join(target, '.gitignore'), 'utf8')).toContain('.codex-oss/');
    const second = await cli(['install', '--project', target]);
    expect(second.stdout).toContain('(kept; --force to overwrite)');
    expect(
      read(path.join(target, '.codex', 'config.toml'), 'utf8').match(
        /\[model_providers\.opencode_bridge\]/g,
      ),
    ).toHaveLength(1);
  });
});
