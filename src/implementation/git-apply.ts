import { spawn } from 'node:child_process';
import path from 'node:path';
import { scrubbedChildEnv } from '../config/index.js';

export interface GitApplyResult {
  readonly ok: boolean;
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface GitApplyOptions {
  readonly cwd: string;
  /** Extra arguments before `-` (for example `['--check']` or `['--reverse']`). */
  readonly args: readonly string[];
  readonly diff: string;
  readonly timeoutMs?: number;
  readonly gitBinary?: string;
}

const maxStderrBytes = 64_000;

/**
 * `git apply … -` with the diff on stdin: argv only (no shell), the scrubbed child environment,
 * no user or system git config (an `apply.whitespace=error` there would change the verdict), and
 * a ceiling at the directory's parent so a repository above it is never used. Works in a plain
 * directory too: git apply needs no repository.
 */
export function runGitApply(options: GitApplyOptions): Promise<GitApplyResult> {
  const cwd = path.resolve(options.cwd);
  const env = scrubbedChildEnv({
    GIT_CEILING_DIRECTORIES: path.dirname(cwd),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
  });
  return new Promise((resolve) => {
    const child = spawn(
      options.gitBinary ?? 'git',
      ['apply', '--verbose', '--whitespace=nowarn', ...options.args, '-'],
      { cwd, env, stdio: ['pipe', 'ignore', 'pipe'], shell: false },
    );
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < maxStderrBytes) stderr += chunk;
    });
    child.stdin.on('error', () => undefined); // git may exit before reading everything
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, exitCode: null, stderr: error.message, timedOut: false });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      // Inside a repository git skips (exit 0) paths outside the current directory; a skipped
      // file is a file not applied.
      const skipped = /^Skipped patch /m.test(stderr);
      resolve({
        ok: code === 0 && !timedOut && !skipped,
        exitCode: code,
        stderr: stderr.trim(),
        timedOut,
      });
    });
    child.stdin.end(options.diff);
  });
}
