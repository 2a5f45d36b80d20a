import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply } from '../../src/demo/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';
import {
  a5Mission,
  BUG,
  cli,
  editDiscount,
  handoffText,
  makeDiscountRepo,
  runEvents,
  submit,
  workspaceHash,
} from '../support/implementation-lane.js';
import { createFixtureProject, type FixtureProject } from '../support/mission-fixtures.js';

/**
 * Continuation (PRODUCT.md §6.3) over HTTP and the CLI, against the real daemon: a follow-up
 * run starts from the earlier report and its evidence, re-read by the runtime in the earlier
 * scope, with its own budgets; what cannot be continued is refused before any model call.
 */

let fixture: FixtureProject;
let bridge: BridgeHarness;
let counter = 0;
const nextId = (label: string) => `cont-${label}-${++counter}`;

beforeAll(async () => {
  fixture = createFixtureProject();
  bridge = await startBridge({ project: fixture.root, env: { UPSTREAM_RETRIES: '0' } });
});
afterAll(async () => {
  await bridge.close();
  rmSync(path.dirname(fixture.root), { recursive: true, force: true });
});

function mission(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema_version: 'oss_agent_mission.v1',
    mission_id: id,
    tier: 'A3',
    objective: 'Which port does the server use?',
    allowed_paths: ['src/config.ts', 'src/server.ts'],
    allowed_tool_classes: ['read', 'search'],
    required_outputs: ['findings'],
    tool_budget: 4,
    ...extra,
  };
}

const handoff = (body: Record<string, unknown>) =>
  `Go on.\n<OSS_HANDOFF_JSON>\n${JSON.stringify(body)}\n</OSS_HANDOFF_JSON>`;

const reportPort = (claim = 'PORT is 4000') =>
  reply().toolCall('submit_report', {
    status: 'COMPLETE',
    summary: 'The server listens on port 4000.',
    findings: [{ claim, evidence_refs: ['file:src/config.ts#L2-L2'] }],
    confidence: 'HIGH',
  });

async function send(body: Record<string, unknown>): Promise<string> {
  const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
  const response = await client.responses.create({
    model: 'mission-a3-kimi',
    input: handoff(body),
  });
  return response.output_text;
}

async function detail(missionId: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${bridge.url}/v1/missions/${missionId}`, {
    headers: { authorization: `Bearer ${BRIDGE_KEY}` },
  });
  return (await response.json()) as Record<string, unknown>;
}

/** An earlier run that read src/config.ts and reported the port. */
async function earlierRun(): Promise<string> {
  const id = nextId('first');
  bridge.mock.reset();
  bridge.mock.script(reply().toolCall('read_file', { path: 'src/config.ts' }), reportPort());
  const text = await send(mission(id));
  expect(text.split('\n')[0]).toBe('Status: COMPLETE');
  return id;
}

const requestText = (index: number) => JSON.stringify(bridge.mock.requests[index]?.body ?? null);

describe('continuation over HTTP', () => {
  it('answers a follow-up from the earlier evidence, without the model re-reading it', async () => {
    const first = await earlierRun();
    const firstRun = String((await detail(first))['run_id']);
    const followId = nextId('follow');
    bridge.mock.reset();
    // The model reports at once: only evidence the runtime carried over can back its finding.
    bridge.mock.script(reportPort('PORT is still 4000'));
    const text = await send(
      mission(followId, { continues: first, objective: 'Is the port still 4000?' }),
    );
    expect(text.split('\n')[0]).toBe('Status: COMPLETE');
    expect(text).toContain(`Continues: mission ${first} (run ${firstRun})`);
    expect(bridge.mock.requests).toHaveLength(1);
    // The model's first request holds the earlier answer and the re-read file.
    expect(requestText(0)).toContain(`continues mission ${first}`);
    expect(requestText(0)).toContain('The server listens on port 4000.');
    expect(requestText(0)).toContain('export const PORT = 4000;');
    expect(requestText(0)).toContain('unchanged since');

    const followRun = String((await detail(followId))['run_id']);
    const events = await runEvents(fixture.root, followRun);
    const admitted = events[0];
    expect(admitted?.type).toBe('run.admitted');
    expect(admitted?.payload['continues']).toEqual({
      mission_id: first,
      run_id: firstRun,
      status: 'COMPLETE',
      head_hash: (await runEvents(fixture.root, firstRun)).at(-1)?.hash,
    });
    // The carried read is the runtime's, recorded as any call, and it spent no budget.
    const carried = events.filter((event) => event.type === 'tool.requested');
    expect(carried.map((event) => [event.source, event.payload['tool']])).toEqual([
      ['runtime', 'read_file'],
    ]);
    expect(
      events.some((event) => event.type === 'tool.requested' && event.source === 'model'),
    ).toBe(false);
    const record = await detail(followId);
    expect(record['continues']).toEqual({ mission_id: first, run_id: firstRun });
  });

  it('says so when a carried file changed since the earlier run', async () => {
    const first = await earlierRun();
    const file = path.join(fixture.root, 'src', 'config.ts');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('4000', '4100'));
    try {
      bridge.mock.reset();
      bridge.mock.script(reportPort('PORT is now 4100'));
      const followId = nextId('changed');
      const text = await send(mission(followId, { continues: first }));
      expect(text.split('\n')[0]).toBe('Status: COMPLETE');
      expect(requestText(0)).toContain('CHANGED since the earlier run');
      expect(requestText(0)).toContain('export const PORT = 4100;');
      const events = await runEvents(fixture.root, String((await detail(followId))['run_id']));
      const said = events
        .filter((event) => event.type === 'commentary.emitted')
        .map((event) => String(event.payload['message']));
      expect(said.some((line) => /changed: read_file src\/config\.ts/.test(line))).toBe(true);
    } finally {
      writeFileSync(file, original);
    }
  });

  it('carries only reads that succeeded: a failed one is not re-run, one that fails now stays out of the brief', async () => {
    const temp = `src/temp-${++counter}.ts`;
    const tempFile = path.join(fixture.root, temp);
    writeFileSync(tempFile, 'export const TEMP_MARKER = 17;\n');
    const first = nextId('failed-reads');
    bridge.mock.reset();
    bridge.mock.script(
      reply()
        .toolCall('read_file', { path: 'src/config.ts' })
        .toolCall('read_file', { path: 'src/missing.ts' })
        .toolCall('read_file', { path: temp }),
      reportPort(),
    );
    const scope = { allowed_paths: ['src/config.ts', 'src/missing.ts', temp] };
    expect((await send(mission(first, scope))).split('\n')[0]).toBe('Status: COMPLETE');
    const firstEvents = await runEvents(fixture.root, String((await detail(first))['run_id']));
    const summaries = firstEvents
      .filter((event) => event.type === 'tool.completed')
      .map((event) => String(event.payload['summary']));
    expect(summaries[1]).toMatch(/^read_file failed: /);
    rmSync(tempFile);

    bridge.mock.reset();
    bridge.mock.script(reportPort('PORT is still 4000'));
    const followId = nextId('follow-failed');
    const text = await send(mission(followId, { ...scope, continues: first }));
    expect(text.split('\n')[0]).toBe('Status: COMPLETE');
    const brief = requestText(0);
    expect(brief).toContain('export const PORT = 4000;');
    // The read that failed then was not re-run, and is nowhere in the brief.
    expect(brief).not.toContain('read_file src/missing.ts');
    expect(brief).not.toMatch(/not_found|does not exist|no such file/i);
    // The one that fails now is named as no longer readable, without its error as evidence.
    expect(brief).toContain(`These earlier reads fail now`);
    expect(brief).toContain(`read_file ${temp}`);
    expect(brief).not.toContain(`Carried from the earlier run (read_file ${temp}`);
    expect(brief).toContain('(1 of 2 reads, 1 unchanged)');
    const events = await runEvents(fixture.root, String((await detail(followId))['run_id']));
    expect(
      events
        .filter((event) => event.type === 'tool.requested')
        .map((event) => [event.source, event.payload['args']]),
    ).toEqual([
      ['runtime', { path: 'src/config.ts' }],
      ['runtime', { path: temp }],
    ]);
    const said = events
      .filter((event) => event.type === 'commentary.emitted')
      .map((event) => String(event.payload['message']));
    expect(said.some((line) => line.includes(`changed: read_file ${temp} (now fails)`))).toBe(true);
  });

  it('keeps its own budgets: carried reads do not spend the tool budget', async () => {
    const first = await earlierRun();
    bridge.mock.reset();
    // A one-call budget: the carried read is free, so the model's own read still runs.
    bridge.mock.script(reply().toolCall('read_file', { path: 'src/server.ts' }), reportPort());
    const followId = nextId('budget');
    const text = await send(mission(followId, { continues: first, tool_budget: 1 }));
    expect(text.split('\n')[0]).toBe('Status: COMPLETE');
    const events = await runEvents(fixture.root, String((await detail(followId))['run_id']));
    expect(events.filter((event) => event.type === 'tool.denied')).toEqual([]);
    expect(
      events
        .filter((event) => event.type === 'tool.completed')
        .map((event) => event.payload['path']),
    ).toEqual(['src/config.ts', 'src/server.ts']);
  });

  it.each([
    [
      'an unknown mission',
      () => ({ continues: 'no-such-mission' }),
      'continuation_not_found',
      /no run of mission "no-such-mission" in this project/,
    ],
    [
      'itself',
      () => ({ continues: 'cont-self' }),
      'continuation_refused',
      /cannot continue itself/,
    ],
  ])('refuses to continue %s before any model call', async (_label, extra, code, message) => {
    bridge.mock.reset();
    const id = _label === 'itself' ? 'cont-self' : nextId('bad');
    const text = await send(mission(id, extra()));
    expect(text.split('\n')[0]).toBe('Status: FAILED');
    expect(text).toContain(`(${code})`);
    expect(text).toMatch(message);
    expect(bridge.mock.requests).toHaveLength(0);
  });

  it('refuses a continuation that reaches outside the earlier scope', async () => {
    const first = await earlierRun();
    bridge.mock.reset();
    const text = await send(
      mission(nextId('wide'), {
        continues: first,
        allowed_paths: ['src/config.ts', 'src/auth/token.ts'],
      }),
    );
    expect(text.split('\n')[0]).toBe('Status: FAILED');
    expect(text).toContain('(continuation_refused)');
    expect(text).toContain('src/auth/token.ts lies outside the scope of mission');
    expect(bridge.mock.requests).toHaveLength(0);
  });

  it('refuses to continue a run whose event log does not verify', async () => {
    const first = await earlierRun();
    const runId = String((await detail(first))['run_id']);
    const log = path.join(fixture.root, '.codex-oss', 'runs', runId, 'events.jsonl');
    writeFileSync(log, readFileSync(log, 'utf8').replace('"tier":"A3"', '"tier":"A2"'));
    bridge.mock.reset();
    const text = await send(mission(nextId('tampered'), { continues: first }));
    expect(text).toContain('(continuation_refused)');
    expect(text).toMatch(/does not verify \(hash_mismatch at seq 0/);
    expect(bridge.mock.requests).toHaveLength(0);
  });

  it("refuses another project's mission", async () => {
    const first = await earlierRun();
    const other = mkdtempSync(path.join(tmpdir(), 'cont-other-'));
    const elsewhere = await startBridge({ project: other, env: { UPSTREAM_RETRIES: '0' } });
    try {
      const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: elsewhere.baseURL, maxRetries: 0 });
      const response = await client.responses.create({
        model: 'mission-a3-kimi',
        input: handoff(mission('cont-elsewhere', { continues: first })),
      });
      expect(response.output_text).toContain('(continuation_not_found)');
      expect(response.output_text).toContain(`in this project (${other})`);
      expect(elsewhere.mock.requests).toHaveLength(0);
    } finally {
      await elsewhere.close();
      rmSync(other, { recursive: true, force: true });
    }
  });
});

describe('continuation from the CLI', () => {
  it('mission run --continue starts from the earlier run', async () => {
    const first = await earlierRun();
    bridge.mock.reset();
    bridge.mock.script(reportPort());
    const file = path.join(fixture.root, '..', 'follow.md');
    const followId = nextId('cli');
    writeFileSync(file, handoff(mission(followId)));
    const result = await cli(
      fixture.root,
      ['mission', 'run', file, '--continue', first, '--project', fixture.root],
      { UPSTREAM_BASE: bridge.mock.baseUrl, OPENCODE_GO_API_KEY: 'sk-upstream-test-key' },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Continues: mission ${first}`);
    expect(result.stderr).toMatch(
      /Continuing mission .* the runtime re-read 1 of its 1 reads, 1 unchanged/,
    );
    expect(requestText(0)).toContain('export const PORT = 4000;');
  });

  it('mission run --continue with a malformed id is a clear error', async () => {
    bridge.mock.reset();
    const file = path.join(fixture.root, '..', 'follow-bad.md');
    writeFileSync(file, handoff(mission(nextId('cli-bad'))));
    const result = await cli(
      fixture.root,
      ['mission', 'run', file, '--continue', '../../etc', '--project', fixture.root],
      { UPSTREAM_BASE: bridge.mock.baseUrl, OPENCODE_GO_API_KEY: 'sk-upstream-test-key' },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('is not a mission id');
    expect(bridge.mock.requests).toHaveLength(0);
  });
});

describe('continuation into the implementation lane', () => {
  it('an A5 mission continues an A3 investigation, its evidence re-read in the isolated copy', async () => {
    const repo = makeDiscountRepo();
    const lane = await startBridge({ project: repo, env: { UPSTREAM_RETRIES: '0' } });
    try {
      const investigation = {
        schema_version: 'oss_agent_mission.v1',
        mission_id: 'cont-a3-discount',
        tier: 'A3',
        objective: 'Why does applyDiscount give the wrong price?',
        allowed_paths: ['src/discount.mjs', 'test/discount.test.mjs'],
        allowed_tool_classes: ['read', 'search'],
        required_outputs: ['findings'],
      };
      lane.mock.script(
        reply().toolCall('read_file', { path: 'src/discount.mjs' }),
        reply().toolCall('submit_report', {
          status: 'COMPLETE',
          summary: 'applyDiscount subtracts the percentage as an amount.',
          findings: [
            { claim: 'It subtracts percent', evidence_refs: ['file:src/discount.mjs#L2-L2'] },
          ],
          confidence: 'HIGH',
        }),
      );
      const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: lane.baseURL, maxRetries: 0 });
      const first = await client.responses.create({
        model: 'mission-a3-kimi',
        input: handoff(investigation),
      });
      expect(first.output_text.split('\n')[0]).toBe('Status: COMPLETE');

      lane.mock.reset();
      // The implementer edits at once: the file it edits was carried, not read by the model.
      lane.mock.script(editDiscount(), submit());
      const before = workspaceHash(repo);
      const fix = await client.responses.create({
        model: 'mission-a5-deepseek',
        input: handoffText(a5Mission('cont-a5-discount', { continues: 'cont-a3-discount' })),
      });
      expect(fix.output_text.split('\n')[0]).toBe('Status: VERIFIED');
      expect(fix.output_text).toContain('Continues: mission cont-a3-discount');
      expect(JSON.stringify(lane.mock.requests[0]?.body)).toContain(BUG);
      expect(workspaceHash(repo)).toBe(before);
    } finally {
      await lane.close();
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
