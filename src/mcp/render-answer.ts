import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import type { RunRecord } from '../events/index.js';
import type { CommentaryLine, MissionOutcome } from '../runtime/index.js';
import type { AnswerContext, BoardEntry } from './mission-board.js';

/** What a finished (or still running) mission answer is made of. */
export interface AnswerParts {
  readonly missionId: string;
  readonly lines: readonly string[];
  readonly answer: string;
  readonly debug?: string | undefined;
}

/**
 * cli-agent-mcp's answer shape, so a client written for its `opencode` tool reads ours:
 * `<response><thought_process/><answer/><continuation_id/><debug_info/></response>`. The thought
 * process is the runtime's commentary (safe progress lines), never the model's hidden reasoning.
 */
export function renderResponse(parts: AnswerParts): string {
  return [
    '<response>',
    '<thought_process>',
    ...(parts.lines.length > 0 ? parts.lines.map((line) => `- ${line}`) : ['(no progress lines)']),
    '</thought_process>',
    '<answer>',
    parts.answer,
    '</answer>',
    `<continuation_id>${parts.missionId}</continuation_id>`,
    ...(parts.debug === undefined ? [] : ['<debug_info>', parts.debug, '</debug_info>']),
    '</response>',
  ].join('\n');
}

export function lineTexts(lines: readonly CommentaryLine[]): string[] {
  return lines.map((line) => line.message);
}

/** How an A5/A6 answer tells the caller to apply the change it holds. */
function promoteHint(missionId: string, tier: string, status: string): string | undefined {
  if (tier === 'A6')
    return `Promotion: an A6 rehearsal is promoted only by a person: codex-oss promote ${missionId} --confirm-critical.`;
  if (tier !== 'A5') return undefined;
  if (status === 'VERIFIED')
    return `To apply it to the workspace after review: call oss_promote with {"mission_id": "${missionId}"}, or run codex-oss promote ${missionId}.`;
  if (status === 'APPLIED_UNVERIFIED')
    return `No verification command ran. To apply it anyway after review: codex-oss promote ${missionId} --accept-unverified (or oss_promote with "accept_unverified": true).`;
  return undefined;
}

export function finalAnswer(outcome: MissionOutcome, tier: string, context: AnswerContext): string {
  const hint = promoteHint(outcome.missionId, tier, outcome.status);
  return [
    ...(context.scopeNote ? [context.scopeNote, ''] : []),
    outcome.finalText,
    ...(hint ? ['', hint] : []),
  ].join('\n');
}

export function debugInfo(outcome: MissionOutcome, durationMs: number): string {
  return debugLines({
    runId: outcome.runId,
    status: outcome.status,
    record: outcome.record,
    durationMs,
  });
}

export function debugLines(input: {
  runId: string;
  status: string;
  record: RunRecord;
  durationMs: number;
}): string {
  const { record } = input;
  const tokens = record.tokens;
  return [
    `run_id: ${input.runId}`,
    `status: ${input.status}`,
    `model: ${record.model ?? 'none'}${record.fallbacks_used.length > 0 ? ` (fallbacks: ${record.fallbacks_used.map((f) => f.to).join(', ')})` : ''}`,
    `tokens: ${tokens.total_tokens} total (${tokens.input_tokens} in, ${tokens.cached_input_tokens} cached, ${tokens.output_tokens} out, ${tokens.reasoning_tokens} reasoning)`,
    `cost_usd: ${record.cost_usd.toFixed(6)}`,
    `duration_ms: ${Math.round(input.durationMs)}`,
    `model_calls: ${record.model_calls}, tool_calls: ${record.tool_calls}`,
    `events: .codex-oss/runs/${input.runId}/events.jsonl`,
  ].join('\n');
}

export function stillRunningAnswer(entry: BoardEntry, waitedSeconds: number): string {
  const elapsed = Math.round((Date.now() - entry.startedAt) / 1000);
  return [
    `Still running: mission ${entry.missionId} (${entry.tier}) has run for ${elapsed} s; this call returned after ${Math.round(waitedSeconds)} s so it never outlives your tool timeout.`,
    `Call oss_wait with {"mission_id": "${entry.missionId}"} for its progress and, once it ends, its report. oss_cancel with the same mission_id stops it.`,
  ].join('\n');
}

function attribute(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/</g, '&lt;')
    .replace(/[\r\n]+/g, ' ');
}

/** Where and how the answer is saved: `handoff_file`, or the older `save_file*` arguments. */
export interface SaveTarget {
  readonly absolute: string;
  readonly wrap: boolean;
  readonly append: boolean;
}

/**
 * Saves an answer for the caller. With the wrapper the text is framed as
 * `<agent-output agent=… continuation_id=… task_note=… status=…>`. The file is opened with
 * O_NOFOLLOW, so a symlink swapped in after the path was checked is not written through.
 */
export async function saveAnswer(
  target: SaveTarget,
  text: string,
  attrs: { agent: string; continuationId: string; taskNote: string; status: string },
): Promise<void> {
  const body = target.wrap
    ? `<agent-output agent="${attribute(attrs.agent)}" continuation_id="${attribute(attrs.continuationId)}" task_note="${attribute(attrs.taskNote)}" status="${attribute(attrs.status)}">\n${text}\n</agent-output>\n`
    : `${text}\n`;
  await mkdir(path.dirname(target.absolute), { recursive: true });
  const flags =
    constants.O_WRONLY |
    constants.O_CREAT |
    constants.O_NOFOLLOW |
    (target.append ? constants.O_APPEND : constants.O_TRUNC);
  const handle = await open(target.absolute, flags, 0o644);
  try {
    await handle.writeFile(body, 'utf8');
  } finally {
    await handle.close();
  }
}
