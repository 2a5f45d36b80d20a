import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  abusiveTimeBudgetSeconds,
  abusiveToolBudget,
  afterRequiredFloorValues,
  applyModesByTier,
  completenessPolicies,
  confidenceLevels,
  criticalRoots,
  defaultDenyRoots,
  defaultReportSchema,
  defaultRequiredOutputs,
  defaultStopConditions,
  evidenceCollectionModes,
  isImplementationTier,
  isWriteTier,
  missionSchemaVersion,
  missionTiers,
  modeByTier,
  objectiveStyles,
  objectiveTypes,
  reportSchemas,
  riskTiers,
  toolClasses,
  workspaceApplyModes,
  type ApplyMode,
  type CompletenessPolicy,
  type MissionTier,
} from './constants.js';
import {
  MissionInputError,
  describeValue,
  formatIssuePath,
  invalidMissionProblem,
} from './mission-error.js';

// ---------------------------------------------------------------------------------------------
// Field building blocks
// ---------------------------------------------------------------------------------------------

/** Lists may arrive as one comma string ("src/a.ts, src/b.ts"), as hand-written handoffs do. */
function splitCommaString(value: unknown): unknown {
  if (value === null) return undefined;
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '');
  }
  return value;
}

function nullToUndefined(value: unknown): unknown {
  return value === null ? undefined : value;
}

function lowerTrim(value: unknown): unknown {
  return typeof value === 'string' ? value.trim().toLowerCase() : nullToUndefined(value);
}

function upperTrim(value: unknown): unknown {
  return typeof value === 'string' ? value.trim().toUpperCase() : nullToUndefined(value);
}

function dedupe(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function hasDotDotSegment(path: string): boolean {
  return path.split(/[\\/]+/).includes('..');
}

const nonEmptyString = z.string().trim().min(1, { error: 'must not be empty' });

/**
 * A project-relative path (or an absolute one the runtime will map into the project). `..` is
 * refused here rather than at tool time so the mistake is reported before any upstream call.
 */
const pathString = z
  .string()
  .trim()
  .min(1, { error: 'must not be an empty path' })
  .refine((path) => !path.includes('\0'), { error: 'must not contain NUL characters' })
  .refine((path) => !hasDotDotSegment(path), {
    error: (issue) =>
      `must stay inside the project: ".." segments are not allowed (got ${describeValue(issue.input)})`,
  });

const optionalPathList = z.preprocess(
  splitCommaString,
  z.array(pathString).transform(dedupe).optional(),
);
const optionalStringList = z.preprocess(
  splitCommaString,
  z.array(nonEmptyString).transform(dedupe).optional(),
);

function boundedInt(min: number, max: number, why?: string) {
  const message = (issue: { input?: unknown }) =>
    `${why ?? `must be between ${min} and ${max}`} (got ${describeValue(issue.input)})`;
  return z.number().int().min(min, { error: message }).max(max, { error: message });
}

const autonomyInt = z.preprocess(nullToUndefined, boundedInt(0, 100).optional());

const shellPrograms = new Set([
  'sh',
  'bash',
  'zsh',
  'dash',
  'ksh',
  'fish',
  'csh',
  'tcsh',
  'cmd',
  'cmd.exe',
  'powershell',
  'powershell.exe',
  'pwsh',
]);

/** An argv array. Verification runs without a shell (PRODUCT §5), so a shell as argv[0] is refused. */
const commandArgv = z
  .array(z.string().min(1, { error: 'argv entries must not be empty strings' }), {
    error: (issue) =>
      `must be an argv array of strings such as ["npm", "test"] (got ${describeValue(issue.input)})`,
  })
  .min(1, { error: 'must not be an empty argv array' })
  .superRefine((argv, ctx) => {
    const program = (argv[0] ?? '').split(/[\\/]/).pop() ?? '';
    if (shellPrograms.has(program.toLowerCase())) {
      ctx.addIssue({
        code: 'custom',
        message: `runs a shell (${JSON.stringify(argv[0])}); verification commands are argv arrays executed without a shell, so call the program directly`,
      });
    }
  });

// ---------------------------------------------------------------------------------------------
// Nested objects
// ---------------------------------------------------------------------------------------------

const objectiveSpecSchema = z.object({
  schema_version: z.literal('objective_spec.v1', {
    error: (issue) => `must be "objective_spec.v1" (got ${describeValue(issue.input)})`,
  }),
  objective_type: z.enum(objectiveTypes),
  target: z.record(z.string(), z.unknown()).default({}),
  required_outputs: z.array(nonEmptyString).default([]),
  required_evidence_shapes: z.array(nonEmptyString).default([]),
  completion_criteria: z.array(nonEmptyString).default([]),
  confidence_policy: z.record(z.string(), z.unknown()).default({}),
});

const sufficiencyPolicySchema = z.object({
  min_main_claims: z.number().int().min(0).optional(),
  min_evidence_refs_per_claim: z.number().int().min(0).optional(),
  must_list_uninspected_areas: z.boolean().optional(),
  confidence_cap_if_partial_extracts: z.preprocess(upperTrim, z.enum(confidenceLevels).optional()),
  allow_runtime_answer_graph_closure: z.boolean().optional(),
});

/** A string requirement is shorthand for `{ path }`. */
const sourceRequirementSchema = z.preprocess(
  (value) => (typeof value === 'string' ? { path: value } : value),
  z.object({
    path: pathString,
    evidence_kind: nonEmptyString.default('source_read'),
    required: z.boolean().default(true),
    prefetch: z.boolean().default(true),
    required_shapes: z.array(nonEmptyString).default([]),
    contradiction_markers: z.array(nonEmptyString).default([]),
    completeness_policy: z.enum(completenessPolicies).optional(),
    shape_match_policy: z.enum(['all', 'any']).default('all'),
    evidence_plane: nonEmptyString.default('file_content'),
  }),
);

/** A string obligation is shorthand for `{ question }`; ids default to q1, q2, … by position. */
const answerObligationSchema = z.preprocess(
  (value) => (typeof value === 'string' ? { question: value } : value),
  z.object({
    id: nonEmptyString.optional(),
    question: z
      .string({ error: 'required: each obligation needs a question' })
      .trim()
      .min(1, { error: 'must not be empty' }),
    required: z.boolean().default(true),
    source_hints: z.array(nonEmptyString).default([]),
    source_requirements: z.array(sourceRequirementSchema).default([]),
    evidence_needed: z.array(nonEmptyString).default([]),
  }),
);

const explorationPolicySchema = z.object({
  after_required_floor: z.enum(afterRequiredFloorValues).optional(),
  min_optional_actions_after_floor: boundedInt(0, 100).optional(),
  max_optional_actions_after_floor: boundedInt(0, 100).optional(),
  require_contradiction_search: z.boolean().optional(),
});

const verificationPolicySchema = z.object({
  allowed_commands: z.array(commandArgv).default([]),
  max_commands: boundedInt(0, 10).optional(),
  timeout_seconds: boundedInt(1, 600).default(60),
  network_allowed: z.boolean().default(false),
  env_policy: z.literal('minimal').default('minimal'),
  allow_broad_suite: z.boolean().default(false),
});

const workspaceApplyPolicySchema = z.object({
  allow_direct_workspace_apply: z.boolean().default(false),
  allow_critical_workspace_apply: z.boolean().default(false),
  require_clean_worktree: z.boolean().default(false),
  allow_dirty_target_files: z.boolean().default(false),
  certification_required: z.boolean().default(false),
  require_gpt_review: z.boolean().default(true),
  reviewer_models: z.array(nonEmptyString).default([]),
  min_reviewer_approvals: z.number().int().min(0).default(0),
  require_isolated_preflight: z.boolean().default(false),
  require_rollback_proof: z.boolean().default(false),
  invariant_commands: z.array(commandArgv).default([]),
});

// ---------------------------------------------------------------------------------------------
// Top-level fields (field-level rules only; cross-field rules are in checkMissionRules)
// ---------------------------------------------------------------------------------------------

const missionIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const tierField = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? 'required: one of A2, A3, A4, A5, A6'
        : `must be one of A2, A3, A4, A5, A6 (got ${describeValue(issue.input)})`,
  })
  .transform((value, ctx): MissionTier => {
    const tier = value.trim().toUpperCase();
    if ((missionTiers as readonly string[]).includes(tier)) return tier as MissionTier;
    const message =
      tier === 'A0' || tier === 'A1'
        ? `${tier} is not served: only A2–A6 missions run in the managed lane (send ${tier} work to a raw model alias instead)`
        : `must be one of A2, A3, A4, A5, A6 (got ${describeValue(value)})`;
    ctx.issues.push({ code: 'custom', message, input: value });
    return z.NEVER;
  });

const missionFields = {
  schema_version: z.literal(missionSchemaVersion, {
    error: (issue) =>
      issue.input === undefined
        ? `required: must be "${missionSchemaVersion}"`
        : `must be "${missionSchemaVersion}" (got ${describeValue(issue.input)})`,
  }),
  mission_id: z.preprocess(
    nullToUndefined,
    z
      .string()
      .trim()
      .refine((id) => id === '' || missionIdPattern.test(id), {
        error: (issue) =>
          `must be 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit, because it names the mission's directory (got ${describeValue(issue.input)})`,
      })
      .optional(),
  ),
  tier: tierField,
  mode: z.preprocess(lowerTrim, z.string().optional()),
  objective: z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? 'required: say what the mission must find out or change'
          : `must be a string (got ${describeValue(issue.input)})`,
    })
    .trim()
    .min(1, { error: 'must not be empty: say what the mission must find out or change' }),
  risk_tier: z.preprocess(lowerTrim, z.enum(riskTiers).optional()),
  write_allowed: z.preprocess(nullToUndefined, z.boolean().optional()),
  allowed_roots: optionalPathList,
  allowed_paths: optionalPathList,
  forbidden_roots: optionalStringList,
  forbidden_topics: optionalStringList,
  critical_path_read_allowed: z.boolean().default(false),
  critical_path_reason: z.preprocess(nullToUndefined, z.string().trim().optional()),
  critical_path_write_allowed: z.boolean().default(false),
  allow_broad_read_scope: z.boolean().default(false),
  max_files_to_inspect: boundedInt(1, 1000).default(20),
  max_total_observation_bytes: boundedInt(1, 50_000_000).default(500_000),
  tool_budget: z
    .number()
    .int()
    .min(1, { error: (issue) => `must be at least 1 (got ${describeValue(issue.input)})` })
    .max(abusiveToolBudget, {
      error: (issue) =>
        `abusive budget: at most ${abusiveToolBudget} tool calls (got ${describeValue(issue.input)})`,
    })
    .default(20),
  time_budget_seconds: z
    .number()
    .int()
    .min(1, { error: (issue) => `must be at least 1 (got ${describeValue(issue.input)})` })
    .max(abusiveTimeBudgetSeconds, {
      error: (issue) =>
        `abusive budget: at most ${abusiveTimeBudgetSeconds} seconds (got ${describeValue(issue.input)})`,
    })
    .default(180),
  allowed_tool_classes: z.preprocess(
    splitCommaString,
    z
      .array(
        z.preprocess(
          lowerTrim,
          z.enum(toolClasses, {
            error: (issue) =>
              `unknown tool class ${describeValue(issue.input)}; allowed: ${toolClasses.join(', ')}`,
          }),
        ),
        {
          error: (issue) =>
            issue.input === undefined
              ? `required: list the tool classes the mission may use (${toolClasses.join(', ')})`
              : `must be a list of tool classes (got ${describeValue(issue.input)})`,
        },
      )
      .min(1, {
        error: `must not be empty: list at least one of ${toolClasses.join(', ')}`,
      })
      .transform(dedupe),
  ),
  stop_conditions: optionalStringList,
  report_schema: z.preprocess(nullToUndefined, z.enum(reportSchemas).optional()),
  required_outputs: z.preprocess(
    splitCommaString,
    z
      .array(nonEmptyString)
      .min(1, { error: 'must not be empty: omit it to use the tier default' })
      .transform(dedupe)
      .optional(),
  ),
  fallback_policy: nonEmptyString.default('fallback_policy.v1'),
  deadline_policy: nonEmptyString.default('deadline_policy.v1'),
  objective_spec: objectiveSpecSchema.nullish(),
  allow_heuristic_objective: z.boolean().default(true),
  objective_style: z.preprocess(lowerTrim, z.enum(objectiveStyles).optional()),
  sufficiency_policy: sufficiencyPolicySchema.nullish(),
  answer_obligations: z.array(answerObligationSchema).nullish(),
  must_inspect: optionalPathList,
  evidence_collection_mode: z.preprocess(lowerTrim, z.enum(evidenceCollectionModes).optional()),
  exploration_policy: explorationPolicySchema.nullish(),
  closer_model: nonEmptyString.nullish(),
  fallback_closer_model: nonEmptyString.nullish(),
  completion_contract: z.record(z.string(), z.unknown()).nullish(),
  max_model_calls: autonomyInt,
  max_duplicate_actions: autonomyInt,
  max_broad_searches: autonomyInt,
  max_low_information_actions: autonomyInt,
  phase_policy_enabled: z.boolean().default(true),
  progress_policy_enabled: z.boolean().default(true),
  owned_paths: optionalPathList,
  read_only_paths: optionalPathList,
  max_files_changed: boundedInt(1, 20).default(1),
  max_patch_bytes: boundedInt(1, 250_000).default(12_000),
  verification_policy: verificationPolicySchema.nullish(),
  apply_mode: z.preprocess(lowerTrim, z.string().optional()),
  workspace_apply_policy: workspaceApplyPolicySchema.nullish(),
  // PRODUCT §6.1: deletions only when the mission says so; the worktree kept only on request;
  // failed checks or verification go back to the model this many times.
  allow_deletions: z.boolean().default(false),
  keep_worktree: z.boolean().default(false),
  max_repair_rounds: boundedInt(0, 5).default(2),
  // PRODUCT §6.3: the mission this one continues.
  continues: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be a mission id')
    .nullish(),
  // PRODUCT §3: a fallback to a weaker model needs explicit approval in the mission; the
  // original recorded it as fallback_approval "explicit".
  allow_capability_downgrade: z.boolean().default(false),
  max_cost_usd: z.preprocess(
    nullToUndefined,
    z
      .number()
      .positive({
        error: (issue) =>
          `must be a positive number of US dollars (got ${describeValue(issue.input)})`,
      })
      .optional(),
  ),
  max_output_tokens: z.preprocess(
    nullToUndefined,
    z
      .number()
      .int()
      .positive({
        error: (issue) => `must be a positive integer (got ${describeValue(issue.input)})`,
      })
      .optional(),
  ),
};

/** Every top-level MissionV1 key; anything else in a handoff is ignored with a warning. */
export const missionFieldNames: readonly string[] = Object.freeze(Object.keys(missionFields));

const missionObject = z.object(missionFields, {
  error: (issue) => `must be a JSON object (got ${describeValue(issue.input)})`,
});
type ParsedFields = z.output<typeof missionObject>;

// ---------------------------------------------------------------------------------------------
// Cross-field rules
// ---------------------------------------------------------------------------------------------

function resolveStyle(fields: ParsedFields): (typeof objectiveStyles)[number] {
  return (
    fields.objective_style ??
    (isImplementationTier(fields.tier) ? 'implementation' : 'deterministic_lookup')
  );
}

function resolveExploration(policy: ParsedFields['exploration_policy']) {
  const after = policy?.after_required_floor ?? 'allow_model_exploration';
  const closes = after === 'close_immediately';
  return {
    after_required_floor: after,
    min_optional_actions_after_floor: policy?.min_optional_actions_after_floor ?? (closes ? 0 : 1),
    max_optional_actions_after_floor: policy?.max_optional_actions_after_floor ?? 4,
    require_contradiction_search: policy?.require_contradiction_search ?? !closes,
  };
}

/** `./src//a/` → `src/a`; the project root is the empty string. */
export function normalizeScopePath(path: string): string {
  let out = path
    .trim()
    .replace(/\\/g, '/')
    .replace(/\/{2,}/g, '/');
  while (out.startsWith('./')) out = out.slice(2);
  if (out === '.') out = '';
  return out.replace(/\/+$/, '');
}

/** Whether a path falls under an allowed root or equals an allowed exact path. */
export function isPathInScope(
  path: string,
  scope: { allowedRoots: readonly string[]; allowedPaths: readonly string[] },
): boolean {
  const target = normalizeScopePath(path);
  if (scope.allowedPaths.some((allowed) => normalizeScopePath(allowed) === target)) return true;
  return scope.allowedRoots.some((root) => {
    const base = normalizeScopePath(root);
    return base === '' || target === base || target.startsWith(`${base}/`);
  });
}

function checkMissionRules(fields: ParsedFields, ctx: z.RefinementCtx): void {
  const tier = fields.tier;
  const add = (path: (string | number)[], message: string) => {
    ctx.addIssue({ code: 'custom', path, message });
  };

  const expectedMode = modeByTier[tier];
  if (fields.mode !== undefined && fields.mode !== '' && fields.mode !== expectedMode) {
    add(
      ['mode'],
      `must be "${expectedMode}" for tier ${tier} (got ${describeValue(fields.mode)}); omit mode to derive it from the tier`,
    );
  }

  if (isWriteTier(tier) && fields.write_allowed !== true) {
    add(
      ['write_allowed'],
      `must be true for ${tier}: implementation tiers need explicit write consent (got ${describeValue(fields.write_allowed)})`,
    );
  } else if (!isWriteTier(tier) && fields.write_allowed === true) {
    add(
      ['write_allowed'],
      `must be false for ${tier}: only A5/A6 missions write (use A5 for changes)`,
    );
  }

  const roots = fields.allowed_roots ?? [];
  const paths = fields.allowed_paths ?? [];
  if (roots.length === 0 && paths.length === 0) {
    add(
      ['allowed_roots'],
      `${tier} missions need at least one entry in allowed_roots or allowed_paths (e.g. "allowed_roots": ["src/"])`,
    );
  }

  for (const [index, path] of (fields.must_inspect ?? []).entries()) {
    if (
      roots.length + paths.length > 0 &&
      !isPathInScope(path, { allowedRoots: roots, allowedPaths: paths })
    ) {
      add(
        ['must_inspect', index],
        `${JSON.stringify(path)} is outside allowed_roots/allowed_paths, so the mission could never inspect it`,
      );
    }
  }

  if (fields.critical_path_read_allowed && !fields.critical_path_reason) {
    add(
      ['critical_path_reason'],
      'required when critical_path_read_allowed is true: say why the mission must read critical paths',
    );
  }
  if (fields.critical_path_write_allowed) {
    if (!isWriteTier(tier)) {
      add(['critical_path_write_allowed'], `must be false for ${tier}: only A5/A6 missions write`);
    } else if (!fields.critical_path_reason) {
      add(
        ['critical_path_reason'],
        'required when critical_path_write_allowed is true: say why the mission must change critical paths',
      );
    }
  }

  const style = resolveStyle(fields);
  if (isImplementationTier(tier) && style !== 'implementation') {
    add(['objective_style'], `must be "implementation" for ${tier} (got ${describeValue(style)})`);
  } else if (!isImplementationTier(tier) && style === 'implementation') {
    add(
      ['objective_style'],
      `"implementation" is only for A4–A6; use "deterministic_lookup" or "open_investigation" for ${tier}`,
    );
  }

  if (tier === 'A3' && !fields.objective_spec && !fields.allow_heuristic_objective) {
    add(
      ['objective_spec'],
      'required for A3 when allow_heuristic_objective is false: give an objective_spec.v1 or allow the heuristic objective',
    );
  }

  const obligations = fields.answer_obligations ?? [];
  if (obligations.length > 0 && style !== 'open_investigation') {
    add(
      ['answer_obligations'],
      `allowed only with objective_style "open_investigation" (got ${describeValue(style)})`,
    );
  }
  const seenIds = new Map<string, number>();
  for (const [index, obligation] of obligations.entries()) {
    const id = obligation.id ?? `q${index + 1}`;
    const first = seenIds.get(id);
    if (first !== undefined) {
      add(
        ['answer_obligations', index, 'id'],
        `duplicate id ${JSON.stringify(id)} (also answer_obligations[${first}])`,
      );
    } else seenIds.set(id, index);
  }

  if (fields.exploration_policy) {
    if (style !== 'open_investigation') {
      add(
        ['exploration_policy'],
        `allowed only with objective_style "open_investigation" (got ${describeValue(style)})`,
      );
    } else {
      const resolved = resolveExploration(fields.exploration_policy);
      if (resolved.min_optional_actions_after_floor > resolved.max_optional_actions_after_floor) {
        add(
          ['exploration_policy', 'min_optional_actions_after_floor'],
          `must be ≤ max_optional_actions_after_floor (${resolved.min_optional_actions_after_floor} > ${resolved.max_optional_actions_after_floor})`,
        );
      }
    }
  }

  const owned = fields.owned_paths ?? [];
  if (isImplementationTier(tier) && owned.length === 0) {
    add(
      ['owned_paths'],
      `${tier} missions need at least one owned path (the files the patch may change)`,
    );
  } else if (!isImplementationTier(tier) && owned.length > 0) {
    add(['owned_paths'], `only A4–A6 missions own paths; remove owned_paths or use tier A4+`);
  }

  const commands = fields.verification_policy?.allowed_commands ?? [];
  if (!isImplementationTier(tier) && commands.length > 0) {
    add(
      ['verification_policy', 'allowed_commands'],
      `only A4–A6 missions run verification commands`,
    );
  }

  if (fields.apply_mode !== undefined && fields.apply_mode !== '') {
    const allowed: readonly string[] = applyModesByTier[tier];
    if (!allowed.includes(fields.apply_mode)) {
      const why =
        isWriteTier(tier) && workspaceApplyModes.includes(fields.apply_mode)
          ? `${JSON.stringify(fields.apply_mode)} is not served: ${tier} applies only in isolation (${allowed.join(', ')}); the main workspace changes only through codex-oss promote`
          : `must be one of ${allowed.join(', ')} for ${tier} (got ${describeValue(fields.apply_mode)})`;
      add(['apply_mode'], why);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Defaults that depend on other fields, and the final shape
// ---------------------------------------------------------------------------------------------

function defaultCompleteness(evidenceKind: string): CompletenessPolicy {
  if (['behavior_derivation', 'broad_policy_audit', 'security_review'].includes(evidenceKind)) {
    return 'whole_file_required';
  }
  if (evidenceKind === 'negative_proof') return 'negative_proof_required';
  if (evidenceKind === 'scope_search') return 'scope_search_required';
  return 'shape_sufficient';
}

function generateMissionId(): string {
  return `mission_${randomBytes(6).toString('hex')}`;
}

function finalizeMission(fields: ParsedFields) {
  const tier = fields.tier;
  const style = resolveStyle(fields);
  const open = style === 'open_investigation';
  const sufficiency = fields.sufficiency_policy;
  const verification = fields.verification_policy;
  const allowedCommands = verification?.allowed_commands ?? [];
  const workspace = workspaceApplyPolicySchema.parse(fields.workspace_apply_policy ?? {});
  const defaultApply: ApplyMode = isWriteTier(tier) ? 'isolated_worktree' : 'none';
  const applyMode = (fields.apply_mode ? fields.apply_mode : defaultApply) as ApplyMode;

  const mission = {
    schema_version: fields.schema_version,
    mission_id: fields.mission_id ? fields.mission_id : generateMissionId(),
    tier,
    mode: modeByTier[tier],
    objective: fields.objective,
    risk_tier: fields.risk_tier ?? 'low',
    write_allowed: isWriteTier(tier),
    // A trailing slash means a folder: "src/" in allowed_paths is read as a root, not a file named src.
    allowed_roots: dedupe([
      ...(fields.allowed_roots ?? []),
      ...(fields.allowed_paths ?? []).filter((entry) => entry.endsWith('/')),
    ]),
    allowed_paths: (fields.allowed_paths ?? []).filter((entry) => !entry.endsWith('/')),
    // The deny list is appended whatever the mission says; a mission can only add to it.
    forbidden_roots: dedupe([...(fields.forbidden_roots ?? []), ...defaultDenyRoots]),
    forbidden_topics: fields.forbidden_topics ?? [],
    critical_path_read_allowed: fields.critical_path_read_allowed,
    critical_path_reason: fields.critical_path_reason ? fields.critical_path_reason : null,
    critical_path_write_allowed: fields.critical_path_write_allowed,
    allow_broad_read_scope: fields.allow_broad_read_scope,
    max_files_to_inspect: fields.max_files_to_inspect,
    max_total_observation_bytes: fields.max_total_observation_bytes,
    tool_budget: fields.tool_budget,
    time_budget_seconds: fields.time_budget_seconds,
    allowed_tool_classes: fields.allowed_tool_classes,
    stop_conditions: fields.stop_conditions ?? [...defaultStopConditions],
    report_schema: fields.report_schema ?? defaultReportSchema(tier),
    required_outputs: fields.required_outputs ?? defaultRequiredOutputs(tier),
    fallback_policy: fields.fallback_policy,
    deadline_policy: fields.deadline_policy,
    objective_spec: fields.objective_spec ?? null,
    allow_heuristic_objective: fields.allow_heuristic_objective,
    objective_style: style,
    sufficiency_policy: {
      min_main_claims: sufficiency?.min_main_claims ?? (open ? 1 : 0),
      min_evidence_refs_per_claim: sufficiency?.min_evidence_refs_per_claim ?? 1,
      must_list_uninspected_areas: sufficiency?.must_list_uninspected_areas ?? open,
      confidence_cap_if_partial_extracts:
        sufficiency?.confidence_cap_if_partial_extracts ?? (open ? 'MEDIUM' : 'LOW'),
      allow_runtime_answer_graph_closure: sufficiency?.allow_runtime_answer_graph_closure ?? open,
    },
    answer_obligations: (fields.answer_obligations ?? []).map((obligation, index) => ({
      id: obligation.id ?? `q${index + 1}`,
      question: obligation.question,
      required: obligation.required,
      source_hints: obligation.source_hints,
      source_requirements: obligation.source_requirements.map((requirement) => ({
        ...requirement,
        completeness_policy:
          requirement.completeness_policy ?? defaultCompleteness(requirement.evidence_kind),
      })),
      evidence_needed: obligation.evidence_needed,
    })),
    must_inspect: fields.must_inspect ?? [],
    // Non-open styles always collect their fixed floor first (reference §4.1).
    evidence_collection_mode: open
      ? (fields.evidence_collection_mode ?? 'agenda_guided')
      : ('prefetch_floor' as const),
    exploration_policy: open ? resolveExploration(fields.exploration_policy) : null,
    closer_model: fields.closer_model ?? null,
    fallback_closer_model: fields.fallback_closer_model ?? null,
    completion_contract: fields.completion_contract ?? null,
    max_model_calls: fields.max_model_calls ?? 25,
    max_duplicate_actions: fields.max_duplicate_actions ?? 2,
    max_broad_searches: fields.max_broad_searches ?? (tier === 'A2' ? 3 : 6),
    max_low_information_actions: fields.max_low_information_actions ?? (tier === 'A2' ? 2 : 3),
    phase_policy_enabled: fields.phase_policy_enabled,
    progress_policy_enabled: fields.progress_policy_enabled,
    owned_paths: fields.owned_paths ?? [],
    read_only_paths: fields.read_only_paths ?? [],
    max_files_changed: fields.max_files_changed,
    max_patch_bytes: fields.max_patch_bytes,
    verification_policy: {
      allowed_commands: allowedCommands,
      max_commands: verification?.max_commands ?? Math.min(allowedCommands.length, 10),
      timeout_seconds: verification?.timeout_seconds ?? 60,
      network_allowed: verification?.network_allowed ?? false,
      env_policy: verification?.env_policy ?? ('minimal' as const),
      allow_broad_suite: verification?.allow_broad_suite ?? false,
    },
    apply_mode: applyMode,
    workspace_apply_policy: workspace,
    allow_deletions: fields.allow_deletions,
    keep_worktree: fields.keep_worktree,
    max_repair_rounds: fields.max_repair_rounds,
    continues: fields.continues ?? null,
    allow_capability_downgrade: fields.allow_capability_downgrade,
    ...(fields.max_cost_usd === undefined ? {} : { max_cost_usd: fields.max_cost_usd }),
    ...(fields.max_output_tokens === undefined
      ? {}
      : { max_output_tokens: fields.max_output_tokens }),
  };
  return mission;
}

/**
 * The MissionV1 schema: parses a handoff object into a fully defaulted mission. Unknown top-level
 * keys are stripped (forward compatibility); `validateMission` reports them as warnings.
 */
export const missionV1Schema = missionObject
  .superRefine(checkMissionRules)
  .transform(finalizeMission);

export type MissionV1 = z.output<typeof missionV1Schema>;
export type MissionV1Input = z.input<typeof missionV1Schema>;
export type AnswerObligation = MissionV1['answer_obligations'][number];
export type VerificationPolicy = MissionV1['verification_policy'];

// ---------------------------------------------------------------------------------------------
// Messages for zod's built-in issues, so every problem reads `invalid_mission: <path>: <why>`
// ---------------------------------------------------------------------------------------------

const expectedNames: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a JSON object',
  array: 'a list',
  record: 'a JSON object',
};

function builtInMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined) return 'required';
      const expected = String(issue.expected);
      return `must be ${expectedNames[expected] ?? expected} (got ${describeValue(input)})`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((value) => String(value)).join(', ')} (got ${describeValue(input)})`;
    case 'too_small':
      if (issue.origin === 'array' || issue.origin === 'string') return 'must not be empty';
      return `must be at least ${String(issue.minimum)} (got ${describeValue(input)})`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${String(issue.maximum)} entries`;
      return `must be at most ${String(issue.maximum)} (got ${describeValue(input)})`;
    case 'invalid_union':
      return `does not match any accepted shape (got ${describeValue(input)})`;
    // Custom issues carry their own message; the rest do not occur in this schema.
    case 'custom':
    case 'invalid_element':
    case 'invalid_format':
    case 'invalid_key':
    case 'not_multiple_of':
    case 'unrecognized_keys':
      return undefined;
  }
}

export interface ValidatedMission {
  readonly mission: MissionV1;
  readonly warnings: string[];
}

function criticalRootWarnings(mission: MissionV1): string[] {
  if (mission.critical_path_read_allowed) return [];
  const warnings: string[] = [];
  const entries = [
    ...mission.allowed_roots.map((value) => ['allowed_roots', value] as const),
    ...mission.allowed_paths.map((value) => ['allowed_paths', value] as const),
  ];
  for (const [field, value] of entries) {
    const critical = criticalRoots.find((root) =>
      isPathInScope(value, { allowedRoots: [root], allowedPaths: [] }),
    );
    if (critical !== undefined) {
      warnings.push(
        `${field} entry ${JSON.stringify(value)} lies under the critical root ${critical}; reads there need critical_path_read_allowed with a critical_path_reason, otherwise the run escalates`,
      );
    }
  }
  return warnings;
}

/**
 * Validates a parsed handoff object. Throws MissionInputError('invalid_mission') listing every
 * problem; returns the mission plus warnings (ignored unknown keys, overridden settings).
 */
export function validateMission(input: unknown): ValidatedMission {
  const result = missionV1Schema.safeParse(input, { error: builtInMessage });
  if (!result.success) {
    const problems = result.error.issues.map((issue) =>
      invalidMissionProblem(formatIssuePath(issue.path), issue.message),
    );
    throw new MissionInputError('invalid_mission', problems);
  }
  const mission = result.data;
  const warnings: string[] = [];
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const raw = input as Record<string, unknown>;
    for (const key of Object.keys(raw)) {
      if (!missionFieldNames.includes(key)) {
        warnings.push(
          `unknown field ${JSON.stringify(key)} ignored (not part of ${missionSchemaVersion})`,
        );
      }
    }
    for (const entry of Array.isArray(raw['allowed_paths']) ? raw['allowed_paths'] : []) {
      if (typeof entry === 'string' && entry.endsWith('/')) {
        warnings.push(
          `allowed_paths entry ${JSON.stringify(entry)} ends with "/", so it is treated as a root (allowed_roots)`,
        );
      }
    }
    const requestedMode = raw['evidence_collection_mode'];
    if (
      typeof requestedMode === 'string' &&
      requestedMode.trim().toLowerCase() !== mission.evidence_collection_mode
    ) {
      warnings.push(
        `evidence_collection_mode ${JSON.stringify(requestedMode)} applies only to open_investigation; using ${mission.evidence_collection_mode}`,
      );
    }
  }
  warnings.push(...criticalRootWarnings(mission));
  return { mission, warnings };
}

/**
 * Reads a tier given as text (CLI flags, aliases) with the same rules and messages as the
 * schema's `tier` field.
 */
export function parseMissionTier(value: unknown): MissionTier {
  const result = tierField.safeParse(value, { error: builtInMessage });
  if (result.success) return result.data;
  throw new MissionInputError(
    'invalid_mission',
    result.error.issues.map((issue) => invalidMissionProblem('tier', issue.message)),
  );
}
