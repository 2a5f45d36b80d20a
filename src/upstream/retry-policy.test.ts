import { describe, expect, it } from 'vitest';
import { BridgeError } from '../errors/index.js';
import { backoffDelayMs, decideRetry } from './retry-policy.js';

const options = { retries: 2, maxDelayMs: 10_000, baseDelayMs: 500, random: () => 1 };

describe('decideRetry', () => {
  it('retries transient errors with exponential backoff until the budget is spent', () => {
    const error = new BridgeError('upstream_error', '500');
    expect(decideRetry(error, 1, options, 'm')).toEqual({ retry: true, delayMs: 500 });
    expect(decideRetry(error, 2, options, 'm')).toEqual({ retry: true, delayMs: 1_000 });
    expect(decideRetry(error, 3, options, 'm')).toEqual({ retry: false, error });
  });

  it('never retries requests the upstream refused', () => {
    for (const code of [
      'upstream_bad_request',
      'context_length_exceeded',
      'insufficient_quota',
      'upstream_auth_failed',
    ] as const) {
      const error = new BridgeError(code, 'no');
      expect(decideRetry(error, 1, options, 'm')).toEqual({ retry: false, error });
    }
  });

  it('waits exactly Retry-After when it fits under the cap', () => {
    const error = new BridgeError('rate_limit_exceeded', 'slow', { retryAfterSeconds: 3 });
    expect(decideRetry(error, 1, options, 'm')).toEqual({ retry: true, delayMs: 3_000 });
  });

  it('gives up with rate_limit_exceeded when Retry-After exceeds the cap', () => {
    const limited = new BridgeError('rate_limit_exceeded', 'slow', { retryAfterSeconds: 60 });
    expect(decideRetry(limited, 1, options, 'm')).toEqual({ retry: false, error: limited });
    const overloaded = new BridgeError('upstream_error', '503', {
      retryAfterSeconds: 120,
      upstreamStatus: 503,
    });
    const decision = decideRetry(overloaded, 1, options, 'glm-5.2');
    expect(decision.retry).toBe(false);
    if (!decision.retry) {
      expect(decision.error.code).toBe('rate_limit_exceeded');
      expect(decision.error.retryAfterSeconds).toBe(120);
      expect(decision.error.message).toMatch(/glm-5\.2.*try again in 120s/);
    }
  });
});

describe('backoffDelayMs', () => {
  it('stays within [half, full] of the capped exponential', () => {
    expect(backoffDelayMs(1, { ...options, random: () => 0 })).toBe(250);
    expect(backoffDelayMs(10, { ...options, random: () => 1 })).toBe(10_000);
    expect(backoffDelayMs(10, { ...options, random: () => 0 })).toBe(5_000);
  });
});
