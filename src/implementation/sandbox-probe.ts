import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, constants as fsConstants, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot, scrubbedChildEnv } from '../config/index.js';

/**
 * What this machine lets the runtime enforce around a verification command, strongest first:
 *
 * - `bwrap` (bubblewrap): the whole filesystem read-only except the worktree and a scratch
 *   folder, `.codex-oss/` hidden, a private /tmp, its own pid namespace (every descendant dies
 *   with it) and, unless the mission allows network, its own empty network namespace.
 * - `unshare` (util-linux; root, or unprivileged user namespaces): network and pid namespaces,
 *   and where mounts are allowed a mount namespace in which mount-namespace-entry.ts makes the
 *   project read-only and hides `.codex-oss/` (the rest of the filesystem stays writable). Without
 *   the mount half, the runner fingerprints the main workspace before and after each command and
 *   reports any change as a sandbox violation.
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
    /** The node entry that builds the read-only project mount, when it works here. */
    readonly mountEntry: string | null;
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
export const unshareMountFlags = ['--mount', '--propagation', 'private'] as const;

/** The compiled mount-namespace entry: beside this file in dist/, or dist/ when run from src/. */
function mountEntryPath(): string | null {
  const beside = fileURLToPath(new URL('./mount-namespace-entry.js', import.meta.url));
  if (existsSync(beside)) return beside;
  const built = path.join(packageRoot(), 'dist', 'implementation', 'mount-namespace-entry.js');
  return existsSync(built) ? built : null;
}

/** Runs the mount entry once on a throwaway project, as the runner would. */
async function probeMountEntry(
  unsharePath: string,
  mapRootUser: boolean,
  trueBin: string,
): Promise<string | null> {
  const entry = mountEntryPath();
  if (entry === null) return 'the mount-namespace entry is not built (npm run build)';
  const scratch = await mkdtemp(path.join(tmpdir(), 'codex-oss-probe-'));
  try {
    const projectRoot = path.join(scratch, 'project');
    const cwd = path.join(projectRoot, '.codex-oss', 'worktrees', 'probe');
    await mkdir(cwd, { recursive: true });
    const spec = JSON.stringify({ projectRoot, cwd, scratch, argv: [trueBin] });
    return await tryRun(unsharePath, [
      ...(mapRootUser ? ['-r'] : []),
      ...unshareMountFlags,
      ...unshareBaseFlags,
      '--',
      process.execPath,
      entry,
      spec,
    ]);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

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
    mountEntry: null,
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
    const works = plain === null || mapped === null;
    const mapRootUser = plain !== null && mapped === null;
    const mountFailure = works
      ? await probeMountEntry(unsharePath, mapRootUser, trueBin)
      : 'no namespaces';
    unshare = {
      path: unsharePath,
      works,
      mapRootUser,
      mountEntry: mountFailure === null ? mountEntryPath() : null,
      detail: !works
        ? `unshare cannot create namespaces: ${plain ?? ''}`
        : `unshare works${mapRootUser ? ' in a user namespace (-r)' : ''}; ` +
          (mountFailure === null
            ? 'the project can be mounted read-only'
            : `no read-only project mount (${mountFailure})`),
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
