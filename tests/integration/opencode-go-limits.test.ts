/**
 * OpenCode Go's real limits over real HTTP (delegation.md §5): a plan-window 429 is its own error
 * (one upstream call, no retry, no fallback to another Go model, the window and reset in words),
 * and a plain 429 halves the model's concurrency, which creeps back on success.
 */
import OpenAI from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reply } from '../../src/demo/index.js';
import {
  BRIDGE_KEY,
  parseSse,
  startBridge,
  type BridgeHarness,
} from '../support/bridge-harness.js';

const limitBody = {
  type: 'error',
  error: {
    type: 'SubscriptionUsageLimitError',
    message: 'Subscription usage limit reached. Please try again later.',
  },
};
// 3 h 12 min, as Go's retry-after gives it: the seconds until the window resets.
const RESET_SECONDS = 3 * 3600 + 12 * 60;

let bridge: BridgeHarness;
beforeAll(async () => {
  bridge = await startBridge({
    env: {
      FALLBACK_MODEL_MAP_JSON: '{"kimi-k2.6":["glm-5.3"]}',
      UPSTREAM_RETRIES: '2',
      MODEL_CONCURRENCY_JSON: '{"deepseek-v4-flash":4}',
    },
  });
});
afterAll(async () => bridge.close());
beforeEach(() => bridge.mock.reset());

const posts = () => bridge.mock.requests.filter((recorded) => recorded.method === 'POST');

async function health(): Promise<{
  concurrency: { perModel: Record<string, { max: number; configured: number }> };
}> {
  const answer = await request(`${bridge.url}/health`, {
    headers: { authorization: `Bearer ${BRIDGE_KEY}` },
  });
  return (await answer.body.json()) as never;
}

describe('OpenCode Go subscription limit', () => {
  it('streamed: one upstream call, no fallback, a failure naming the window and the reset', async () => {
    bridge.mock.script(
      reply().status(429, { body: limitBody, retryAfter: RESET_SECONDS }),
      reply().text('a fallback answered'),
    );
    const answer = await request(`${bridge.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BRIDGE_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'ocg-kimi-k2.6', input: 'hi', stream: true }),
    });
    const events = parseSse(await answer.body.text());
    const failed = events.at(-1) as {
      type: string;
      response: { error: { code: string; message: string } };
    };
    expect(failed.type).toBe('response.failed');
    // invalid_prompt: the code Codex neither retries nor replaces with its own words.
    expect(failed.response.error.code).toBe('invalid_prompt');
    expect(failed.response.error.message).toContain(
      'your OpenCode Go 5-hour limit resets in 3 h 12 min',
    );
    expect(posts()).toHaveLength(1);
    expect((posts()[0]!.body as { model: string }).model).toBe('kimi-k2.6');
  });

  it('JSON: HTTP 429 subscription_limit_reached that the openai SDK does not retry', async () => {
    bridge.mock.script(
      reply().status(429, { body: limitBody, retryAfter: RESET_SECONDS }).times(5),
    );
    const openai = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 2 });
    const error = await openai.responses
      .create({ model: 'ocg-kimi-k2.6', input: 'hi' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as { code?: string }).code).toBe('subscription_limit_reached');
    expect((error as Error).message).toContain('5-hour limit resets in 3 h 12 min');
    expect((error as { headers: Headers }).headers.get('x-should-retry')).toBe('false');
    expect(posts()).toHaveLength(1);
  });
});

describe('adaptive concurrency', () => {
  it('an upstream 429 halves the model slots; successes bring them back one at a time', async () => {
    bridge.mock.script(
      reply().status(429, { retryAfter: 0 }),
      reply().text('ok after a retry'),
      reply().text('ok again'),
    );
    const openai = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
    const first = await openai.responses.create({ model: 'ocg-deepseek-v4-flash', input: 'hi' });
    expect(first.output_text).toBe('ok after a retry');
    // Halved from 4 to 2 on the 429; one success is not yet a run as long as the limit.
    expect((await health()).concurrency.perModel['deepseek-v4-flash']).toMatchObject({
      max: 2,
      configured: 4,
    });
    await openai.responses.create({ model: 'ocg-deepseek-v4-flash', input: 'hi' });
    expect((await health()).concurrency.perModel['deepseek-v4-flash']).toMatchObject({
      max: 3,
      configured: 4,
    });
    expect(posts()).toHaveLength(3);
  });
});
