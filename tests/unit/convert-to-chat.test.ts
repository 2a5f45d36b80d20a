import { describe, expect, it } from 'vitest';
import {
  convertToChat,
  encodeReasoning,
  parseResponsesRequest,
} from '../../src/responses/index.js';

const spawnAgent = {
  type: 'function',
  name: 'spawn_agent',
  description: 'Spawn a sub-agent.',
  parameters: { type: 'object', properties: { message: { type: 'string' } } },
  strict: false,
};

function convert(body: Record<string, unknown>) {
  return convertToChat(parseResponsesRequest({ model: 'ocg-kimi-k2.6', ...body }));
}

describe('convertToChat', () => {
  it('turns a plain string input into one user message', () => {
    const { request } = convert({ input: 'hello', instructions: 'be brief' });
    expect(request.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hello' },
    ]);
  });

  it('merges leading developer messages into one system message and keeps user text', () => {
    const { request } = convert({
      input: [
        {
          type: 'message',
          role: 'developer',
          content: [{ type: 'input_text', text: 'base prompt' }],
        },
        {
          type: 'message',
          role: 'developer',
          content: [{ type: 'input_text', text: 'role rules' }],
        },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'do it' }] },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'system', content: 'base prompt\n\nrole rules' },
      { role: 'user', content: 'do it' },
    ]);
  });

  it('flattens namespace tools, converts custom tools and drops hosted ones', () => {
    const conversion = convert({
      input: 'x',
      tools: [
        {
          type: 'function',
          name: 'exec_command',
          parameters: { type: 'object', properties: {} },
          strict: false,
        },
        { type: 'namespace', name: 'multi_agent_v1', description: 'agents', tools: [spawnAgent] },
        {
          type: 'custom',
          name: 'apply_patch',
          description: 'Apply a patch.',
          format: { type: 'grammar', syntax: 'lark', definition: 'start: "x"' },
        },
        { type: 'web_search', external_web_access: false },
      ],
      tool_choice: 'auto',
      parallel_tool_calls: true,
    });
    const names = conversion.request.tools?.map((tool) => tool.function.name);
    expect(names).toEqual(['exec_command', 'multi_agent_v1__spawn_agent', 'apply_patch']);
    expect(conversion.droppedTools).toEqual(['web_search']);
    expect(conversion.toolNames.fromUpstream('multi_agent_v1__spawn_agent')).toEqual({
      name: 'spawn_agent',
      kind: 'function',
      namespace: 'multi_agent_v1',
    });
    expect(conversion.toolNames.fromUpstream('apply_patch')?.kind).toBe('custom');
    const applyPatch = conversion.request.tools?.[2]?.function;
    expect(applyPatch?.parameters).toMatchObject({ required: ['input'] });
    expect(applyPatch?.description).toContain('start: "x"');
    expect(conversion.request.tool_choice).toBe('auto');
    expect(conversion.request.parallel_tool_calls).toBe(true);
  });

  it('groups parallel calls into one assistant message carrying the echoed reasoning', () => {
    const { request } = convert({
      input: [
        { type: 'message', role: 'user', content: 'look around' },
        {
          type: 'reasoning',
          id: 'rs_1',
          summary: [{ type: 'summary_text', text: 'short' }],
          encrypted_content: encodeReasoning('full thinking'),
        },
        {
          type: 'function_call',
          id: 'fc_1',
          call_id: 'call_a',
          name: 'exec_command',
          arguments: '{"cmd":"ls"}',
        },
        {
          type: 'function_call',
          id: 'fc_2',
          call_id: 'call_b',
          name: 'spawn_agent',
          namespace: 'multi_agent_v1',
          arguments: '{}',
        },
        { type: 'function_call_output', call_id: 'call_a', output: 'a.txt' },
        {
          type: 'function_call_output',
          call_id: 'call_b',
          output: [{ type: 'input_text', text: 'agent started' }],
        },
      ],
      tools: [{ type: 'namespace', name: 'multi_agent_v1', tools: [spawnAgent] }],
    });
    expect(request.messages).toEqual([
      { role: 'user', content: 'look around' },
      {
        role: 'assistant',
        content: null,
        reasoning_content: 'full thinking',
        tool_calls: [
          {
            id: 'call_a',
            type: 'function',
            function: { name: 'exec_command', arguments: '{"cmd":"ls"}' },
          },
          {
            id: 'call_b',
            type: 'function',
            function: { name: 'multi_agent_v1__spawn_agent', arguments: '{}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'a.txt' },
      { role: 'tool', tool_call_id: 'call_b', content: 'agent started' },
    ]);
  });

  it('falls back to reasoning_text content, then to the summary, when there is no blob of ours', () => {
    const withContent = convert({
      input: [
        {
          type: 'reasoning',
          summary: [],
          content: [{ type: 'reasoning_text', text: 'raw' }],
          encrypted_content: 'gAAAA-openai-blob',
        },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'done' }] },
      ],
    });
    expect(withContent.request.messages[0]).toEqual({
      role: 'assistant',
      content: 'done',
      reasoning_content: 'raw',
    });
    const summaryOnly = convert({
      input: [
        {
          type: 'reasoning',
          summary: [
            { type: 'summary_text', text: 's1' },
            { type: 'summary_text', text: 's2' },
          ],
        },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: 'ok' },
      ],
    });
    expect(summaryOnly.request.messages[0]).toMatchObject({ reasoning_content: 's1\n\ns2' });
  });

  it('round-trips custom tool calls as a JSON input argument', () => {
    const { request } = convert({
      input: [
        { type: 'custom_tool_call', call_id: 'c9', name: 'apply_patch', input: '*** Begin Patch' },
        { type: 'custom_tool_call_output', call_id: 'c9', output: 'Done!' },
      ],
      tools: [{ type: 'custom', name: 'apply_patch' }],
    });
    expect(request.messages[0]).toMatchObject({
      role: 'assistant',
      tool_calls: [
        { id: 'c9', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch"}' } },
      ],
    });
    expect(request.messages[1]).toEqual({ role: 'tool', tool_call_id: 'c9', content: 'Done!' });
  });

  it('repairs an orphan output and an unanswered call instead of sending an invalid chat', () => {
    const { request } = convert({
      input: [
        { type: 'function_call_output', call_id: 'ghost', output: 'stale' },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
        { type: 'message', role: 'user', content: 'never mind' },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'user', content: '[output of tool call ghost]\nstale' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      {
        role: 'tool',
        tool_call_id: 'c1',
        content: '[no output: this call was interrupted before it returned]',
      },
      { role: 'user', content: 'never mind' },
    ]);
  });

  it('maps generation settings', () => {
    const { request } = convert({
      input: 'x',
      reasoning: { effort: 'high', summary: 'auto' },
      text: {
        format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true },
      },
      max_output_tokens: 256,
      temperature: 0.2,
      tools: [spawnAgent],
      tool_choice: { type: 'function', name: 'spawn_agent' },
    });
    expect(request).toMatchObject({
      reasoning_effort: 'high',
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'out', schema: { type: 'object' }, strict: true },
      },
      max_tokens: 256,
      temperature: 0.2,
      tool_choice: { type: 'function', function: { name: 'spawn_agent' } },
    });
  });

  it('keeps images for the upstream to filter by model capability', () => {
    const { request } = convert({
      input: [
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'what is this?' },
            { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'high' },
          ],
        },
      ],
    });
    expect(request.messages[0]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'what is this?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'high' } },
      ],
    });
  });
});

describe('parseResponsesRequest', () => {
  it('names the exact field of a bad item', () => {
    expect(() =>
      parseResponsesRequest({
        model: 'm',
        input: [
          { type: 'message', role: 'user', content: 'x' },
          { type: 'function_call', name: 'f', arguments: '{}' },
        ],
      }),
    ).toThrow(/input\[1\]\.call_id/);
  });

  it('rejects an unknown item type with the list of supported ones', () => {
    expect(() => parseResponsesRequest({ model: 'm', input: [{ type: 'teleport' }] })).toThrow(
      /input\[0\]: unsupported input item \(type "teleport"\)/,
    );
  });

  it('accepts and skips item kinds a chat upstream has no use for', () => {
    const request = parseResponsesRequest({
      model: 'm',
      input: [
        { type: 'item_reference', id: 'x' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(convertToChat(request).request.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('requires a model and an input', () => {
    expect(() => parseResponsesRequest({ input: 'x' })).toThrow(/model/);
    expect(() => parseResponsesRequest({ model: 'm' })).toThrow(/input/);
    expect(() => parseResponsesRequest([])).toThrow(/JSON object/);
  });
});
