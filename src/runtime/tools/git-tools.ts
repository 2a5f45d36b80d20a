import { scrubbedChildEnv } from '../../config/index.js';
import { spawn } from 'node:child_process';
import { z } from 'zod';
import type { PathScope } from '../path-scope.js';
import {
  effectiveLimits,
  failure,
  observation,
  type ToolContext,
  type ToolObservation,
  type ToolSpec,
} from './types.js';

/**
 * Read-only git tools. git runs with an argv (never a shell), in the project root, with a
 * scrubbed environment and configuration that cannot start helper programs (fsmonitor, external
 * diff, textconv), and without taking optional locks, so a status never writes the index.
 */

export const gitStatusArgs = z.strictObject({});
export const gitLogArgs = z.strictObject({ limit: z.number().int().optional() });
export const gitShowStatArgs = z.strictObject({ rev: z.string().optional() });
export const gitDiffStatArgs = z.strictObject({ path: z.string().optional() });

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
  '**/id_rsa*',
  '**/id_ed25519*',
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

/** `git status --short -z` entries, minus denied paths, as `XY path` lines. */
function renderStatus(stdout: string, scope: PathScope): string {
  const fields = stdout.split('\0');
  const lines: string[] = [];
  let hidden = 0;
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i] ?? '';
    if (entry.length < 4) continue;
    const status = entry.slice(0, 2);
    const file = entry.slice(3);
    let original: string | undefined;
    if (status.includes('R') || status.includes('C')) {
      original = fields[i + 1];
      i++;
    }
    const paths = [file, ...(original !== undefined ? [original] : [])].map((p) =>
      p.replace(/\/$/, ''),
    );
    if (paths.some((p) => scope.isDenied(p))) {
      hidden++;
      continue;
    }
    lines.push(original !== undefined ? `${status} ${original} -> ${file}` : `${status} ${file}`);
  }
  if (lines.length === 0 && hidden === 0) return '(clean working tree)';
  if (hidden > 0) lines.push(`(${hidden} entries on the deny list hidden)`);
  return lines.join('\n');
}

/** Drops `--stat` lines that name a denied path (a second guard behind the exclude pathspecs). */
function filterStatLines(stdout: string, scope: PathScope): string {
  return stdout
    .split('\n')
    .filter((line) => {
      const match = /^\s*(\S.*?)\s+\|\s/.exec(line);
      if (match === null) return true;
      const file = match[1] ?? '';
      const target = file.includes(' => ') ? file.split(' => ') : [file];
      return !target.some((p) => scope.isDenied(p.replace(/[{}]/g, '').trim()));
    })
    .join('\n');
}

export async function executeGitStatus(
  _args: z.infer<typeof gitStatusArgs>,
  ctx: ToolContext,
): Promise<ToolObservation> {
  const run = await runGit(['status', '--short', '-z', '--', '.', ...deniedPathspecs], ctx);
  return gitObservation(run, 'git status --short', ctx, (stdout) =>
    renderStatus(stdout, ctx.scope),
  );
}

export async function executeGitLog(
  args: z.infer<typeof gitLogArgs>,
  ctx: ToolContext,
): Promise<ToolObservation> {
  const limit = Math.min(20, Math.max(1, args.limit ?? 5));
  const run = await runGit(['log', '--oneline', '--no-decorate', `-n${limit}`], ctx);
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
  const run = await runGit(
    [
      'show',
      '--stat',
      '--oneline',
      '--no-ext-diff',
      '--no-textconv',
      '--no-decorate',
      '--end-of-options',
      rev,
      '--',
      '.',
      ...deniedPathspecs,
    ],
    ctx,
  );
  return gitObservation(run, `git show --stat --oneline ${rev}`, ctx, (stdout) =>
    filterStatLines(stdout, ctx.scope),
  );
}

export async function executeGitDiffStat(
  args: z.infer<typeof gitDiffStatArgs>,
  ctx: ToolContext,
): Promise<ToolObservation> {
  let pathspec = '.';
  let extras: { path?: string } = {};
  if (args.path !== undefined && args.path.trim() !== '' && args.path.trim() !== '.') {
    const resolved = ctx.scope.resolve(args.path);
    if (!resolved.ok) return failure(resolved.code, resolved.message);
    pathspec = resolved.relative;
    extras = { path: resolved.relative };
  }
  const run = await runGit(
    [
      'diff',
      '--stat',
      '--no-ext-diff',
      '--no-textconv',
      '--',
      `:(literal)${pathspec}`,
      ...deniedPathspecs,
    ],
    ctx,
  );
  const command = `git diff --stat${pathspec === '.' ? '' : ` -- ${pathspec}`}`;
  return gitObservation(
    run,
    command,
    ctx,
    (stdout) => {
      const filtered = filterStatLines(stdout, ctx.scope);
      return filtered.trim() === '' ? '(no unstaged changes)' : filtered;
    },
    extras,
  );
}

const noArgs = { type: 'object', properties: {}, additionalProperties: false } as const;

export const gitStatusTool: ToolSpec<typeof gitStatusArgs> = {
  name: 'git_status',
  toolClass: 'safe_git',
  description:
    'Show the working tree status (git status --short). Paths on the deny list are hidden.',
  schema: gitStatusArgs,
  parameters: noArgs,
  execute: executeGitStatus,
};

export const gitLogTool: ToolSpec<typeof gitLogArgs> = {
  name: 'git_log',
  toolClass: 'safe_git',
  description: 'Show recent commits, one line each (git log --oneline).',
  schema: gitLogArgs,
  parameters: {
    type: 'object',
    properties: {
      limit: {
        type: 'integer',
        minimum: 1,
        maximum: 20,
        description: 'Number of commits (1-20, default 5).',
      },
    },
    additionalProperties: false,
  },
  execute: executeGitLog,
};

export const gitShowStatTool: ToolSpec<typeof gitShowStatArgs> = {
  name: 'git_show_stat',
  toolClass: 'safe_git',
  description: 'Show a commit summary and the files it changed with line counts (git show --stat).',
  schema: gitShowStatArgs,
  parameters: {
    type: 'object',
    properties: {
      rev: {
        type: 'string',
        description: 'Commit to show: HEAD (default), HEAD~1, a branch or a hash.',
      },
    },
    additionalProperties: false,
  },
  execute: executeGitShowStat,
};

export const gitDiffStatTool: ToolSpec<typeof gitDiffStatArgs> = {
  name: 'git_diff_stat',
  toolClass: 'safe_git',
  description: 'Summarise unstaged changes per file (git diff --stat), optionally for one path.',
  schema: gitDiffStatArgs,
  parameters: {
    type: 'object',
    properties: {
      path: {
        type: 'string',
        description: 'Limit to this file or directory, relative to the project root.',
      },
    },
    additionalProperties: false,
  },
  execute: executeGitDiffStat,
};
