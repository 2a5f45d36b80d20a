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
import { KimiToolTokenFilter, type KimiToolCall } from './kimi-tool-tokens.js';
import { mapChatUsage } from './map-chat-usage.js';

/** Chat finish reasons → ours; `function_call` is the legacy spelling of tool calls (§6.2). */
export function mapChatFinishReason(raw: string, sawToolCalls: boolean): FinishReason {
  switch (raw) {
    case 'length':
    case 'max_tokens':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    case 'tool_calls':
    case 'function_call':
    case 'tool_use':
      return 'tool_calls';
    default:
      // Some providers finish a tool-call turn with "stop" (§6.5); unknown values end normally.
      return sawToolCalls ? 'tool_calls' : 'stop';
  }
}

/** The thinking text of a delta or message, from whichever field the provider uses (§6.3). */
export function readReasoning(source: JsonRecord): string | undefined {
  const content = asString(source['reasoning_content']);
  if (content !== undefined && content.length > 0) return content;
  const reasoning = asString(source['reasoning']);
  if (reasoning !== undefined && reasoning.length > 0) return reasoning;
  const details = asArray(source['reasoning_details']);
  if (details === undefined) return undefined;
  const text = details
    .map(
      (detail) =>
        asString(asRecord(detail)?.['text']) ?? asString(asRecord(detail)?.['summary']) ?? '',
    )
    .join('');
  return text.length > 0 ? text : undefined;
}

/**
 * Maps parsed Chat Completions chunks to StreamParts. Content parts come out as they arrive;
 * usage, Zen's cost and the finish part are held until `end()`, because usage and the cost frame
 * trail the finish chunk (and the cost frame may follow `[DONE]`, §5 and §7 item 13).
 */
export class ChatStreamMapper {
  private readonly tools = new ToolCallAssembler();
  private readonly kimi = new KimiToolTokenFilter();
  private finishRaw: string | undefined;
  private usage: TokenUsage | undefined;
  private costUsd: number | undefined;

  constructor(private readonly model: string) {}

  /** True once a finish_reason has arrived; the rest of the stream is bookkeeping. */
  get finished(): boolean {
    return this.finishRaw !== undefined;
  }

  push(chunk: unknown): StreamPart[] {
    const frame = asRecord(chunk);
    if (frame === undefined) throw new TypeError('chunk is not a JSON object');
    const choices = asArray(frame['choices']);
    if (
      frame['error'] !== undefined &&
      frame['error'] !== null &&
      (choices === undefined || choices.length === 0)
    ) {
      throw classifyStreamErrorPayload(frame, this.model);
    }
    const cost = asNumber(frame['cost']);
    if (cost !== undefined) this.costUsd = cost;
    this.readUsage(frame['usage']);

    const choice = asRecord(choices?.[0]);
    if (choice === undefined) return [];
    // Moonshot/Kimi put usage on the choice of the finish chunk (§6.2).
    this.readUsage(choice['usage']);
    const parts: StreamPart[] = [];
    const delta = asRecord(choice['delta']) ?? asRecord(choice['message']);
    if (delta !== undefined) parts.push(...this.mapDelta(delta));
    const finish = asNonEmptyString(choice['finish_reason']);
    if (finish !== undefined) this.finishRaw = finish;
    return parts;
  }

  /** The trailing parts; throws when the upstream never said why it stopped (§6.5). */
  end(): StreamPart[] {
    if (this.finishRaw === undefined) {
      throw new BridgeError(
        'upstream_error',
        `upstream stream ended before finish_reason (model ${this.model})`,
      );
    }
    const leftover = this.kimi.end();
    const parts: StreamPart[] = [];
    if (leftover.text.length > 0) parts.push({ type: 'text-delta', text: leftover.text });
    parts.push(...this.kimiCalls(leftover.calls), ...this.tools.flush());
    if (this.usage !== undefined) parts.push({ type: 'usage', usage: this.usage });
    if (this.costUsd !== undefined) parts.push({ type: 'cost', usd: this.costUsd });
    parts.push({
      type: 'finish',
      reason: mapChatFinishReason(this.finishRaw, this.tools.count > 0),
    });
    return parts;
  }

  /** Calls parsed out of Kimi's leaked tokens join the real ones, each under its own key. */
  private kimiCalls(calls: readonly KimiToolCall[]): StreamPart[] {
    return calls.flatMap((call) =>
      this.tools.push({
        key: `kimi-token:${call.id}:${this.tools.count}`,
        id: call.id,
        name: call.name,
        argumentsDelta: call.arguments,
      }),
    );
  }

  private readUsage(raw: unknown): void {
    const usage = mapChatUsage(raw);
    if (usage !== undefined) this.usage = usage;
  }

  private mapDelta(delta: JsonRecord): StreamPart[] {
    const parts: StreamPart[] = [];
    const reasoning = readReasoning(delta);
    if (reasoning !== undefined) parts.push({ type: 'reasoning-delta', text: reasoning });
    const content = asString(delta['content']);
    if (content !== undefined && content.length > 0) {
      const filtered = this.kimi.push(content);
      if (filtered.text.length > 0) parts.push({ type: 'text-delta', text: filtered.text });
      parts.push(...this.kimiCalls(filtered.calls));
    }
    const refusal = asString(delta['refusal']);
    if (refusal !== undefined && refusal.length > 0)
      parts.push({ type: 'text-delta', text: refusal });
    const toolCalls = asArray(delta['tool_calls']) ?? [];
    toolCalls.forEach((raw, position) => {
      const call = asRecord(raw);
      if (call === undefined) return;
      const fn = asRecord(call['function']);
      const index = asNumber(call['index']);
      parts.push(
        ...this.tools.push({
          key: index ?? position,
          id: asNonEmptyString(call['id']),
          name: asNonEmptyString(fn?.['name']),
          argumentsDelta: asString(fn?.['arguments']) ?? stringifyArguments(fn?.['arguments']),
        }),
      );
    });
    return parts;
  }
}

/** A few servers send arguments as an object instead of a JSON string. */
function stringifyArguments(value: unknown): string | undefined {
  return value !== undefined && value !== null && typeof value === 'object'
    ? JSON.stringify(value)
    : undefined;
}

/**
 * A server that ignored `stream: true` answers one `chat.completion` object; it becomes the same
 * parts a stream would have produced.
 */
export function mapChatCompletionBody(body: unknown, model: string): StreamPart[] {
  const mapper = new ChatStreamMapper(model);
  const root = asRecord(body);
  if (root === undefined) throw new TypeError('body is not a JSON object');
  const parts = mapper.push(root);
  // A complete JSON answer without finish_reason still ended: nothing more will come.
  if (!mapper.finished) mapper.push({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
  return [...parts, ...mapper.end()];
}
