import { randomBytes } from 'node:crypto';
import type { Config } from '../config/index.js';
import { BridgeError } from '../errors/index.js';
import {
  findRun,
  readEventLog,
  reduceRunRecord,
  runPaths,
  type MissionEvent,
  type RunRecord,
} from '../events/index.js';
import type { Logger } from '../log/index.js';
import type { MissionV1 } from '../mission/index.js';
import type { ModelRegistry } from '../models/index.js';
import { runSummaryOf, type RunSummary, type SpendLedger } from '../store/index.js';
import type { UpstreamClient } from '../upstream/index.js';
import type { ImplementationKit } from './implementation-ports.js';
import type { OpenLogFile } from './end-on-write-failure.js';
import { LiveRunBus, replayFinished, type RunFollow } from './live-run-bus.js';
import { admitMission, recordRejection } from './mission-admission.js';
import {
  assertWithinEarlierScope,
  loadEarlierRun,
  type EarlierRun,
} from './mission-continuation.js';
import { conflictOutcome, MissionIdempotency } from './mission-idempotency.js';
import { MissionLanePool, type LaneSnapshot } from './mission-lane-pool.js';
import type { ExecuteMissionInput, MissionOutcome } from './mission-request.js';
import { assertWithinPlanWindows } from './plan-admission.js';
import { recoverRuns } from './recover-runs.js';
import { runAdmittedMission, type RunContext } from './run-admitted-mission.js';
import { RunStore } from './run-store.js';

export type { ExecuteMissionInput, MissionOutcome } from './mission-request.js';

export interface MissionRuntimeDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly registry: ModelRegistry;
  readonly upstream: UpstreamClient;
  /** A4–A6 parts (isolation, patch, verification); without them those tiers escalate. */
  readonly implementation?: ImplementationKit | undefined;
  /** The bridge's spend count; a mission over a plan window's remainder is refused. */
  readonly spend?: SpendLedger;
  /** Opens each run's log file (tests inject a failing disk through it; `fs/promises.open` otherwise). */
  readonly openLogFile?: OpenLogFile;
}

/**
 * The managed lane, as the daemon, `mission run` and the MCP server call it: admission
 * (mission-admission.ts), mission_id idempotency (mission-idempotency.ts), a lane slot
 * (mission-lane-pool.ts), the run itself (run-admitted-mission.ts), its live followers
 * (live-run-bus.ts) and startup recovery (recover-runs.ts). This class only wires them.
 */
export class MissionRuntime {
  private readonly lanePool: MissionLanePool;
  private readonly bus = new LiveRunBus();
  private readonly store: RunStore;
  private readonly idempotency: MissionIdempotency;
  private readonly runContext: RunContext;

  constructor(private readonly deps: MissionRuntimeDeps) {
    const { config } = deps;
    this.store = new RunStore(config.CODEX_OSS_PROJECT, deps.logger);
    this.idempotency = new MissionIdempotency(config.CODEX_OSS_PROJECT);
    this.lanePool = new MissionLanePool(config);
    this.runContext = { ...deps, store: this.store, bus: this.bus };
  }

  get projectRoot(): string {
    return this.deps.config.CODEX_OSS_PROJECT;
  }

  /** Mission lane occupancy, for /health. */
  lanes(): { read_pool: LaneSnapshot; active_runs: number } {
    return { ...this.lanePool.snapshot(), active_runs: this.bus.size };
  }

  async execute(input: ExecuteMissionInput): Promise<MissionOutcome> {
    const runId = newRunId();
    const admitted = admitMission(input, this.deps);
    if (!admitted.ok) return this.reject(runId, input, admitted.error);
    const { prepared } = admitted;

    // mission_id is an idempotency key: replay, follow or refuse instead of running twice.
    const decision = await this.idempotency.decide(
      prepared,
      this.store.runIndex(),
      input.onCommentary,
    );
    if (decision.kind === 'replay') return decision.outcome;
    if (decision.kind === 'follow') return decision.follow();
    if (decision.kind === 'conflict') return conflictOutcome(prepared.mission.mission_id, decision);
    return decision.settle(async (onCommentary) => {
      const claimed = { ...input, onCommentary };
      let earlier: EarlierRun | undefined;
      try {
        assertWithinPlanWindows(prepared.mission, this.deps.spend, this.deps.config);
        earlier = await this.earlierRun(prepared.mission, input.continuation);
      } catch (error) {
        if (error instanceof BridgeError) return this.reject(runId, claimed, error);
        throw error;
      }
      return this.lanePool.run(input.signal, () =>
        runAdmittedMission(this.runContext, runId, claimed, admitted, earlier),
      );
    });
  }

  /**
   * Runs, newest first: the index, with runs in flight overlaid from memory (the index is written
   * at admission and at the end, so only the live events know "waiting on the model" now).
   */
  list(options: { limit?: number; state?: string } = {}): RunSummary[] {
    const limit = options.limit ?? 50;
    const live = new Map(
      [...this.bus.runs()].map((run) => [run.runId, runSummaryOf(reduceRunRecord(run.events))]),
    );
    const indexed = this.store
      .runIndex()
      .listRuns({ limit: limit + live.size })
      .filter((row) => !live.has(row.run_id));
    return [...live.values(), ...indexed]
      .filter((row) => options.state === undefined || row.state === options.state)
      .sort((a, b) => (b.started_at ?? '').localeCompare(a.started_at ?? ''))
      .slice(0, limit);
  }

  /** The RunRecord of a run (by run id or mission id), live for running missions. */
  async get(id: string): Promise<RunRecord | null> {
    const live = this.bus.find(id);
    if (live) return reduceRunRecord(live.events);
    // A finished run's index row is the reduced log, written after its last event: no re-read.
    const indexed = this.store.runIndex().getRun(id);
    if (indexed && indexed.state !== 'running' && indexed.state !== 'waiting_upstream')
      return indexed;
    const runId = indexed?.run_id ?? (await findRun(this.projectRoot, id));
    if (!runId) return null;
    const read = await readEventLog(runPaths(this.projectRoot, runId).logPath);
    return read.events.length > 0 ? reduceRunRecord(read.events) : null;
  }

  /**
   * Events of a run after `afterSeq`, then live ones until the run ends. Returns null for an
   * unknown id. A live run's subscription is registered before its backlog is replayed, so
   * nothing falls between the replay and the live tail.
   */
  async follow(
    id: string,
    afterSeq: number,
    onEvent: (event: MissionEvent) => void,
  ): Promise<RunFollow | null> {
    const runId = this.bus.find(id)?.runId ?? (await this.resolveRunId(id));
    if (!runId) return null;
    const live = this.bus.follow(runId, afterSeq, onEvent);
    if (live) return live;
    const read = await readEventLog(runPaths(this.projectRoot, runId).logPath);
    return replayFinished(read.events, afterSeq, onEvent);
  }

  /**
   * Closes runs an earlier daemon left open (killed or crashed mid-mission): a log with no
   * terminal event whose writer is gone gets `run.completed` with reason `interrupted`, then its
   * projections and index row. A run whose lock is held by a live process is left alone.
   * Returns the run ids it closed.
   */
  async recoverInterrupted(): Promise<string[]> {
    // Scans the run folders, not only the index (recover-runs.ts, issue 9 Medium #5).
    const report = await recoverRuns({
      projectRoot: this.projectRoot,
      index: this.store.runIndex(),
      logger: this.deps.logger,
      isActive: (runId) => this.bus.has(runId),
    });
    return report.closed;
  }

  /** Removes isolated copies whose run is not in flight here (left by a crashed daemon). */
  async removeStaleIsolations(): Promise<string[]> {
    const kit = this.deps.implementation;
    if (!kit) return [];
    return kit.removeStaleIsolations(this.projectRoot, (runId) => this.bus.has(runId));
  }

  close(): Promise<void> {
    this.store.close();
    return Promise.resolve();
  }

  /**
   * The read scope of an earlier run, for entry points that build a continuation from a plain
   * prompt (MCP, `delegate`) and must stay inside it. Throws what a continuation would get.
   */
  async continuationScope(missionId: string): Promise<{
    allowedRoots: string[];
    allowedPaths: string[];
    tier: string;
    /** The verified earlier run; hand it back as `continuation` so it is not read again. */
    run: EarlierRun;
  }> {
    const earlier = await loadEarlierRun(this.projectRoot, this.store.runIndex(), {
      mission_id: '',
      continues: missionId,
    });
    return {
      allowedRoots: [...earlier.scope.allowedRoots],
      allowedPaths: [...earlier.scope.allowedPaths],
      tier: earlier.tier,
      run: earlier,
    };
  }

  /**
   * The run a continuation names, verified and within scope (PRODUCT.md §6.3); else throws. A
   * run loaded by `continuationScope` for this same mission is used as it was verified then:
   * a finished run's log only grows by nothing, and `run.admitted.continues` pins its head hash.
   */
  private async earlierRun(
    mission: MissionV1,
    loaded: EarlierRun | undefined,
  ): Promise<EarlierRun | undefined> {
    if (!mission.continues) return undefined;
    const earlier =
      loaded !== undefined &&
      loaded.missionId === mission.continues &&
      mission.continues !== mission.mission_id
        ? loaded
        : await loadEarlierRun(this.projectRoot, this.store.runIndex(), mission);
    assertWithinEarlierScope(earlier, mission);
    return earlier;
  }

  /** Run id for a run id or mission id: the index first, a scan of the logs if it lacks the run. */
  private async resolveRunId(id: string): Promise<string | null> {
    const indexed = this.store.runIndex().getRun(id)?.run_id;
    return indexed ?? (await findRun(this.projectRoot, id));
  }

  private reject(
    runId: string,
    input: ExecuteMissionInput,
    error: BridgeError,
  ): Promise<MissionOutcome> {
    return recordRejection(
      {
        store: this.store,
        idempotency: this.idempotency,
        logger: this.deps.logger,
        openLogFile: this.deps.openLogFile,
      },
      runId,
      input,
      error,
    );
  }
}

function newRunId(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `run_${stamp}_${randomBytes(4).toString('hex')}`;
}
