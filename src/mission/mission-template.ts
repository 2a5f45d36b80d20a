import {
  defaultStopConditions,
  isImplementationTier,
  isWriteTier,
  missionSchemaVersion,
  toolClasses,
  type MissionTier,
  type ObjectiveStyle,
  type RiskTier,
} from './constants.js';
import { invalidMission } from './mission-error.js';
import { parseMissionTier, validateMission, type MissionV1 } from './mission-schema.js';
import { shellSplit } from './shell-split.js';

export interface MissionTemplateOptions {
  readonly tier: MissionTier;
  readonly objective?: string;
  readonly missionId?: string;
  readonly allowedPaths?: readonly string[];
  readonly allowedRoots?: readonly string[];
  readonly riskTier?: RiskTier;
  readonly toolBudget?: number;
  readonly timeBudgetSeconds?: number;
  readonly objectiveStyle?: ObjectiveStyle;
  readonly answerObligations?: readonly string[];
  readonly mustInspect?: readonly string[];
  readonly ownedPaths?: readonly string[];
  readonly verificationCommands?: readonly (readonly string[])[];
}

/** The compiler's budgets (reference §12): small for A2, the tier cap for the rest. */
function defaultBudgets(tier: MissionTier): { tools: number; seconds: number } {
  return tier === 'A2' ? { tools: 10, seconds: 90 } : { tools: 20, seconds: 180 };
}

/**
 * A valid MissionV1 skeleton for `codex-oss mission template`: every tier's required fields are
 * filled with placeholders a person edits, and the result passes the schema unchanged.
 */
export function buildMissionTemplate(options: MissionTemplateOptions): MissionV1 {
  const tier = options.tier;
  const implementation = isImplementationTier(tier);
  const budgets = defaultBudgets(tier);
  const noScope =
    (options.allowedPaths ?? []).length === 0 && (options.allowedRoots ?? []).length === 0;
  const allowedRoots = noScope ? ['src/'] : [...(options.allowedRoots ?? [])];
  const allowedPaths = [...(options.allowedPaths ?? [])];
  const obligations = implementation ? [] : [...(options.answerObligations ?? [])];
  const style =
    options.objectiveStyle ??
    (implementation
      ? 'implementation'
      : obligations.length > 0
        ? 'open_investigation'
        : 'deterministic_lookup');

  const raw: Record<string, unknown> = {
    schema_version: missionSchemaVersion,
    mission_id: options.missionId ?? '',
    tier,
    objective:
      options.objective ??
      (implementation ? 'Describe the change to make' : 'Describe what to find out'),
    risk_tier: options.riskTier ?? 'low',
    write_allowed: isWriteTier(tier),
    allowed_roots: allowedRoots,
    allowed_paths: allowedPaths,
    allowed_tool_classes: [...toolClasses],
    tool_budget: options.toolBudget ?? budgets.tools,
    time_budget_seconds: options.timeBudgetSeconds ?? budgets.seconds,
    stop_conditions: [...defaultStopConditions, 'critical_path_detected'],
    objective_style: style,
    must_inspect: [...(options.mustInspect ?? allowedPaths)],
  };
  if (style === 'open_investigation') raw['answer_obligations'] = obligations;

  if (implementation) {
    const owned = [...(options.ownedPaths ?? [...allowedPaths, ...allowedRoots])];
    raw['owned_paths'] = owned;
    raw['max_files_changed'] = Math.min(20, Math.max(1, owned.length));
    const commands = options.verificationCommands?.map((argv) => [...argv]);
    if (isWriteTier(tier)) {
      raw['apply_mode'] = 'isolated_worktree';
      raw['verification_policy'] = { allowed_commands: commands ?? [['npm', 'test']] };
    } else if (commands !== undefined) {
      raw['verification_policy'] = { allowed_commands: commands };
    }
  }
  return validateMission(raw).mission;
}

/** JSON with object keys sorted at every depth, so rendered handoffs diff cleanly. */
export function stableStringify(value: unknown): string {
  const sortKeys = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(sortKeys);
    if (node !== null && typeof node === 'object') {
      const sorted: Record<string, unknown> = {};
      for (const key of Object.keys(node).sort()) {
        const child = (node as Record<string, unknown>)[key];
        if (child !== undefined) sorted[key] = sortKeys(child);
      }
      return sorted;
    }
    return node;
  };
  return JSON.stringify(sortKeys(value), null, 2);
}

/** The tagged form a mission alias reads from the user message. */
export function renderHandoff(mission: MissionV1): string {
  return `<OSS_HANDOFF_JSON>\n${stableStringify(mission)}\n</OSS_HANDOFF_JSON>`;
}

/** Flags of `codex-oss mission compile`, already parsed by the CLI (repeatable flags as lists). */
export interface CompileMissionFlags {
  readonly objective?: string | undefined;
  readonly tier?: string | undefined;
  readonly missionId?: string | undefined;
  readonly riskTier?: string | undefined;
  readonly allowedRoots?: readonly string[] | undefined;
  readonly allowedPaths?: readonly string[] | undefined;
  readonly readOnlyPaths?: readonly string[] | undefined;
  readonly ownedPaths?: readonly string[] | undefined;
  readonly objectiveStyle?: string | undefined;
  readonly answerObligations?: readonly string[] | undefined;
  readonly mustInspect?: readonly string[] | undefined;
  readonly evidenceCollectionMode?: string | undefined;
  /** Each a command line, split like a shell would (quotes respected, no expansion). */
  readonly verificationCommands?: readonly string[] | undefined;
  /** Commands already split into argv (MCP `verification_commands` may give either form). */
  readonly verificationArgv?: readonly (readonly string[])[] | undefined;
  readonly verificationTimeoutSeconds?: number | undefined;
  /** `isolated` is shorthand for `isolated_worktree`. */
  readonly applyMode?: string | undefined;
  readonly toolBudget?: number | undefined;
  readonly timeBudgetSeconds?: number | undefined;
  readonly allowBroadReadScope?: boolean | undefined;
  readonly criticalPathReadAllowed?: boolean | undefined;
  readonly criticalPathWriteAllowed?: boolean | undefined;
  readonly criticalPathReason?: string | undefined;
  readonly maxFilesChanged?: number | undefined;
  readonly maxPatchBytes?: number | undefined;
  readonly maxCostUsd?: number | undefined;
  readonly maxOutputTokens?: number | undefined;
  /** The mission this one continues (PRODUCT.md §6.3): `--continue ID`, MCP `continuation_id`. */
  readonly continues?: string | undefined;
}

function setIfDefined(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

/**
 * The `mission compile` path: flags → MissionV1, validated by the schema (every problem is a
 * MissionInputError naming the field, as for a handoff).
 */
export function compileMission(flags: CompileMissionFlags): MissionV1 {
  if (flags.objective === undefined || flags.objective.trim() === '') {
    throw invalidMission('objective', 'required: pass --objective "<what to find out or change>"');
  }
  const tier = parseMissionTier(flags.tier ?? 'A3');
  const implementation = isImplementationTier(tier);
  const budgets = defaultBudgets(tier);
  const readOnly = [...(flags.readOnlyPaths ?? [])];
  const owned = [...(flags.ownedPaths ?? [])];
  // Read-only and owned paths are part of the read scope; a trailing "/" marks a directory root.
  const extraScope = [...readOnly, ...owned];
  const allowedRoots = [
    ...(flags.allowedRoots ?? []),
    ...extraScope.filter((path) => path.endsWith('/')),
  ];
  const allowedPaths = [
    ...(flags.allowedPaths ?? []),
    ...extraScope.filter((path) => !path.endsWith('/')),
  ];

  const commands: string[][] = (flags.verificationCommands ?? []).map((line, index) => {
    try {
      return shellSplit(line);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw invalidMission(
        `verification_policy.allowed_commands[${index}]`,
        `${JSON.stringify(line)} ${why}`,
      );
    }
  });

  for (const argv of flags.verificationArgv ?? []) commands.push([...argv]);

  const obligations = [...(flags.answerObligations ?? [])];
  const raw: Record<string, unknown> = {
    schema_version: missionSchemaVersion,
    mission_id: flags.missionId ?? '',
    tier,
    objective: flags.objective,
    risk_tier: flags.riskTier ?? 'low',
    write_allowed: isWriteTier(tier),
    allowed_roots: [...new Set(allowedRoots)],
    allowed_paths: [...new Set(allowedPaths)],
    allowed_tool_classes: [...toolClasses],
    tool_budget: flags.toolBudget ?? budgets.tools,
    time_budget_seconds: flags.timeBudgetSeconds ?? budgets.seconds,
    allow_broad_read_scope: flags.allowBroadReadScope ?? false,
    critical_path_read_allowed: flags.criticalPathReadAllowed ?? false,
    critical_path_write_allowed: flags.criticalPathWriteAllowed ?? false,
    must_inspect: [...(flags.mustInspect ?? [])],
  };
  setIfDefined(raw, 'critical_path_reason', flags.criticalPathReason);
  setIfDefined(
    raw,
    'objective_style',
    flags.objectiveStyle ??
      (obligations.length > 0 && !implementation ? 'open_investigation' : undefined),
  );
  if (obligations.length > 0) raw['answer_obligations'] = obligations;
  setIfDefined(raw, 'evidence_collection_mode', flags.evidenceCollectionMode);
  setIfDefined(raw, 'max_cost_usd', flags.maxCostUsd);
  setIfDefined(raw, 'max_output_tokens', flags.maxOutputTokens);
  setIfDefined(raw, 'continues', flags.continues);
  if (owned.length > 0) raw['owned_paths'] = owned;
  if (readOnly.length > 0) raw['read_only_paths'] = readOnly;

  if (implementation) {
    raw['max_files_changed'] = flags.maxFilesChanged ?? Math.min(20, Math.max(1, owned.length));
    setIfDefined(raw, 'max_patch_bytes', flags.maxPatchBytes);
    const applyMode = flags.applyMode?.trim().toLowerCase();
    setIfDefined(raw, 'apply_mode', applyMode === 'isolated' ? 'isolated_worktree' : applyMode);
  } else {
    setIfDefined(raw, 'max_files_changed', flags.maxFilesChanged);
    setIfDefined(raw, 'apply_mode', flags.applyMode);
  }
  if (commands.length > 0 || flags.verificationTimeoutSeconds !== undefined) {
    const policy: Record<string, unknown> = { allowed_commands: commands };
    setIfDefined(policy, 'timeout_seconds', flags.verificationTimeoutSeconds);
    raw['verification_policy'] = policy;
  }
  return validateMission(raw).mission;
}
