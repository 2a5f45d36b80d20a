import type { MissionV1 } from '../mission/index.js';
import type { CommentaryChannel } from './commentary-channel.js';
import type { EvidenceLedger } from './evidence-ledger.js';
import type { LoopPolicy } from './governed-loop.js';
import { continuationBrief, type EarlierRun } from './mission-continuation.js';
import type { MissionReport } from './mission-report.js';
import {
  buildSystemPrompt,
  forcedFinalPrompt,
  repairPrompt,
  SUBMIT_REPORT,
  submitReportTool,
  type InvestigationStatus,
} from './model-protocol.js';
import { redactDeep } from './redact-deep.js';
import type { LoopStop, RunTotals, StepEngine } from './step-engine.js';
import type { RecordEvent, ToolDispatcher } from './tool-dispatcher.js';
import { validateReport, type EvidenceView, type ReportVerdict } from './validate-report.js';

export interface InvestigationClosure {
  readonly status: InvestigationStatus;
  readonly reason: string;
  readonly reasonText: string;
  readonly verdict?: ReportVerdict;
}

export interface InvestigationParts {
  readonly mission: MissionV1;
  readonly runId: string;
  readonly engine: StepEngine;
  readonly dispatcher: ToolDispatcher;
  readonly ledger: EvidenceLedger;
  readonly commentary: CommentaryChannel;
  readonly record: RecordEvent;
  /** The areas in scope (files, and entries under allowed roots), to list what was not inspected. */
  readonly scopeAreas?: () => string[];
  readonly continuation?: EarlierRun | undefined;
}

/**
 * A2/A3: the model explores with read-only tools and finishes with `submit_report`, which the
 * runtime validates against the evidence ledger; the model's status is only an upper bound.
 */
export function investigationPolicy(parts: InvestigationParts): LoopPolicy<InvestigationClosure> {
  const { mission, ledger, commentary, record } = parts;
  let reportRepairs = 1;
  return {
    finalTool: submitReportTool,
    forcedPrompt: forcedFinalPrompt,
    repairPrompt,
    close: (stop) => closeInvestigation(parts, stop),
    criticalStop: () => ({
      status: 'PARTIAL',
      reason: 'critical_path_detected',
      reasonText:
        'The model asked for a critical path the mission may not read; the runtime stopped the mission.',
    }),
    async onFinalNotAlone(report) {
      // A report sent in the same turn as tool calls could cite refs those calls are about to
      // create, evidence the model has not seen: it is refused, the tools still run.
      await record('report.submitted', 'model', { report: redactDeep(report) });
      await commentary.say(
        'report_downgraded',
        'REPORT',
        'The model reported in the same turn as new tool calls; the runtime asked it to report after reading the results.',
        'warning',
      );
      return `[REPORT NOT ACCEPTED] ${SUBMIT_REPORT} must be the only call in its turn, after you have seen the results it cites. Nothing was validated; read the results above, then report.`;
    },
    async onFinal(report, { forced, canRepair }) {
      await record('report.submitted', 'model', { report: redactDeep(report) });
      const verdict = validateReport(report, mission, evidenceView(ledger));
      await commentary.say(
        'model_report_received',
        'REPORT',
        `The model submitted a ${describeClaim(report)} report; the runtime checked it: ${verdict.status}${verdict.reasons.length > 0 ? ` (${verdict.reasons[0] ?? ''})` : ''}.`,
      );
      if (verdict.repairable.length > 0 && reportRepairs > 0 && !forced && canRepair) {
        reportRepairs -= 1;
        await commentary.say(
          'report_downgraded',
          'REPORT',
          `The report was sent back once: ${verdict.repairable[0] ?? ''}.`,
          'warning',
        );
        return {
          reply: `[REPORT NOT ACCEPTED] ${verdict.repairable.join('; ')}. Cite only refs that tool results named (issued so far: ${ledger.refs().slice(-25).join(', ') || 'none'}). Gather what is missing, then call ${SUBMIT_REPORT} again.`,
        };
      }
      return {
        reply: '[REPORT RECEIVED]',
        closure: {
          status: verdict.status,
          reason: verdict.reason,
          reasonText: verdict.reasons[0] ?? 'the report was validated against the evidence ledger',
          verdict,
        },
      };
    },
  };
}

/**
 * The opening of an investigation: the system prompt, the brief, and the runtime's own reads of
 * `must_inspect` sources, so the model starts from evidence rather than a guess. Returns a
 * closure when a required source cannot be read.
 */
export async function openInvestigation(
  parts: InvestigationParts,
): Promise<InvestigationClosure | undefined> {
  const { mission, engine, dispatcher } = parts;
  const { budget } = engine.input;
  engine.messages.push({
    role: 'system',
    content: buildSystemPrompt(mission, dispatcher.toolNames, {
      toolBudget: budget.toolBudget,
      seconds: budget.timeBudgetSeconds,
    }),
  });
  const brief: string[] = [`Mission brief:\n${JSON.stringify(briefOf(mission), null, 2)}`];
  brief.push(...(await continuationBrief(parts.continuation, dispatcher, parts.commentary)));
  for (const path of mission.must_inspect) {
    const outcome = await dispatcher.run('read_file', { path }, 'runtime');
    brief.push(`Prefetched by the runtime (must_inspect ${path}):\n${outcome.text}`);
    if (outcome.critical)
      return {
        status: 'PARTIAL',
        reason: 'critical_path_detected',
        reasonText: `must_inspect path ${path} is a critical path the mission may not read.`,
      };
  }
  brief.push('Begin: request every read you already know you need in this first turn.');
  engine.messages.push({ role: 'user', content: brief.join('\n\n') });
  return undefined;
}

/**
 * A runtime closure: PARTIAL when evidence was gathered, FAILED when there is nothing to show,
 * unless the rule that stopped the run fixes the status (a refused repair ends PARTIAL, §6).
 */
function closeInvestigation(parts: InvestigationParts, stop: LoopStop): InvestigationClosure {
  const gathered = parts.ledger.filesInspected().length > 0 || parts.dispatcher.callCount > 0;
  return {
    status: stop.partial === true || gathered ? 'PARTIAL' : 'FAILED',
    reason: stop.reason,
    reasonText: stop.reasonText,
  };
}

export function buildInvestigationReport(
  parts: Pick<InvestigationParts, 'mission' | 'runId' | 'ledger' | 'scopeAreas'>,
  closure: InvestigationClosure,
  totals: RunTotals,
): MissionReport {
  const { mission } = parts;
  const verdict = closure.verdict;
  const files = parts.ledger.filesInspected().map((file) => ({
    path: file.path,
    refs: file.ranges.map(([start, end]) => `file:${file.path}#L${start}-L${end}`),
  }));
  const read = [...new Set(files.map((file) => file.path))];
  const touched = (area: string) =>
    read.some(
      (path) => path === area.replace(/\/+$/, '') || (area.endsWith('/') && path.startsWith(area)),
    );
  const uninspected = (parts.scopeAreas?.() ?? [...mission.allowed_paths, ...mission.allowed_roots])
    .filter((area) => !touched(area))
    .slice(0, 30);
  const caveats = verdict
    ? [...verdict.caveats]
    : [`Mission terminated by the runtime: ${closure.reasonText}`];
  return {
    schema: 'mission_report.v1',
    mission_id: mission.mission_id,
    run_id: parts.runId,
    tier: mission.tier,
    status: closure.status,
    reason: closure.reason,
    reason_text: closure.reasonText,
    dropped_findings: verdict?.droppedFindings ?? 0,
    closure:
      verdict === undefined
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
    ...reportTotals(totals),
  };
}

/** The totals section every report carries, from the fold over the run's events. */
export function reportTotals(totals: RunTotals) {
  return {
    model: totals.model,
    fallbacks_used: [...totals.fallbacksUsed],
    model_calls: totals.modelCalls,
    tool_calls: totals.toolCalls,
    usage: { ...totals.usage },
    cost_usd: totals.costUsd,
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
