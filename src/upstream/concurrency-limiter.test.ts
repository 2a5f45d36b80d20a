import { afterEach, describe, expect, it, vi } from 'vitest';
import { BridgeError } from '../errors/index.js';
import { ConcurrencyLimiter, type LimiterOptions } from './concurrency-limiter.js';

function limiter(overrides: Partial<LimiterOptions> = {}): ConcurrencyLimiter {
  return new ConcurrencyLimiter({
    max: 1,
    queueMax: 1,
    queueTimeoutMs: 0,
    rejection: (reason) => new BridgeError('concurrency_queue_full', `queue ${reason}`),
    ...overrides,
  });
}

describe('ConcurrencyLimiter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resize: shrinking retires freed slots until under the limit, growing grants waiters', async () => {
    const gate = limiter({ max: 3, queueMax: 5 });
    const signal = new AbortController().signal;
    const held = await Promise.all([1, 2, 3].map(() => gate.acquire({ signal })));
    let granted = 0;
    const waiting = [1, 2].map(() =>
      gate.acquire({ signal }).then((release) => (granted++, release)),
    );
    gate.resize(1);
    held[0]!();
    held[1]!();
    await Promise.resolve();
    expect(granted).toBe(0);
    expect(gate.snapshot()).toEqual({ inUse: 1, max: 1, queued: 2 });
    gate.resize(3);
    const releases = await Promise.all(waiting);
    expect(granted).toBe(2);
    expect(gate.snapshot()).toEqual({ inUse: 3, max: 3, queued: 0 });
    for (const release of [...releases, held[2]!]) release();
    expect(gate.snapshot().inUse).toBe(0);
  });

  it('grants up to max at once, queues the next FIFO and hands slots over on release', async () => {
    const gate = limiter({ max: 2, queueMax: 5 });
    const signal = new AbortController().signal;
    const first = await gate.acquire({ signal });
    const second = await gate.acquire({ signal });
    const positions: number[] = [];
    const order: string[] = [];
    const third = gate
      .acquire({ signal, onQueued: (position) => positions.push(position) })
      .then((release) => {
        order.push('third');
        return release;
      });
    const fourth = gate
      .acquire({ signal, onQueued: (position) => positions.push(position) })
      .then((release) => {
        order.push('fourth');
        return release;
      });
    expect(positions).toEqual([1, 2]);
    expect(gate.snapshot()).toEqual({ inUse: 2, max: 2, queued: 2 });
    first();
    first(); // releasing twice must not free a second slot
    const releaseThird = await third;
    expect(gate.snapshot()).toEqual({ inUse: 2, max: 2, queued: 1 });
    second();
    const releaseFourth = await fourth;
    expect(order).toEqual(['third', 'fourth']);
    releaseThird();
    releaseFourth();
    expect(gate.snapshot()).toEqual({ inUse: 0, max: 2, queued: 0 });
  });

  it('tryAcquire takes a free slot, never one a waiter is owed, and never queues', async () => {
    const gate = limiter({ max: 1, queueMax: 2 });
    const signal = new AbortController().signal;
    const first = gate.tryAcquire();
    expect(first).toBeTypeOf('function');
    expect(gate.tryAcquire()).toBeUndefined();
    expect(gate.snapshot()).toEqual({ inUse: 1, max: 1, queued: 0 });
    const waiter = gate.acquire({ signal });
    first!();
    // The freed slot went to the waiter, not to a caller that did not queue.
    expect(gate.tryAcquire()).toBeUndefined();
    (await waiter)();
    const again = gate.tryAcquire();
    expect(gate.snapshot()).toEqual({ inUse: 1, max: 1, queued: 0 });
    again!();
    expect(gate.snapshot().inUse).toBe(0);
  });

  it('refuses at once when the queue is full', async () => {
    const gate = limiter({ queueMax: 1 });
    const signal = new AbortController().signal;
    const release = await gate.acquire({ signal });
    const waiting = gate.acquire({ signal });
    await expect(gate.acquire({ signal })).rejects.toMatchObject({
      code: 'concurrency_queue_full',
      message: 'queue full',
    });
    release();
    (await waiting)();
    expect(gate.snapshot().inUse).toBe(0);
  });

  it('refuses queueing entirely with queueMax 0', async () => {
    const gate = limiter({ queueMax: 0 });
    const signal = new AbortController().signal;
    await gate.acquire({ signal });
    await expect(gate.acquire({ signal })).rejects.toMatchObject({ message: 'queue full' });
  });

  it('removes an aborted waiter from the queue and rejects it with the abort reason', async () => {
    const gate = limiter({ queueMax: 2 });
    const release = await gate.acquire({ signal: new AbortController().signal });
    const controller = new AbortController();
    const waiting = gate.acquire({ signal: controller.signal });
    const next = gate.acquire({ signal: new AbortController().signal });
    expect(gate.snapshot().queued).toBe(2);
    controller.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
    expect(gate.snapshot().queued).toBe(1);
    release();
    (await next)();
    expect(gate.snapshot()).toEqual({ inUse: 0, max: 1, queued: 0 });
  });

  it('rejects an already aborted caller without taking a slot', async () => {
    const controller = new AbortController();
    controller.abort();
    const gate = limiter();
    await expect(gate.acquire({ signal: controller.signal })).rejects.toThrow();
    expect(gate.snapshot().inUse).toBe(0);
  });

  it('times a waiter out after queueTimeoutMs', async () => {
    vi.useFakeTimers();
    const gate = limiter({ queueTimeoutMs: 1_000 });
    const signal = new AbortController().signal;
    await gate.acquire({ signal });
    const waiting = gate.acquire({ signal });
    const assertion = expect(waiting).rejects.toMatchObject({ message: 'queue timeout' });
    await vi.advanceTimersByTimeAsync(1_000);
    await assertion;
    expect(gate.snapshot().queued).toBe(0);
  });
});
