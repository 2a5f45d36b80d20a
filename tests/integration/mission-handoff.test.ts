import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCatalogue } from '../../src/errors/index.js';
import {
  buildMissionTemplate,
  compileMission,
  containsHandoff,
  missionTiers,
  prepareMission,
  renderHandoff,
  validateHandoffText,
} from '../../src/mission/index.js';

// The mission domain as its callers use it: the HTTP layer (containsHandoff, prepareMission on
// user texts only) and the CLI (template/compile → file → validate-handoff).

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mission-handoff-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CLI path: template → file → validate-handoff', () => {
  it.each(missionTiers)('a written %s template validates for its own alias tier', async (tier) => {
    const file = join(dir, `${tier}.txt`);
    await writeFile(
      file,
      `Mission for the scout:\n\n${renderHandoff(buildMissionTemplate({ tier }))}\n`,
    );
    const result = validateHandoffText(await readFile(file, 'utf8'), {
      aliasTier: Number(tier.slice(1)),
    });
    expect(result.valid).toBe(true);
    if (result.valid) {
      expect(result.mission.tier).toBe(tier);
      expect(result.warnings).toEqual([]);
    }
  });

  it('a compiled mission validates and a wrong alias tier is named', () => {
    const text = renderHandoff(
      compileMission({ objective: 'Propose a fix', tier: 'A4', ownedPaths: ['src/retry.ts'] }),
    );
    expect(validateHandoffText(text, { aliasTier: 4 }).valid).toBe(true);
    const wrong = validateHandoffText(text, { aliasTier: 3 });
    expect(wrong).toMatchObject({ valid: false, code: 'invalid_mission' });
    if (!wrong.valid) expect(wrong.message).toMatch(/^invalid_mission: tier: the block says "A4"/);
  });

  it('a file with every schema problem lists them all', () => {
    const text = [
      '<OSS_HANDOFF_JSON>',
      JSON.stringify({
        schema_version: 'oss_agent_mission.v1',
        tier: 'A3',
        objective: '',
        allowed_roots: ['src/'],
        allowed_tool_classes: ['read', 'exec'],
        time_budget_seconds: 7200,
      }),
      '</OSS_HANDOFF_JSON>',
    ].join('\n');
    const result = validateHandoffText(text);
    expect(result).toEqual({
      valid: false,
      code: 'invalid_mission',
      message:
        'invalid_mission: objective: must not be empty: say what the mission must find out or change',
      problems: [
        'invalid_mission: objective: must not be empty: say what the mission must find out or change',
        'invalid_mission: time_budget_seconds: abusive budget: at most 3600 seconds (got 7200)',
        'invalid_mission: allowed_tool_classes[1]: unknown tool class "exec"; allowed: read, search, list, safe_git',
      ],
    });
  });

  it.each([
    ['no block and no contract', 'just prose', 'missing_handoff'],
    [
      'two blocks',
      `${renderHandoff(buildMissionTemplate({ tier: 'A3' }))}\n${renderHandoff(buildMissionTemplate({ tier: 'A3' }))}`,
      'multiple_handoff_blocks',
    ],
    [
      'malformed JSON',
      '<OSS_HANDOFF_JSON>{"tier": "A3",}</OSS_HANDOFF_JSON>',
      'malformed_handoff_json',
    ],
  ])('%s → %s (a catalogue code)', (_name, text, code) => {
    const result = validateHandoffText(text);
    expect(result).toMatchObject({ valid: false, code });
    expect(Object.keys(errorCatalogue)).toContain(code);
  });
});

describe('HTTP path: user texts only', () => {
  const agentsMdExample = `AGENTS.md says: send missions like\n${renderHandoff(buildMissionTemplate({ tier: 'A2' }))}`;

  it('a developer-message example neither routes nor breaks a mission', () => {
    // The HTTP layer separates roles; only user texts reach the mission domain.
    const developerTexts = [agentsMdExample];
    const userTexts = [
      renderHandoff(
        compileMission({ objective: 'Find X', tier: 'A3', allowedPaths: ['src/x.ts'] }),
      ),
    ];
    expect(containsHandoff(developerTexts)).toBe(true);
    expect(containsHandoff(['Hello, what does src/x.ts do?'])).toBe(false);

    const prepared = prepareMission({
      userTexts,
      aliasTier: 3,
      caps: { maxToolBudget: 20, maxTimeSeconds: 180 },
      requestDeadlineSeconds: 90,
      maxDeadlineSeconds: 180,
      reserveSeconds: 5,
    });
    expect(prepared.source).toBe('handoff');
    expect(prepared.mission.allowed_paths).toEqual(['src/x.ts']);
    expect(prepared.budget).toEqual({
      toolBudgetRequested: 20,
      toolBudgetEffective: 20,
      timeBudgetRequestedSeconds: 180,
      timeBudgetEffectiveSeconds: 180,
      deadlineSeconds: 180,
      reductionReasons: ['request_deadline'],
    });
  });

  it('a sibling patch proposal travels with an A4 mission', () => {
    const mission = compileMission({ objective: 'Fix X', tier: 'A4', ownedPaths: ['src/x.ts'] });
    const text = `${renderHandoff(mission)}\n<OSS_PATCH_PROPOSAL_JSON>\n{"edits":[]}\n</OSS_PATCH_PROPOSAL_JSON>`;
    const prepared = prepareMission({
      userTexts: [text],
      aliasTier: 4,
      requestDeadlineSeconds: 90,
      maxDeadlineSeconds: 180,
      reserveSeconds: 5,
    });
    expect(prepared.siblings).toEqual({ OSS_PATCH_PROPOSAL_JSON: '{"edits":[]}' });
  });
});
