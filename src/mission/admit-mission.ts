import { tierBudgetCap, type MissionTier } from './constants.js';
import { extractHandoff } from './extract-handoff.js';
import { MissionInputError, invalidMissionProblem } from './mission-error.js';
import { validateMission, type MissionV1 } from './mission-schema.js';
import { taskContractToMissionInput } from './parse-task-contract.js';

export type BudgetReductionReason = 'tier_cap' | 'request_deadline' | 'model_profile';

export interface MissionBudget {
  readonly toolBudgetRequested: number;
  readonly toolBudgetEffective: number;
  readonly timeBudgetRequestedSeconds: number;
  readonly timeBudgetEffectiveSeconds: number;
  /** The managed run's wall-clock deadline: min(max(request, mission time), max deadline). */
  readonly deadlineSeconds: number;
  readonly reductionReasons: BudgetReductionReason[];
}

export interface BudgetClampInput {
  readonly tier: MissionTier;
  readonly toolBudget: number;
  readonly timeBudgetSeconds: number;
  /** The alias profile's caps (reference §3.2); absent for a block arriving on a non-mission alias. */
  readonly caps?: { readonly maxToolBudget: number; readonly maxTimeSeconds: number } | undefined;
  readonly requestDeadlineSeconds: number;
  readonly maxDeadlineSeconds: number;
  readonly reserveSeconds: number;
  readonly estimatedTurnSeconds?: number | undefined;
}

const defaultTurnSeconds = 8;

/** How many tool turns fit in a deadline once the closing reserve is kept back (at least one). */
function turnsWithin(deadlineSeconds: number, reserveSeconds: number, turnSeconds: number): number {
  return Math.max(1, Math.floor((deadlineSeconds - reserveSeconds) / turnSeconds));
}

function addReason(reasons: BudgetReductionReason[], reason: BudgetReductionReason): void {
  if (!reasons.includes(reason)) reasons.push(reason);
}

/**
 * Budget clamping, reference §4.4. Stage 1 (always): the tier cap and the turns that fit in the
 * request deadline. Stage 2 (when the alias has a profile): recomputed from the *requested*
 * budget against the profile cap and the turns that fit in the effective runtime deadline — the
 * profile is per tier and per model, so it replaces stage 1's numbers, as in the original; the
 * stage-1 reasons stay on record. Every limit below the requested value is named, not only the
 * one that bound.
 */
export function clampMissionBudget(input: BudgetClampInput): MissionBudget {
  const turnSeconds = input.estimatedTurnSeconds ?? defaultTurnSeconds;
  const requestedTools = input.toolBudget;
  const requestedTime = input.timeBudgetSeconds;
  const deadline = Math.min(
    Math.max(input.requestDeadlineSeconds, requestedTime),
    input.maxDeadlineSeconds,
  );
  const reasons: BudgetReductionReason[] = [];

  const tierCap = tierBudgetCap(input.tier);
  const requestTurns = turnsWithin(input.requestDeadlineSeconds, input.reserveSeconds, turnSeconds);
  let tools = Math.min(requestedTools, tierCap.maxToolBudget, requestTurns);
  let time = Math.min(requestedTime, tierCap.maxTimeSeconds, deadline);
  if (tierCap.maxToolBudget < requestedTools || tierCap.maxTimeSeconds < requestedTime) {
    addReason(reasons, 'tier_cap');
  }
  if (requestTurns < requestedTools || deadline < requestedTime)
    addReason(reasons, 'request_deadline');

  if (input.caps) {
    const deadlineTurns = turnsWithin(deadline, input.reserveSeconds, turnSeconds);
    tools = Math.min(requestedTools, input.caps.maxToolBudget, deadlineTurns);
    time = Math.min(requestedTime, input.caps.maxTimeSeconds, deadline);
    if (input.caps.maxToolBudget < requestedTools || input.caps.maxTimeSeconds < requestedTime) {
      addReason(reasons, 'model_profile');
    }
    if (deadlineTurns < requestedTools) addReason(reasons, 'request_deadline');
  }

  return {
    toolBudgetRequested: requestedTools,
    toolBudgetEffective: tools,
    timeBudgetRequestedSeconds: requestedTime,
    timeBudgetEffectiveSeconds: time,
    deadlineSeconds: deadline,
    reductionReasons: reasons,
  };
}

export interface PrepareMissionInput {
  /** User-role texts only (never developer/system), in conversation order. */
  readonly userTexts: readonly string[];
  /** N from a `mission-aN-<profile>` alias; absent when a block arrived on another alias. */
  readonly aliasTier?: number | undefined;
  /** The alias profile's caps (reference §3.2). */
  readonly caps?: { readonly maxToolBudget: number; readonly maxTimeSeconds: number } | undefined;
  readonly requestDeadlineSeconds: number;
  readonly maxDeadlineSeconds: number;
  readonly reserveSeconds: number;
  /** Seconds one model turn plus tool call is expected to take; default 8. */
  readonly estimatedTurnSeconds?: number | undefined;
}

export interface PreparedMission {
  readonly mission: MissionV1;
  readonly source: 'handoff' | 'task_contract';
  readonly budget: MissionBudget;
  readonly warnings: string[];
  /** Sibling blocks (OSS_PATCH_PROPOSAL_JSON, …) that travelled with a tagged handoff. */
  readonly siblings: Record<string, string>;
}

// No literal tag in the text: a message quoted back into a later user turn must not look like a block.
export const missingHandoffMessage =
  'missing_handoff: mission aliases need a MissionV1 in the user message: exactly one ' +
  'OSS_HANDOFF_JSON block (the JSON object wrapped in OSS_HANDOFF_JSON opening and closing tags), ' +
  'or a plain-text task contract with a "GOAL:" line and "READ-ONLY PATHS:" (plus "OWNED PATHS:" ' +
  'for A4–A6). Run `codex-oss mission template --tier A3` to print a valid block to start from.';

function checkAliasTier(mission: MissionV1, aliasTier: number | undefined): void {
  if (aliasTier === undefined) return;
  const aliasName = `A${aliasTier}`;
  if (mission.tier === aliasName) return;
  throw new MissionInputError('invalid_mission', [
    invalidMissionProblem(
      'tier',
      `the block says ${JSON.stringify(mission.tier)} but the model alias is mission-a${aliasTier}-…; change the block's tier to "${aliasName}" or call a mission-a${mission.tier.slice(1)}-<profile> alias`,
    ),
  ]);
}

/**
 * Admission of one mission request, before any upstream call: find the handoff (or task
 * contract), validate it, check it against the alias tier and clamp its budgets. Every refusal
 * is a MissionInputError carrying a catalogue code.
 */
export function prepareMission(input: PrepareMissionInput): PreparedMission {
  const extracted = extractHandoff({ userTexts: input.userTexts });
  let source: PreparedMission['source'];
  let raw: unknown;
  const warnings: string[] = [];
  let siblings: Record<string, string> = {};

  if (extracted.kind === 'mission') {
    source = 'handoff';
    raw = extracted.json;
    siblings = extracted.siblings;
  } else {
    const contract = taskContractToMissionInput(input.userTexts.join('\n\n'), {
      ...(input.aliasTier === undefined ? {} : { aliasTier: input.aliasTier }),
    });
    if (contract === null) throw new MissionInputError('missing_handoff', [missingHandoffMessage]);
    source = 'task_contract';
    raw = contract;
    warnings.push(
      'no OSS_HANDOFF_JSON block: mission synthesized from the plain-text task contract',
    );
  }

  const validated = validateMission(raw);
  warnings.push(...validated.warnings);
  checkAliasTier(validated.mission, input.aliasTier);

  const budget = clampMissionBudget({
    tier: validated.mission.tier,
    toolBudget: validated.mission.tool_budget,
    timeBudgetSeconds: validated.mission.time_budget_seconds,
    caps: input.caps,
    requestDeadlineSeconds: input.requestDeadlineSeconds,
    maxDeadlineSeconds: input.maxDeadlineSeconds,
    reserveSeconds: input.reserveSeconds,
    estimatedTurnSeconds: input.estimatedTurnSeconds,
  });
  return { mission: validated.mission, source, budget, warnings, siblings };
}
