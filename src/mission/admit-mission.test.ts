import { describe, expect, it } from 'vitest';
import {
  MissionInputError,
  clampMissionBudget,
  parseTaskContract,
  parseTaskContractFields,
  prepareMission,
  type PrepareMissionInput,
} from './index.js';

const deadlines = { requestDeadlineSeconds: 90, maxDeadlineSeconds: 180, reserveSeconds: 5 };

function handoff(fields: Record<string, unknown>): string {
  const mission = {
    schema_version: 'oss_agent_mission.v1',
    mission_id: 'm-admit',
    tier: 'A3',
    objective: 'Find the retry limit',
    allowed_roots: ['src/'],
    allowed_tool_classes: ['read', 'search'],
    ...fields,
  };
  return `<OSS_HANDOFF_JSON>\n${JSON.stringify(mission)}\n</OSS_HANDOFF_JSON>`;
}

function prepare(input: Partial<PrepareMissionInput> & { userTexts: string[] }) {
  return prepareMission({ ...deadlines, ...input });
}

function thrown(run: () => unknown): MissionInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MissionInputError);
    return error as MissionInputError;
  }
  throw new Error('expected a MissionInputError');
}

describe('clampMissionBudget (reference §4.4)', () => {
  it('stage 1: the request deadline fits 10 turns', () => {
    expect(
      clampMissionBudget({ tier: 'A3', toolBudget: 20, timeBudgetSeconds: 180, ...deadlines }),
    ).toEqual({
      toolBudgetRequested: 20,
      toolBudgetEffective: 10,
      timeBudgetRequestedSeconds: 180,
      timeBudgetEffectiveSeconds: 180,
      deadlineSeconds: 180,
      reductionReasons: ['request_deadline'],
    });
  });

  it('stage 1: the A2 tier cap (10 tools / 90 s)', () => {
    const budget = clampMissionBudget({
      tier: 'A2',
      toolBudget: 20,
      timeBudgetSeconds: 180,
      ...deadlines,
    });
    expect(budget.toolBudgetEffective).toBe(10);
    expect(budget.timeBudgetEffectiveSeconds).toBe(90);
    expect(budget.reductionReasons).toEqual(['tier_cap', 'request_deadline']);
  });

  it('leaves a small budget alone', () => {
    const budget = clampMissionBudget({
      tier: 'A3',
      toolBudget: 5,
      timeBudgetSeconds: 60,
      ...deadlines,
    });
    expect(budget).toMatchObject({
      toolBudgetEffective: 5,
      timeBudgetEffectiveSeconds: 60,
      deadlineSeconds: 90,
      reductionReasons: [],
    });
  });

  it('stage 2: the alias profile recomputes from the requested budget', () => {
    const budget = clampMissionBudget({
      tier: 'A3',
      toolBudget: 20,
      timeBudgetSeconds: 180,
      caps: { maxToolBudget: 14, maxTimeSeconds: 150 },
      ...deadlines,
    });
    // floor((180 - 5) / 8) = 21 turns fit the runtime deadline, so the profile's 14 binds.
    expect(budget).toMatchObject({
      toolBudgetEffective: 14,
      timeBudgetEffectiveSeconds: 150,
      deadlineSeconds: 180,
    });
    expect(budget.reductionReasons).toEqual(['request_deadline', 'model_profile']);
  });

  it('stage 2: a profile above the tier cap keeps its own cap (A6 deepseek)', () => {
    const budget = clampMissionBudget({
      tier: 'A6',
      toolBudget: 24,
      timeBudgetSeconds: 180,
      caps: { maxToolBudget: 24, maxTimeSeconds: 180 },
      ...deadlines,
    });
    expect(budget.toolBudgetEffective).toBe(21);
    expect(budget.reductionReasons).toEqual(['tier_cap', 'request_deadline']);
  });

  it('stage 2: a short max deadline limits both tools and time', () => {
    const budget = clampMissionBudget({
      tier: 'A3',
      toolBudget: 20,
      timeBudgetSeconds: 180,
      caps: { maxToolBudget: 20, maxTimeSeconds: 180 },
      requestDeadlineSeconds: 90,
      maxDeadlineSeconds: 60,
      reserveSeconds: 5,
    });
    // deadline = min(max(90, 180), 60) = 60 → floor(55 / 8) = 6 turns.
    expect(budget).toMatchObject({
      toolBudgetEffective: 6,
      timeBudgetEffectiveSeconds: 60,
      deadlineSeconds: 60,
      reductionReasons: ['request_deadline'],
    });
  });

  it('uses the estimated turn length', () => {
    const budget = clampMissionBudget({
      tier: 'A3',
      toolBudget: 20,
      timeBudgetSeconds: 90,
      estimatedTurnSeconds: 4,
      ...deadlines,
    });
    expect(budget.toolBudgetEffective).toBe(20);
    expect(budget.reductionReasons).toEqual([]);
  });

  it('always allows at least one turn', () => {
    const budget = clampMissionBudget({
      tier: 'A3',
      toolBudget: 20,
      timeBudgetSeconds: 5,
      requestDeadlineSeconds: 4,
      maxDeadlineSeconds: 180,
      reserveSeconds: 5,
    });
    expect(budget.toolBudgetEffective).toBe(1);
  });
});

describe('prepareMission', () => {
  it('admits a handoff and clamps by the alias profile', () => {
    const prepared = prepare({
      userTexts: [handoff({})],
      aliasTier: 3,
      caps: { maxToolBudget: 14, maxTimeSeconds: 150 },
    });
    expect(prepared.source).toBe('handoff');
    expect(prepared.mission.mission_id).toBe('m-admit');
    expect(prepared.budget.toolBudgetEffective).toBe(14);
    expect(prepared.budget.reductionReasons).toContain('model_profile');
    expect(prepared.warnings).toEqual([]);
    expect(prepared.siblings).toEqual({});
  });

  it('admits a block sent to a non-mission alias (no alias tier, no caps)', () => {
    const prepared = prepare({ userTexts: [handoff({ tier: 'A2' })] });
    expect(prepared.mission.tier).toBe('A2');
    expect(prepared.budget.reductionReasons).toEqual(['tier_cap', 'request_deadline']);
  });

  it('passes warnings for ignored fields through', () => {
    const prepared = prepare({ userTexts: [handoff({ extra: true })], aliasTier: 3 });
    expect(prepared.warnings).toEqual([
      'unknown field "extra" ignored (not part of oss_agent_mission.v1)',
    ]);
  });

  it('rejects a block whose tier differs from the alias', () => {
    const error = thrown(() => prepare({ userTexts: [handoff({ tier: 'A2' })], aliasTier: 3 }));
    expect(error.code).toBe('invalid_mission');
    expect(error.message).toBe(
      'invalid_mission: tier: the block says "A2" but the model alias is mission-a3-…; change the block\'s tier to "A3" or call a mission-a2-<profile> alias',
    );
  });

  it('answers missing_handoff with guidance on both forms', () => {
    const error = thrown(() =>
      prepare({ userTexts: ['Please find the retry limit.'], aliasTier: 3 }),
    );
    expect(error.code).toBe('missing_handoff');
    expect(error.message).toMatch(/^missing_handoff: /);
    expect(error.message).toContain('codex-oss mission template --tier A3');
    expect(error.message).toContain('GOAL:');
    // The guidance must not itself contain a tag a later user turn could quote.
    expect(error.message).not.toContain('<OSS_HANDOFF_JSON>');
  });

  it('passes extraction errors through', () => {
    const error = thrown(() => prepare({ userTexts: [handoff({}), handoff({})], aliasTier: 3 }));
    expect(error.code).toBe('multiple_handoff_blocks');
  });

  it('falls back to a task contract', () => {
    const prepared = prepare({
      userTexts: ['GOAL: Find the retry limit\nREAD-ONLY PATHS: src/retry.ts'],
      aliasTier: 2,
      caps: { maxToolBudget: 10, maxTimeSeconds: 90 },
    });
    expect(prepared.source).toBe('task_contract');
    expect(prepared.mission.tier).toBe('A2');
    expect(prepared.budget.toolBudgetRequested).toBe(8);
    expect(prepared.budget.toolBudgetEffective).toBe(8);
    expect(prepared.warnings[0]).toMatch(/synthesized from the plain-text task contract/);
  });
});

describe('task contract (reference §4.7)', () => {
  const contract = [
    'ROLE: scout',
    'Goal: Find where the retry limit is configured',
    '  and which callers override it.',
    'MISSION ID: retry-audit-1',
    '**READ-ONLY PATHS:** src/retry.ts, src/client/',
    '- docs/retry.md',
    '',
    'DELIVERABLE: the file and line, the callers.',
    'DO NOT TOUCH: src/generated/',
    'COMPLETION RULE: every question answered with evidence',
  ].join('\n');

  it('reads labels case-insensitively with continuation lines', () => {
    expect(parseTaskContractFields(contract)).toMatchObject({
      role: 'scout',
      goal: 'Find where the retry limit is configured\nand which callers override it.',
      mission_id: 'retry-audit-1',
      read_only_paths: 'src/retry.ts, src/client/\n- docs/retry.md',
      deliverable: 'the file and line, the callers.',
    });
  });

  it('builds an open A3 investigation with obligations from DELIVERABLE', () => {
    const mission = parseTaskContract(contract, { aliasTier: 3 });
    expect(mission).not.toBeNull();
    expect(mission).toMatchObject({
      mission_id: 'retry-audit-1',
      tier: 'A3',
      objective: 'Find where the retry limit is configured and which callers override it.',
      allowed_roots: ['src/client/'],
      allowed_paths: ['src/retry.ts', 'docs/retry.md'],
      must_inspect: ['src/retry.ts'],
      tool_budget: 14,
      time_budget_seconds: 150,
      objective_style: 'open_investigation',
      evidence_collection_mode: 'agenda_guided',
      exploration_policy: {
        after_required_floor: 'allow_model_exploration',
        min_optional_actions_after_floor: 0,
        max_optional_actions_after_floor: 1,
        require_contradiction_search: false,
      },
      completion_contract: {
        source: 'task_contract',
        role: 'scout',
        completion_rule: 'every question answered with evidence',
      },
    });
    expect(mission?.answer_obligations.map((o) => [o.id, o.question])).toEqual([
      ['q1', 'Provide the file and line.'],
      ['q2', 'Provide the callers.'],
    ]);
    expect(mission?.forbidden_roots[0]).toBe('src/generated/');
  });

  it('uses three default obligations and a generated id', () => {
    const mission = parseTaskContract('OBJECTIVE: Explain the cache\nREAD-ONLY PATHS: src/cache/', {
      aliasTier: 2,
      nowSeconds: 1_700_000_000,
    });
    expect(mission?.mission_id).toBe('native_task_1700000000');
    expect(mission?.tool_budget).toBe(8);
    expect(mission?.time_budget_seconds).toBe(90);
    expect(mission?.answer_obligations).toHaveLength(3);
  });

  it('derives the tier from TASK TYPE without an alias', () => {
    const a5 = parseTaskContract(
      [
        'GOAL: Raise the retry limit to 5',
        'TASK TYPE: implementation',
        'OWNED PATHS: src/retry.ts',
        'READ-ONLY PATHS: src/client.ts',
        'VERIFICATION STEPS: run `npm test -- retry`; then `npx tsc --noEmit`',
        'check the logs by hand',
      ].join('\n'),
    );
    expect(a5).toMatchObject({
      tier: 'A5',
      write_allowed: true,
      objective_style: 'implementation',
      owned_paths: ['src/retry.ts'],
      read_only_paths: ['src/client.ts'],
      allowed_paths: ['src/client.ts', 'src/retry.ts'],
      apply_mode: 'isolated_worktree',
      max_files_changed: 1,
    });
    expect(a5?.verification_policy.allowed_commands).toEqual([
      ['npm', 'test', '--', 'retry'],
      ['npx', 'tsc', '--noEmit'],
    ]);
    expect(a5?.answer_obligations).toEqual([]);

    const a4 = parseTaskContract('GOAL: Propose a fix\nTASK TYPE: patch\nOWNED PATHS: src/a.ts');
    expect(a4?.tier).toBe('A4');
    expect(parseTaskContract('GOAL: Look\nTASK TYPE: scout\nREAD-ONLY PATHS: src/')?.tier).toBe(
      'A3',
    );
  });

  it('returns null without a GOAL or OBJECTIVE label', () => {
    expect(parseTaskContract('ROLE: scout\nREAD-ONLY PATHS: src/')).toBeNull();
    expect(parseTaskContract('just some words about a goal')).toBeNull();
  });

  it('names what an A4 contract lacks', () => {
    const error = thrown(() =>
      parseTaskContract('GOAL: Fix it\nREAD-ONLY PATHS: src/', { aliasTier: 4 }),
    );
    expect(error.message).toBe(
      'invalid_mission: owned_paths: A4 missions need at least one owned path (the files the patch may change)',
    );
  });

  it('names a missing path for an A3 contract', () => {
    const error = thrown(() => parseTaskContract('GOAL: Look around', { aliasTier: 3 }));
    expect(error.message).toMatch(
      /^invalid_mission: allowed_roots: A3 missions need at least one entry/,
    );
  });
});
