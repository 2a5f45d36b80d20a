import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { reply } from '../../src/demo/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';
import { createLogger } from '../../src/log/index.js';
import { createUpstreamClient } from '../../src/upstream/index.js';
import { call, collectUntilError, registry, testConfig } from './upstream-harness.js';

/**
 * Issue 9, Low #9: an upstream that sends only SSE comments was never cut by the idle timeout,
 * and the raw lane's non-streaming path had no overall deadline across retries and fallbacks.
 */

let server: Server | undefined;
let bridge: BridgeHarness | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  await bridge?.close();
  bridge = undefined;
});

/** An upstream that answers 200 text/event-stream and then sends `: ping` forever. */
async function startCommentsOnly(): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': connected\n\n');
    const timer = setInterval(() => res.write(': ping\n\n'), 100);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

describe('only SSE data resets the idle timer (issue 9 Low #9)', () => {
  it('cuts an upstream that sends nothing but comments', async () => {
    const base = await startCommentsOnly();
    const config = testConfig(base, {
      UPSTREAM_IDLE_TIMEOUT_SECONDS: '1',
      UPSTREAM_TIMEOUT_SECONDS: '15',
      UPSTREAM_RETRIES: '0',
    });
    const client = createUpstreamClient({
      config,
      logger: createLogger('silent'),
      registry,
      random: () => 0,
    });
    try {
      const { error } = await collectUntilError(client.stream(call(['glm-5.2'])));
      expect(error).toMatchObject({ code: 'upstream_timeout' });
      expect((error as Error).message).toContain('went silent for 1s');
    } finally {
      await client.close();
    }
  }, 30_000);
});

describe('one total deadline bounds a non-streaming raw-lane request (issue 9 Low #9)', () => {
  it('ends at UPSTREAM_NONSTREAM_TIMEOUT_SECONDS across retries and the fallback', async () => {
    bridge = await startBridge({
      env: {
        UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '2',
        UPSTREAM_RETRIES: '2',
        UPSTREAM_RETRY_MAX_DELAY_SECONDS: '0',
        UPSTREAM_NONSTREAM_TIMEOUT_SECONDS: '3',
        FALLBACK_MODEL_MAP_JSON: JSON.stringify({ 'glm-5.2': ['kimi-k2.6'] }),
      },
    });
    bridge.mock.script(reply().hang().times(10));
    const response = await fetch(`${bridge.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BRIDGE_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'glm-5.2', input: 'hello', stream: false }),
    });
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.message).toContain('did not finish within 3s');
    expect(body.error.message).toContain('UPSTREAM_NONSTREAM_TIMEOUT_SECONDS');
    // Without the total, 3 attempts x 2 models x 2 s of first-byte wait would have been made.
    expect(bridge.mock.requests.length).toBeLessThan(6);
  }, 60_000);
});
