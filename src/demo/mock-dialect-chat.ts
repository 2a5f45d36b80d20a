import type { ReplySpec } from './mock-reply.js';
import {
  costString,
  dataFrame,
  resolveFinish,
  resolveUsage,
  splitChunks,
  toolCallId,
  type DialectRenderer,
  type Frame,
  type RenderContext,
  type ResolvedUsage,
} from './mock-render.js';

function openAiUsage(usage: ResolvedUsage): Record<string, unknown> {
  return {
    prompt_tokens: usage.prompt,
    completion_tokens: usage.completion,
    total_tokens: usage.total,
    prompt_tokens_details: {
      cached_tokens: usage.cached,
      ...(usage.cacheWrite > 0 ? { cache_write_tokens: usage.cacheWrite } : {}),
    },
    completion_tokens_details: { reasoning_tokens: usage.reasoning },
  };
}

/** Moonshot reports cached tokens at the top level of usage rather than in prompt_tokens_details. */
function moonshotUsage(usage: ResolvedUsage): Record<string, unknown> {
  return {
    prompt_tokens: usage.prompt,
    completion_tokens: usage.completion,
    total_tokens: usage.total,
    cached_tokens: usage.cached,
    completion_tokens_details: { reasoning_tokens: usage.reasoning },
  };
}

function wantsUsageNull(body: Record<string, unknown>): boolean {
  const options = body['stream_options'];
  return (
    typeof options === 'object' &&
    options !== null &&
    (options as Record<string, unknown>)['include_usage'] === true
  );
}

export const chatRenderer: DialectRenderer = {
  stream(spec: ReplySpec, ctx: RenderContext): Frame[] {
    const base = {
      id: `chatcmpl-mock-${ctx.serial}`,
      object: 'chat.completion.chunk',
      created: ctx.created,
      model: ctx.model,
    };
    // OpenAI only adds `usage: null` to ordinary chunks when the client asked for usage.
    const usageNull = wantsUsageNull(ctx.body) ? { usage: null } : {};
    const chunk = (
      delta: Record<string, unknown>,
      finishReason: string | null = null,
    ): Record<string, unknown> => ({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...usageNull,
    });

    const frames: Frame[] = [dataFrame('open', chunk({ role: 'assistant', content: '' }))];
    for (const piece of splitChunks(spec.reasoning, spec.chunkSize)) {
      frames.push(dataFrame('content', chunk({ reasoning_content: piece })));
    }
    for (const piece of splitChunks(spec.text, spec.chunkSize)) {
      frames.push(dataFrame('content', chunk({ content: piece })));
    }
    spec.toolCalls.forEach((call, index) => {
      const id = toolCallId(spec, call, index, ctx, 'call_mock_');
      frames.push(
        dataFrame(
          'content',
          chunk({
            tool_calls: [
              { index, id, type: 'function', function: { name: call.name, arguments: '' } },
            ],
          }),
        ),
      );
      for (const piece of splitChunks(call.arguments, spec.chunkSize)) {
        frames.push(
          dataFrame('content', chunk({ tool_calls: [{ index, function: { arguments: piece } }] })),
        );
      }
    });
    if (spec.noFinish) return frames;

    const usage = resolveUsage(spec, ctx);
    const finish = chunk({}, resolveFinish(spec));
    if (spec.usageInChoice) {
      const [choice] = finish['choices'] as Record<string, unknown>[];
      if (choice !== undefined) choice['usage'] = moonshotUsage(usage);
      frames.push(dataFrame('other', finish));
    } else {
      frames.push(dataFrame('other', finish));
      frames.push(dataFrame('other', { ...base, choices: [], usage: openAiUsage(usage) }));
    }
    frames.push({ kind: 'other', text: 'data: [DONE]\n\n' });
    // Go appends its cost frame after the upstream stream, so it lands behind [DONE].
    if (spec.costUsd !== undefined)
      frames.push(dataFrame('other', { choices: [], cost: costString(spec.costUsd) }));
    return frames;
  },

  json(spec: ReplySpec, ctx: RenderContext): unknown {
    const message: Record<string, unknown> = {
      role: 'assistant',
      content: spec.text === '' ? null : spec.text,
    };
    if (spec.reasoning !== '') message['reasoning_content'] = spec.reasoning;
    if (spec.toolCalls.length > 0) {
      message['tool_calls'] = spec.toolCalls.map((call, index) => ({
        id: toolCallId(spec, call, index, ctx, 'call_mock_'),
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      }));
    }
    const usage = resolveUsage(spec, ctx);
    const body: Record<string, unknown> = {
      id: `chatcmpl-mock-${ctx.serial}`,
      object: 'chat.completion',
      created: ctx.created,
      model: ctx.model,
      choices: [
        {
          index: 0,
          message,
          logprobs: null,
          finish_reason: spec.noFinish ? null : resolveFinish(spec),
          ...(spec.usageInChoice ? { usage: moonshotUsage(usage) } : {}),
        },
      ],
      usage: spec.usageInChoice ? moonshotUsage(usage) : openAiUsage(usage),
    };
    if (spec.costUsd !== undefined) body['cost'] = costString(spec.costUsd);
    return body;
  },
};
