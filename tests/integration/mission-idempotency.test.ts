/**
 * One mission_id, one run (PRODUCT.md §4), over real HTTP: a follow-up after a mission is a raw
 * turn, the same mission sent again (one after the other, or at the same time) runs once and bills
 * once, a different handoff under a used id is refused, and a rejection never overwrites the
 * projections of the run that owns the id.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run-cli.js';
import { reply } from '../../src/demo/index.js';
import { openRunIndex, openSpendLedger } from '../../src/store/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';

let bridge: BridgeHarness;
let project: string;

beforeEach(() => {
  project = mkdtempSync(path.join(tmpdir(), 'ocb-idem-'));
  mkdirSync(path.join(project, 'src'));
  writeFileSync(path.join(project, 'src', 'config.ts'), 'export const PORT = 4000;\n');
});
afterEach(async () => {
  await bridge.close();
  rmSync(project, { recursive: true, force: true });
});

const handoff = (mission: Record<string, unknown> = {}) =>
  `Please investigate.\n<OSS_HANDOFF_JSON>\n${JSON.stringify({
    schema_version: 'oss_agent_mission.v1',
    mission_id: 'idem-1',
    tier: 'A3',
    objective: 'Which port does the server use?',
    allowed_paths: ['src/config.ts'],
    allowed_tool_classes: ['read', 'search'],
    required_outputs: ['findings'],
    ...mission,
  })}\n</OSS_HANDOFF_JSON>`;

/** A two-call mission: read the file, then report on it (Go's cost frame on each call). */
function scriptMission(b: BridgeHarness, paceMs = 0): void {
  b.mock.script(
    reply().toolCall('read_file', { path: 'src/config.ts' }).cost(0.01).paceMs(paceMs),
    reply()
      .toolCall('submit_report', {
        status: 'COMPLETE',
        summary: 'The server listens on port 4000.',
        findings: [{ claim: 'PORT is 4000', evidence_refs: ['file:src/config.ts#L1-L1'] }],
        confidence: 'HIGH',
      })
      .cost(0.02),
  );
}

function upstreamPosts(b: BridgeHarness): number {
  return b.mock.requests.filter((recorded) => recorded.method === 'POST').length;
}

function runsOf(missionId: string) {
  const index = openRunIndex(project);
  try {
    return index.missionRuns(missionId);
  } finally {
    index.close();
  }
}

function client(b: BridgeHarness): OpenAI {
  return new OpenAI({ apiKey: BRIDGE_KEY, baseURL: b.baseURL, maxRetries: 0 });
}

describe('mission_id idempotency', () => {
  it('a plain follow-up after a mission goes to the raw lane and runs nothing again', async () => {
    bridge = await startBridge({ project });
    scriptMission(bridge);
    const openai = client(bridge);
    const first = await openai.responses.create({ model: 'ocg-kimi-k2.6', input: handoff() });
    expect(first.output_text.split('\n')[0]).toBe('Status: COMPLETE');
    expect(upstreamPosts(bridge)).toBe(2);

    bridge.mock.script(reply().text('hi'));
    const followUp = await openai.responses.create({
      model: 'ocg-kimi-k2.6',
      previous_response_id: first.id,
      input: 'Thanks. Now just say hi',
    });
    expect(followUp.output_text).toBe('hi');
    expect(upstreamPosts(bridge)).toBe(3);
    // The raw turn saw the mission turn as history, not as a mission to start again.
    const last = bridge.mock.requests.at(-1)!.body as {
      tools?: unknown;
      messages: { role: string }[];
    };
    expect(last.tools).toBeUndefined();
    expect(last.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(runsOf('idem-1')).toHaveLength(1);
  });

  it('the same mission twice in a row: one run, one bill, the same report, a replay note', async () => {
    bridge = await startBridge({ project });
    scriptMission(bridge);
    const openai = client(bridge);
    const first = await openai.responses.create({ model: 'mission-a3-kimi', input: handoff() });
    const projection = readFileSync(
      path.join(project, '.codex-oss', 'missions', 'idem-1', 'report.json'),
      'utf8',
    );
    const notes: string[] = [];
    const stream = openai.responses.stream({ model: 'mission-a3-kimi', input: handoff() });
    stream.on('response.reasoning_summary_text.delta', (event) => notes.push(event.delta));
    const second = await stream.finalResponse();

    expect(second.output_text).toBe(first.output_text);
    expect(
      notes.some((note) => /^Replay: mission idem-1 already finished in run /.test(note)),
    ).toBe(true);
    expect(second.usage?.total_tokens).toBe(0);
    expect(upstreamPosts(bridge)).toBe(2);
    const runs = runsOf('idem-1');
    expect(runs).toHaveLength(1);
    expect(runs[0]?.cost_usd).toBeCloseTo(0.03, 6);
    const ledger = openSpendLedger(project);
    try {
      const billed = ledger.entriesSince(0).reduce((sum, entry) => sum + entry.usd, 0);
      expect(billed).toBeCloseTo(0.03, 6);
    } finally {
      ledger.close();
    }
    // The projections are still the first run's, byte for byte.
    expect(
      readFileSync(path.join(project, '.codex-oss', 'missions', 'idem-1', 'report.json'), 'utf8'),
    ).toBe(projection);
  });

  it('the same mission twice at once: the second follows the first, one run, identical reports', async () => {
    bridge = await startBridge({ project });
    scriptMission(bridge, 30);
    const openai = client(bridge);
    const [a, b] = await Promise.all([
      openai.responses.create({ model: 'mission-a3-kimi', input: handoff() }),
      openai.responses.create({
        model: 'mission-a3-kimi',
        input: `Generate a short title for this conversation:\n${handoff()}`,
      }),
    ]);
    expect(a.output_text.split('\n')[0]).toBe('Status: COMPLETE');
    expect(b.output_text).toBe(a.output_text);
    expect(upstreamPosts(bridge)).toBe(2);
    expect(runsOf('idem-1')).toHaveLength(1);
  });

  it('a different handoff under a used mission_id is refused with mission_id_conflict', async () => {
    bridge = await startBridge({ project });
    scriptMission(bridge);
    const openai = client(bridge);
    await openai.responses.create({ model: 'mission-a3-kimi', input: handoff() });
    const projection = readFileSync(
      path.join(project, '.codex-oss', 'missions', 'idem-1', 'run_record.json'),
      'utf8',
    );
    const other = await openai.responses.create({
      model: 'mission-a3-kimi',
      input: handoff({ objective: 'Which host does the server use?' }),
    });
    expect(other.output_text.split('\n')[0]).toBe('Status: FAILED');
    expect(other.output_text).toContain('mission_id_conflict');
    // An invalid handoff under the same id is rejected, and filed under its own run id.
    const invalid = await openai.responses.create({
      model: 'mission-a3-kimi',
      input: handoff({ tier: 'A9' }),
    });
    expect(invalid.output_text.split('\n')[0]).toBe('Status: FAILED');
    expect(upstreamPosts(bridge)).toBe(2);
    expect(runsOf('idem-1')).toHaveLength(1);
    expect(
      readFileSync(
        path.join(project, '.codex-oss', 'missions', 'idem-1', 'run_record.json'),
        'utf8',
      ),
    ).toBe(projection);
  });
});

describe('OpenCode Go plan windows', () => {
  it("a mission whose max_cost_usd exceeds the window's remainder is refused before any upstream call", async () => {
    bridge = await startBridge({ project, env: { PLAN_LIMITS_JSON: '{"five_hour":1}' } });
    const ledger = openSpendLedger(project);
    const spentAt = Date.now() - 3600_000;
    ledger.record({ model: 'kimi-k2.6', usd: 0.9, at: spentAt });
    ledger.close();

    const openai = client(bridge);
    const answer = await openai.responses.create({
      model: 'mission-a3-kimi',
      input: handoff({ mission_id: 'costly', max_cost_usd: 0.5 }),
    });
    expect(answer.output_text.split('\n')[0]).toBe('Status: FAILED');
    expect(answer.output_text).toContain('plan_window_exhausted');
    expect(answer.output_text).toContain('5-hour window has $0.10 left of $1.00');
    // The 0.90 spent an hour ago ages out of the 5-hour window 4 hours from now.
    expect(answer.output_text).toMatch(/frees up in (3 h 59 min|4 h)/);
    expect(upstreamPosts(bridge)).toBe(0);

    const health = (await (
      await fetch(`${bridge.url}/health`, { headers: { authorization: `Bearer ${BRIDGE_KEY}` } })
    ).json()) as { plan_windows: { name: string; spent_usd: number; left_usd: number }[] };
    expect(health.plan_windows).toEqual([
      expect.objectContaining({ name: 'five_hour', spent_usd: 0.9, left_usd: 0.1 }),
    ]);

    // The CLI reads the same ledger without the daemon.
    let out = '';
    const io = {
      stdout: { write: (chunk: string) => ((out += chunk), true) },
      stderr: { write: () => true },
      env: { PLAN_LIMITS_JSON: '{"five_hour":1,"week":30}' },
      cwd: project,
    } as unknown as Parameters<typeof runCli>[1];
    expect(await runCli(['usage', '--windows', '--project', project], io)).toBe(0);
    expect(out).toMatch(/^5-hour\s+\$1\.00\s+\$0\.9000\s+\$0\.1000\s+in (3 h 59 min|4 h)/m);
    expect(out).toMatch(/^weekly\s+\$30\.00\s+\$0\.9000\s+\$29\.1000/m);
  });
});
