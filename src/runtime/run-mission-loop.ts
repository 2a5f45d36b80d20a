import { toBridgeError, type BridgeError } from '../errors/index.js';
import type { MissionV1 } from '../mission/index.js';
import type { ModelEntry } from '../models/index.js';
import type {
  ChatMessage,
  ChatToolCall,
  CompletedCall,
  TokenUsage,
  UpstreamClient,
} from '../upstream/index.js';
import type { CommentaryChannel } from './commentary-channel.js';
import type { EvidenceLedger } from './evidence-ledger.js';
import type { MissionReport, UsageTotals } from './mission-report.js';
import {
  buildSystemPrompt,
  forcedFinalPrompt,
  parseArguments,
  parseTextAction,
  repairPrompt,
  SUBMIT_REPORT,
  submitReportTool,
  type InvestigationStatus,
  type ParsedAction,
} from './model-protocol.js';
import type { RecordEvent, ToolDispatcher } from './tool-dispatcher.js';
import { redactDeep } from './redact-deep.js';
import { validateReport, type EvidenceView, type ReportVerdict } from './validate-report.js';

export interface LoopBudget {
  readonly deadlineAt: number;
  /** Time kept back for the one forced final-report call. */
  readonly finalReserveMs: number;
  /** The forced final call's own timeout. */
  readonly finalCallTimeoutMs: number;
  readonly maxModelCalls: number;
  readonly maxCostUsd: number | null;
  readonly maxOutputTokens: number | null;
  readonly toolBudget: number;
  readonly timeBudgetSeconds: number;
}

export interface LoopInput {
  readonly mission: MissionV1;
  readonly runId: string;
  readonly chain: readonly ModelEntry[];
  readonly upstream: UpstreamClient;
  readonly budget: LoopBudget;
  readonly dispatcher: ToolDispatcher;
  readonly ledger: EvidenceLedger;
  readonly commentary: CommentaryChannel;
  readonly record: RecordEvent;
  readonly price: (model: string, usage: TokenUsage) => number;
  readonly signal: AbortSignal;
  readonly sessionKey: string;
  /** The areas in scope (files, and entries under allowed roots), to list what was not inspected. */
  readonly scopeAreas?: () => string[];
  /** Admission decisions worth telling the user (refused fallbacks…), said after the start line. */
  readonly admissionNotes?: readonly string[];
  readonly now?: () => number;
}

interface Closure {
  readonly status: InvestigationStatus;
  readonly reason: string;
  readonly reasonText: string;
  readonly verdict?: ReportVerdict;
}

/**
 * The governed plan-act-observe loop for A2/A3 (PRODUCT.md §6): the model proposes one action
 * per turn; the runtime decides, executes, records, and closes. It returns the runtime's report;
 * the model's own status is only ever an upper bound.
 */
export async function runMissionLoop(input: LoopInput): Promise<MissionReport> {
  const { mission, dispatcher, commentary, budget } = input;
  const now = input.now ?? Date.now;
  const usage: UsageTotals = {
    input_tokens: 0,
    cached_input_tokens: 0,
    cache_write_tokens: 0,
    output_tokens: 0,
    reasoning_tokens: 0,
    total_tokens: 0,
  };
  let cost = 0;
  let modelCalls = 0;
  let answeringModel = input.chain[0]?.id ?? 'unknown';
  const fallbacksUsed: string[] = [];
  const messages: ChatMessage[] = [];

  const finish = async (closure: Closure): Promise<MissionReport> => {
    const report = buildReport(input, closure, {
      usage,
      cost,
      modelCalls,
      model: answeringModel,
      fallbacksUsed,
    });
    await commentary.say(
      'mission_completed',
      'REPORT',
      `Mission ended ${report.status}: ${closure.reasonText}`,
    );
    return report;
  };

  await commentary.say(
    'mission_started',
    'PLAN',
    `Mission ${mission.mission_id} (${mission.tier}) started on ${answeringModel}: ${mission.objective.slice(0, 200)}`,
  );
  for (const note of input.admissionNotes ?? [])
    await commentary.say('model_admission', 'PLAN', note);
  if (mission.risk_tier === 'critical') {
    return finish({
      status: 'ESCALATE',
      reason: 'critical_risk',
      reasonText:
        'risk_tier "critical" forbids autonomous exploration; a human or a GPT reviewer should take this mission.',
    });
  }
  if (!['A2', 'A3'].includes(mission.tier)) {
    return finish({
      status: 'ESCALATE',
      reason: 'tier_not_available',
      reasonText: `${mission.tier} patch tiers are not available in this build; the mission was validated but not run.`,
    });
  }

  const toolNames = dispatcher.toolNames;
  messages.push({
    role: 'system',
    content: buildSystemPrompt(mission, toolNames, {
      toolBudget: budget.toolBudget,
      seconds: budget.timeBudgetSeconds,
    }),
  });
  const brief: string[] = [`Mission brief:\n${JSON.stringify(briefOf(mission), null, 2)}`];
  for (const path of mission.must_inspect) {
    // The runtime reads required sources itself, so the model starts from evidence, not a guess.
    const outcome = await dispatcher.run('read_file', { path }, 'runtime');
    brief.push(`Prefetched by the runtime (must_inspect ${path}):\n${outcome.text}`);
    if (outcome.critical)
      return finish({
        status: 'PARTIAL',
        reason: 'critical_path_detected',
        reasonText: `must_inspect path ${path} is a critical path the mission may not read.`,
      });
  }
  brief.push('Begin. Call one tool.');
  messages.push({ role: 'user', content: brief.join('\n\n') });

  let forced: string | undefined;
  let forcedCalls = 0;
  let actionRepairs = 1;
  let reportRepairs = 1;

  for (;;) {
    if (input.signal.aborted) return finish(cancelled(input));
    const remaining = input.budget.deadlineAt - now();
    if (!forced) {
      const why =
        remaining < budget.finalReserveMs
          ? 'Time is nearly up.'
          : modelCalls >= budget.maxModelCalls - 1
            ? `Only one model call is left of ${budget.maxModelCalls}.`
            : dispatcher.exhaustion();
      if (why) {
        forced = why;
        messages.push({ role: 'user', content: forcedFinalPrompt(why) });
        await commentary.say(
          'runtime_redirect',
          'REPORT',
          `${why} The runtime asked the model for its final report.`,
        );
      }
    } else if (forcedCalls >= 1) {
      return finish(
        closeWithoutReport(
          input,
          'deadline_final_report_ignored',
          'The model did not submit its report when asked; the runtime closed the mission.',
        ),
      );
    }
    if (remaining <= 500)
      return finish(
        closeWithoutReport(
          input,
          'deadline_reached',
          'The mission deadline passed before a report arrived.',
        ),
      );
    if (modelCalls >= budget.maxModelCalls)
      return finish(
        closeWithoutReport(
          input,
          'model_call_limit_reached',
          `The mission used all ${budget.maxModelCalls} model calls.`,
        ),
      );
    if (budget.maxCostUsd !== null && cost >= budget.maxCostUsd)
      return finish(costCapped(input, cost, budget.maxCostUsd));
    if (budget.maxOutputTokens !== null && usage.output_tokens >= budget.maxOutputTokens) {
      return finish(
        closeWithoutReport(
          input,
          'output_token_cap_reached',
          `The mission produced ${usage.output_tokens} output tokens, its cap is ${budget.maxOutputTokens}.`,
        ),
      );
    }

    modelCalls += 1;
    if (forced) forcedCalls += 1;
    const timeoutMs = forced
      ? Math.min(remaining, budget.finalCallTimeoutMs)
      : Math.max(1000, remaining - budget.finalReserveMs);
    const maxTokens =
      budget.maxOutputTokens === null
        ? undefined
        : Math.max(256, budget.maxOutputTokens - usage.output_tokens);
    await input.record('model.requested', 'runtime', {
      call: modelCalls,
      model: input.chain[0]?.id ?? 'unknown',
      fallback_chain: input.chain.slice(1).map((entry) => entry.id),
      forced_final: forced !== undefined,
      message_count: messages.length,
      prompt_bytes: Buffer.byteLength(JSON.stringify(messages)),
    });
    await commentary.say(
      'model_action_requested',
      forced ? 'REPORT' : 'EXPLORE',
      `I'm asking ${answeringModel} for the next step (call ${modelCalls}).`,
      'debug',
    );

    let answer: CompletedCall;
    const started = now();
    try {
      answer = await input.upstream.complete({
        chain: input.chain,
        request: {
          messages,
          tools: forced
            ? [submitReportTool]
            : [
                ...dispatcher.definitions.map((spec) => ({
                  type: 'function' as const,
                  function: {
                    name: spec.name,
                    description: spec.description,
                    parameters: spec.parameters,
                  },
                })),
                submitReportTool,
              ],
          tool_choice: forced ? { type: 'function', function: { name: SUBMIT_REPORT } } : 'auto',
          parallel_tool_calls: false,
          ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
        },
        signal: input.signal,
        sessionKey: input.sessionKey,
        totalTimeoutMs: timeoutMs,
        onAttempt: (event) => {
          if (event.type === 'fallback')
            void commentary
              .say(
                'model_fallback',
                'EXPLORE',
                `${event.from} failed (${event.error.code}); trying ${event.to}.`,
                'warning',
              )
              .catch(() => undefined);
          if (event.type === 'retry')
            void commentary
              .say(
                'model_retry',
                'EXPLORE',
                `${event.model} answered ${event.error.code}; retrying in ${Math.round(event.delayMs / 100) / 10}s.`,
                'debug',
              )
              .catch(() => undefined);
        },
      });
    } catch (error) {
      if (input.signal.aborted) return finish(cancelled(input));
      const failure: BridgeError = toBridgeError(error);
      await input.record('model.failed', 'runtime', {
        call: modelCalls,
        model: input.chain[0]?.id ?? 'unknown',
        code: failure.code,
        message: failure.message,
        retryable: failure.retryable,
      });
      await commentary.say(
        'model_action_failed',
        'EXPLORE',
        `The model call failed: ${failure.code}.`,
        'error',
      );
      return finish(
        closeWithoutReport(
          input,
          'upstream_failed',
          `The model could not be reached (${failure.code}: ${failure.message})`,
        ),
      );
    }

    answeringModel = answer.model;
    if (answer.fallbackFrom && !fallbacksUsed.includes(answer.model))
      fallbacksUsed.push(answer.model);
    addUsage(usage, answer.usage);
    const callCost = answer.upstreamCostUsd ?? input.price(answer.model, answer.usage);
    cost += callCost;
    const actions = actionsOf(answer);
    await input.record('model.responded', 'model', {
      call: modelCalls,
      model: answer.model,
      fallback_from: answer.fallbackFrom ?? null,
      latency_ms: Math.max(0, now() - started),
      usage: toUsagePayload(answer.usage),
      cost_usd: callCost,
      upstream_cost_usd: answer.upstreamCostUsd ?? null,
      finish_reason: answer.finishReason,
      action:
        actions.length === 0
          ? 'invalid'
          : actions.some((action) => action.kind === 'report')
            ? 'final_report'
            : actions[0]?.kind === 'invalid'
              ? answer.text
                ? 'text'
                : 'invalid'
              : 'tool_call',
    });

    // Only the tool calls we act on go back into the history, each answered in order.
    const toolCalls: ChatToolCall[] = answer.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
    messages.push({
      role: 'assistant',
      content: answer.text ? answer.text.slice(0, 4000) : null,
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
      ...(answer.reasoning ? { reasoning_content: answer.reasoning } : {}),
    });

    const first = actions[0];
    if (!first || first.kind === 'invalid') {
      const reason = first?.kind === 'invalid' ? first.reason : 'the reply held no action';
      await commentary.say(
        'model_action_invalid',
        'EXPLORE',
        `The model's reply was not a usable action (${reason}).`,
        'warning',
      );
      if (forced)
        return finish(
          closeWithoutReport(
            input,
            'deadline_final_report_ignored',
            `Asked for its final report, the model answered without one (${reason}).`,
          ),
        );
      if (actionRepairs > 0) {
        actionRepairs -= 1;
        messages.push({ role: 'user', content: repairPrompt(reason) });
        continue;
      }
      return finish(
        closeWithoutReport(
          input,
          'invalid_action',
          `The model twice failed to propose a usable action (${reason}).`,
          'PARTIAL',
        ),
      );
    }

    if (
      budget.maxCostUsd !== null &&
      cost >= budget.maxCostUsd &&
      !actions.some((action) => action.kind === 'report')
    ) {
      answerPending(
        messages,
        toolCalls,
        `[REFUSED: cost_cap_reached] The mission's cost cap is spent.`,
      );
      return finish(costCapped(input, cost, budget.maxCostUsd));
    }

    let closure: Closure | undefined;
    // A report sent in the same turn as tool calls could cite refs those calls are about to
    // create, evidence the model has not seen: it is refused, the tools still run.
    const exploring = actions.some((action) => action.kind === 'tool');
    for (const [index, action] of actions.entries()) {
      const callId = toolCalls[index]?.id;
      const reply = (text: string) => {
        if (callId) messages.push({ role: 'tool', tool_call_id: callId, content: text });
        else messages.push({ role: 'user', content: text });
      };
      if (closure) {
        reply('[SKIPPED] The mission already ended.');
        continue;
      }
      if (action.kind === 'report' && exploring && !forced) {
        await input.record('report.submitted', 'model', { report: redactDeep(action.report) });
        reply(
          `[REPORT NOT ACCEPTED] ${SUBMIT_REPORT} must be the only call in its turn, after you have seen the results it cites. Nothing was validated; read the results above, then report.`,
        );
        await commentary.say(
          'report_downgraded',
          'REPORT',
          'The model reported in the same turn as new tool calls; the runtime asked it to report after reading the results.',
          'warning',
        );
        continue;
      }
      if (action.kind === 'report') {
        await input.record('report.submitted', 'model', { report: redactDeep(action.report) });
        const verdict = validateReport(action.report, mission, evidenceView(input.ledger));
        await commentary.say(
          'model_report_received',
          'REPORT',
          `The model submitted a ${describeClaim(action.report)} report; the runtime checked it: ${verdict.status}${verdict.reasons.length > 0 ? ` (${verdict.reasons[0] ?? ''})` : ''}.`,
        );
        const time = input.budget.deadlineAt - now();
        if (
          verdict.repairable.length > 0 &&
          reportRepairs > 0 &&
          !forced &&
          time > budget.finalReserveMs &&
          modelCalls < budget.maxModelCalls - 1
        ) {
          reportRepairs -= 1;
          reply(
            `[REPORT NOT ACCEPTED] ${verdict.repairable.join('; ')}. Cite only refs that tool results named (issued so far: ${input.ledger.refs().slice(-25).join(', ') || 'none'}). Gather what is missing, then call ${SUBMIT_REPORT} again.`,
          );
          await commentary.say(
            'report_downgraded',
            'REPORT',
            `The report was sent back once: ${verdict.repairable[0] ?? ''}.`,
            'warning',
          );
          continue;
        }
        reply('[REPORT RECEIVED]');
        closure = {
          status: verdict.status,
          reason: verdict.reason,
          reasonText: verdict.reasons[0] ?? 'the report was validated against the evidence ledger',
          verdict,
        };
        continue;
      }
      if (action.kind === 'invalid') {
        reply(`[REFUSED] ${action.reason}`);
        continue;
      }
      if (forced) {
        reply(`[REFUSED] Only ${SUBMIT_REPORT} is accepted now.`);
        continue;
      }
      if (input.budget.deadlineAt - now() <= budget.finalReserveMs) {
        // Several calls in one turn must not carry the mission past its deadline.
        reply('[SKIPPED] The mission is out of time for more tools.');
        continue;
      }
      const outcome = await input.dispatcher.run(action.name, action.args, 'model');
      reply(outcome.text);
      if (outcome.critical) {
        closure = {
          status: 'PARTIAL',
          reason: 'critical_path_detected',
          reasonText:
            'The model asked for a critical path the mission may not read; the runtime stopped the mission.',
        };
      }
    }
    if (closure) return finish(closure);
    if (forced)
      return finish(
        closeWithoutReport(
          input,
          'deadline_final_report_ignored',
          'Asked for its final report, the model proposed more exploration instead; the runtime closed the mission.',
        ),
      );
  }
}

function actionsOf(answer: CompletedCall): ParsedAction[] {
  if (answer.toolCalls.length > 0) {
    return answer.toolCalls.map((call): ParsedAction => {
      const args = parseArguments(call.arguments);
      return call.name === SUBMIT_REPORT
        ? { kind: 'report', report: args }
        : { kind: 'tool', name: call.name, args };
    });
  }
  return [parseTextAction(answer.text)];
}

function answerPending(
  messages: ChatMessage[],
  calls: readonly ChatToolCall[],
  text: string,
): void {
  for (const call of calls) messages.push({ role: 'tool', tool_call_id: call.id, content: text });
}

function cancelled(input: LoopInput): Closure {
  return closeWithoutReport(
    input,
    'cancelled',
    'The client disconnected; the runtime cancelled the mission.',
  );
}

/** PRODUCT.md §4: the cost cap stops a run mid-way with a PARTIAL report that says so. */
function costCapped(input: LoopInput, spent: number, cap: number): Closure {
  return closeWithoutReport(
    input,
    'cost_cap_reached',
    `The mission spent $${spent.toFixed(6)} of its $${cap.toFixed(6)} cap (max_cost_usd); the runtime stopped it.`,
    'PARTIAL',
  );
}

/**
 * A runtime closure: PARTIAL when evidence was gathered, FAILED when there is nothing to show,
 * unless the rule that stopped the run fixes the status (a refused repair ends PARTIAL, §6).
 */
function closeWithoutReport(
  input: LoopInput,
  reason: string,
  reasonText: string,
  status?: InvestigationStatus,
): Closure {
  const gathered = input.ledger.filesInspected().length > 0 || input.dispatcher.callCount > 0;
  return { status: status ?? (gathered ? 'PARTIAL' : 'FAILED'), reason, reasonText };
}

function buildReport(
  input: LoopInput,
  closure: Closure,
  totals: {
    usage: UsageTotals;
    cost: number;
    modelCalls: number;
    model: string;
    fallbacksUsed: string[];
  },
): MissionReport {
  const { mission } = input;
  const verdict = closure.verdict;
  const files = input.ledger.filesInspected().map((file) => ({
    path: file.path,
    refs: file.ranges.map(([start, end]) => `file:${file.path}#L${start}-L${end}`),
  }));
  const read = [...new Set(files.map((file) => file.path))];
  const touched = (area: string) =>
    read.some(
      (path) => path === area.replace(/\/+$/, '') || (area.endsWith('/') && path.startsWith(area)),
    );
  const uninspected = (input.scopeAreas?.() ?? [...mission.allowed_paths, ...mission.allowed_roots])
    .filter((area) => !touched(area))
    .slice(0, 30);
  const runtimeClosed = verdict === undefined;
  const caveats = verdict
    ? [...verdict.caveats]
    : [`Mission terminated by the runtime: ${closure.reasonText}`];
  return {
    schema: 'mission_report.v1',
    mission_id: mission.mission_id,
    run_id: input.runId,
    tier: mission.tier,
    status: closure.status,
    reason: closure.reason,
    reason_text: closure.reasonText,
    dropped_findings: verdict?.droppedFindings ?? 0,
    closure: runtimeClosed
      ? 'runtime_closed'
      : verdict.reason === 'valid_report'
        ? 'model_report'
        : 'model_report_downgraded',
    summary:
      verdict?.summary ||
      `The runtime closed the mission before a validated report: ${closure.reasonText}`,
    findings: verdict?.findings ?? [],
    obligations:
      verdict?.obligations ??
      mission.answer_obligations.map((obligation) => ({
        id: obligation.id,
        question: obligation.question,
        required: obligation.required,
        answered: false,
      })),
    files_inspected: files,
    uninspected_areas: uninspected,
    uncertainties: verdict?.uncertainties ?? [
      'No report was validated, so every question in the objective remains open.',
    ],
    caveats,
    status_reasons: verdict ? verdict.reasons : [closure.reasonText],
    confidence: verdict?.confidence ?? 'LOW',
    escalation_recommendation:
      verdict?.escalation ??
      (closure.status === 'ESCALATE'
        ? 'Hand this mission to a human or GPT reviewer.'
        : 'Review the evidence gathered so far, or re-run with a larger budget.'),
    model: totals.model,
    fallbacks_used: totals.fallbacksUsed,
    model_calls: totals.modelCalls,
    tool_calls: input.dispatcher.callCount,
    usage: totals.usage,
    cost_usd: totals.cost,
  };
}

function addUsage(totals: UsageTotals, usage: TokenUsage): void {
  totals.input_tokens += usage.inputTokens;
  totals.cached_input_tokens += usage.cachedInputTokens;
  totals.cache_write_tokens += usage.cacheWriteTokens;
  totals.output_tokens += usage.outputTokens;
  totals.reasoning_tokens += usage.reasoningTokens;
  totals.total_tokens += usage.totalTokens;
}

function toUsagePayload(usage: TokenUsage): UsageTotals {
  return {
    input_tokens: usage.inputTokens,
    cached_input_tokens: usage.cachedInputTokens,
    cache_write_tokens: usage.cacheWriteTokens,
    output_tokens: usage.outputTokens,
    reasoning_tokens: usage.reasoningTokens,
    total_tokens: usage.totalTokens,
  };
}

function briefOf(mission: MissionV1): Record<string, unknown> {
  return {
    mission_id: mission.mission_id,
    tier: mission.tier,
    objective: mission.objective,
    objective_style: mission.objective_style,
    allowed_paths: mission.allowed_paths,
    allowed_roots: mission.allowed_roots,
    answer_obligations: mission.answer_obligations.map((obligation) => ({
      id: obligation.id,
      question: obligation.question,
      required: obligation.required,
    })),
    must_inspect: mission.must_inspect,
    required_outputs: mission.required_outputs,
  };
}

function describeClaim(report: unknown): string {
  const status =
    report !== null && typeof report === 'object'
      ? (report as { status?: unknown }).status
      : undefined;
  return typeof status === 'string' ? status.toUpperCase() : 'status-less';
}

function evidenceView(ledger: EvidenceLedger): EvidenceView {
  return {
    hasRef: (ref) => ledger.hasRef(ref),
    filesRead: new Set(ledger.filesInspected().map((file) => file.path)),
  };
}
