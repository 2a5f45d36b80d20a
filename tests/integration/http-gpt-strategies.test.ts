import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply } from '../../src/demo/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';

let bridge: BridgeHarness;
beforeAll(async () => {
  bridge = await startBridge({
    env: { GPT_MODEL_STRATEGY: 'oss', GPT_MODEL_OSS_FALLBACK: 'deepseek-v4-pro' },
  });
});
afterAll(async () => bridge.close());

const post = (body: unknown) =>
  fetch(`${bridge.baseURL}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BRIDGE_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('GPT_MODEL_STRATEGY=oss', () => {
  it('answers a gpt-* request with GPT_MODEL_OSS_FALLBACK through the raw lane', async () => {
    bridge.mock.script(reply().text('answered by the OSS fallback'));
    const response = await post({ model: 'gpt-5.5', input: 'hi' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      model: string;
      output: { content?: { text: string }[] }[];
    };
    expect(body.model).toBe('gpt-5.5');
    expect(body.output.at(-1)?.content?.[0]?.text).toBe('answered by the OSS fallback');
    expect((bridge.mock.requests.at(-1)?.body as { model: string }).model).toBe('deepseek-v4-pro');
  });
});

describe('requests that name nothing to answer', () => {
  it('refuses an empty conversation and a bare prefix with a 400 naming the field', async () => {
    const before = bridge.mock.requests.length;
    const empty = await post({ model: 'ocg-kimi-k2.6', input: [] });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({
      error: { code: 'invalid_request', param: 'input' },
    });
    const bare = await post({ model: 'ocg-', input: 'hi' });
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ error: { code: 'invalid_request', param: 'model' } });
    expect(
      bridge.mock.requests.filter((request) => request.path.endsWith('/chat/completions')),
    ).toHaveLength(
      bridge.mock.requests
        .slice(0, before)
        .filter((request) => request.path.endsWith('/chat/completions')).length,
    );
  });
});

describe('the upstream session key', () => {
  it('hashes a client key that is not a plain token instead of failing the call', async () => {
    bridge.mock.script(reply().text('ok'));
    const response = await post({
      model: 'ocg-kimi-k2.6',
      input: 'hi',
      prompt_cache_key: '日本\nsession',
    });
    expect(response.status).toBe(200);
    const sent = bridge.mock.requests.at(-1)?.headers['x-opencode-session'];
    expect(sent).toMatch(/^[0-9a-f]{32}$/);
    const health = (await (
      await fetch(`${bridge.url}/health`, { headers: { authorization: `Bearer ${BRIDGE_KEY}` } })
    ).json()) as {
      model_health: Record<string, { consecutiveErrors: number }>;
    };
    for (const model of Object.values(health.model_health)) expect(model.consecutiveErrors).toBe(0);
  });

  it('passes a plain thread id through unchanged', async () => {
    bridge.mock.script(reply().text('ok'));
    await post({ model: 'ocg-kimi-k2.6', input: 'hi', prompt_cache_key: '019a-thread-1' });
    expect(bridge.mock.requests.at(-1)?.headers['x-opencode-session']).toBe('019a-thread-1');
  });
});
