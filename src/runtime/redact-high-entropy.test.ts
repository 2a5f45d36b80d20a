import { describe, expect, it } from 'vitest';
import { redactSecrets } from './redact-secrets.js';

/**
 * Where the generic high-entropy detector draws its lines, each side checked with a bare token
 * (no secret name around it, so no other detector applies). redact-secrets.test.ts has the
 * detectors' everyday cases; these pin the thresholds the mutation run found unguarded.
 */
const bare = (token: string) => redactSecrets(`see ${token} here`);

describe('the generic high-entropy detector, at its thresholds', () => {
  it('one capital letter, or exactly two digits, are enough for a random token', () => {
    for (const token of ['Xk9m2q7z4w1r8t5y3u6p0l2n4b7v9c1s', 'ZxQmLpRtVwNyKbHdJfGsAcEqWoPiUx42']) {
      expect(bare(token).text, token).toBe('see [REDACTED] here');
      expect(bare(token).kinds, token).toEqual(['high_entropy']);
    }
  });

  it('padding does not count towards the 32 characters', () => {
    const token = 'aB3xK9mQ7zR2tW5yP8nL4vC6qJ1s8Dk==';
    expect(bare(token).text).toBe(`see ${token} here`);
    expect(bare(`${token.slice(0, -2)}x==`).text).toBe('see [REDACTED] here');
  });

  it('a long identifier and a short pattern repeated are not secrets', () => {
    for (const token of ['HandleUserAuthenticationCallbackForWebhook42', 'aB1'.repeat(12)]) {
      expect(bare(token).text, token).toBe(`see ${token} here`);
    }
  });
});
