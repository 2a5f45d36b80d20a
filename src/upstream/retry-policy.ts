import type { BridgeError } from '../errors/index.js';
import { isTransientError, rateLimitError } from './classify-upstream-error.js';

export interface RetryPolicyOptions {
  /** UPSTREAM_RETRIES: extra attempts after the first. */
  readonly retries: number;
  /** UPSTREAM_RETRY_MAX_DELAY_SECONDS in ms: no single wait is longer. */
  readonly maxDelayMs: number;
  readonly baseDelayMs?: number;
  /** Injected for tests; Math.random otherwise. */
  readonly random?: () => number;
}

export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number }
  | { readonly retry: false; readonly error: BridgeError };

const defaultBaseDelayMs = 500;

/**
 * Whether to try the same model again after `attemptsMade` failed attempts, and how long to wait.
 * Only transient failures (408/409/429/5xx, transport, deadlines, malformed stream) are retried,
 * and only before anything was streamed; the caller enforces the latter. An upstream Retry-After
 * is honoured exactly; one longer than the cap is not waited out: the call fails with
 * rate_limit_exceeded carrying it, so Codex (and the user) can pace themselves (§3.5).
 */
export function decideRetry(
  error: BridgeError,
  attemptsMade: number,
  options: RetryPolicyOptions,
  model: string,
): RetryDecision {
  if (!isTransientError(error) || attemptsMade > options.retries) return { retry: false, error };
  const retryAfter = error.retryAfterSeconds;
  if (retryAfter !== undefined) {
    const delayMs = Math.ceil(retryAfter * 1000);
    if (delayMs <= options.maxDelayMs) return { retry: true, delayMs };
    if (error.code === 'rate_limit_exceeded') return { retry: false, error };
    return {
      retry: false,
      error: rateLimitError(model, error.message, retryAfter, error.upstreamStatus),
    };
  }
  return { retry: true, delayMs: backoffDelayMs(attemptsMade, options) };
}

/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelayMs(attemptsMade: number, options: RetryPolicyOptions): number {
  const base = options.baseDelayMs ?? defaultBaseDelayMs;
  const random = options.random ?? Math.random;
  const exponential = Math.min(options.maxDelayMs, base * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
