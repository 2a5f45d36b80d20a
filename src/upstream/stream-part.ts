/**
 * The versioned internal stream every upstream adapter produces and every consumer (the
 * Responses writer, the mission runtime, the event log) reads. Adding a field needs three users.
 */
import type { TokenUsage } from '../usage/index.js';

export type { TokenUsage };

export type FinishReason = 'stop' | 'tool_calls' | 'length' | 'content_filter';

export type StreamPart =
  /** First part of every call: which upstream model actually answers (after any fallback). */
  | {
      readonly type: 'response-metadata';
      readonly model: string;
      readonly fallbackFrom?: string;
      readonly attempt: number;
    }
  | { readonly type: 'reasoning-delta'; readonly text: string }
  /**
   * Anthropic Messages: the signature of the thinking block just streamed. It must be sent back
   * with that block on later turns, or the upstream cannot verify (and keep using) the thinking.
   */
  | { readonly type: 'reasoning-signature'; readonly signature: string }
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
    input_tokens: 0,
    cached_input_tokens: 0,
    cache_write_tokens: 0,
    output_tokens: 0,
    reasoning_tokens: 0,
    total_tokens: 0,
  };
}
