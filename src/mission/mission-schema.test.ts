import { describe, expect, it } from 'vitest';
import { BridgeError } from '../errors/index.js';
import { MissionInputError, defaultDenyRoots, validateMission, type MissionTier } from './index.js';

function base(
  tier: MissionTier = 'A3',
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const mission: Record<string, unknown> = {
    schema_version: 'oss_agent_mission.v1',
    mission_id: 'm1',
    tier,
    objective: 'Find where the retry limit is set',
    allowed_roots: ['src/'],
    allowed_tool_classes: ['read', 'search', 'list'],
  };
  if (tier === 'A4' || tier === 'A5' || tier === 'A6') mission['owned_paths'] = ['src/retry.ts'];
  if (tier === 'A5' || tier === 'A6') mission['write_allowed'] = true;
  return { ...mission, ...extra };
}

/** The thrown MissionInputError (fails the test when validation passes). */
function rejection(input: unknown): MissionInputError {
  try {
    validateMission(input);
  } catch (error) {
    expect(error).toBeInstanceOf(MissionInputError);
    return error as MissionInputError;
  }
  throw new Error('expected validateMission to throw');
}

describe('MissionV1 schema: defaults', () => {
  it('fills every default for a minimal A3 block', () => {
    const { mission, warnings } = validateMission(base('A3', { mission_id: '' }));
    expect(mission.mission_id).toMatch(/^mission_[0-9a-f]{12}$/);
    expect(mission).toMatchObject({
      tier: 'A3',
      mode: 'managed_investigation',
      risk_tier: 'low',
      write_allowed: false,
      tool_budget: 20,
      time_budget_seconds: 180,
      max_files_to_inspect: 20,
      max_total_observation_bytes: 500_000,
      stop_conditions: ['valid_report', 'budget_exhausted', 'deadline_reached'],
      report_schema: 'managed_investigation_report.v1',
      objective_style: 'deterministic_lookup',
      evidence_collection_mode: 'prefetch_floor',
      exploration_policy: null,
      max_model_calls: 25,
      max_duplicate_actions: 2,
      max_broad_searches: 6,
      max_low_information_actions: 3,
      apply_mode: 'none',
      critical_path_reason: null,
      sufficiency_policy: {
        min_main_claims: 0,
        min_evidence_refs_per_claim: 1,
        must_list_uninspected_areas: false,
        confidence_cap_if_partial_extracts: 'LOW',
        allow_runtime_answer_graph_closure: false,
      },
    });
    expect(mission.required_outputs).toContain('escalation_recommendation');
    expect(mission.forbidden_roots).toEqual([...defaultDenyRoots]);
    expect(mission.allow_capability_downgrade).toBe(false);
    expect(mission).not.toHaveProperty('max_cost_usd');
    expect(warnings).toEqual([]);
  });

  it('uses the A2 autonomy defaults', () => {
    const { mission } = validateMission(base('A2'));
    expect(mission.mode).toBe('guided_exploration');
    expect(mission.max_broad_searches).toBe(3);
    expect(mission.max_low_information_actions).toBe(2);
  });

  it('uses implementation defaults for A4–A6', () => {
    const a4 = validateMission(base('A4')).mission;
    expect(a4).toMatchObject({
      mode: 'patch_proposal',
      objective_style: 'implementation',
      report_schema: 'patch_validation_report.v1',
      apply_mode: 'none',
      max_files_changed: 1,
      max_patch_bytes: 12_000,
    });
    expect(a4.required_outputs).toEqual([
      'patch',
      'changed_files',
      'risk_assessment',
      'verification_plan',
      'evidence_refs',
    ]);
    const a5 = validateMission(base('A5')).mission;
    expect(a5).toMatchObject({
      mode: 'bounded_implementation',
      write_allowed: true,
      apply_mode: 'isolated_worktree',
      report_schema: 'implementation_report.v1',
    });
    expect(validateMission(base('A6')).mission.mode).toBe('critical_implementation');
  });

  it('uppercases the tier and accepts comma strings for lists', () => {
    const { mission } = validateMission(
      base('A3', {
        tier: ' a3 ',
        allowed_roots: 'src/, docs/,',
        allowed_paths: 'README.md',
        allowed_tool_classes: 'read, search, read',
        forbidden_roots: 'build/',
        must_inspect: 'src/a.ts',
      }),
    );
    expect(mission.tier).toBe('A3');
    expect(mission.allowed_roots).toEqual(['src/', 'docs/']);
    expect(mission.allowed_paths).toEqual(['README.md']);
    expect(mission.allowed_tool_classes).toEqual(['read', 'search']);
    expect(mission.forbidden_roots).toEqual(['build/', ...defaultDenyRoots]);
    expect(mission.must_inspect).toEqual(['src/a.ts']);
  });

  it('keeps the deny list when the mission repeats part of it', () => {
    const { mission } = validateMission(base('A3', { forbidden_roots: ['.git/', 'dist/'] }));
    expect(mission.forbidden_roots).toEqual([
      '.git/',
      'dist/',
      ...defaultDenyRoots.filter((r) => r !== '.git/'),
    ]);
  });

  it('normalizes open-investigation obligations and fills their defaults', () => {
    const { mission } = validateMission(
      base('A3', {
        objective_style: 'open_investigation',
        answer_obligations: [
          'Where is the retry limit set?',
          {
            question: 'Which callers override it?',
            source_hints: ['src/client/'],
            source_requirements: [
              'src/retry.ts',
              {
                path: 'src/policy.ts',
                evidence_kind: 'security_review',
                shape_match_policy: 'any',
              },
              { path: 'src/none.ts', evidence_kind: 'negative_proof' },
            ],
            evidence_needed: ['call sites'],
          },
          { id: 'custom', question: 'Is it documented?', required: false },
        ],
      }),
    );
    expect(mission.evidence_collection_mode).toBe('agenda_guided');
    expect(mission.exploration_policy).toEqual({
      after_required_floor: 'allow_model_exploration',
      min_optional_actions_after_floor: 1,
      max_optional_actions_after_floor: 4,
      require_contradiction_search: true,
    });
    expect(mission.sufficiency_policy.confidence_cap_if_partial_extracts).toBe('MEDIUM');
    const [first, second, third] = mission.answer_obligations;
    expect(first).toEqual({
      id: 'q1',
      question: 'Where is the retry limit set?',
      required: true,
      source_hints: [],
      source_requirements: [],
      evidence_needed: [],
    });
    expect(second?.id).toBe('q2');
    expect(second?.source_requirements).toEqual([
      {
        path: 'src/retry.ts',
        evidence_kind: 'source_read',
        required: true,
        prefetch: true,
        required_shapes: [],
        contradiction_markers: [],
        completeness_policy: 'shape_sufficient',
        shape_match_policy: 'all',
        evidence_plane: 'file_content',
      },
      expect.objectContaining({
        path: 'src/policy.ts',
        completeness_policy: 'whole_file_required',
        shape_match_policy: 'any',
      }),
      expect.objectContaining({ completeness_policy: 'negative_proof_required' }),
    ]);
    expect(third).toMatchObject({ id: 'custom', required: false });
  });

  it('close_immediately changes the exploration defaults', () => {
    const { mission } = validateMission(
      base('A3', {
        objective_style: 'open_investigation',
        exploration_policy: { after_required_floor: 'close_immediately' },
      }),
    );
    expect(mission.exploration_policy).toEqual({
      after_required_floor: 'close_immediately',
      min_optional_actions_after_floor: 0,
      max_optional_actions_after_floor: 4,
      require_contradiction_search: false,
    });
  });

  it('keeps max_cost_usd and max_output_tokens', () => {
    const { mission } = validateMission(
      base('A3', { max_cost_usd: 0.25, max_output_tokens: 4000 }),
    );
    expect(mission.max_cost_usd).toBe(0.25);
    expect(mission.max_output_tokens).toBe(4000);
  });

  it('fills the verification policy defaults for A5', () => {
    const { mission } = validateMission(
      base('A5', {
        verification_policy: {
          allowed_commands: [
            ['npm', 'test'],
            ['npx', 'tsc'],
          ],
        },
      }),
    );
    expect(mission.verification_policy).toEqual({
      allowed_commands: [
        ['npm', 'test'],
        ['npx', 'tsc'],
      ],
      max_commands: 2,
      timeout_seconds: 60,
      network_allowed: false,
      env_policy: 'minimal',
      allow_broad_suite: false,
    });
  });

  it('drops unknown top-level keys with a warning instead of failing', () => {
    const { mission, warnings } = validateMission(base('A3', { future_field: 1, notes: 'x' }));
    expect(mission).not.toHaveProperty('future_field');
    expect(warnings).toEqual([
      'unknown field "future_field" ignored (not part of oss_agent_mission.v1)',
      'unknown field "notes" ignored (not part of oss_agent_mission.v1)',
    ]);
  });

  it('warns when a non-open style asks for another evidence mode', () => {
    const { mission, warnings } = validateMission(
      base('A3', { evidence_collection_mode: 'model_led' }),
    );
    expect(mission.evidence_collection_mode).toBe('prefetch_floor');
    expect(warnings[0]).toMatch(
      /evidence_collection_mode "model_led" applies only to open_investigation/,
    );
  });

  it('warns when the scope lies under a critical root without permission', () => {
    const { warnings } = validateMission(base('A3', { allowed_roots: ['src/auth/login/'] }));
    expect(warnings[0]).toMatch(/critical root src\/auth\//);
  });
});

describe('MissionV1 schema: one test per rule', () => {
  const cases: [string, unknown, string][] = [
    [
      'wrong schema_version',
      base('A3', { schema_version: 'oss_agent_mission.v2' }),
      'invalid_mission: schema_version: must be "oss_agent_mission.v1" (got "oss_agent_mission.v2")',
    ],
    [
      'missing schema_version',
      { ...base('A3'), schema_version: undefined },
      'invalid_mission: schema_version: required: must be "oss_agent_mission.v1"',
    ],
    [
      'bad tier',
      base('A3', { tier: 'A9' }),
      'invalid_mission: tier: must be one of A2, A3, A4, A5, A6 (got "A9")',
    ],
    [
      'A0/A1 out of scope',
      base('A3', { tier: 'A1' }),
      'invalid_mission: tier: A1 is not served: only A2–A6 missions run in the managed lane (send A1 work to a raw model alias instead)',
    ],
    [
      'mode mismatch',
      base('A3', { mode: 'patch_proposal' }),
      'invalid_mission: mode: must be "managed_investigation" for tier A3 (got "patch_proposal"); omit mode to derive it from the tier',
    ],
    [
      'empty objective',
      base('A3', { objective: '   ' }),
      'invalid_mission: objective: must not be empty: say what the mission must find out or change',
    ],
    [
      'missing objective',
      { ...base('A3'), objective: undefined },
      'invalid_mission: objective: required: say what the mission must find out or change',
    ],
    [
      'bad risk_tier (no silent coercion)',
      base('A3', { risk_tier: 'high' }),
      'invalid_mission: risk_tier: must be one of low, medium, critical (got "high")',
    ],
    [
      'write_allowed for A3',
      base('A3', { write_allowed: true }),
      'invalid_mission: write_allowed: must be false for A3: only A5/A6 missions write (use A5 for changes)',
    ],
    [
      'write_allowed missing for A5',
      { ...base('A5'), write_allowed: undefined },
      'invalid_mission: write_allowed: must be true for A5: implementation tiers need explicit write consent (got nothing)',
    ],
    [
      'missing roots and paths',
      { ...base('A3'), allowed_roots: [] },
      'invalid_mission: allowed_roots: A3 missions need at least one entry in allowed_roots or allowed_paths (e.g. "allowed_roots": ["src/"])',
    ],
    [
      'path escaping the project',
      base('A3', { allowed_paths: ['src/../../etc/passwd'] }),
      'invalid_mission: allowed_paths[0]: must stay inside the project: ".." segments are not allowed (got "src/../../etc/passwd")',
    ],
    [
      'missing tool classes',
      { ...base('A3'), allowed_tool_classes: undefined },
      'invalid_mission: allowed_tool_classes: required: list the tool classes the mission may use (read, search, list, safe_git)',
    ],
    [
      'empty tool classes',
      base('A3', { allowed_tool_classes: [] }),
      'invalid_mission: allowed_tool_classes: must not be empty: list at least one of read, search, list, safe_git',
    ],
    [
      'unknown tool class',
      base('A3', { allowed_tool_classes: ['read', 'shell'] }),
      'invalid_mission: allowed_tool_classes[1]: unknown tool class "shell"; allowed: read, search, list, safe_git',
    ],
    [
      'abusive tool budget',
      base('A3', { tool_budget: 1001 }),
      'invalid_mission: tool_budget: abusive budget: at most 1000 tool calls (got 1001)',
    ],
    [
      'abusive time budget',
      base('A3', { time_budget_seconds: 3601 }),
      'invalid_mission: time_budget_seconds: abusive budget: at most 3600 seconds (got 3601)',
    ],
    [
      'fractional tool budget',
      base('A3', { tool_budget: 2.5 }),
      'invalid_mission: tool_budget: must be an integer (got 2.5)',
    ],
    [
      'empty required_outputs',
      base('A3', { required_outputs: [] }),
      'invalid_mission: required_outputs: must not be empty: omit it to use the tier default',
    ],
    [
      'answer_obligations without open style',
      base('A3', { answer_obligations: ['Where?'] }),
      'invalid_mission: answer_obligations: allowed only with objective_style "open_investigation" (got "deterministic_lookup")',
    ],
    [
      'obligation without a question',
      base('A3', { objective_style: 'open_investigation', answer_obligations: [{ id: 'x' }] }),
      'invalid_mission: answer_obligations[0].question: required: each obligation needs a question',
    ],
    [
      'duplicate obligation ids',
      base('A3', {
        objective_style: 'open_investigation',
        answer_obligations: ['first', { id: 'q1', question: 'second' }],
      }),
      'invalid_mission: answer_obligations[1].id: duplicate id "q1" (also answer_obligations[0])',
    ],
    [
      'exploration min > max',
      base('A3', {
        objective_style: 'open_investigation',
        exploration_policy: {
          min_optional_actions_after_floor: 3,
          max_optional_actions_after_floor: 2,
        },
      }),
      'invalid_mission: exploration_policy.min_optional_actions_after_floor: must be ≤ max_optional_actions_after_floor (3 > 2)',
    ],
    [
      'exploration policy without open style',
      base('A3', { exploration_policy: { max_optional_actions_after_floor: 2 } }),
      'invalid_mission: exploration_policy: allowed only with objective_style "open_investigation" (got "deterministic_lookup")',
    ],
    [
      'implementation style on A3',
      base('A3', { objective_style: 'implementation' }),
      'invalid_mission: objective_style: "implementation" is only for A4–A6; use "deterministic_lookup" or "open_investigation" for A3',
    ],
    [
      'bad objective_style',
      base('A3', { objective_style: 'vibes' }),
      'invalid_mission: objective_style: must be one of deterministic_lookup, open_investigation, implementation (got "vibes")',
    ],
    [
      'bad objective_spec',
      base('A3', {
        objective_spec: { schema_version: 'objective_spec.v1', objective_type: 'guess' },
      }),
      'invalid_mission: objective_spec.objective_type: must be one of mapping_lookup, config_value_extraction, function_location, zero_match_evidence, implementation_site_discovery, usage_location, control_flow_trace, policy_rule_location, test_coverage_location, implementation_test_only, documentation_patch, implementation_patch, critical_path_patch (got "guess")',
    ],
    [
      'A3 without heuristic objective or spec',
      base('A3', { allow_heuristic_objective: false }),
      'invalid_mission: objective_spec: required for A3 when allow_heuristic_objective is false: give an objective_spec.v1 or allow the heuristic objective',
    ],
    [
      'bad sufficiency confidence cap',
      base('A3', { sufficiency_policy: { confidence_cap_if_partial_extracts: 'certain' } }),
      'invalid_mission: sufficiency_policy.confidence_cap_if_partial_extracts: must be one of LOW, MEDIUM, HIGH (got "CERTAIN")',
    ],
    [
      'adaptive autonomy out of range',
      base('A3', { max_model_calls: 101 }),
      'invalid_mission: max_model_calls: must be between 0 and 100 (got 101)',
    ],
    [
      'critical read without reason',
      base('A3', { critical_path_read_allowed: true }),
      'invalid_mission: critical_path_reason: required when critical_path_read_allowed is true: say why the mission must read critical paths',
    ],
    [
      'critical write on a read tier',
      base('A4', { critical_path_write_allowed: true, critical_path_reason: 'x' }),
      'invalid_mission: critical_path_write_allowed: must be false for A4: only A5/A6 missions write',
    ],
    [
      'must_inspect outside scope',
      base('A3', { must_inspect: ['lib/x.ts'] }),
      'invalid_mission: must_inspect[0]: "lib/x.ts" is outside allowed_roots/allowed_paths, so the mission could never inspect it',
    ],
    [
      'A4 without owned_paths',
      { ...base('A4'), owned_paths: [] },
      'invalid_mission: owned_paths: A4 missions need at least one owned path (the files the patch may change)',
    ],
    [
      'owned_paths on A3',
      base('A3', { owned_paths: ['src/a.ts'] }),
      'invalid_mission: owned_paths: only A4–A6 missions own paths; remove owned_paths or use tier A4+',
    ],
    [
      'max_files_changed out of range',
      base('A4', { max_files_changed: 21 }),
      'invalid_mission: max_files_changed: must be between 1 and 20 (got 21)',
    ],
    [
      'max_patch_bytes out of range',
      base('A4', { max_patch_bytes: 0 }),
      'invalid_mission: max_patch_bytes: must be between 1 and 250000 (got 0)',
    ],
    [
      'apply_mode on A4',
      base('A4', { apply_mode: 'isolated_worktree' }),
      'invalid_mission: apply_mode: must be one of none for A4 (got "isolated_worktree")',
    ],
    [
      'unknown apply_mode on A5',
      base('A5', { apply_mode: 'yolo' }),
      'invalid_mission: apply_mode: must be one of isolated_worktree, temp_project for A5 (got "yolo")',
    ],
    [
      'workspace apply_mode on A6',
      base('A6', { apply_mode: 'critical_workspace_certified' }),
      'invalid_mission: apply_mode: "critical_workspace_certified" is not served: A6 applies only in isolation (isolated_worktree, temp_project); the main workspace changes only through codex-oss promote',
    ],
    [
      'verification command as a string',
      base('A5', { verification_policy: { allowed_commands: ['npm test'] } }),
      'invalid_mission: verification_policy.allowed_commands[0]: must be an argv array of strings such as ["npm", "test"] (got "npm test")',
    ],
    [
      'empty verification command',
      base('A5', { verification_policy: { allowed_commands: [[]] } }),
      'invalid_mission: verification_policy.allowed_commands[0]: must not be an empty argv array',
    ],
    [
      'verification through a shell',
      base('A5', { verification_policy: { allowed_commands: [['/bin/bash', '-c', 'npm test']] } }),
      'invalid_mission: verification_policy.allowed_commands[0]: runs a shell ("/bin/bash"); verification commands are argv arrays executed without a shell, so call the program directly',
    ],
    [
      'verification timeout out of range',
      base('A5', {
        verification_policy: { allowed_commands: [['npm', 'test']], timeout_seconds: 601 },
      }),
      'invalid_mission: verification_policy.timeout_seconds: must be between 1 and 600 (got 601)',
    ],
    [
      'verification commands on A3',
      base('A3', { verification_policy: { allowed_commands: [['npm', 'test']] } }),
      'invalid_mission: verification_policy.allowed_commands: only A4–A6 missions run verification commands',
    ],
    [
      'unsafe mission_id',
      base('A3', { mission_id: '../escape' }),
      'invalid_mission: mission_id: must be 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit, because it names the mission\'s directory (got "../escape")',
    ],
    [
      'negative max_cost_usd',
      base('A3', { max_cost_usd: -1 }),
      'invalid_mission: max_cost_usd: must be a positive number of US dollars (got -1)',
    ],
    [
      'fractional max_output_tokens',
      base('A3', { max_output_tokens: 1.5 }),
      'invalid_mission: max_output_tokens: must be an integer (got 1.5)',
    ],
    ['not an object', ['a'], 'invalid_mission: mission: must be a JSON object (got an array)'],
  ];

  it.each(cases)('%s', (_name, input, message) => {
    const error = rejection(input);
    expect(error.code).toBe('invalid_mission');
    expect(error.message).toBe(message);
    expect(error.problems[0]).toBe(message);
  });

  it('is a BridgeError with the catalogue code and status', () => {
    const error = rejection(base('A3', { tier: 'A9' }));
    expect(error).toBeInstanceOf(BridgeError);
    expect(error.httpStatus).toBe(400);
    expect(error.type).toBe('mission_error');
  });

  it('reports every field problem, the first in message', () => {
    const error = rejection(
      base('A3', {
        tier: 'A9',
        objective: '',
        allowed_tool_classes: ['read', 'shell'],
        tool_budget: 5000,
      }),
    );
    expect(error.message).toBe(
      'invalid_mission: tier: must be one of A2, A3, A4, A5, A6 (got "A9")',
    );
    expect(error.problems).toEqual([
      'invalid_mission: tier: must be one of A2, A3, A4, A5, A6 (got "A9")',
      'invalid_mission: objective: must not be empty: say what the mission must find out or change',
      'invalid_mission: tool_budget: abusive budget: at most 1000 tool calls (got 5000)',
      'invalid_mission: allowed_tool_classes[1]: unknown tool class "shell"; allowed: read, search, list, safe_git',
    ]);
  });

  it('reports every cross-field problem together', () => {
    const error = rejection(
      base('A3', { mode: 'patch_proposal', write_allowed: true, owned_paths: ['x'] }),
    );
    expect(error.problems).toHaveLength(3);
    expect(error.problems.map((problem) => problem.split(':')[1]?.trim())).toEqual([
      'mode',
      'write_allowed',
      'owned_paths',
    ]);
  });

  it('accepts risk_tier case-insensitively and a critical read with a reason', () => {
    const { mission } = validateMission(
      base('A3', {
        risk_tier: 'MEDIUM',
        critical_path_read_allowed: true,
        critical_path_reason: 'auth flow question',
      }),
    );
    expect(mission.risk_tier).toBe('medium');
    expect(mission.critical_path_reason).toBe('auth flow question');
  });
});

describe('allowed_paths with a trailing slash', () => {
  it('is read as a root, with a warning', () => {
    const { mission, warnings } = validateMission({
      schema_version: 'oss_agent_mission.v1',
      tier: 'A3',
      objective: 'x',
      allowed_paths: ['src/', 'README.md'],
      allowed_tool_classes: ['read'],
      required_outputs: ['findings'],
    });
    expect(mission.allowed_roots).toEqual(['src/']);
    expect(mission.allowed_paths).toEqual(['README.md']);
    expect(warnings.some((warning) => warning.includes('"src/" ends with "/"'))).toBe(true);
  });
});
