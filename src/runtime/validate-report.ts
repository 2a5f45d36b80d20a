import type { MissionV1 } from '../mission/index.js';
import { redactSecrets } from './redact-secrets.js';
import { submittedReportSchema, type InvestigationStatus } from './model-protocol.js';

export interface EvidenceView {
  hasRef(ref: string): boolean;
  /** Paths the run actually read (the runtime's record, not the model's claim). */
  readonly filesRead: ReadonlySet<string>;
}

export interface ValidatedFinding {
  readonly claim: string;
  readonly evidence_refs: string[];
  readonly obligation_id: string | null;
}

export interface ReportVerdict {
  readonly status: InvestigationStatus;
  /** Machine-readable reason for the status (`valid_report`, `report_downgraded`, `absolute_claim`…). */
  readonly reason: string;
  /** Every rule that lowered the status, in words a user can act on. */
  readonly reasons: string[];
  readonly summary: string;
  readonly findings: ValidatedFinding[];
  readonly droppedFindings: number;
  readonly uncertainties: string[];
  readonly caveats: string[];
  readonly confidence: 'HIGH' | 'MEDIUM' | 'LOW';
  readonly escalation: string;
  readonly obligations: { id: string; question: string; required: boolean; answered: boolean }[];
  /** Problems a repair round could fix (bad refs, unanswered obligations). */
  readonly repairable: string[];
}

const rank: Record<InvestigationStatus, number> = {
  COMPLETE: 3,
  PARTIAL: 2,
  ESCALATE: 1,
  FAILED: 0,
};

/**
 * Phrases that claim a certainty no read-only investigation can earn (reference §6 "critical
 * finality"). Narrower than the original's list: "valid" or "correct" alone are ordinary words.
 */
const absoluteClaims = [
  /\bsafe to (merge|deploy|ship|release)\b/i,
  /\bguarantee[sd]?\b/i,
  /\b100 ?%/,
  /\bno risk\b/i,
  /\bzero risk\b/i,
  /\bcannot (possibly )?fail\b/i,
  /\bcertified\b/i,
  /\bcomplete proof\b/i,
  /\bdefinitely (correct|safe|secure)\b/i,
];

/**
 * Checks a submitted report against the run's ledger and the mission's rules. The model's
 * status is an upper bound: the runtime only ever lowers it, and says why.
 */
export function validateReport(
  raw: unknown,
  mission: MissionV1,
  evidence: EvidenceView,
): ReportVerdict {
  const parsed = submittedReportSchema.safeParse(raw);
  const reasons: string[] = [];
  const repairable: string[] = [];
  if (!parsed.success) {
    return {
      status: 'PARTIAL',
      reason: 'report_invalid',
      reasons: [
        `the report did not match the submit_report schema (${parsed.error.issues[0]?.message ?? 'invalid'})`,
      ],
      summary: '',
      findings: [],
      droppedFindings: 0,
      uncertainties: [],
      caveats: [],
      confidence: 'LOW',
      escalation: 'Review the evidence gathered so far; the model did not produce a usable report.',
      obligations: obligationsOf(mission, []),
      repairable: ['the report did not match the submit_report schema'],
    };
  }
  const report = parsed.data;
  const claimed = normalizeStatus(report.status);
  let status: InvestigationStatus = claimed ?? 'PARTIAL';
  let reason = 'valid_report';
  if (!claimed)
    reasons.push(
      `the model's status "${report.status}" is not one of COMPLETE, PARTIAL, ESCALATE, FAILED`,
    );

  const lower = (to: InvestigationStatus, why: string, code: string) => {
    reasons.push(why);
    if (rank[to] < rank[status]) {
      status = to;
      reason = code;
    }
  };

  const minRefs = Math.max(1, mission.sufficiency_policy.min_evidence_refs_per_claim);
  const findings: ValidatedFinding[] = [];
  let dropped = 0;
  for (const [index, finding] of report.findings.entries()) {
    const valid = finding.evidence_refs.filter((ref) => evidence.hasRef(ref.trim()));
    const invalid = finding.evidence_refs.filter((ref) => !evidence.hasRef(ref.trim()));
    if (valid.length < minRefs) {
      dropped += 1;
      const why =
        finding.evidence_refs.length === 0
          ? `finding ${index + 1} cites no evidence`
          : `finding ${index + 1} cites refs the run never issued (${invalid.slice(0, 3).join(', ')})`;
      reasons.push(`${why}; it was dropped`);
      repairable.push(why);
      continue;
    }
    if (invalid.length > 0)
      reasons.push(
        `finding ${index + 1}: unknown refs removed (${invalid.slice(0, 3).join(', ')})`,
      );
    findings.push({
      claim: clean(finding.claim),
      evidence_refs: valid.map((ref) => ref.trim()),
      obligation_id: finding.obligation_id ?? null,
    });
  }

  if (status === 'COMPLETE') {
    const minClaims = Math.max(1, mission.sufficiency_policy.min_main_claims);
    if (findings.length < minClaims) {
      lower(
        'PARTIAL',
        `COMPLETE needs at least ${minClaims} finding(s) backed by evidence; ${findings.length} survived validation`,
        'report_downgraded',
      );
    } else if (dropped > 0) {
      lower(
        'PARTIAL',
        `${dropped} finding(s) were unsupported, so the report cannot be COMPLETE`,
        'report_downgraded',
      );
    }
    for (const output of missingOutputs(mission, report, findings, evidence)) {
      lower('PARTIAL', `required output "${output}" is missing`, 'report_downgraded');
      repairable.push(`required output "${output}" is missing`);
    }
    for (const path of mission.must_inspect) {
      if (
        !evidence.filesRead.has(stripSlash(path)) &&
        ![...evidence.filesRead].some((read) => read.startsWith(`${stripSlash(path)}/`))
      ) {
        lower('PARTIAL', `must_inspect path ${path} was never read`, 'report_downgraded');
      }
    }
  }
  const obligations = obligationsOf(mission, findings);
  for (const obligation of obligations) {
    if (obligation.required && !obligation.answered && status === 'COMPLETE') {
      lower(
        'PARTIAL',
        `obligation ${obligation.id} ("${obligation.question}") has no finding backed by evidence`,
        'report_downgraded',
      );
      repairable.push(`obligation ${obligation.id} is unanswered`);
    }
  }

  const text = [
    report.summary,
    ...findings.map((finding) => finding.claim),
    ...report.caveats,
  ].join('\n');
  const absolute = absoluteClaims
    .map((pattern) => pattern.exec(text)?.[0])
    .find((match) => match !== undefined);
  if (absolute)
    lower(
      'ESCALATE',
      `the report claims absolute certainty ("${absolute}"), which a read-only investigation cannot establish`,
      'absolute_claim',
    );

  const claimedFiles = report.files_inspected.map((entry) =>
    stripSlash(typeof entry === 'string' ? entry : entry.path),
  );
  const neverRead = claimedFiles.filter((file) => !evidence.filesRead.has(file));
  const caveats = report.caveats.map(clean);
  if (neverRead.length > 0)
    caveats.push(`The model listed files it never read: ${neverRead.slice(0, 5).join(', ')}.`);

  let confidence = normalizeConfidence(report.confidence);
  if (status !== 'COMPLETE' && confidence === 'HIGH')
    confidence =
      mission.sufficiency_policy.confidence_cap_if_partial_extracts === 'HIGH' ? 'HIGH' : 'MEDIUM';
  if (reason !== 'valid_report' && confidence === 'HIGH') confidence = 'MEDIUM';
  if (status === 'ESCALATE') confidence = 'LOW';
  if (status !== 'COMPLETE' && status !== claimed && claimed === 'COMPLETE') {
    caveats.push(
      `The runtime downgraded the model's COMPLETE to ${status}: ${reasons[0] ?? 'see reasons'}.`,
    );
  }

  return {
    status,
    reason,
    reasons,
    summary: clean(report.summary),
    findings,
    droppedFindings: dropped,
    uncertainties: report.uncertainties.map(clean),
    caveats,
    confidence,
    escalation: clean(
      report.escalation_recommendation ??
        (status === 'COMPLETE'
          ? 'None required; review the evidence refs.'
          : 'A reviewer should check the open points.'),
    ),
    obligations,
    repairable: status === 'COMPLETE' ? [] : repairable,
  };
}

function obligationsOf(mission: MissionV1, findings: readonly ValidatedFinding[]) {
  return mission.answer_obligations.map((obligation) => ({
    id: obligation.id,
    question: obligation.question,
    required: obligation.required,
    answered: findings.some((finding) => finding.obligation_id === obligation.id),
  }));
}

function missingOutputs(
  mission: MissionV1,
  report: ReturnType<typeof submittedReportSchema.parse>,
  findings: readonly ValidatedFinding[],
  evidence: EvidenceView,
): string[] {
  const present: Record<string, boolean> = {
    findings: findings.length > 0,
    files_inspected: evidence.filesRead.size > 0,
    commands_run: true,
    uncertainties: Array.isArray(report.uncertainties),
    confidence: normalizeConfidence(report.confidence) !== undefined && report.confidence != null,
    caveats: Array.isArray(report.caveats),
    escalation_recommendation:
      typeof report.escalation_recommendation === 'string' &&
      report.escalation_recommendation.trim() !== '',
    summary: report.summary.trim() !== '',
  };
  return mission.required_outputs.filter((output) => present[output] === false);
}

function normalizeStatus(value: string): InvestigationStatus | undefined {
  const upper = value.trim().toUpperCase();
  return (['COMPLETE', 'PARTIAL', 'ESCALATE', 'FAILED'] as const).find(
    (status) => status === upper,
  );
}

function normalizeConfidence(value: string | null | undefined): 'HIGH' | 'MEDIUM' | 'LOW' {
  const upper = (value ?? '').trim().toUpperCase();
  return upper === 'HIGH' || upper === 'MEDIUM' ? upper : 'LOW';
}

function stripSlash(path: string): string {
  return path.replace(/^\.\//, '').replace(/\/+$/, '');
}

/** Model text reaches reports and events only after redaction, and bounded. */
function clean(text: string): string {
  return redactSecrets(text).text.slice(0, 4000);
}
