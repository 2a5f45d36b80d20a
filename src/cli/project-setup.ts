import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml, stringify as stringifyToml, TomlError } from 'smol-toml';
import { packageRoot } from '../config/index.js';

/**
 * What `install` writes into a project for Codex, and how `doctor` reads it back: the MCP server
 * block in `.codex/config.toml`, the delegation block in `AGENTS.md` and the rule file that stops
 * workers from starting Codex again. Install and doctor share these so they can never disagree.
 */

export const MCP_SERVER_NAME = 'opencode_bridge';
export const AGENTS_START = '<!-- codex-oss:start -->';
export const AGENTS_END = '<!-- codex-oss:end -->';
export const RULES_FILE = path.join('.codex', 'rules', 'no-recursive-codex.rules');
export const PROJECT_CODEX_CONFIG = path.join('.codex', 'config.toml');
export const DEFAULT_MCP_SYNC_SECONDS = 45;
/** Codex waits this long for `codex-oss mcp` to answer initialize (it loads config and the index). */
export const MCP_STARTUP_TIMEOUT_SEC = 30;

type TomlTable = Record<string, unknown>;

export interface McpServerBlock {
  readonly command: string;
  readonly args: string[];
  readonly startup_timeout_sec: number;
  readonly tool_timeout_sec: number;
  readonly required: boolean;
  readonly default_tools_approval_mode: string;
}

/**
 * MCP_SYNC_SECONDS from the environment (the MCP server's own setting), else the default. A value
 * that is not a positive integer is reported rather than guessed at.
 */
export function mcpSyncSeconds(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env['MCP_SYNC_SECONDS']?.trim();
  if (raw === undefined || raw === '') return DEFAULT_MCP_SYNC_SECONDS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`MCP_SYNC_SECONDS must be a positive whole number of seconds, got "${raw}"`);
  return value;
}

/**
 * A blocking tool answers "still running" after MCP_SYNC_SECONDS, and `oss_wait` may wait about as
 * long again; Codex must not give up on either first. Twice the sync window plus half a minute of
 * slack for a loaded machine, and never under two minutes.
 */
export function minimumToolTimeout(syncSeconds: number): number {
  return Math.max(120, syncSeconds * 2 + 30);
}

/**
 * The server block as install writes it. The command is this Node and this package's bin by
 * absolute path: Codex starts MCP servers without a login shell, so `codex-oss` on the user's PATH
 * (or an nvm shim) is not guaranteed to resolve there.
 */
export function desiredMcpBlock(project: string, syncSeconds: number): McpServerBlock {
  return {
    command: process.execPath,
    args: [path.join(packageRoot(), 'bin', 'codex-oss'), 'mcp', '--project', project],
    startup_timeout_sec: MCP_STARTUP_TIMEOUT_SEC,
    tool_timeout_sec: minimumToolTimeout(syncSeconds),
    // A bridge that fails to start should stop the session with Codex's clear error, not leave the
    // model without its delegation tools; Codex also gives optional servers about a second only.
    required: true,
    // Under approval policy "never" Codex rejects MCP calls unless the server pre-approves them.
    default_tools_approval_mode: 'approve',
  };
}

export class CodexConfigError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'CodexConfigError';
  }
}

/** Parses a Codex config file, turning a syntax error into one actionable message. */
export function parseCodexToml(text: string, file: string): TomlTable {
  try {
    return parseToml(text);
  } catch (error) {
    if (error instanceof TomlError)
      throw new CodexConfigError(
        `${file} is not valid TOML (line ${error.line}, column ${error.column}): ${error.message.split('\n')[0] ?? ''}`,
        `fix that line (or move the file aside), then run the command again; nothing was changed`,
      );
    throw error;
  }
}

export function mcpServerTable(config: TomlTable): TomlTable | undefined {
  const servers = config['mcp_servers'];
  if (typeof servers !== 'object' || servers === null || Array.isArray(servers)) return undefined;
  const table = (servers as TomlTable)[MCP_SERVER_NAME];
  if (typeof table !== 'object' || table === null || Array.isArray(table)) return undefined;
  return table as TomlTable;
}

export type McpMergeOutcome = 'added' | 'updated' | 'unchanged';

export interface McpMergeResult {
  readonly text: string;
  readonly outcome: McpMergeOutcome;
  /** What changed, one entry a key, for the install report. */
  readonly changes: string[];
}

const MANAGED_KEYS = [
  'command',
  'args',
  'startup_timeout_sec',
  'tool_timeout_sec',
  'required',
  'default_tools_approval_mode',
] as const;

/**
 * Adds or refreshes `[mcp_servers.opencode_bridge]` in the text of a config.toml and leaves every
 * other line alone (comments included). Inside our own table the keys we manage are set; larger
 * timeouts the user chose are kept, and keys we do not manage (env, enabled_tools, …) stay.
 */
export function mergeMcpBlock(text: string, file: string, desired: McpServerBlock): McpMergeResult {
  const parsed = parseCodexToml(text, file);
  const existing = mcpServerTable(parsed);
  if (existing === undefined) {
    const block = stringifyToml({ mcp_servers: { [MCP_SERVER_NAME]: { ...desired } } });
    const separator = text === '' ? '' : text.endsWith('\n') ? '\n' : '\n\n';
    const next = `${text}${separator}# opencode-bridge: governed OSS workers as MCP tools (codex-oss install --mcp)\n${block.trim()}\n`;
    verifyMerged(next, file, desired);
    return { text: next, outcome: 'added', changes: [] };
  }

  const wanted: TomlTable = { ...desired };
  const keepLarger = (key: 'tool_timeout_sec' | 'startup_timeout_sec') => {
    const current = existing[key];
    const value = typeof current === 'bigint' ? Number(current) : current;
    if (typeof value === 'number' && value >= desired[key]) wanted[key] = value;
  };
  keepLarger('tool_timeout_sec');
  keepLarger('startup_timeout_sec');
  const changes = MANAGED_KEYS.filter(
    (key) => JSON.stringify(normalise(existing[key])) !== JSON.stringify(wanted[key]),
  ).map((key) => `${key} = ${JSON.stringify(wanted[key])}`);
  if (changes.length === 0) return { text, outcome: 'unchanged', changes };

  const lines = text.split('\n');
  const header = lines.findIndex((line) => isOurHeader(line));
  if (header < 0)
    throw new CodexConfigError(
      `${file} defines mcp_servers.${MCP_SERVER_NAME} without a [mcp_servers.${MCP_SERVER_NAME}] header (dotted keys or an inline table), which install will not rewrite`,
      `write it as a [mcp_servers.${MCP_SERVER_NAME}] table, or set ${changes.join(', ')} yourself`,
    );
  let end = header + 1;
  while (end < lines.length && !/^\s*\[/.test(lines[end] ?? '')) end += 1;
  // Keys of our table that we do not manage, and are not sub-tables with headers of their own.
  const extra: TomlTable = {};
  for (const [key, value] of Object.entries(existing)) {
    if ((MANAGED_KEYS as readonly string[]).includes(key)) continue;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      if (hasSubtableHeader(lines, key)) continue;
    }
    extra[key] = value;
  }
  // Serialised under the full path so a nested extra (env = {…}) lands in its own sub-table.
  const serialised = stringifyToml({ mcp_servers: { [MCP_SERVER_NAME]: { ...wanted, ...extra } } })
    .trim()
    .split('\n');
  const body = serialised.slice(serialised.findIndex((line) => line.startsWith('[')) + 1);
  const rest = lines.slice(end);
  const nextLines = [
    ...lines.slice(0, header + 1),
    ...body,
    ...(rest.length > 0 && rest.some((line) => line.trim() !== '') ? [''] : []),
    ...rest.filter((line, index) => index > 0 || line.trim() !== '' || rest.length === 1),
  ];
  let next = nextLines.join('\n');
  if (text.endsWith('\n') && !next.endsWith('\n')) next += '\n';
  verifyMerged(next, file, desired);
  return { text: next, outcome: 'updated', changes };
}

function normalise(value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}

function isOurHeader(line: string): boolean {
  return new RegExp(
    `^\\s*\\[\\s*(mcp_servers|"mcp_servers")\\s*\\.\\s*(${MCP_SERVER_NAME}|"${MCP_SERVER_NAME}")\\s*\\]\\s*(#.*)?$`,
  ).test(line);
}

function hasSubtableHeader(lines: readonly string[], key: string): boolean {
  const pattern = new RegExp(
    `^\\s*\\[\\s*(mcp_servers|"mcp_servers")\\s*\\.\\s*(${MCP_SERVER_NAME}|"${MCP_SERVER_NAME}")\\s*\\.\\s*("?)${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\3\\s*\\]`,
  );
  return lines.some((line) => pattern.test(line));
}

/** The merged text must parse and carry our block; anything else is a bug, never written. */
function verifyMerged(text: string, file: string, desired: McpServerBlock): void {
  const table = mcpServerTable(parseCodexToml(text, file));
  if (
    table === undefined ||
    table['command'] !== desired.command ||
    JSON.stringify(table['args']) !== JSON.stringify(desired.args)
  )
    throw new Error(`internal error: merging the MCP block into ${file} did not produce it`);
}

export interface McpBlockProblem {
  readonly problems: string[];
}

/** What is wrong with an existing block, judged against what install would write. */
export function mcpBlockProblems(
  table: TomlTable,
  desired: McpServerBlock,
  syncSeconds: number,
): string[] {
  const problems: string[] = [];
  const command = table['command'];
  const args = Array.isArray(table['args']) ? (table['args'] as unknown[]) : [];
  if (typeof command !== 'string') problems.push('command is missing');
  else if (path.isAbsolute(command) && !existsSync(command))
    problems.push(`command ${command} does not exist`);
  const joined = [command, ...args].map(String).join(' ');
  if (!/\bmcp\b/.test(joined) || !/codex-oss/.test(joined))
    problems.push(`it does not run \`codex-oss mcp\` (runs: ${joined})`);
  const script = args.find((arg) => typeof arg === 'string' && arg.endsWith('codex-oss'));
  if (typeof script === 'string' && path.isAbsolute(script) && !existsSync(script))
    problems.push(`${script} does not exist (moved or removed bridge)`);
  const projectAt = args.indexOf('--project');
  const project = projectAt >= 0 ? args[projectAt + 1] : undefined;
  const wantedProject = desired.args[desired.args.length - 1];
  if (typeof project !== 'string') problems.push('args has no --project');
  else if (path.resolve(project) !== wantedProject)
    problems.push(`--project is ${project}, not ${wantedProject ?? '?'}`);
  const timeout = normalise(table['tool_timeout_sec']);
  if (typeof timeout !== 'number')
    problems.push(
      `tool_timeout_sec is not set (Codex's default may be shorter than MCP_SYNC_SECONDS=${syncSeconds})`,
    );
  else if (timeout < desired.tool_timeout_sec)
    problems.push(
      `tool_timeout_sec = ${timeout} is too short for MCP_SYNC_SECONDS=${syncSeconds} (needs ≥ ${desired.tool_timeout_sec})`,
    );
  if (table['default_tools_approval_mode'] !== 'approve')
    problems.push(
      'default_tools_approval_mode is not "approve" (Codex rejects the calls under approval policy never)',
    );
  if (table['enabled'] === false) problems.push('enabled = false');
  return problems;
}

// ---------------------------------------------------------------------------------------------
// AGENTS.md

export interface RoleFile {
  readonly file: string;
  readonly name: string;
  readonly model: string;
  readonly sandbox: string;
}

/** The role files this package ships (agents/*.toml), read from the package itself. */
export function packagedRoleFiles(): RoleFile[] {
  const dir = path.join(packageRoot(), 'agents');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.toml'))
    .sort()
    .map((file) => {
      const parsed = parseCodexToml(readFileSync(path.join(dir, file), 'utf8'), file);
      return {
        file,
        name: stringKey(parsed, 'name') ?? file,
        model: stringKey(parsed, 'model') ?? '',
        sandbox: stringKey(parsed, 'sandbox_mode') ?? '',
      };
    });
}

function stringKey(table: TomlTable, key: string): string | undefined {
  const value = table[key];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The delegation block. It describes the handoff in words and points at `codex-oss mission
 * template`; it never quotes a handoff block, because an AGENTS.md that carries one is inherited by
 * every spawned agent and the bridge would read it as part of the task.
 */
export function agentsBlock(roles: readonly RoleFile[], withMcp: boolean): string {
  const roleLines = roles.map(
    (role) => `- \`${role.name}\`: model \`${role.model}\`, sandbox ${role.sandbox || 'default'}`,
  );
  const lines = [
    AGENTS_START,
    '## Delegating to open-source workers (opencode-bridge)',
    '',
    'Bounded, reviewable work (a read-only investigation, a small fix with a test that proves it)',
    'can go to governed open-source workers. The bridge runtime owns their tools, paths, budgets,',
    'evidence and final status; the worker only proposes. Treat every report as evidence to check,',
    'not as a verdict.',
    '',
    'Workers installed in `.codex/agents/`:',
    ...roleLines,
    '',
    'How to hand off:',
    '- Spawn the worker with `fork_turns: "none"` so it starts from the task alone and does not',
    '  inherit this conversation (its history would count against the mission and leak context).',
    '- Give it one task contract: a `GOAL:` line, a `READ-ONLY PATHS:` line (and for a fix an',
    '  `OWNED PATHS:` line and the test command that proves it) and a `DELIVERABLE:` line; or one',
    '  MissionV1 handoff printed by `codex-oss mission template --tier A3 --handoff` (A5 for a fix).',
    '  Write it fresh for each task; never paste a handoff from this file or an earlier turn.',
    '- A fix comes back VERIFIED from an isolated copy with a review packet; the workspace is not',
    '  touched until you review it and run `codex-oss promote <mission_id>`.',
  ];
  if (withMcp)
    lines.push(
      '- From any MCP client, the `opencode_bridge` server offers the same workers as tools:',
      '  `opencode` (permission `read-only` or `workspace-write`), and `oss_start` / `oss_wait`',
      '  for long runs.',
    );
  lines.push(
    '',
    'Never:',
    '- run `codex exec` (or `npx codex exec`) from a worker: `.codex/rules/no-recursive-codex.rules`',
    '  forbids it, because a worker that starts Codex again escapes the mission it was given;',
    '- send secrets, credentials or release decisions to a worker.',
    AGENTS_END,
  );
  return lines.join('\n');
}

export type AgentsMergeOutcome = 'added' | 'replaced' | 'unchanged';

/**
 * Puts the block into AGENTS.md text: replaces what is between the markers, or appends the block
 * when there are none. Text outside the markers is never touched. A file with a start marker and no
 * end (or more than one block) is refused: guessing where our block ends could delete user text.
 */
export function mergeAgentsBlock(
  text: string,
  block: string,
  file: string,
): { text: string; outcome: AgentsMergeOutcome } {
  const starts = occurrences(text, AGENTS_START);
  const ends = occurrences(text, AGENTS_END);
  if (starts.length === 0 && ends.length === 0) {
    const separator =
      text === '' ? '' : text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
    return { text: `${text}${separator}${block}\n`, outcome: 'added' };
  }
  const start = starts[0];
  const end = ends[0];
  if (
    starts.length !== 1 ||
    ends.length !== 1 ||
    start === undefined ||
    end === undefined ||
    end < start
  )
    throw new CodexConfigError(
      `${file} has ${starts.length} "${AGENTS_START}" and ${ends.length} "${AGENTS_END}" markers; install needs exactly one of each, start first`,
      `remove the stray markers by hand (keep one pair around the opencode-bridge block, or none), then run install again; nothing was changed`,
    );
  const current = text.slice(start, end + AGENTS_END.length);
  if (current === block) return { text, outcome: 'unchanged' };
  return {
    text: `${text.slice(0, start)}${block}${text.slice(end + AGENTS_END.length)}`,
    outcome: 'replaced',
  };
}

function occurrences(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length))
    found.push(at);
  return found;
}

/** The text between the markers, or undefined when the file has no complete block. */
export function extractAgentsBlock(text: string): string | undefined {
  const start = text.indexOf(AGENTS_START);
  const end = text.indexOf(AGENTS_END);
  if (start < 0 || end < start) return undefined;
  return text.slice(start, end + AGENTS_END.length);
}

// ---------------------------------------------------------------------------------------------
// .codex/rules/no-recursive-codex.rules

/** The commands a worker must not run; doctor evaluates the installed rules against each. */
export const RECURSIVE_CODEX_COMMANDS: readonly (readonly string[])[] = [
  ['codex', 'exec', 'summarise the repo'],
  ['codex', 'e', 'summarise the repo'],
  ['npx', 'codex', 'exec', 'summarise the repo'],
  ['npx', '@openai/codex', 'exec', 'summarise the repo'],
];

/** Codex execpolicy (Starlark prefix rules); `match`/`not_match` are checked by Codex on load. */
export function noRecursiveCodexRules(): string {
  return `# Installed by opencode-bridge (codex-oss install). OSS workers must not start Codex again:
# a nested \`codex exec\` runs outside the mission it was given, with its own tools and budget.
# Delegate through the parent session or the opencode_bridge MCP tools instead.

prefix_rule(
    pattern = ["codex", ["exec", "e"]],
    decision = "forbidden",
    justification = "No recursive Codex from a delegated worker: report back to the parent session, which can delegate again (codex-oss mission run, or the opencode MCP tool).",
    match = [["codex", "exec", "fix the tests"], "codex e hello"],
    not_match = [["codex", "--version"], ["codex-oss", "doctor"]],
)

prefix_rule(
    pattern = ["npx", ["codex", "@openai/codex"], ["exec", "e"]],
    decision = "forbidden",
    justification = "No recursive Codex from a delegated worker, npx included: report back to the parent session instead.",
    match = [["npx", "codex", "exec", "fix the tests"], "npx @openai/codex exec hello"],
    not_match = [["npx", "prettier", "--check", "."]],
)
`;
}
