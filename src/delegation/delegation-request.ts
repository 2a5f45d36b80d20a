import { z } from 'zod';

/** cli-agent-mcp's three permission levels; the bridge serves the first two. */
export const delegationPermissions = ['read-only', 'workspace-write', 'unlimited'] as const;
export type DelegationPermission = (typeof delegationPermissions)[number];

/**
 * A prompt larger than this is refused before anything runs: it goes into every model call of the
 * mission, and 100k characters is already far past what a delegated task needs.
 */
export const maxPromptChars = 100_000;
/** Paths per list: a scope is a handful of files or folders, not a file listing. */
export const maxScopeEntries = 200;

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const missionIdField = (what: string) =>
  z.string().regex(idPattern, {
    error: `${what} must be a mission id: 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit`,
  });

const pathList = (what: string) =>
  z
    .array(z.string().max(4096, { error: `each ${what} entry must be at most 4096 characters` }))
    .max(maxScopeEntries, { error: `at most ${maxScopeEntries} ${what} entries` });

/**
 * The fields of a plain delegation, shared by the MCP tools (`opencode`, `oss_start`) and
 * `codex-oss delegate`. Names follow cli-agent-mcp's `opencode` tool, so a client written for it
 * sends the same arguments.
 */
export const delegationRequestShape = {
  prompt: z
    .string({ error: 'prompt is required: say what the worker must find out or change' })
    .min(1, { error: 'prompt must not be empty: say what the worker must find out or change' })
    .max(maxPromptChars, {
      error: `prompt is too large: at most ${maxPromptChars} characters; put long material in files and name them in context_paths`,
    })
    .describe('What the worker must find out (read-only) or change (workspace-write).'),
  workspace: z
    .string()
    .max(4096)
    .optional()
    .describe(
      'The folder to work in: the project the server runs for, or a folder inside it (absolute, or relative to the project). Defaults to the project root.',
    ),
  permission: z
    .enum(delegationPermissions, {
      error: 'permission must be one of read-only, workspace-write, unlimited',
    })
    .optional()
    .describe(
      'read-only (default): a governed A3 investigation. workspace-write: an A5 change made in an isolated worktree, never in the workspace itself, applied later with oss_promote. unlimited is refused.',
    ),
  model: z
    .string()
    .max(200)
    .optional()
    .describe(
      'A mission alias (mission-a3-kimi, mission-a5-deepseek, …) or an OSS model id (kimi-k2.6, deepseek-v4-pro, …); the tier follows the permission.',
    ),
  context_paths: pathList('context_paths')
    .optional()
    .describe(
      'Files or folders (relative to the workspace) that make up the scope: what a read-only mission may read, what a workspace-write mission may change.',
    ),
  file: pathList('file')
    .optional()
    .describe(
      'Files the worker must look at (read first in read-only; owned like context_paths in workspace-write).',
    ),
  agent: z
    .string()
    .max(40)
    .optional()
    .describe('The agent label (build, plan); recorded in the handoff output.'),
  report_mode: z.boolean().optional().describe('Ask for a self-contained, document-style answer.'),
  task_note: z
    .string()
    .max(120, { error: 'task_note is a short label: at most 120 characters' })
    .optional()
    .describe('A short label for progress lines and the handoff output.'),
  verification_commands: z
    .array(z.union([z.string().min(1).max(2000), z.array(z.string().min(1)).min(1).max(100)]))
    .max(10, { error: 'at most 10 verification commands' })
    .optional()
    .describe(
      'workspace-write only: commands that verify the change in the isolated worktree, each a command line ("npm test") or an argv list; run without a shell.',
    ),
  continuation_id: missionIdField('continuation_id')
    .optional()
    .describe(
      "The continuation_id of an earlier answer: this mission starts from that run's report and evidence.",
    ),
  mission_id: missionIdField('mission_id')
    .optional()
    .describe(
      'The mission id to use (an idempotency key in this project); one is generated when absent.',
    ),
};

export const delegationRequestSchema = z.object(delegationRequestShape);
export type DelegationRequest = z.output<typeof delegationRequestSchema>;
