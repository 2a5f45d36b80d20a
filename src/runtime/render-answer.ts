import { isMissionInputError } from '../mission/index.js';
import type { BridgeError } from '../errors/index.js';

// The final texts of missions that end without a report: refused at admission, refused as a
// duplicate, or crashed inside the runtime. A report's own text is renderReport's.

/** The answer to a mission refused before any model call, with how to fix it. */
export function rejectionAnswer(options: {
  readonly missionId: string;
  readonly runId: string;
  readonly error: BridgeError;
  /** The error's message, already redacted. */
  readonly message: string;
  /** The user's text, to name the template of the tier it asked for. */
  readonly userTexts: readonly string[];
}): string {
  const { missionId, runId, error, message } = options;
  return [
    'Status: FAILED',
    `Mission: ${missionId} (run ${runId})`,
    '',
    'Summary:',
    `  The mission was rejected before any model call (${error.code}).`,
    `  ${message}`,
    '',
    'How to fix:',
    ...rejectionFix(error, options.userTexts),
  ].join('\n');
}

function rejectionFix(error: BridgeError, userTexts: readonly string[]): string[] {
  if (error.code === 'model_admission_failed')
    return [
      '  Use a mission alias (mission-a<2..6>-kimi|deepseek|flash, or mission-a3-<model id>), or an OSS',
      '  model id for a request carrying a block; GPT and parent-provider routes never run missions.',
    ];
  if (isMissionInputError(error)) {
    const tier = /"tier"\s*:\s*"(A[2-6])"/i.exec(userTexts.join('\n'))?.[1]?.toUpperCase();
    return [
      '  Send exactly one <OSS_HANDOFF_JSON>{...}</OSS_HANDOFF_JSON> block in the user message (print a valid one with',
      `  \`codex-oss mission template --tier ${tier ?? 'A3'}\`, check one offline with \`codex-oss validate-handoff FILE\`).`,
    ];
  }
  return ['  Act on the reason above, then send the mission again.'];
}

/** The answer to a duplicate mission_id refused with a different handoff. */
export function conflictAnswer(missionId: string, earlierRunId: string, message: string): string {
  return [
    'Status: FAILED',
    `Mission: ${missionId}${earlierRunId ? ` (earlier run ${earlierRunId})` : ''}`,
    '',
    'Summary:',
    '  The mission was refused before any model call (mission_id_conflict).',
    `  ${message}`,
  ].join('\n');
}

/** The answer to a run the runtime itself failed (the message already redacted). */
export function crashAnswer(missionId: string, runId: string, message: string): string {
  return `Status: FAILED\nMission: ${missionId} (run ${runId})\n\nSummary:\n  The runtime failed internally: ${message}\n  The event log up to this point is in .codex-oss/runs/${runId}/events.jsonl.`;
}
