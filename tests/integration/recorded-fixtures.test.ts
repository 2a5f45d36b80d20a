/**
 * The dialect claims checked against recorded upstream streams. Each tests/fixtures/*.chunks.txt
 * is an SSE body as OpenCode Go sends it, written from the traffic described in
 * shared/reference/wire-protocol.md (§5 Go's trailing cost frame, Kimi `functions.NAME:IDX` ids,
 * §6.2–6.4 `reasoning_content` and usage placements, §6.6 Messages thinking with signatures). The
 * mock replays each file byte for byte, and the daemon is driven over HTTP as Codex drives it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reply, type RecordedRequest } from '../../src/demo/index.js';
import { readEventLog, type MissionEvent } from '../../src/events/index.js';
import {
  BRIDGE_KEY,
  parseSse,
  startBridge,
  type BridgeHarness,
} from '../support/bridge-harness.js';
import { createFixtureProject, handoff, type FixtureProject } from '../support/mission-fixtures.js';

const fixtures = path.resolve(import.meta.dirname, '..', 'fixtures');
const recording = (name: string) => readFileSync(path.join(fixtures, `${name}.chunks.txt`), 'utf8');

let fixture: FixtureProject;
let bridge: BridgeHarness;
beforeAll(async () => {
  fixture = createFixtureProject();
  bridge = await startBridge({ project: fixture.root, env: { UPSTREAM_RETRIES: '0' } });
});
afterAll(async () => bridge.close());
beforeEach(() => bridge.mock.reset());

const posts = (): RecordedRequest[] =>
  bridge.mock.requests.filter((request) => request.method === 'POST');

async function streamRaw(model: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${bridge.baseURL}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BRIDGE_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, input: 'Say hello.', stream: true }),
  });
  expect(response.status).toBe(200);
  return parseSse(await response.text());
}

async function runMission(
  missionId: string,
  model: string,
): Promise<{ text: string; events: MissionEvent[] }> {
  const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
  const response = await client.responses.create({
    model,
    input: handoff({ mission_id: missionId }),
  });
  const detail = (await (
    await fetch(`${bridge.url}/v1/missions/${missionId}`, {
      headers: { authorization: `Bearer ${BRIDGE_KEY}` },
    })
  ).json()) as { run_id: string };
  const log = await readEventLog(
    path.join(fixture.root, '.codex-oss', 'runs', detail.run_id, 'events.jsonl'),
  );
  expect(log.chainErrors).toEqual([]);
  return { text: response.output_text, events: log.events };
}

const responded = (events: readonly MissionEvent[]) =>
  events
    .filter((event) => event.type === 'model.responded')
    .map(
      (event) =>
        event.payload as {
          model: string;
          upstream_cost_usd: number | null;
          cost_usd: number;
          finish_reason: string;
          usage: Record<string, number>;
        },
    );

describe('recorded Go chat streams (Kimi, DeepSeek)', () => {
  it('a Kimi mission: functions.NAME:IDX ids and reasoning_content go back upstream, the trailing cost frames are the cost', async () => {
    bridge.mock.script(
      reply().replay(recording('go-chat-kimi-k2.6-read-file')),
      reply().replay(recording('go-chat-kimi-k2.6-submit-report')),
    );
    const run = await runMission('recorded-kimi-1', 'mission-a3-kimi');
    expect(run.text.split('\n')[0]).toBe('Status: COMPLETE');
    expect(run.text).toContain('evidence: file:src/config.ts#L2-L3');

    const [first, second] = posts();
    expect(first?.path).toBe('/v1/chat/completions');
    const messages = (second?.body as { messages: Record<string, unknown>[] }).messages;
    const assistant = messages.find((message) => message['role'] === 'assistant');
    // Kimi's own id, verbatim, on the replayed call and on its result.
    expect(assistant?.['tool_calls']).toEqual([
      expect.objectContaining({
        id: 'functions.read_file:0',
        type: 'function',
        function: expect.objectContaining({
          name: 'read_file',
          arguments: expect.stringContaining('src/config.ts') as unknown,
        }) as unknown,
      }),
    ]);
    expect(messages.find((message) => message['role'] === 'tool')).toMatchObject({
      tool_call_id: 'functions.read_file:0',
    });
    // Thinking-mode models want their reasoning back on a tool-call turn (§6.3).
    expect(assistant?.['reasoning_content']).toBe(
      'The user asks which port the server uses. I should read src/config.ts.',
    );

    // The cost frame came after [DONE]; it is still read, and it is what the run is charged.
    const calls = responded(run.events);
    expect(calls.map((call) => call.upstream_cost_usd)).toEqual([0.00182, 0.0024]);
    expect(calls.map((call) => call.cost_usd)).toEqual([0.00182, 0.0024]);
    // Moonshot-style usage on the finish choice, cached tokens at the top level (§6.2, §6.4).
    expect(calls[0]?.usage).toMatchObject({
      input_tokens: 1830,
      cached_input_tokens: 1024,
      output_tokens: 41,
    });
    const completed = run.events.find((event) => event.type === 'run.completed')?.payload as {
      totals: { cost_usd: number };
    };
    expect(completed.totals.cost_usd).toBeCloseTo(0.00422, 10);
  });

  it('DeepSeek on the raw lane: reasoning, text, the separate usage chunk and the cost frame after [DONE]', async () => {
    bridge.mock.script(reply().replay(recording('go-chat-deepseek-v4-pro-text')));
    const events = await streamRaw('deepseek-v4-pro');
    const types = events.map((event) => String(event['type']));
    expect(types.filter((type) => type === 'response.failed')).toEqual([]);
    expect(types.at(-1)).toBe('response.completed');
    const text = events
      .filter((event) => event['type'] === 'response.output_text.delta')
      .map((event) => String(event['delta']))
      .join('');
    expect(text).toBe('Hello from DeepSeek.');
    const reasoning = events
      .filter((event) => event['type'] === 'response.reasoning_summary_text.delta')
      .map((event) => String(event['delta']))
      .join('');
    expect(reasoning).toBe('Short greeting; answer briefly.');
    const response = events.at(-1)?.['response'] as { usage: Record<string, unknown> };
    expect(response.usage).toMatchObject({
      input_tokens: 96,
      output_tokens: 14,
      total_tokens: 110,
      input_tokens_details: { cached_tokens: 64 },
      output_tokens_details: { reasoning_tokens: 6 },
    });
  });
});

describe('recorded Go Messages streams (MiniMax, Qwen)', () => {
  it('a MiniMax mission: thinking with its signature, a tool_use block, Zen pings with the cost', async () => {
    bridge.mock.script(
      reply().replay(recording('go-messages-minimax-m3-read-file')),
      reply().replay(recording('go-messages-minimax-m3-submit-report')),
    );
    const run = await runMission('recorded-minimax-1', 'mission-a3-minimax-m3');
    expect(run.text.split('\n')[0]).toBe('Status: COMPLETE');

    const [first, second] = posts();
    expect(first?.path).toBe('/v1/messages');
    const messages = (second?.body as { messages: { role: string; content: unknown }[] }).messages;
    const blocks = messages.flatMap((message) =>
      Array.isArray(message.content) ? (message.content as Record<string, unknown>[]) : [],
    );
    expect(blocks).toContainEqual(
      expect.objectContaining({
        type: 'tool_use',
        id: 'call_function_5q8k2n1x_1',
        name: 'read_file',
        input: { path: 'src/config.ts' },
      }),
    );
    expect(blocks).toContainEqual(
      expect.objectContaining({ type: 'tool_result', tool_use_id: 'call_function_5q8k2n1x_1' }),
    );
    // A thinking block is only valid upstream with its signature; the bridge does not replay
    // thinking at all rather than send one without it.
    expect(blocks.filter((block) => block['type'] === 'thinking')).toEqual([]);

    const calls = responded(run.events);
    expect(calls.map((call) => call.upstream_cost_usd)).toEqual([0.00031, 0.00044]);
    // Messages usage: input is the sum of plain, cache-read and cache-write tokens (§6.4).
    expect(calls[0]?.usage).toMatchObject({
      input_tokens: 2200,
      cached_input_tokens: 700,
      output_tokens: 57,
    });
  });

  it('Qwen on the raw lane: thinking becomes reasoning, the signature is swallowed, end_turn completes', async () => {
    bridge.mock.script(reply().replay(recording('go-messages-qwen3.7-plus-text')));
    const events = await streamRaw('qwen3.7-plus');
    expect(posts()[0]?.path).toBe('/v1/messages');
    expect(events.map((event) => String(event['type'])).at(-1)).toBe('response.completed');
    const reasoning = events
      .filter((event) => event['type'] === 'response.reasoning_summary_text.delta')
      .map((event) => String(event['delta']))
      .join('');
    expect(reasoning).toBe('A greeting. Reply in one line.');
    expect(JSON.stringify(events)).not.toContain('c2lnbmF0dXJlLXF3ZW4zLjctcGx1cy0wMQ==');
    const text = events
      .filter((event) => event['type'] === 'response.output_text.delta')
      .map((event) => String(event['delta']))
      .join('');
    expect(text).toBe('Hello from Qwen.');
    const response = events.at(-1)?.['response'] as { usage: Record<string, unknown> };
    expect(response.usage).toMatchObject({
      input_tokens: 128,
      output_tokens: 12,
      input_tokens_details: { cached_tokens: 32 },
    });
  });
});
