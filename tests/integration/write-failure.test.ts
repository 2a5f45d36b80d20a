import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { reply, startMockUpstream } from '../../src/demo/index.js';
import { auditMission, readEventLog, runsDir } from '../../src/events/index.js';
import { createServices } from '../../src/app/index.js';
import { runCli } from '../../src/cli/index.js';
import { createLogger } from '../../src/log/index.js';
import { recoverRuns } from '../../src/runtime/recover-runs.js';
import { openRunIndex } from '../../src/store/index.js';
import {
  BRIDGE_KEY,
  parseSse,
  startBridge,
  type BridgeHarness,
} from '../support/bridge-harness.js';
import { startMcp, structured, textOf } from '../support/mcp-harness.js';
import { createFixtureProject, handoff, type FixtureProject } from '../support/mission-fixtures.js';

/**
 * Issue 9, Medium #5: a write error of the event log must end the run with a recorded reason
 * that the client gets too; the HTTP answer, `/v1/missions/:id` and `mission run` agree.
 */

/**
 * A disk that starts refusing writes once a line of `trigger` type is written: the first failing
 * write lands half its bytes (a torn line), then fails with `code`. `persistent` keeps every
 * later write failing (a full disk); otherwise only that one write fails (a transient EIO).
 */
class FailingDisk {
  failures = 0;
  private failing = false;

  constructor(
    private readonly trigger: string,
    private readonly code: 'ENOSPC' | 'EIO',
    private readonly persistent: boolean,
  ) {}

  readonly openFile = async (file: string, flags: 'a' | 'ax'): Promise<FileHandle> => {
    const real = await open(file, flags);
    return new Proxy(real, {
      get: (target, property, receiver) => {
        if (property === 'write') {
          return async (buffer: Buffer, offset: number, length: number) => {
            const chunk = buffer.subarray(offset, offset + length);
            const hits = chunk.toString('utf8').includes(`"type":"${this.trigger}"`);
            if (this.failing || hits) {
              const first = !this.failing && this.failures === 0;
              this.failing = this.persistent;
              this.failures += 1;
              if (first) await target.write(chunk, 0, Math.floor(chunk.length / 2));
              if (first || this.persistent) throw errno(this.code);
            }
            return target.write(buffer, offset, length);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
  };
}

function errno(code: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: simulated by the test`);
  error.code = code;
  return error;
}

const missionReplies = () => [
  reply().toolCall('read_file', { path: 'src/config.ts' }),
  reply().toolCall('submit_report', {
    status: 'COMPLETE',
    summary: 'The port is 4000.',
    findings: [{ claim: 'PORT is 4000', evidence_refs: ['file:src/config.ts#L2-L2'] }],
    confidence: 'HIGH',
  }),
];
const scriptMission = (bridge: BridgeHarness) => bridge.mock.script(...missionReplies());

/** One mission request to the daemon, as a client sends it. */
function postMission(bridge: BridgeHarness, input: string, stream: boolean): Promise<Response> {
  return fetch(`${bridge.baseURL}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BRIDGE_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mission-a3-kimi', input, stream }),
  });
}

async function missionRecord(bridge: BridgeHarness, id: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${bridge.url}/v1/missions/${id}`, {
    headers: { authorization: `Bearer ${BRIDGE_KEY}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

let fixture: FixtureProject | undefined;
let bridge: BridgeHarness | undefined;
afterEach(async () => {
  await bridge?.close();
  bridge = undefined;
  if (fixture) rmSync(path.dirname(fixture.root), { recursive: true, force: true });
  fixture = undefined;
});

describe('a write error of the event log ends the run with a reason the client gets', () => {
  it('a transient EIO: the reason is recorded in the log, and the JSON answer and /v1/missions/:id agree', async () => {
    fixture = createFixtureProject();
    const disk = new FailingDisk('tool.completed', 'EIO', false);
    bridge = await startBridge({ project: fixture.root, openLogFile: disk.openFile });
    scriptMission(bridge);
    const response = await postMission(bridge, handoff({ mission_id: 'wf-eio' }), false);
    expect(disk.failures).toBe(1);
    // The mission ended on the runtime's terms: a completed response carrying the FAILED answer.
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      status: string;
      output: { content?: { text: string }[] }[];
    };
    expect(body.status).toBe('completed');
    const text = body.output
      .flatMap((item) => item.content ?? [])
      .map((c) => c.text)
      .join('\n');
    expect(text).toMatch(/^Status: FAILED/);
    expect(text).toContain('event_log_write_failed');
    expect(text).toContain('EIO');

    const record = await missionRecord(bridge, 'wf-eio');
    expect(record).toMatchObject({
      state: 'failed',
      status: 'FAILED',
      reason: 'event_log_write_failed',
    });
    expect(String(record['reason_text'])).toContain('EIO');
    // The log itself holds the reason: the torn half line was set aside and the chain continues.
    const runId = String(record['run_id']);
    const runDir = path.join(runsDir(fixture.root), runId);
    const log = await readEventLog(path.join(runDir, 'events.jsonl'));
    expect(log.chainErrors).toEqual([]);
    expect(log.tornTail).toBeNull();
    expect(log.events.at(-1)).toMatchObject({
      type: 'run.completed',
      payload: { status: 'FAILED', reason: 'event_log_write_failed' },
    });
    expect(readdirSync(runDir).some((name) => name.startsWith('events.jsonl.torn-'))).toBe(true);
    const audit = await auditMission(fixture.root, 'wf-eio');
    expect(audit.ok, JSON.stringify(audit)).toBe(true);
  }, 60_000);

  it('a full disk: the stream ends response.completed with the reason, the index says the same, and recovery writes it to the log', async () => {
    fixture = createFixtureProject();
    const disk = new FailingDisk('tool.completed', 'ENOSPC', true);
    bridge = await startBridge({ project: fixture.root, openLogFile: disk.openFile });
    scriptMission(bridge);
    const response = await postMission(bridge, handoff({ mission_id: 'wf-full' }), true);
    const events = parseSse(await response.text());
    const terminal = events.filter((event) =>
      ['response.completed', 'response.failed', 'response.incomplete'].includes(
        String(event['type']),
      ),
    );
    expect(terminal.map((event) => event['type'])).toEqual(['response.completed']);
    const answer = events
      .filter((event) => event['type'] === 'response.output_text.done')
      .map((event) => String(event['text']))
      .join('\n');
    expect(answer).toMatch(/^Status: FAILED/);
    expect(answer).toContain('event_log_write_failed');
    expect(answer).toContain('ENOSPC');
    // Nothing more reached the disk (the reopened log failed too), but the index has the reason.
    expect(disk.failures).toBeGreaterThan(1);
    const record = await missionRecord(bridge, 'wf-full');
    expect(record).toMatchObject({ status: 'FAILED', reason: 'event_log_write_failed' });
    const runId = String(record['run_id']);
    const logPath = path.join(runsDir(fixture.root), runId, 'events.jsonl');
    expect((await readEventLog(logPath)).events.some((e) => e.type === 'run.completed')).toBe(
      false,
    );
    await bridge.close();
    bridge = undefined;

    // The next start (space freed): recovery closes the log with the reason the client was told.
    const index = openRunIndex(fixture.root);
    try {
      const report = await recoverRuns({
        projectRoot: fixture.root,
        index,
        logger: createLogger('silent'),
        isActive: () => false,
      });
      expect(report.closed).toEqual([runId]);
      expect(index.getRun(runId)).toMatchObject({
        status: 'FAILED',
        reason: 'event_log_write_failed',
      });
    } finally {
      index.close();
    }
    const closed = (await readEventLog(logPath)).events.at(-1);
    expect(closed).toMatchObject({
      type: 'run.completed',
      payload: { status: 'FAILED', reason: 'event_log_write_failed' },
    });
    expect(String((closed?.payload as { reason_text?: unknown }).reason_text)).toContain('ENOSPC');
  }, 60_000);

  it('mission run (the runtime it drives) returns the FAILED outcome instead of throwing', async () => {
    fixture = createFixtureProject();
    const mock = await startMockUpstream();
    mock.script(...missionReplies());
    const disk = new FailingDisk('report.validated', 'ENOSPC', true);
    const config = loadConfig({
      cwd: fixture.root,
      env: {
        UPSTREAM_BASE: mock.baseUrl,
        OPENCODE_GO_API_KEY: 'sk-upstream-test-key',
        CODEX_OSS_PROJECT: fixture.root,
        LOG_LEVEL: 'silent',
      },
    });
    // The same composition `codex-oss mission run` uses, with the failing disk injected.
    const services = createServices({
      config,
      logger: createLogger('silent'),
      openLogFile: disk.openFile,
    });
    try {
      const outcome = await services.missions.execute({
        userTexts: [handoff({ mission_id: 'wf-cli' })],
        model: 'mission-a3-kimi',
        missionAlias: (() => {
          const decision = services.registry.resolve('mission-a3-kimi');
          return decision.lane === 'managed' ? decision.mission : undefined;
        })(),
        signal: new AbortController().signal,
      });
      expect(outcome.status).toBe('FAILED');
      expect(outcome.finalText).toContain('event_log_write_failed');
      expect(outcome.record).toMatchObject({ status: 'FAILED', reason: 'event_log_write_failed' });
      const row = await services.missions.get('wf-cli');
      expect(row).toMatchObject({ status: 'FAILED', reason: 'event_log_write_failed' });
    } finally {
      await services.close();
      await mock.close();
    }
  }, 60_000);
});

describe('a log that cannot be opened ends as run_log_unwritable, and nothing of the run is kept', () => {
  const runFolders = (root: string) =>
    existsSync(runsDir(root)) && statSync(runsDir(root)).isDirectory()
      ? readdirSync(runsDir(root))
      : [];

  async function recoveryReport(root: string) {
    const index = openRunIndex(root);
    try {
      return await recoverRuns({
        projectRoot: root,
        index,
        logger: createLogger('silent'),
        isActive: () => false,
      });
    } finally {
      index.close();
    }
  }

  it('a full disk at the first line: the stream fails with the code and the errno, no model call, no folder left', async () => {
    fixture = createFixtureProject();
    const disk = new FailingDisk('run.admitted', 'ENOSPC', true);
    bridge = await startBridge({ project: fixture.root, openLogFile: disk.openFile });
    scriptMission(bridge);
    const response = await postMission(bridge, handoff({ mission_id: 'wf-open-full' }), true);
    const events = parseSse(await response.text());
    const failed = events.filter((event) => event['type'] === 'response.failed');
    expect(failed).toHaveLength(1);
    const error = (failed[0]?.['response'] as { error: { code: string; message: string } }).error;
    // invalid_prompt: Codex shows the message instead of retrying a disk that keeps refusing.
    expect(error.code).toBe('invalid_prompt');
    expect(error.message).toMatch(/^The event log of run run_\S+ could not be created/);
    expect(error.message).toContain('ENOSPC');
    expect(error.message).toContain('Free disk space');
    // The torn half of the admission line was written, then the folder was removed again.
    expect(disk.failures).toBeGreaterThan(0);
    expect(runFolders(fixture.root)).toEqual([]);
    expect(bridge.mock.requests.filter((r) => r.path.endsWith('/chat/completions'))).toEqual([]);
    const record = await fetch(`${bridge.url}/v1/missions/wf-open-full`, {
      headers: { authorization: `Bearer ${BRIDGE_KEY}` },
    });
    expect(record.status).toBe(404);

    // The same failure, asked without a stream: the catalogue status and code.
    const json = await postMission(bridge, handoff({ mission_id: 'wf-open-full-2' }), false);
    expect(json.status).toBe(507);
    const body = (await json.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('run_log_unwritable');
    expect(body.error.message).toContain('ENOSPC');
    expect(runFolders(fixture.root)).toEqual([]);
    await bridge.close();
    bridge = undefined;
    expect(await recoveryReport(fixture.root)).toMatchObject({ closed: [], skipped: [] });
  }, 60_000);

  it('a rejected runs path (a file where the folder should be): HTTP, mission run and the MCP tool all get the code', async () => {
    fixture = createFixtureProject();
    mkdirSync(path.join(fixture.root, '.codex-oss'), { recursive: true });
    writeFileSync(runsDir(fixture.root), 'not a folder\n');
    bridge = await startBridge({ project: fixture.root });
    scriptMission(bridge);
    const response = await postMission(bridge, handoff({ mission_id: 'wf-open-path' }), false);
    expect(response.status).toBe(507);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('run_log_unwritable');
    expect(body.error.message).toContain('ENOTDIR');
    expect(body.error.message).toContain('plain directory');
    // An invalid mission is recorded as a rejection, which needs the log too: same answer.
    const rejected = await postMission(bridge, 'no handoff here', false);
    expect(rejected.status).toBe(507);
    expect(((await rejected.json()) as { error: { code: string } }).error.code).toBe(
      'run_log_unwritable',
    );
    expect(bridge.mock.requests.filter((r) => r.path.endsWith('/chat/completions'))).toEqual([]);
    await bridge.close();
    bridge = undefined;

    // `codex-oss mission run`, in process as a user runs it.
    const mock = await startMockUpstream();
    try {
      mock.script(...missionReplies());
      writeFileSync(path.join(fixture.root, 'handoff.md'), handoff({ mission_id: 'wf-open-cli' }));
      let stdout = '';
      let stderr = '';
      const code = await runCli(['mission', 'run', 'handoff.md', '--model', 'mission-a3-kimi'], {
        stdout: { write: (chunk: string) => (stdout += chunk) },
        stderr: { write: (chunk: string) => (stderr += chunk) },
        env: {
          UPSTREAM_BASE: mock.baseUrl,
          OPENCODE_GO_API_KEY: 'sk-upstream-test',
          LOG_LEVEL: 'silent',
        },
        cwd: fixture.root,
      });
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(stderr).toContain(
        'codex-oss mission run: failed: run_log_unwritable: The event log of run ',
      );
      expect(stderr).toContain('ENOTDIR');
      expect(stderr).not.toContain('This is a bug');

      // The MCP tool, through the real `codex-oss mcp` process.
      const mcp = await startMcp(fixture.root, mock);
      try {
        const result = await mcp.client.callTool({
          name: 'opencode',
          arguments: { prompt: 'Where is PORT set?', context_paths: ['src'] },
        });
        expect(result.isError).toBe(true);
        expect(structured(result)).toMatchObject({ error: { code: 'run_log_unwritable' } });
        expect(textOf(result)).toMatch(/^run_log_unwritable: The event log of run .*ENOTDIR/s);
      } finally {
        await mcp.close();
      }
      expect(mock.requests.filter((r) => r.path.endsWith('/chat/completions'))).toEqual([]);
    } finally {
      await mock.close();
    }
    expect(readFileSync(runsDir(fixture.root), 'utf8')).toBe('not a folder\n');
  }, 90_000);
});

describe('startup cleanup of what a crash or a full disk leaves in the run folders', () => {
  it('removes lock drafts, set-aside locks and empty logs of dead writers, keeps what a live writer owns', async () => {
    fixture = createFixtureProject();
    const runs = runsDir(fixture.root);
    const deadPid = 2 ** 22 + 12345; // above Linux's pid_max default: never a live process
    const oldTime = new Date(Date.now() - 3_600_000);
    // 1. A writer killed inside acquireLock: its draft and a stale lock it had renamed aside.
    const drafts = path.join(runs, 'run_drafts');
    mkdirSync(drafts, { recursive: true });
    writeFileSync(path.join(drafts, `events.lock.${deadPid}-0.tmp`), '{}');
    writeFileSync(path.join(drafts, `events.lock.stale-${deadPid}-1700000000000`), '{}');
    // An earlier daemon that had this process's pid (containers reuse pids): older than us.
    const reused = path.join(drafts, `events.lock.${process.pid}-1.tmp`);
    writeFileSync(reused, '{}');
    utimesSync(reused, oldTime, oldTime);
    // 2. A log created on a full disk that never got its first line, with its dead lock.
    const empty = path.join(runs, 'run_empty');
    mkdirSync(empty);
    writeFileSync(path.join(empty, 'events.jsonl'), '');
    writeFileSync(
      path.join(empty, 'events.lock'),
      JSON.stringify({ pid: deadPid, host: hostname() }),
    );
    // 2b. A log whose first line the disk tore (no newline), with its dead lock.
    const torn = path.join(runs, 'run_torn');
    mkdirSync(torn);
    writeFileSync(path.join(torn, 'events.jsonl'), '{"schema":"ocb.event.v1","run_id":"run_to');
    writeFileSync(
      path.join(torn, 'events.lock'),
      JSON.stringify({ pid: deadPid, host: hostname() }),
    );
    // 3. A live writer's files (this process, made now): left alone.
    const live = path.join(runs, 'run_live');
    mkdirSync(live);
    writeFileSync(path.join(live, 'events.jsonl'), '');
    writeFileSync(
      path.join(live, 'events.lock'),
      JSON.stringify({ pid: process.pid, host: hostname() }),
    );
    writeFileSync(path.join(live, `events.lock.${process.pid}-0.tmp`), '{}');

    const index = openRunIndex(fixture.root);
    try {
      const report = await recoverRuns({
        projectRoot: fixture.root,
        index,
        logger: createLogger('silent'),
        isActive: () => false,
      });
      expect(report.leftoversRemoved.sort()).toEqual(
        [
          `run_drafts/events.lock.${deadPid}-0.tmp`,
          `run_drafts/events.lock.stale-${deadPid}-1700000000000`,
          `run_drafts/events.lock.${process.pid}-1.tmp`,
          'run_empty/events.jsonl',
          'run_empty/events.lock',
          'run_torn/events.jsonl',
          'run_torn/events.lock',
        ].sort(),
      );
    } finally {
      index.close();
    }
    expect(readdirSync(drafts)).toEqual([]);
    expect(existsSync(empty)).toBe(false);
    expect(existsSync(torn)).toBe(false);
    expect(readdirSync(live).sort()).toEqual(
      ['events.jsonl', 'events.lock', `events.lock.${process.pid}-0.tmp`].sort(),
    );
    expect(readFileSync(path.join(live, 'events.lock'), 'utf8')).toContain(String(process.pid));
  });
});
