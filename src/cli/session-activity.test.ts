import { describe, expect, it } from 'vitest';
import { reduceRunRecord, type MissionEvent, type RunRecord } from '../events/index.js';
import { inFlightWork, sessionActivity } from './session-activity.js';

const now = Date.parse('2026-12-01T12:00:00.000Z');
const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();

function running(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    ...reduceRunRecord([]),
    state: 'running',
    last_event_at: ago(0),
    deadline_at: new Date(now + 600_000).toISOString(),
    ...overrides,
  };
}

function event(seq: number, type: string, payload: Record<string, unknown>): MissionEvent {
  return { seq, type, payload, ts: ago(0) } as unknown as MissionEvent;
}

describe('sessionActivity', () => {
  it('follows AO: active for 30 s after an event, then ready, then idle past the threshold', () => {
    const at = (seconds: number, readyThresholdMs?: number) =>
      sessionActivity({
        record: running({ last_event_at: ago(seconds) }),
        inFlight: null,
        writer: 'alive',
        now,
        ...(readyThresholdMs === undefined ? {} : { readyThresholdMs }),
      }).activity;
    expect([at(0), at(30), at(31), at(300), at(301)]).toEqual([
      'active',
      'active',
      'ready',
      'ready',
      'idle',
    ]);
    expect(at(61, 60_000)).toBe('idle');
  });

  it('stays active through a long silent step, and exits or blocks when nobody can finish it', () => {
    const quiet = running({ last_event_at: ago(900), state: 'waiting_upstream' });
    const answer = (record: RunRecord, writer: 'alive' | 'gone' | 'unknown') =>
      sessionActivity({ record, inFlight: 'model call 2', writer, now });
    expect(answer(quiet, 'alive')).toMatchObject({ activity: 'active' });
    expect(answer(quiet, 'unknown').activity).toBe('active');
    expect(answer(quiet, 'gone').activity).toBe('exited');
    const late = { ...quiet, deadline_at: ago(61) };
    expect(answer(late, 'alive').activity).toBe('blocked');
    expect(answer({ ...quiet, deadline_at: ago(59) }, 'alive').activity).toBe('active');
  });

  it('says exited for every ended run, whatever its writer', () => {
    for (const state of ['completed', 'failed', 'cancelled'] as const) {
      const answer = sessionActivity({
        record: running({ state, status: 'PARTIAL', last_event_at: ago(0) }),
        inFlight: null,
        writer: 'alive',
        now,
      });
      expect(answer.activity, state).toBe('exited');
    }
  });
});

describe('inFlightWork', () => {
  it('names the model call, tool or verification still waiting for its answer', () => {
    const requested = event(1, 'model.requested', { call: 1 });
    expect(inFlightWork([requested])).toBe('model call 1');
    expect(inFlightWork([requested, event(2, 'model.responded', { call: 1 })])).toBeNull();
    const tool = event(3, 'tool.requested', { call: 1, tool: 'search_text' });
    expect(inFlightWork([tool])).toBe('search_text (cmd:1)');
    expect(inFlightWork([tool, event(4, 'tool.completed', { call: 1 })])).toBeNull();
    expect(inFlightWork([tool, event(4, 'tool.denied', { call: 1 })])).toBeNull();
    expect(inFlightWork([event(5, 'verification.started', {})])).toBe('verification');
    expect(
      inFlightWork([event(5, 'verification.started', {}), event(6, 'verification.completed', {})]),
    ).toBeNull();
  });
});
