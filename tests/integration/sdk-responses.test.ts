/**
 * Conformance of the raw lane against the official `openai` SDK, over real HTTP to a real daemon
 * in front of the scriptable mock upstream. Each streaming case is read three ways: the SDK's
 * accumulator (`finalResponse()`, which throws on any ordering mistake), the raw event list
 * checked against the canonical order (wire-protocol.md §3.3), and — where it matters — what the
 * upstream actually received.
 */
import OpenAI from 'openai';
import type {
  Response,
  ResponseCreateParamsNonStreaming,
  ResponseInput,
} from 'openai/resources/responses/responses';
import type { ResponseStreamParams } from 'openai/lib/responses/ResponseStream';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reply, type RecordedRequest } from '../../src/demo/index.js';
import {
  BRIDGE_KEY,
  parseSse,
  startBridge,
  type BridgeHarness,
} from '../support/bridge-harness.js';

const MODEL = 'ocg-kimi-k2.6';
const UPSTREAM_KEY = 'sk-upstream-test-key';
const TERMINAL = new Set(['response.completed', 'response.failed', 'response.incomplete']);

interface WireItem {
  readonly id: string;
  readonly type: string;
  readonly [key: string]: unknown;
}

interface WireUsage {
  readonly input_tokens: number;
  readonly input_tokens_details: { readonly cached_tokens: number };
  readonly output_tokens: number;
  readonly output_tokens_details: { readonly reasoning_tokens: number };
  readonly total_tokens: number;
}

interface WireResponse {
  readonly id: string;
  readonly status: string;
  readonly output: readonly WireItem[];
  readonly usage: WireUsage | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly incomplete_details: { readonly reason: string } | null;
}

interface WireEvent {
  readonly type: string;
  readonly sequence_number: number;
  readonly output_index?: number;
  readonly item_id?: string;
  readonly item?: WireItem;
  readonly response?: WireResponse;
}

interface ChatBody {
  readonly model: string;
  readonly stream?: boolean;
  readonly messages: readonly {
    readonly role: string;
    readonly content: unknown;
    readonly reasoning_content?: string;
    readonly tool_calls?: readonly { id: string; function: { name: string; arguments: string } }[];
    readonly tool_call_id?: string;
  }[];
  readonly tools?: readonly { type: string; function: { name: string; parameters: unknown } }[];
  readonly response_format?: unknown;
  readonly max_tokens?: number;
}

function checkUsage(usage: WireUsage | null): WireUsage {
  expect(usage).not.toBeNull();
  const value = usage!;
  expect(typeof value.input_tokens).toBe('number');
  expect(typeof value.output_tokens).toBe('number');
  expect(value.total_tokens).toBe(value.input_tokens + value.output_tokens);
  expect(typeof value.input_tokens_details.cached_tokens).toBe('number');
  expect(typeof value.output_tokens_details.reasoning_tokens).toBe('number');
  return value;
}

/**
 * The ordering invariants every raw-lane stream must keep: sequence numbers 0,1,2… on every
 * event (keepalives included), `response.created` first, exactly one terminal event and nothing
 * after it, every indexed event preceded by its `output_item.added` (matching item_id), and every
 * `output_item.done` held until after the last delta (wire-protocol.md finding 4).
 */
function checkStream(events: readonly WireEvent[]): WireResponse {
  events.forEach((event, index) => {
    expect(event.sequence_number, `sequence_number of event ${index} (${event.type})`).toBe(index);
  });
  expect(events[0]?.type).toBe('response.created');
  const terminals = events.filter((event) => TERMINAL.has(event.type));
  expect(terminals.map((event) => event.type)).toHaveLength(1);
  expect(events.at(-1)).toBe(terminals[0]);

  const added: string[] = [];
  const done = new Set<number>();
  let lastDelta = -1;
  let firstDone = Number.POSITIVE_INFINITY;
  events.forEach((event, index) => {
    if (event.type === 'response.output_item.added') {
      expect(event.output_index, `output_index of added item at event ${index}`).toBe(added.length);
      expect(event.item?.id).toMatch(/\S/);
      expect(added).not.toContain(event.item?.id);
      added.push(event.item?.id ?? '');
      return;
    }
    if (event.output_index !== undefined) {
      expect(
        event.output_index < added.length,
        `${event.type} at ${index} precedes its output_item.added`,
      ).toBe(true);
      if (event.item_id !== undefined) expect(event.item_id).toBe(added[event.output_index]);
    }
    if (event.type.endsWith('.delta')) lastDelta = index;
    if (event.type === 'response.output_item.done') {
      const outputIndex = event.output_index ?? -1;
      expect(event.item?.id).toBe(added[outputIndex]);
      expect(done.has(outputIndex), `second output_item.done for index ${outputIndex}`).toBe(false);
      done.add(outputIndex);
      firstDone = Math.min(firstDone, index);
    }
  });
  expect(firstDone > lastDelta, 'an output_item.done was sent before the last delta').toBe(true);

  const terminal = terminals[0]!;
  const response = terminal.response!;
  if (terminal.type === 'response.failed') {
    expect(done.size, 'a failed raw-lane stream must not mark partial items done').toBe(0);
    expect(response.output).toEqual([]);
  } else {
    expect(done.size).toBe(added.length);
    expect(response.output.map((item) => item.id)).toEqual(added);
    checkUsage(response.usage);
  }
  return response;
}

let bridge: BridgeHarness;
let client: OpenAI;

beforeAll(async () => {
  bridge = await startBridge({ env: { SSE_KEEPALIVE_SECONDS: '0.2' } });
  client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
});
afterAll(async () => bridge.close());
beforeEach(() => bridge.mock.reset());

/** Streams through the SDK: every raw event (checked) and the accumulator's final response. */
async function sdkStream(
  params: ResponseStreamParams,
): Promise<{ events: WireEvent[]; final: Response; checked: WireResponse }> {
  const stream = client.responses.stream(params);
  const events: WireEvent[] = [];
  for await (const event of stream) events.push(event as unknown as WireEvent);
  const final = await stream.finalResponse();
  const checked = checkStream(events);
  expect(final.id).toBe(checked.id);
  expect(final.status).toBe(checked.status);
  return { events, final, checked };
}

function sdkCreate(params: Omit<ResponseCreateParamsNonStreaming, 'stream'>): Promise<Response> {
  return client.responses.create({ ...params, stream: false });
}

function upstreamCalls(path = '/v1/chat/completions'): (RecordedRequest & { body: ChatBody })[] {
  return bridge.mock.requests.filter(
    (recorded): recorded is RecordedRequest & { body: ChatBody } =>
      recorded.method === 'POST' && recorded.path === path,
  );
}

function lastUpstreamBody(path?: string): ChatBody {
  const calls = upstreamCalls(path);
  expect(calls.length).toBeGreaterThan(0);
  return calls.at(-1)!.body;
}

function upstreamToolNames(body: ChatBody): string[] {
  return (body.tools ?? []).map((tool) => tool.function.name);
}

const readFileTool = {
  type: 'function' as const,
  name: 'read_file',
  description: 'Read a file',
  parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  strict: false,
};

describe('plain text', () => {
  it('streams a text answer that the SDK accumulates, with mapped usage', async () => {
    bridge.mock.script(
      reply()
        .text('Hello from the bridge')
        .chunkSize(5)
        .usage({ prompt_tokens: 11, completion_tokens: 7, cached_tokens: 3, reasoning_tokens: 2 }),
    );
    const { events, final } = await sdkStream({ model: MODEL, input: 'hi' });
    expect(final.output_text).toBe('Hello from the bridge');
    expect(
      events.filter((event) => event.type === 'response.output_text.delta').length,
    ).toBeGreaterThan(1);
    expect(final.usage).toEqual({
      input_tokens: 11,
      input_tokens_details: { cached_tokens: 3 },
      output_tokens: 7,
      output_tokens_details: { reasoning_tokens: 2 },
      total_tokens: 18,
    });
    expect(lastUpstreamBody().stream).toBe(true);
  });

  it('answers stream:false with one JSON response', async () => {
    bridge.mock.script(
      reply().text('One JSON answer').usage({ prompt_tokens: 5, completion_tokens: 3 }),
    );
    const response = await sdkCreate({ model: MODEL, input: 'hi' });
    expect(response.object).toBe('response');
    expect(response.status).toBe('completed');
    expect(response.output_text).toBe('One JSON answer');
    expect(response.output).toHaveLength(1);
    expect(response.output[0]).toMatchObject({
      type: 'message',
      role: 'assistant',
      status: 'completed',
    });
    expect(checkUsage(response.usage as WireUsage | null)).toMatchObject({
      input_tokens: 5,
      output_tokens: 3,
      total_tokens: 8,
    });
  });

  it('serves the /responses alias too', async () => {
    bridge.mock.script(reply().text('via alias'));
    const aliasClient = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.url, maxRetries: 0 });
    const response = await aliasClient.responses.create({ model: MODEL, input: 'hi' });
    expect(response.output_text).toBe('via alias');
  });
});

describe('tool calls', () => {
  it('turns two parallel upstream tool calls into two function_call items with full arguments', async () => {
    bridge.mock.script(
      reply()
        .toolCall('read_file', { path: 'src/a.ts' }, { id: 'call_alpha' })
        .toolCall('read_file', { path: 'src/b/long/path.ts' }, { id: 'call_beta' })
        .chunkSize(3),
    );
    const { events, final } = await sdkStream({
      model: MODEL,
      input: 'read both',
      tools: [readFileTool],
      parallel_tool_calls: true,
    });
    const calls = final.output.filter((item) => item.type === 'function_call');
    expect(calls).toHaveLength(2);
    expect(
      calls.map((call) => [call.call_id, call.name, JSON.parse(call.arguments) as unknown]),
    ).toEqual([
      ['call_alpha', 'read_file', { path: 'src/a.ts' }],
      ['call_beta', 'read_file', { path: 'src/b/long/path.ts' }],
    ]);
    // Arguments stream as deltas, several per call.
    expect(
      events.filter((event) => event.type === 'response.function_call_arguments.delta').length,
    ).toBeGreaterThan(4);
    const argsDone = events.filter(
      (event) => event.type === 'response.function_call_arguments.done',
    );
    expect(argsDone).toHaveLength(2);
    expect(upstreamToolNames(lastUpstreamBody())).toEqual(['read_file']);

    bridge.mock.script(
      reply()
        .toolCall('read_file', { path: 'x' }, { id: 'call_x' })
        .toolCall('read_file', { path: 'y' }, { id: 'call_y' }),
    );
    const json = await sdkCreate({ model: MODEL, input: 'read both', tools: [readFileTool] });
    expect(
      json.output.map((item) =>
        item.type === 'function_call' ? [item.call_id, item.arguments] : item.type,
      ),
    ).toEqual([
      ['call_x', '{"path":"x"}'],
      ['call_y', '{"path":"y"}'],
    ]);
  });

  it('orders reasoning, text and a tool call from one reply as three items', async () => {
    bridge.mock.script(
      reply()
        .reasoning('check the file first')
        .text('Let me read it.')
        .toolCall('read_file', { path: 'a.md' }, { id: 'call_mixed' })
        .chunkSize(6),
    );
    const { final } = await sdkStream({ model: MODEL, input: 'go', tools: [readFileTool] });
    expect(final.output.map((item) => item.type)).toEqual([
      'reasoning',
      'message',
      'function_call',
    ]);
    expect(final.output_text).toBe('Let me read it.');
    expect(final.output[2]).toMatchObject({ call_id: 'call_mixed', arguments: '{"path":"a.md"}' });
  });

  it('flattens namespaced tools for the upstream and restores the namespace on the call', async () => {
    bridge.mock.script(
      reply().toolCall('multi_agent_v1__spawn_agent', { message: 'go look' }, { id: 'call_spawn' }),
    );
    const tools: ResponseStreamParams['tools'] & unknown[] = [
      readFileTool,
      {
        type: 'namespace',
        name: 'multi_agent_v1',
        description: 'Tools for spawning and managing sub-agents.',
        tools: [
          {
            type: 'function',
            name: 'spawn_agent',
            description: 'Spawn a sub-agent',
            parameters: { type: 'object', properties: { message: { type: 'string' } } },
          },
          {
            type: 'function',
            name: 'wait_agent',
            parameters: { type: 'object', properties: {} },
          },
        ],
      },
    ];
    const { final } = await sdkStream({ model: MODEL, input: 'spawn a helper', tools });
    expect(upstreamToolNames(lastUpstreamBody())).toEqual([
      'read_file',
      'multi_agent_v1__spawn_agent',
      'multi_agent_v1__wait_agent',
    ]);
    const call = final.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({
      type: 'function_call',
      name: 'spawn_agent',
      namespace: 'multi_agent_v1',
      call_id: 'call_spawn',
      arguments: '{"message":"go look"}',
    });

    // Echoed back in history (as Codex does), the call is flattened the same way again.
    bridge.mock.script(reply().text('spawned'));
    await sdkCreate({
      model: MODEL,
      tools,
      input: [
        { role: 'user', content: 'spawn a helper' },
        ...final.output,
        { type: 'function_call_output', call_id: 'call_spawn', output: '{"agent_id":"a1"}' },
      ] as ResponseInput,
    });
    const assistant = lastUpstreamBody().messages.find((message) => message.role === 'assistant');
    expect(assistant?.tool_calls?.map((toolCall) => toolCall.function.name)).toEqual([
      'multi_agent_v1__spawn_agent',
    ]);
  });

  it('offers a custom tool as a one-string function and answers with a custom_tool_call', async () => {
    const patch = '*** Begin Patch\n*** Add File: hello.txt\n+hello "world"\n*** End Patch\n';
    bridge.mock.script(
      reply().toolCall('apply_patch', { input: patch }, { id: 'call_patch' }).chunkSize(7),
    );
    const { final } = await sdkStream({
      model: MODEL,
      input: 'add a file',
      tools: [{ type: 'custom', name: 'apply_patch', description: 'Apply a patch' }],
    });
    const offered = lastUpstreamBody().tools?.[0];
    expect(offered?.function.name).toBe('apply_patch');
    expect(offered?.function.parameters).toMatchObject({
      type: 'object',
      properties: { input: { type: 'string' } },
      required: ['input'],
    });
    expect(final.output).toHaveLength(1);
    expect(final.output[0]).toMatchObject({
      type: 'custom_tool_call',
      name: 'apply_patch',
      call_id: 'call_patch',
      input: patch,
    });

    // The call and its output travel back as one assistant tool call plus a tool message.
    bridge.mock.script(reply().text('patched'));
    await sdkCreate({
      model: MODEL,
      tools: [{ type: 'custom', name: 'apply_patch' }],
      input: [
        { role: 'user', content: 'add a file' },
        { type: 'custom_tool_call', call_id: 'call_patch', name: 'apply_patch', input: patch },
        { type: 'custom_tool_call_output', call_id: 'call_patch', output: 'Done!' },
      ],
    });
    const messages = lastUpstreamBody().messages;
    const assistant = messages.find((message) => message.role === 'assistant');
    expect(assistant?.tool_calls?.[0]?.id).toBe('call_patch');
    expect(JSON.parse(assistant?.tool_calls?.[0]?.function.arguments ?? 'null')).toEqual({
      input: patch,
    });
    expect(messages.at(-1)).toMatchObject({
      role: 'tool',
      tool_call_id: 'call_patch',
      content: 'Done!',
    });
  });

  it('drops hosted tools such as web_search instead of sending them upstream', async () => {
    bridge.mock.script(reply().text('no search needed'), reply().text('still fine'));
    const { final } = await sdkStream({
      model: MODEL,
      input: 'hi',
      tools: [readFileTool, { type: 'web_search' }],
    });
    expect(final.output_text).toBe('no search needed');
    expect(upstreamToolNames(lastUpstreamBody())).toEqual(['read_file']);
    expect(JSON.stringify(lastUpstreamBody())).not.toContain('web_search');

    await sdkCreate({ model: MODEL, input: 'hi', tools: [{ type: 'web_search' }] });
    expect(lastUpstreamBody().tools).toBeUndefined();
  });

  it('keeps Kimi-style call ids (functions.name:idx) as call_id, and sends them back unchanged', async () => {
    bridge.mock.script(
      reply().kimiIds().toolCall('read_file', { path: 'a' }).toolCall('read_file', { path: 'b' }),
    );
    const { final } = await sdkStream({ model: MODEL, input: 'read', tools: [readFileTool] });
    const ids = final.output.flatMap((item) =>
      item.type === 'function_call' ? [item.call_id] : [],
    );
    expect(ids).toEqual(['functions.read_file:0', 'functions.read_file:1']);

    bridge.mock.script(reply().text('thanks'));
    await sdkCreate({
      model: MODEL,
      tools: [readFileTool],
      input: [
        { role: 'user', content: 'read' },
        ...final.output,
        { type: 'function_call_output', call_id: 'functions.read_file:0', output: 'A' },
        { type: 'function_call_output', call_id: 'functions.read_file:1', output: 'B' },
      ] as ResponseInput,
    });
    const messages = lastUpstreamBody().messages;
    const assistant = messages.find((message) => message.role === 'assistant');
    expect(assistant?.tool_calls?.map((call) => call.id)).toEqual([
      'functions.read_file:0',
      'functions.read_file:1',
    ]);
    expect(
      messages.filter((message) => message.role === 'tool').map((message) => message.tool_call_id),
    ).toEqual(['functions.read_file:0', 'functions.read_file:1']);
  });
});

describe('reasoning', () => {
  it('emits a reasoning item with encrypted_content and gets reasoning_content back from the client alone', async () => {
    const thought = 'The user wants the config; I should read it first.';
    bridge.mock.script(
      reply()
        .reasoning(thought)
        .toolCall('read_file', { path: 'config.json' }, { id: 'call_cfg' })
        .chunkSize(9),
    );
    const { events, final } = await sdkStream({
      model: MODEL,
      input: 'what is in config.json?',
      tools: [readFileTool],
      include: ['reasoning.encrypted_content'],
      reasoning: { summary: 'auto' },
    });
    expect(final.output.map((item) => item.type)).toEqual(['reasoning', 'function_call']);
    const reasoning = final.output[0]!;
    if (reasoning.type !== 'reasoning') throw new Error('expected a reasoning item');
    expect(reasoning.summary).toEqual([{ type: 'summary_text', text: thought }]);
    expect(typeof reasoning.encrypted_content).toBe('string');
    expect(reasoning.encrypted_content).not.toBe('');
    expect(
      events.filter((event) => event.type === 'response.reasoning_summary_text.delta').length,
    ).toBeGreaterThan(1);

    // The follow-up turn goes to a different daemon that never saw the first one: the reasoning
    // can only come from the items the client echoes (no server-side state).
    const other = await startBridge();
    try {
      other.mock.script(reply().text('It holds {"a":1}.'));
      const otherClient = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: other.baseURL, maxRetries: 0 });
      const second = await otherClient.responses.create({
        model: MODEL,
        tools: [readFileTool],
        include: ['reasoning.encrypted_content'],
        input: [
          { role: 'user', content: 'what is in config.json?' },
          ...final.output,
          { type: 'function_call_output', call_id: 'call_cfg', output: '{"a":1}' },
        ] as ResponseInput,
      });
      expect(second.output_text).toBe('It holds {"a":1}.');
      const [call] = await other.mock.waitForRequests(1);
      const messages = (call!.body as ChatBody).messages;
      const assistant = messages.find((message) => message.role === 'assistant');
      expect(assistant?.reasoning_content).toBe(thought);
      expect(
        assistant?.tool_calls?.map((toolCall) => [
          toolCall.id,
          toolCall.function.name,
          toolCall.function.arguments,
        ]),
      ).toEqual([['call_cfg', 'read_file', '{"path":"config.json"}']]);
      expect(messages.at(-1)).toMatchObject({
        role: 'tool',
        tool_call_id: 'call_cfg',
        content: '{"a":1}',
      });
    } finally {
      await other.close();
    }
  });

  it('leaves encrypted_content out when the client did not ask for it', async () => {
    bridge.mock.script(reply().reasoning('short thought').text('answer'));
    const response = await sdkCreate({ model: MODEL, input: 'hi' });
    const reasoning = response.output[0];
    expect(reasoning?.type).toBe('reasoning');
    expect(
      reasoning && 'encrypted_content' in reasoning ? reasoning.encrypted_content : undefined,
    ).toBeUndefined();
    expect(response.output_text).toBe('answer');
  });
});

describe('upstream dialect quirks', () => {
  it("survives Go's trailing cost chunk after [DONE]", async () => {
    bridge.mock.script(
      reply().text('priced answer').cost(0.0123).usage({ prompt_tokens: 4, completion_tokens: 2 }),
    );
    const { final, events } = await sdkStream({ model: MODEL, input: 'hi' });
    expect(final.output_text).toBe('priced answer');
    expect(events.at(-1)?.type).toBe('response.completed');

    bridge.mock.script(reply().text('priced json').cost(0.5));
    expect((await sdkCreate({ model: MODEL, input: 'hi' })).output_text).toBe('priced json');
  });

  it('maps Moonshot-style usage carried on the finish choice', async () => {
    bridge.mock.script(
      reply()
        .text('moon')
        .usageInChoice()
        .usage({ prompt_tokens: 40, completion_tokens: 9, cached_tokens: 32, reasoning_tokens: 4 }),
    );
    const { final } = await sdkStream({ model: MODEL, input: 'hi' });
    expect(final.usage).toEqual({
      input_tokens: 40,
      input_tokens_details: { cached_tokens: 32 },
      output_tokens: 9,
      output_tokens_details: { reasoning_tokens: 4 },
      total_tokens: 49,
    });
  });

  it('ends a length-truncated answer as response.incomplete (max_output_tokens)', async () => {
    bridge.mock.script(reply().text('cut sho').finish('length'));
    const { final, events } = await sdkStream({ model: MODEL, input: 'hi', max_output_tokens: 16 });
    expect(events.at(-1)?.type).toBe('response.incomplete');
    expect(final.status).toBe('incomplete');
    expect(final.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(final.output_text).toBe('cut sho');

    bridge.mock.script(reply().text('cut').finish('length'));
    const json = await sdkCreate({ model: MODEL, input: 'hi' });
    expect(json.status).toBe('incomplete');
    expect(json.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });

  it('ends a content-filtered answer as response.incomplete (content_filter)', async () => {
    bridge.mock.script(reply().text('I cannot').finish('content_filter'));
    const { final } = await sdkStream({ model: MODEL, input: 'hi' });
    expect(final.status).toBe('incomplete');
    expect(final.incomplete_details).toEqual({ reason: 'content_filter' });

    bridge.mock.script(reply().text('no').finish('content_filter'));
    const json = await sdkCreate({ model: MODEL, input: 'hi' });
    expect(json.status).toBe('incomplete');
    expect(json.incomplete_details).toEqual({ reason: 'content_filter' });
  });

  it('speaks Anthropic Messages to minimax (x-api-key, not Authorization): text and a tool call', async () => {
    bridge.mock.script(
      reply()
        .reasoning('thinking it over')
        .text('Hello from MiniMax')
        .usage({ prompt_tokens: 20, completion_tokens: 6, cached_tokens: 8 }),
    );
    const { final } = await sdkStream({ model: 'ocg-minimax-m3', input: 'hi' });
    expect(final.output_text).toBe('Hello from MiniMax');
    expect(final.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
    expect(final.usage).toMatchObject({
      input_tokens: 20,
      output_tokens: 6,
      total_tokens: 26,
      input_tokens_details: { cached_tokens: 8 },
    });

    bridge.mock.script(reply().toolCall('read_file', { path: 'README.md' }, { id: 'toolu_01' }));
    const json = await sdkCreate({
      model: 'ocg-minimax-m3',
      input: 'read the readme',
      tools: [readFileTool],
    });
    expect(json.output).toHaveLength(1);
    expect(json.output[0]).toMatchObject({
      type: 'function_call',
      call_id: 'toolu_01',
      name: 'read_file',
    });
    expect(
      json.output[0]?.type === 'function_call' ? JSON.parse(json.output[0].arguments) : null,
    ).toEqual({ path: 'README.md' });

    const calls = upstreamCalls('/v1/messages');
    expect(calls).toHaveLength(2);
    expect(upstreamCalls()).toHaveLength(0);
    for (const call of calls) {
      expect(call.headers['x-api-key']).toBe(UPSTREAM_KEY);
      expect(call.headers['authorization']).toBeUndefined();
      expect(call.headers['anthropic-version']).toBeDefined();
      expect(call.body.model).toBe('minimax-m3');
    }
  });
});

describe('request mapping', () => {
  it('maps text.format json_schema to response_format and max_output_tokens to max_tokens', async () => {
    const schema = {
      type: 'object',
      properties: { answer: { type: 'string' } },
      required: ['answer'],
      additionalProperties: false,
    };
    bridge.mock.script(reply().text('{"answer":"42"}'));
    const response = await sdkCreate({
      model: MODEL,
      input: 'answer in JSON',
      max_output_tokens: 321,
      text: { format: { type: 'json_schema', name: 'codex_output_schema', schema, strict: true } },
    });
    expect(response.output_text).toBe('{"answer":"42"}');
    const body = lastUpstreamBody();
    expect(body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'codex_output_schema', schema, strict: true },
    });
    expect(body.max_tokens).toBe(321);
    expect(body.model).toBe('kimi-k2.6');
  });

  it('maps instructions and developer messages to system, and a named tool_choice', async () => {
    bridge.mock.script(reply().toolCall('read_file', { path: 'a' }));
    await sdkCreate({
      model: MODEL,
      instructions: 'Be brief.',
      tools: [readFileTool],
      tool_choice: { type: 'function', name: 'read_file' },
      input: [
        { role: 'developer', content: 'Project rules.' },
        { role: 'user', content: [{ type: 'input_text', text: 'read a' }] },
      ],
    });
    const body = lastUpstreamBody() as ChatBody & { tool_choice?: unknown };
    expect(body.messages.map((message) => message.role)).toEqual(['system', 'user']);
    expect(body.messages[0]?.content).toContain('Be brief.');
    expect(body.messages[0]?.content).toContain('Project rules.');
    expect(body.messages[1]?.content).toBe('read a');
    expect(body.tool_choice).toEqual({ type: 'function', function: { name: 'read_file' } });
  });
});

describe('keepalive and headers', () => {
  it('sends keepalive data events during upstream pauses, numbered like every other event', async () => {
    bridge.mock.script(reply().text('slow').chunkSize(4).paceMs(600));
    const raw = await request(`${bridge.baseURL}/responses`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${BRIDGE_KEY}`,
        'content-type': 'application/json',
        accept: 'text/event-stream',
      },
      body: JSON.stringify({ model: MODEL, input: 'hi', stream: true }),
    });
    expect(raw.statusCode).toBe(200);
    expect(raw.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(raw.headers['x-bridge-overhead-ms']).toMatch(/^\d+(\.\d+)?$/);
    expect(raw.headers['access-control-allow-origin']).toBeUndefined();
    const text = await raw.body.text();
    expect(text).toMatch(/data: \{"type":"keepalive","sequence_number":\d+\}/);
    const events = parseSse(text) as unknown as WireEvent[];
    expect(events.filter((event) => event.type === 'keepalive').length).toBeGreaterThan(0);
    const response = checkStream(events);
    expect(response.status).toBe('completed');
    // The overhead total is known only at the end, so it also arrives as a trailer.
    expect(raw.trailers['x-bridge-overhead-ms']).toMatch(/^\d+(\.\d+)?$/);

    bridge.mock.script(reply().text('slow too').chunkSize(8).paceMs(600));
    const { final, events: sdkEvents } = await sdkStream({ model: MODEL, input: 'hi' });
    expect(final.output_text).toBe('slow too');
    expect(sdkEvents.some((event) => event.type === 'keepalive')).toBe(true);
  });

  it('puts x-bridge-overhead-ms on JSON responses', async () => {
    bridge.mock.script(reply().text('timed'));
    const { data, response } = await client.responses
      .create({ model: MODEL, input: 'hi' })
      .withResponse();
    expect(data.output_text).toBe('timed');
    expect(response.headers.get('x-bridge-overhead-ms')).toMatch(/^\d+(\.\d+)?$/);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});
