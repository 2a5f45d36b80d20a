import { z } from 'zod';
import { delegationRequestShape } from '../delegation/index.js';

const missionIdArg = z
  .string({ error: 'mission_id is required (the continuation_id an earlier answer gave)' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, {
    error: 'mission_id must be a mission id: letters, digits, ".", "_" or "-"',
  });

const pathArg = (what: string) => z.string().max(4096).optional().describe(what);

/** Arguments of `opencode`: cli-agent-mcp's, plus `verification_commands` and `mission_id`. */
export const opencodeShape = {
  ...delegationRequestShape,
  debug: z
    .boolean()
    .optional()
    .describe('Add <debug_info>: tokens, dollars, duration, run id and model.'),
  handoff_file: pathArg(
    'A file in the workspace the answer is appended to, wrapped in <agent-output agent=… continuation_id=… task_note=… status=…>.',
  ),
  save_file: pathArg('Older form of handoff_file: write the answer to this file in the workspace.'),
  save_file_with_wrapper: z
    .boolean()
    .optional()
    .describe('With save_file: wrap the answer in <agent-output …>.'),
  save_file_with_append_mode: z
    .boolean()
    .optional()
    .describe('With save_file: append instead of replacing the file.'),
};

export const missionObjectArg = z
  .record(z.string(), z.unknown(), { error: 'mission must be a MissionV1 JSON object' })
  .describe(
    'A MissionV1 object (schema_version "oss_agent_mission.v1"); `codex-oss mission template --tier A3` prints one.',
  );

export const ossMissionShape = {
  mission: missionObjectArg,
  model: delegationRequestShape.model,
  debug: opencodeShape.debug,
};

export const ossStartShape = {
  ...opencodeShape,
  prompt: delegationRequestShape.prompt.optional(),
  mission: missionObjectArg.optional(),
};

export const ossWaitShape = {
  mission_id: missionIdArg,
  timeout_seconds: z
    .number({ error: 'timeout_seconds must be a number of seconds' })
    .min(0)
    .max(3600)
    .optional()
    .describe('How long to wait for the end (default MCP_SYNC_SECONDS); 0 answers at once.'),
  debug: opencodeShape.debug,
};

export const ossCancelShape = { mission_id: missionIdArg };

export const ossPromoteShape = {
  mission_id: missionIdArg,
  dry_run: z.boolean().optional().describe('Check everything, change nothing.'),
  accept_unverified: z
    .boolean()
    .optional()
    .describe('Promote an APPLIED_UNVERIFIED run (no verification command ran).'),
};

export const ossRunsShape = {
  limit: z.number().int().min(1).max(500).optional().describe('At most this many runs (50).'),
  state: z
    .enum(['running', 'waiting_upstream', 'completed', 'failed', 'cancelled'])
    .optional()
    .describe('Only runs in this state.'),
};

/** The contract tool names (PRODUCT.md §6.2); the smoke test and clients rely on them. */
export const mcpToolNames = [
  'opencode',
  'oss_mission',
  'oss_start',
  'oss_wait',
  'oss_cancel',
  'oss_promote',
  'oss_runs',
] as const;
