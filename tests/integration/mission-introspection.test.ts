import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { reply } from '../../src/demo/index.js';
import { BRIDGE_KEY, startBridge, type BridgeHarness } from '../support/bridge-harness.js';
import { createFixtureProject, handoff, type FixtureProject } from '../support/mission-fixtures.js';

let fixture: FixtureProject;
let bridge: BridgeHarness;
const auth = { authorization: `Bearer ${BRIDGE_KEY}` };

beforeAll(async () => {
  fixture = createFixtureProject();
  bridge = await startBridge({
    project: fixture.root,
    env: {
      UPSTREAM_RETRIES: '0',
      UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '600',
      MISSION_READ_POOL_CAPACITY: '1',
      MISSION_READ_POOL_QUEUE: '0',
      SSE_KEEPALIVE_SECONDS: '1',
    },
  });
});
afterAll(async () => bridge.close());

const client = () => new OpenAI({ apiKey: BRIDGE_KEY, baseURL: bridge.baseURL, maxRetries: 0 });
const readConfig = () => reply().toolCall('read_file', { path: 'src/config.ts' });
const completeReport = (extra: Record<string, unknown> = {}) =>
  reply().toolCall('submit_report', {
    status: 'COMPLETE',
    summary: 'Port 4000, host 127.0.0.1.',
    findings: [{ claim: 'PORT is 4000', evidence_refs: ['file:src/config.ts#L2-L2'] }],
    confidence: 'HIGH',
    ...extra,
  });

async function mission(id: string): Promise<Record<string, unknown> | undefined> {
  const response = await fetch(`${bridge.url}/v1/missions/${id}`, { headers: auth });
  return response.ok ? ((await response.json()) as Record<string, unknown>) : undefined;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The runtime releases a lane slot just after the run's last event; wait for it. */
async function laneIdle(): Promise<void> {
  await until(async () => {
    const health = (await (await fetch(`${bridge.url}/health`, { headers: auth })).json()) as {
      missions: { read_pool: { inUse: number } };
    };
    return health.missions.read_pool.inUse === 0 ? true : undefined;
  });
}

function sseFrames(
  body: string,
): { id: number; event: string; data: { seq: number; type: string } }[] {
  return body
    .split('\n\n')
    .filter((frame) => frame.startsWith('id: '))
    .map((frame) => {
      const lines = frame.split('\n');
      return {
        id: Number(lines[0]?.slice(4)),
        event: lines[1]?.slice(7) ?? '',
        data: JSON.parse(lines[2]?.slice(6) ?? '{}') as { seq: number; type: string },
      };
    });
}

describe('mission introspection', () => {
  it('shows a mission waiting on the model, tails its events live, and cancels it when the client leaves', async () => {
    bridge.mock.reset();
    bridge.mock.script(readConfig(), reply().hang());
    const controller = new AbortController();
    // Whatever happens, the hanging mission must not keep the single lane slot for later tests.
    onTestFinished(() => controller.abort());
    const request = client()
      .responses.create(
        { model: 'mission-a3-kimi', input: handoff({ mission_id: 'live-1' }) },
        { signal: controller.signal },
      )
      .catch((error: unknown) => error);

    const waiting = await until(async () => {
      const view = await mission('live-1');
      return view?.['state'] === 'waiting_upstream' && view['model_calls'] === 2 ? view : undefined;
    });
    expect(waiting).toMatchObject({ status: null, tool_calls: 1, model_calls: 2 });

    const listed = (await (
      await fetch(`${bridge.url}/v1/missions?state=waiting_upstream`, { headers: auth })
    ).json()) as { data: { mission_id: string }[] };
    expect(listed.data.map((row) => row.mission_id)).toContain('live-1');

    // Tail the events from seq 2 on; they must continue live until the run ends.
    const tail = fetch(`${bridge.url}/v1/missions/live-1/events`, {
      headers: { ...auth, 'last-event-id': '2' },
    }).then((response) => response.text());
    controller.abort();
    await request;
    const done = await until(async () => {
      const view = await mission('live-1');
      return view?.['state'] === 'cancelled' ? view : undefined;
    });
    expect(done).toMatchObject({ reason: 'cancelled' });
    const frames = sseFrames(await tail);
    expect(frames[0]?.id).toBe(3);
    expect(frames.map((frame) => frame.id)).toEqual(frames.map((_, index) => index + 3));
    expect(frames.at(-1)?.event).toBe('run.completed');
    await laneIdle();
  });

  it('replays a finished mission from Last-Event-ID and ends the stream', async () => {
    bridge.mock.reset();
    bridge.mock.script(readConfig(), completeReport());
    await client().responses.create({
      model: 'mission-a3-kimi',
      input: handoff({ mission_id: 'replay-1' }),
    });
    const eventsResponse = await fetch(`${bridge.url}/v1/missions/replay-1/events`, {
      headers: auth,
    });
    expect(eventsResponse.headers.get('x-bridge-overhead-ms')).toMatch(/^\d+\.\d{3}$/);
    const all = sseFrames(await eventsResponse.text());
    expect(all[0]).toMatchObject({ id: 0, event: 'run.admitted' });
    expect(all.at(-1)?.event).toBe('run.completed');
    const rest = sseFrames(
      await (
        await fetch(`${bridge.url}/v1/missions/replay-1/events`, {
          headers: { ...auth, 'last-event-id': '4' },
        })
      ).text(),
    );
    expect(rest.map((frame) => frame.id)).toEqual(all.slice(5).map((frame) => frame.id));
    const missing = await fetch(`${bridge.url}/v1/missions/nope/events`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
      'mission_not_found',
    );
  });

  it('refuses a mission when its lane is full, with a retry hint Codex understands', async () => {
    bridge.mock.reset();
    bridge.mock.script(reply().hang());
    const controller = new AbortController();
    onTestFinished(() => controller.abort());
    const first = client()
      .responses.create(
        { model: 'mission-a3-kimi', input: handoff({ mission_id: 'lane-1' }) },
        { signal: controller.signal },
      )
      .catch((error: unknown) => error);
    await bridge.mock.waitForRequests(1);
    const events: { type: string; response?: { error?: { code: string; message: string } } }[] = [];
    const stream = await client().responses.create({
      model: 'mission-a3-kimi',
      input: handoff({ mission_id: 'lane-2' }),
      stream: true,
    });
    for await (const event of stream) events.push(event as never);
    const failed = events.find((event) => event.type === 'response.failed');
    expect(failed?.response?.error?.code).toBe('rate_limit_exceeded');
    expect(failed?.response?.error?.message).toMatch(
      /read_pool mission lane is full .* try again in \d+s/,
    );
    await expect(
      client().responses.create({
        model: 'mission-a3-kimi',
        input: handoff({ mission_id: 'lane-3' }),
      }),
    ).rejects.toMatchObject({ status: 429 });
    controller.abort();
    await first;
    await laneIdle();
  });
});

describe('tiers over the SDK', () => {
  it('runs an A2 lookup', async () => {
    bridge.mock.reset();
    bridge.mock.script(readConfig(), completeReport());
    const response = await client().responses.create({
      model: 'mission-a2-flash',
      input: handoff({
        mission_id: 'a2-1',
        tier: 'A2',
        allowed_paths: ['src/config.ts'],
        allowed_roots: [],
      }),
    });
    expect(response.output_text.split('\n')[0]).toBe('Status: COMPLETE');
    expect((bridge.mock.requests[0]?.body as { model: string }).model).toBe('deepseek-v4-flash');
  });

  it('runs A3-open: prefetches must_inspect, requires every obligation, lists what was not inspected', async () => {
    bridge.mock.reset();
    const open = {
      mission_id: 'open-1',
      objective_style: 'open_investigation',
      allowed_roots: ['src/'],
      must_inspect: ['src/config.ts'],
      answer_obligations: ['Which port?', 'Which host?'],
    };
    // First report answers q1 only: sent back once, then the model completes both.
    bridge.mock.script(
      completeReport({
        findings: [
          {
            claim: 'PORT is 4000',
            evidence_refs: ['file:src/config.ts#L2-L2'],
            obligation_id: 'q1',
          },
        ],
      }),
      completeReport({
        findings: [
          {
            claim: 'PORT is 4000',
            evidence_refs: ['file:src/config.ts#L2-L2'],
            obligation_id: 'q1',
          },
          {
            claim: 'HOST is 127.0.0.1',
            evidence_refs: ['file:src/config.ts#L3-L3'],
            obligation_id: 'q2',
          },
        ],
      }),
    );
    const commentary: string[] = [];
    const stream = client().responses.stream({ model: 'mission-a3-kimi', input: handoff(open) });
    stream.on('response.reasoning_summary_text.delta', (event) => commentary.push(event.delta));
    const final = await stream.finalResponse();
    expect(final.output_text.split('\n')[0]).toBe('Status: COMPLETE');
    expect(final.output_text).toContain('✓ q1: Which port?');
    expect(final.output_text).toContain('✓ q2: Which host?');
    // Entries under src/ that no read touched are listed; the file it read is not.
    const notInspected = final.output_text.split('Not inspected:')[1]?.split('\n\n')[0] ?? '';
    expect(notInspected).toContain('src/server.ts');
    expect(notInspected).not.toContain('src/config.ts');
    // must_inspect was read by the runtime before the first model call.
    expect(JSON.stringify(bridge.mock.requests[0]?.body)).toContain(
      'Prefetched by the runtime (must_inspect src/config.ts)',
    );
    expect(JSON.stringify(bridge.mock.requests[1]?.body)).toContain('obligation q2 is unanswered');
    expect(commentary.some((line) => line.startsWith("I'm reading src/config.ts"))).toBe(true);
    // Commentary items come before the one message: the report.
    const types = final.output.map((item) => item.type);
    expect(types.at(-1)).toBe('message');
    expect(types.filter((type) => type === 'message')).toHaveLength(1);
  });
});
