import { afterEach, describe, expect, it } from 'vitest';
import { reply } from '../../src/demo/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';
import { call, collectUntilError, startHarness, type Harness } from './upstream-harness.js';

/**
 * Issue 9, High #2: a request whose `tools[].parameters` nested 10,000 levels deep overflowed
 * the stack inside the bridge, was reported as a 502 "connection failed", retried on the model
 * and its fallback, and counted by the circuit breaker; three such requests paused the model for
 * every client. Local failures are never upstream failures, and client JSON nesting is bounded.
 */

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { type: 'string' };
  for (let level = 0; level < depth; level++)
    value = { type: 'object', properties: { inner: value } };
  return value;
}

/** Written out as text: the test's own JSON.stringify would overflow on 10,000 levels. */
function deepBody(depth: number): string {
  const schema =
    '{"type":"object","properties":{"inner":'.repeat(depth) +
    '{"type":"string"}' +
    '}}'.repeat(depth);
  return `{"model":"glm-5.2","input":"hello","stream":false,"tools":[{"type":"function","name":"probe","parameters":${schema}}]}`;
}

let bridge: BridgeHarness | undefined;
let harness: Harness | undefined;
afterEach(async () => {
  await bridge?.close();
  bridge = undefined;
  await harness?.close();
  harness = undefined;
});

describe('client JSON nested too deep is a 400 at the door (issue 9 High #2)', () => {
  it('answers 400 invalid_request, sends nothing upstream, and does not open the breaker', async () => {
    bridge = await startBridge({ env: { CIRCUIT_BREAKER_ERRORS: '3' } });
    bridge.mock.script(reply().text('still serving'));
    const post = (body: string) =>
      fetch(`${bridge?.baseURL ?? ''}/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${BRIDGE_KEY}`, 'content-type': 'application/json' },
        body,
      });
    for (let round = 0; round < 4; round++) {
      const response = await post(deepBody(10_000));
      expect(response.status).toBe(400);
      const error = ((await response.json()) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain('levels deep');
    }
    expect(bridge.mock.requests).toHaveLength(0);
    // Everyone else is still served: nothing counted against the model.
    const ok = await post(JSON.stringify({ model: 'glm-5.2', input: 'hello', stream: false }));
    expect(ok.status).toBe(200);
    expect(JSON.stringify(await ok.json())).toContain('still serving');
  });

  it('still accepts ordinary nesting (a tool schema a few levels deep)', async () => {
    bridge = await startBridge();
    bridge.mock.script(reply().text('fine'));
    const response = await fetch(`${bridge.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BRIDGE_KEY}`, 'content-type': 'application/json' },
      body: deepBody(12),
    });
    expect(response.status).toBe(200);
  });
});

describe('a failure inside the bridge is not an upstream failure (issue 9 High #2)', () => {
  it('no retry, no fallback, no breaker count when the request cannot be serialised', async () => {
    harness = await startHarness({ UPSTREAM_RETRIES: '3', CIRCUIT_BREAKER_ERRORS: '2' });
    harness.mock.script(reply().text('never reached').times(20));
    // A request built in-process (a mission, a bug) can still be too deep for JSON.stringify.
    const deep = call(['glm-5.2', 'kimi-k2.6'], {
      request: {
        messages: [{ role: 'user', content: 'hello' }],
        tools: [
          {
            type: 'function',
            function: { name: 'probe', description: 'x', parameters: nested(20_000) },
          },
        ],
      },
    });
    for (let round = 0; round < 3; round++) {
      const { error } = await collectUntilError(harness.client.stream(deep));
      expect(error).toMatchObject({ code: 'invalid_request' });
    }
    expect(harness.mock.requests).toHaveLength(0);
    expect(deep.events.filter((event) => event.type === 'retry')).toEqual([]);
    expect(deep.events.filter((event) => event.type === 'fallback')).toEqual([]);
    expect(harness.client.health()['glm-5.2']?.consecutiveErrors ?? 0).toBe(0);
    expect(harness.client.health()['glm-5.2']?.status ?? 'closed').toBe('closed');
  });
});
