import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply } from '../../src/demo/index.js';
import {
  BRIDGE_KEY,
  parseSse,
  startBridge,
  type BridgeHarness,
} from '../support/bridge-harness.js';
import {
  CODEX_TEST_TIMEOUT_MS,
  agentMessages,
  describeRun,
  errorTexts,
  makeCodexHome,
  removeCodexHome,
  runCodex,
  turnFailed,
} from './support/codex-runner.js';

const MODEL = 'ocg-kimi-k2.6';

/** One model, no fallbacks, no circuit breaker: every upstream attempt goes to kimi-k2.6. */
const isolatedModel = {
  FALLBACK_MODEL_MAP_JSON: '{"kimi-k2.6":[]}',
  CIRCUIT_BREAKER_ERRORS: '1000',
};

let rateLimited: BridgeHarness;
let hanging: BridgeHarness;
/** Same as `hanging`, but with keepalives off: the control for the idle-timer claim. */
let silent: BridgeHarness;
let codexHome: string;
let cwd: string;

beforeAll(async () => {
  // Margins for a loaded 2-core machine: Codex's idle timeout (3 s) is 6 keepalive ticks
  // (0.5 s), and the bridge's first-byte deadline (6 s) is 3 s, another 6 ticks, past it.
  const hangEnv = {
    ...isolatedModel,
    UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '6',
    UPSTREAM_RETRIES: '0',
  };
  [rateLimited, hanging, silent] = await Promise.all([
    startBridge({ env: { ...isolatedModel, UPSTREAM_RETRIES: '0' } }),
    startBridge({ env: { ...hangEnv, SSE_KEEPALIVE_SECONDS: '0.5' } }),
    startBridge({ env: { ...hangEnv, SSE_KEEPALIVE_SECONDS: '0' } }),
  ]);
  // Every attempt, whoever makes it, gets the same failure.
  rateLimited.mock.setResponder(() => reply().status(429, { retryAfter: 1 }));
  hanging.mock.setResponder(() => reply().hang());
  silent.mock.setResponder(() => reply().hang());
  codexHome = makeCodexHome();
  cwd = mkdtempSync(path.join(tmpdir(), 'ocb-e2e-cwd-'));
});

afterAll(async () => {
  await Promise.all([rateLimited?.close(), hanging?.close(), silent?.close()]);
  removeCodexHome(codexHome);
  rmSync(cwd, { recursive: true, force: true });
});

/** A streamed /v1/responses call straight to the bridge, parsed into its SSE data events. */
async function streamDirect(bridge: BridgeHarness): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${bridge.baseURL}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BRIDGE_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, input: 'hi', stream: true }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  return parseSse(await response.text());
}

function failedError(
  events: Record<string, unknown>[],
): { code?: string; message?: string } | undefined {
  const failed = events.find((event) => event['type'] === 'response.failed');
  return (failed?.['response'] as { error?: { code?: string; message?: string } } | undefined)
    ?.error;
}

function terminalTypes(events: Record<string, unknown>[]): string[] {
  return events
    .map((event) => String(event['type']))
    .filter((type) =>
      ['response.completed', 'response.failed', 'response.incomplete'].includes(type),
    );
}

describe(
  'Codex 0.169 → bridge: upstream failures become clean errors',
  { timeout: CODEX_TEST_TIMEOUT_MS },
  () => {
    it('an upstream 429 becomes response.failed rate_limit_exceeded, and Codex stops with a rate-limit error', async () => {
      const events = await streamDirect(rateLimited);
      expect(terminalTypes(events)).toEqual(['response.failed']);
      expect(events.at(-1)?.['type']).toBe('response.failed');
      const error = failedError(events);
      expect(error?.code).toBe('rate_limit_exceeded');
      expect(error?.message).toMatch(/try again in 1s/);

      rateLimited.mock.reset();
      const run = await runCodex({
        baseURL: rateLimited.baseURL,
        model: MODEL,
        prompt: 'Say hello.',
        cwd,
        codexHome,
        streamMaxRetries: 1,
      });
      expect(run.timedOut).toBe(false);
      expect(run.exitCode, describeRun(run)).not.toBe(0);
      expect(turnFailed(run), describeRun(run)).toBeDefined();
      expect(agentMessages(run)).toEqual([]);
      const failure = turnFailed(run)?.error?.message ?? '';
      expect(failure).toMatch(/rate limit/i);
      expect(failure).toMatch(/try again in 1s/);
      // Codex got a response.failed it understood: it retried the turn once (stream_max_retries=1),
      // the bridge passed the 429 on without retrying it itself (UPSTREAM_RETRIES=0).
      const upstream = rateLimited.mock.requests.filter((r) => r.path === '/v1/chat/completions');
      expect(upstream).toHaveLength(2);
      for (const request of upstream)
        expect((request.body as { model?: string }).model).toBe('kimi-k2.6');
    });

    it('an upstream that never answers becomes response.failed upstream_timeout, kept alive by keepalive data events', async () => {
      const events = await streamDirect(hanging);
      // While the bridge waited for the first byte it sent data keepalives (not comments).
      const firstTerminal = events.findIndex((event) => event['type'] === 'response.failed');
      expect(firstTerminal).toBeGreaterThan(0);
      expect(events.slice(0, firstTerminal).some((event) => event['type'] === 'keepalive')).toBe(
        true,
      );
      expect(terminalTypes(events)).toEqual(['response.failed']);
      const error = failedError(events);
      expect(error?.code).toBe('server_error');
      expect(error?.message).toMatch(/upstream sent nothing within 6/);

      hanging.mock.reset();
      // Codex's idle timeout (3 s) is shorter than the bridge's first-byte deadline (6 s): only
      // the keepalive data events every 0.5 s keep Codex listening long enough to get the real error.
      const run = await runCodex({
        baseURL: hanging.baseURL,
        model: MODEL,
        prompt: 'Say hello.',
        cwd,
        codexHome,
        streamIdleTimeoutMs: 3_000,
        streamMaxRetries: 1,
      });
      expect(run.timedOut).toBe(false);
      expect(run.exitCode, describeRun(run)).not.toBe(0);
      expect(turnFailed(run), describeRun(run)).toBeDefined();
      const texts = errorTexts(run);
      expect(turnFailed(run)?.error?.message).toMatch(/upstream sent nothing within 6/);
      expect(texts.join('\n')).not.toMatch(/idle timeout/i);
      // Both Codex attempts reached the upstream and were abandoned by the bridge's own deadline.
      expect(hanging.mock.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(
        2,
      );
    });

    it('control: the same hang without keepalives ends in Codex idle timeouts instead', async () => {
      const run = await runCodex({
        baseURL: silent.baseURL,
        model: MODEL,
        prompt: 'Say hello.',
        cwd,
        codexHome,
        streamIdleTimeoutMs: 3_000,
        streamMaxRetries: 1,
      });
      expect(run.exitCode, describeRun(run)).not.toBe(0);
      expect(turnFailed(run)?.error?.message).toMatch(/idle timeout waiting for SSE/);
    });
  },
);
