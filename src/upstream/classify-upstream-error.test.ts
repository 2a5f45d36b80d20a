import { describe, expect, it } from 'vitest';
import {
  classifyHttpError,
  classifyNetworkError,
  deadlineError,
  parseRetryAfter,
} from './classify-upstream-error.js';

const zen = (type: string, message: string): string =>
  JSON.stringify({ type: 'error', error: { type, message } });
const openai = (
  message: string,
  code: string | null = null,
  type = 'invalid_request_error',
): string => JSON.stringify({ error: { message, code, type } });

function classify(status: number, bodyText: string, retryAfterHeader?: string) {
  return classifyHttpError({
    status,
    bodyText,
    retryAfterHeader,
    model: 'kimi-k2.6',
    now: Date.UTC(2026, 0, 1),
  });
}

describe('classifyHttpError', () => {
  it('maps a Zen 429 RateLimitError to rate_limit_exceeded with "try again in Ns"', () => {
    const error = classify(429, zen('RateLimitError', 'Rate limit exceeded'), '7');
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.retryAfterSeconds).toBe(7);
    expect(error.upstreamStatus).toBe(429);
    expect(error.message).toMatch(/try again in 7s/);
    expect(error.message).toContain('kimi-k2.6');
  });

  it('still says "try again in Ns" without a Retry-After header', () => {
    const error = classify(429, zen('RateLimitError', 'slow down'));
    expect(error.retryAfterSeconds).toBeUndefined();
    expect(error.message).toMatch(/try again in \d+s/);
  });

  it.each(['SubscriptionUsageLimitError', 'GoUsageLimitError'])(
    'maps %s to its own non-retryable class naming the window and the reset time',
    (type) => {
      const error = classify(429, zen(type, 'Subscription usage limit reached.'), '11520');
      expect(error.code).toBe('subscription_limit_reached');
      expect(error.retryable).toBe(false);
      expect(error.failedCode).toBe('invalid_prompt');
      expect(error.message).toContain('your OpenCode Go 5-hour limit resets in 3 h 12 min');
      expect(error.message).toContain('(03:12 UTC)');
    },
  );

  it('names the weekly and monthly windows from Go metadata, or from the wait', () => {
    const weekly = JSON.stringify({
      type: 'error',
      error: {
        type: 'SubscriptionUsageLimitError',
        message: 'limit reached',
        metadata: { workspace: 'wrk_1', limitName: 'weekly' },
      },
    });
    expect(classify(429, weekly, '190800').message).toContain(
      'your OpenCode Go weekly limit resets in 2 d 5 h',
    );
    const bare = zen('SubscriptionUsageLimitError', 'limit reached');
    expect(classify(429, bare, String(20 * 86_400)).message).toContain('monthly limit');
  });

  it.each(['CreditsError', 'MonthlyLimitError'])('maps %s to insufficient_quota', (type) => {
    expect(classify(429, zen(type, 'limit reached')).code).toBe('insufficient_quota');
    expect(classify(401, zen(type, 'limit reached')).code).toBe('insufficient_quota');
  });

  it('maps OpenAI insufficient_quota', () => {
    expect(
      classify(
        429,
        openai('You exceeded your current quota', 'insufficient_quota', 'insufficient_quota'),
      ).code,
    ).toBe('insufficient_quota');
  });

  it('maps 401/403 to upstream_auth_failed naming OPENCODE_GO_API_KEY', () => {
    const error = classify(401, zen('AuthError', 'Invalid API key.'));
    expect(error.code).toBe('upstream_auth_failed');
    expect(error.message).toContain('OPENCODE_GO_API_KEY');
    expect(classify(403, zen('RegionError', 'region not allowed')).code).toBe(
      'upstream_auth_failed',
    );
  });

  it('maps context-length wording on 400 to context_length_exceeded', () => {
    for (const message of [
      "This model's maximum context length is 131072 tokens",
      'Input exceeds context length',
      'too many tokens in prompt',
    ]) {
      expect(classify(400, openai(message)).code).toBe('context_length_exceeded');
    }
    expect(classify(400, openai('bad', 'context_length_exceeded')).code).toBe(
      'context_length_exceeded',
    );
  });

  it('passes other 400/404/422 messages through as upstream_bad_request', () => {
    const error = classify(
      400,
      zen(
        'InvalidRequestError',
        'Error from provider (moonshot): invalid temperature: only 1 is allowed',
      ),
    );
    expect(error.code).toBe('upstream_bad_request');
    expect(error.message).toContain('invalid temperature: only 1 is allowed');
    expect(classify(422, openai('unprocessable')).code).toBe('upstream_bad_request');
    const notFound = classify(404, '<html>Not Found</html>');
    expect(notFound.code).toBe('upstream_bad_request');
    expect(notFound.message).toContain('UPSTREAM_BASE');
  });

  it('maps a Zen ModelError to a bad request that explains the endpoint setting', () => {
    const error = classify(401, zen('ModelError', 'Model format not supported'));
    expect(error.code).toBe('upstream_bad_request');
    expect(error.message).toContain('MODEL_MAP_JSON');
  });

  it('maps 408/409/5xx to upstream_error', () => {
    for (const status of [408, 409, 500, 502, 503, 529]) {
      expect(classify(status, zen('InternalError', 'Internal server error')).code).toBe(
        'upstream_error',
      );
    }
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 1, 0, 0, 0);
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('12', now)).toBe(12);
    expect(parseRetryAfter('1.5', now)).toBe(1.5);
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30);
    expect(parseRetryAfter(new Date(now - 30_000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('classifyNetworkError and deadlineError', () => {
  it('maps resets to upstream_error and deadlines to upstream_timeout naming the setting', () => {
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    const error = classifyNetworkError(reset, 'glm-5.2');
    expect(error.code).toBe('upstream_error');
    expect(error.message).toContain('glm-5.2');
    const timeout = deadlineError('idle', 2, 'glm-5.2');
    expect(timeout.code).toBe('upstream_timeout');
    expect(timeout.message).toContain('UPSTREAM_IDLE_TIMEOUT_SECONDS');
  });
});
