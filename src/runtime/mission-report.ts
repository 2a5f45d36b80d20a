import type { InvestigationStatus } from './model-protocol.js';
import type { ValidatedFinding } from './validate-report.js';

import type { TokenUsage } from '../usage/index.js';

/** The runtime's report (`report.json`, and the basis of the text answer). */
export interface MissionReport {
  readonly schema: 'mission_report.v1';
  readonly mission_id: string;
  readonly run_id: string;
  readonly tier: string;
  readonly status: InvestigationStatus;
  /** Machine code for why the run ended this way. */
  readonly reason: string;
  /** The same, in words. */
  readonly reason_text: string;
  readonly closure: 'model_report' | 'model_report_downgraded' | 'runtime_closed';
  readonly summary: string;
  readonly findings: readonly ValidatedFinding[];
  /** Findings the model submitted that cited no valid evidence, dropped by validation. */
  readonly dropped_findings: number;
  readonly obligations: readonly {
    id: string;
    question: string;
    required: boolean;
    answered: boolean;
  }[];
  readonly files_inspected: readonly { path: string; refs: string[] }[];
  readonly uninspected_areas: readonly string[];
  readonly uncertainties: readonly string[];
  readonly caveats: readonly string[];
  readonly status_reasons: readonly string[];
  readonly confidence: 'HIGH' | 'MEDIUM' | 'LOW';
  readonly escalation_recommendation: string;
  readonly model: string;
  readonly fallbacks_used: readonly string[];
  readonly model_calls: number;
  readonly tool_calls: number;
  readonly usage: TokenUsage;
  readonly cost_usd: number;
}
