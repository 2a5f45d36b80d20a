import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync } from 'node:fs';
import path from 'node:path';
import { packageRoot, type Config } from '../config/index.js';
import { createLogger } from '../log/index.js';
import type { startDaemon as startDaemonFn } from '../http/index.js';
import type { CliIO } from './cli-io.js';
import { bridgeBaseUrl } from './bridge-target.js';
import { probeBridge, waitForBridge } from './bridge-probe.js';
import {
  ensureRuntimeDirs,
  isAlive,
  looksLikeBridgeCommand,
  processCommandLine,
  readPidFile,
  removePidFileIfOwned,
  tailFile,
  writePidFile,
} from './process-control.js';

type StartDaemon = typeof startDaemonFn;

const STARTUP_TIMEOUT_MS = 20_000;
const LOG_TAIL_LINES = 20;

/**
 * `codex-oss up` in the foreground: the daemon lives in this process until SIGTERM/SIGINT, which
 * drains in-flight requests before exiting 0. A second signal exits at once.
 */
export async function runForeground(config: Config, io: CliIO): Promise<number> {
  // Loaded lazily so status/doctor/stop never pay for Fastify and the upstream client.
  let startDaemon: StartDaemon;
  try {
    ({ startDaemon } = await import('../http/index.js'));
  } catch (error) {
    // A half-finished or mixed build fails here, at module link time, not inside the daemon.
    io.stderr.write(
      `opencode-bridge cannot load its server code (${(error as Error).message}).
` +
        `The build in ${packageRoot()}/dist looks incomplete: run \`npm run build\` there, then try again.
`,
    );
    return 1;
  }
  // In the real process pino writes straight to fd 1; tests hand in a collector instead.
  const logger = createLogger(
    config.LOG_LEVEL,
    io.stdout === process.stdout ? undefined : io.stdout,
  );

  let daemon: Awaited<ReturnType<StartDaemon>>;
  try {
    daemon = await startDaemon({ config, logger });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      io.stderr.write(`${await describeBusyPort(config)}\n`);
      return 1;
    }
    io.stderr.write(
      `opencode-bridge failed to start: ${(error as Error).message}\nRun \`codex-oss doctor\` to check the setup.\n`,
    );
    return 1;
  }

  // The pid file lets `stop` find this daemon even when /health is unreachable.
  let pidFile: string | undefined;
  try {
    pidFile = ensureRuntimeDirs(config.CODEX_OSS_PROJECT).pidFile;
    writePidFile(pidFile, process.pid);
  } catch (error) {
    io.stderr.write(
      `Warning: cannot write the pid file under ${config.CODEX_OSS_PROJECT}/.codex-oss (${(error as Error).message}); ` +
        '`codex-oss stop` will find the daemon through /health only.\n',
    );
    pidFile = undefined;
  }

  io.stderr.write(
    `opencode-bridge listening on ${daemon.url} (project ${config.CODEX_OSS_PROJECT}, upstream ${config.UPSTREAM_BASE})\n`,
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const drainSeconds = config.BRIDGE_SHUTDOWN_DRAIN_SECONDS;
    const finish = (code: number): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      if (pidFile !== undefined) removePidFileIfOwned(pidFile, process.pid);
      resolve(code);
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        io.stderr.write(`Received ${signal} again: exiting now, in-flight requests are cut off.\n`);
        if (pidFile !== undefined) removePidFileIfOwned(pidFile, process.pid);
        process.exit(1);
      }
      stopping = true;
      io.stderr.write(
        `Received ${signal}: no new requests; finishing in-flight ones (up to ${drainSeconds} s). Send ${signal} again to exit at once.\n`,
      );
      // close() is meant to honour the drain limit itself; this guard only covers a close that hangs.
      const guard = setTimeout(
        () => {
          io.stderr.write(`Shutdown did not finish within ${drainSeconds + 10} s; exiting.\n`);
          finish(1);
        },
        (drainSeconds + 10) * 1000,
      );
      guard.unref();
      daemon.close().then(
        () => {
          clearTimeout(guard);
          io.stderr.write('opencode-bridge stopped.\n');
          finish(0);
        },
        (error: unknown) => {
          clearTimeout(guard);
          io.stderr.write(
            `opencode-bridge did not shut down cleanly: ${(error as Error).message}\n`,
          );
          finish(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Who holds the port, in words that say what to do next. */
export async function describeBusyPort(config: Config): Promise<string> {
  const port = config.PROXY_PORT;
  const probe = await probeBridge(bridgeBaseUrl(config.PROXY_HOST, port), config.PROXY_API_KEY);
  switch (probe.kind) {
    case 'bridge':
      return (
        `a bridge (pid ${probe.health.pid}, project ${probe.health.project_root ?? 'unknown'}) already listens on :${port}; ` +
        'run `codex-oss stop` or `codex-oss restart`'
      );
    case 'bridge-locked':
      return (
        `a bridge started with a different PROXY_API_KEY already listens on :${port}; ` +
        'run `codex-oss restart` to replace it, or `codex-oss stop`'
      );
    case 'foreign':
    case 'down':
      // 'down' here means it was busy a moment ago; either way it is not a bridge we can manage.
      return `port ${port} is in use by another program; stop it, or pick another port with --port N (or PROXY_PORT)`;
  }
}

/**
 * `codex-oss up --daemon`: starts `codex-oss up` detached with its output appended to
 * `.codex-oss/logs/bridge.log`, and returns only once /health answers from that very process.
 */
export async function startDetachedDaemon(config: Config, io: CliIO): Promise<number> {
  const port = config.PROXY_PORT;
  if (port === 0) {
    io.stderr.write(
      '--daemon needs a fixed port so stop and status can find it; pass --port N (or PROXY_PORT).\n',
    );
    return 2;
  }
  const baseUrl = bridgeBaseUrl(config.PROXY_HOST, port);
  const before = await probeBridge(baseUrl, config.PROXY_API_KEY);
  if (before.kind !== 'down') {
    io.stderr.write(`${await describeBusyPort(config)}\n`);
    return 1;
  }

  const project = config.CODEX_OSS_PROJECT;
  const paths = ensureRuntimeDirs(project);
  const existing = readPidFile(paths.pidFile);
  if (existing !== undefined && isAlive(existing)) {
    const commandLine = processCommandLine(existing);
    if (commandLine === undefined || looksLikeBridgeCommand(commandLine)) {
      io.stderr.write(
        `A bridge for this project is already running (pid ${existing}, from ${paths.pidFile}) on another port; ` +
          'run `codex-oss stop --project ' +
          `${project}\` first.\n`,
      );
      return 1;
    }
  }

  const root = packageRoot();
  const bin = path.join(root, 'bin', 'codex-oss');
  const entry = existsSync(bin) ? bin : path.join(root, 'dist', 'cli', 'main.js');
  const logFd = openSync(paths.logFile, 'a');
  const logOffset = fstatSync(logFd).size;
  const child = spawn(
    process.execPath,
    [entry, 'up', '--project', project, '--port', String(port), '--host', config.PROXY_HOST],
    { detached: true, stdio: ['ignore', logFd, logFd], env: { ...io.env }, cwd: project },
  );
  closeSync(logFd);

  // A holder object, not `let`s: TypeScript would keep them narrowed to undefined across awaits.
  const state: {
    exit?: { code: number | null; signal: NodeJS.Signals | null };
    spawnError?: Error;
  } = {};
  child.once('exit', (code, signal) => (state.exit = { code, signal }));
  child.once('error', (error) => (state.spawnError = error));
  const pid = child.pid;
  if (pid === undefined) {
    io.stderr.write(
      `Could not start ${process.execPath} ${entry}: ${state.spawnError?.message ?? 'unknown error'}\n`,
    );
    return 1;
  }
  writePidFile(paths.pidFile, pid);

  io.stderr.write(`Starting opencode-bridge (pid ${pid}) on ${baseUrl}`);
  let polls = 0;
  const health = await waitForBridge(baseUrl, config.PROXY_API_KEY, {
    timeoutMs: STARTUP_TIMEOUT_MS,
    accept: (candidate) => candidate.pid === pid,
    onPoll: () => {
      polls += 1;
      if (polls % 5 === 0) io.stderr.write('.');
      return state.exit !== undefined || state.spawnError !== undefined;
    },
  });
  io.stderr.write('\n');

  if (health !== undefined) {
    child.unref();
    // stop and status find the daemon by port; say which flags they need when it is not the default.
    const where = [
      port === 4000 ? '' : ` --port ${port}`,
      config.PROXY_HOST === '127.0.0.1' ? '' : ` --host ${config.PROXY_HOST}`,
    ].join('');
    io.stdout.write(
      `opencode-bridge is running: pid ${pid}, ${baseUrl} (project ${project})\nLog: ${paths.logFile}\n` +
        `Check it with \`codex-oss status${where}\`; stop it with \`codex-oss stop${where}\`.\n`,
    );
    return 0;
  }

  const { exit, spawnError } = state;
  if (exit === undefined && spawnError === undefined) {
    io.stderr.write(
      `The bridge did not answer ${baseUrl}/health within ${STARTUP_TIMEOUT_MS / 1000} s; stopping it.\n`,
    );
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  } else {
    const how =
      spawnError?.message ??
      (exit?.signal ? `signal ${exit.signal}` : `exit code ${exit?.code ?? '?'}`);
    io.stderr.write(`The bridge exited during startup (${how}).\n`);
  }
  removePidFileIfOwned(paths.pidFile, pid);
  const tail = tailFile(paths.logFile, LOG_TAIL_LINES, logOffset);
  if (tail.length > 0) {
    io.stderr.write(
      `Last ${tail.length} log lines from ${paths.logFile}:\n${tail.map((line) => `  ${line}`).join('\n')}\n`,
    );
  } else {
    io.stderr.write(`Nothing was written to ${paths.logFile}.\n`);
  }
  return 1;
}
