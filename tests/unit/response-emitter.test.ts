import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../src/errors/index.js';
import { decodeReasoning, ResponseEmitter, type ResponseEvent } from '../../src/responses/index.js';
import { emptyUsage } from '../../src/upstream/index.js';

function collect(holdItemDone: boolean) {
  const events: ResponseEvent[] = [];
  const emitter = new ResponseEmitter({
    model: 'ocg-kimi-k2.6',
    sink: { write: (event) => events.push(event) },
    holdItemDone,
    includeEncryptedReasoning: true,
  });
  return { emitter, events, types: () => events.map((event) => event.type) };
}

describe('ResponseEmitter', () => {
  it('emits the canonical order for reasoning, text and a namespaced call, done events held to the end', () => {
    const { emitter, events, types } = collect(true);
    emitter.start();
    const reasoning = emitter.addReasoning();
    reasoning.delta('think');
    const message = emitter.addMessage();
    reasoning.finish();
    message.delta('Hel');
    message.delta('lo');
    const call = emitter.addFunctionCall({
      callId: 'call_1',
      name: 'spawn_agent',
      namespace: 'multi_agent_v1',
    });
    call.delta('{"message":');
    call.delta('"hi"}');
    message.finish();
    call.finish();
    expect(types().filter((type) => type.endsWith('.done'))).toEqual([]);
    emitter.complete({ ...emptyUsage(), input_tokens: 10, output_tokens: 5, total_tokens: 15 });

    expect(types()).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const completed = events.at(-1)?.['response'] as {
      output: Record<string, unknown>[];
      usage: Record<string, unknown>;
    };
    expect(completed.output.map((item) => item['type'])).toEqual([
      'reasoning',
      'message',
      'function_call',
    ]);
    expect(completed.output[2]).toMatchObject({
      namespace: 'multi_agent_v1',
      name: 'spawn_agent',
      arguments: '{"message":"hi"}',
    });
    expect(decodeReasoning(completed.output[0]?.['encrypted_content'] as string)).toBe('think');
    expect(completed.usage).toEqual({
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 5,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 15,
    });
  });

  it('drops held items on failure so a retrying client never keeps half an answer', () => {
    const { emitter, events, types } = collect(true);
    const message = emitter.addMessage();
    message.delta('partial');
    message.finish();
    emitter.fail(new BridgeError('rate_limit_exceeded', 'Rate limited; try again in 3s.'));
    expect(types()).not.toContain('response.output_item.done');
    const failed = events.at(-1)?.['response'] as {
      status: string;
      error: unknown;
      output: unknown[];
    };
    expect(failed).toMatchObject({
      status: 'failed',
      error: { code: 'rate_limit_exceeded', message: 'Rate limited; try again in 3s.' },
      output: [],
    });
  });

  it('writes items through immediately when not holding, and ends only once', () => {
    const { emitter, types } = collect(false);
    emitter.message('progress', { phase: 'commentary' });
    expect(types()).toContain('response.output_item.done');
    emitter.complete();
    emitter.fail(new BridgeError('internal_error', 'late'));
    expect(
      types().filter((type) => type.startsWith('response.completed') || type === 'response.failed'),
    ).toEqual(['response.completed']);
    expect(emitter.response()['output']).toEqual([
      expect.objectContaining({
        type: 'message',
        phase: 'commentary',
        content: [{ type: 'output_text', text: 'progress', annotations: [] }],
      }),
    ]);
  });

  it('reports truncation as incomplete with the reason', () => {
    const { emitter, events } = collect(true);
    emitter.message('cut');
    emitter.incomplete('max_output_tokens');
    expect(events.at(-1)).toMatchObject({
      type: 'response.incomplete',
      response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    });
  });
});
