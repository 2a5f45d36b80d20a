import { runDelegatedMission, type RunnableMission } from '../delegation/index.js';
import { BridgeError, toBridgeError } from '../errors/index.js';
import { renderHandoff } from '../mission/index.js';
import type { CommentaryLine, MissionOutcome, MissionRuntime } from '../runtime/index.js';

/** How a delegated mission's answer is framed (what the caller asked beyond the mission). */
export interface AnswerContext {
  readonly scopeNote?: string;
  readonly permission?: string;
  readonly agent?: string;
  readonly taskNote?: string;
}

/** One mission this server started: its live commentary, its end, and how to stop it. */
export interface BoardEntry {
  readonly missionId: string;
  readonly tier: string;
  readonly handoff: string;
  readonly context: AnswerContext;
  readonly startedAt: number;
  readonly lines: CommentaryLine[];
  /** Lines already handed to the client by a "still running" answer or oss_wait. */
  delivered: number;
  endedAt: number | undefined;
  outcome: MissionOutcome | undefined;
  failure: BridgeError | undefined;
  readonly done: Promise<void>;
  readonly listeners: Set<(line: CommentaryLine) => void>;
  readonly controller: AbortController;
}

/** Finished entries kept for oss_wait; older ones are answered from the event log instead. */
const keepFinished = 200;

/**
 * The missions this MCP server runs. Each runs in the shared MissionRuntime (same lane caps,
 * event log and index as the daemon) independently of the request that started it, so a
 * blocking tool can answer "still running" and a later oss_wait picks the run up again.
 */
export class MissionBoard {
  private readonly entries = new Map<string, BoardEntry>();

  constructor(private readonly runtime: MissionRuntime) {}

  get(missionId: string): BoardEntry | undefined {
    return this.entries.get(missionId);
  }

  running(): BoardEntry[] {
    return [...this.entries.values()].filter((entry) => entry.endedAt === undefined);
  }

  /**
   * Starts a mission and returns at once. The same mission again while it runs is the same
   * entry (the runtime would follow it anyway); a different mission under a running id is
   * refused, as the runtime refuses it.
   */
  start(runnable: RunnableMission, context: AnswerContext = {}): BoardEntry {
    const missionId = runnable.mission.mission_id;
    const handoff = renderHandoff(runnable.mission);
    const existing = this.entries.get(missionId);
    if (existing && existing.endedAt === undefined) {
      if (existing.handoff === handoff) return existing;
      throw new BridgeError(
        'mission_id_conflict',
        `mission_id "${missionId}" is running here with a different mission; wait for it (oss_wait) or use another mission_id.`,
      );
    }
    const controller = new AbortController();
    const lines: CommentaryLine[] = [];
    const listeners = new Set<(line: CommentaryLine) => void>();
    let finished: () => void = () => undefined;
    const entry: BoardEntry = {
      missionId,
      tier: runnable.mission.tier,
      handoff,
      context,
      startedAt: Date.now(),
      lines,
      delivered: 0,
      endedAt: undefined,
      outcome: undefined,
      failure: undefined,
      done: new Promise<void>((resolve) => (finished = resolve)),
      listeners,
      controller,
    };
    void runDelegatedMission(this.runtime, runnable, {
      signal: controller.signal,
      onCommentary: (line) => {
        lines.push(line);
        for (const listener of listeners) listener(line);
      },
    })
      .then(
        (outcome) => {
          entry.outcome = outcome;
        },
        (error: unknown) => {
          entry.failure = toBridgeError(error);
        },
      )
      .finally(() => {
        entry.endedAt = Date.now();
        listeners.clear();
        this.prune();
        finished();
      });
    this.entries.delete(missionId);
    this.entries.set(missionId, entry);
    return entry;
  }

  /** Waits for the entry's end, at most `ms`; true when it ended. */
  async settle(entry: BoardEntry, ms: number, signal?: AbortSignal): Promise<boolean> {
    if (entry.endedAt !== undefined) return true;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const ended = await Promise.race([
      entry.done.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, ms));
        if (signal) {
          onAbort = () => resolve(false);
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }
      }),
    ]);
    clearTimeout(timer);
    if (signal && onAbort) signal.removeEventListener('abort', onAbort);
    return ended || entry.endedAt !== undefined;
  }

  /** Lines the client has not been given yet; marks them given. */
  takeNewLines(entry: BoardEntry): CommentaryLine[] {
    const fresh = entry.lines.slice(entry.delivered);
    entry.delivered = entry.lines.length;
    return fresh;
  }

  /** Aborts a running mission; `reason` says who cancelled and lands in run.completed. */
  cancel(entry: BoardEntry, reason: string): void {
    if (entry.endedAt === undefined) entry.controller.abort(reason);
  }

  /** Cancels every running mission (the server is going away) and waits for them to record it. */
  async cancelAll(reason: string, graceMs: number): Promise<void> {
    const running = this.running();
    for (const entry of running) this.cancel(entry, reason);
    await Promise.all(running.map((entry) => this.settle(entry, graceMs)));
  }

  private prune(): void {
    const finished = [...this.entries.values()].filter((entry) => entry.endedAt !== undefined);
    for (const entry of finished.slice(0, Math.max(0, finished.length - keepFinished)))
      this.entries.delete(entry.missionId);
  }
}
