import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply } from '../../src/demo/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';

let bridge: BridgeHarness;
beforeAll(async () => {
  bridge = await startBridge();
});
afterAll(async () => bridge.close());

describe('smoke', () => {
  it('answers a text turn through the raw lane', async () => {
    bridge.mock.script(reply().reasoning('hmm').text('Hello from the mock'));
    const client = new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL });
    const response = await client.responses.create({ model: 'ocg-kimi-k2.6', input: 'hi' });
    expect(response.output_text).toBe('Hello from the mock');
    const stream = client.responses.stream({ model: 'ocg-kimi-k2.6', input: 'hi again' });
    bridge.mock.script(reply().text('streamed text'));
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('streamed text');
  });
});
