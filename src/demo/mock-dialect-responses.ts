import type { ReplySpec } from './mock-reply.js';
import {
  costString,
  eventFrame,
  resolveFinish,
  resolveUsage,
  splitChunks,
  toolCallId,
  type DialectRenderer,
  type Frame,
  type FrameKind,
  type RenderContext,
  type ResolvedUsage,
} from './mock-render.js';

type Item = Record<string, unknown>;

function responsesUsage(usage: ResolvedUsage): Record<string, unknown> {
  return {
    input_tokens: usage.prompt,
    input_tokens_details: { cached_tokens: usage.cached },
    output_tokens: usage.completion,
    output_tokens_details: { reasoning_tokens: usage.reasoning },
    total_tokens: usage.total,
  };
}

function terminal(spec: ReplySpec): { status: 'completed' | 'incomplete'; reason: string | null } {
  switch (resolveFinish(spec)) {
    case 'length':
      return { status: 'incomplete', reason: 'max_output_tokens' };
    case 'content_filter':
      return { status: 'incomplete', reason: 'content_filter' };
    case 'stop':
    case 'tool_calls':
      return { status: 'completed', reason: null };
  }
}

function responseObject(
  ctx: RenderContext,
  status: string,
  output: Item[],
  usage: ResolvedUsage | null,
  incompleteReason: string | null = null,
): Item {
  const body = ctx.body;
  return {
    id: `resp_mock_${ctx.serial}`,
    object: 'response',
    created_at: ctx.created,
    status,
    model: ctx.model,
    output,
    error: null,
    incomplete_details: incompleteReason === null ? null : { reason: incompleteReason },
    instructions: body['instructions'] ?? null,
    tools: body['tools'] ?? [],
    tool_choice: body['tool_choice'] ?? 'auto',
    parallel_tool_calls: body['parallel_tool_calls'] ?? true,
    temperature: body['temperature'] ?? null,
    top_p: body['top_p'] ?? null,
    max_output_tokens: body['max_output_tokens'] ?? null,
    previous_response_id: null,
    reasoning: body['reasoning'] ?? null,
    store: body['store'] ?? false,
    metadata: body['metadata'] ?? {},
    usage: usage === null ? null : responsesUsage(usage),
  };
}

/** The finished output items, shared by the stream's done events and the JSON body. */
function finishedItems(spec: ReplySpec, ctx: RenderContext): Item[] {
  const { status } = terminal(spec);
  const items: Item[] = [];
  if (spec.reasoning !== '') {
    items.push({
      id: `rs_mock_${ctx.serial}`,
      type: 'reasoning',
      summary: [{ type: 'summary_text', text: spec.reasoning }],
    });
  }
  if (spec.text !== '') {
    items.push({
      id: `msg_mock_${ctx.serial}`,
      type: 'message',
      role: 'assistant',
      status,
      content: [{ type: 'output_text', text: spec.text, annotations: [] }],
    });
  }
  spec.toolCalls.forEach((call, index) => {
    items.push({
      id: `fc_mock_${ctx.serial}_${index}`,
      type: 'function_call',
      status: 'completed',
      call_id: toolCallId(spec, call, index, ctx, 'call_mock_'),
      name: call.name,
      ...(call.namespace === undefined ? {} : { namespace: call.namespace }),
      arguments: call.arguments,
    });
  });
  return items;
}

export const responsesRenderer: DialectRenderer = {
  stream(spec: ReplySpec, ctx: RenderContext): Frame[] {
    const events: { kind: FrameKind; payload: Item }[] = [];
    const emit = (kind: FrameKind, type: string, fields: Item): void => {
      events.push({ kind, payload: { type, ...fields } });
    };
    const items = finishedItems(spec, ctx);

    emit('open', 'response.created', { response: responseObject(ctx, 'in_progress', [], null) });
    emit('open', 'response.in_progress', {
      response: responseObject(ctx, 'in_progress', [], null),
    });

    items.forEach((item, output_index) => {
      const item_id = item['id'];
      switch (item['type']) {
        case 'reasoning': {
          emit('other', 'response.output_item.added', {
            output_index,
            item: { id: item_id, type: 'reasoning', summary: [] },
          });
          const where = { item_id, output_index, summary_index: 0 };
          emit('other', 'response.reasoning_summary_part.added', {
            ...where,
            part: { type: 'summary_text', text: '' },
          });
          for (const delta of splitChunks(spec.reasoning, spec.chunkSize)) {
            emit('content', 'response.reasoning_summary_text.delta', { ...where, delta });
          }
          emit('other', 'response.reasoning_summary_text.done', { ...where, text: spec.reasoning });
          emit('other', 'response.reasoning_summary_part.done', {
            ...where,
            part: { type: 'summary_text', text: spec.reasoning },
          });
          break;
        }
        case 'message': {
          emit('other', 'response.output_item.added', {
            output_index,
            item: { ...item, status: 'in_progress', content: [] },
          });
          const where = { item_id, output_index, content_index: 0 };
          emit('other', 'response.content_part.added', {
            ...where,
            part: { type: 'output_text', text: '', annotations: [] },
          });
          for (const delta of splitChunks(spec.text, spec.chunkSize)) {
            emit('content', 'response.output_text.delta', { ...where, delta, logprobs: [] });
          }
          emit('other', 'response.output_text.done', { ...where, text: spec.text, logprobs: [] });
          emit('other', 'response.content_part.done', {
            ...where,
            part: { type: 'output_text', text: spec.text, annotations: [] },
          });
          break;
        }
        default: {
          const args = typeof item['arguments'] === 'string' ? item['arguments'] : '';
          emit('other', 'response.output_item.added', {
            output_index,
            item: { ...item, status: 'in_progress', arguments: '' },
          });
          for (const delta of splitChunks(args, spec.chunkSize)) {
            emit('content', 'response.function_call_arguments.delta', {
              item_id,
              output_index,
              delta,
            });
          }
          emit('other', 'response.function_call_arguments.done', {
            item_id,
            output_index,
            name: item['name'],
            arguments: args,
          });
        }
      }
      emit('other', 'response.output_item.done', { output_index, item });
    });

    if (!spec.noFinish) {
      const { status, reason } = terminal(spec);
      emit('other', `response.${status}`, {
        response: responseObject(ctx, status, items, resolveUsage(spec, ctx), reason),
      });
    }

    const frames = events.map(({ kind, payload }, sequence_number) => {
      const { type, ...rest } = payload;
      return eventFrame(kind, String(type), { type, sequence_number, ...rest });
    });
    if (!spec.noFinish && spec.costUsd !== undefined) {
      frames.push(eventFrame('other', 'ping', { type: 'ping', cost: costString(spec.costUsd) }));
    }
    return frames;
  },

  json(spec: ReplySpec, ctx: RenderContext): unknown {
    const { status, reason } = terminal(spec);
    const body = responseObject(
      ctx,
      spec.noFinish ? 'in_progress' : status,
      finishedItems(spec, ctx),
      resolveUsage(spec, ctx),
      reason,
    );
    if (spec.costUsd !== undefined) body['cost'] = costString(spec.costUsd);
    return body;
  },
};
