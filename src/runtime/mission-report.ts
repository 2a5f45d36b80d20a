import type { ImplementationStatus } from './implementation-policy.js';
import type {
  CommandResultPort,
  PatchCheckPort,
  PatchFilePort,
  PatchFlagPort,
} from './implementation-ports.js';
import type { InvestigationStatus } from './model-protocol.js';
import type { ValidatedFinding } from './validate-report.js';

import type { TokenUsage } from '../usage/index.js';

/** The runtime's report (`report.json`, and the basis of the text answer). */
export interface MissionReport {
  readonly schema: 'mission_report.v1';
  readonly mission_id: string;
  readonly run_id: string;
  readonly tier: string;
  readonly status: InvestigationStatus | ImplementationStatus;
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
  /** A4–A6: the review packet (PRODUCT.md §6.1). */
  readonly implementation?: ReviewPacket;
  /** The run this one continues (PRODUCT.md §6.3). */
  readonly continues?: { readonly mission_id: string; readonly run_id: string };
}

/** What a reviewer needs to accept or refuse an implementation without redoing it. */
export interface ReviewPacket {
  readonly schema: 'review_packet.v1';
  readonly objective: string;
  readonly requirements: readonly string[];
  readonly apply_mode: string;
  readonly isolation: {
    readonly kind: string;
    readonly base_commit: string | null;
    readonly carried: readonly string[];
    readonly notes: readonly string[];
  };
  readonly submissions: number;
  readonly changed_files: readonly PatchFilePort[];
  readonly patch_bytes: number;
  /** The diff, bounded; the whole of it is in patch.diff. */
  readonly diff: string;
  readonly diff_truncated: boolean;
  readonly checks: readonly PatchCheckPort[];
  readonly flags: readonly PatchFlagPort[];
  readonly verification: readonly CommandResultPort[] | null;
  readonly verification_isolation: unknown;
  readonly denials: readonly { tool: string; code: string; message: string }[];
  readonly refused_commands: readonly (readonly string[])[];
  /** The model's own words about its patch: authored by the model, not checked by it. */
  readonly model_claims: Readonly<Record<string, unknown>> & { readonly authored_by: 'model' };
  readonly evidence_refs: readonly string[];
  readonly questions_for_reviewer: readonly string[];
  readonly main_workspace_mutated: false;
  readonly promote_command: string | null;
  /** Size of this packet's JSON against the diff it stands for. */
  readonly packet_bytes: number;
}
