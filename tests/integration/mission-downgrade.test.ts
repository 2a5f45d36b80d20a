import { rmSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reply, type RecordedRequest } from '../../src/demo/index.js';
import { readEventLog, type MissionEvent } from '../../src/events/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';
import { createFixtureProject, handoff, type FixtureProject } from '../support/mission-fixtures.js';

// mission-a3-kimi runs on kimi-k2.6 (tier 5); its A3 chain is deepseek-v4-pro (tier 5), then
// deepseek-v4-flash (tier 3). The raw id kimi-k2.6 has the same chain in the table.
const PRIMARY = 'kimi-k2.6';
const SAME_TIER = 'deepseek-v4-pro';
const LOWER_TIER = 'deepseek-v4-flash';

const forModel =
  (id: string) =>
  (request: RecordedRequest): boolean =>
    (request.body as { model?: unknown } | undefined)?.model === id;

const modelsCalled = (bridge: BridgeHarness): string[] =>
  bridge.mock.requests
    .filter((request) => request.method === 'POST')
    .map((request) => String((request.body as { model?: unknown }).model));

const report = () =>
  reply().toolCall('submit_report', {
    status: 'COMPLETE',
    summary: 'The server listens on 127.0.0.1:4000.',
    findings: [
      { claim: 'PORT is 4000 and HOST is 127.0.0.1', evidence_refs: ['file:src/config.ts#L2-L3'] },
    ],
    confidence: 'HIGH',
  });

let fixture: FixtureProject;
let bridge: BridgeHarness;
let counter = 0;

beforeAll(() => {
  fixture = createFixtureProject();
});
// A fresh daemon per test: the circuit breaker remembers the failures an earlier test scripted.
beforeEach(async () => {
  // No retries: each model gets exactly one attempt, so the calls seen upstream are the chain.
  bridge = await startBridge({ project: fixture.root, env: { UPSTREAM_RETRIES: '0' } });
});
afterEach(async () => bridge.close());
afterAll(() => rmSync(path.dirname(fixture.root), { recursive: true, force: true }));

async function runMission(mission: Record<string, unknown>): Promise<{
  text: string;
  commentary: string[];
  events: MissionEvent[];
}> {
  counter += 1;
  const missionId = `downgrade-${counter}`;
  const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
  const stream = client.responses.stream({
    model: 'mission-a3-kimi',
    input: handoff({ mission_id: missionId, ...mission }),
  });
  const commentary: string[] = [];
  stream.on('response.reasoning_summary_text.delta', (event) => commentary.push(event.delta));
  const final = await stream.finalResponse();
  const detail = (await (
    await fetch(`${bridge.url}/v1/missions/${missionId}`, {
      headers: { authorization: `Bearer ${BRIDGE_KEY}` },
    })
  ).json()) as { run_id: string };
  const log = await readEventLog(
    path.join(fixture.root, '.codex-oss', 'runs', detail.run_id, 'events.jsonl'),
  );
  return { text: final.output_text, commentary, events: log.events };
}

const admitted = (events: readonly MissionEvent[]) =>
  events.find((event) => event.type === 'run.admitted')?.payload as
    { fallback_chain: string[]; fallbacks_refused: string[] } | undefined;

describe('no silent downgrade (decision 0004)', () => {
  it('a mission whose primary and same-tier fallback fail never calls the lower-tier model', async () => {
    bridge.mock.script(
      reply().status(503).when(forModel(PRIMARY)).times(5),
      reply().status(503).when(forModel(SAME_TIER)).times(5),
      reply().toolCall('submit_report', {}).when(forModel(LOWER_TIER)).times(5),
    );
    const run = await runMission({});

    const called = modelsCalled(bridge);
    expect(called).toContain(PRIMARY);
    expect(called).toContain(SAME_TIER);
    expect(called).not.toContain(LOWER_TIER);

    expect(admitted(run.events)).toMatchObject({
      fallback_chain: [SAME_TIER],
      fallbacks_refused: [LOWER_TIER],
    });
    // The user is told what was left out and why.
    const note = run.commentary.find((line) => line.includes('left out'));
    expect(note).toContain(LOWER_TIER);
    expect(note).toContain('allow_capability_downgrade');
    expect(run.text.split('\n')[0]).not.toBe('Status: COMPLETE');
  });

  it('with allow_capability_downgrade the lower-tier fallback is called and answers', async () => {
    bridge.mock.script(
      reply().status(503).when(forModel(PRIMARY)).times(5),
      reply().status(503).when(forModel(SAME_TIER)).times(5),
      reply().toolCall('read_file', { path: 'src/config.ts' }).when(forModel(LOWER_TIER)),
      report().when(forModel(LOWER_TIER)),
    );
    const run = await runMission({ allow_capability_downgrade: true });

    const called = modelsCalled(bridge);
    expect(called.slice(0, 3)).toEqual([PRIMARY, SAME_TIER, LOWER_TIER]);
    expect(admitted(run.events)).toMatchObject({
      fallback_chain: [SAME_TIER, LOWER_TIER],
      fallbacks_refused: [],
    });
    expect(run.commentary.some((line) => line.includes('left out'))).toBe(false);
    expect(run.text.split('\n')[0]).toBe('Status: COMPLETE');
    expect(run.text).toContain(LOWER_TIER);
  });

  it('the raw lane never falls back to a lower tier', async () => {
    bridge.mock.script(
      reply().status(503).when(forModel(PRIMARY)).times(5),
      reply().status(503).when(forModel(SAME_TIER)).times(5),
      reply().text('weaker model answered').when(forModel(LOWER_TIER)).times(5),
    );
    const response = await fetch(`${bridge.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BRIDGE_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: PRIMARY, input: 'hello', stream: false }),
    });
    const body = await response.text();
    expect(response.status).toBe(502);
    expect(body).toContain('upstream_error');
    expect(body).not.toContain('weaker model answered');
    expect(modelsCalled(bridge)).toEqual([PRIMARY, SAME_TIER]);
  });
});
