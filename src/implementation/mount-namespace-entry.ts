import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { sandboxSetupExitCode } from './sandbox-setup-exit.js';

/**
 * The `unshare` tier's filesystem half, for machines without bubblewrap: run by node as the
 * first process of a fresh mount (and pid) namespace that `unshare` made, it bind-mounts the
 * project read-only, hides `.codex-oss/` under a tmpfs, binds the worktree back writable, and
 * then runs the verification command as its child, passing its exit status on. Every mount
 * dies with the namespace. No shell: each mount is one argv.
 *
 *   unshare --mount --propagation private --pid --fork --kill-child --mount-proc [--net] -- \
 *     node mount-namespace-entry.js '<json spec>'
 *
 * Exit 125 with a "codex-oss sandbox:" line means the sandbox could not be built and the command
 * never ran.
 */

const specSchema = z.strictObject({
  projectRoot: z.string(),
  cwd: z.string(),
  scratch: z.string(),
  argv: z.array(z.string()).min(1),
});

function mount(args: readonly string[]): void {
  execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function setUp(spec: z.infer<typeof specSchema>): void {
  // Keep a handle on the worktree before anything hides it.
  const stash = path.join(spec.scratch, 'worktree-mount');
  mkdirSync(stash, { recursive: true });
  mount(['--bind', spec.cwd, stash]);
  mount(['--rbind', spec.projectRoot, spec.projectRoot]);
  mount(['-o', 'remount,bind,ro', spec.projectRoot]);
  const state = path.join(spec.projectRoot, '.codex-oss');
  if (existsSync(state)) {
    mount(['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', state]);
    mkdirSync(spec.cwd, { recursive: true });
  }
  mount(['--bind', stash, spec.cwd]);
}

function main(): void {
  let spec: z.infer<typeof specSchema>;
  try {
    spec = specSchema.parse(JSON.parse(process.argv[2] ?? ''));
    setUp(spec);
  } catch (error) {
    const detail =
      error instanceof Error && 'stderr' in error
        ? String((error as { stderr: unknown }).stderr).trim()
        : String(error);
    process.stderr.write(`codex-oss sandbox: cannot build the mount namespace: ${detail}\n`);
    process.exit(sandboxSetupExitCode);
  }
  const [program, ...args] = spec.argv as [string, ...string[]];
  const child = spawn(program, args, { cwd: spec.cwd, stdio: 'inherit', shell: false });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('error', (error) => {
    process.stderr.write(`codex-oss sandbox: cannot start ${program}: ${error.message}\n`);
    process.exit(sandboxSetupExitCode);
  });
  // As the namespace's first process this one ignores a re-raised signal, so report a signal
  // death the way a shell does.
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
  });
}

main();
