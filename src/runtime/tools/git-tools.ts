import { scrubbedChildEnv } from '../../config/index.js';
import { spawn } from 'node:child_process';
import { z } from 'zod';
import type { PathScope } from '../path-scope.js';
import {
  defineTool,
  effectiveLimits,
  failure,
  observation,
  type ToolContext,
  type ToolObservation,
} from './types.js';

/**
 * Read-only git tools. git runs with an argv (never a shell), in the project root, with a
 * scrubbed environment and configuration that cannot start helper programs (fsmonitor, external
 * diff, textconv), and without taking optional locks, so a status never writes the index.
 */

export const gitStatusArgs = z.strictObject({});
// An out-of-range limit is brought into 1-20, not refused: the range is metadata, not a check.
export const gitLogArgs = z.strictObject({
  limit: z
    .number()
    .int()
    .optional()
    .meta({ minimum: 1, maximum: 20, description: 'Number of commits (1-20, default 5).' }),
});
export const gitShowStatArgs = z.strictObject({
  rev: z
    .string()
    .optional()
    .describe('Commit to show: HEAD (default), HEAD~1, a branch or a hash.'),
});
export const gitDiffStatArgs = z.strictObject({
  path: z
    .string()
    .optional()
    .describe('Limit to this file or directory, relative to the project root.'),
});

const revPattern = /^[A-Za-z0-9_./~^-]{1,100}$/;

/** Deny-list globs passed to git as exclude pathspecs, so denied files never enter its output. */
const deniedPathspecs = [
  '**/.env',
  '**/.env.*',
  '**/*.env',
  '**/*.env.local',
  '**/*.pem',
  '**/*.key',
  '**/*.p12',
  '**/*.pfx',
  '**/*.keystore',
  '**/.envrc',
  '**/*.jks',
  '**/id_rsa*',
  '**/id_ed25519*',
  '**/id_ecdsa*',
  '**/id_dsa*',
  '**/opencode-go.env*',
  '**/secrets/**',
  '**/node_modules/**',
  '**/.codex-oss/**',
].map((glob) => `:(exclude,glob,icase)${glob}`);

interface GitRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: boolean;
  readonly timedOut: boolean;
  readonly spawnError: string | null;
}

function gitEnvironment(): Record<string, string> {
  return scrubbedChildEnv({
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    // Read-only missions: `git status` must not refresh and rewrite the index.
    GIT_OPTIONAL_LOCKS: '0',
  });
}

async function runGit(args: readonly string[], ctx: ToolContext): Promise<GitRun> {
  const limits = effectiveLimits(ctx);
  const timeout = AbortSignal.timeout(limits.gitTimeoutMs);
  const signal = AbortSignal.any([ctx.signal, timeout]);
  const argv = [
    '--no-pager',
    '-c',
    'core.fsmonitor=false',
    '-c',
    'color.ui=false',
    '-c',
    'core.quotepath=false',
    ...args,
  ];
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let truncated = false;
    let settled = false;
    const child = spawn('git', argv, {
      cwd: ctx.projectRoot,
      env: gitEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
      killSignal: 'SIGKILL',
      shell: false,
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (stdout.length < limits.gitOutputChars) stdout += chunk;
      else truncated = true;
    });
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 4000) stderr += chunk;
    });
    const finish = (code: number | null, spawnError: string | null): void => {
      if (settled) return;
      settled = true;
      if (stdout.length > limits.gitOutputChars) {
        stdout = stdout.slice(0, limits.gitOutputChars);
        truncated = true;
      }
      resolve({ code, stdout, stderr, truncated, timedOut: timeout.aborted, spawnError });
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.name === 'AbortError') finish(null, null);
      else finish(null, error.code === 'ENOENT' ? 'git is not installed' : error.message);
    });
    child.on('close', (code) => finish(code, null));
  });
}

/** Turns a git run into an observation, or a failure explaining why git could not answer. */
function gitObservation(
  run: GitRun,
  command: string,
  ctx: ToolContext,
  render: (stdout: string) => string,
  extras: { path?: string } = {},
): ToolObservation {
  const limits = effectiveLimits(ctx);
  if (run.spawnError !== null) return failure('git_unavailable', `${command}: ${run.spawnError}.`);
  if (run.timedOut)
    return failure(
      'git_timeout',
      `${command} did not finish within ${limits.gitTimeoutMs / 1000} s and was stopped.`,
    );
  if (run.code === null) return failure('aborted', `${command} was cancelled.`);
  if (run.code !== 0) {
    if (/not a git repository/i.test(run.stderr)) {
      return failure(
        'not_a_git_repo',
        'The project root is not a git repository, so git tools have nothing to report.',
      );
    }
    const reason = run.stderr.trim().split('\n')[0] ?? '';
    return failure(
      'git_failed',
      `${command} failed (exit ${run.code})${reason !== '' ? `: ${reason.replace(/^fatal: /, '')}` : ''}`,
    );
  }
  let body = render(run.stdout).trimEnd();
  if (body === '') body = '(no output)';
  const notes = run.truncated ? [`[output cut at ${limits.gitOutputChars} characters]`] : [];
  return observation(true, [`$ ${command}`, body, ...notes].join('\n'), {
    ...extras,
    complete: !run.truncated,
  });
}

/**
 * The mission's scope as git pathspecs. Without them git reports the whole repository: paths
 * outside the allowed roots, and the mission's forbidden roots (the built-in deny list alone was
 * passed before). Positive `:(literal)` pathspecs name each allowed root and path that resolves
 * (`.` for a whole-project grant); exclude pathspecs name the deny list and the forbidden roots.
 * Every path git reports is still checked with `inScope`: pathspecs cannot express critical
 * roots, and git's glob dialect is not the scope's.
 */
interface GitScope {
  /** Project-relative roots the output may name (`''` = the whole project). */
  readonly targets: readonly string[];
  readonly pathspecs: readonly string[];
}

function normaliseRelative(value: string): string {
  return value
    .replace(/\\/g, '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

/** Exclude pathspecs for the mission's forbidden roots (prefixes, or globs as path-scope reads them). */
function forbiddenPathspecs(scope: PathScope): string[] {
  const specs: string[] = [];
  for (const entry of scope.options.forbiddenRoots) {
    const root = normaliseRelative(entry.trim());
    if (root === '') continue;
    if (/[*?[{]/.test(root)) {
      // A glob without `/` names a segment at any depth; with `/`, a path prefix.
      const base = root.includes('/') ? root : `**/${root}`;
      specs.push(`:(exclude,glob,icase)${base}`, `:(exclude,glob,icase)${base}/**`);
    } else {
      specs.push(`:(exclude,literal,icase)${root}`);
    }
  }
  return specs;
}

function gitScope(scope: PathScope, only?: string): GitScope | null {
  const targets: string[] = [];
  if (only !== undefined) targets.push(only);
  else {
    // The same targets search_text covers: each allowed root and path that resolves.
    for (const target of scope.defaultTargets()) {
      if (target === '') {
        targets.push('');
        continue;
      }
      const resolved = scope.resolve(target);
      if (resolved.ok) targets.push(resolved.relative);
    }
  }
  if (targets.length === 0) return null;
  const positive = targets.includes('')
    ? [':(literal).']
    : targets.map((target) => `:(literal)${target}`);
  return {
    targets: targets.includes('') ? [''] : targets,
    pathspecs: [...positive, ...deniedPathspecs, ...forbiddenPathspecs(scope)],
  };
}

/** The same verdict the read tools give: not denied, not critical without permission, in scope. */
function inScope(scope: PathScope, git: GitScope, reported: string): boolean {
  const relative = normaliseRelative(reported);
  if (relative === '' || relative.split('/').includes('..')) return false;
  if (!scope.checkDescendant(relative).ok) return false;
  return git.targets.some(
    (target) => target === '' || relative === target || relative.startsWith(`${target}/`),
  );
}

function outOfScope(scope: PathScope): ToolObservation {
  return failure('path_not_allowed', `No path in this mission's scope. ${scope.describeAllowed()}`);
}

/** With `-z`, a record cut by the output cap is incomplete: drop it rather than show a fragment. */
function completeRecords(run: GitRun): string {
  if (!run.truncated) return run.stdout;
  return run.stdout.slice(0, run.stdout.lastIndexOf('\0') + 1);
}

function hiddenNote(hidden: number): string[] {
  return hidden > 0
    ? [`(${hidden} entries outside the mission scope or on the deny list hidden)`]
    : [];
}

/** `git status --porcelain -z` entries (paths from the repository root) as `XY path` lines. */
function renderStatus(stdout: string, prefix: string, scope: PathScope, git: GitScope): string {
  const fields = stdout.split('\0');
  const lines: string[] = [];
  let hidden = 0;
  const toProject = (repoPath: string): string | null =>
    repoPath.startsWith(prefix) ? repoPath.slice(prefix.length) : null;
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i] ?? '';
    if (entry.length < 4) continue;
    const status = entry.slice(0, 2);
    const file = toProject(entry.slice(3));
    let original: string | null | undefined;
    if (status.includes('R') || status.includes('C')) {
      // A rename or copy names both paths; both must be in scope (the source follows, in -z).
      original = toProject(fields[i + 1] ?? '');
      i++;
    }
    const paths = [file, ...(original !== undefined ? [original] : [])];
    if (paths.some((p) => p === null || !inScope(scope, git, p))) {
      hidden++;
      continue;
    }
    lines.push(
      original !== undefined && original !== null
        ? `${status} ${original} -> ${file ?? ''}`
        : `${status} ${file ?? ''}`,
    );
  }
  if (lines.length === 0 && hidden === 0) return '(clean working tree)';
  return [...lines, ...hiddenNote(hidden)].join('\n');
}

interface NumstatEntry {
  readonly name: string;
  readonly added: number | null;
  readonly deleted: number | null;
}

/**
 * `--numstat -z` records, filtered by scope, as a table like `--stat`'s but never abbreviated:
 * `--stat` shortens long paths to `.../tail`, which no name filter can check.
 */
function renderNumstat(stdout: string, scope: PathScope, git: GitScope): string {
  const fields = stdout.split('\0');
  const entries: NumstatEntry[] = [];
  let hidden = 0;
  for (let i = 0; i < fields.length; i++) {
    const record = /^(-|\d+)\t(-|\d+)\t([\s\S]*)$/.exec(fields[i] ?? '');
    if (record === null) continue;
    let paths: string[];
    if (record[3] === '') {
      // A rename or copy: the old and new names follow as their own fields.
      const from = fields[i + 1];
      const to = fields[i + 2];
      i += 2;
      if (from === undefined || to === undefined) continue;
      paths = [from, to];
    } else {
      paths = [record[3] ?? ''];
    }
    if (paths.some((p) => !inScope(scope, git, p))) {
      hidden++;
      continue;
    }
    const count = (value: string | undefined): number | null =>
      value === undefined || value === '-' ? null : Number(value);
    entries.push({
      name: paths.join(' => '),
      added: count(record[1]),
      deleted: count(record[2]),
    });
  }
  if (entries.length === 0) return hiddenNote(hidden).join('\n');
  const width = Math.max(...entries.map((entry) => entry.name.length));
  const totals = entries.map((entry) => (entry.added ?? 0) + (entry.deleted ?? 0));
  const countWidth = Math.max(3, ...totals.map((total) => String(total).length));
  const largest = Math.max(...totals);
  const scale = largest > 40 ? 40 / largest : 1;
  let insertions = 0;
  let deletions = 0;
  const lines = entries.map((entry) => {
    const name = entry.name.padEnd(width);
    if (entry.added === null || entry.deleted === null)
      return ` ${name} | ${'Bin'.padStart(countWidth)}`;
    insertions += entry.added;
    deletions += entry.deleted;
    const plus = '+'.repeat(Math.ceil(entry.added * scale));
    const minus = '-'.repeat(Math.ceil(entry.deleted * scale));
    const total = String(entry.added + entry.deleted).padStart(countWidth);
    return ` ${name} | ${total} ${plus}${minus}`.trimEnd();
  });
  const plural = (count: number, word: string): string =>
    `${count} ${word}${count === 1 ? '' : 's'}`;
  lines.push(
    ` ${plural(entries.length, 'file')} changed, ${plural(insertions, 'insertion')}(+), ` +
      `${plural(deletions, 'deletion')}(-)`,
  );
  return [...lines, ...hiddenNote(hidden)].join('\n');
}

/** The project root's path inside the repository (`''` at the top, else `sub/dir/`). */
async function repositoryPrefix(ctx: ToolContext): Promise<GitRun> {
  return runGit(['rev-parse', '--show-prefix'], ctx);
}

export async function executeGitStatus(
  _args: z.infer<typeof gitStatusArgs>,
  ctx: ToolContext,
): Promise<ToolObservation> {
  const git = gitScope(ctx.scope);
  if (git === null) return outOfScope(ctx.scope);
  const command = 'git status --short';
  const prefixRun = await repositoryPrefix(ctx);
  if (prefixRun.code !== 0) return gitObservation(prefixRun, command, ctx, () => '');
  const prefix = prefixRun.stdout.trim();
  // `-uall` lists untracked files one by one, so each is checked rather than a collapsed dir.
  const run = await runGit(
    ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', ...git.pathspecs],
    ctx,
  );
  return gitObservation(run, command, ctx, () =>
    renderStatus(completeRecords(run), prefix, ctx.scope, git),
  );
}

export async function executeGitLog(
  args: z.infer<typeof gitLogArgs>,
  ctx: ToolContext,
): Promise<ToolObservation> {
  const limit = Math.min(20, Math.max(1, args.limit ?? 5));
  const git = gitScope(ctx.scope);
  if (git === null) return outOfScope(ctx.scope);
  // Only commits that touch the mission's scope: a subject can name what lies outside it.
  const run = await runGit(
    ['log', '--oneline', '--no-decorate', `-n${limit}`, '--', ...git.pathspecs],
    ctx,
  );
  return gitObservation(run, `git log --oneline -n${limit}`, ctx, (stdout) => stdout);
}

export async function executeGitShowStat(
  args: z.infer<typeof gitShowStatArgs>,
  ctx: ToolContext,
): Promise<ToolObservation> {
  const rev = args.rev?.trim() || 'HEAD';
  if (!revPattern.test(rev) || rev.startsWith('-')) {
    return failure(
      'invalid_rev',
      'rev must be a commit name such as HEAD, HEAD~2, main or a hash (letters, digits and _ . / ~ ^ -, not starting with -).',
    );
  }
  const git = gitScope(ctx.scope);
  if (git === null) return outOfScope(ctx.scope);
  const run = await runGit(
    [
      'show',
      '--numstat',
      '-z',
      '--relative',
      '--format=%h %s',
      '--no-ext-diff',
      '--no-textconv',
      '--no-decorate',
      '--end-of-options',
      rev,
      '--',
      ...git.pathspecs,
    ],
    ctx,
  );
  return gitObservation(run, `git show --stat --oneline ${rev}`, ctx, () => {
    // `%h %s` ends at the first NUL; the numstat records follow after a newline.
    const stdout = completeRecords(run);
    const end = stdout.indexOf('\0');
    const header = end === -1 ? stdout : stdout.slice(0, end);
    const table =
      end === -1 ? '' : renderNumstat(stdout.slice(end + 1).replace(/^\n/, ''), ctx.scope, git);
    return table === '' ? header : `${header}\n${table}`;
  });
}

export async function executeGitDiffStat(
  args: z.infer<typeof gitDiffStatArgs>,
  ctx: ToolContext,
): Promise<ToolObservation> {
  let only: string | undefined;
  let extras: { path?: string } = {};
  if (args.path !== undefined && args.path.trim() !== '' && args.path.trim() !== '.') {
    const resolved = ctx.scope.resolve(args.path);
    if (!resolved.ok) return failure(resolved.code, resolved.message);
    only = resolved.relative;
    extras = { path: resolved.relative };
  }
  const git = gitScope(ctx.scope, only);
  if (git === null) return outOfScope(ctx.scope);
  const run = await runGit(
    [
      'diff',
      '--numstat',
      '-z',
      '--relative',
      '--no-ext-diff',
      '--no-textconv',
      '--',
      ...git.pathspecs,
    ],
    ctx,
  );
  const command = `git diff --stat${only === undefined ? '' : ` -- ${only}`}`;
  return gitObservation(
    run,
    command,
    ctx,
    () => {
      const table = renderNumstat(completeRecords(run), ctx.scope, git);
      return table.trim() === '' ? '(no unstaged changes)' : table;
    },
    extras,
  );
}

export const gitStatusTool = defineTool({
  name: 'git_status',
  toolClass: 'safe_git',
  description:
    'Show the working tree status (git status --short). Paths on the deny list are hidden.',
  schema: gitStatusArgs,
  execute: executeGitStatus,
});

export const gitLogTool = defineTool({
  name: 'git_log',
  toolClass: 'safe_git',
  description: 'Show recent commits, one line each (git log --oneline).',
  schema: gitLogArgs,
  execute: executeGitLog,
});

export const gitShowStatTool = defineTool({
  name: 'git_show_stat',
  toolClass: 'safe_git',
  description: 'Show a commit summary and the files it changed with line counts (git show --stat).',
  schema: gitShowStatArgs,
  execute: executeGitShowStat,
});

export const gitDiffStatTool = defineTool({
  name: 'git_diff_stat',
  toolClass: 'safe_git',
  description: 'Summarise unstaged changes per file (git diff --stat), optionally for one path.',
  schema: gitDiffStatArgs,
  execute: executeGitDiffStat,
});
