import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reply } from '../../src/demo/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';
import { createFixtureProject, handoff, type FixtureProject } from '../support/mission-fixtures.js';

// The upstream waits PACE_MS before its first byte and between frames, so a reply of N frames
// keeps the bridge waiting at least N × PACE_MS. x-bridge-overhead-ms must leave all of that
// out: it is the bridge's own time. The bound (a third of the upstream's pacing) is loose for a
// loaded 2-core machine and still an order of magnitude below what counting the wait would give.
const PACE_MS = 300;
const MISSION_PACE_MS = 600;

let fixture: FixtureProject;
let bridge: BridgeHarness;
beforeAll(async () => {
  fixture = createFixtureProject();
  bridge = await startBridge({ project: fixture.root });
});
afterAll(async () => bridge.close());
beforeEach(() => bridge.mock.reset());

const paced = (text: string) =>
  reply().text(text).chunkSize(4).paceMs(PACE_MS).firstByteDelayMs(PACE_MS);

async function post(body: Record<string, unknown>) {
  const started = performance.now();
  const response = await request(`${bridge.baseURL}/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BRIDGE_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    trailers: response.trailers,
    text,
    wallMs: performance.now() - started,
  };
}

function overheadOf(value: string | string[] | undefined): number {
  expect(value).toMatch(/^\d+(\.\d+)?$/);
  return Number(value);
}

describe('x-bridge-overhead-ms leaves out the time spent waiting on the upstream', () => {
  it('a JSON answer from a slow upstream: the header is far below the pacing', async () => {
    bridge.mock.script(paced('twelve chars'));
    const result = await post({ model: 'kimi-k2.6', input: 'hi', stream: false });
    expect(result.status).toBe(200);
    expect(result.text).toContain('twelve chars');
    // The wait really happened: first byte, then (at least) three paced text frames.
    expect(result.wallMs).toBeGreaterThanOrEqual(4 * PACE_MS);
    expect(overheadOf(result.headers['x-bridge-overhead-ms'])).toBeLessThan((4 * PACE_MS) / 3);
  });

  it('a streamed answer from a slow upstream: the trailer is far below the pacing', async () => {
    bridge.mock.script(paced('twelve chars'));
    const result = await post({ model: 'kimi-k2.6', input: 'hi', stream: true });
    expect(result.status).toBe(200);
    expect(result.text).toContain('response.completed');
    expect(result.wallMs).toBeGreaterThanOrEqual(4 * PACE_MS);
    expect(overheadOf(result.trailers['x-bridge-overhead-ms'])).toBeLessThan((4 * PACE_MS) / 3);
  });

  it('a stream whose upstream is slow to its first byte: the header leaves the wait out, and response.created does not wait for it', async () => {
    // The raw lane sends the upstream request first and opens the stream with the upstream's
    // first part, or after a short grace (20 ms) when the upstream is slower than that.
    bridge.mock.script(reply().text('late').firstByteDelayMs(PACE_MS));
    const started = performance.now();
    const response = await request(`${bridge.baseURL}/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BRIDGE_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'kimi-k2.6', input: 'hi', stream: true }),
    });
    const headersMs = performance.now() - started;
    let text = '';
    let createdMs: number | undefined;
    let deltaMs: number | undefined;
    for await (const chunk of response.body) {
      text += String(chunk);
      createdMs ??= text.includes('response.created') ? performance.now() - started : undefined;
      deltaMs ??= text.includes('response.output_text.delta')
        ? performance.now() - started
        : undefined;
    }
    expect(response.statusCode).toBe(200);
    expect(text.indexOf('response.created')).toBeLessThan(
      text.indexOf('response.output_text.delta'),
    );
    expect(deltaMs).toBeGreaterThanOrEqual(PACE_MS);
    // Opened by the grace timer, long before the upstream's first byte (margin: 5× the grace).
    expect(headersMs).toBeLessThan(PACE_MS / 3);
    expect(createdMs).toBeLessThan(PACE_MS / 3);
    // The header is sent at that opening: the bridge's own time only, not the 20 ms it waited.
    expect(overheadOf(response.headers['x-bridge-overhead-ms'])).toBeLessThan(15);
  });

  it('a mission over slow model calls: the header leaves out every model call', async () => {
    bridge.mock.script(
      reply()
        .toolCall('read_file', { path: 'src/config.ts' })
        .chunkSize(4096)
        .paceMs(MISSION_PACE_MS)
        .firstByteDelayMs(MISSION_PACE_MS),
      reply()
        .toolCall('submit_report', {
          status: 'COMPLETE',
          summary: 'The server listens on 127.0.0.1:4000.',
          findings: [
            {
              claim: 'PORT is 4000 and HOST is 127.0.0.1',
              evidence_refs: ['file:src/config.ts#L2-L3'],
            },
          ],
          confidence: 'HIGH',
        })
        .chunkSize(4096)
        .paceMs(MISSION_PACE_MS)
        .firstByteDelayMs(MISSION_PACE_MS),
    );
    const result = await post({
      model: 'mission-a3-kimi',
      input: handoff({ mission_id: 'overhead-1' }),
      stream: false,
    });
    expect(result.status).toBe(200);
    expect(result.text).toContain('Status: COMPLETE');
    // Two calls, each a first-byte delay plus at least one paced frame; a mission does real
    // work of its own (git, files, the run index), so its pacing is longer.
    expect(result.wallMs).toBeGreaterThanOrEqual(4 * MISSION_PACE_MS);
    expect(overheadOf(result.headers['x-bridge-overhead-ms'])).toBeLessThan(
      (4 * MISSION_PACE_MS) / 3,
    );
  });
});
