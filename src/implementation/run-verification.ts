import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { scrubbedChildEnv } from '../config/index.js';
import { redactSecrets } from '../runtime/index.js';
import { sandboxSetupExitCode } from './sandbox-setup-exit.js';
import { OutputCapture } from './output-capture.js';
import {
  bwrapBaseFlags,
  findExecutable,
  probeSandbox,
  unshareBaseFlags,
  unshareMountFlags,
  type SandboxMechanism,
  type SandboxProbe,
} from './sandbox-probe.js';
import { changedPaths, fingerprintTree, type TreeFingerprint } from './tree-fingerprint.js';

/**
 * Runs a mission's allow-listed verification commands in its isolation: argv with no shell, a
 * scrubbed environment with a fresh HOME and TMPDIR, a timeout, bounded and redacted output, each
 * command in its own process group that is killed whole when the command ends (so nothing it
 * started outlives it), inside the strongest sandbox the machine allows (sandbox-probe.ts).
 *
 * All commands run, even after one fails: each is a separate check the mission's policy asked for,
 * and the repair round and the reviewer need the whole picture (a lint failure and a test failure
 * are both worth fixing in one round). `stopAtFirstFailure` is there for command lists where later
 * ones depend on earlier ones (build, then test). A cancellation always stops the run.
 *
 * Which path CI takes: `.ci/run` installs bubblewrap, and CI runs as root in a container where
 * bwrap works, so CI enforces a read-only filesystem and no network (`mechanism: 'bwrap'`). Where
 * the install fails it falls back to `unshare` (root can create namespaces) with the project
 * mounted read-only by mount-namespace-entry.ts, and where mounts are refused to the workspace
 * fingerprint check. The tests assert whichever guarantee the recorded isolation claims, and
 * drive every mechanism the machine has (the fingerprint check always).
 */

export interface VerificationRequest {
  /** The isolation root (the worktree); commands run here. */
  readonly cwd: string;
  /** argv lists, already allow-listed by the caller. */
  readonly commands: readonly (readonly string[])[];
  /** Per command. */
  readonly timeoutSeconds: number;
  readonly networkAllowed: boolean;
  /** Per stream, kept for the record (head + tail). Default 16 KiB. */
  readonly maxCapturedBytes?: number;
  /** stdout + stderr of one command before it is killed as a flood. Default 8 MiB. */
  readonly maxOutputBytes?: number;
  /** Mission deadline or cancel: kills the running command's group, runs nothing more. */
  readonly signal?: AbortSignal;
  /**
   * The main workspace to protect. Default: derived from `cwd` when it is
   * `<project>/.codex-oss/worktrees/<run_id>`.
   */
  readonly projectRoot?: string;
  /** Force a weaker mechanism than the best one (tests; a machine where bwrap misbehaves). */
  readonly sandbox?: 'auto' | SandboxMechanism;
  /** Skip the remaining commands after the first that does not pass. Default false. */
  readonly stopAtFirstFailure?: boolean;
  /** Grace between SIGTERM and SIGKILL when a command's group is ended. Default 2 s. */
  readonly killGraceMs?: number;
  /** Called as each command finishes (progress, commentary); errors it throws are ignored. */
  readonly onResult?: (result: CommandResult, index: number) => void;
}

export type CommandOutcome =
  | 'passed'
  | 'failed'
  | 'timed_out'
  | 'output_limit'
  | 'cancelled'
  | 'spawn_failed'
  | 'sandbox_violation';

export interface EnforcedIsolation {
  readonly mechanism: SandboxMechanism;
  /** `isolated`: own empty network namespace; `allowed`: the mission allows network; `not_isolated`: wanted but impossible here. */
  readonly network: 'isolated' | 'allowed' | 'not_isolated';
  /**
   * `read_only`: everything outside the worktree and the scratch HOME/TMPDIR is read-only and
   * `.codex-oss/` is hidden; `project_read_only`: the main workspace is read-only and
   * `.codex-oss/` hidden, the rest of the machine writable; `checked`: writable, but the main
   * workspace is fingerprinted before and after each command; `unchecked`: writable and the main
   * workspace is unknown.
   */
  readonly filesystem: 'read_only' | 'project_read_only' | 'checked' | 'unchecked';
  /** `pid_namespace`: every descendant dies with the command; `process_group`: the group is killed. */
  readonly processes: 'pid_namespace' | 'process_group';
  readonly home: 'temporary';
  /** One sentence for the record. */
  readonly detail: string;
}

export interface CommandResult {
  readonly command: string[];
  readonly exit_code: number | null;
  readonly signal: string | null;
  readonly outcome: CommandOutcome;
  readonly duration_ms: number;
  /** Redacted, head + tail. */
  readonly stdout: string;
  readonly stderr: string;
  /** Every byte the command wrote to stdout and stderr. */
  readonly output_bytes: number;
  readonly truncated: boolean;
  readonly isolation: EnforcedIsolation;
  /** Main-workspace paths that changed while the command ran (filesystem `checked` only). */
  readonly escaped_writes: string[];
}

export interface VerificationRun {
  readonly results: CommandResult[];
  /** Commands not run (after a cancellation, or a failure with stopAtFirstFailure). */
  readonly skipped: string[][];
  readonly isolation: EnforcedIsolation;
  /** True when there was at least one command and every one passed. */
  readonly passed: boolean;
}

const requestSchema = z.object({
  cwd: z.string().refine((value) => path.isAbsolute(value), 'cwd must be an absolute path'),
  commands: z.array(z.array(z.string()).min(1, 'a command needs at least its program')),
  timeoutSeconds: z.number().positive(),
  networkAllowed: z.boolean(),
  maxCapturedBytes: z.number().int().positive().optional(),
  maxOutputBytes: z.number().int().positive().optional(),
  projectRoot: z.string().optional(),
  sandbox: z.enum(['auto', 'bwrap', 'unshare', 'none']).optional(),
  stopAtFirstFailure: z.boolean().optional(),
  killGraceMs: z.number().int().nonnegative().optional(),
});

const defaultCapturedBytes = 16 * 1024;
const defaultOutputBytes = 8 * 1024 * 1024;

export async function runVerification(req: VerificationRequest): Promise<VerificationRun> {
  const parsed = requestSchema.safeParse(req);
  if (!parsed.success) {
    throw new Error(
      `invalid verification request: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const { cwd, projectRoot, probe, mechanism, isolation } = await plan(req);

  const scratch = await mkdtemp(path.join(tmpdir(), 'codex-oss-verify-'));
  const home = path.join(scratch, 'home');
  const tmp = path.join(scratch, 'tmp');
  await mkdir(home);
  await mkdir(tmp);
  const results: CommandResult[] = [];
  const skipped: string[][] = [];
  try {
    for (const command of req.commands) {
      const stop =
        req.signal?.aborted === true ||
        (req.stopAtFirstFailure === true && results.some((r) => r.outcome !== 'passed'));
      if (stop) {
        skipped.push([...command]);
        continue;
      }
      const result = await runOne({
        command,
        cwd,
        projectRoot,
        scratch,
        home,
        tmp,
        mechanism,
        probe,
        isolation,
        networkAllowed: req.networkAllowed,
        timeoutMs: req.timeoutSeconds * 1000,
        keepBytes: req.maxCapturedBytes ?? defaultCapturedBytes,
        floodBytes: req.maxOutputBytes ?? defaultOutputBytes,
        graceMs: req.killGraceMs ?? 2000,
        signal: req.signal,
      });
      results.push(result);
      try {
        req.onResult?.(result, results.length - 1);
      } catch {
        // A progress callback never changes the outcome.
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const passed =
    req.commands.length > 0 &&
    skipped.length === 0 &&
    results.every((result) => result.outcome === 'passed');
  return { results, skipped, isolation, passed };
}

async function plan(req: IsolationPlanRequest): Promise<{
  cwd: string;
  projectRoot: string | null;
  probe: SandboxProbe;
  mechanism: SandboxMechanism;
  isolation: EnforcedIsolation;
}> {
  const cwd = await realpath(req.cwd).catch((error: unknown) => {
    throw new Error(`verification cwd ${req.cwd} does not exist`, { cause: error });
  });
  const projectRoot = await protectedRoot(cwd, req.projectRoot);
  const probe = await probeSandbox();
  const mechanism = chooseMechanism(probe, req.sandbox ?? 'auto');
  const isolation = describeIsolation(probe, mechanism, req.networkAllowed, projectRoot);
  return { cwd, projectRoot, probe, mechanism, isolation };
}

export type IsolationPlanRequest = Pick<
  VerificationRequest,
  'cwd' | 'networkAllowed' | 'projectRoot' | 'sandbox'
>;

/**
 * What runVerification will enforce for this request, without running anything: for a
 * `verification.started` event written before the first command.
 */
export async function planVerificationIsolation(
  req: IsolationPlanRequest,
): Promise<EnforcedIsolation> {
  return (await plan(req)).isolation;
}

async function protectedRoot(cwd: string, given: string | undefined): Promise<string | null> {
  if (given !== undefined) return realpath(given);
  const worktrees = path.dirname(cwd);
  const state = path.dirname(worktrees);
  if (path.basename(worktrees) === 'worktrees' && path.basename(state) === '.codex-oss') {
    return path.dirname(state);
  }
  return null;
}

function chooseMechanism(probe: SandboxProbe, wanted: 'auto' | SandboxMechanism): SandboxMechanism {
  const order: SandboxMechanism[] = ['bwrap', 'unshare', 'none'];
  const available = (m: SandboxMechanism): boolean =>
    m === 'none' || (m === 'bwrap' ? probe.bwrap.works : probe.unshare.works);
  const start = wanted === 'auto' ? 0 : order.indexOf(wanted);
  return order.slice(start).find(available) ?? 'none';
}

function describeIsolation(
  probe: SandboxProbe,
  mechanism: SandboxMechanism,
  networkAllowed: boolean,
  projectRoot: string | null,
): EnforcedIsolation {
  const network = networkAllowed ? 'allowed' : mechanism === 'none' ? 'not_isolated' : 'isolated';
  const filesystem =
    mechanism === 'bwrap'
      ? 'read_only'
      : projectRoot === null
        ? 'unchecked'
        : mechanism === 'unshare' && probe.unshare.mountEntry !== null
          ? 'project_read_only'
          : 'checked';
  const processes = mechanism === 'none' ? 'process_group' : 'pid_namespace';
  const parts = [
    mechanism === 'bwrap'
      ? 'bubblewrap sandbox: filesystem read-only outside the worktree, .codex-oss hidden, private /tmp'
      : mechanism === 'unshare'
        ? filesystem === 'project_read_only'
          ? 'unshare namespaces: the project read-only and .codex-oss hidden (the rest of the machine is writable)'
          : 'unshare namespaces; the filesystem is writable, so the main workspace is fingerprinted around each command'
        : 'no sandbox available on this machine; the main workspace is fingerprinted around each command',
    network === 'isolated'
      ? 'no network'
      : network === 'allowed'
        ? 'network allowed by the mission'
        : 'network NOT isolated',
    processes === 'pid_namespace'
      ? 'own pid namespace'
      : 'own process group (a descendant that leaves the group can outlive the command)',
    'temporary HOME and TMPDIR',
  ];
  if (filesystem === 'unchecked') {
    parts.push('main workspace unknown: writes outside are not checked');
  }
  return { mechanism, network, filesystem, processes, home: 'temporary', detail: parts.join('; ') };
}

interface RunOne {
  readonly command: readonly string[];
  readonly cwd: string;
  readonly projectRoot: string | null;
  readonly scratch: string;
  readonly home: string;
  readonly tmp: string;
  readonly mechanism: SandboxMechanism;
  readonly probe: SandboxProbe;
  readonly isolation: EnforcedIsolation;
  readonly networkAllowed: boolean;
  readonly timeoutMs: number;
  readonly keepBytes: number;
  readonly floodBytes: number;
  readonly graceMs: number;
  readonly signal: AbortSignal | undefined;
}

/** The argv that runs `executable args` inside the chosen sandbox. */
function wrap(run: RunOne, executable: string): [string, string[]] {
  const args = run.command.slice(1);
  if (run.mechanism === 'bwrap' && run.probe.bwrap.path !== null) {
    const flags: string[] = [...bwrapBaseFlags];
    if (!run.networkAllowed) flags.push('--unshare-net');
    if (run.projectRoot !== null) {
      // Re-expose the project read-only (the private /tmp hides it when it lives under /tmp),
      // then hide the bridge's own state (keys, logs, other runs) before binding the worktree.
      flags.push('--ro-bind', run.projectRoot, run.projectRoot);
      const state = path.join(run.projectRoot, '.codex-oss');
      if (existsSync(state)) flags.push('--tmpfs', state);
    }
    flags.push('--bind', run.cwd, run.cwd, '--bind', run.scratch, run.scratch);
    flags.push('--chdir', run.cwd, '--', executable, ...args);
    return [run.probe.bwrap.path, flags];
  }
  if (run.mechanism === 'unshare' && run.probe.unshare.path !== null) {
    const flags: string[] = [];
    if (run.probe.unshare.mapRootUser) flags.push('-r');
    if (!run.networkAllowed) flags.push('--net');
    const entry = run.probe.unshare.mountEntry;
    if (run.isolation.filesystem === 'project_read_only' && entry !== null && run.projectRoot) {
      const spec = {
        projectRoot: run.projectRoot,
        cwd: run.cwd,
        scratch: run.scratch,
        argv: [executable, ...args],
      };
      flags.push(...unshareMountFlags, ...unshareBaseFlags, '--');
      flags.push(process.execPath, entry, JSON.stringify(spec));
    } else {
      flags.push(...unshareBaseFlags, '--', executable, ...args);
    }
    return [run.probe.unshare.path, flags];
  }
  return [executable, args];
}

/**
 * Whether any live process is left in the group. Zombies do not count: on a machine whose init
 * reaps orphans lazily (containers), a sandbox's exited init can sit as a zombie for a second or
 * two, and waiting for it would only add latency. Linux answers from /proc; elsewhere a signal 0
 * probe (which also counts zombies) is the best there is.
 */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  if (!existsSync('/proc/self/stat')) return true;
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) > 57 || name.charCodeAt(0) < 48) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** SIGTERM to the whole group, SIGKILL to whatever is left after the grace period. */
async function endGroup(pid: number, graceMs: number): Promise<void> {
  if (!groupAlive(pid)) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && groupAlive(pid)) await delay(25);
  if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
}

/**
 * The sandbox could not be built, so the command never ran: bwrap exits 1 with a "bwrap: …" line
 * (a bind it cannot make, say), the mount-namespace entry exits 125 with a "codex-oss sandbox:"
 * line. That is not the command failing.
 */
function sandboxSetupFailed(run: RunOne, code: number | null, stderr: OutputCapture): boolean {
  if (stderr.total >= 4096) return false;
  if (run.mechanism === 'bwrap') return code === 1 && /^bwrap: /.test(stderr.text());
  if (run.isolation.filesystem === 'project_read_only') {
    return code === sandboxSetupExitCode && /^codex-oss sandbox: /m.test(stderr.text());
  }
  return false;
}

function redact(text: string): string {
  return redactSecrets(text).text;
}

async function runOne(run: RunOne): Promise<CommandResult> {
  const started = Date.now();
  const env = scrubbedChildEnv({ HOME: run.home, TMPDIR: run.tmp, TMP: run.tmp, TEMP: run.tmp });
  const commandForRecord = run.command.map(redact);
  const base = {
    command: commandForRecord,
    isolation: run.isolation,
  };
  const program = run.command[0] ?? '';
  const executable = await findExecutable(program, env['PATH'], run.cwd);
  if (executable === null) {
    return {
      ...base,
      exit_code: null,
      signal: null,
      outcome: 'spawn_failed',
      duration_ms: Date.now() - started,
      stdout: '',
      stderr: redact(`executable not found: ${program} (PATH=${env['PATH'] ?? ''})`),
      output_bytes: 0,
      truncated: false,
      escaped_writes: [],
    };
  }
  const check = run.isolation.filesystem === 'checked' && run.projectRoot !== null;
  const before: TreeFingerprint | null = check ? await fingerprintTree(run.projectRoot) : null;

  const stdout = new OutputCapture(run.keepBytes);
  const stderr = new OutputCapture(run.keepBytes);
  const [file, args] = wrap(run, executable);
  // Written from the child's callbacks; an object so the narrowing below sees the writes.
  const state: {
    stopReason: 'timed_out' | 'output_limit' | 'cancelled' | null;
    spawnError: string | null;
  } = { stopReason: null, spawnError: null };

  const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    const child = spawn(file, args, {
      cwd: run.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      shell: false,
    });
    const pid = child.pid;
    let exited: { code: number | null; signal: string | null } | null = null;
    let closed = false;
    let ending: Promise<void> | null = null;
    const stop = (reason: NonNullable<typeof state.stopReason>): void => {
      if (state.stopReason !== null || exited !== null || pid === undefined) return;
      state.stopReason = reason;
      ending = endGroup(pid, run.graceMs);
    };
    const timer = setTimeout(() => stop('timed_out'), run.timeoutMs);
    const onAbort = (): void => stop('cancelled');
    run.signal?.addEventListener('abort', onAbort, { once: true });
    const onData = (capture: OutputCapture) => (chunk: Buffer) => {
      capture.push(chunk);
      if (stdout.total + stderr.total > run.floodBytes) stop('output_limit');
    };
    child.stdout.on('data', onData(stdout));
    child.stderr.on('data', onData(stderr));

    let finished = false;
    const finish = (): void => {
      if (finished || exited === null) return;
      finished = true;
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      resolve(exited);
    };
    child.on('error', (error) => {
      state.spawnError = error.message;
      exited ??= { code: null, signal: null };
      closed = true;
      finish();
    });
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      // The command is gone; whatever it left in its group goes too, and only then is the output
      // complete. A descendant that left the group (and, without a pid namespace, survives) may
      // still hold the pipes open, so stop waiting for them after the grace period.
      void (async () => {
        if (ending !== null) await ending;
        if (pid !== undefined) await endGroup(pid, run.graceMs);
        const deadline = Date.now() + run.graceMs;
        while (!closed && Date.now() < deadline) await delay(25);
        if (!closed) {
          child.stdout.destroy();
          child.stderr.destroy();
        }
        finish();
      })();
    });
    child.on('close', () => {
      closed = true;
    });
  });

  const after =
    before !== null && run.projectRoot !== null ? await fingerprintTree(run.projectRoot) : null;
  const escaped = before !== null && after !== null ? changedPaths(before, after) : [];
  let outcome: CommandOutcome;
  if (escaped.length > 0) outcome = 'sandbox_violation';
  else if (state.stopReason !== null) outcome = state.stopReason;
  else if (state.spawnError !== null) outcome = 'spawn_failed';
  else if (sandboxSetupFailed(run, exit.code, stderr)) outcome = 'spawn_failed';
  else outcome = exit.code === 0 ? 'passed' : 'failed';

  let stderrText = stderr.text();
  if (state.spawnError !== null) stderrText += `\n[spawn failed: ${state.spawnError}]`;
  if (escaped.length > 0) {
    const shown = escaped.slice(0, 20).join(', ');
    stderrText += `\n[the main workspace changed while this command ran (by it, or by someone editing at the same time): ${shown}${escaped.length > 20 ? `, and ${escaped.length - 20} more` : ''}]`;
  }
  return {
    ...base,
    exit_code: exit.code,
    signal: exit.signal,
    outcome,
    duration_ms: Date.now() - started,
    stdout: redact(stdout.text()),
    stderr: redact(stderrText),
    output_bytes: stdout.total + stderr.total,
    truncated: stdout.truncated || stderr.truncated,
    escaped_writes: escaped,
  };
}
