import { BridgeError } from '../../errors/index.js';
import { classifyStreamErrorPayload } from '../classify-upstream-error.js';
import {
  asArray,
  asNonEmptyString,
  asNumber,
  asRecord,
  asString,
  type JsonRecord,
} from '../json-fields.js';
import type { FinishReason, StreamPart, TokenUsage } from '../stream-part.js';
import { ToolCallAssembler } from '../tool-call-assembler.js';

export function mapMessagesStopReason(raw: string): FinishReason {
  switch (raw) {
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

interface UsageFields {
  input?: number | undefined;
  cacheRead?: number | undefined;
  cacheCreation?: number | undefined;
  output?: number | undefined;
}

/**
 * Anthropic Messages stream events → StreamParts (wire-protocol.md §6.6). Like the Chat mapper,
 * usage, Zen's trailing `ping` cost and the finish part are emitted by `end()`.
 */
export class MessagesStreamMapper {
  private readonly tools = new ToolCallAssembler();
  private readonly usageFields: UsageFields = {};
  private stopReason: string | undefined;
  private costUsd: number | undefined;

  constructor(private readonly model: string) {}

  get finished(): boolean {
    return this.stopReason !== undefined;
  }

  push(payload: unknown): StreamPart[] {
    const event = asRecord(payload);
    if (event === undefined) throw new TypeError('event is not a JSON object');
    switch (asString(event['type']) ?? '') {
      case 'message_start':
        this.readUsage(asRecord(event['message'])?.['usage']);
        return [];
      case 'content_block_start':
        return this.blockStart(asNumber(event['index']) ?? 0, asRecord(event['content_block']));
      case 'content_block_delta':
        return this.blockDelta(asNumber(event['index']) ?? 0, asRecord(event['delta']));
      case 'message_delta': {
        const stop = asNonEmptyString(asRecord(event['delta'])?.['stop_reason']);
        if (stop !== undefined) this.stopReason = stop;
        this.readUsage(event['usage']);
        return [];
      }
      case 'ping': {
        // Zen appends `event: ping` with the cost after the upstream stream ends (§5).
        const cost = asNumber(event['cost']);
        if (cost !== undefined) this.costUsd = cost;
        return [];
      }
      case 'error':
        throw classifyStreamErrorPayload(event, this.model);
      default:
        return [];
    }
  }

  end(): StreamPart[] {
    if (this.stopReason === undefined) {
      throw new BridgeError(
        'upstream_error',
        `upstream stream ended before finish_reason (model ${this.model})`,
      );
    }
    const parts: StreamPart[] = this.tools.flush();
    const usage = this.usage();
    if (usage !== undefined) parts.push({ type: 'usage', usage });
    if (this.costUsd !== undefined) parts.push({ type: 'cost', usd: this.costUsd });
    const reason = mapMessagesStopReason(this.stopReason);
    parts.push({
      type: 'finish',
      reason: reason === 'stop' && this.tools.count > 0 ? 'tool_calls' : reason,
    });
    return parts;
  }

  private blockStart(index: number, block: JsonRecord | undefined): StreamPart[] {
    if (block === undefined) return [];
    switch (asString(block['type']) ?? '') {
      case 'text': {
        const text = asString(block['text']);
        return text !== undefined && text.length > 0 ? [{ type: 'text-delta', text }] : [];
      }
      case 'thinking': {
        const text = asString(block['thinking']);
        const signature = asString(block['signature']);
        return [
          ...(text !== undefined && text.length > 0
            ? [{ type: 'reasoning-delta' as const, text }]
            : []),
          ...(signature !== undefined && signature.length > 0
            ? [{ type: 'reasoning-signature' as const, signature }]
            : []),
        ];
      }
      case 'tool_use': {
        const input = asRecord(block['input']);
        const initial =
          input !== undefined && Object.keys(input).length > 0 ? JSON.stringify(input) : undefined;
        return this.tools.push({
          key: index,
          id: asNonEmptyString(block['id']),
          name: asNonEmptyString(block['name']),
          argumentsDelta: initial,
        });
      }
      default:
        return [];
    }
  }

  private blockDelta(index: number, delta: JsonRecord | undefined): StreamPart[] {
    if (delta === undefined) return [];
    switch (asString(delta['type']) ?? '') {
      case 'text_delta': {
        const text = asString(delta['text']);
        return text !== undefined && text.length > 0 ? [{ type: 'text-delta', text }] : [];
      }
      case 'thinking_delta': {
        const text = asString(delta['thinking']);
        return text !== undefined && text.length > 0 ? [{ type: 'reasoning-delta', text }] : [];
      }
      case 'input_json_delta':
        return this.tools.push({
          key: index,
          id: undefined,
          name: undefined,
          argumentsDelta: asString(delta['partial_json']),
        });
      case 'signature_delta': {
        const signature = asString(delta['signature']);
        return signature !== undefined && signature.length > 0
          ? [{ type: 'reasoning-signature', signature }]
          : [];
      }
      default:
        return [];
    }
  }

  private readUsage(raw: unknown): void {
    const usage = asRecord(raw);
    if (usage === undefined) return;
    const fields = this.usageFields;
    fields.input = asNumber(usage['input_tokens']) ?? fields.input;
    fields.cacheRead = asNumber(usage['cache_read_input_tokens']) ?? fields.cacheRead;
    fields.cacheCreation = asNumber(usage['cache_creation_input_tokens']) ?? fields.cacheCreation;
    fields.output = asNumber(usage['output_tokens']) ?? fields.output;
  }

  /** OpenAI semantics (§6.4): input counts cache reads and writes too; cached = cache reads. */
  private usage(): TokenUsage | undefined {
    const fields = this.usageFields;
    if (fields.input === undefined && fields.output === undefined) return undefined;
    const cached_input_tokens = fields.cacheRead ?? 0;
    const cache_write_tokens = fields.cacheCreation ?? 0;
    const input_tokens = (fields.input ?? 0) + cached_input_tokens + cache_write_tokens;
    const output_tokens = fields.output ?? 0;
    return {
      input_tokens,
      cached_input_tokens,
      cache_write_tokens,
      output_tokens,
      reasoning_tokens: 0,
      total_tokens: input_tokens + output_tokens,
    };
  }
}

/** A non-streamed Messages answer (`{type:"message", content:[…]}`) as the same parts. */
export function mapMessagesBody(body: unknown, model: string): StreamPart[] {
  const message = asRecord(body);
  if (message === undefined) throw new TypeError('body is not a JSON object');
  if (asString(message['type']) === 'error') throw classifyStreamErrorPayload(message, model);
  const mapper = new MessagesStreamMapper(model);
  const parts: StreamPart[] = [];
  parts.push(...mapper.push({ type: 'message_start', message: { usage: message['usage'] } }));
  (asArray(message['content']) ?? []).forEach((block, index) => {
    parts.push(...mapper.push({ type: 'content_block_start', index, content_block: block }));
  });
  parts.push(
    ...mapper.push({
      type: 'message_delta',
      delta: { stop_reason: asNonEmptyString(message['stop_reason']) ?? 'end_turn' },
    }),
  );
  const cost = asNumber(message['cost']);
  if (cost !== undefined) mapper.push({ type: 'ping', cost });
  return [...parts, ...mapper.end()];
}
