import type { MockFinishReason, ReplySpec } from './mock-reply.js';
import {
  argumentsObject,
  costString,
  eventFrame,
  resolveFinish,
  resolveUsage,
  splitChunks,
  toolCallId,
  type DialectRenderer,
  type Frame,
  type RenderContext,
  type ResolvedUsage,
} from './mock-render.js';

const STOP_REASONS: Record<MockFinishReason, string> = {
  stop: 'end_turn',
  tool_calls: 'tool_use',
  length: 'max_tokens',
  content_filter: 'refusal',
};

/** Anthropic's input_tokens excludes cache reads and writes, which are reported separately. */
function startUsage(usage: ResolvedUsage): Record<string, number> {
  return {
    input_tokens: usage.prompt - usage.cached - usage.cacheWrite,
    cache_read_input_tokens: usage.cached,
    cache_creation_input_tokens: usage.cacheWrite,
    output_tokens: 1,
  };
}

function signatureFor(ctx: RenderContext): string {
  return `mock-signature-${ctx.serial}`;
}

export const messagesRenderer: DialectRenderer = {
  stream(spec: ReplySpec, ctx: RenderContext): Frame[] {
    const usage = resolveUsage(spec, ctx);
    const frames: Frame[] = [
      eventFrame('open', 'message_start', {
        type: 'message_start',
        message: {
          id: `msg_mock_${ctx.serial}`,
          type: 'message',
          role: 'assistant',
          model: ctx.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: startUsage(usage),
        },
      }),
    ];
    let index = 0;
    const block = (start: Record<string, unknown>, deltas: Record<string, unknown>[]): void => {
      frames.push(
        eventFrame('other', 'content_block_start', {
          type: 'content_block_start',
          index,
          content_block: start,
        }),
      );
      for (const delta of deltas) {
        const kind = delta['type'] === 'signature_delta' ? 'other' : 'content';
        frames.push(
          eventFrame(kind, 'content_block_delta', { type: 'content_block_delta', index, delta }),
        );
      }
      frames.push(eventFrame('other', 'content_block_stop', { type: 'content_block_stop', index }));
      index += 1;
    };

    if (spec.reasoning !== '') {
      block({ type: 'thinking', thinking: '', signature: '' }, [
        ...splitChunks(spec.reasoning, spec.chunkSize).map((thinking) => ({
          type: 'thinking_delta',
          thinking,
        })),
        { type: 'signature_delta', signature: signatureFor(ctx) },
      ]);
    }
    if (spec.text !== '') {
      block(
        { type: 'text', text: '' },
        splitChunks(spec.text, spec.chunkSize).map((text) => ({ type: 'text_delta', text })),
      );
    }
    spec.toolCalls.forEach((call, callIndex) => {
      block(
        {
          type: 'tool_use',
          id: toolCallId(spec, call, callIndex, ctx, 'toolu_mock_'),
          name: call.name,
          input: {},
        },
        splitChunks(call.arguments, spec.chunkSize).map((partial_json) => ({
          type: 'input_json_delta',
          partial_json,
        })),
      );
    });
    if (spec.noFinish) return frames;

    frames.push(
      eventFrame('other', 'message_delta', {
        type: 'message_delta',
        delta: { stop_reason: STOP_REASONS[resolveFinish(spec)], stop_sequence: null },
        usage: { output_tokens: usage.completion },
      }),
      eventFrame('other', 'message_stop', { type: 'message_stop' }),
    );
    if (spec.costUsd !== undefined) {
      frames.push(eventFrame('other', 'ping', { type: 'ping', cost: costString(spec.costUsd) }));
    }
    return frames;
  },

  json(spec: ReplySpec, ctx: RenderContext): unknown {
    const usage = resolveUsage(spec, ctx);
    const content: Record<string, unknown>[] = [];
    if (spec.reasoning !== '')
      content.push({ type: 'thinking', thinking: spec.reasoning, signature: signatureFor(ctx) });
    if (spec.text !== '') content.push({ type: 'text', text: spec.text });
    spec.toolCalls.forEach((call, index) => {
      content.push({
        type: 'tool_use',
        id: toolCallId(spec, call, index, ctx, 'toolu_mock_'),
        name: call.name,
        input: argumentsObject(call.arguments),
      });
    });
    const body: Record<string, unknown> = {
      id: `msg_mock_${ctx.serial}`,
      type: 'message',
      role: 'assistant',
      model: ctx.model,
      content,
      stop_reason: spec.noFinish ? null : STOP_REASONS[resolveFinish(spec)],
      stop_sequence: null,
      usage: { ...startUsage(usage), output_tokens: usage.completion },
    };
    if (spec.costUsd !== undefined) body['cost'] = costString(spec.costUsd);
    return body;
  },
};
