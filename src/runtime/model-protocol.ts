import { z } from 'zod';
import type { MissionV1 } from '../mission/index.js';
import type { ChatTool } from '../upstream/index.js';

export const SUBMIT_REPORT = 'submit_report';

const statusValues = ['COMPLETE', 'PARTIAL', 'ESCALATE', 'FAILED'] as const;
export type InvestigationStatus = (typeof statusValues)[number];

/** The report the model submits. Lenient on purpose: the runtime validates the substance itself. */
export const submittedReportSchema = z
  .object({
    status: z.string().default('PARTIAL'),
    summary: z.string().default(''),
    findings: z
      .array(
        z
          .object({
            claim: z.string(),
            evidence_refs: z.array(z.string()).default([]),
            obligation_id: z.string().nullish(),
            confidence: z.string().nullish(),
          })
          .loose(),
      )
      .default([]),
    files_inspected: z
      .array(z.union([z.string(), z.object({ path: z.string() }).loose()]))
      .default([]),
    uncertainties: z.array(z.string()).default([]),
    confidence: z.string().nullish(),
    caveats: z.array(z.string()).default([]),
    escalation_recommendation: z.string().nullish(),
  })
  .loose();
export type SubmittedReport = z.infer<typeof submittedReportSchema>;

export const submitReportTool: ChatTool = {
  type: 'function',
  function: {
    name: SUBMIT_REPORT,
    description:
      'Finish the mission with your report. Every finding must cite evidence refs exactly as tool results named them (file:<path>#L<a>-L<b> or cmd:<n>). The runtime checks every ref and sets the final status itself.',
    parameters: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: [...statusValues] },
        summary: { type: 'string', description: 'Two to five sentences answering the objective.' },
        findings: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              claim: { type: 'string' },
              evidence_refs: { type: 'array', items: { type: 'string' } },
              obligation_id: {
                type: 'string',
                description: 'The answer obligation this finding answers (q1, q2…), if any.',
              },
            },
            required: ['claim', 'evidence_refs'],
          },
        },
        files_inspected: { type: 'array', items: { type: 'string' } },
        uncertainties: { type: 'array', items: { type: 'string' } },
        confidence: { type: 'string', enum: ['HIGH', 'MEDIUM', 'LOW'] },
        caveats: { type: 'array', items: { type: 'string' } },
        escalation_recommendation: { type: 'string' },
      },
      required: ['status', 'summary', 'findings', 'confidence'],
    },
  },
};

export function buildSystemPrompt(
  mission: MissionV1,
  toolNames: readonly string[],
  limits: { toolBudget: number; seconds: number },
): string {
  const scope = [
    ...mission.allowed_paths.map((entry) => `file ${entry}`),
    ...mission.allowed_roots.map((entry) => `everything under ${entry}`),
  ];
  const lines = [
    `You are an investigator working for a governing runtime on mission ${mission.mission_id} (tier ${mission.tier}, ${mission.objective_style}).`,
    'The runtime owns every tool, path, budget and the final status. You propose actions by calling tools.',
    '',
    `OBJECTIVE: ${mission.objective}`,
    `SCOPE (read only): ${scope.join('; ') || 'none'}. Anything else is refused and recorded.`,
    `TOOLS: ${toolNames.join(', ')}, and ${SUBMIT_REPORT} to finish.`,
    `BUDGET: at most ${limits.toolBudget} tool calls and ${Math.round(limits.seconds)} seconds. Duplicate reads are answered from cache.`,
    '',
    'RULES:',
    '- Call tools, never answer in prose. When you need several independent reads, searches or listings, request them all in one turn: they run together and each counts against the budget. Finish with submit_report, alone in its turn, after you have seen the results it cites.',
    '- Every tool result names the evidence refs it created, like file:src/a.ts#L1-L40 or cmd:3. A finding must cite refs exactly as given; findings without valid refs are dropped and the status downgraded.',
    '- Report COMPLETE only when the objective is fully answered with evidence. Otherwise PARTIAL, with uncertainties.',
    '- Never claim certainty you cannot show ("safe to merge", "guaranteed", "100%"): such claims are escalated.',
    '- Secrets in files are replaced with [REDACTED]; do not try to recover them.',
  ];
  if (mission.answer_obligations.length > 0) {
    lines.push(
      '',
      'ANSWER OBLIGATIONS (answer each with a finding whose obligation_id is its id):',
    );
    for (const obligation of mission.answer_obligations) {
      lines.push(
        `- ${obligation.id}${obligation.required ? '' : ' (optional)'}: ${obligation.question}`,
      );
    }
  }
  if (mission.must_inspect.length > 0)
    lines.push('', `MUST INSPECT: ${mission.must_inspect.join(', ')}`);
  if (mission.required_outputs.length > 0)
    lines.push('', `REQUIRED OUTPUTS: ${mission.required_outputs.join(', ')}`);
  return lines.join('\n');
}

export type ParsedAction =
  | { readonly kind: 'tool'; readonly name: string; readonly args: unknown }
  | { readonly kind: 'report'; readonly report: unknown }
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * Models without reliable function calling answer in text. Accept exactly one JSON action, bare
 * or in one fenced block: {"tool": "...", "args": {...}}, {"action_type": "tool_call",
 * "tool_name", "arguments"}, {"action": "submit_report", "report": {...}}, or a report object.
 */
export function parseTextAction(text: string, finalName: string = SUBMIT_REPORT): ParsedAction {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'invalid', reason: 'the reply was empty' };
  const fences = [...trimmed.matchAll(/```(?:json)?\s*\n?([\s\S]*?)```/g)];
  if (fences.length > 1)
    return { kind: 'invalid', reason: 'the reply held more than one fenced block' };
  const candidate = fences.length === 1 ? (fences[0]?.[1] ?? '').trim() : trimmed;
  let value: unknown;
  try {
    value = JSON.parse(candidate);
  } catch {
    return { kind: 'invalid', reason: 'the reply was prose, not a tool call or one JSON action' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'invalid', reason: 'the JSON action must be one object' };
  }
  const action = value as Record<string, unknown>;
  const name = action['tool'] ?? action['tool_name'] ?? action['name'];
  const kind = action['action_type'] ?? action['action'] ?? action['type'];
  if (kind === 'final_report' || kind === finalName || name === finalName) {
    return {
      kind: 'report',
      report: action['report'] ?? action['arguments'] ?? action['args'] ?? action,
    };
  }
  if (typeof name === 'string') {
    return {
      kind: 'tool',
      name,
      args: action['args'] ?? action['arguments'] ?? action['parameters'] ?? {},
    };
  }
  if ('status' in action && 'findings' in action) return { kind: 'report', report: action };
  return { kind: 'invalid', reason: 'the JSON object names neither a tool nor a report' };
}

export function repairPrompt(reason: string): string {
  return `Your last reply could not be used: ${reason}. Reply with tool calls (or call ${SUBMIT_REPORT} alone to finish). No prose.`;
}

export function forcedFinalPrompt(why: string): string {
  return `${why} Call ${SUBMIT_REPORT} now with what your evidence supports; no other tool will run.`;
}

export function parseArguments(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return { __unparseable_arguments: raw.slice(0, 200) };
  }
}
