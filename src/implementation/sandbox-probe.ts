import { execFile } from 'node:child_process';
import { access, constants as fsConstants } from 'node:fs/promises';
import path from 'node:path';
import { scrubbedChildEnv } from '../config/index.js';

/**
 * What this machine lets the runtime enforce around a verification command, strongest first:
 *
 * - `bwrap` (bubblewrap): the whole filesystem read-only except the worktree and a scratch
 *   folder, `.codex-oss/` hidden, a private /tmp, its own pid namespace (every descendant dies
 *   with it) and, unless the mission allows network, its own empty network namespace.
 * - `unshare` (util-linux; root, or unprivileged user namespaces): network and pid namespaces
 *   only. The filesystem stays writable, so the runner fingerprints the main workspace before and
 *   after each command and reports any change as a sandbox violation.
 * - `none`: a process group per command and the same fingerprint check.
 *
 * Each candidate is probed by running it for real once; the answer is cached for the process.
 */
export type SandboxMechanism = 'bwrap' | 'unshare' | 'none';

export interface SandboxProbe {
  readonly best: SandboxMechanism;
  readonly bwrap: {
    readonly path: string | null;
    readonly works: boolean;
    readonly detail: string;
  };
  readonly unshare: {
    readonly path: string | null;
    readonly works: boolean;
    /** `-r` (map the caller to root in a new user namespace) is needed when not root. */
    readonly mapRootUser: boolean;
    readonly detail: string;
  };
}

/** Flags every bwrap run uses, probed as one set. */
export const bwrapBaseFlags = [
  '--die-with-parent',
  '--unshare-pid',
  '--unshare-ipc',
  '--unshare-uts',
  '--ro-bind',
  '/',
  '/',
  '--dev',
  '/dev',
  '--proc',
  '/proc',
  '--tmpfs',
  '/tmp',
] as const;

export const unshareBaseFlags = ['--pid', '--fork', '--kill-child', '--mount-proc'] as const;

/** First executable called `name` on PATH (or the path itself when it has a slash). */
export async function findExecutable(
  name: string,
  searchPath: string | undefined,
  cwd: string,
): Promise<string | null> {
  const candidates = name.includes('/')
    ? [path.resolve(cwd, name)]
    : (searchPath ?? '')
        .split(path.delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => path.join(dir, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  return null;
}

function tryRun(file: string, args: readonly string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: scrubbedChildEnv(), shell: false, timeout: 15_000, killSignal: 'SIGKILL' },
      (error, _stdout, stderr) => {
        if (error === null) resolve(null);
        else resolve((stderr.trim() || error.message).split('\n')[0] ?? 'failed');
      },
    );
  });
}

async function probe(): Promise<SandboxProbe> {
  const searchPath = scrubbedChildEnv()['PATH'];
  const cwd = process.cwd();
  const trueBin = (await findExecutable('true', searchPath, cwd)) ?? process.execPath;
  const trueArgs = trueBin === process.execPath ? ['-e', '0'] : [];

  const bwrapPath = await findExecutable('bwrap', searchPath, cwd);
  let bwrap: SandboxProbe['bwrap'] = {
    path: null,
    works: false,
    detail: 'bwrap is not installed (Debian/Ubuntu package: bubblewrap)',
  };
  if (bwrapPath !== null) {
    const failure = await tryRun(bwrapPath, [
      ...bwrapBaseFlags,
      '--unshare-net',
      '--',
      trueBin,
      ...trueArgs,
    ]);
    bwrap = {
      path: bwrapPath,
      works: failure === null,
      detail:
        failure === null ? 'bwrap works' : `bwrap is installed but cannot sandbox: ${failure}`,
    };
  }

  const unsharePath = await findExecutable('unshare', searchPath, cwd);
  let unshare: SandboxProbe['unshare'] = {
    path: null,
    works: false,
    mapRootUser: false,
    detail: 'unshare is not installed (util-linux)',
  };
  if (unsharePath !== null) {
    const plain = await tryRun(unsharePath, [
      '--net',
      ...unshareBaseFlags,
      '--',
      trueBin,
      ...trueArgs,
    ]);
    const mapped =
      plain === null
        ? null
        : await tryRun(unsharePath, [
            '-r',
            '--net',
            ...unshareBaseFlags,
            '--',
            trueBin,
            ...trueArgs,
          ]);
    unshare = {
      path: unsharePath,
      works: plain === null || mapped === null,
      mapRootUser: plain !== null && mapped === null,
      detail:
        plain === null
          ? 'unshare works'
          : mapped === null
            ? 'unshare works in a user namespace (-r)'
            : `unshare cannot create namespaces: ${plain}`,
    };
  }
  const best: SandboxMechanism = bwrap.works ? 'bwrap' : unshare.works ? 'unshare' : 'none';
  return { best, bwrap, unshare };
}

let cached: Promise<SandboxProbe> | null = null;

/** What this machine allows (probed once per process). */
export function probeSandbox(): Promise<SandboxProbe> {
  cached ??= probe();
  return cached;
}
