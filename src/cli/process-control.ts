import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sleep } from './bridge-probe.js';

/** `<project>/.codex-oss/run` and `.codex-oss/logs`: where the daemon's pid and log live. */
export function runtimePaths(project: string): {
  runDir: string;
  logDir: string;
  pidFile: string;
  logFile: string;
} {
  const base = path.join(project, '.codex-oss');
  const runDir = path.join(base, 'run');
  const logDir = path.join(base, 'logs');
  return {
    runDir,
    logDir,
    pidFile: path.join(runDir, 'bridge.pid'),
    logFile: path.join(logDir, 'bridge.log'),
  };
}

export function ensureRuntimeDirs(project: string): ReturnType<typeof runtimePaths> {
  const paths = runtimePaths(project);
  mkdirSync(paths.runDir, { recursive: true });
  mkdirSync(paths.logDir, { recursive: true });
  return paths;
}

export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function writePidFile(file: string, pid: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${pid}\n`);
}

/** Removes the pid file only if it still names `pid`, so a newer daemon's file survives. */
export function removePidFileIfOwned(file: string, pid: number): void {
  if (readPidFile(file) === pid) rmSync(file, { force: true });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function waitForExit(
  pid: number,
  timeoutMs: number,
  onTick?: () => void,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let lastTick = Date.now();
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
    if (onTick && Date.now() - lastTick >= 1000) {
      lastTick = Date.now();
      onTick();
    }
  }
  return true;
}

/**
 * The command line of a process, or undefined when the platform does not tell us. Used to make
 * sure a pid taken from a pid file still is a bridge: pids are recycled, and killing whatever
 * process inherited a stale pid would be far worse than leaving a daemon running.
 */
export function processCommandLine(pid: number): string | undefined {
  const argv = procArgv(pid);
  if (argv !== undefined) return argv.join(' ').trim();
  // No procfs (macOS, BSD): ask ps.
  try {
    return (
      execFileSync('ps', ['-o', 'command=', '-p', String(pid)], {
        encoding: 'utf8',
        timeout: 2000,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** The arguments of a process from procfs (Linux), exact even when they contain spaces. */
function procArgv(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((arg, index, all) => arg !== '' || index < all.length - 1);
  } catch {
    return undefined;
  }
}

/** The value of `--project` on a bridge's command line, when the platform shows it exactly. */
export function processProjectFlag(pid: number): string | undefined {
  const argv = procArgv(pid);
  const index = argv?.indexOf('--project') ?? -1;
  return index >= 0 ? argv?.[index + 1] : undefined;
}

/** The working directory of a process (Linux only); `up --daemon` starts its child in the project. */
export function processCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** True if the command line is `codex-oss up` (through the bin or dist/cli/main.js). */
export function looksLikeBridgeCommand(commandLine: string): boolean {
  return /(codex-oss|cli[/\\]main\.js)\s+up(\s|$)/.test(commandLine);
}

/**
 * Pids listening on a TCP port, for the one case /health cannot tell us the pid: a bridge that
 * rejects our key. Linux reads procfs (only our own processes' sockets are visible, which are the
 * only ones we may signal anyway); elsewhere lsof is tried.
 */
export function findListeningPids(port: number): number[] {
  const inodes = listeningInodes(port);
  if (inodes !== undefined) return pidsOwningSockets(inodes);
  try {
    const output = execFileSync('lsof', ['-nP', '-t', `-iTCP:${port}`, '-sTCP:LISTEN'], {
      encoding: 'utf8',
      timeout: 3000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return output
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
  } catch {
    return [];
  }
}

function listeningInodes(port: number): Set<string> | undefined {
  const inodes = new Set<string>();
  let readAny = false;
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    readAny = true;
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      const state = fields[3];
      const inode = fields[9];
      // State 0A is LISTEN.
      if (local?.endsWith(`:${hexPort}`) && state === '0A' && inode !== undefined)
        inodes.add(inode);
    }
  }
  return readAny ? inodes : undefined;
}

function pidsOwningSockets(inodes: Set<string>): number[] {
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match?.[1] !== undefined && inodes.has(match[1])) {
        pids.push(Number(entry));
        break;
      }
    }
  }
  return pids;
}

/** The last `count` lines of a file from byte `offset` on (the current run's part of the log). */
export function tailFile(file: string, count: number, offset = 0): string[] {
  let text: string;
  try {
    text = readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-count);
}
