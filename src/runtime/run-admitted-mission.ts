import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/index.js';
import {
  RunRecordReducer,
  type EventLogWriter,
  type MissionEvent,
  type PayloadFor,
} from '../events/index.js';
import type { Logger } from '../log/index.js';
import { criticalRoots, type MissionV1 } from '../mission/index.js';
import { priceUsage, type ModelRegistry } from '../models/index.js';
import type { UpstreamClient } from '../upstream/index.js';
import { CommentaryChannel } from './commentary-channel.js';
import { EvidenceLedger } from './evidence-ledger.js';
import {
  endRunOnWriteFailure,
  isLogWriteFailure,
  writeFailureText,
  type OpenLogFile,
} from './end-on-write-failure.js';
import type { ImplementationKit } from './implementation-ports.js';
import { continuesPayload, type EarlierRun } from './mission-continuation.js';
import type { LiveRun, LiveRunBus } from './live-run-bus.js';
import type { AdmittedMission } from './mission-admission.js';
import type { MissionReport } from './mission-report.js';
import type { ExecuteMissionInput, MissionOutcome } from './mission-request.js';
import { startRunLog } from './open-run-log.js';
import { createPathScope, type PathScope } from './path-scope.js';
import { redactSecrets } from './redact-secrets.js';
import { crashAnswer } from './render-answer.js';
import { renderReport } from './render-report.js';
import { runMissionLoop, type LoopBudget, type LoopInput } from './run-mission-loop.js';
import { emptyTotals, type RunStore } from './run-store.js';
import { ToolDispatcher, type RecordEvent } from './tool-dispatcher.js';
import type { ToolSpec } from './tools/types.js';

/** What running an admitted mission needs from the runtime around it. */
export interface RunContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly registry: ModelRegistry;
  readonly upstream: UpstreamClient;
  readonly implementation?: ImplementationKit | undefined;
  /** Opens each run's log file (tests inject a failing disk through it). */
  readonly openLogFile?: OpenLogFile | undefined;
  readonly store: RunStore;
  readonly bus: LiveRunBus;
}

/** One admitted run while it executes: its request, its live events and how it records more. */
interface OpenRun {
  readonly runId: string;
  readonly input: ExecuteMissionInput;
  readonly admitted: AdmittedMission;
  /** The verified earlier run this one continues (PRODUCT.md §6.3). */
  readonly earlier: EarlierRun | undefined;
  readonly live: LiveRun;
  readonly record: RecordEvent;
  /** Run totals (tokens, dollars, calls) are one fold over the events as they are written. */
  readonly fold: RunRecordReducer;
  readonly startedAt: number;
  readonly deadlineAt: number;
}

/**
 * Runs an admitted mission in the caller's lane slot: every step goes to the run's
 * hash-chained log (and to its live followers), and the report, projections and index row are
 * derived from that log. A crash inside the runtime still closes the run, as FAILED.
 */
export async function runAdmittedMission(
  ctx: RunContext,
  runId: string,
  input: ExecuteMissionInput,
  admitted: AdmittedMission,
  earlier?: EarlierRun,
): Promise<MissionOutcome> {
  const { mission, budget } = admitted.prepared;
  const log = ctx.logger.child({ runId, missionId: mission.mission_id });
  const { run: live, end } = ctx.bus.open(runId);
  const fold = new RunRecordReducer();
  const startedAt = Date.now();
  const deadlineAt = startedAt + budget.timeBudgetEffectiveSeconds * 1000;
  let writer: EventLogWriter;
  try {
    // A log that cannot be opened, or take its first line, ends as run_log_unwritable.
    writer = await startRunLog(
      { projectRoot: ctx.store.projectRoot, runId, logger: log, openFile: ctx.openLogFile },
      (opened) =>
        opened.onEvent((event) => {
          fold.apply(event);
          live.publish(event);
        }),
      (opened) =>
        opened.append(
          'run.admitted',
          'runtime',
          admissionPayload(input, admitted, earlier, deadlineAt),
        ),
    );
  } catch (error) {
    end();
    throw error;
  }
  const open: OpenRun = {
    runId,
    input,
    admitted,
    earlier,
    live,
    record: async (type, source, payload) => {
      await writer.append(type, source, payload);
    },
    fold,
    startedAt,
    deadlineAt,
  };
  try {
    ctx.store.upsert(live.events);
    const loopReport = await governMission(ctx, open);
    const report = earlier
      ? { ...loopReport, continues: { mission_id: earlier.missionId, run_id: earlier.runId } }
      : loopReport;
    const finalText = renderReport(report);
    await recordReport(open.record, report, finalText);
    const record = await ctx.store.finish(writer, live.events);
    log.info(
      { status: report.status, reason: report.reason, cost: report.cost_usd },
      'mission finished',
    );
    return outcomeOf(open, report.status, finalText, report, record);
  } catch (error) {
    // A disk that refuses the log ends the run with that reason, told to the client too.
    if (isLogWriteFailure(error) || (await writer.flush().then(() => false, isLogWriteFailure))) {
      log.error({ err: error }, 'the event log could not be written; mission ended');
      return await closeOnWriteFailure(ctx, open, writer, error);
    }
    log.error({ err: error }, 'mission crashed');
    return await closeCrashed(ctx, open, writer, error);
  } finally {
    end();
  }
}

function admissionPayload(
  input: ExecuteMissionInput,
  admitted: AdmittedMission,
  earlier: EarlierRun | undefined,
  deadlineAt: number,
): PayloadFor<'run.admitted'> {
  const { prepared, chain } = admitted;
  const { mission, budget } = prepared;
  return {
    mission_id: mission.mission_id,
    tier: mission.tier,
    objective_style: mission.objective_style,
    model_alias: input.model,
    model: chain[0]?.id ?? 'unknown',
    fallback_chain: chain.slice(1).map((entry) => entry.id),
    fallbacks_refused: [...admitted.refusedFallbacks],
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
  };
}

/** The governed loop of the run, with the tools, scope and ledger its mission allows. */
async function governMission(ctx: RunContext, open: OpenRun): Promise<MissionReport> {
  const { config, registry } = ctx;
  const { input, admitted, fold } = open;
  const { chain } = admitted;
  const { mission } = admitted.prepared;
  const commentary = new CommentaryChannel({
    mode: config.OSS_VISIBLE_TRACE,
    maxEvents: config.OSS_VISIBLE_TRACE_MAX_EVENTS,
    maxChars: config.OSS_VISIBLE_TRACE_MAX_EVENT_CHARS,
    record: (line) => open.record('commentary.emitted', 'runtime', { ...line }),
    ...(input.onCommentary ? { live: input.onCommentary } : {}),
  });
  const critical = [...criticalRoots, ...config.PROJECT_CRITICAL_ROOTS];
  const scope = missionScope(ctx.store.projectRoot, mission, critical);
  const ledger = new EvidenceLedger();
  // Tools stop at the client's disconnect and at the mission deadline, whichever comes first.
  const toolSignal = AbortSignal.any([
    input.signal,
    AbortSignal.timeout(Math.max(1, open.deadlineAt - Date.now())),
  ]);
  const limits = toolLimits(open);
  const dispatcherFor = (toolScope: PathScope, extra: readonly ToolSpec[] = []) =>
    new ToolDispatcher(
      mission,
      toolScope,
      ledger,
      limits,
      open.record,
      commentary,
      toolSignal,
      extra,
    );
  const implementation = implementationParts(ctx, open, critical, dispatcherFor);
  return runMissionLoop({
    mission,
    runId: open.runId,
    chain,
    upstream: ctx.upstream,
    budget: loopBudget(config, open),
    dispatcher: dispatcherFor(scope),
    ledger,
    commentary,
    record: open.record,
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
    sessionKey: input.sessionKey ?? open.runId,
    ...(implementation === undefined ? {} : { implementation }),
    scopeAreas: () => scopeAreas(scope, mission),
    continuation: open.earlier,
    admissionNotes: admissionNotes(admitted),
  });
}

function toolLimits(open: OpenRun) {
  const { mission, budget } = open.admitted.prepared;
  return {
    toolBudget: budget.toolBudgetEffective,
    maxFiles: mission.max_files_to_inspect,
    maxObservationBytes: mission.max_total_observation_bytes,
    maxDuplicates: mission.max_duplicate_actions,
    maxLowInformation: Math.max(
      mission.max_low_information_actions,
      mission.max_duplicate_actions + 1,
    ),
  };
}

function loopBudget(config: Config, open: OpenRun): LoopBudget {
  const { mission, budget } = open.admitted.prepared;
  const totalMs = open.deadlineAt - open.startedAt;
  const finalCallTimeoutMs = Math.min(
    config.RUNTIME_FINAL_REPORT_MODEL_TIMEOUT_SECONDS * 1000,
    Math.max(1000, totalMs * 0.25),
  );
  return {
    deadlineAt: open.deadlineAt,
    finalReserveMs: finalCallTimeoutMs,
    finalCallTimeoutMs,
    maxModelCalls: mission.max_model_calls,
    maxCostUsd: mission.max_cost_usd ?? null,
    maxOutputTokens: mission.max_output_tokens ?? null,
    toolBudget: budget.toolBudgetEffective,
    timeBudgetSeconds: budget.timeBudgetEffectiveSeconds,
  };
}

/** A4–A6: the implementation kit and the run's parts it works with; none without a kit. */
function implementationParts(
  ctx: RunContext,
  open: OpenRun,
  critical: readonly string[],
  dispatcherFor: (scope: PathScope, extra: readonly ToolSpec[]) => ToolDispatcher,
): LoopInput['implementation'] {
  const kit = ctx.implementation;
  if (kit === undefined) return undefined;
  const { mission } = open.admitted.prepared;
  return {
    kit,
    projectRoot: ctx.store.projectRoot,
    criticalRoots: critical,
    dispatcherFor: (root: string, extra: readonly ToolSpec[]) =>
      dispatcherFor(isolatedScope(root, mission, critical), extra),
    denials: () =>
      open.live.events
        .filter((event) => event.type === 'tool.denied')
        .map((event) => ({
          tool: String(event.payload['tool']),
          code: String(event.payload['reason_code']),
          message: String(event.payload['message']).slice(0, 300),
        })),
  };
}

function admissionNotes(admitted: AdmittedMission): string[] {
  const { chain, refusedFallbacks } = admitted;
  if (refusedFallbacks.length === 0) return [];
  const kept =
    chain
      .slice(1)
      .map((entry) => entry.id)
      .join(', ') || 'none';
  return [
    `Fallbacks: ${kept} (${refusedFallbacks.join(', ')} left out: a lower capability tier needs allow_capability_downgrade in the mission).`,
  ];
}

async function recordReport(
  record: RecordEvent,
  report: MissionReport,
  finalText: string,
): Promise<void> {
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
}

/** Closes a run the runtime failed inside: run.completed FAILED (when not yet written). */
async function closeCrashed(
  ctx: RunContext,
  open: OpenRun,
  writer: EventLogWriter,
  error: unknown,
): Promise<MissionOutcome> {
  const { mission } = open.admitted.prepared;
  const message = redactSecrets(error instanceof Error ? error.message : String(error)).text;
  const finalText = crashAnswer(mission.mission_id, open.runId, message);
  if (!open.live.events.some((event) => event.type === 'run.completed')) {
    await open
      .record('run.completed', 'runtime', {
        status: 'FAILED',
        reason: 'internal_error',
        reason_text: message,
        totals: emptyTotals(),
      })
      .catch(() => undefined);
  }
  const record = await ctx.store.finish(writer, open.live.events);
  return outcomeOf(open, 'FAILED', finalText, null, record);
}

/** Closes a run whose log the disk refused: the run ends with that reason, said to the client. */
async function closeOnWriteFailure(
  ctx: RunContext,
  open: OpenRun,
  writer: EventLogWriter,
  error: unknown,
): Promise<MissionOutcome> {
  const { mission } = open.admitted.prepared;
  const ended = await endRunOnWriteFailure({
    projectRoot: ctx.store.projectRoot,
    runId: open.runId,
    writer,
    events: open.live.events,
    error,
    logger: ctx.logger.child({ runId: open.runId, missionId: mission.mission_id }),
    openFile: ctx.openLogFile,
  });
  const record = await ctx.store.deriveViews(ended.events, ended.record);
  const finalText = writeFailureText(mission.mission_id, open.runId, ended.reasonText);
  return outcomeOf(open, 'FAILED', finalText, null, record);
}

function outcomeOf(
  open: OpenRun,
  status: string,
  finalText: string,
  report: MissionReport | null,
  record: MissionOutcome['record'],
): MissionOutcome {
  return {
    runId: open.runId,
    missionId: open.admitted.prepared.mission.mission_id,
    status,
    finalText,
    report,
    record,
    modelTimeMs: modelTime(open.live.events),
  };
}

function missionScope(projectRoot: string, mission: MissionV1, critical: readonly string[]) {
  return createPathScope({
    projectRoot,
    allowedPaths: mission.allowed_paths,
    allowedRoots: mission.allowed_roots,
    forbiddenRoots: mission.forbidden_roots,
    criticalRoots: critical,
    criticalReadAllowed: mission.critical_path_read_allowed,
    criticalReason: mission.critical_path_reason,
  });
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

function modelTime(events: readonly MissionEvent[]): number {
  let total = 0;
  for (const event of events) {
    if (event.type === 'model.responded')
      total += Number((event.payload as { latency_ms?: unknown }).latency_ms) || 0;
  }
  return total;
}
