import path from 'node:path';
import type { CliIO } from './cli-io.js';
import type { BridgeTarget } from './bridge-target.js';
import { probeBridge, type ProbeResult } from './bridge-probe.js';
import {
  findListeningPids,
  isAlive,
  looksLikeBridgeCommand,
  processCommandLine,
  processCwd,
  processProjectFlag,
  readPidFile,
  removePidFileIfOwned,
  runtimePaths,
  waitForExit,
} from './process-control.js';

interface Candidate {
  readonly pid: number;
  /** How we learned about it, for the message. */
  readonly via: string;
  readonly project: string | undefined;
}

export interface StopOutcome {
  /** Pids that are gone now. */
  readonly stopped: readonly number[];
  /** Pids that survived even SIGKILL (or that we may not signal). */
  readonly survivors: readonly number[];
  /** What held the port before stopping. */
  readonly probe: ProbeResult;
}

/**
 * Stops every bridge that belongs to the target: the one named by the project's pid file, and the
 * one answering on the port, even when that one was started from another checkout (the original
 * bridge kept serving an old project's code because restart only looked at its own pid file).
 * A port held by something that is not a bridge is left alone.
 */
export async function stopBridges(target: BridgeTarget, io: CliIO): Promise<StopOutcome> {
  const { pidFile } = runtimePaths(target.project);
  const candidates = new Map<number, Candidate>();

  const filePid = readPidFile(pidFile);
  if (filePid !== undefined) {
    const commandLine = isAlive(filePid) ? processCommandLine(filePid) : undefined;
    // When the platform cannot show the command line, trust our own pid file.
    const verified =
      isAlive(filePid) && (commandLine === undefined || looksLikeBridgeCommand(commandLine));
    if (verified) {
      candidates.set(filePid, {
        pid: filePid,
        via: `pid file ${pidFile}`,
        project: target.project,
      });
    } else {
      removePidFileIfOwned(pidFile, filePid);
      io.stderr.write(
        `Removed stale pid file ${pidFile} (pid ${filePid} is not a running bridge).\n`,
      );
    }
  }

  const probe = await probeBridge(target.baseUrl, target.apiKey);
  switch (probe.kind) {
    case 'bridge':
      if (!candidates.has(probe.health.pid)) {
        candidates.set(probe.health.pid, {
          pid: probe.health.pid,
          via: `/health on port ${target.port}`,
          project: probe.health.project_root,
        });
      }
      break;
    case 'bridge-locked':
      // The bridge will not tell us its pid without its key; find the listener ourselves.
      for (const pid of findListeningPids(target.port)) {
        const commandLine = processCommandLine(pid);
        if (
          !candidates.has(pid) &&
          commandLine !== undefined &&
          looksLikeBridgeCommand(commandLine)
        ) {
          // Best effort: the --project flag on its command line, else its working directory.
          const project = processProjectFlag(pid) ?? processCwd(pid);
          candidates.set(pid, { pid, via: `listener on port ${target.port}`, project });
        }
      }
      if (candidates.size === 0) {
        io.stderr.write(
          `A bridge on port ${target.port} rejected our key (HTTP ${probe.status}) and its process could not be found; ` +
            `set PROXY_API_KEY to the key it was started with and run this again.\n`,
        );
      }
      break;
    case 'foreign':
      io.stderr.write(
        `Port ${target.port} is used by another program (${probe.detail}); it is not a bridge, so it is left alone.\n`,
      );
      break;
    case 'down':
      break;
  }

  if (candidates.size === 0) {
    io.stdout.write(`No bridge running on port ${target.port}.\n`);
    return { stopped: [], survivors: [], probe };
  }

  const stopped: number[] = [];
  const survivors: number[] = [];
  for (const candidate of candidates.values()) {
    const served = candidate.project ?? 'unknown';
    const other =
      candidate.project !== undefined && path.resolve(candidate.project) !== target.project;
    io.stderr.write(
      `Stopping bridge pid ${candidate.pid} (project ${served}${other ? ', another checkout' : ''}; found via ${candidate.via})`,
    );
    if (await terminate(candidate.pid, target.drainSeconds, io)) {
      stopped.push(candidate.pid);
      io.stdout.write(`Stopped bridge pid ${candidate.pid} (project ${served}).\n`);
    } else {
      survivors.push(candidate.pid);
    }
    removePidFileIfOwned(pidFile, candidate.pid);
    if (candidate.project !== undefined) {
      removePidFileIfOwned(runtimePaths(candidate.project).pidFile, candidate.pid);
    }
  }
  return { stopped, survivors, probe };
}

/** SIGTERM, wait for the drain, then SIGKILL. True once the process is gone. */
async function terminate(pid: number, drainSeconds: number, io: CliIO): Promise<boolean> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') {
      io.stderr.write(' already gone.\n');
      return true;
    }
    io.stderr.write(
      `\nCannot signal pid ${pid} (${code ?? String(error)}); it belongs to another user. Stop it as that user.\n`,
    );
    return false;
  }
  // The daemon finishes in-flight requests for up to its drain time before exiting.
  const exited = await waitForExit(pid, (drainSeconds + 5) * 1000, () => io.stderr.write('.'));
  if (exited) {
    io.stderr.write(' done.\n');
    return true;
  }
  io.stderr.write(
    `\nWarning: pid ${pid} did not exit within ${drainSeconds + 5} s of SIGTERM; sending SIGKILL (in-flight requests are cut off).\n`,
  );
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Exited between the last check and the kill.
  }
  if (await waitForExit(pid, 5000)) return true;
  io.stderr.write(`Pid ${pid} survived SIGKILL; check it with \`ps -p ${pid}\`.\n`);
  return false;
}
