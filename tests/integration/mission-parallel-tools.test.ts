import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { conversation, reply, type RecordedRequest } from '../../src/demo/index.js';
import { readEventLog, runsDir, type MissionEvent } from '../../src/events/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';
import { createFixtureProject, handoff, type FixtureProject } from '../support/mission-fixtures.js';

/**
 * Faster missions (issue 9): the model may request several independent reads in one turn. They
 * run together, and each is numbered, recorded, counted and checked as if it ran alone.
 */

let fixture: FixtureProject;
let bridge: BridgeHarness;
beforeAll(async () => {
  fixture = createFixtureProject();
  bridge = await startBridge({ project: fixture.root });
});
afterAll(async () => {
  await bridge.close();
  rmSync(path.dirname(fixture.root), { recursive: true, force: true });
});
beforeEach(() => bridge.mock.reset());

const report = (refs: string[]) =>
  reply().toolCall('submit_report', {
    status: 'COMPLETE',
    summary: 'The server listens on 127.0.0.1:4000.',
    findings: [{ claim: 'PORT is 4000 and HOST is 127.0.0.1', evidence_refs: refs }],
    confidence: 'HIGH',
  });

async function runMission(
  missionId: string,
  extra: Record<string, unknown> = {},
): Promise<{ text: string; events: MissionEvent[] }> {
  const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
  const response = await client.responses.create({
    model: 'mission-a3-kimi',
    input: handoff({ mission_id: missionId, ...extra }),
  });
  const runs = runsDir(fixture.root);
  for (const runId of readdirSync(runs)) {
    const { events } = await readEventLog(path.join(runs, runId, 'events.jsonl'));
    const admitted = events[0]?.payload as { mission_id?: string } | undefined;
    if (admitted?.mission_id === missionId) return { text: response.output_text, events };
  }
  throw new Error(`no run of ${missionId}`);
}

const ofType = (events: MissionEvent[], type: string) =>
  events.filter((event) => event.type === type).map((event) => event.payload);

function chatBody(request: RecordedRequest | undefined): {
  messages: { role: string; content: unknown; tool_call_id?: string }[];
  tools: unknown[];
  parallel_tool_calls?: boolean;
} {
  return request?.body as never;
}

describe('several tool calls in one model turn', () => {
  it('runs them in one turn, records each, and answers each under its own call id in order', async () => {
    bridge.mock.script(
      reply()
        .toolCall('read_file', { path: 'src/config.ts' }, { id: 'call_a' })
        .toolCall('read_file', { path: 'src/server.ts' }, { id: 'call_b' })
        .toolCall('search_text', { pattern: 'PORT', path: 'src/' }, { id: 'call_c' }),
      report(['file:src/config.ts#L2-L3', 'file:src/server.ts#L1-L1']),
    );
    const { text, events } = await runMission('par-record');
    expect(text).toMatch(/^Status: COMPLETE/);
    const requests = bridge.mock.requests.filter((r) => r.path.endsWith('/chat/completions'));
    expect(requests).toHaveLength(2);

    // Every call is numbered and recorded: all three admitted before any result was committed.
    const order = events
      .filter((event) => event.type.startsWith('tool.'))
      .map((event) => `${event.type}:${String(event.payload['call'])}`);
    expect(order).toEqual([
      'tool.requested:1',
      'tool.requested:2',
      'tool.requested:3',
      'tool.completed:1',
      'tool.completed:2',
      'tool.completed:3',
    ]);
    expect(ofType(events, 'tool.completed').map((p) => p['tool'])).toEqual([
      'read_file',
      'read_file',
      'search_text',
    ]);
    const completed = events.find((event) => event.type === 'run.completed');
    expect(completed?.payload).toMatchObject({ status: 'COMPLETE', totals: { tool_calls: 3 } });

    // The second turn carries the three answers, in the model's order, each under its own id.
    const second = chatBody(requests[1]);
    const answers = second.messages.filter((message) => message.role === 'tool');
    expect(answers.map((message) => message.tool_call_id)).toEqual(['call_a', 'call_b', 'call_c']);
    expect(String(answers[0]?.content)).toContain('file:src/config.ts');
    expect(String(answers[1]?.content)).toContain('file:src/server.ts');
    expect(String(answers[2]?.content)).toMatch(/match/);
    expect(chatBody(requests[0]).parallel_tool_calls).toBe(true);
    // The prompt cache's prefix: system prompt, brief and tools byte-identical across turns.
    const first = chatBody(requests[0]);
    expect(JSON.stringify(second.tools)).toBe(JSON.stringify(first.tools));
    expect(JSON.stringify(second.messages.slice(0, 2))).toBe(
      JSON.stringify(first.messages.slice(0, 2)),
    );
    expect(JSON.stringify(first.messages[0])).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  });

  it('enforces the tool and file budgets across one batch: the calls past them are refused', async () => {
    bridge.mock.script(
      reply()
        .toolCall('read_file', { path: 'src/config.ts' })
        .toolCall('read_file', { path: 'src/server.ts' })
        .toolCall('read_file', { path: 'src/keys.ts' })
        .toolCall('list_dir', { path: 'src/' }),
      report(['file:src/config.ts#L2-L3']),
    );
    const { events } = await runMission('par-files', { max_files_to_inspect: 1 });
    const completed = ofType(events, 'tool.completed');
    const denied = ofType(events, 'tool.denied');
    // As one call per turn would have it: once the one file slot is taken, exploration stops.
    expect(completed.map((p) => p['path'])).toEqual(['src/config.ts']);
    expect(denied.map((p) => [p['call'], p['reason_code']])).toEqual([
      [2, 'budget_exhausted'],
      [3, 'budget_exhausted'],
      [4, 'budget_exhausted'],
    ]);

    bridge.mock.reset();
    bridge.mock.script(
      reply()
        .toolCall('read_file', { path: 'src/config.ts' })
        .toolCall('read_file', { path: 'src/server.ts' })
        .toolCall('list_dir', { path: 'src/' })
        .toolCall('search_text', { pattern: 'HOST', path: 'src/' }),
      report(['file:src/config.ts#L2-L3']),
    );
    const budget = await runMission('par-budget', { tool_budget: 2 });
    expect(ofType(budget.events, 'tool.completed')).toHaveLength(2);
    expect(ofType(budget.events, 'tool.denied').map((p) => p['reason_code'])).toEqual([
      'budget_exhausted',
      'budget_exhausted',
    ]);
    // Never more executed than the budget, whatever the batch asked for.
    expect(
      ofType(budget.events, 'tool.completed').filter((p) => p['cache_hit'] === false),
    ).toHaveLength(2);
  });

  it('a refused call in a batch does not stop the others; a repeat in the batch is a cache hit', async () => {
    bridge.mock.script(
      reply()
        .toolCall('read_file', { path: 'package.json' }, { id: 'call_env' })
        .toolCall('read_file', { path: 'src/config.ts' }, { id: 'call_cfg' })
        .toolCall('read_file', { path: 'src/escape/private.txt' }, { id: 'call_escape' })
        .toolCall('read_file', { path: 'src/config.ts' }, { id: 'call_again' })
        .toolCall('search_text', { pattern: 'listen', path: 'src/' }, { id: 'call_s' }),
      report(['file:src/config.ts#L2-L3']),
    );
    const { text, events } = await runMission('par-denials');
    expect(text).toMatch(/^Status: COMPLETE/);
    const denied = ofType(events, 'tool.denied').map((p) => p['reason_code']);
    expect(denied).toHaveLength(2);
    const completed = ofType(events, 'tool.completed');
    expect(completed.map((p) => [p['tool'], p['cache_hit']])).toEqual([
      ['read_file', false],
      ['search_text', false],
      ['read_file', true],
    ]);
    const second = bridge.mock.requests.filter((r) => r.path.endsWith('/chat/completions'))[1];
    const answers = conversation(second!).filter((turn) => turn.role === 'tool');
    expect(answers.map((turn) => turn.toolCallId)).toEqual([
      'call_env',
      'call_cfg',
      'call_escape',
      'call_again',
      'call_s',
    ]);
    expect(answers[0]?.text).toContain('[REFUSED');
    expect(answers[1]?.text).toContain('PORT = 4000');
    expect(answers[2]?.text).toContain('[REFUSED');
    expect(answers[2]?.text).not.toContain('PRIVATE-OUTSIDE-CONTENT');
    expect(answers[3]?.text).toContain('PORT = 4000');
    expect(answers[4]?.text).toContain('src/server.ts');
  });
});

describe('the forced final turn keeps the prompt-cache prefix', () => {
  it('repeats the previous request byte for byte (tools and messages) and appends only the forcing instruction', async () => {
    bridge.mock.script(
      reply().toolCall('read_file', { path: 'src/config.ts' }, { id: 'call_1' }),
      reply().toolCall('read_file', { path: 'src/server.ts' }, { id: 'call_2' }),
      report(['file:src/config.ts#L2-L3']),
    );
    const { text, events } = await runMission('forced-prefix', { tool_budget: 2 });
    expect(text).toMatch(/^Status: COMPLETE/);
    expect(ofType(events, 'model.requested').map((p) => p['forced_final'])).toEqual([
      false,
      false,
      true,
    ]);
    const requests = bridge.mock.requests.filter((r) => r.path.endsWith('/chat/completions'));
    expect(requests).toHaveLength(3);
    const previous = requests[1]?.body as Record<string, unknown> & ReturnType<typeof chatBody>;
    const forced = requests[2]?.body as Record<string, unknown> & ReturnType<typeof chatBody>;

    // The tools open the cached prefix: the same array, byte for byte, though only the report runs.
    expect(JSON.stringify(forced.tools)).toBe(JSON.stringify(previous.tools));
    // Then the whole earlier transcript, unchanged, followed by what the last turn added: the
    // model's call, its result and, last, the instruction to finish.
    const earlier = previous.messages.length;
    expect(JSON.stringify(forced.messages.slice(0, earlier))).toBe(
      JSON.stringify(previous.messages),
    );
    const added = forced.messages.slice(earlier);
    expect(added.map((message) => message.role)).toEqual(['assistant', 'tool', 'user']);
    expect(added[1]?.tool_call_id).toBe('call_2');
    expect(String(added[2]?.content)).toMatch(/Call submit_report now/);
    // Only tool_choice (not part of the cached prompt on Chat) forces the report.
    expect(previous['tool_choice']).toBe('auto');
    expect(forced['tool_choice']).toEqual({
      type: 'function',
      function: { name: 'submit_report' },
    });
  });
});
