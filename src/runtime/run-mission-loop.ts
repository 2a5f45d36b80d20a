import type { MissionV1 } from '../mission/index.js';
import type { ModelEntry } from '../models/index.js';
import type { UpstreamClient } from '../upstream/index.js';
import type { TokenUsage } from '../usage/index.js';
import type { CommentaryChannel } from './commentary-channel.js';
import type { EvidenceLedger } from './evidence-ledger.js';
import { runGovernedLoop } from './governed-loop.js';
import {
  buildInvestigationReport,
  investigationPolicy,
  openInvestigation,
  type InvestigationClosure,
  type InvestigationParts,
} from './investigation-policy.js';
import type { EarlierRun } from './mission-continuation.js';
import type { MissionReport } from './mission-report.js';
import { runImplementation, type ImplementationInput } from './run-implementation.js';
import { StepEngine, type LoopBudget, type RunTotals } from './step-engine.js';
import type { RecordEvent, ToolDispatcher } from './tool-dispatcher.js';

export type { LoopBudget } from './step-engine.js';

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
  /** The run's totals from the fold over its events. */
  readonly totals: () => RunTotals;
  readonly price: (model: string, usage: TokenUsage) => number;
  readonly signal: AbortSignal;
  readonly sessionKey: string;
  /** The areas in scope (files, and entries under allowed roots), to list what was not inspected. */
  readonly scopeAreas?: () => string[];
  /** Admission decisions worth telling the user (refused fallbacks…), said after the start line. */
  readonly admissionNotes?: readonly string[];
  readonly now?: () => number;
  /** The run this one continues (PRODUCT.md §6.3): its answer and evidence open the mission. */
  readonly continuation?: EarlierRun | undefined;
  /** A4–A6: the implementation domain's parts and what the runtime needs to run them. */
  readonly implementation?: Omit<
    ImplementationInput,
    keyof LoopInput | 'chain' | 'upstream' | 'budget' | 'record' | 'commentary'
  >;
}

/**
 * Runs an admitted mission to its report. The tier decides the policy: A2/A3 investigate and
 * report; A4–A6 are not in this build yet and escalate. `risk_tier: critical` escalates first.
 */
export async function runMissionLoop(input: LoopInput): Promise<MissionReport> {
  const { mission, commentary } = input;
  const engine = new StepEngine({ ...input, finalNoun: 'report' });
  const parts: InvestigationParts = { ...input, engine };
  const finish = async (closure: InvestigationClosure): Promise<MissionReport> => {
    const report = buildInvestigationReport(parts, closure, input.totals());
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
    `Mission ${mission.mission_id} (${mission.tier}) started on ${input.totals().model}: ${mission.objective.slice(0, 200)}`,
  );
  for (const note of input.admissionNotes ?? [])
    await commentary.say('model_admission', 'PLAN', note);
  // A6 exists for critical work and runs only in isolation (PRODUCT.md §5).
  if (mission.risk_tier === 'critical' && mission.tier !== 'A6') {
    return finish({
      status: 'ESCALATE',
      reason: 'critical_risk',
      reasonText:
        'risk_tier "critical" forbids autonomous exploration; a human or a GPT reviewer should take this mission.',
    });
  }
  switch (mission.tier) {
    case 'A2':
    case 'A3': {
      const early = await openInvestigation(parts);
      if (early) return finish(early);
      return finish(
        await runGovernedLoop({
          engine,
          dispatcher: input.dispatcher,
          policy: investigationPolicy(parts),
        }),
      );
    }
    case 'A4':
    case 'A5':
    case 'A6': {
      if (!input.implementation)
        return finish({
          status: 'ESCALATE',
          reason: 'tier_not_available',
          reasonText: `${mission.tier} patch tiers are not wired into this runtime; the mission was validated but not run.`,
        });
      const { report, closure } = await runImplementation({ ...input, ...input.implementation });
      await commentary.say(
        'mission_completed',
        'REPORT',
        `Mission ended ${report.status}: ${closure.reasonText}`,
      );
      return report;
    }
  }
}
