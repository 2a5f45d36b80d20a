import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Helpers for the cli-*.test.ts files: a private built copy of the package, and process control. */

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface BuiltPackage {
  readonly root: string;
  readonly bin: string;
}

/**
 * Compiles src into a private package copy (its own dist, bin and package.json, node_modules
 * linked). Other test files and engineers rebuild /work/main/dist at any time, which would make the
 * source hash a moving target; this copy stays put for the whole file. tsc's exit code is ignored
 * because it emits despite type errors elsewhere in the tree; the files we run must exist.
 */
export async function buildPackageCopy(): Promise<BuiltPackage> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'codex-oss-pkg-'));
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  await new Promise<void>((resolve) => {
    execFile(
      process.execPath,
      [tsc, '-p', path.join(repoRoot, 'tsconfig.build.json'), '--outDir', path.join(root, 'dist')],
      { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 },
      () => resolve(),
    );
  });
  for (const required of ['dist/cli/main.js', 'dist/http/index.js']) {
    if (!existsSync(path.join(root, required)))
      throw new Error(`build did not produce ${required}`);
  }
  copyFileSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'));
  mkdirSync(path.join(root, 'bin'));
  copyFileSync(path.join(repoRoot, 'bin', 'codex-oss'), path.join(root, 'bin', 'codex-oss'));
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  return { root, bin: path.join(root, 'bin', 'codex-oss') };
}

export function tempProject(label: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `codex-oss-${label}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A port that was free a moment ago (bind to 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The environment every CLI child gets: the test runner's PATH and HOME, none of the bridge's own
 * variables (a developer's shell must not leak into the test), and no real upstream key.
 */
export function cliEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  const dropped =
    /^(PROXY_|OPENCODE_|UPSTREAM_|CODEX_|BRIDGE_|GPT_|OPENAI_|LITELLM_|ALLOW_MISSING)/;
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !dropped.test(key)) env[key] = value;
  }
  return {
    ...env,
    ALLOW_MISSING_OPENCODE_KEY: '1',
    BRIDGE_SHUTDOWN_DRAIN_SECONDS: '15',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI to completion. */
export function runCli(
  pkg: BuiltPackage,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [pkg.bin, ...args],
      {
        cwd: options.cwd,
        env: options.env,
        timeout: options.timeoutMs ?? 60_000,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`${args.join(' ')} failed to run: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}

export interface RunningChild {
  readonly child: ChildProcess;
  readonly output: { stdout: string; stderr: string };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the built CLI and keeps collecting its output (for a foreground `up`). */
export function spawnCli(
  pkg: BuiltPackage,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): RunningChild {
  const child = spawn(process.execPath, [pkg.bin, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => (output.stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output.stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, output, exited };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls `check` every 100 ms until it returns a value other than undefined/false, or fails. */
export async function waitFor<T>(
  description: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const LOCAL_KEY = 'sk-local-codex-bridge';

/** /health as JSON, or undefined when nothing (or no bridge) answers. */
export async function health(
  port: number,
  key = LOCAL_KEY,
): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, {
      headers: { authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(2000),
    });
    if (!response.ok) return undefined;
    return (await response.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function readPid(project: string): number | undefined {
  try {
    const pid = Number(
      readFileSync(path.join(project, '.codex-oss', 'run', 'bridge.pid'), 'utf8').trim(),
    );
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Remembers every pid a test started so afterAll can end exactly those, and nothing else. */
export class PidTracker {
  private readonly pids = new Set<number>();

  track(pid: number | undefined): void {
    if (pid !== undefined) this.pids.add(pid);
  }

  killAll(): void {
    for (const pid of this.pids) {
      if (isAlive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone in between.
        }
      }
    }
    this.pids.clear();
  }
}
