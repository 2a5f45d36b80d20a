import type { MissionEvent } from '../events/index.js';

/** A run in flight in this process: its events so far, handed to followers as they are written. */
export interface LiveRun {
  readonly runId: string;
  readonly events: readonly MissionEvent[];
  /** Records an event the run's log just wrote and hands it to every follower. */
  publish(event: MissionEvent): void;
}

/** A follower's handle: `done` settles at the run's end or at `stop()`. */
export interface RunFollow {
  readonly done: Promise<void>;
  readonly stop: () => void;
}

interface ActiveRun extends LiveRun {
  readonly events: MissionEvent[];
  readonly listeners: Set<(event: MissionEvent) => void>;
  /** Called when the run is over, whether or not it reached run.completed (a crash). */
  readonly onEnd: Set<() => void>;
}

/**
 * The runs this process is executing and the followers of each (`GET /v1/missions/:id/events`,
 * the MCP server). Listing, reading and following a live run read memory, not the log.
 */
export class LiveRunBus {
  private readonly active = new Map<string, ActiveRun>();

  get size(): number {
    return this.active.size;
  }

  has(runId: string): boolean {
    return this.active.has(runId);
  }

  runs(): IterableIterator<LiveRun> {
    return this.active.values();
  }

  /** Registers a run; `end` must be called once it is over, however it ended. */
  open(runId: string): { run: LiveRun; end: () => void } {
    const run: ActiveRun = {
      runId,
      events: [],
      listeners: new Set(),
      onEnd: new Set(),
      publish: (event) => {
        run.events.push(event);
        for (const listener of run.listeners) listener(event);
      },
    };
    this.active.set(runId, run);
    const end = () => {
      this.active.delete(runId);
      for (const finish of run.onEnd) finish();
    };
    return { run, end };
  }

  /** The live run with this run id or mission id. */
  find(id: string): LiveRun | undefined {
    const byRun = this.active.get(id);
    if (byRun) return byRun;
    for (const run of this.active.values()) {
      const admitted = run.events[0];
      if (
        admitted?.type === 'run.admitted' &&
        (admitted.payload as { mission_id?: string }).mission_id === id
      )
        return run;
    }
    return undefined;
  }

  /**
   * Events of a live run after `afterSeq`, then each new one until the run ends. The listener
   * is registered before the backlog is replayed, so nothing falls between the two. Undefined
   * when the run is no longer live.
   */
  follow(
    runId: string,
    afterSeq: number,
    onEvent: (event: MissionEvent) => void,
  ): RunFollow | undefined {
    const run = this.active.get(runId);
    if (!run) return undefined;
    const follower = new Follower(afterSeq, onEvent);
    const listener = (event: MissionEvent) => follower.deliver(event);
    run.listeners.add(listener);
    // A run that ends without run.completed (a crashed writer) must still end its followers.
    run.onEnd.add(follower.finish);
    for (const event of [...run.events]) follower.deliver(event);
    return {
      done: follower.done,
      stop: () => {
        run.listeners.delete(listener);
        run.onEnd.delete(follower.finish);
        follower.finish();
      },
    };
  }
}

/** Events of a finished run after `afterSeq`, from its log. */
export function replayFinished(
  events: readonly MissionEvent[],
  afterSeq: number,
  onEvent: (event: MissionEvent) => void,
): RunFollow {
  const follower = new Follower(afterSeq, onEvent);
  for (const event of events) follower.deliver(event);
  follower.finish();
  return { done: follower.done, stop: follower.finish };
}

/** Delivers each event once, in order, and settles at run.completed. */
class Follower {
  readonly done: Promise<void>;
  readonly finish: () => void;
  private lastSeq: number;

  constructor(
    afterSeq: number,
    private readonly onEvent: (event: MissionEvent) => void,
  ) {
    this.lastSeq = afterSeq;
    let resolve: () => void = () => undefined;
    this.done = new Promise<void>((settle) => (resolve = settle));
    this.finish = () => resolve();
  }

  deliver(event: MissionEvent): void {
    if (event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    this.onEvent(event);
    if (event.type === 'run.completed') this.finish();
  }
}
