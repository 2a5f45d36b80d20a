import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { BridgeError } from '../errors/index.js';
import {
  findRun,
  openEventLog,
  readEventLog,
  reduceRunRecord,
  RunRecordReducer,
  runPaths,
  writeProjections,
  type EventLogWriter,
  type MissionEvent,
  type RunRecord,
} from '../events/index.js';
import type { Logger } from '../log/index.js';
import {
  criticalRoots,
  isMissionInputError,
  prepareMission,
  type MissionV1,
  type PreparedMission,
} from '../mission/index.js';
import {
  priceUsage,
  type MissionAlias,
  type ModelEntry,
  type ModelRegistry,
} from '../models/index.js';
import {
  openRunIndex,
  runSummaryOf,
  type RunIndex,
  type RunSummary,
  type SpendLedger,
} from '../store/index.js';
import { ConcurrencyLimiter, type UpstreamClient } from '../upstream/index.js';
import { CommentaryChannel, type CommentaryLine } from './commentary-channel.js';
import { EvidenceLedger } from './evidence-ledger.js';
import {
  assertWithinEarlierScope,
  continuesPayload,
  loadEarlierRun,
  type EarlierRun,
} from './mission-continuation.js';
import { conflictOutcome, MissionIdempotency } from './mission-idempotency.js';
import { assertWithinPlanWindows } from './plan-admission.js';
import type { MissionReport } from './mission-report.js';
import { createPathScope, type PathScope } from './path-scope.js';
import { redactSecrets } from './redact-secrets.js';
import { renderReport } from './render-report.js';
import { recoverRuns } from './recover-runs.js';
import {
  endRunOnWriteFailure,
  isLogWriteFailure,
  writeFailureText,
  type OpenLogFile,
} from './end-on-write-failure.js';
import { runMissionLoop } from './run-mission-loop.js';
import { ToolDispatcher, type RecordEvent } from './tool-dispatcher.js';
import type { ImplementationKit } from './implementation-ports.js';
import type { ToolSpec } from './tools/types.js';

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

export interface ExecuteMissionInput {
  /** User-role text only. */
  readonly userTexts: readonly string[];
  /** The request's model name (a mission alias, or a raw model whose input carried a block). */
  readonly model: string;
  readonly missionAlias?: MissionAlias | undefined;
  readonly signal: AbortSignal;
  readonly requestId?: string | undefined;
  readonly sessionKey?: string | undefined;
  /** Live progress (SSE reasoning items, CLI stderr). */
  readonly onCommentary?: (line: CommentaryLine) => void;
  /**
   * The mission this run continues (the CLI's `--continue`, MCP's `continuation_id`), set over
   * whatever the handoff says (PRODUCT.md §6.3).
   */
  readonly continues?: string | undefined;
}

export interface MissionOutcome {
  readonly runId: string;
  readonly missionId: string;
  readonly status: string;
  readonly finalText: string;
  readonly report: MissionReport | null;
  readonly record: RunRecord;
  /** Time spent waiting on model calls (excluded from the bridge's overhead figure). */
  readonly modelTimeMs: number;
  /** Set when this request ran nothing itself (mission_id idempotency, PRODUCT.md §4). */
  readonly reusedRun?: 'replay' | 'follow' | 'conflict';
}

interface ActiveRun {
  readonly runId: string;
  readonly events: MissionEvent[];
  readonly listeners: Set<(event: MissionEvent) => void>;
  /** Called when the run is over, whether or not it reached run.completed (a crash). */
  readonly onEnd: Set<() => void>;
}

/** Routes a mission may never run on: a parent's provider or a GPT model (reference §3.3). */
const forbiddenRoutes = /^(gpt[-_]|openai\/|opencode_bridge$|openai$|chatgpt$)/i;

/**
 * The managed lane: admits a mission, runs the governed loop inside a lane slot, records every
 * step in the run's hash-chained log, and derives the report, projections and index from it.
 */
export class MissionRuntime {
  private readonly readPool: ConcurrencyLimiter;
  private readonly active = new Map<string, ActiveRun>();
  private index: RunIndex | undefined;
  private readonly idempotency: MissionIdempotency;

  constructor(private readonly deps: MissionRuntimeDeps) {
    const { config } = deps;
    this.idempotency = new MissionIdempotency(config.CODEX_OSS_PROJECT);
    this.readPool = new ConcurrencyLimiter({
      max: config.MISSION_READ_POOL_CAPACITY,
      queueMax: config.MISSION_READ_POOL_QUEUE,
      queueTimeoutMs: config.MISSION_QUEUE_TIMEOUT_SECONDS * 1000,
      rejection: (why) =>
        new BridgeError(
          'mission_queue_full',
          `The read_pool mission lane is ${why === 'full' ? 'full' : 'still busy after the queue timeout'} (${config.MISSION_READ_POOL_CAPACITY} running, ${config.MISSION_READ_POOL_QUEUE} queued); try again in ${Math.max(1, Math.round(config.MISSION_QUEUE_TIMEOUT_SECONDS))}s, or raise MISSION_READ_POOL_CAPACITY.`,
          { retryAfterSeconds: Math.max(1, Math.round(config.MISSION_QUEUE_TIMEOUT_SECONDS)) },
        ),
    });
  }

  get projectRoot(): string {
    return this.deps.config.CODEX_OSS_PROJECT;
  }

  /** Mission lane occupancy, for /health. */
  lanes(): { read_pool: { inUse: number; max: number; queued: number }; active_runs: number } {
    return { read_pool: this.readPool.snapshot(), active_runs: this.active.size };
  }

  async execute(input: ExecuteMissionInput): Promise<MissionOutcome> {
    const { config } = this.deps;
    const runId = newRunId();
    let prepared: PreparedMission;
    let chain: ModelEntry[];
    try {
      prepared = prepareMission({
        userTexts: input.userTexts,
        aliasTier: input.missionAlias?.tier,
        caps: input.missionAlias?.caps,
        requestDeadlineSeconds: config.REQUEST_DEADLINE_SECONDS,
        maxDeadlineSeconds: config.RUNTIME_MISSION_MAX_DEADLINE_SECONDS,
        reserveSeconds: config.DETERMINISTIC_PARTIAL_RESERVE_SECONDS,
      });
      // The objective goes into prompts, events, commentary and reports: a token pasted into it
      // is redacted once, here, for all of them (and for the idempotency comparison).
      prepared = { ...prepared, mission: redactMissionText(prepared.mission) };
      if (input.continues !== undefined)
        prepared = { ...prepared, mission: withContinues(prepared.mission, input.continues) };
      chain = this.admitModel(input, prepared.mission);
    } catch (error) {
      if (
        isMissionInputError(error) ||
        (error instanceof BridgeError &&
          (error.code === 'model_admission_failed' || error.code === 'continuation_not_found'))
      ) {
        return this.reject(runId, input, error);
      }
      throw error;
    }

    // mission_id is an idempotency key: replay, follow or refuse instead of running twice.
    const decision = await this.idempotency.decide(prepared, this.runIndex(), input.onCommentary);
    if (decision.kind === 'replay') return decision.outcome;
    if (decision.kind === 'follow') return decision.follow();
    if (decision.kind === 'conflict') return conflictOutcome(prepared.mission.mission_id, decision);
    return decision.settle(async (onCommentary) => {
      const claimed = { ...input, onCommentary };
      let earlier: EarlierRun | undefined;
      try {
        assertWithinPlanWindows(prepared.mission, this.deps.spend, config);
        earlier = await this.earlierRun(prepared.mission);
      } catch (error) {
        if (error instanceof BridgeError) return this.reject(runId, claimed, error);
        throw error;
      }
      const release = await this.readPool.acquire({ signal: input.signal });
      try {
        return await this.runAdmitted(runId, claimed, prepared, chain, earlier);
      } finally {
        release();
      }
    });
  }

  /**
   * Runs, newest first: the index, with runs in flight overlaid from memory (the index is written
   * at admission and at the end, so only the live events know "waiting on the model" now).
   */
  list(options: { limit?: number; state?: string } = {}): RunSummary[] {
    const limit = options.limit ?? 50;
    const live = new Map(
      [...this.active.values()].map((run) => [
        run.runId,
        runSummaryOf(reduceRunRecord(run.events)),
      ]),
    );
    const indexed = this.runIndex()
      .listRuns({ limit: limit + live.size })
      .filter((row) => !live.has(row.run_id));
    return [...live.values(), ...indexed]
      .filter((row) => options.state === undefined || row.state === options.state)
      .sort((a, b) => (b.started_at ?? '').localeCompare(a.started_at ?? ''))
      .slice(0, limit);
  }

  /** The RunRecord of a run (by run id or mission id), live for running missions. */
  async get(id: string): Promise<RunRecord | null> {
    const live = this.liveRun(id);
    if (live) return reduceRunRecord(live.events);
    // A finished run's index row is the reduced log, written after its last event: no re-read.
    const indexed = this.runIndex().getRun(id);
    if (indexed && indexed.state !== 'running' && indexed.state !== 'waiting_upstream')
      return indexed;
    const runId = indexed?.run_id ?? (await findRun(this.projectRoot, id));
    if (!runId) return null;
    const read = await readEventLog(runPaths(this.projectRoot, runId).logPath);
    return read.events.length > 0 ? reduceRunRecord(read.events) : null;
  }

  /**
   * Events of a run after `afterSeq`, then live ones until the run ends. Returns null for an
   * unknown id. The subscription is registered before the backlog is read, so nothing falls
   * between the replay and the live tail.
   */
  async follow(
    id: string,
    afterSeq: number,
    onEvent: (event: MissionEvent) => void,
  ): Promise<{ done: Promise<void>; stop: () => void } | null> {
    let live = this.liveRun(id);
    const runId = live?.runId ?? (await this.resolveRunId(id));
    if (!runId) return null;
    live ??= this.active.get(runId);
    let lastSeq = afterSeq;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const deliver = (event: MissionEvent) => {
      if (event.seq <= lastSeq) return;
      lastSeq = event.seq;
      onEvent(event);
      if (event.type === 'run.completed') finish();
    };
    if (live) {
      const current = live;
      const listener = (event: MissionEvent) => deliver(event);
      current.listeners.add(listener);
      // A run that ends without run.completed (a crashed writer) must still end its followers.
      current.onEnd.add(finish);
      for (const event of [...current.events]) deliver(event);
      return {
        done,
        stop: () => {
          current.listeners.delete(listener);
          current.onEnd.delete(finish);
          finish();
        },
      };
    }
    const read = await readEventLog(runPaths(this.projectRoot, runId).logPath);
    for (const event of read.events) deliver(event);
    finish();
    return { done, stop: () => finish() };
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
      index: this.runIndex(),
      logger: this.deps.logger,
      isActive: (runId) => this.active.has(runId),
    });
    return report.closed;
  }

  /** Removes isolated copies whose run is not in flight here (left by a crashed daemon). */
  async removeStaleIsolations(): Promise<string[]> {
    const kit = this.deps.implementation;
    if (!kit) return [];
    return kit.removeStaleIsolations(this.projectRoot, (runId) => this.active.has(runId));
  }

  close(): Promise<void> {
    this.index?.close();
    this.index = undefined;
    return Promise.resolve();
  }

  /** Run id for a run id or mission id: the index first, a scan of the logs if it lacks the run. */
  private async resolveRunId(id: string): Promise<string | null> {
    const indexed = this.runIndex().getRun(id)?.run_id;
    return indexed ?? (await findRun(this.projectRoot, id));
  }

  private liveRun(id: string): ActiveRun | undefined {
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
   * The read scope of an earlier run, for entry points that build a continuation from a plain
   * prompt (MCP, `delegate`) and must stay inside it. Throws what a continuation would get.
   */
  async continuationScope(
    missionId: string,
  ): Promise<{ allowedRoots: string[]; allowedPaths: string[]; tier: string }> {
    const earlier = await loadEarlierRun(this.projectRoot, this.runIndex(), {
      mission_id: '',
      continues: missionId,
    });
    return {
      allowedRoots: [...earlier.scope.allowedRoots],
      allowedPaths: [...earlier.scope.allowedPaths],
      tier: earlier.tier,
    };
  }

  /** The run a continuation names, verified and within scope (PRODUCT.md §6.3); else throws. */
  private async earlierRun(mission: MissionV1): Promise<EarlierRun | undefined> {
    if (!mission.continues) return undefined;
    const earlier = await loadEarlierRun(this.projectRoot, this.runIndex(), mission);
    assertWithinEarlierScope(earlier, mission);
    return earlier;
  }

  private runIndex(): RunIndex {
    this.index ??= openRunIndex(this.projectRoot);
    return this.index;
  }

  private admitModel(input: ExecuteMissionInput, mission: MissionV1): ModelEntry[] {
    const { registry } = this.deps;
    let primary: ModelEntry;
    let fallbacks: readonly ModelEntry[];
    if (input.missionAlias) {
      primary = input.missionAlias.model;
      fallbacks = input.missionAlias.fallbacks;
    } else {
      const decision = registry.resolve(input.model);
      if (decision.lane !== 'raw') {
        throw new BridgeError(
          'model_admission_failed',
          `model admission failed: "${input.model}" cannot run missions; use a mission alias such as mission-a3-kimi or an OSS model id.`,
        );
      }
      primary = decision.model;
      fallbacks = registry.fallbacksFor(input.model, decision.model, true);
    }
    if (forbiddenRoutes.test(primary.id) || forbiddenRoutes.test(input.model)) {
      throw new BridgeError(
        'model_admission_failed',
        `model admission failed: "${input.model}" routes to ${primary.id}, which a mission may never use (GPT and parent-provider routes are forbidden).`,
      );
    }
    // A weaker fallback may not silently replace the chosen model (reference §3.3).
    const allowDowngrade = mission.allow_capability_downgrade;
    const permitted = fallbacks.filter(
      (entry) =>
        !forbiddenRoutes.test(entry.id) &&
        (allowDowngrade || entry.capabilityTier >= primary.capabilityTier),
    );
    return [primary, ...permitted];
  }

  private async runAdmitted(
    runId: string,
    input: ExecuteMissionInput,
    prepared: PreparedMission,
    chain: ModelEntry[],
    earlier?: EarlierRun,
  ): Promise<MissionOutcome> {
    const { config, logger, registry, upstream } = this.deps;
    const { mission, budget } = prepared;
    const log = logger.child({ runId, missionId: mission.mission_id });
    const openFile = this.deps.openLogFile;
    const writer = await openEventLog({
      projectRoot: this.projectRoot,
      runId,
      ...(openFile ? { openFile } : {}),
    });
    const run: ActiveRun = { runId, events: [], listeners: new Set(), onEnd: new Set() };
    this.active.set(runId, run);
    // Run totals (tokens, dollars, calls) are one fold over the events as they are written.
    const fold = new RunRecordReducer();
    writer.onEvent((event) => {
      fold.apply(event);
      run.events.push(event);
      for (const listener of run.listeners) listener(event);
    });
    const record: RecordEvent = async (type, source, payload) => {
      await writer.append(type, source, payload);
    };

    const startedAt = Date.now();
    const deadlineAt = startedAt + budget.timeBudgetEffectiveSeconds * 1000;
    const refused = mission.allow_capability_downgrade
      ? []
      : (input.missionAlias?.fallbacks ?? [])
          .filter((entry) => entry.capabilityTier < (chain[0]?.capabilityTier ?? 0))
          .map((entry) => entry.id);
    try {
      await record('run.admitted', 'runtime', {
        mission_id: mission.mission_id,
        tier: mission.tier,
        objective_style: mission.objective_style,
        model_alias: input.model,
        model: chain[0]?.id ?? 'unknown',
        fallback_chain: chain.slice(1).map((entry) => entry.id),
        fallbacks_refused: refused,
        mission,
        budgets: {
          tool_budget: budget.toolBudgetEffective,
          time_budget_seconds: budget.timeBudgetEffectiveSeconds,
          max_model_calls: mission.max_model_calls,
          max_cost_usd: mission.max_cost_usd ?? null,
          max_output_tokens: mission.max_output_tokens ?? null,
          max_files: mission.max_files_to_inspect,
          max_observation_bytes: mission.max_total_observation_bytes,
        },
        budget_reductions: budget.reductionReasons,
        deadline_at: new Date(deadlineAt).toISOString(),
        request_id: input.requestId ?? null,
        source: prepared.source,
        warnings: prepared.warnings,
        ...(earlier ? { continues: continuesPayload(earlier) } : {}),
      });
      this.upsert(run.events);

      const commentary = new CommentaryChannel({
        mode: config.OSS_VISIBLE_TRACE,
        maxEvents: config.OSS_VISIBLE_TRACE_MAX_EVENTS,
        maxChars: config.OSS_VISIBLE_TRACE_MAX_EVENT_CHARS,
        record: (line) => record('commentary.emitted', 'runtime', { ...line }),
        ...(input.onCommentary ? { live: input.onCommentary } : {}),
      });
      const scope = createPathScope({
        projectRoot: this.projectRoot,
        allowedPaths: mission.allowed_paths,
        allowedRoots: mission.allowed_roots,
        forbiddenRoots: mission.forbidden_roots,
        criticalRoots: [...criticalRoots, ...config.PROJECT_CRITICAL_ROOTS],
        criticalReadAllowed: mission.critical_path_read_allowed,
        criticalReason: mission.critical_path_reason,
      });
      const ledger = new EvidenceLedger();
      const limits = {
        toolBudget: budget.toolBudgetEffective,
        maxFiles: mission.max_files_to_inspect,
        maxObservationBytes: mission.max_total_observation_bytes,
        maxDuplicates: mission.max_duplicate_actions,
        maxLowInformation: Math.max(
          mission.max_low_information_actions,
          mission.max_duplicate_actions + 1,
        ),
      };
      // Tools stop at the client's disconnect and at the mission deadline, whichever comes first.
      const toolSignal = AbortSignal.any([
        input.signal,
        AbortSignal.timeout(Math.max(1, deadlineAt - Date.now())),
      ]);
      const dispatcher = new ToolDispatcher(
        mission,
        scope,
        ledger,
        limits,
        record,
        commentary,
        toolSignal,
      );
      const criticalRootList = [...criticalRoots, ...config.PROJECT_CRITICAL_ROOTS];
      const kit = this.deps.implementation;
      const implementation =
        kit === undefined
          ? undefined
          : {
              kit,
              projectRoot: this.projectRoot,
              criticalRoots: criticalRootList,
              dispatcherFor: (root: string, extra: readonly ToolSpec[]) =>
                new ToolDispatcher(
                  mission,
                  isolatedScope(root, mission, criticalRootList),
                  ledger,
                  limits,
                  record,
                  commentary,
                  toolSignal,
                  extra,
                ),
              denials: () =>
                run.events
                  .filter((event) => event.type === 'tool.denied')
                  .map((event) => ({
                    tool: String(event.payload['tool']),
                    code: String(event.payload['reason_code']),
                    message: String(event.payload['message']).slice(0, 300),
                  })),
            };
      const totalMs = deadlineAt - startedAt;
      const finalCallTimeoutMs = Math.min(
        config.RUNTIME_FINAL_REPORT_MODEL_TIMEOUT_SECONDS * 1000,
        Math.max(1000, totalMs * 0.25),
      );
      const loopReport = await runMissionLoop({
        mission,
        runId,
        chain,
        upstream,
        budget: {
          deadlineAt,
          finalReserveMs: finalCallTimeoutMs,
          finalCallTimeoutMs,
          maxModelCalls: mission.max_model_calls,
          maxCostUsd: mission.max_cost_usd ?? null,
          maxOutputTokens: mission.max_output_tokens ?? null,
          toolBudget: budget.toolBudgetEffective,
          timeBudgetSeconds: budget.timeBudgetEffectiveSeconds,
        },
        dispatcher,
        ledger,
        commentary,
        record,
        price: (model, usage) => priceUsage(registry.entry(model), usage),
        totals: () => {
          const t = fold.totals();
          return {
            usage: t.usage,
            costUsd: t.cost_usd,
            modelCalls: t.model_calls,
            toolCalls: t.tool_calls,
            model: t.last_model ?? chain[0]?.id ?? 'unknown',
            fallbacksUsed: t.fallbacks_used,
          };
        },
        signal: input.signal,
        sessionKey: input.sessionKey ?? runId,
        ...(implementation === undefined ? {} : { implementation }),
        scopeAreas: () => scopeAreas(scope, mission),
        continuation: earlier,
        admissionNotes:
          refused.length > 0
            ? [
                `Fallbacks: ${
                  chain
                    .slice(1)
                    .map((entry) => entry.id)
                    .join(', ') || 'none'
                } (${refused.join(', ')} left out: a lower capability tier needs allow_capability_downgrade in the mission).`,
              ]
            : [],
      });
      const report = earlier
        ? { ...loopReport, continues: { mission_id: earlier.missionId, run_id: earlier.runId } }
        : loopReport;
      const finalText = renderReport(report);
      await record('report.validated', 'runtime', {
        status: report.status,
        reasons: [...report.status_reasons],
        dropped_findings: report.dropped_findings,
        report,
        final_text: finalText,
      });
      await record('run.completed', 'runtime', {
        status: report.status,
        reason: report.reason,
        reason_text: report.reason_text,
        totals: {
          model_calls: report.model_calls,
          tool_calls: report.tool_calls,
          input_tokens: report.usage.input_tokens,
          cached_input_tokens: report.usage.cached_input_tokens,
          output_tokens: report.usage.output_tokens,
          reasoning_tokens: report.usage.reasoning_tokens,
          total_tokens: report.usage.total_tokens,
          cost_usd: report.cost_usd,
        },
      });
      const finished = await this.finishRun(writer, run.events);
      log.info(
        { status: report.status, reason: report.reason, cost: report.cost_usd },
        'mission finished',
      );
      return {
        runId,
        missionId: mission.mission_id,
        status: report.status,
        finalText,
        report,
        record: finished,
        modelTimeMs: modelTime(run.events),
      };
    } catch (error) {
      // A disk that refuses the log ends the run with that reason, told to the client too.
      if (isLogWriteFailure(error) || (await writer.flush().then(() => false, isLogWriteFailure))) {
        log.error({ err: error }, 'the event log could not be written; mission ended');
        const ended = await endRunOnWriteFailure({
          projectRoot: this.projectRoot,
          runId,
          writer,
          events: run.events,
          error,
          logger: log,
          openFile,
        });
        const record = await this.deriveViews(ended.events, ended.record);
        return {
          runId,
          missionId: mission.mission_id,
          status: 'FAILED',
          finalText: writeFailureText(mission.mission_id, runId, ended.reasonText),
          report: null,
          record,
          modelTimeMs: modelTime(run.events),
        };
      }
      log.error({ err: error }, 'mission crashed');
      const message = redactSecrets(error instanceof Error ? error.message : String(error)).text;
      const finalText = `Status: FAILED\nMission: ${mission.mission_id} (run ${runId})\n\nSummary:\n  The runtime failed internally: ${message}\n  The event log up to this point is in .codex-oss/runs/${runId}/events.jsonl.`;
      if (!run.events.some((event) => event.type === 'run.completed')) {
        await record('run.completed', 'runtime', {
          status: 'FAILED',
          reason: 'internal_error',
          reason_text: message,
          totals: emptyTotals(),
        }).catch(() => undefined);
      }
      const finished = await this.finishRun(writer, run.events);
      return {
        runId,
        missionId: mission.mission_id,
        status: 'FAILED',
        finalText,
        report: null,
        record: finished,
        modelTimeMs: modelTime(run.events),
      };
    } finally {
      this.active.delete(runId);
      for (const end of run.onEnd) end();
    }
  }

  /** A mission that failed admission: recorded (so `runs` shows it), answered, never sent upstream. */
  private async reject(
    runId: string,
    input: ExecuteMissionInput,
    error: BridgeError,
  ): Promise<MissionOutcome> {
    const missionId = this.idempotency.rejectionMissionId(
      rawMissionId(input.userTexts),
      runId,
      this.runIndex(),
    );
    // Validation messages quote the offending value, which can be whatever the user pasted.
    const message = redactSecrets(error.message).text;
    const writer = await openEventLog({ projectRoot: this.projectRoot, runId });
    const events: MissionEvent[] = [];
    writer.onEvent((event) => events.push(event));
    await writer.append('mission.rejected', 'runtime', {
      code: error.code,
      message,
      mission_id: missionId,
      model_alias: input.model,
    });
    await writer.append('run.completed', 'runtime', {
      status: 'FAILED',
      reason: error.code,
      reason_text: message,
      totals: emptyTotals(),
    });
    const record = await this.finishRun(writer, events);
    input.onCommentary?.({
      index: 1,
      kind: 'mission_rejected',
      phase: 'PLAN',
      message: `Mission rejected before any model call: ${error.code}.`,
      severity: 'error',
    });
    const tier = /"tier"\s*:\s*"(A[2-6])"/i.exec(input.userTexts.join('\n'))?.[1]?.toUpperCase();
    const fix =
      error.code === 'model_admission_failed'
        ? [
            '  Use a mission alias (mission-a<2..6>-kimi|deepseek|flash, or mission-a3-<model id>), or an OSS',
            '  model id for a request carrying a block; GPT and parent-provider routes never run missions.',
          ]
        : isMissionInputError(error)
          ? [
              '  Send exactly one <OSS_HANDOFF_JSON>{...}</OSS_HANDOFF_JSON> block in the user message (print a valid one with',
              `  \`codex-oss mission template --tier ${tier ?? 'A3'}\`, check one offline with \`codex-oss validate-handoff FILE\`).`,
            ]
          : ['  Act on the reason above, then send the mission again.'];
    const finalText = [
      'Status: FAILED',
      `Mission: ${missionId} (run ${runId})`,
      '',
      'Summary:',
      `  The mission was rejected before any model call (${error.code}).`,
      `  ${message}`,
      '',
      'How to fix:',
      ...fix,
    ].join('\n');
    return { runId, missionId, status: 'FAILED', finalText, report: null, record, modelTimeMs: 0 };
  }

  private async finishRun(
    writer: EventLogWriter,
    events: readonly MissionEvent[],
  ): Promise<RunRecord> {
    try {
      await writer.flush();
    } finally {
      // A failed writer refuses to flush; its file and lock must be released all the same.
      await writer
        .close()
        .catch((error: unknown) =>
          this.deps.logger.error({ err: error }, 'event log close failed'),
        );
    }
    return this.deriveViews(events, reduceRunRecord(events));
  }

  /**
   * Projections and the index row, both derived from the log: neither may fail a run the log
   * already closed (the client would hear `response.failed` of a completed run). Startup
   * recovery re-renders missing projections and rebuilds missing rows.
   */
  private async deriveViews(
    events: readonly MissionEvent[],
    record: RunRecord,
  ): Promise<RunRecord> {
    try {
      await writeProjections(this.projectRoot, record, events);
    } catch (error) {
      this.deps.logger.warn({ err: error, runId: record.run_id }, 'projections not written');
    }
    try {
      this.runIndex().upsertRun(record);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'run index update failed');
    }
    return record;
  }

  private upsert(events: readonly MissionEvent[]): void {
    try {
      this.runIndex().upsertRun(reduceRunRecord(events));
    } catch (error) {
      // The index is derived; a failure here must never fail a mission (`codex-oss reindex` repairs it).
      this.deps.logger.warn({ err: error }, 'run index update failed');
    }
  }
}

/**
 * What the mission could have looked at: its exact paths, and the entries directly under each
 * allowed root (denied entries left out). The report lists those no read touched.
 */
function scopeAreas(scope: PathScope, mission: MissionV1): string[] {
  const areas = [...mission.allowed_paths];
  for (const root of mission.allowed_roots) {
    const resolved = scope.resolve(root);
    if (!resolved.ok) continue;
    try {
      for (const entry of readdirSync(resolved.absolute, { withFileTypes: true }).slice(0, 200)) {
        const relative = path.posix.join(
          resolved.relative === '.' ? '' : resolved.relative,
          entry.name,
        );
        if (scope.checkDescendant(relative).ok)
          areas.push(entry.isDirectory() ? `${relative}/` : relative);
      }
    } catch {
      areas.push(root);
    }
  }
  return areas;
}

/**
 * The scope of an implementation run: the isolated copy, where the model may read its owned
 * paths (seeing its staged edits), the read-only paths and the allowed ones. Entries that are
 * folders in the copy are roots.
 */
function isolatedScope(root: string, mission: MissionV1, critical: readonly string[]): PathScope {
  const entries = [
    ...mission.owned_paths,
    ...mission.read_only_paths,
    ...mission.allowed_paths,
    ...mission.allowed_roots,
  ];
  const isFolder = (entry: string) => {
    if (entry.endsWith('/')) return true;
    try {
      return statSync(path.join(root, entry)).isDirectory();
    } catch {
      return false;
    }
  };
  return createPathScope({
    projectRoot: root,
    allowedPaths: entries.filter((entry) => !isFolder(entry)),
    allowedRoots: entries.filter(isFolder),
    forbiddenRoots: mission.forbidden_roots,
    criticalRoots: critical,
    criticalReadAllowed: mission.critical_path_read_allowed,
    criticalReason: mission.critical_path_reason,
  });
}

function redactMissionText(mission: MissionV1): MissionV1 {
  return {
    ...mission,
    objective: redactSecrets(mission.objective).text,
    answer_obligations: mission.answer_obligations.map((obligation) => ({
      ...obligation,
      question: redactSecrets(obligation.question).text,
    })),
  };
}

function newRunId(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `run_${stamp}_${randomBytes(4).toString('hex')}`;
}

/** The mission id of a rejected block, when its JSON got that far; only a safe id is used. */
function rawMissionId(userTexts: readonly string[]): string | undefined {
  const match = /"mission_id"\s*:\s*"([A-Za-z0-9][A-Za-z0-9._-]{0,100})"/.exec(
    userTexts.join('\n'),
  );
  return match?.[1];
}

function emptyTotals() {
  return {
    model_calls: 0,
    tool_calls: 0,
    input_tokens: 0,
    cached_input_tokens: 0,
    output_tokens: 0,
    reasoning_tokens: 0,
    total_tokens: 0,
    cost_usd: 0,
  };
}

function modelTime(events: readonly MissionEvent[]): number {
  let total = 0;
  for (const event of events) {
    if (event.type === 'model.responded')
      total += Number((event.payload as { latency_ms?: unknown }).latency_ms) || 0;
  }
  return total;
}

function withContinues(mission: MissionV1, id: string): MissionV1 {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id)) {
    throw new BridgeError(
      'continuation_not_found',
      `continuation_not_found: ${JSON.stringify(id.slice(0, 140))} is not a mission id (letters, digits, ".", "_", "-"; at most 128); pass the mission_id of an earlier run in this project.`,
    );
  }
  return { ...mission, continues: id };
}
