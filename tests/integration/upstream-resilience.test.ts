import { afterEach, describe, expect, it } from 'vitest';
import { reply, type RecordedRequest } from '../../src/demo/index.js';
import type { BridgeError } from '../../src/errors/index.js';
import type { StreamPart } from '../../src/upstream/index.js';
import {
  call,
  collect,
  collectUntilError,
  iterate,
  startHarness,
  type Harness,
} from './upstream-harness.js';

const forModel =
  (id: string) =>
  (request: RecordedRequest): boolean =>
    (request.body as { model?: unknown } | undefined)?.model === id;

const contentTypes = new Set([
  'reasoning-delta',
  'text-delta',
  'tool-call-start',
  'tool-call-delta',
]);
const textOf = (parts: readonly StreamPart[]): string =>
  parts.flatMap((part) => (part.type === 'text-delta' ? [part.text] : [])).join('');
const content = (parts: readonly StreamPart[]): StreamPart[] =>
  parts.filter((part) => contentTypes.has(part.type));

describe('upstream client: retries, fallback, deadlines, breaker, limits', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('retries a 429 after exactly its Retry-After, then succeeds', async () => {
    harness = await startHarness({ UPSTREAM_RETRY_MAX_DELAY_SECONDS: '5' });
    harness.mock.script(reply().status(429, { retryAfter: 1 }), reply().text('after the wait'));
    const modelCall = call(['kimi-k2.6']);
    const started = performance.now();
    const result = await harness.client.complete(modelCall);
    const wallMs = performance.now() - started;
    expect(result.text).toBe('after the wait');
    expect(harness.mock.requests).toHaveLength(2);
    // The wait itself, as the upstream saw it: the second request came a full second after the
    // first (timers never fire early by more than a clock tick), and not much later even on a
    // loaded machine; the wall clock around the call agrees.
    const [first, second] = harness.mock.requests;
    const gapMs = (second?.receivedAt ?? 0) - (first?.receivedAt ?? 0);
    expect(gapMs).toBeGreaterThanOrEqual(990);
    expect(gapMs).toBeLessThan(5_000);
    expect(wallMs).toBeGreaterThanOrEqual(990);
    expect(modelCall.events).toEqual([
      expect.objectContaining({ type: 'retry', model: 'kimi-k2.6', attempt: 2, delayMs: 1_000 }),
    ]);
    expect((modelCall.events[0] as { error: BridgeError }).error.code).toBe('rate_limit_exceeded');
  });

  it('does not wait out a Retry-After above the cap: fails with rate_limit_exceeded carrying it', async () => {
    harness = await startHarness({ UPSTREAM_RETRY_MAX_DELAY_SECONDS: '2' });
    harness.mock.script(reply().status(429, { retryAfter: 60 }));
    const { error, parts } = await collectUntilError(harness.client.stream(call(['kimi-k2.6'])));
    expect(parts).toEqual([]);
    expect(error).toMatchObject({
      code: 'rate_limit_exceeded',
      retryAfterSeconds: 60,
      upstreamStatus: 429,
    });
    expect((error as Error).message).toMatch(/try again in 60s/);
    expect(harness.mock.requests).toHaveLength(1);
  });

  it('maps a Go usage limit to subscription_limit_reached, with no retry and no fallback', async () => {
    harness = await startHarness();
    harness.mock.script(
      reply().status(429, {
        body: {
          type: 'error',
          error: { type: 'GoUsageLimitError', message: '5 hour limit reached' },
        },
        retryAfter: 3600,
      }),
    );
    const { error } = await collectUntilError(
      harness.client.stream(call(['kimi-k2.6', 'deepseek-v4-pro'])),
    );
    expect(error).toMatchObject({ code: 'subscription_limit_reached' });
    expect((error as Error).message).toContain('your OpenCode Go 5-hour limit resets in 1 h');
    expect(harness.mock.requests).toHaveLength(1);
  });

  it('falls back to the next model after the primary keeps answering 500', async () => {
    harness = await startHarness({ UPSTREAM_RETRIES: '1' });
    harness.mock.script(
      reply().status(500).when(forModel('deepseek-v4-pro')).times(2),
      reply().text('fallback answer').when(forModel('kimi-k2.6')),
    );
    const modelCall = call(['deepseek-v4-pro', 'kimi-k2.6']);
    const parts = await collect(harness.client.stream(modelCall));
    expect(parts[0]).toEqual({
      type: 'response-metadata',
      model: 'kimi-k2.6',
      fallbackFrom: 'deepseek-v4-pro',
      attempt: 1,
    });
    expect(textOf(parts)).toBe('fallback answer');
    expect(modelCall.events.map((event) => event.type)).toEqual(['retry', 'fallback']);
    expect(modelCall.events[1]).toMatchObject({ from: 'deepseek-v4-pro', to: 'kimi-k2.6' });
    expect(
      harness.mock.requests.map((request) => (request.body as { model: string }).model),
    ).toEqual(['deepseek-v4-pro', 'deepseek-v4-pro', 'kimi-k2.6']);
  });

  it('does not fall back on a request the upstream refused', async () => {
    harness = await startHarness();
    harness.mock.script(
      reply().status(400, {
        body: {
          error: {
            message: "This model's maximum context length is 1000 tokens",
            type: 'invalid_request_error',
          },
        },
      }),
    );
    const { error } = await collectUntilError(
      harness.client.stream(call(['deepseek-v4-pro', 'kimi-k2.6'])),
    );
    expect(error).toMatchObject({ code: 'context_length_exceeded' });
    expect(harness.mock.requests).toHaveLength(1);
  });

  it('cuts a hung upstream at the first-byte deadline with upstream_timeout', async () => {
    harness = await startHarness({
      UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '0.2',
      UPSTREAM_RETRIES: '1',
    });
    harness.mock.script(reply().hang().times(2));
    const modelCall = call(['glm-5.2']);
    const { error, parts } = await collectUntilError(harness.client.stream(modelCall));
    expect(parts).toEqual([]);
    expect(error).toMatchObject({ code: 'upstream_timeout' });
    expect((error as Error).message).toContain('UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS');
    expect(harness.mock.requests).toHaveLength(2);
    expect(modelCall.events.map((event) => event.type)).toEqual(['retry']);
  });

  it('enforces the total deadline across attempts and does not retry past it', async () => {
    harness = await startHarness({
      UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '30',
      UPSTREAM_RETRIES: '3',
    });
    harness.mock.script(reply().hang().times(4));
    const { error } = await collectUntilError(
      harness.client.stream(call(['glm-5.2'], { totalTimeoutMs: 300 })),
    );
    expect(error).toMatchObject({ code: 'upstream_timeout' });
    expect((error as Error).message).toContain('UPSTREAM_TIMEOUT_SECONDS');
    expect(harness.mock.requests).toHaveLength(1);
  });

  it('throws an idle timeout after output began, without retrying', async () => {
    harness = await startHarness({ UPSTREAM_IDLE_TIMEOUT_SECONDS: '0.5' });
    harness.mock.script(
      reply().text('partial output here').chunkSize(5).hangAfterChunks(2),
      reply().text('never used'),
    );
    const { error, parts } = await collectUntilError(harness.client.stream(call(['glm-5.2'])));
    expect(content(parts)).toEqual([
      { type: 'text-delta', text: 'parti' },
      { type: 'text-delta', text: 'al ou' },
    ]);
    expect(error).toMatchObject({ code: 'upstream_timeout' });
    expect((error as Error).message).toContain('UPSTREAM_IDLE_TIMEOUT_SECONDS');
    expect(harness.mock.requests).toHaveLength(1);
  });

  it('ends cleanly when the upstream stalls or drops after finish_reason (trailing frames only)', async () => {
    harness = await startHarness({ UPSTREAM_IDLE_TIMEOUT_SECONDS: '0.5' });
    harness.mock.script(
      reply().text('complete answer').cost(0.01).hangAfterChunks(99),
      reply().text('also complete').resetAfterChunks(99),
    );
    const stalled = await harness.client.complete(call(['glm-5.2']));
    expect(stalled).toMatchObject({
      text: 'complete answer',
      finishReason: 'stop',
      upstreamCostUsd: 0.01,
    });
    const dropped = await harness.client.complete(call(['glm-5.2']));
    expect(dropped).toMatchObject({ text: 'also complete', finishReason: 'stop' });
    expect(harness.mock.requests).toHaveLength(2);
  });

  it('throws a reset after output began, without retry or fallback', async () => {
    harness = await startHarness();
    harness.mock.script(
      reply().text('some output').chunkSize(4).resetAfterChunks(1),
      reply().text('never used'),
    );
    const modelCall = call(['glm-5.2', 'kimi-k2.6']);
    const { error, parts } = await collectUntilError(harness.client.stream(modelCall));
    expect(content(parts)).toEqual([{ type: 'text-delta', text: 'some' }]);
    expect(error).toMatchObject({ code: 'upstream_error' });
    expect(harness.mock.requests).toHaveLength(1);
    expect(modelCall.events).toEqual([]);
  });

  it('retries a malformed chunk that came before any output', async () => {
    harness = await startHarness();
    harness.mock.script(reply().text('x').malformedChunkAfter(0), reply().text('clean'));
    const modelCall = call(['glm-5.2']);
    const result = await harness.client.complete(modelCall);
    expect(result.text).toBe('clean');
    expect(harness.mock.requests).toHaveLength(2);
    expect((modelCall.events[0] as { error: BridgeError }).error.message).toMatch(
      /malformed chunk from upstream/,
    );
  });

  it('throws a malformed chunk that came after output', async () => {
    harness = await startHarness();
    harness.mock.script(
      reply().text('abcdef').chunkSize(3).malformedChunkAfter(1),
      reply().text('never used'),
    );
    const { error, parts } = await collectUntilError(harness.client.stream(call(['glm-5.2'])));
    expect(content(parts)).toEqual([{ type: 'text-delta', text: 'abc' }]);
    expect(error).toMatchObject({ code: 'upstream_error' });
    expect((error as Error).message).toMatch(/malformed chunk from upstream/);
    expect(harness.mock.requests).toHaveLength(1);
  });

  it('fails a stream that ends without finish_reason', async () => {
    harness = await startHarness();
    harness.mock.script(reply().text('cut').noFinish());
    const { error } = await collectUntilError(harness.client.stream(call(['glm-5.2'])));
    expect((error as Error).message).toMatch(/upstream stream ended before finish_reason/);
    expect(harness.mock.requests).toHaveLength(1);
  });

  it('opens the circuit breaker after consecutive failures and then refuses without calling', async () => {
    harness = await startHarness({
      UPSTREAM_RETRIES: '0',
      CIRCUIT_BREAKER_ERRORS: '2',
      CIRCUIT_BREAKER_COOLDOWN: '600',
    });
    harness.mock.script(reply().status(503).times(5));
    for (let index = 0; index < 2; index += 1) {
      const { error } = await collectUntilError(harness.client.stream(call(['glm-5.2'])));
      expect(error).toMatchObject({ code: 'upstream_error' });
    }
    expect(harness.client.health()['glm-5.2']).toMatchObject({
      status: 'open',
      consecutiveErrors: 2,
    });
    const { error } = await collectUntilError(harness.client.stream(call(['glm-5.2'])));
    expect(error).toMatchObject({ code: 'upstream_unavailable' });
    expect((error as Error).message).toContain('glm-5.2');
    expect(harness.mock.requests).toHaveLength(2);

    // With a fallback the open model is skipped straight away.
    harness.mock.reset();
    harness.mock.script(reply().text('from kimi').when(forModel('kimi-k2.6')));
    const modelCall = call(['glm-5.2', 'kimi-k2.6']);
    const parts = await collect(harness.client.stream(modelCall));
    expect(parts[0]).toMatchObject({ model: 'kimi-k2.6', fallbackFrom: 'glm-5.2' });
    expect(modelCall.events[0]).toMatchObject({
      type: 'fallback',
      error: { code: 'upstream_unavailable' },
    });
    expect(harness.mock.requests).toHaveLength(1);
  });

  it('answers concurrency_queue_full when every slot is busy and the queue is full', async () => {
    harness = await startHarness({ MAX_GLOBAL_UPSTREAM_CONCURRENCY: '1', UPSTREAM_QUEUE_MAX: '0' });
    harness.mock.script(reply().text('held open').chunkSize(4).hangAfterChunks(1));
    const controller = new AbortController();
    const held = iterate(harness.client.stream(call(['glm-5.2'], { signal: controller.signal })));
    await held.next(); // metadata: the slot is taken
    const { error } = await collectUntilError(harness.client.stream(call(['kimi-k2.6'])));
    expect(error).toMatchObject({ code: 'concurrency_queue_full' });
    expect((error as Error).message).toContain('MAX_GLOBAL_UPSTREAM_CONCURRENCY');
    await held.return(undefined);
    expect(harness.client.concurrency().global).toEqual({ inUse: 0, max: 1, queued: 0 });
  });

  it('applies per-model limits from MODEL_CONCURRENCY_JSON and lets an aborted waiter leave the queue', async () => {
    harness = await startHarness({
      MODEL_CONCURRENCY_JSON: '{"glm-5.2":1}',
      UPSTREAM_QUEUE_MAX: '4',
    });
    harness.mock.script(reply().text('held open').chunkSize(4).hangAfterChunks(1));
    const held = iterate(harness.client.stream(call(['glm-5.2'])));
    await held.next();

    const waiterController = new AbortController();
    let queued!: () => void;
    const wasQueued = new Promise<void>((resolve) => {
      queued = resolve;
    });
    const waiting = collectUntilError(
      harness.client.stream(
        call(['glm-5.2'], {
          signal: waiterController.signal,
          onAttempt: (event) => {
            if (event.type === 'queued') queued();
          },
        }),
      ),
    );
    await wasQueued;
    expect(harness.client.concurrency().perModel['glm-5.2']).toEqual({
      inUse: 1,
      max: 1,
      queued: 1,
      configured: 1,
    });
    waiterController.abort();
    const { error } = await waiting;
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(harness.client.concurrency().perModel['glm-5.2']).toEqual({
      inUse: 1,
      max: 1,
      queued: 0,
      configured: 1,
    });

    await held.return(undefined);
    expect(harness.client.concurrency().perModel['glm-5.2']).toEqual({
      inUse: 0,
      max: 1,
      queued: 0,
      configured: 1,
    });
    expect(harness.mock.requests).toHaveLength(1);
  });

  it('releases the slots when the consumer breaks out of for-await', async () => {
    harness = await startHarness();
    harness.mock.script(reply().text('a long answer that we stop reading').chunkSize(3));
    for await (const part of harness.client.stream(call(['kimi-k2.6']))) {
      if (part.type === 'text-delta') break;
    }
    expect(harness.client.concurrency()).toEqual({
      global: { inUse: 0, max: 4, queued: 0 },
      perModel: { 'kimi-k2.6': { inUse: 0, max: 2, queued: 0, configured: 2 } },
    });
  });

  it('stops a backoff at once when the caller aborts', async () => {
    harness = await startHarness({
      UPSTREAM_RETRY_MAX_DELAY_SECONDS: '600',
      UPSTREAM_TIMEOUT_SECONDS: '900',
    });
    harness.mock.script(reply().status(503, { retryAfter: 500 }));
    const controller = new AbortController();
    const stream = harness.client.stream(
      call(['glm-5.2'], {
        signal: controller.signal,
        onAttempt: (event) => {
          if (event.type === 'retry') controller.abort();
        },
      }),
    );
    const { error } = await collectUntilError(stream);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(harness.mock.requests).toHaveLength(1);
    expect(harness.client.concurrency().global.inUse).toBe(0);
  });
});
