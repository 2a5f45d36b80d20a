/**
 * Fixed vocabulary of MissionV1 (reference/original-bridge.md §4–§6). Kept apart from the zod
 * schema so the runtime's path scope and the CLI can import the lists without the schema.
 */

export const missionSchemaVersion = 'oss_agent_mission.v1';

/** Tiers this bridge serves. A0/A1 existed in the original but never ran in the managed lane. */
export const missionTiers = ['A2', 'A3', 'A4', 'A5', 'A6'] as const;
export type MissionTier = (typeof missionTiers)[number];

export const modeByTier = {
  A2: 'guided_exploration',
  A3: 'managed_investigation',
  A4: 'patch_proposal',
  A5: 'bounded_implementation',
  A6: 'critical_implementation',
} as const satisfies Record<MissionTier, string>;
export type MissionMode = (typeof modeByTier)[MissionTier];

export const riskTiers = ['low', 'medium', 'critical'] as const;
export type RiskTier = (typeof riskTiers)[number];

export const toolClasses = ['read', 'search', 'list', 'safe_git'] as const;
export type ToolClass = (typeof toolClasses)[number];

export const objectiveStyles = [
  'deterministic_lookup',
  'open_investigation',
  'implementation',
] as const;
export type ObjectiveStyle = (typeof objectiveStyles)[number];

export const objectiveTypes = [
  'mapping_lookup',
  'config_value_extraction',
  'function_location',
  'zero_match_evidence',
  'implementation_site_discovery',
  'usage_location',
  'control_flow_trace',
  'policy_rule_location',
  'test_coverage_location',
  'implementation_test_only',
  'documentation_patch',
  'implementation_patch',
  'critical_path_patch',
] as const;

export const evidenceCollectionModes = ['prefetch_floor', 'agenda_guided', 'model_led'] as const;
export const afterRequiredFloorValues = ['allow_model_exploration', 'close_immediately'] as const;
export const confidenceLevels = ['LOW', 'MEDIUM', 'HIGH'] as const;
export const completenessPolicies = [
  'shape_sufficient',
  'whole_file_required',
  'scope_search_required',
  'range_sufficient',
  'negative_proof_required',
] as const;
export type CompletenessPolicy = (typeof completenessPolicies)[number];

export const reportSchemas = [
  'managed_investigation_report.v1',
  'patch_validation_report.v1',
  'implementation_report.v1',
] as const;

/**
 * apply_mode per tier. The reference also lists workspace modes for A5/A6; PRODUCT.md §5 says the
 * main workspace is never touched before `codex-oss promote` and A6 runs only in isolation, so
 * only the isolated modes are served (the error names the rejected mode and why).
 */
export const applyModesByTier = {
  A2: ['none'],
  A3: ['none'],
  A4: ['none'],
  A5: ['isolated_worktree', 'temp_project'],
  A6: ['isolated_worktree', 'temp_project'],
} as const satisfies Record<MissionTier, readonly string[]>;
export const allApplyModes = ['none', 'isolated_worktree', 'temp_project'] as const;
export type ApplyMode = (typeof allApplyModes)[number];
/** Modes the original accepted that write the main workspace; named in the rejection message. */
export const workspaceApplyModes = [
  'workspace',
  'workspace_low_risk',
  'workspace_explicit',
  'critical_workspace_certified',
];

export const defaultStopConditions = ['valid_report', 'budget_exhausted', 'deadline_reached'];

export const investigationRequiredOutputs = [
  'files_inspected',
  'commands_run',
  'findings',
  'uncertainties',
  'confidence',
  'caveats',
  'escalation_recommendation',
];
export const implementationRequiredOutputs = [
  'patch',
  'changed_files',
  'risk_assessment',
  'verification_plan',
  'evidence_refs',
];

export function defaultReportSchema(tier: MissionTier): (typeof reportSchemas)[number] {
  if (tier === 'A4') return 'patch_validation_report.v1';
  if (tier === 'A5' || tier === 'A6') return 'implementation_report.v1';
  return 'managed_investigation_report.v1';
}

export function defaultRequiredOutputs(tier: MissionTier): string[] {
  return isImplementationTier(tier)
    ? [...implementationRequiredOutputs]
    : [...investigationRequiredOutputs];
}

export function isImplementationTier(tier: MissionTier): boolean {
  return tier === 'A4' || tier === 'A5' || tier === 'A6';
}

export function isWriteTier(tier: MissionTier): boolean {
  return tier === 'A5' || tier === 'A6';
}

/**
 * Roots the runtime refuses whatever the mission says (reference §4.3, widened to all of
 * `.codex-oss/` because the bridge's own state, logs and env files live there).
 */
export const defaultDenyRoots: readonly string[] = Object.freeze([
  '.env',
  '*.env',
  'secrets/',
  '.git/',
  'node_modules/',
  '.codex-oss/',
]);

/** Roots whose reads need `critical_path_read_allowed` plus a reason (reference §6). */
export const criticalRoots: readonly string[] = Object.freeze([
  'src/auth/',
  'src/schema/',
  'migrations/',
  '.github/workflows/',
  'scripts/recovery/',
  'scripts/finalizer/',
]);

/** Budgets above these are a mistake or an abuse, never a real mission (reference §4.1). */
export const abusiveToolBudget = 1000;
export const abusiveTimeBudgetSeconds = 3600;

/** Per-tier caps applied at admission before any alias profile (reference §4.4 stage 1). */
export function tierBudgetCap(tier: MissionTier): {
  maxToolBudget: number;
  maxTimeSeconds: number;
} {
  return tier === 'A2'
    ? { maxToolBudget: 10, maxTimeSeconds: 90 }
    : { maxToolBudget: 20, maxTimeSeconds: 180 };
}
