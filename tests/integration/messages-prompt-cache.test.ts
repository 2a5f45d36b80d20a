import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reply, type RecordedRequest } from '../../src/demo/index.js';
import { readEventLog, runsDir } from '../../src/events/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';
import { createFixtureProject, handoff, type FixtureProject } from '../support/mission-fixtures.js';

/**
 * Issue 9: models Go serves on Anthropic's /messages (minimax-*, qwen*) cache a prompt only up to
 * explicit `cache_control` breakpoints (decision 0009). These tests read the exact bodies the
 * mock upstream received, for the raw lane and for a mission.
 */

const EPHEMERAL = { type: 'ephemeral' };

interface MessagesBody {
  system?: Record<string, unknown>[];
  tools?: Record<string, unknown>[];
  messages: { role: string; content: Record<string, unknown>[] }[];
  [key: string]: unknown;
}

/**
 * What the provider renders, in its order (tools, system, messages), one entry per block, each
 * naming the message it sits in. `cache_control` is left out: it marks where a cache entry ends
 * and is not part of the cached bytes. `breakpoints` are the indexes of the marked blocks.
 */
function rendered(body: MessagesBody): { blocks: string[]; breakpoints: number[] } {
  const blocks: string[] = [];
  const breakpoints: number[] = [];
  const add = (where: string, block: Record<string, unknown>) => {
    const { cache_control: mark, ...rest } = block;
    if (mark !== undefined) {
      expect(mark).toEqual(EPHEMERAL);
      breakpoints.push(blocks.length);
    }
    blocks.push(`${where} ${JSON.stringify(rest)}`);
  };
  for (const tool of body.tools ?? []) add('tool', tool);
  for (const block of body.system ?? []) add('system', block);
  body.messages.forEach((message, index) => {
    for (const block of message.content) add(`message ${index} ${message.role}`, block);
  });
  return { blocks, breakpoints };
}

/** Every breakpoint of `earlier` ends a prefix that `later` repeats block for block. */
function expectStablePrefixes(earlier: MessagesBody, later: MessagesBody): void {
  const before = rendered(earlier);
  const after = rendered(later);
  expect(before.breakpoints.length).toBeGreaterThan(0);
  for (const point of before.breakpoints)
    expect(after.blocks.slice(0, point + 1)).toEqual(before.blocks.slice(0, point + 1));
  // The entry the earlier request wrote at its last breakpoint is read back by a breakpoint of
  // the later one sitting exactly there (the rolling second-to-last user turn).
  expect(after.breakpoints).toContain(before.breakpoints.at(-1));
}

const messagesBodies = (requests: RecordedRequest[]): MessagesBody[] =>
  requests.filter((r) => r.path === '/v1/messages').map((r) => r.body as MessagesBody);

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

const readFileTool = {
  type: 'function' as const,
  name: 'read_file',
  description: 'Read a file',
  parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  strict: false,
};

describe('prompt-cache breakpoints on the Messages dialect', () => {
  it('raw lane: system, last tool and the two latest user turns are marked, over stable prefixes', async () => {
    const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
    bridge.mock.script(
      reply().toolCall('read_file', { path: 'README.md' }, { id: 'toolu_01' }),
      reply().text('It is a title.').usage({
        prompt_tokens: 900,
        completion_tokens: 5,
        cached_tokens: 700,
        cache_write_tokens: 150,
      }),
    );
    const first = await client.responses.create({
      model: 'ocg-minimax-m3',
      instructions: 'You are terse.',
      input: [{ role: 'user', content: 'read the readme' }],
      tools: [readFileTool],
    });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ call_id: 'toolu_01', name: 'read_file' });
    const second = await client.responses.create({
      model: 'ocg-minimax-m3',
      instructions: 'You are terse.',
      input: [
        { role: 'user', content: 'read the readme' },
        {
          type: 'function_call',
          call_id: 'toolu_01',
          name: 'read_file',
          arguments: '{"path":"README.md"}',
        },
        { type: 'function_call_output', call_id: 'toolu_01', output: '# Title' },
        // A developer message said mid-thread must not move into (and so change) `system`.
        { role: 'developer', content: 'Answer in one line.' },
      ],
      tools: [readFileTool],
    });
    expect(second.output_text).toBe('It is a title.');
    // Messages usage (input excludes cache reads and writes) in OpenAI's terms (§6.4).
    expect(second.usage).toMatchObject({
      input_tokens: 900,
      output_tokens: 5,
      total_tokens: 905,
      input_tokens_details: { cached_tokens: 700, cache_write_tokens: 150 },
    });

    const [one, two] = messagesBodies(bridge.mock.requests);
    expect(messagesBodies(bridge.mock.requests)).toHaveLength(2);
    const tool = {
      name: 'read_file',
      description: 'Read a file',
      input_schema: readFileTool.parameters,
      cache_control: EPHEMERAL,
    };
    const system = [{ type: 'text', text: 'You are terse.', cache_control: EPHEMERAL }];
    expect(one).toEqual({
      model: 'minimax-m3',
      max_tokens: 32_000,
      stream: true,
      system,
      tools: [tool],
      messages: [
        {
          role: 'user',
          content: [{ type: 'text', text: 'read the readme', cache_control: EPHEMERAL }],
        },
      ],
    });
    expect(two).toEqual({
      model: 'minimax-m3',
      max_tokens: 32_000,
      stream: true,
      system,
      tools: [tool],
      messages: [
        {
          role: 'user',
          content: [{ type: 'text', text: 'read the readme', cache_control: EPHEMERAL }],
        },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'toolu_01', name: 'read_file', input: { path: 'README.md' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_01', content: '# Title' },
            { type: 'text', text: 'Answer in one line.', cache_control: EPHEMERAL },
          ],
        },
      ],
    });
    expectStablePrefixes(one!, two!);
  });

  it('missions: the shared conversion marks every turn, at most four breakpoints, prefixes stable', async () => {
    bridge.mock.script(
      reply()
        .toolCall('read_file', { path: 'src/config.ts' }, { id: 'toolu_a' })
        .toolCall('read_file', { path: 'src/server.ts' }, { id: 'toolu_b' }),
      reply().toolCall('list_dir', { path: 'src/' }, { id: 'toolu_c' }),
      reply().toolCall(
        'submit_report',
        {
          status: 'COMPLETE',
          summary: 'The server listens on 127.0.0.1:4000.',
          findings: [
            {
              claim: 'PORT is 4000 and HOST is 127.0.0.1',
              evidence_refs: ['file:src/config.ts#L2-L3'],
            },
          ],
          confidence: 'HIGH',
        },
        { id: 'toolu_d' },
      ),
    );
    const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
    const response = await client.responses.create({
      model: 'mission-a3-minimax-m3',
      input: handoff({ mission_id: 'cache-messages' }),
    });
    expect(response.output_text).toMatch(/^Status: COMPLETE/);
    const bodies = messagesBodies(bridge.mock.requests);
    expect(bodies).toHaveLength(3);
    for (const body of bodies) {
      const { breakpoints, blocks } = rendered(body);
      expect(breakpoints.length).toBeLessThanOrEqual(4);
      // The system prompt and the last tool definition are always marked.
      expect(body.system).toHaveLength(1);
      expect(body.system?.[0]?.['cache_control']).toEqual(EPHEMERAL);
      expect(body.tools?.at(-1)?.['cache_control']).toEqual(EPHEMERAL);
      expect(body.tools?.slice(0, -1).every((t) => t['cache_control'] === undefined)).toBe(true);
      // The last block of the conversation is marked (the newest cache entry).
      expect(breakpoints.at(-1)).toBe(blocks.length - 1);
    }
    // Third turn: system, tool, the turn that answered the two reads, the turn that answered ls.
    const third = bodies[2]!;
    expect(rendered(third).breakpoints).toHaveLength(4);
    const results = third.messages.filter((m) => m.role === 'user').slice(-2);
    expect(results.map((m) => m.content.at(-1))).toEqual([
      expect.objectContaining({ type: 'tool_result', tool_use_id: 'toolu_b' }),
      expect.objectContaining({ type: 'tool_result', tool_use_id: 'toolu_c' }),
    ]);
    expect(results.map((m) => m.content.at(-1)?.['cache_control'])).toEqual([EPHEMERAL, EPHEMERAL]);
    expectStablePrefixes(bodies[0]!, bodies[1]!);
    expectStablePrefixes(bodies[1]!, bodies[2]!);

    const runs = runsDir(fixture.root);
    const admitted = [];
    for (const runId of readdirSync(runs)) {
      const { events } = await readEventLog(path.join(runs, runId, 'events.jsonl'));
      admitted.push(events[0]?.payload['mission_id']);
    }
    expect(admitted).toContain('cache-messages');
  });
  it("a mission's forced final turn repeats the previous prefix: same tools and system, transcript extended", async () => {
    bridge.mock.script(
      reply().toolCall('read_file', { path: 'src/config.ts' }, { id: 'toolu_a' }),
      reply().toolCall(
        'submit_report',
        {
          status: 'COMPLETE',
          summary: 'PORT is 4000.',
          findings: [{ claim: 'PORT is 4000', evidence_refs: ['file:src/config.ts#L2-L2'] }],
          confidence: 'HIGH',
        },
        { id: 'toolu_b' },
      ),
    );
    const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
    const response = await client.responses.create({
      model: 'mission-a3-minimax-m3',
      input: handoff({ mission_id: 'cache-forced', tool_budget: 1 }),
    });
    expect(response.output_text).toMatch(/^Status: COMPLETE/);
    const [previous, forced] = messagesBodies(bridge.mock.requests);
    expect(messagesBodies(bridge.mock.requests)).toHaveLength(2);
    expect(JSON.stringify(forced?.tools)).toBe(JSON.stringify(previous?.tools));
    expect(JSON.stringify(forced?.system)).toBe(JSON.stringify(previous?.system));
    expectStablePrefixes(previous!, forced!);
    const last = forced?.messages.at(-1)?.content.at(-1);
    expect(last).toMatchObject({ type: 'text', cache_control: EPHEMERAL });
    expect(String(last?.['text'])).toMatch(/Call submit_report now/);
    // What forcing costs on this dialect: tool_choice changes, which Anthropic-format caches
    // count against the message blocks (tools and system still hit). See decision 0009.
    expect(previous?.['tool_choice']).toEqual({ type: 'auto' });
    expect(forced?.['tool_choice']).toEqual({
      type: 'tool',
      name: 'submit_report',
      disable_parallel_tool_use: true,
    });
  });
});
