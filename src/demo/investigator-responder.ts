import { conversation, toolNames, toolResults } from './mock-request.js';
import { reply, type ReplyBuilder } from './mock-reply.js';
import type { RecordedRequest } from './mock-types.js';

interface Brief {
  readonly objective: string;
  readonly allowedRoots: string[];
  readonly allowedPaths: string[];
  readonly obligations: { id: string; question: string }[];
}

/**
 * The demo model server's "investigator": a deterministic stand-in for an open model that plays a
 * mission the way a careful model would. It lists the scope, pokes at a file it should not read
 * (so the demo shows the runtime refusing), searches for the objective's key term, reads the best
 * hit and submits a report citing only refs the runtime issued. Everything it knows comes from
 * the request, exactly as a real model's would.
 */
export function investigatorResponse(request: RecordedRequest): ReplyBuilder | undefined {
  const tools = toolNames(request);
  if (!tools.includes('submit_report')) return undefined;
  const brief = readBrief(request);
  const results = toolResults(request);
  const outputs = results.map((result) => result.output);
  const forced = tools.length === 1;
  const pace = (builder: ReplyBuilder) => builder.chunkSize(12).paceMs(20);

  if (!forced && results.length === 0) {
    const target = brief.allowedRoots[0] ?? '.';
    return pace(
      reply()
        .reasoning(`I'll start by looking at what is in ${target}.`)
        .toolCall('list_dir', { path: target }),
    );
  }
  if (!forced && results.length === 1) {
    // A curious model's next move; the runtime's refusal is part of what the demo shows.
    return pace(
      reply()
        .reasoning('A .env file may say which port is configured; trying it.')
        .toolCall('read_file', { path: '.env' }),
    );
  }
  const term = keyTerm(brief.objective);
  const searched = outputs.some((output) => output.includes('match'));
  if (!forced && !searched && tools.includes('search_text')) {
    return pace(
      reply()
        .reasoning(`Searching the code for ${term}.`)
        .toolCall('search_text', { pattern: term, path: brief.allowedRoots[0] ?? '.' }),
    );
  }
  const hit = firstHit(outputs, term);
  const read = outputs.some((output) => /^\[refs: [^\]]*file:/m.test(output));
  if (!forced && hit && !read) {
    return pace(
      reply()
        .reasoning(`${hit.path} mentions ${term}; reading it.`)
        .toolCall('read_file', { path: hit.path }),
    );
  }
  return pace(
    reply()
      .reasoning('I have enough evidence to answer.')
      .toolCall('submit_report', buildReport(brief, outputs, term)),
  );
}

function buildReport(
  brief: Brief,
  outputs: readonly string[],
  term: string,
): Record<string, unknown> {
  const fileRefs = outputs.flatMap((output) =>
    refsOf(output).filter((ref) => ref.startsWith('file:')),
  );
  const searchRef = outputs
    .map((output) => (output.includes('match') ? refsOf(output)[0] : undefined))
    .find((ref) => ref !== undefined);
  const lines = outputs
    .flatMap((output) => output.split('\n'))
    .filter((line) => /^\s*\d+\|/.test(line) && line.includes(term));
  const evidenceLine = lines[0]?.replace(/^\s*(\d+)\|\s?/, 'line $1: ').trim();
  const refs = [...fileRefs.slice(0, 1), ...(searchRef ? [searchRef] : [])];
  const findings =
    refs.length === 0
      ? []
      : [
          {
            claim: evidenceLine
              ? `${term} is defined here (${evidenceLine}).`
              : `${term} appears in the inspected code.`,
            evidence_refs: refs,
            ...(brief.obligations[0] ? { obligation_id: brief.obligations[0].id } : {}),
          },
          ...brief.obligations.slice(1).map((obligation) => ({
            claim: `Answer to "${obligation.question}" follows from the same lines.`,
            evidence_refs: refs,
            obligation_id: obligation.id,
          })),
        ];
  return {
    status: findings.length > 0 ? 'COMPLETE' : 'PARTIAL',
    summary: evidenceLine
      ? `The answer is in the code the runtime let me read: ${evidenceLine}.`
      : `I could not find ${term} in the allowed scope.`,
    findings,
    files_inspected: fileRefs.map((ref) => ref.slice('file:'.length).split('#')[0] ?? ref),
    uncertainties: [
      'Only the files inside the mission scope were read; configuration outside it could override these values.',
    ],
    confidence: findings.length > 0 ? 'HIGH' : 'LOW',
    caveats: outputs.some((output) => output.includes('[REFUSED'))
      ? [
          'The runtime refused part of what I asked to read (see the refused calls), so environment overrides were not checked.',
        ]
      : [],
    escalation_recommendation: 'None; the finding cites the exact lines.',
  };
}

function readBrief(request: RecordedRequest): Brief {
  const user = conversation(request).find((turn) => turn.role === 'user')?.text ?? '';
  const json = /Mission brief:\n(\{[\s\S]*?\n\})/.exec(user)?.[1];
  try {
    const brief = JSON.parse(json ?? '{}') as {
      objective?: string;
      allowed_roots?: string[];
      allowed_paths?: string[];
      answer_obligations?: { id: string; question: string }[];
    };
    return {
      objective: brief.objective ?? '',
      allowedRoots: brief.allowed_roots ?? brief.allowed_paths ?? [],
      allowedPaths: brief.allowed_paths ?? [],
      obligations: brief.answer_obligations ?? [],
    };
  } catch {
    return { objective: '', allowedRoots: [], allowedPaths: [], obligations: [] };
  }
}

/** The objective's most specific word: an UPPER_CASE name if there is one, else the longest word. */
function keyTerm(objective: string): string {
  const constant = /\b[A-Z][A-Z0-9_]{2,}\b/.exec(objective)?.[0];
  if (constant) return constant;
  return (
    [...objective.matchAll(/[A-Za-z_][A-Za-z0-9_]{3,}/g)]
      .map((match) => match[0])
      .sort((a, b) => b.length - a.length)[0] ?? 'TODO'
  );
}

/** The refs a tool result names in its `[refs: …]` header. */
export function refsOf(output: string): string[] {
  const header = /^\[refs: ([^\]]*)\]/m.exec(output)?.[1] ?? '';
  return header
    .split(',')
    .map((ref) => ref.trim())
    .filter((ref) => ref.length > 0);
}

function firstHit(outputs: readonly string[], term: string): { path: string } | undefined {
  for (const output of outputs) {
    for (const line of output.split('\n')) {
      const match = /^([^\s:][^:]*):\d+:/.exec(line);
      if (match?.[1] && line.includes(term)) return { path: match[1] };
    }
  }
  return undefined;
}
