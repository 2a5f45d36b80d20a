import type { MissionEvent, RunRecord, RunWriterState } from '../events/index.js';

/**
 * agent-orchestrator's activity words (its `ActivityState`), so an orchestrator can read a
 * delegated session the way it reads its own agents. docs/decisions/0007-session-activity.md
 * gives the rule for each.
 */
export type SessionActivity = 'active' | 'ready' | 'idle' | 'waiting_input' | 'blocked' | 'exited';

/** AO's own windows: activity in the last 30 s is "active"; a quiet "ready" turns "idle" after 300 s. */
export const ACTIVE_WINDOW_MS = 30_000;
export const DEFAULT_READY_THRESHOLD_MS = 300_000;
/** How long past its deadline a run may take to close itself before it counts as stuck. */
export const DEADLINE_GRACE_MS = 60_000;

export interface ActivityInput {
  readonly record: RunRecord;
  /** What the run is doing right now, if anything: see `inFlightWork`. */
  readonly inFlight: string | null;
  readonly writer: RunWriterState;
  readonly now: number;
  readonly readyThresholdMs?: number;
}

export interface ActivityAnswer {
  readonly activity: SessionActivity;
  /** Why, in one sentence, for people reading `codex-oss session`. */
  readonly because: string;
}

/** The activity of a run's session, from its record, what is in flight and its writer. */
export function sessionActivity(input: ActivityInput): ActivityAnswer {
  const { record, inFlight, writer, now } = input;
  const readyThreshold = input.readyThresholdMs ?? DEFAULT_READY_THRESHOLD_MS;
  if (record.state !== 'running' && record.state !== 'waiting_upstream') {
    return {
      activity: 'exited',
      because: record.rejection
        ? `the mission was refused before it ran (${record.rejection.code})`
        : `the run ended ${record.status ?? record.state.toUpperCase()}${record.reason ? ` (${record.reason})` : ''}`,
    };
  }
  if (writer === 'gone') {
    return {
      activity: 'exited',
      because:
        'the process running this mission is gone without closing it (killed or crashed); the next daemon start records it as interrupted',
    };
  }
  const last = Date.parse(record.last_event_at ?? '');
  const quietMs = Number.isNaN(last) ? Number.POSITIVE_INFINITY : Math.max(0, now - last);
  const deadline = Date.parse(record.deadline_at ?? '');
  if (!Number.isNaN(deadline) && now > deadline + DEADLINE_GRACE_MS) {
    return {
      activity: 'blocked',
      because: `the run is ${Math.round((now - deadline) / 1000)} s past its deadline and has not closed itself; it needs a look (codex-oss explain)`,
    };
  }
  if (quietMs <= ACTIVE_WINDOW_MS) {
    return { activity: 'active', because: 'the run wrote an event in the last 30 s' };
  }
  if (inFlight !== null) {
    return {
      activity: 'active',
      because: `${inFlight} is in flight (the runtime bounds it by the run's deadline)`,
    };
  }
  return quietMs <= readyThreshold
    ? {
        activity: 'ready',
        because: `nothing in flight and no event for ${Math.round(quietMs / 1000)} s`,
      }
    : {
        activity: 'idle',
        because: `nothing in flight and no event for ${Math.round(quietMs / 1000)} s (over ${Math.round(readyThreshold / 1000)} s)`,
      };
}

/**
 * The step a run is waiting on, or null: a model call without its answer, a tool call without
 * its result, a verification without its outcome. These can be silent for minutes while the run
 * is busy, which the time of the last event alone would mistake for idleness.
 */
export function inFlightWork(events: readonly MissionEvent[]): string | null {
  let model: number | null = null;
  const tools = new Map<string, string>();
  let verifying = false;
  for (const event of events) {
    const p = event.payload as Record<string, unknown>;
    const call = typeof p['call'] === 'number' ? String(p['call']) : `seq:${event.seq}`;
    switch (event.type) {
      case 'model.requested':
        model = typeof p['call'] === 'number' ? p['call'] : 0;
        break;
      case 'model.responded':
      case 'model.failed':
        model = null;
        break;
      case 'tool.requested':
        tools.set(call, typeof p['tool'] === 'string' ? p['tool'] : 'a tool');
        break;
      case 'tool.completed':
      case 'tool.denied':
        tools.delete(call);
        break;
      case 'verification.started':
        verifying = true;
        break;
      case 'verification.completed':
        verifying = false;
        break;
      default:
        break;
    }
  }
  if (verifying) return 'verification';
  if (model !== null) return `model call ${model}`;
  const [call, tool] = [...tools][0] ?? [];
  return call === undefined ? null : `${tool ?? 'a tool'} (cmd:${call})`;
}
