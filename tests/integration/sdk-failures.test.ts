/**
 * Upstream failures as the official `openai` SDK sees them, over real HTTP to a real daemon:
 * in a stream they end as exactly one `response.failed` with a code Codex acts on (and no
 * partial item ever marked done, wire-protocol.md finding 4); with `stream: false` they are
 * OpenAI-shaped HTTP errors the SDK turns into its typed exceptions. Also: retries, the
 * fallback chain, deadlines and client disconnects (the upstream call must be torn down).
 */
import type { Server, ServerResponse } from 'node:http';
import OpenAI from 'openai';
import type { ResponseStreamParams } from 'openai/lib/responses/ResponseStream';
import type { Response } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reply, type MockUpstream, type RecordedRequest } from '../../src/demo/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';

const MODEL = 'ocg-kimi-k2.6';
const TERMINAL = new Set(['response.completed', 'response.failed', 'response.incomplete']);

interface WireEvent {
  readonly type: string;
  readonly sequence_number: number;
  readonly output_index?: number;
  readonly item_id?: string;
  readonly item?: { readonly id: string };
  readonly response?: { readonly status: string; readonly output: readonly unknown[] };
}

/** Sequence 0,1,2…, one terminal event last, no event for an item before it was added. */
function checkOrder(events: readonly WireEvent[]): void {
  events.forEach((event, index) =>
    expect(event.sequence_number, `sequence_number of ${event.type}`).toBe(index),
  );
  expect(events[0]?.type).toBe('response.created');
  expect(events.filter((event) => TERMINAL.has(event.type))).toHaveLength(1);
  expect(TERMINAL.has(events.at(-1)?.type ?? '')).toBe(true);
  const added: string[] = [];
  for (const event of events) {
    if (event.type === 'response.output_item.added') {
      expect(event.output_index).toBe(added.length);
      added.push(event.item?.id ?? '');
    } else if (event.output_index !== undefined) {
      expect(event.output_index).toBeLessThan(added.length);
      if (event.item_id !== undefined) expect(event.item_id).toBe(added[event.output_index]);
    }
  }
}

function sdkClient(harness: BridgeHarness): OpenAI {
  // maxRetries 0: the SDK's own retries would hide what the bridge answered.
  return new OpenAI({ apiKey: BRIDGE_KEY, baseURL: harness.baseURL, maxRetries: 0 });
}

async function streamVia(
  client: OpenAI,
  params: ResponseStreamParams,
): Promise<{ events: WireEvent[]; final: Response }> {
  const stream = client.responses.stream(params);
  const events: WireEvent[] = [];
  for await (const event of stream) events.push(event as unknown as WireEvent);
  const final = await stream.finalResponse();
  checkOrder(events);
  return { events, final };
}

async function failureOf(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

function chatCalls(mock: MockUpstream): RecordedRequest[] {
  return mock.requests.filter(
    (recorded) => recorded.method === 'POST' && recorded.path === '/v1/chat/completions',
  );
}

function modelOf(recorded: RecordedRequest | undefined): unknown {
  return (recorded?.body as { model?: unknown } | undefined)?.model;
}

const failureEnv = {
  UPSTREAM_RETRIES: '0',
  CIRCUIT_BREAKER_ERRORS: '1000',
  // A keepalive must show up inside the first-byte wait: 10 ticks of margin on a loaded machine.
  UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '2',
  UPSTREAM_IDLE_TIMEOUT_SECONDS: '1',
  SSE_KEEPALIVE_SECONDS: '0.2',
  FALLBACK_MODEL_MAP_JSON: '{"kimi-k2.6":[]}',
};

describe('upstream failures, no retries, no fallback', () => {
  let bridge: BridgeHarness;
  let client: OpenAI;
  beforeAll(async () => {
    bridge = await startBridge({ env: failureEnv });
    client = sdkClient(bridge);
  });
  afterAll(async () => bridge.close());
  beforeEach(() => bridge.mock.reset());

  it('429 with Retry-After: response.failed rate_limit_exceeded "try again in" / HTTP 429 RateLimitError', async () => {
    bridge.mock.script(reply().status(429, { retryAfter: 7 }));
    const { events, final } = await streamVia(client, { model: MODEL, input: 'hi' });
    expect(events.at(-1)?.type).toBe('response.failed');
    expect(final.status).toBe('failed');
    expect(final.error?.code).toBe('rate_limit_exceeded');
    expect(final.error?.message).toMatch(/try again in \d+(\.\d+)?m?s/i);

    bridge.mock.script(reply().status(429, { retryAfter: 7 }));
    const error = await failureOf(client.responses.create({ model: MODEL, input: 'hi' }));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.type).toBe('rate_limit_error');
    expect(error.message).toMatch(/try again in/i);
    expect(error.headers?.get('retry-after')).toBe('7');
    expect(error.headers?.get('x-bridge-overhead-ms')).toMatch(/^\d+(\.\d+)?$/);
  });

  it('500: response.failed server_error / HTTP 502 upstream_error', async () => {
    bridge.mock.script(reply().status(500));
    const { final } = await streamVia(client, { model: MODEL, input: 'hi' });
    expect(final.status).toBe('failed');
    expect(final.error?.code).toBe('server_error');

    bridge.mock.script(reply().status(500));
    const error = await failureOf(client.responses.create({ model: MODEL, input: 'hi' }));
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error.status).toBe(502);
    expect(error.code).toBe('upstream_error');
    expect(chatCalls(bridge.mock)).toHaveLength(2);
  });

  it('context overflow and spent quota keep the codes Codex stops on', async () => {
    const overflow = {
      error: {
        message: "This model's maximum context length is 8192 tokens.",
        type: 'invalid_request_error',
        code: 'context_length_exceeded',
      },
    };
    bridge.mock.script(reply().status(400, { body: overflow }));
    const { final } = await streamVia(client, { model: MODEL, input: 'hi' });
    expect(final.error?.code).toBe('context_length_exceeded');
    bridge.mock.script(reply().status(400, { body: overflow }));
    const error = await failureOf(client.responses.create({ model: MODEL, input: 'hi' }));
    expect([error.status, error.code]).toEqual([400, 'context_length_exceeded']);

    const quota = {
      type: 'error',
      error: { type: 'GoUsageLimitError', message: 'Usage limit reached for this window.' },
    };
    bridge.mock.script(reply().status(429, { body: quota }));
    const { final: spent } = await streamVia(client, { model: MODEL, input: 'hi' });
    expect(spent.error?.code).toBe('invalid_prompt');
    expect(spent.error?.message).toContain('OpenCode Go');
  });

  it('no first byte before the deadline: response.failed (upstream timeout) / HTTP 504', async () => {
    bridge.mock.script(reply().hang());
    const { events, final } = await streamVia(client, { model: MODEL, input: 'hi' });
    expect(final.error?.code).toBe('server_error');
    expect(final.error?.message).toMatch(/time|deadline|first byte/i);
    // The wait was bridged with keepalive data events.
    expect(events.some((event) => event.type === 'keepalive')).toBe(true);

    bridge.mock.script(reply().hang());
    const error = await failureOf(client.responses.create({ model: MODEL, input: 'hi' }));
    expect([error.status, error.code]).toEqual([504, 'upstream_timeout']);
  });

  it('a reset after some deltas fails the stream and never marks the partial message done', async () => {
    bridge.mock.script(
      reply().text('partial answer that gets cut off').chunkSize(4).resetAfterChunks(2),
    );
    const { events, final } = await streamVia(client, { model: MODEL, input: 'hi' });
    const deltas = events.filter((event) => event.type === 'response.output_text.delta');
    expect(deltas).toHaveLength(2);
    expect(events.some((event) => event.type === 'response.output_item.added')).toBe(true);
    for (const held of [
      'response.output_item.done',
      'response.content_part.done',
      'response.output_text.done',
    ]) {
      expect(
        events.filter((event) => event.type === held),
        held,
      ).toHaveLength(0);
    }
    expect(final.status).toBe('failed');
    expect(final.error?.code).toBe('server_error');
    expect(final.output).toEqual([]);

    bridge.mock.script(
      reply().text('partial answer that gets cut off').chunkSize(4).resetAfterChunks(2),
    );
    const error = await failureOf(client.responses.create({ model: MODEL, input: 'hi' }));
    expect([error.status, error.code]).toEqual([502, 'upstream_error']);
  });

  it('a stall after some deltas hits the idle deadline and fails without done items', async () => {
    bridge.mock.script(reply().text('starts fine then stalls').chunkSize(4).hangAfterChunks(2));
    const { events, final } = await streamVia(client, { model: MODEL, input: 'hi' });
    expect(events.filter((event) => event.type === 'response.output_text.delta')).toHaveLength(2);
    expect(events.filter((event) => event.type === 'response.output_item.done')).toHaveLength(0);
    expect(final.error?.code).toBe('server_error');
    expect(final.output).toEqual([]);
  });

  it('a malformed chunk fails the stream / HTTP 502', async () => {
    bridge.mock.script(reply().text('hello there world').chunkSize(4).malformedChunkAfter(1));
    const { events, final } = await streamVia(client, { model: MODEL, input: 'hi' });
    expect(final.status).toBe('failed');
    expect(final.error?.code).toBe('server_error');
    expect(events.filter((event) => event.type === 'response.output_item.done')).toHaveLength(0);

    bridge.mock.script(reply().text('hello there world').malformedChunkAfter(0));
    const error = await failureOf(client.responses.create({ model: MODEL, input: 'hi' }));
    expect([error.status, error.code]).toEqual([502, 'upstream_error']);
  });

  it('a stream that ends without a finish_reason fails instead of completing', async () => {
    bridge.mock.script(reply().text('ends abruptly').chunkSize(4).noFinish());
    const { events, final } = await streamVia(client, { model: MODEL, input: 'hi' });
    expect(final.status).toBe('failed');
    expect(final.error?.code).toBe('server_error');
    expect(events.filter((event) => event.type === 'response.output_item.done')).toHaveLength(0);
  });

  it('still answers normally after all of the above', async () => {
    bridge.mock.script(reply().text('recovered'));
    const { final } = await streamVia(client, { model: MODEL, input: 'hi' });
    expect(final.output_text).toBe('recovered');
  });
});

describe('retries', () => {
  let bridge: BridgeHarness;
  let client: OpenAI;
  beforeAll(async () => {
    bridge = await startBridge({
      env: {
        UPSTREAM_RETRIES: '2',
        CIRCUIT_BREAKER_ERRORS: '1000',
        FALLBACK_MODEL_MAP_JSON: '{"kimi-k2.6":[]}',
      },
    });
    client = sdkClient(bridge);
  });
  afterAll(async () => bridge.close());
  beforeEach(() => bridge.mock.reset());

  it('a 500 on every attempt fails only after all retries: response.failed server_error / HTTP 502', async () => {
    bridge.mock.script(reply().status(500, { retryAfter: 0 }).times(3));
    const { final } = await streamVia(client, { model: MODEL, input: 'hi' });
    expect(final.error?.code).toBe('server_error');
    expect(chatCalls(bridge.mock)).toHaveLength(3);

    bridge.mock.reset();
    bridge.mock.script(reply().status(500, { retryAfter: 0 }).times(3));
    const error = await failureOf(client.responses.create({ model: MODEL, input: 'hi' }));
    expect([error.status, error.code]).toEqual([502, 'upstream_error']);
    expect(chatCalls(bridge.mock)).toHaveLength(3);
  });

  it('transient failures before the first byte are retried invisibly', async () => {
    bridge.mock.script(
      reply().status(500, { retryAfter: 0 }),
      reply().status(429, { retryAfter: 0 }),
      reply().text('third time lucky'),
    );
    const { final, events } = await streamVia(client, { model: MODEL, input: 'hi' });
    expect(final.output_text).toBe('third time lucky');
    expect(events.filter((event) => event.type === 'response.failed')).toHaveLength(0);
    expect(chatCalls(bridge.mock)).toHaveLength(3);
  });
});

describe('fallback chain', () => {
  let bridge: BridgeHarness;
  let client: OpenAI;
  beforeAll(async () => {
    bridge = await startBridge({
      env: {
        UPSTREAM_RETRIES: '0',
        CIRCUIT_BREAKER_ERRORS: '1000',
        FALLBACK_MODEL_MAP_JSON: '{"kimi-k2.6":["deepseek-v4-pro"]}',
      },
    });
    client = sdkClient(bridge);
  });
  afterAll(async () => bridge.close());
  beforeEach(() => bridge.mock.reset());

  const isModel = (model: string) => (recorded: RecordedRequest) => modelOf(recorded) === model;

  it('answers with the fallback model when the primary fails (stream and JSON)', async () => {
    bridge.mock.script(
      reply().status(500).when(isModel('kimi-k2.6')),
      reply().text('answered by the fallback').when(isModel('deepseek-v4-pro')),
    );
    const { final } = await streamVia(client, { model: MODEL, input: 'hi' });
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe('answered by the fallback');
    expect(chatCalls(bridge.mock).map(modelOf)).toEqual(['kimi-k2.6', 'deepseek-v4-pro']);

    bridge.mock.reset();
    bridge.mock.script(
      reply().status(503).when(isModel('kimi-k2.6')),
      reply().text('json fallback').when(isModel('deepseek-v4-pro')),
    );
    const response = await client.responses.create({ model: MODEL, input: 'hi' });
    expect(response.output_text).toBe('json fallback');
    expect(chatCalls(bridge.mock).map(modelOf)).toEqual(['kimi-k2.6', 'deepseek-v4-pro']);
  });
});

describe('client disconnect', () => {
  let bridge: BridgeHarness;
  let client: OpenAI;
  beforeAll(async () => {
    // One upstream slot and no queue: a leaked slot would turn every later test into a 429.
    bridge = await startBridge({
      env: {
        CIRCUIT_BREAKER_ERRORS: '1000',
        MAX_GLOBAL_UPSTREAM_CONCURRENCY: '1',
        UPSTREAM_QUEUE_MAX: '0',
      },
    });
    client = sdkClient(bridge);
  });
  afterAll(async () => bridge.close());
  beforeEach(() => bridge.mock.reset());

  async function inUse(): Promise<number> {
    const response = await fetch(`${bridge.url}/health`, {
      headers: { authorization: `Bearer ${BRIDGE_KEY}` },
    });
    const body = (await response.json()) as { concurrency: { global: { inUse: number } } };
    return body.concurrency.global.inUse;
  }

  /** Bounded polling on a condition (no sleeping as synchronisation). */
  async function eventually(condition: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * Resolves with `writableEnded` when the mock's next chat-completions response closes. The mock
   * never ends a hanging reply by itself, so a close with writableEnded=false means the bridge
   * (the mock's client) tore the connection down. Reaches into the mock's server on purpose.
   */
  function nextUpstreamClose(): Promise<boolean> {
    const server = (bridge.mock as unknown as { server: Server }).server;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the upstream connection was never closed')),
        5_000,
      );
      const onRequest = (req: { url?: string }, res: ServerResponse) => {
        if (!req.url?.includes('/chat/completions')) return;
        server.off('request', onRequest);
        res.on('close', () => {
          clearTimeout(timer);
          resolve(res.writableEnded);
        });
      };
      server.on('request', onRequest);
    });
  }

  it('aborting an SDK stream closes the upstream connection and frees the concurrency slot', async () => {
    expect(await inUse()).toBe(0);
    bridge.mock.script(
      reply().text('a long answer that stalls forever').chunkSize(4).hangAfterChunks(2),
    );
    const upstreamClosed = nextUpstreamClose();
    const controller = new AbortController();
    const stream = client.responses.stream(
      { model: MODEL, input: 'hi' },
      { signal: controller.signal },
    );
    let firstDelta: string | undefined;
    let slotsWhileStreaming = -1;
    let ended: unknown;
    try {
      for await (const event of stream) {
        if (event.type === 'response.output_text.delta' && firstDelta === undefined) {
          firstDelta = event.delta;
          slotsWhileStreaming = await inUse();
          controller.abort();
        }
      }
    } catch (error) {
      ended = error;
    }
    expect(firstDelta).toBe('a lo');
    expect(slotsWhileStreaming).toBe(1);
    expect(ended === undefined || ended instanceof OpenAI.APIUserAbortError).toBe(true);
    expect(await upstreamClosed).toBe(false);
    await eventually(async () => (await inUse()) === 0, 'the upstream slot to be released');
  });

  it('aborting a stream:false request while the upstream hangs closes the upstream too', async () => {
    bridge.mock.script(reply().hang());
    const upstreamClosed = nextUpstreamClose();
    const controller = new AbortController();
    const pending = client.responses.create(
      { model: MODEL, input: 'hi' },
      { signal: controller.signal },
    );
    const outcome = pending.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await bridge.mock.waitForRequests(1);
    await eventually(async () => (await inUse()) === 1, 'the upstream slot to be taken');
    controller.abort();
    expect(await outcome).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(await upstreamClosed).toBe(false);
    await eventually(async () => (await inUse()) === 0, 'the upstream slot to be released');

    bridge.mock.script(reply().text('still alive'));
    expect((await client.responses.create({ model: MODEL, input: 'hi' })).output_text).toBe(
      'still alive',
    );
  });

  it('with every slot busy and no queue: HTTP 429 concurrency_queue_full / response.failed rate_limit_exceeded', async () => {
    bridge.mock.script(reply().hang());
    const controller = new AbortController();
    const holder = client.responses
      .create({ model: MODEL, input: 'hold the slot' }, { signal: controller.signal })
      .then(
        () => 'resolved',
        (error: unknown) => error,
      );
    await eventually(async () => (await inUse()) === 1, 'the only slot to be taken');

    const error = await failureOf(client.responses.create({ model: MODEL, input: 'hi' }));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.code).toBe('concurrency_queue_full');
    expect(error.message).toMatch(/try again in/i);
    const { final } = await streamVia(client, { model: MODEL, input: 'hi' });
    expect(final.error?.code).toBe('rate_limit_exceeded');
    expect(final.error?.message).toMatch(/try again in/i);

    controller.abort();
    expect(await holder).toBeInstanceOf(OpenAI.APIUserAbortError);
    await eventually(async () => (await inUse()) === 0, 'the slot to be released');
    bridge.mock.script(reply().text('slot free again'));
    expect((await client.responses.create({ model: MODEL, input: 'hi' })).output_text).toBe(
      'slot free again',
    );
    // Only the holder reached the upstream; the refused calls never did.
    expect(chatCalls(bridge.mock)).toHaveLength(2);
  });
});
