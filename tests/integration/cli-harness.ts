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
import { connect, createServer } from 'node:net';
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

/**
 * A fixed port for `up --daemon`, which must have one (stop and status find the daemon by it), so
 * it cannot listen on 0. The port is taken from below the kernel's ephemeral range: a socket that
 * listens on port 0 (every other server in the tests) is never given a port there, so nothing else
 * in the suite can take it between this check and the daemon's bind. Checked free before use.
 */
export async function daemonPort(): Promise<number> {
  const [low] = readEphemeralRange();
  const span = Math.max(1, low - 20_000);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * span);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port found below the ephemeral range');
}

/**
 * A loopback port that refuses connections: a privileged one, which no listen-on-0 socket is ever
 * given, checked to refuse right now. Odd low ports are on fetch's blocked-port list (fetch would
 * fail with "bad port" instead of ECONNREFUSED), so these are even ones that are not.
 */
export async function refusingPort(): Promise<number> {
  for (const port of [2, 4, 6, 8, 10, 12, 14, 16, 18, 24, 26]) {
    if (await refuses(port)) return port;
  }
  throw new Error('no refusing privileged port on 127.0.0.1');
}

function readEphemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && high !== undefined && low > 21_000) return [low, high];
  } catch {
    // Not Linux: fall through to the IANA dynamic range.
  }
  return [49_152, 65_535];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** The port of a foreground `up --port 0`, read from its listening line. */
export function listeningPort(stderr: string): number | undefined {
  const match = /opencode-bridge listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
  return match?.[1] === undefined ? undefined : Number(match[1]);
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
