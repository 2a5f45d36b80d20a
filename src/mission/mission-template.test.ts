import { describe, expect, it } from 'vitest';
import {
  MissionInputError,
  buildMissionTemplate,
  compileMission,
  extractHandoff,
  missionTiers,
  renderHandoff,
  shellSplit,
  stableStringify,
  validateMission,
  type CompileMissionFlags,
} from './index.js';

function compileError(flags: CompileMissionFlags): MissionInputError {
  try {
    compileMission(flags);
  } catch (error) {
    expect(error).toBeInstanceOf(MissionInputError);
    return error as MissionInputError;
  }
  throw new Error('expected compileMission to throw');
}

describe('buildMissionTemplate', () => {
  it.each(missionTiers)('%s template is valid and round-trips through renderHandoff', (tier) => {
    const template = buildMissionTemplate({ tier });
    expect(template.tier).toBe(tier);
    const text = renderHandoff(template);
    expect(text.startsWith('<OSS_HANDOFF_JSON>\n{\n')).toBe(true);
    expect(text.endsWith('\n}\n</OSS_HANDOFF_JSON>')).toBe(true);
    const extracted = extractHandoff({ userTexts: [`Please run:\n${text}`] });
    expect(extracted.kind).toBe('mission');
    if (extracted.kind !== 'mission') return;
    const again = validateMission(extracted.json);
    expect(again.mission).toEqual(template);
    expect(again.warnings).toEqual([]);
  });

  it('fills placeholders and scope defaults', () => {
    const a3 = buildMissionTemplate({ tier: 'A3' });
    expect(a3).toMatchObject({
      objective: 'Describe what to find out',
      allowed_roots: ['src/'],
      allowed_paths: [],
      allowed_tool_classes: ['read', 'search', 'list', 'safe_git'],
      tool_budget: 20,
      time_budget_seconds: 180,
    });
    expect(a3.stop_conditions).toContain('critical_path_detected');
    expect(buildMissionTemplate({ tier: 'A2' })).toMatchObject({
      tool_budget: 10,
      time_budget_seconds: 90,
    });
    const a5 = buildMissionTemplate({ tier: 'A5' });
    expect(a5).toMatchObject({
      write_allowed: true,
      apply_mode: 'isolated_worktree',
      owned_paths: ['src/'],
      verification_policy: { allowed_commands: [['npm', 'test']] },
    });
  });

  it('honours options', () => {
    const mission = buildMissionTemplate({
      tier: 'A3',
      objective: 'Where is X?',
      missionId: 'tmpl-1',
      allowedPaths: ['src/x.ts'],
      riskTier: 'medium',
      toolBudget: 6,
      timeBudgetSeconds: 60,
      answerObligations: ['Where is X defined?'],
    });
    expect(mission).toMatchObject({
      mission_id: 'tmpl-1',
      objective: 'Where is X?',
      allowed_roots: [],
      allowed_paths: ['src/x.ts'],
      must_inspect: ['src/x.ts'],
      risk_tier: 'medium',
      objective_style: 'open_investigation',
      answer_obligations: [expect.objectContaining({ id: 'q1', question: 'Where is X defined?' })],
    });
    const a6 = buildMissionTemplate({
      tier: 'A6',
      ownedPaths: ['src/auth/token.ts'],
      allowedRoots: ['src/auth/'],
      verificationCommands: [['npx', 'vitest', 'run', 'src/auth']],
    });
    expect(a6.owned_paths).toEqual(['src/auth/token.ts']);
    expect(a6.verification_policy.allowed_commands).toEqual([['npx', 'vitest', 'run', 'src/auth']]);
  });

  it('renders sorted keys at every depth', () => {
    expect(stableStringify({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).toBe(
      '{\n  "a": {\n    "d": [\n      {\n        "y": 2,\n        "z": 1\n      }\n    ]\n  },\n  "b": 1\n}',
    );
  });
});

describe('compileMission', () => {
  it('compiles an A3 open investigation', () => {
    const mission = compileMission({
      objective: 'How are retries configured?',
      allowedRoots: ['src/'],
      answerObligations: ['Where is the limit?', 'Who overrides it?'],
      mustInspect: ['src/retry.ts'],
      evidenceCollectionMode: 'model_led',
      maxCostUsd: 0.5,
    });
    expect(mission).toMatchObject({
      tier: 'A3',
      objective_style: 'open_investigation',
      evidence_collection_mode: 'model_led',
      must_inspect: ['src/retry.ts'],
      max_cost_usd: 0.5,
      tool_budget: 20,
    });
    expect(mission.answer_obligations).toHaveLength(2);
  });

  it('compiles an A5 mission with shell-split verification commands', () => {
    const mission = compileMission({
      objective: 'Raise the retry limit',
      tier: 'a5',
      ownedPaths: ['src/retry.ts', 'src/retry.test.ts'],
      readOnlyPaths: ['src/client/'],
      verificationCommands: ['npx vitest run "src/retry.test.ts"', "node -e 'console.log(1)'"],
      applyMode: 'isolated',
    });
    expect(mission).toMatchObject({
      tier: 'A5',
      write_allowed: true,
      apply_mode: 'isolated_worktree',
      max_files_changed: 2,
      allowed_roots: ['src/client/'],
      allowed_paths: ['src/retry.ts', 'src/retry.test.ts'],
      read_only_paths: ['src/client/'],
      report_schema: 'implementation_report.v1',
    });
    expect(mission.verification_policy.allowed_commands).toEqual([
      ['npx', 'vitest', 'run', 'src/retry.test.ts'],
      ['node', '-e', 'console.log(1)'],
    ]);
  });

  it('carries continues and argv verification commands through to the mission', () => {
    const mission = compileMission({
      objective: 'Follow up on the earlier fix',
      tier: 'A5',
      ownedPaths: ['src/retry.ts'],
      verificationCommands: ['npm test'],
      verificationArgv: [['node', '--test', 'a b.mjs']],
      continues: 'mcp-earlier-1',
    });
    expect(mission.continues).toBe('mcp-earlier-1');
    expect(mission.verification_policy.allowed_commands).toEqual([
      ['npm', 'test'],
      ['node', '--test', 'a b.mjs'],
    ]);
    expect(compileMission({ objective: 'x', allowedRoots: ['src/'] }).continues).toBeNull();
  });

  it('requires an objective', () => {
    expect(compileError({ allowedRoots: ['src/'] }).message).toBe(
      'invalid_mission: objective: required: pass --objective "<what to find out or change>"',
    );
  });

  it('rejects a tier outside A2–A6', () => {
    expect(compileError({ objective: 'x', tier: 'A0', allowedRoots: ['src/'] }).message).toMatch(
      /^invalid_mission: tier: A0 is not served: only A2–A6/,
    );
    expect(compileError({ objective: 'x', tier: 'B3', allowedRoots: ['src/'] }).message).toBe(
      'invalid_mission: tier: must be one of A2, A3, A4, A5, A6 (got "B3")',
    );
  });

  it('needs a root or path', () => {
    expect(compileError({ objective: 'x' }).message).toMatch(
      /^invalid_mission: allowed_roots: A3 missions need at least one entry/,
    );
  });

  it('reports an unterminated quote in a verification command', () => {
    expect(
      compileError({
        objective: 'x',
        tier: 'A5',
        ownedPaths: ['src/a.ts'],
        verificationCommands: ['npm test', 'npx "vitest run'],
      }).message,
    ).toBe(
      'invalid_mission: verification_policy.allowed_commands[1]: "npx \\"vitest run" has an unterminated " quote',
    );
  });
});

describe('shellSplit', () => {
  it.each([
    ['npm test', ['npm', 'test']],
    ['  npx   vitest  run ', ['npx', 'vitest', 'run']],
    ['grep -e \'a b\' "c \\"d\\""', ['grep', '-e', 'a b', 'c "d"']],
    ['echo a\\ b $HOME', ['echo', 'a b', '$HOME']],
    ["node -e ''", ['node', '-e', '']],
  ])('%s', (line, argv) => {
    expect(shellSplit(line)).toEqual(argv);
  });

  it('throws on an unterminated quote', () => {
    expect(() => shellSplit("echo 'x")).toThrow("unterminated ' quote");
  });
});
