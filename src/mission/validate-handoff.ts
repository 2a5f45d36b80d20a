import { prepareMission } from './admit-mission.js';
import { isMissionInputError } from './mission-error.js';
import type { MissionV1 } from './mission-schema.js';

export type HandoffValidation =
  | { readonly valid: true; readonly mission: MissionV1; readonly warnings: string[] }
  | {
      readonly valid: false;
      readonly code: string;
      readonly message: string;
      readonly problems: string[];
    };

/**
 * `codex-oss validate-handoff FILE`: the whole file is treated as one user message and goes
 * through the same admission as a request (block or task contract, schema, alias tier), so a
 * file that validates here is admitted by the daemon. Budget clamping needs a deadline and does
 * not change validity, so neutral deadlines are used.
 */
export function validateHandoffText(
  text: string,
  opts: { aliasTier?: number } = {},
): HandoffValidation {
  try {
    const prepared = prepareMission({
      userTexts: [text],
      aliasTier: opts.aliasTier,
      requestDeadlineSeconds: 90,
      maxDeadlineSeconds: 180,
      reserveSeconds: 5,
    });
    return { valid: true, mission: prepared.mission, warnings: prepared.warnings };
  } catch (error) {
    if (!isMissionInputError(error)) throw error;
    return {
      valid: false,
      code: error.code,
      message: error.message,
      problems: [...error.problems],
    };
  }
}
