import { execFile } from 'node:child_process';
import { scrubbedChildEnv } from '../config/index.js';

/**
 * git for the implementation lane: an argv (never a shell), the scrubbed environment, and
 * configuration that keeps the user's repository from starting programs on our behalf. Hooks are
 * pointed at /dev/null because `worktree add` runs post-checkout, and a throwaway isolation must
 * not run whatever the repository installs there (LFS's own hook included; smudging is off too).
 */
export interface GitResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const gitConfig = [
  '-c',
  'core.fsmonitor=false',
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'color.ui=false',
  '-c',
  'core.quotepath=false',
];

export function gitEnvironment(): Record<string, string> {
  return scrubbedChildEnv({
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_LFS_SKIP_SMUDGE: '1',
    // Reading the user's status must not rewrite their index.
    GIT_OPTIONAL_LOCKS: '0',
  });
}

/** Runs git and resolves with its exit code; rejects only when git cannot be started. */
export function git(cwd: string, args: readonly string[]): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [...gitConfig, ...args],
      {
        cwd,
        env: gitEnvironment(),
        shell: false,
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
        timeout: 5 * 60 * 1000,
        killSignal: 'SIGKILL',
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(
            error.code === 'ENOENT'
              ? new Error('git is not installed (not found on PATH)')
              : (error as Error),
          );
          return;
        }
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

/** Runs git and throws with its stderr when it fails. */
export async function gitOk(cwd: string, args: readonly string[]): Promise<string> {
  const result = await git(cwd, args);
  if (result.code !== 0) {
    throw new Error(`git ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}
