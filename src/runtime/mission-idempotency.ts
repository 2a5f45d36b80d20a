import {
  canonicalJson,
  readEventLog,
  reduceRunRecord,
  runPaths,
  type RunRecord,
} from '../events/index.js';
import type { PreparedMission } from '../mission/index.js';
import type { RunIndex } from '../store/index.js';
import type { CommentaryLine } from './commentary-channel.js';
import type { MissionReport } from './mission-report.js';
import type { MissionOutcome } from './mission-request.js';
import { conflictAnswer } from './render-answer.js';

/**
 * `mission_id` as an idempotency key within a project (PRODUCT.md §4): one mission id, one run,
 * one set of projections. Given the run index and a prepared mission, it decides whether this
 * request starts a new run, replays a finished identical one, follows an identical one still
 * running, or is refused because the id already ran with a different handoff. Rejected runs
 * (a mission that never passed admission) do not count: fixing a handoff and sending it again
 * under the same id is the normal way to recover from a validation error.
 */
export type IdempotencyDecision =
  | {
      readonly kind: 'new';
      /**
       * Hands the run to the claim: followers get its commentary and outcome. Call it exactly
       * once, with whatever answers this request (the run, or its rejection).
       */
      readonly settle: (
        run: (onCommentary: (line: CommentaryLine) => void) => Promise<MissionOutcome>,
      ) => Promise<MissionOutcome>;
    }
  | { readonly kind: 'replay'; readonly outcome: MissionOutcome }
  | { readonly kind: 'follow'; readonly follow: () => Promise<MissionOutcome> }
  | { readonly kind: 'conflict'; readonly runId: string; readonly message: string };

interface InFlight {
  readonly handoff: string;
  readonly lines: CommentaryLine[];
  readonly listeners: Set<(line: CommentaryLine) => void>;
  readonly outcome: Promise<MissionOutcome>;
}

export class MissionIdempotency {
  private readonly inflight = new Map<string, InFlight>();

  constructor(private readonly projectRoot: string) {}

  /**
   * Everything up to the claim of a new run is synchronous, so two identical requests arriving
   * together cannot both start one: the second finds the first's claim and follows it.
   */
  async decide(
    prepared: PreparedMission,
    index: RunIndex,
    onCommentary: ((line: CommentaryLine) => void) | undefined,
  ): Promise<IdempotencyDecision> {
    const missionId = prepared.mission.mission_id;
    const handoff = canonicalJson(prepared.mission);
    const running = this.inflight.get(missionId);
    if (running) {
      if (running.handoff !== handoff) return conflict(missionId, 'a run that is still going');
      return { kind: 'follow', follow: () => this.follow(running, onCommentary) };
    }
    const earlier = index.missionRuns(missionId).filter((record) => record.rejection === null);
    const last = earlier.at(-1);
    if (last === undefined) return this.claim(missionId, handoff, onCommentary);

    const recorded = await this.recordedHandoff(last.run_id);
    if (recorded !== handoff) return conflict(missionId, `run ${last.run_id}`, last.run_id);
    onCommentary?.({
      index: 0,
      kind: 'mission_replay',
      phase: 'REPORT',
      message: `Replay: mission ${missionId} already finished in run ${last.run_id} (${last.status ?? 'no status'}); this is its recorded report, and no model was called.`,
      severity: 'info',
    });
    return { kind: 'replay', outcome: outcomeOf(last, 'replay') };
  }

  /**
   * The mission id a rejected request is recorded under: its own, unless that id already has a
   * finished real run, whose projections a rejection must never overwrite. (A run in flight
   * writes its projections last, so a concurrent rejection cannot outlive them.)
   */
  rejectionMissionId(missionId: string | undefined, runId: string, index: RunIndex): string {
    if (missionId === undefined) return runId;
    try {
      const taken = index.missionRuns(missionId).some((record) => record.rejection === null);
      return taken ? runId : missionId;
    } catch {
      return runId;
    }
  }

  private claim(
    missionId: string,
    handoff: string,
    onCommentary: ((line: CommentaryLine) => void) | undefined,
  ): IdempotencyDecision {
    let resolve!: (outcome: MissionOutcome) => void;
    let reject!: (error: unknown) => void;
    const outcome = new Promise<MissionOutcome>((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    // A follower's await is not the only consumer; never leave the rejection unhandled.
    outcome.catch(() => undefined);
    const entry: InFlight = { handoff, lines: [], listeners: new Set(), outcome };
    if (onCommentary) entry.listeners.add(onCommentary);
    this.inflight.set(missionId, entry);
    const fanOut = (line: CommentaryLine) => {
      entry.lines.push(line);
      for (const listener of entry.listeners) listener(line);
    };
    return {
      kind: 'new',
      settle: async (run) => {
        try {
          const result = await run(fanOut);
          resolve(result);
          return result;
        } catch (error) {
          reject(error);
          throw error;
        } finally {
          this.inflight.delete(missionId);
        }
      },
    };
  }

  private async follow(
    entry: InFlight,
    onCommentary: ((line: CommentaryLine) => void) | undefined,
  ): Promise<MissionOutcome> {
    if (onCommentary) {
      for (const line of entry.lines) onCommentary(line);
      entry.listeners.add(onCommentary);
    }
    try {
      const outcome = await entry.outcome;
      return { ...outcome, reusedRun: 'follow' };
    } finally {
      if (onCommentary) entry.listeners.delete(onCommentary);
    }
  }

  /** The admitted mission of a run, as canonical JSON (the log's first event carries it). */
  private async recordedHandoff(runId: string): Promise<string | undefined> {
    try {
      const read = await readEventLog(runPaths(this.projectRoot, runId).logPath);
      const admitted = read.events.find((event) => event.type === 'run.admitted');
      const mission = (admitted?.payload as { mission?: unknown } | undefined)?.mission;
      return mission === undefined ? undefined : canonicalJson(mission);
    } catch {
      return undefined;
    }
  }
}

function conflict(
  missionId: string,
  where: string,
  runId = '',
): Extract<IdempotencyDecision, { kind: 'conflict' }> {
  return {
    kind: 'conflict',
    runId,
    message: `mission_id_conflict: mission_id "${missionId}" already belongs to ${where} with a different handoff. A mission_id names one mission in this project: send the same handoff to get its report again, or give this mission a new mission_id (or set "continues": "${missionId}" to build on it).`,
  };
}

function outcomeOf(record: RunRecord, reusedRun: 'replay' | 'follow'): MissionOutcome {
  return {
    runId: record.run_id,
    missionId: record.mission_id ?? record.run_id,
    status: record.status ?? 'FAILED',
    finalText: record.final_text ?? `Status: ${record.status ?? 'FAILED'}\n`,
    report: record.report as MissionReport | null,
    record,
    modelTimeMs: 0,
    reusedRun,
  };
}

/** The answer to a refused duplicate: nothing recorded, so the earlier run stays the only one. */
export function conflictOutcome(
  missionId: string,
  decision: Extract<IdempotencyDecision, { kind: 'conflict' }>,
): MissionOutcome {
  const finalText = conflictAnswer(missionId, decision.runId, decision.message);
  return {
    runId: decision.runId,
    missionId,
    status: 'FAILED',
    finalText,
    report: null,
    record: reduceRunRecord([]),
    modelTimeMs: 0,
    reusedRun: 'conflict',
  };
}
