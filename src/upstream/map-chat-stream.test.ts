import { describe, expect, it } from 'vitest';
import type { StreamPart } from './stream-part.js';
import { ChatStreamMapper, mapChatCompletionBody } from './openai-chat/map-chat-stream.js';

function run(chunks: readonly unknown[], model = 'kimi-k2.6'): StreamPart[] {
  const mapper = new ChatStreamMapper(model);
  const parts = chunks.flatMap((chunk) => mapper.push(chunk));
  return [...parts, ...mapper.end()];
}

const choice = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta, finish_reason: finish }],
  usage: null,
});

describe('ChatStreamMapper', () => {
  it('maps a DeepSeek stream: reasoning, text, usage chunk with choices:[], cost after [DONE]', () => {
    const parts = run([
      choice({ role: 'assistant', content: '' }),
      choice({ reasoning_content: 'think' }),
      choice({ reasoning_content: 'ing' }),
      choice({ content: 'Hello' }),
      choice({ content: ' world' }),
      choice({}, 'stop'),
      {
        choices: [],
        usage: {
          prompt_tokens: 100,
          completion_tokens: 20,
          total_tokens: 120,
          prompt_cache_hit_tokens: 60,
          prompt_cache_miss_tokens: 40,
          completion_tokens_details: { reasoning_tokens: 7 },
        },
      },
      { choices: [], cost: '0.0012' },
    ]);
    expect(parts).toEqual([
      { type: 'reasoning-delta', text: 'think' },
      { type: 'reasoning-delta', text: 'ing' },
      { type: 'text-delta', text: 'Hello' },
      { type: 'text-delta', text: ' world' },
      {
        type: 'usage',
        usage: {
          input_tokens: 100,
          cached_input_tokens: 60,
          cache_write_tokens: 0,
          output_tokens: 20,
          reasoning_tokens: 7,
          total_tokens: 120,
        },
      },
      { type: 'cost', usd: 0.0012 },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('accepts delta.reasoning and delta.reasoning_details', () => {
    const parts = run([
      choice({ reasoning: 'a' }),
      choice({ reasoning_details: [{ type: 'reasoning.text', text: 'b' }, { text: 'c' }] }),
      choice({}, 'stop'),
    ]);
    expect(parts.filter((part) => part.type === 'reasoning-delta')).toEqual([
      { type: 'reasoning-delta', text: 'a' },
      { type: 'reasoning-delta', text: 'bc' },
    ]);
  });

  it('concatenates tool-call fragments per index, tolerating repeated and empty id/name', () => {
    const parts = run([
      choice({
        tool_calls: [
          {
            index: 0,
            id: 'functions.read_file:0',
            type: 'function',
            function: { name: 'read_file', arguments: '' },
          },
        ],
      }),
      choice({ tool_calls: [{ index: 0, id: '', function: { name: '', arguments: '{"pa' } }] }),
      choice({
        tool_calls: [
          {
            index: 0,
            id: 'functions.read_file:0',
            function: { name: 'read_file', arguments: 'th":"a"}' },
          },
        ],
      }),
      choice({
        tool_calls: [
          { index: 1, id: 'functions.grep:1', function: { name: 'grep', arguments: '{}' } },
        ],
      }),
      choice({}, 'tool_calls'),
    ]);
    expect(parts).toEqual([
      { type: 'tool-call-start', index: 0, id: 'functions.read_file:0', name: 'read_file' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"pa' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: 'th":"a"}' },
      { type: 'tool-call-start', index: 1, id: 'functions.grep:1', name: 'grep' },
      { type: 'tool-call-delta', index: 1, argumentsDelta: '{}' },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('holds arguments that arrive before the name, and reports tool calls finished with "stop" as tool_calls', () => {
    const parts = run([
      choice({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] }),
      choice({
        tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '1}' } }],
      }),
      choice({}, 'stop'),
    ]);
    expect(parts).toEqual([
      { type: 'tool-call-start', index: 0, id: 'call_1', name: 'f' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"a":' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '1}' },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('treats a new id with a name on a used index as a new call', () => {
    const parts = run([
      choice({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '{}' } }] }),
      choice({ tool_calls: [{ index: 0, id: 'b', function: { name: 'g', arguments: '{}' } }] }),
      choice({}, 'tool_calls'),
    ]);
    expect(parts.filter((part) => part.type === 'tool-call-start')).toEqual([
      { type: 'tool-call-start', index: 0, id: 'a', name: 'f' },
      { type: 'tool-call-start', index: 1, id: 'b', name: 'g' },
    ]);
  });

  it('reads Moonshot usage from choices[0].usage with top-level cached_tokens', () => {
    const parts = run([
      choice({ content: 'x' }),
      {
        choices: [
          {
            index: 0,
            delta: {},
            finish_reason: 'stop',
            usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12, cached_tokens: 4 },
          },
        ],
      },
    ]);
    expect(parts).toContainEqual({
      type: 'usage',
      usage: {
        input_tokens: 10,
        cached_input_tokens: 4,
        cache_write_tokens: 0,
        output_tokens: 2,
        reasoning_tokens: 0,
        total_tokens: 12,
      },
    });
  });

  it('reads usage sent top-level on a choice chunk, cache writes and a missing total', () => {
    const parts = run([
      {
        choices: [{ index: 0, delta: { content: 'x' }, finish_reason: 'length' }],
        usage: {
          prompt_tokens: 10,
          completion_tokens: 5,
          prompt_tokens_details: { cached_tokens: 3, cache_write_tokens: 2 },
        },
      },
    ]);
    expect(parts.slice(1)).toEqual([
      {
        type: 'usage',
        usage: {
          input_tokens: 10,
          cached_input_tokens: 3,
          cache_write_tokens: 2,
          output_tokens: 5,
          reasoning_tokens: 0,
          total_tokens: 15,
        },
      },
      { type: 'finish', reason: 'length' },
    ]);
  });

  it('skips chunks with no choices and no usage or cost', () => {
    const mapper = new ChatStreamMapper('m');
    expect(mapper.push({ choices: [] })).toEqual([]);
    expect(mapper.push({ id: 'x' })).toEqual([]);
  });

  it('throws upstream_error when the stream ends without a finish_reason', () => {
    const mapper = new ChatStreamMapper('glm-5.2');
    mapper.push(choice({ content: 'partial' }));
    expect(() => mapper.end()).toThrow(
      expect.objectContaining({
        code: 'upstream_error',
        message: expect.stringMatching(/upstream stream ended before finish_reason/) as unknown,
      }),
    );
  });

  it('turns an error frame into a classified BridgeError', () => {
    const mapper = new ChatStreamMapper('kimi-k2.6');
    expect(() =>
      mapper.push({
        error: {
          message: 'maximum context length is 262144 tokens',
          type: 'invalid_request_error',
        },
      }),
    ).toThrow(expect.objectContaining({ code: 'context_length_exceeded' }));
  });

  it('rejects a non-object chunk', () => {
    expect(() => new ChatStreamMapper('m').push(42)).toThrow(TypeError);
  });
});

describe('mapChatCompletionBody', () => {
  it('maps a non-streamed chat.completion to the same parts', () => {
    const parts = mapChatCompletionBody(
      {
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: 'done',
              reasoning_content: 'why',
              tool_calls: [
                { id: 'call_9', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
              ],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
        cost: '0.5',
      },
      'deepseek-v4-pro',
    );
    expect(parts).toEqual([
      { type: 'reasoning-delta', text: 'why' },
      { type: 'text-delta', text: 'done' },
      { type: 'tool-call-start', index: 0, id: 'call_9', name: 'f' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"x":1}' },
      {
        type: 'usage',
        usage: {
          input_tokens: 3,
          cached_input_tokens: 0,
          cache_write_tokens: 0,
          output_tokens: 4,
          reasoning_tokens: 0,
          total_tokens: 7,
        },
      },
      { type: 'cost', usd: 0.5 },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });
});
