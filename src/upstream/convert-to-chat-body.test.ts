import { describe, expect, it } from 'vitest';
import { modelTable, type ModelEntry } from '../models/index.js';
import type { ChatRequest } from './chat-request.js';
import { convertToChatBody, imageOmittedNote } from './openai-chat/convert-to-chat-body.js';
import { mapReasoningEffort } from './reasoning-effort.js';

function entry(id: string): ModelEntry {
  const found = modelTable.find((row) => row.id === id);
  if (!found) throw new Error(`no table row ${id}`);
  return found;
}

const toolTurn: ChatRequest = {
  messages: [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'read a' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'read', arguments: '{"p":"a"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: 'A' },
    { role: 'assistant', content: 'ok', reasoning_content: 'old thoughts' },
  ],
};

describe('convertToChatBody', () => {
  it('always streams with usage and uses the entry id', () => {
    const body = convertToChatBody(toolTurn, entry('deepseek-v4-pro'));
    expect(body).toMatchObject({
      model: 'deepseek-v4-pro',
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('gives every assistant tool-call turn reasoning_content, even empty, for reasoning models', () => {
    const body = convertToChatBody(toolTurn, entry('deepseek-v4-pro'));
    const messages = body['messages'] as Record<string, unknown>[];
    expect(messages[2]).toMatchObject({ role: 'assistant', reasoning_content: '' });
    expect(messages[4]).toMatchObject({
      role: 'assistant',
      content: 'ok',
      reasoning_content: 'old thoughts',
    });
  });

  it('drops reasoning_content for models without a reasoning field', () => {
    const plain: ModelEntry = { ...entry('deepseek-v4-pro'), id: 'plain', reasoningField: null };
    const messages = convertToChatBody(toolTurn, plain)['messages'] as Record<string, unknown>[];
    expect(messages[2]).not.toHaveProperty('reasoning_content');
    expect(messages[4]).not.toHaveProperty('reasoning_content');
  });

  it('replaces images with a note for text-only models and keeps them otherwise', () => {
    const request: ChatRequest = {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
      ],
    };
    const flash = convertToChatBody(request, entry('deepseek-v4-flash'))['messages'] as Record<
      string,
      unknown
    >[];
    expect(flash[0]).toEqual({ role: 'user', content: `what is this?\n${imageOmittedNote}` });
    const kimi = convertToChatBody(request, entry('kimi-k2.6'))['messages'] as Record<
      string,
      unknown
    >[];
    expect(kimi[0]?.['content']).toEqual(request.messages[0]?.content);
  });

  it('maps reasoning_effort to the nearest accepted value and omits it when none is accepted', () => {
    const request: ChatRequest = {
      messages: [{ role: 'user', content: 'x' }],
      reasoning_effort: 'xhigh',
    };
    expect(convertToChatBody(request, entry('deepseek-v4-pro'))['reasoning_effort']).toBe('high');
    expect(
      convertToChatBody({ ...request, reasoning_effort: 'minimal' }, entry('deepseek-v4-flash'))[
        'reasoning_effort'
      ],
    ).toBe('low');
    expect(
      convertToChatBody({ ...request, reasoning_effort: 'low' }, entry('glm-5.2'))[
        'reasoning_effort'
      ],
    ).toBe('high');
    expect(convertToChatBody(request, entry('kimi-k2.6'))).not.toHaveProperty('reasoning_effort');
  });

  it('forces a fixed temperature and passes the other knobs through', () => {
    const request: ChatRequest = {
      messages: [{ role: 'user', content: 'x' }],
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 100,
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
      response_format: { type: 'json_object' },
    };
    const body = convertToChatBody(request, entry('kimi-k2.6'));
    expect(body).toMatchObject({
      temperature: 1,
      top_p: 0.9,
      max_tokens: 100,
      tools: request.tools,
      tool_choice: 'required',
      parallel_tool_calls: false,
      response_format: { type: 'json_object' },
    });
    expect(convertToChatBody(request, entry('deepseek-v4-pro'))['temperature']).toBe(0.2);
  });

  it('leaves tool_choice out when there are no tools', () => {
    const body = convertToChatBody(
      { messages: [{ role: 'user', content: 'x' }], tool_choice: 'none' },
      entry('glm-5.2'),
    );
    expect(body).not.toHaveProperty('tool_choice');
  });
});

describe('mapReasoningEffort', () => {
  it('picks exact, nearest, or nothing', () => {
    expect(mapReasoningEffort('high', ['low', 'high'])).toBe('high');
    expect(mapReasoningEffort('xhigh', ['high', 'max'])).toBe('high');
    expect(mapReasoningEffort('xhigh', ['max'])).toBe('max');
    expect(mapReasoningEffort('medium', ['low', 'high', 'max'])).toBe('low');
    expect(mapReasoningEffort('minimal', ['low', 'medium', 'high', 'max'])).toBe('low');
    expect(mapReasoningEffort('high', [])).toBeUndefined();
    expect(mapReasoningEffort(undefined, ['high'])).toBeUndefined();
  });
});
