import type { MockFinishReason, ReplySpec, ScriptedToolCall } from './mock-reply.js';

/**
 * `open` frames (chat role chunk, message_start, response.created…) always go out; failure
 * injection counts only `content` frames (reasoning, text and argument deltas), so
 * `hangAfterChunks(2)` means "two pieces of model output, then silence" in every dialect.
 */
export type FrameKind = 'open' | 'content' | 'other';

export interface Frame {
  readonly kind: FrameKind;
  readonly text: string;
}

export interface RenderContext {
  /** Per-server reply counter; makes ids unique and deterministic. */
  readonly serial: number;
  readonly model: string;
  readonly body: Record<string, unknown>;
  /** Unix seconds. */
  readonly created: number;
}

export interface DialectRenderer {
  stream(spec: ReplySpec, ctx: RenderContext): Frame[];
  json(spec: ReplySpec, ctx: RenderContext): unknown;
}

export interface ResolvedUsage {
  readonly prompt: number;
  readonly completion: number;
  readonly cached: number;
  readonly cacheWrite: number;
  readonly reasoning: number;
  readonly total: number;
}

const CHARS_PER_TOKEN = 4;

function estimateTokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

export function resolveUsage(spec: ReplySpec, ctx: RenderContext): ResolvedUsage {
  if (spec.usage !== undefined) {
    const { prompt_tokens: prompt, completion_tokens: completion } = spec.usage;
    return {
      prompt,
      completion,
      cached: spec.usage.cached_tokens ?? 0,
      cacheWrite: spec.usage.cache_write_tokens ?? 0,
      reasoning: spec.usage.reasoning_tokens ?? 0,
      total: prompt + completion,
    };
  }
  const promptSource = ctx.body['messages'] ?? ctx.body['input'] ?? ctx.body;
  const prompt = Math.max(1, estimateTokens(JSON.stringify(promptSource).length));
  const reasoning = estimateTokens(spec.reasoning.length);
  const visibleChars =
    spec.text.length +
    spec.toolCalls.reduce((sum, call) => sum + call.name.length + call.arguments.length, 0);
  const completion = Math.max(1, reasoning + estimateTokens(visibleChars));
  return { prompt, completion, cached: 0, cacheWrite: 0, reasoning, total: prompt + completion };
}

/** Splits on code points so a chunk boundary never cuts a surrogate pair in half. */
export function splitChunks(text: string, size: number): string[] {
  const chars = Array.from(text);
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += size) pieces.push(chars.slice(i, i + size).join(''));
  return pieces;
}

export function dataFrame(kind: FrameKind, payload: unknown): Frame {
  return { kind, text: `data: ${JSON.stringify(payload)}\n\n` };
}

export function eventFrame(kind: FrameKind, event: string, payload: unknown): Frame {
  return { kind, text: `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n` };
}

export function resolveFinish(spec: ReplySpec): MockFinishReason {
  return spec.finishReason ?? (spec.toolCalls.length > 0 ? 'tool_calls' : 'stop');
}

export function toolCallId(
  spec: ReplySpec,
  call: ScriptedToolCall,
  index: number,
  ctx: RenderContext,
  prefix: string,
): string {
  if (call.id !== undefined) return call.id;
  if (spec.kimiIds) return `functions.${call.name}:${index}`;
  return `${prefix}${ctx.serial}_${index}`;
}

/** OpenCode Go sends cost as a decimal string. */
export function costString(usd: number): string {
  return String(usd);
}

/** Arguments as an object for dialects that carry tool input as JSON (Anthropic `input`). */
export function argumentsObject(args: string): unknown {
  try {
    return JSON.parse(args) as unknown;
  } catch {
    return { _raw: args };
  }
}
