/**
 * The versioned internal stream every upstream adapter produces and every consumer (the
 * Responses writer, the mission runtime, the event log) reads. Adding a field needs three users.
 */
export type FinishReason = 'stop' | 'tool_calls' | 'length' | 'content_filter';

export interface TokenUsage {
  /** OpenAI semantics: all prompt tokens, cached ones included. */
  readonly inputTokens: number;
  readonly cachedInputTokens: number;
  readonly cacheWriteTokens: number;
  readonly outputTokens: number;
  readonly reasoningTokens: number;
  readonly totalTokens: number;
}

export type StreamPart =
  /** First part of every call: which upstream model actually answers (after any fallback). */
  | {
      readonly type: 'response-metadata';
      readonly model: string;
      readonly fallbackFrom?: string;
      readonly attempt: number;
    }
  | { readonly type: 'reasoning-delta'; readonly text: string }
  | { readonly type: 'text-delta'; readonly text: string }
  | {
      readonly type: 'tool-call-start';
      readonly index: number;
      readonly id: string;
      readonly name: string;
    }
  | { readonly type: 'tool-call-delta'; readonly index: number; readonly argumentsDelta: string }
  | { readonly type: 'usage'; readonly usage: TokenUsage }
  /** OpenCode Go's trailing cost frame, in US dollars as the upstream billed it. */
  | { readonly type: 'cost'; readonly usd: number }
  | { readonly type: 'finish'; readonly reason: FinishReason };

export const STREAM_PART_VERSION = 1;

export function emptyUsage(): TokenUsage {
  return {
    inputTokens: 0,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    totalTokens: 0,
  };
}
