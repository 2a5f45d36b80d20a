import { describe, expect, it } from 'vitest';
import { modelTable, type ModelEntry } from '../models/index.js';
import { convertToMessagesBody, toMessagesToolId } from './anthropic/convert-to-messages-body.js';
import { mapMessagesBody, MessagesStreamMapper } from './anthropic/map-messages-stream.js';
import type { ChatRequest } from './chat-request.js';
import type { StreamPart } from './stream-part.js';

function entry(id: string): ModelEntry {
  const found = modelTable.find((row) => row.id === id);
  if (!found) throw new Error(`no table row ${id}`);
  return found;
}

const EPHEMERAL = { type: 'ephemeral' };

describe('convertToMessagesBody', () => {
  const request: ChatRequest = {
    messages: [
      { role: 'system', content: 'rule one' },
      { role: 'system', content: 'rule two' },
      { role: 'user', content: 'list and read' },
      {
        role: 'assistant',
        content: 'Sure.',
        reasoning_content: 'private thoughts',
        tool_calls: [
          {
            id: 'functions.ls:0',
            type: 'function',
            function: { name: 'ls', arguments: '{"dir":"."}' },
          },
          { id: 'call_2', type: 'function', function: { name: 'read', arguments: '' } },
        ],
      },
      { role: 'tool', tool_call_id: 'functions.ls:0', content: 'a.txt' },
      { role: 'tool', tool_call_id: 'call_2', content: 'A' },
      { role: 'user', content: 'thanks' },
    ],
    tools: [
      {
        type: 'function',
        function: {
          name: 'ls',
          description: 'list',
          parameters: { type: 'object', properties: { dir: { type: 'string' } } },
        },
      },
      { type: 'function', function: { name: 'read' } },
    ],
    tool_choice: 'required',
    parallel_tool_calls: false,
  };

  it('builds system, tool_use, merged tool_result blocks, tools and tool_choice', () => {
    const body = convertToMessagesBody(request, entry('minimax-m3'));
    expect(body).toEqual({
      model: 'minimax-m3',
      max_tokens: 32_000,
      stream: true,
      system: [{ type: 'text', text: 'rule one\n\nrule two', cache_control: EPHEMERAL }],
      messages: [
        {
          role: 'user',
          content: [{ type: 'text', text: 'list and read', cache_control: EPHEMERAL }],
        },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Sure.' },
            { type: 'tool_use', id: 'functions_ls_0', name: 'ls', input: { dir: '.' } },
            { type: 'tool_use', id: 'call_2', name: 'read', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'functions_ls_0', content: 'a.txt' },
            { type: 'tool_result', tool_use_id: 'call_2', content: 'A' },
            { type: 'text', text: 'thanks', cache_control: EPHEMERAL },
          ],
        },
      ],
      tools: [
        {
          name: 'ls',
          description: 'list',
          input_schema: { type: 'object', properties: { dir: { type: 'string' } } },
        },
        {
          name: 'read',
          input_schema: { type: 'object', properties: {} },
          cache_control: EPHEMERAL,
        },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
  });

  it('honours max_tokens and caps the default at the model limit', () => {
    expect(
      convertToMessagesBody({ ...request, max_tokens: 500 }, entry('minimax-m3'))['max_tokens'],
    ).toBe(500);
    const small: ModelEntry = { ...entry('minimax-m3'), maxOutputTokens: 8_000 };
    expect(convertToMessagesBody(request, small)['max_tokens']).toBe(8_000);
  });

  it('maps images to base64 or url sources, or a note for text-only models', () => {
    const withImages: ChatRequest = {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'data:image/png;base64,QUJD' } },
            { type: 'image_url', image_url: { url: 'https://example.test/a.png' } },
          ],
        },
      ],
    };
    const m3 = convertToMessagesBody(withImages, entry('minimax-m3'))['messages'] as {
      content: unknown[];
    }[];
    expect(m3[0]?.content).toEqual([
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'QUJD' } },
      {
        type: 'image',
        source: { type: 'url', url: 'https://example.test/a.png' },
        cache_control: EPHEMERAL,
      },
    ]);
    const m27 = convertToMessagesBody(withImages, entry('minimax-m2.7'))['messages'] as {
      content: { type: string }[];
    }[];
    expect(m27[0]?.content.every((block) => block.type === 'text')).toBe(true);
  });

  it('maps each tool_choice form', () => {
    const base: ChatRequest = { ...request, parallel_tool_calls: true };
    expect(
      convertToMessagesBody({ ...base, tool_choice: 'auto' }, entry('minimax-m3'))['tool_choice'],
    ).toEqual({ type: 'auto' });
    expect(
      convertToMessagesBody({ ...base, tool_choice: 'none' }, entry('minimax-m3'))['tool_choice'],
    ).toEqual({ type: 'none' });
    expect(
      convertToMessagesBody(
        { ...base, tool_choice: { type: 'function', function: { name: 'ls' } } },
        entry('minimax-m3'),
      )['tool_choice'],
    ).toEqual({ type: 'tool', name: 'ls' });
  });

  it('sanitizes tool ids the same way on both sides', () => {
    expect(toMessagesToolId('functions.read_file:0')).toBe('functions_read_file_0');
    expect(toMessagesToolId('toolu_01-abc')).toBe('toolu_01-abc');
  });
});

function run(events: readonly unknown[]): StreamPart[] {
  const mapper = new MessagesStreamMapper('minimax-m3');
  const parts = events.flatMap((event) => mapper.push(event));
  return [...parts, ...mapper.end()];
}

describe('MessagesStreamMapper', () => {
  it('maps thinking, text, tool_use, stop reason, usage and the trailing cost ping', () => {
    const parts = run([
      {
        type: 'message_start',
        message: {
          usage: {
            input_tokens: 10,
            cache_read_input_tokens: 80,
            cache_creation_input_tokens: 5,
            output_tokens: 1,
          },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'signature_delta', signature: 'sig' },
      },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      {
        type: 'content_block_delta',
        index: 1,
        delta: { type: 'text_delta', text: 'Let me look.' },
      },
      {
        type: 'content_block_start',
        index: 2,
        content_block: { type: 'tool_use', id: 'toolu_1', name: 'ls', input: {} },
      },
      {
        type: 'content_block_delta',
        index: 2,
        delta: { type: 'input_json_delta', partial_json: '{"dir":' },
      },
      {
        type: 'content_block_delta',
        index: 2,
        delta: { type: 'input_json_delta', partial_json: '"."}' },
      },
      { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 30 } },
      { type: 'message_stop' },
      { type: 'ping', cost: '0.0004' },
    ]);
    expect(parts).toEqual([
      { type: 'reasoning-delta', text: 'hmm' },
      { type: 'reasoning-signature', signature: 'sig' },
      { type: 'text-delta', text: 'Let me look.' },
      { type: 'tool-call-start', index: 0, id: 'toolu_1', name: 'ls' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"dir":' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '"."}' },
      {
        type: 'usage',
        usage: {
          input_tokens: 95,
          cached_input_tokens: 80,
          cache_write_tokens: 5,
          output_tokens: 30,
          reasoning_tokens: 0,
          total_tokens: 125,
        },
      },
      { type: 'cost', usd: 0.0004 },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('maps end_turn and max_tokens', () => {
    expect(run([{ type: 'message_delta', delta: { stop_reason: 'end_turn' } }]).at(-1)).toEqual({
      type: 'finish',
      reason: 'stop',
    });
    expect(run([{ type: 'message_delta', delta: { stop_reason: 'max_tokens' } }]).at(-1)).toEqual({
      type: 'finish',
      reason: 'length',
    });
  });

  it('throws on an error event and on a stream without stop_reason', () => {
    const mapper = new MessagesStreamMapper('minimax-m3');
    expect(() =>
      mapper.push({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    ).toThrow(expect.objectContaining({ code: 'upstream_error' }));
    expect(() => new MessagesStreamMapper('minimax-m3').end()).toThrow(
      /upstream stream ended before finish_reason/,
    );
  });

  it('maps a non-streamed message body', () => {
    expect(
      mapMessagesBody(
        {
          type: 'message',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'tool_use', id: 'toolu_2', name: 'f', input: { a: 1 } },
          ],
          stop_reason: 'tool_use',
          usage: { input_tokens: 1, output_tokens: 2 },
        },
        'minimax-m3',
      ),
    ).toEqual([
      { type: 'text-delta', text: 'hi' },
      { type: 'tool-call-start', index: 0, id: 'toolu_2', name: 'f' },
      { type: 'tool-call-delta', index: 0, argumentsDelta: '{"a":1}' },
      {
        type: 'usage',
        usage: {
          input_tokens: 1,
          cached_input_tokens: 0,
          cache_write_tokens: 0,
          output_tokens: 2,
          reasoning_tokens: 0,
          total_tokens: 3,
        },
      },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });
});
