import type { BridgeError } from '../errors/index.js';
import type { ModelEntry } from '../models/index.js';
import type { ChatRequest } from './chat-request.js';
import type { FinishReason, StreamPart, TokenUsage } from './stream-part.js';

/** Something the client did on its own that the caller may want to show or record. */
export type AttemptEvent =
  | {
      readonly type: 'retry';
      readonly model: string;
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: BridgeError;
    }
  | {
      readonly type: 'fallback';
      readonly from: string;
      readonly to: string;
      readonly error: BridgeError;
    }
  | { readonly type: 'queued'; readonly model: string; readonly position: number };

export interface ModelCall {
  /** The primary model first, then its fallbacks in order (already filtered for downgrades). */
  readonly chain: readonly ModelEntry[];
  readonly request: ChatRequest;
  /** Aborting it cancels the upstream request and frees the concurrency slot. */
  readonly signal: AbortSignal;
  /** Sent as x-opencode-session so OpenCode Go keeps routing a thread to one provider (cache hits). */
  readonly sessionKey?: string;
  readonly onAttempt?: (event: AttemptEvent) => void;
  /** Overrides UPSTREAM_TIMEOUT_SECONDS for this call (the mission runtime's deadline). */
  readonly totalTimeoutMs?: number;
  /** The setting that sets `totalTimeoutMs`, named in the timeout's error message. */
  readonly totalTimeoutSetting?: string;
}

export interface CompletedToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

export interface CompletedCall {
  readonly model: string;
  readonly fallbackFrom?: string;
  readonly text: string;
  readonly reasoning: string;
  readonly toolCalls: readonly CompletedToolCall[];
  readonly finishReason: FinishReason;
  readonly usage: TokenUsage;
  /** OpenCode Go's own figure when it sent one. */
  readonly upstreamCostUsd?: number;
  readonly latencyMs: number;
}

export interface ModelHealth {
  readonly status: 'ok' | 'degraded' | 'open';
  readonly consecutiveErrors: number;
  readonly lastError?: string;
  readonly openedAt?: string;
}

export interface ConcurrencySnapshot {
  readonly global: { readonly inUse: number; readonly max: number; readonly queued: number };
  /** `max` is the current (adaptive) limit, `configured` the one it returns to. */
  readonly perModel: Readonly<
    Record<
      string,
      {
        readonly inUse: number;
        readonly max: number;
        readonly queued: number;
        readonly configured: number;
      }
    >
  >;
}

export interface UpstreamClient {
  /**
   * Streams one model call as StreamParts. The first part is always `response-metadata`.
   * Retries (with backoff honouring Retry-After) and fallbacks happen only before the first
   * content part has been yielded; after that a failure is thrown as a BridgeError.
   */
  stream(call: ModelCall): AsyncIterable<StreamPart>;
  /** The same call, collected. */
  complete(call: ModelCall): Promise<CompletedCall>;
  /** Ids from the upstream's GET /models, cached briefly; null when it cannot be reached. */
  listModels(signal?: AbortSignal): Promise<readonly string[] | null>;
  health(): Readonly<Record<string, ModelHealth>>;
  concurrency(): ConcurrencySnapshot;
  close(): Promise<void>;
}
