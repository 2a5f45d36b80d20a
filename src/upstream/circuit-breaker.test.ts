import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';

describe('CircuitBreaker', () => {
  it('opens after the threshold, admits one trial after the cooldown, and closes on success', () => {
    let now = 1_000_000;
    const breaker = new CircuitBreaker({ threshold: 2, cooldownMs: 60_000, now: () => now });
    expect(breaker.tryEnter('m')).toBe(true);
    breaker.recordFailure('m', 'boom 1');
    expect(breaker.health()['m']).toMatchObject({ status: 'degraded', consecutiveErrors: 1 });
    breaker.recordFailure('m', 'boom 2');
    expect(breaker.health()['m']).toMatchObject({
      status: 'open',
      consecutiveErrors: 2,
      lastError: 'boom 2',
    });
    expect(breaker.tryEnter('m')).toBe(false);
    expect(breaker.remainingCooldownMs('m')).toBe(60_000);

    now += 60_000;
    expect(breaker.tryEnter('m')).toBe(true); // the trial
    expect(breaker.tryEnter('m')).toBe(false); // everyone else waits for it
    breaker.recordSuccess('m');
    expect(breaker.health()['m']).toEqual({ status: 'ok', consecutiveErrors: 0 });
    expect(breaker.tryEnter('m')).toBe(true);
  });

  it('re-opens when the half-open trial fails, and frees the trial on a neutral outcome', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ threshold: 1, cooldownMs: 10, now: () => now });
    breaker.recordFailure('m', 'x');
    now = 10;
    expect(breaker.tryEnter('m')).toBe(true);
    breaker.recordNeutral('m');
    expect(breaker.tryEnter('m')).toBe(true);
    breaker.recordFailure('m', 'y');
    expect(breaker.tryEnter('m')).toBe(false);
    expect(breaker.health()['m']?.status).toBe('open');
  });

  it('keeps models independent and a success resets the count', () => {
    const breaker = new CircuitBreaker({ threshold: 2, cooldownMs: 10 });
    breaker.recordFailure('a', 'x');
    breaker.recordSuccess('a');
    breaker.recordFailure('a', 'x');
    expect(breaker.tryEnter('a')).toBe(true);
    expect(breaker.tryEnter('b')).toBe(true);
  });
});
