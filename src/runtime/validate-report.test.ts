import { describe, expect, it } from 'vitest';
import { validateMission, type MissionV1 } from '../mission/index.js';
import { validateReport, type EvidenceView } from './validate-report.js';

function mission(fields: Record<string, unknown> = {}): MissionV1 {
  return validateMission({
    schema_version: 'oss_agent_mission.v1',
    mission_id: 'validate-1',
    tier: 'A3',
    objective: 'Which port does the server use?',
    allowed_roots: ['src/'],
    allowed_tool_classes: ['read', 'search'],
    required_outputs: ['findings'],
    ...fields,
  }).mission;
}

const REF = 'file:src/config.ts#L1-L2';
const OTHER = 'file:src/server.ts#L3-L4';

function evidence(
  refs: string[] = [REF, OTHER],
  files: string[] = ['src/config.ts'],
): EvidenceView {
  const known = new Set(refs);
  return { hasRef: (ref) => known.has(ref), filesRead: new Set(files) };
}

const good = (overrides: Record<string, unknown> = {}) => ({
  status: 'COMPLETE',
  summary: 'The server listens on port 4000.',
  findings: [{ claim: 'PORT is 4000', evidence_refs: [REF] }],
  confidence: 'HIGH',
  ...overrides,
});

describe('validateReport', () => {
  it('keeps a report whose every finding cites issued refs', () => {
    const verdict = validateReport(good(), mission(), evidence());
    expect(verdict).toMatchObject({
      status: 'COMPLETE',
      reason: 'valid_report',
      reasons: [],
      summary: 'The server listens on port 4000.',
      findings: [{ claim: 'PORT is 4000', evidence_refs: [REF], obligation_id: null }],
      droppedFindings: 0,
      confidence: 'HIGH',
      escalation: 'None required; review the evidence refs.',
      repairable: [],
      caveats: [],
    });
  });

  it('a report that does not match the schema is PARTIAL and repairable', () => {
    const verdict = validateReport({ findings: 'none' }, mission(), evidence());
    expect(verdict).toMatchObject({
      status: 'PARTIAL',
      reason: 'report_invalid',
      findings: [],
      confidence: 'LOW',
      repairable: ['the report did not match the submit_report schema'],
    });
    expect(verdict.reasons[0]).toMatch(/^the report did not match the submit_report schema \(/);
  });

  it('an unknown status becomes PARTIAL and says so; case and spaces do not matter', () => {
    const odd = validateReport(good({ status: 'DONE' }), mission(), evidence());
    expect(odd.status).toBe('PARTIAL');
    expect(odd.reasons).toContain(
      `the model's status "DONE" is not one of COMPLETE, PARTIAL, ESCALATE, FAILED`,
    );
    expect(validateReport(good({ status: ' complete ' }), mission(), evidence()).status).toBe(
      'COMPLETE',
    );
    // The model's status is an upper bound: a model that says FAILED stays FAILED.
    expect(validateReport(good({ status: 'FAILED' }), mission(), evidence()).status).toBe('FAILED');
  });

  it('drops findings with no refs or unknown refs, and a COMPLETE with dropped findings is PARTIAL', () => {
    const verdict = validateReport(
      good({
        findings: [
          { claim: 'PORT is 4000', evidence_refs: [` ${REF} `, 'file:made-up.ts#L1-L1'] },
          { claim: 'no refs at all', evidence_refs: [] },
          { claim: 'invented', evidence_refs: ['cmd:99'] },
        ],
      }),
      mission(),
      evidence(),
    );
    expect(verdict.status).toBe('PARTIAL');
    expect(verdict.reason).toBe('report_downgraded');
    expect(verdict.droppedFindings).toBe(2);
    expect(verdict.findings).toEqual([
      { claim: 'PORT is 4000', evidence_refs: [REF], obligation_id: null },
    ]);
    expect(verdict.reasons).toEqual([
      'finding 1: unknown refs removed (file:made-up.ts#L1-L1)',
      'finding 2 cites no evidence; it was dropped',
      'finding 3 cites refs the run never issued (cmd:99); it was dropped',
      '2 finding(s) were unsupported, so the report cannot be COMPLETE',
    ]);
    expect(verdict.repairable).toEqual([
      'finding 2 cites no evidence',
      'finding 3 cites refs the run never issued (cmd:99)',
    ]);
    // HIGH is capped once the runtime lowered the status.
    expect(verdict.confidence).toBe('MEDIUM');
    expect(verdict.caveats).toContain(
      "The runtime downgraded the model's COMPLETE to PARTIAL: finding 1: unknown refs removed (file:made-up.ts#L1-L1).",
    );
    expect(verdict.escalation).toBe('A reviewer should check the open points.');
  });

  it('applies the sufficiency policy: refs per claim and main claims', () => {
    const strict = mission({
      sufficiency_policy: { min_evidence_refs_per_claim: 2, min_main_claims: 2 },
    });
    const oneRef = validateReport(good(), strict, evidence());
    expect(oneRef.droppedFindings).toBe(1);
    expect(oneRef.status).toBe('PARTIAL');
    expect(oneRef.reasons).toContain(
      'COMPLETE needs at least 2 finding(s) backed by evidence; 0 survived validation',
    );
    const twoRefs = validateReport(
      good({
        findings: [
          { claim: 'a', evidence_refs: [REF, OTHER] },
          { claim: 'b', evidence_refs: [OTHER, REF] },
        ],
      }),
      strict,
      evidence(),
    );
    expect(twoRefs.status).toBe('COMPLETE');
  });

  it('required outputs, must_inspect and obligations each lower COMPLETE', () => {
    const outputs = validateReport(
      good({ summary: ' ' }),
      mission({
        required_outputs: ['findings', 'summary', 'escalation_recommendation', 'files_inspected'],
      }),
      evidence([REF], []),
    );
    expect(outputs.status).toBe('PARTIAL');
    expect(outputs.reasons).toEqual(
      expect.arrayContaining([
        'required output "files_inspected" is missing',
        'required output "escalation_recommendation" is missing',
        'required output "summary" is missing',
      ]),
    );
    expect(outputs.reasons).toHaveLength(3);

    const present = validateReport(
      good({ escalation_recommendation: 'Ask the owner.', confidence: 'medium' }),
      mission({ required_outputs: ['escalation_recommendation', 'confidence', 'caveats'] }),
      evidence(),
    );
    expect(present.status).toBe('COMPLETE');
    expect(present.escalation).toBe('Ask the owner.');
    expect(present.confidence).toBe('MEDIUM');

    const inspect = mission({ must_inspect: ['src/server.ts', 'src/auth/'] });
    const missed = validateReport(good(), inspect, evidence([REF], ['src/config.ts']));
    expect(missed.reasons).toEqual([
      'must_inspect path src/server.ts was never read',
      'must_inspect path src/auth/ was never read',
    ]);
    const read = validateReport(
      good(),
      inspect,
      evidence([REF], ['src/server.ts', 'src/auth/token.ts']),
    );
    expect(read.status).toBe('COMPLETE');

    const obliged = mission({
      objective_style: 'open_investigation',
      answer_obligations: [
        { id: 'port', question: 'Which port?' },
        { id: 'host', question: 'Which host?', required: false },
      ],
    });
    const unanswered = validateReport(good(), obliged, evidence());
    expect(unanswered.status).toBe('PARTIAL');
    expect(unanswered.reasons).toEqual([
      'obligation port ("Which port?") has no finding backed by evidence',
    ]);
    expect(unanswered.repairable).toEqual(['obligation port is unanswered']);
    expect(unanswered.obligations).toEqual([
      { id: 'port', question: 'Which port?', required: true, answered: false },
      { id: 'host', question: 'Which host?', required: false, answered: false },
    ]);
    const answered = validateReport(
      good({ findings: [{ claim: 'PORT is 4000', evidence_refs: [REF], obligation_id: 'port' }] }),
      obliged,
      evidence(),
    );
    expect(answered.status).toBe('COMPLETE');
    expect(answered.obligations[0]?.answered).toBe(true);
  });

  it('absolute certainty in the summary, a claim or a caveat escalates with LOW confidence', () => {
    for (const overrides of [
      { summary: 'This is safe to merge.' },
      { findings: [{ claim: 'It is 100% correct', evidence_refs: [REF] }] },
      { caveats: ['There is no risk here.'] },
    ]) {
      const verdict = validateReport(good(overrides), mission(), evidence());
      expect(verdict.status, JSON.stringify(overrides)).toBe('ESCALATE');
      expect(verdict.reason).toBe('absolute_claim');
      expect(verdict.confidence).toBe('LOW');
    }
    // Ordinary words are not absolute claims.
    expect(
      validateReport(good({ summary: 'The config is valid and correct.' }), mission(), evidence())
        .status,
    ).toBe('COMPLETE');
  });

  it('notes files the model listed but never read, and redacts what it passes on', () => {
    const verdict = validateReport(
      good({
        files_inspected: ['./src/config.ts', { path: 'src/secret.ts' }, 'src/other/'],
        summary: 'Key is sk-live-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd in the env.',
      }),
      mission(),
      evidence(),
    );
    expect(verdict.caveats).toContain(
      'The model listed files it never read: src/secret.ts, src/other.',
    );
    expect(verdict.summary).not.toContain('sk-live-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd');
  });

  it('caps HIGH confidence on a non-COMPLETE status unless the mission allows it', () => {
    expect(validateReport(good({ status: 'PARTIAL' }), mission(), evidence()).confidence).toBe(
      'MEDIUM',
    );
    expect(
      validateReport(
        good({ status: 'PARTIAL' }),
        mission({ sufficiency_policy: { confidence_cap_if_partial_extracts: 'HIGH' } }),
        evidence(),
      ).confidence,
    ).toBe('HIGH');
    expect(validateReport(good({ confidence: 'sure' }), mission(), evidence()).confidence).toBe(
      'LOW',
    );
  });
});

describe('validateReport: the runtime only lowers, and says exactly why', () => {
  it('an unusable report keeps nothing the model sent and names the schema problem', () => {
    const verdict = validateReport(
      { findings: 'none', summary: 'It is fine.' },
      mission({
        objective_style: 'open_investigation',
        answer_obligations: [{ id: 'port', question: 'Which port?' }],
      }),
      evidence(),
    );
    expect(verdict).toEqual({
      status: 'PARTIAL',
      reason: 'report_invalid',
      reasons: [
        expect.stringMatching(/^the report did not match the submit_report schema \(.+\)$/),
      ],
      summary: '',
      findings: [],
      droppedFindings: 0,
      uncertainties: [],
      caveats: [],
      confidence: 'LOW',
      escalation: 'Review the evidence gathered so far; the model did not produce a usable report.',
      obligations: [{ id: 'port', question: 'Which port?', required: true, answered: false }],
      repairable: ['the report did not match the submit_report schema'],
    });
    expect(verdict.reasons[0]).not.toContain('(invalid)');
  });

  it('a finding needs at least one issued ref even when the mission asks for none', () => {
    const lax = mission({
      sufficiency_policy: { min_evidence_refs_per_claim: 0, min_main_claims: 0 },
    });
    const verdict = validateReport(
      good({ findings: [{ claim: 'unbacked', evidence_refs: [] }] }),
      lax,
      evidence(),
    );
    expect(verdict.findings).toEqual([]);
    expect(verdict.droppedFindings).toBe(1);
    // No finding survived, so COMPLETE is out of reach even with min_main_claims 0.
    expect(verdict.status).toBe('PARTIAL');
    expect(verdict.reasons).toContain(
      'COMPLETE needs at least 1 finding(s) backed by evidence; 0 survived validation',
    );
    expect(verdict.repairable).toEqual([
      'finding 1 cites no evidence',
      'required output "findings" is missing',
    ]);
  });

  it('names at most three unknown refs, and keeps trimmed refs and obligation ids of kept findings', () => {
    const verdict = validateReport(
      good({
        findings: [
          {
            claim: 'PORT is 4000',
            evidence_refs: [REF, 'cmd:7', 'cmd:8', 'cmd:9', 'cmd:10'],
            obligation_id: 'port',
          },
          { claim: 'invented', evidence_refs: ['cmd:1', 'cmd:2', 'cmd:3', 'cmd:4'] },
        ],
      }),
      mission(),
      evidence(),
    );
    expect(verdict.findings).toEqual([
      { claim: 'PORT is 4000', evidence_refs: [REF], obligation_id: 'port' },
    ]);
    expect(verdict.reasons.slice(0, 2)).toEqual([
      'finding 1: unknown refs removed (cmd:7, cmd:8, cmd:9)',
      'finding 2 cites refs the run never issued (cmd:1, cmd:2, cmd:3); it was dropped',
    ]);
  });

  it('a lower status is never raised: FAILED stays FAILED through an absolute claim, ESCALATE is not lowered to PARTIAL', () => {
    const failed = validateReport(
      good({ status: 'FAILED', summary: 'This is guaranteed to work.' }),
      mission(),
      evidence(),
    );
    expect(failed.status).toBe('FAILED');
    expect(failed.reason).toBe('valid_report');
    expect(failed.reasons).toEqual([
      'the report claims absolute certainty ("guaranteed"), which a read-only investigation cannot establish',
    ]);
    expect(failed.confidence).toBe('MEDIUM');

    const escalated = validateReport(
      good({ status: 'escalate', findings: [], confidence: 'medium' }),
      mission({ must_inspect: ['src/server.ts'] }),
      evidence([REF], []),
    );
    expect(escalated.status).toBe('ESCALATE');
    expect(escalated.reasons).toEqual([]);
    expect(escalated.confidence).toBe('LOW');
    expect(escalated.caveats).toEqual([]);
  });

  it('every phrase of absolute certainty escalates, quoting the phrase', () => {
    const phrases: [string, string][] = [
      ['It is safe to deploy now.', 'safe to deploy'],
      ['This is guaranteed.', 'guaranteed'],
      ['Coverage is 100 % of paths.', '100 %'],
      ['There is no risk.', 'no risk'],
      ['Zero risk here.', 'Zero risk'],
      ['This cannot possibly fail.', 'cannot possibly fail'],
      ['The parser is certified.', 'certified'],
      ['This is a complete proof.', 'complete proof'],
      ['It is definitely secure.', 'definitely secure'],
    ];
    for (const [summary, phrase] of phrases) {
      const verdict = validateReport(good({ summary }), mission(), evidence());
      expect(verdict.status, summary).toBe('ESCALATE');
      expect(verdict.reasons, summary).toEqual([
        `the report claims absolute certainty ("${phrase}"), which a read-only investigation cannot establish`,
      ]);
      expect(verdict.caveats, summary).toEqual([
        `The runtime downgraded the model's COMPLETE to ESCALATE: the report claims absolute certainty ("${phrase}"), which a read-only investigation cannot establish.`,
      ]);
    }
  });

  it('unanswered obligations lower only a COMPLETE; a PARTIAL report is not told to repair them', () => {
    const obliged = mission({
      objective_style: 'open_investigation',
      answer_obligations: [{ id: 'port', question: 'Which port?' }],
    });
    const partial = validateReport(good({ status: 'PARTIAL' }), obliged, evidence());
    expect(partial.status).toBe('PARTIAL');
    expect(partial.reasons).toEqual([]);
    expect(partial.repairable).toEqual([]);
    expect(partial.caveats).toEqual([]);
  });

  it('a missing confidence is a missing required output and reads as LOW', () => {
    const verdict = validateReport(
      good({ confidence: undefined }),
      mission({ required_outputs: ['findings', 'confidence', 'uncertainties', 'commands_run'] }),
      evidence(),
    );
    expect(verdict.status).toBe('PARTIAL');
    expect(verdict.reasons).toEqual(['required output "confidence" is missing']);
    expect(verdict.repairable).toEqual(['required output "confidence" is missing']);
    expect(verdict.confidence).toBe('LOW');
    expect(validateReport(good({ confidence: ' high ' }), mission(), evidence()).confidence).toBe(
      'HIGH',
    );
  });

  it('must_inspect paths match with or without ./ and a trailing slash, and only as whole path segments', () => {
    const inspect = mission({ must_inspect: ['./src/server.ts', 'src/auth/'] });
    const read = validateReport(good(), inspect, evidence([REF], ['src/server.ts', 'src/auth']));
    expect(read.status).toBe('COMPLETE');
    const sibling = validateReport(
      good(),
      mission({ must_inspect: ['src/auth'] }),
      evidence([REF], ['src/authz/token.ts']),
    );
    expect(sibling.reasons).toEqual(['must_inspect path src/auth was never read']);
  });

  it('a downgraded report keeps HIGH from the cap only when the model itself said PARTIAL', () => {
    const cap = { sufficiency_policy: { confidence_cap_if_partial_extracts: 'HIGH' } };
    const downgraded = validateReport(
      good({ findings: [{ claim: 'x', evidence_refs: ['cmd:99'] }] }),
      mission(cap),
      evidence(),
    );
    expect(downgraded.status).toBe('PARTIAL');
    expect(downgraded.confidence).toBe('MEDIUM');
    const said = validateReport(good({ status: 'PARTIAL' }), mission(cap), evidence());
    expect(said.confidence).toBe('HIGH');
    expect(said.escalation).toBe('A reviewer should check the open points.');
    // A model that says PARTIAL itself is not told the runtime downgraded it.
    expect(said.caveats).toEqual([]);
  });

  it('names at most five files the model listed but never read', () => {
    const listed = ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => `src/${name}.ts`);
    const verdict = validateReport(good({ files_inspected: listed }), mission(), evidence());
    expect(verdict.caveats).toEqual([
      'The model listed files it never read: src/a.ts, src/b.ts, src/c.ts, src/d.ts, src/e.ts.',
    ]);
    expect(verdict.status).toBe('COMPLETE');
  });

  it('redacts and bounds every text it passes on', () => {
    const key = `sk-${'A1b2C3d4'.repeat(4)}`;
    const verdict = validateReport(
      good({
        summary: 'x'.repeat(5000),
        findings: [{ claim: `uses ${key}`, evidence_refs: [REF] }],
        uncertainties: [`maybe ${key}`],
        caveats: [`see ${key}`],
        escalation_recommendation: `rotate ${key}`,
      }),
      mission(),
      evidence(),
    );
    expect(verdict.summary).toHaveLength(4000);
    expect(JSON.stringify(verdict)).not.toContain(key);
    expect(verdict.findings[0]?.claim).toBe('uses [REDACTED]');
    expect(verdict.uncertainties).toEqual(['maybe [REDACTED]']);
    expect(verdict.caveats).toEqual(['see [REDACTED]']);
    expect(verdict.escalation).toBe('rotate [REDACTED]');
  });
});

describe('validateReport: each rule names itself', () => {
  it('each lowering rule sets report_downgraded on its own', () => {
    const summaryOnly = { required_outputs: ['summary'] };
    const tooFew = validateReport(
      good({ findings: [{ claim: 'x', evidence_refs: [REF] }] }),
      mission({ ...summaryOnly, sufficiency_policy: { min_main_claims: 2 } }),
      evidence(),
    );
    expect([tooFew.status, tooFew.reason]).toEqual(['PARTIAL', 'report_downgraded']);
    expect(tooFew.reasons).toEqual([
      'COMPLETE needs at least 2 finding(s) backed by evidence; 1 survived validation',
    ]);

    const missing = validateReport(
      good({ summary: '' }),
      mission({ required_outputs: ['summary'] }),
      evidence(),
    );
    expect([missing.status, missing.reason]).toEqual(['PARTIAL', 'report_downgraded']);

    const unread = validateReport(
      good(),
      mission({ ...summaryOnly, must_inspect: ['src/server.ts'] }),
      evidence(),
    );
    expect([unread.status, unread.reason]).toEqual(['PARTIAL', 'report_downgraded']);

    const unanswered = validateReport(
      good(),
      mission({
        ...summaryOnly,
        objective_style: 'open_investigation',
        answer_obligations: [{ id: 'port', question: 'Which port?' }],
      }),
      evidence(),
    );
    expect([unanswered.status, unanswered.reason]).toEqual(['PARTIAL', 'report_downgraded']);
  });

  it('present outputs count as present: summary, files read, commands, a real escalation', () => {
    const verdict = validateReport(
      good({ escalation_recommendation: 'Ask the owner.' }),
      mission({
        required_outputs: [
          'findings',
          'summary',
          'files_inspected',
          'commands_run',
          'escalation_recommendation',
        ],
      }),
      evidence(),
    );
    expect(verdict.status).toBe('COMPLETE');
    expect(verdict.reasons).toEqual([]);
    const blank = validateReport(
      good({ escalation_recommendation: '   ' }),
      mission({ required_outputs: ['findings', 'escalation_recommendation'] }),
      evidence(),
    );
    expect(blank.reasons).toEqual(['required output "escalation_recommendation" is missing']);
  });

  it('an obligation is answered by any one finding that names it', () => {
    const verdict = validateReport(
      good({
        findings: [
          { claim: 'PORT is 4000', evidence_refs: [REF], obligation_id: 'port' },
          { claim: 'HOST is local', evidence_refs: [OTHER] },
        ],
      }),
      mission({
        objective_style: 'open_investigation',
        answer_obligations: [{ id: 'port', question: 'Which port?' }],
      }),
      evidence(),
    );
    expect(verdict.status).toBe('COMPLETE');
    expect(verdict.obligations[0]?.answered).toBe(true);
  });

  it('an absolute phrase is looked for in each text on its own, and its word forms count', () => {
    // The summary ends in a letter; the claim starts with the phrase.
    const split = validateReport(
      good({
        summary: 'Checked the parser',
        findings: [{ claim: 'Certified by the test suite', evidence_refs: [REF] }],
      }),
      mission(),
      evidence(),
    );
    expect(split.status).toBe('ESCALATE');
    for (const [summary, phrase] of [
      ['We guarantee it.', 'guarantee'],
      ['It cannot fail.', 'cannot fail'],
    ]) {
      const verdict = validateReport(good({ summary }), mission(), evidence());
      expect(verdict.reasons, summary).toEqual([
        `the report claims absolute certainty ("${phrase}"), which a read-only investigation cannot establish`,
      ]);
    }
  });

  it('the reason is the rule that lowered the status; a model that escalated itself keeps valid_report', () => {
    const verdict = validateReport(
      good({ status: 'ESCALATE', summary: 'There is no risk.' }),
      mission(),
      evidence(),
    );
    expect(verdict.status).toBe('ESCALATE');
    expect(verdict.reason).toBe('valid_report');
  });

  it('confidence is only ever capped, never raised', () => {
    expect(validateReport(good({ confidence: 'LOW' }), mission(), evidence()).confidence).toBe(
      'LOW',
    );
    const downgraded = validateReport(
      good({ confidence: 'low', findings: [{ claim: 'x', evidence_refs: ['cmd:99'] }] }),
      mission({ sufficiency_policy: { confidence_cap_if_partial_extracts: 'HIGH' } }),
      evidence(),
    );
    expect(downgraded.status).toBe('PARTIAL');
    expect(downgraded.confidence).toBe('LOW');
  });

  it('the downgrade caveat names COMPLETE only when the model claimed COMPLETE', () => {
    const unknown = validateReport(good({ status: 'DONE' }), mission(), evidence());
    expect(unknown.caveats).toEqual([]);
    const partial = validateReport(
      good({ status: 'PARTIAL', summary: 'There is no risk.' }),
      mission(),
      evidence(),
    );
    expect(partial.status).toBe('ESCALATE');
    expect(partial.caveats).toEqual([]);
  });
});
