import { describe, expect, it } from 'vitest';
import { KimiToolTokenFilter } from '../../src/upstream/openai-chat/kimi-tool-tokens.js';

function run(chunks: readonly string[]) {
  const filter = new KimiToolTokenFilter();
  let text = '';
  const calls: { id: string; name: string; arguments: string }[] = [];
  for (const chunk of [...chunks.map((c) => filter.push(c)), filter.end()]) {
    text += chunk.text;
    calls.push(...chunk.calls);
  }
  return { text, calls, sawCalls: filter.sawCalls };
}

describe('KimiToolTokenFilter', () => {
  it('passes plain text through, even a "<|" that turns out not to be a marker', () => {
    expect(run(['a <', '|b| c', ' <|tool'])).toEqual({
      text: 'a <|b| c <|tool',
      calls: [],
      sawCalls: false,
    });
  });

  it('keeps the text on both sides of a section and parses every call in it', () => {
    const section =
      '<|tool_calls_section_begin|> <|tool_call_begin|> functions.list_dir:3 <|tool_call_argument_begin|> {"path":"."} <|tool_call_end|> <|tool_calls_section_end|>';
    const chunks = ['before ', ...section.match(/.{1,7}/gs)!, ' after'];
    expect(run(chunks)).toEqual({
      text: 'before  after',
      calls: [{ id: 'functions.list_dir:3', name: 'list_dir', arguments: '{"path":"."}' }],
      sawCalls: true,
    });
  });

  it('an unclosed section at the end of the stream still yields its complete calls', () => {
    const result = run([
      '<|tool_calls_section_begin|><|tool_call_begin|>functions.git_status:0<|tool_call_argument_begin|>{}<|tool_call_end|>',
    ]);
    expect(result.calls).toEqual([
      { id: 'functions.git_status:0', name: 'git_status', arguments: '{}' },
    ]);
    expect(result.text).toBe('');
  });
});
