import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MockUpstream } from '../../src/demo/index.js';
import { makeDiscountRepo } from '../support/implementation-lane.js';
import {
  eventually,
  missionEvents,
  projectionExists,
  scriptedWorker,
  startMcp,
  startMockUpstream,
  structured,
  tag,
  textOf,
  type McpHarness,
} from '../support/mcp-harness.js';

/**
 * Long runs over MCP: a blocking tool that would outlive a client's timeout answers "still
 * running" after MCP_SYNC_SECONDS (1 s here), oss_wait picks the run up, oss_cancel stops one,
 * and missions started together respect the runtime's lane cap (1 slot here).
 */

let mock: MockUpstream;
let mcp: McpHarness;
let project: string;

beforeAll(async () => {
  project = makeDiscountRepo();
  mock = await startMockUpstream({ responder: scriptedWorker });
  mcp = await startMcp(project, mock, {
    MCP_SYNC_SECONDS: '1',
    MISSION_READ_POOL_CAPACITY: '1',
    MISSION_QUEUE_TIMEOUT_SECONDS: '60',
  });
});
afterAll(async () => {
  await mcp.close();
  await mock.close();
  rmSync(project, { recursive: true, force: true });
});

const call = (name: string, args: Record<string, unknown>) =>
  mcp.client.callTool({ name, arguments: args });

async function commentaryOf(missionId: string): Promise<string[]> {
  return (await missionEvents(project, missionId))
    .filter((event) => event.type === 'commentary.emitted')
    .map((event) => String(event.payload['message']));
}

function linesOf(text: string): string[] {
  return (tag(text, 'thought_process') ?? '')
    .split('\n')
    .filter((line) => line.startsWith('- '))
    .map((line) => line.slice(2));
}

describe('long runs over MCP', () => {
  it('a slow mission answers "still running" with its id, and oss_wait later returns the report', async () => {
    const missionId = 'mcp-slow-1';
    const first = await call('opencode', {
      prompt: 'Find applyDiscount slowly [slow 2500] [read src/discount.mjs]',
      context_paths: ['src'],
      mission_id: missionId,
    });
    expect(first.isError).toBeFalsy();
    const firstText = textOf(first);
    expect(structured(first)).toMatchObject({ mission_id: missionId, state: 'running' });
    expect(tag(firstText, 'answer')).toContain(`Still running: mission ${missionId}`);
    expect(tag(firstText, 'answer')).toContain(`oss_wait with {"mission_id": "${missionId}"}`);
    expect(tag(firstText, 'continuation_id')).toBe(missionId);
    expect(projectionExists(project, missionId)).toBeUndefined();

    const shown = [...linesOf(firstText)];
    let last = textOf(await call('oss_wait', { mission_id: missionId, timeout_seconds: 0 }));
    for (let round = 0; round < 40 && !last.includes('Status: '); round++) {
      shown.push(...linesOf(last));
      last = textOf(await call('oss_wait', { mission_id: missionId, timeout_seconds: 5 }));
    }
    shown.push(...linesOf(last));
    expect(tag(last, 'answer')).toContain('Status: COMPLETE');
    // Every progress line reached the client once, in the order the run recorded them.
    expect(shown).toEqual(await commentaryOf(missionId));
  });

  it('oss_start returns at once; oss_cancel ends the mission recorded as cancelled by oss_cancel', async () => {
    const before = mock.requests.length;
    const started = await call('oss_start', { prompt: 'Never answers [hang]' });
    const missionId = String(structured(started)['mission_id']);
    expect(structured(started)).toMatchObject({ state: 'running', tier: 'A3' });
    await mock.waitForRequests(before + 1, 20_000);
    const cancelled = await call('oss_cancel', { mission_id: missionId });
    expect(cancelled.isError, textOf(cancelled)).toBeFalsy();
    expect(structured(cancelled)).toMatchObject({ state: 'ended', reason: 'cancelled' });
    const completed = (await missionEvents(project, missionId)).at(-1);
    expect(completed?.payload).toMatchObject({ reason: 'cancelled' });
    expect(String(completed?.payload['reason_text'])).toContain(
      'Cancelled by the oss_cancel MCP tool',
    );
    const again = await call('oss_cancel', { mission_id: missionId });
    expect(textOf(again)).toContain('already ended');
  });

  it('several missions at once run under the lane cap: one slot, so one after the other', async () => {
    const ids = ['mcp-lane-a', 'mcp-lane-b'];
    for (const id of ids) {
      const started = await call('oss_start', {
        prompt: `Find applyDiscount [slow 400] [read src/discount.mjs] (${id})`,
        context_paths: ['src/discount.mjs'],
        mission_id: id,
      });
      expect(structured(started)).toMatchObject({ mission_id: id, state: 'running' });
    }
    const runs = await call('oss_runs', {});
    expect(runs.isError).toBeFalsy();
    for (const id of ids) {
      await eventually(() => projectionExists(project, id), `${id} to end`, 60_000);
      const done = await call('oss_wait', { mission_id: id });
      expect(tag(textOf(done), 'answer')).toContain('Status: COMPLETE');
    }
    const spans = await Promise.all(
      ids.map(async (id) => {
        const events = await missionEvents(project, id);
        return { start: events[0]?.ts ?? '', end: events.at(-1)?.ts ?? '' };
      }),
    );
    const [a, b] = spans.sort((x, y) => x.start.localeCompare(y.start));
    expect(b!.start >= a!.end).toBe(true);
  });
});
