/**
 * Conformance with the real clients people point at the bridge: the Vercel AI SDK (`ai` +
 * `@ai-sdk/openai`, Responses model), the OpenAI Agents SDK, and the `openai` SDK's less common
 * options. Each case drives the real daemon over HTTP in front of the mock upstream and asserts
 * the whole conversation the upstream received, so a dropped `item_reference` or a lost
 * `reasoning_content` fails here. Client-side parsing is the clients' own: the AI SDK reports a
 * chunk that fails its zod schema as an `error` part, the openai SDK's accumulator throws on a
 * malformed event order, and the Agents SDK throws on an output it cannot read.
 */
import { createOpenAI } from '@ai-sdk/openai';
import {
  Agent,
  OpenAIResponsesModel,
  run,
  setTracingDisabled,
  tool as agentTool,
} from '@openai/agents';
import { generateText, stepCountIs, streamText, tool, type ModelMessage } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { reply, type RecordedRequest } from '../../src/demo/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';

const MODEL = 'ocg-kimi-k2.6';

interface ChatMessage {
  readonly role: string;
  readonly content: unknown;
  readonly reasoning_content?: string;
  readonly tool_calls?: readonly { id: string; function: { name: string; arguments: string } }[];
  readonly tool_call_id?: string;
}

/** The conversation one upstream call carried, in a form a test can compare whole. */
function turns(recorded: RecordedRequest): string[] {
  const body = recorded.body as { messages: ChatMessage[] };
  return body.messages.map((message) => {
    const text =
      typeof message.content === 'string' || message.content === null
        ? (message.content ?? '')
        : JSON.stringify(message.content);
    const parts = [`${message.role}: ${text}`];
    if (message.reasoning_content !== undefined)
      parts.push(`[reasoning: ${message.reasoning_content}]`);
    for (const call of message.tool_calls ?? [])
      parts.push(`[call ${call.function.name}(${call.function.arguments})]`);
    if (message.tool_call_id !== undefined) parts.push(`[for ${message.tool_call_id}]`);
    return parts.join(' ');
  });
}

function upstreamCalls(bridge: BridgeHarness): RecordedRequest[] {
  return bridge.mock.requests.filter(
    (recorded) => recorded.method === 'POST' && recorded.path === '/v1/chat/completions',
  );
}

/** Records what the client itself sent to the bridge, so a test proves which path it took. */
function recordingFetch(sent: Record<string, unknown>[]): typeof fetch {
  return async (url, init) => {
    if (typeof init?.body === 'string') sent.push(JSON.parse(init.body) as Record<string, unknown>);
    return fetch(url, init);
  };
}

function inputTypes(body: Record<string, unknown> | undefined): string[] {
  const input = (body?.['input'] ?? []) as { type?: string; role?: string }[];
  return input.map((item) => item.type ?? `message:${item.role ?? '?'}`);
}

let bridge: BridgeHarness;

beforeAll(async () => {
  setTracingDisabled(true);
  bridge = await startBridge();
});
afterAll(async () => bridge.close());
beforeEach(() => bridge.mock.reset());

const weatherCall = () =>
  reply()
    .reasoning('I should look the weather up.')
    .toolCall('weather', { city: 'Paris' }, { id: 'call_w1' });
const weatherAnswer = () => reply().reasoning('The tool said sunny.').text('It is sunny in Paris.');
const expectedToolTurn = [
  'user: Weather in Paris?',
  'assistant:  [reasoning: I should look the weather up.] [call weather({"city":"Paris"})]',
  'tool: {"forecast":"sunny"} [for call_w1]',
];

describe('Vercel AI SDK (ai + @ai-sdk/openai, Responses model)', () => {
  const weather = tool({
    description: 'Weather for a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async () => Promise.resolve({ forecast: 'sunny' }),
  });

  const inlineOptions = {
    openai: { store: false, include: ['reasoning.encrypted_content'] },
  };

  for (const store of [true, false]) {
    const label = store ? 'default store (item_reference)' : 'store: false (items inline)';

    it(`generateText over several steps and a follow-up turn, ${label}`, async () => {
      const sent: Record<string, unknown>[] = [];
      const provider = createOpenAI({
        baseURL: bridge.baseURL,
        apiKey: BRIDGE_KEY,
        fetch: recordingFetch(sent),
      });
      // Without a store the AI SDK carries reasoning only as encrypted_content, so it asks for it.
      const providerOptions = store ? {} : inlineOptions;
      bridge.mock.script(weatherCall(), weatherAnswer(), reply().text('Tomorrow too.'));

      const first = await generateText({
        model: provider.responses(MODEL),
        tools: { weather },
        prompt: 'Weather in Paris?',
        stopWhen: stepCountIs(3),
        providerOptions,
      });
      expect(first.text).toBe('It is sunny in Paris.');
      expect(first.steps).toHaveLength(2);
      expect(first.warnings ?? []).toEqual([]);

      const messages: ModelMessage[] = [
        { role: 'user', content: 'Weather in Paris?' },
        ...first.response.messages,
        { role: 'user', content: 'And tomorrow?' },
      ];
      const second = await generateText({
        model: provider.responses(MODEL),
        tools: { weather },
        messages,
        providerOptions,
      });
      expect(second.text).toBe('Tomorrow too.');

      const calls = upstreamCalls(bridge);
      expect(calls).toHaveLength(3);
      expect(turns(calls[0]!)).toEqual(['user: Weather in Paris?']);
      expect(turns(calls[1]!)).toEqual(expectedToolTurn);
      expect(turns(calls[2]!)).toEqual([
        ...expectedToolTurn,
        'assistant: It is sunny in Paris. [reasoning: The tool said sunny.]',
        'user: And tomorrow?',
      ]);
      // The store path really was exercised (and the inline one really was not).
      const referenced = sent.some((body) => inputTypes(body).includes('item_reference'));
      expect(referenced).toBe(store);
    });

    it(`streamText with tools over several steps, ${label}`, async () => {
      const provider = createOpenAI({ baseURL: bridge.baseURL, apiKey: BRIDGE_KEY });
      bridge.mock.script(weatherCall(), weatherAnswer());
      const result = streamText({
        model: provider.responses(MODEL),
        tools: { weather },
        prompt: 'Weather in Paris?',
        stopWhen: stepCountIs(3),
        providerOptions: store ? {} : inlineOptions,
      });
      const kinds: string[] = [];
      const errors: unknown[] = [];
      for await (const part of result.fullStream) {
        kinds.push(part.type);
        if (part.type === 'error') errors.push(part.error);
      }
      expect(errors).toEqual([]);
      expect(await result.text).toBe('It is sunny in Paris.');
      expect(kinds).toContain('reasoning-delta');
      expect(kinds).toContain('tool-call');
      expect(kinds).toContain('tool-result');
      const calls = upstreamCalls(bridge);
      expect(calls).toHaveLength(2);
      expect(turns(calls[1]!)).toEqual(expectedToolTurn);
    });
  }
});

describe('OpenAI Agents SDK', () => {
  for (const stream of [false, true]) {
    it(`runs an agent with a function tool, ${stream ? 'streamed' : 'not streamed'}`, async () => {
      const client = new OpenAI({ baseURL: bridge.baseURL, apiKey: BRIDGE_KEY, maxRetries: 0 });
      const weather = agentTool({
        name: 'weather',
        description: 'Weather for a city',
        parameters: z.object({ city: z.string() }),
        execute: async () => Promise.resolve('{"forecast":"sunny"}'),
      });
      const agent = new Agent({
        name: 'forecaster',
        instructions: 'Answer weather questions with the tool.',
        model: new OpenAIResponsesModel(client, MODEL),
        tools: [weather],
      });
      bridge.mock.script(weatherCall(), weatherAnswer());
      let output: unknown;
      if (stream) {
        const result = await run(agent, 'Weather in Paris?', { stream: true });
        const types: string[] = [];
        for await (const event of result) types.push(event.type);
        await result.completed;
        expect(types).toContain('raw_model_stream_event');
        expect(types).toContain('run_item_stream_event');
        output = result.finalOutput;
      } else {
        const result = await run(agent, 'Weather in Paris?');
        output = result.finalOutput;
      }
      expect(output).toBe('It is sunny in Paris.');
      const calls = upstreamCalls(bridge);
      expect(calls).toHaveLength(2);
      expect(turns(calls[1]!)).toEqual([
        'system: Answer weather questions with the tool.',
        ...expectedToolTurn,
      ]);
    });
  }
});

describe('openai SDK: stored conversations and the less common options', () => {
  const client = () => new OpenAI({ baseURL: bridge.baseURL, apiKey: BRIDGE_KEY, maxRetries: 0 });

  it('previous_response_id carries the conversation, reasoning included, across a tool turn', async () => {
    const openai = client();
    bridge.mock.script(weatherCall(), weatherAnswer());
    const tools = [
      {
        type: 'function' as const,
        name: 'weather',
        description: 'Weather for a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
        strict: false,
      },
    ];
    const first = await openai.responses.create({
      model: MODEL,
      input: 'Weather in Paris?',
      tools,
      include: ['reasoning.encrypted_content'],
    });
    expect((first as unknown as { store: boolean }).store).toBe(true);
    const reasoning = first.output.find((item) => item.type === 'reasoning');
    expect(reasoning?.encrypted_content).toMatch(/^ocb1\./);
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call?.type === 'function_call' && call.call_id).toBe('call_w1');

    const second = await openai.responses.create({
      model: MODEL,
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: 'call_w1', output: '{"forecast":"sunny"}' }],
      tools,
    });
    expect(second.output_text).toBe('It is sunny in Paris.');
    expect(second.previous_response_id).toBe(first.id);
    expect(turns(upstreamCalls(bridge)[1]!)).toEqual(expectedToolTurn);

    // The stored objects are served back as they were answered, then deleted for good.
    const fetched = await openai.responses.retrieve(second.id);
    expect(fetched).toEqual(JSON.parse(JSON.stringify(second)) as unknown);
    await openai.responses.delete(first.id);
    const gone = await openai.responses.retrieve(first.id).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    const again = await openai.responses
      .create({ model: MODEL, previous_response_id: first.id, input: 'more' })
      .catch((error: unknown) => error);
    expect(again).toBeInstanceOf(OpenAI.BadRequestError);
    expect((again as InstanceType<typeof OpenAI.BadRequestError>).code).toBe(
      'previous_response_not_found',
    );
    expect((again as Error).message).toContain(first.id);
  });

  it('store: false keeps nothing: the response says so, and a later reference to it is refused', async () => {
    const openai = client();
    bridge.mock.script(reply().text('not kept'));
    const response = await openai.responses.create({ model: MODEL, input: 'hi', store: false });
    expect((response as unknown as { store: boolean }).store).toBe(false);
    const messageId = response.output[0]?.id ?? '';
    const retrieved = await openai.responses.retrieve(response.id).catch((error: unknown) => error);
    expect(retrieved).toBeInstanceOf(OpenAI.NotFoundError);
    const reference = await openai.responses
      .create({ model: MODEL, input: [{ type: 'item_reference', id: messageId }] })
      .catch((error: unknown) => error);
    expect(reference).toBeInstanceOf(OpenAI.BadRequestError);
    expect((reference as { code?: string }).code).toBe('item_not_found');
    expect((reference as { param?: string }).param).toBe('input[0].id');
    expect((reference as Error).message).toContain(messageId);
    expect(upstreamCalls(bridge)).toHaveLength(1);
  });

  for (const stream of [false, true]) {
    it(`echoes every request field, json_schema included (${stream ? 'stream' : 'JSON'})`, async () => {
      const openai = client();
      bridge.mock.script(reply().text('{"answer":"yes"}'));
      const params = {
        model: MODEL,
        input: 'Answer as JSON.',
        instructions: 'Be brief.',
        tools: [
          {
            type: 'function' as const,
            name: 'noop',
            description: 'does nothing',
            parameters: { type: 'object', properties: {} },
            strict: false,
          },
        ],
        tool_choice: 'none' as const,
        parallel_tool_calls: false,
        text: {
          format: {
            type: 'json_schema' as const,
            name: 'answer',
            schema: {
              type: 'object',
              properties: { answer: { type: 'string' } },
              required: ['answer'],
              additionalProperties: false,
            },
            strict: true,
          },
        },
        max_output_tokens: 300,
        temperature: 0.4,
        top_p: 0.9,
        metadata: { ticket: 'T-1' },
        reasoning: { effort: 'low' as const },
        truncation: 'auto' as const,
        user: 'user-7',
      };
      const response = stream
        ? await openai.responses.stream(params).finalResponse()
        : await openai.responses.create(params);
      const echoed = Object.entries(params).filter(([key]) => key !== 'model' && key !== 'input');
      for (const [key, value] of echoed) {
        expect((response as unknown as Record<string, unknown>)[key], key).toEqual(value);
      }
      expect((response as unknown as { store: boolean }).store).toBe(true);
      expect(response.output_text).toBe('{"answer":"yes"}');
      const sent = upstreamCalls(bridge)[0]!.body as Record<string, unknown>;
      expect(sent['response_format']).toEqual({
        type: 'json_schema',
        json_schema: { name: 'answer', schema: params.text.format.schema, strict: true },
      });
    });

    it(`marks a truncated message incomplete (${stream ? 'stream' : 'JSON'})`, async () => {
      const openai = client();
      bridge.mock.script(reply().text('This answer is cut').finish('length'));
      const params = { model: MODEL, input: 'Say a lot.', max_output_tokens: 5 };
      const response = stream
        ? await openai.responses.stream(params).finalResponse()
        : await openai.responses.create(params);
      expect(response.status).toBe('incomplete');
      expect(response.incomplete_details?.reason).toBe('max_output_tokens');
      expect(response.max_output_tokens).toBe(5);
      expect(response.output).toHaveLength(1);
      expect(response.output[0]?.type === 'message' && response.output[0].status).toBe(
        'incomplete',
      );
      expect((upstreamCalls(bridge)[0]!.body as { max_tokens?: number }).max_tokens).toBe(5);
    });
  }

  it('parallel_tool_calls: false keeps one tool call even when the upstream sends two', async () => {
    const openai = client();
    bridge.mock.script(
      reply()
        .toolCall('weather', { city: 'Paris' }, { id: 'call_a' })
        .toolCall('weather', { city: 'Rome' }, { id: 'call_b' }),
    );
    const response = await openai.responses
      .stream({
        model: MODEL,
        input: 'Weather in Paris and Rome?',
        parallel_tool_calls: false,
        tools: [
          {
            type: 'function',
            name: 'weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
            strict: false,
          },
        ],
      })
      .finalResponse();
    const calls = response.output.filter((item) => item.type === 'function_call');
    expect(calls.map((item) => item.type === 'function_call' && item.call_id)).toEqual(['call_a']);
    expect(response.parallel_tool_calls).toBe(false);
  });

  it('refuses an image that has only a file_id, naming the part, before any upstream call', async () => {
    const openai = client();
    const error = await openai.responses
      .create({
        model: MODEL,
        input: [
          {
            role: 'user',
            content: [
              { type: 'input_text', text: 'What is in this picture?' },
              { type: 'input_image', file_id: 'file-abc123', detail: 'auto' },
            ],
          },
        ],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as { param?: string }).param).toBe('input[0].content[1].file_id');
    expect((error as Error).message).toContain('file-abc123');
    expect(upstreamCalls(bridge)).toHaveLength(0);
  });
});
