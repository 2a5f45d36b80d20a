// Starting the benchmark's server processes (pinned to a core with taskset when it exists) and
// talking to them over IPC. Every child is ended by its own pid, never by name.

import { fork, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';

/** taskset is used when it exists and there are at least two cores to split. */
export function pinningAvailable() {
  if (cpus().length < 2) return { available: false, reason: 'fewer than 2 cores' };
  const probe = spawnSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' });
  if (probe.status !== 0) return { available: false, reason: 'taskset not found or not permitted' };
  return { available: true, reason: probe.stdout.trim() };
}

/** Pins this process and its existing threads to one core. */
export function pinSelf(core) {
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], {
    encoding: 'utf8',
  });
  return result.status === 0;
}

/**
 * Forks `modulePath role '<json>'`; resolves once the child reported { type: 'ready' }.
 * `core` pins it with `taskset -c <core>` (undefined: not pinned).
 */
export async function startChild(
  modulePath,
  role,
  options,
  { core, nodeFlags = [], env = {}, stdout = 'ignore', readyTimeoutMs = 30_000 } = {},
) {
  const pinned = core !== undefined;
  const child = fork(modulePath, [role, JSON.stringify(options)], {
    execPath: pinned ? 'taskset' : process.execPath,
    execArgv: pinned ? ['-c', String(core), process.execPath, ...nodeFlags] : nodeFlags,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', stdout, 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map();
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${role} child not ready after ${readyTimeoutMs} ms`)),
      readyTimeoutMs,
    );
    child.on('message', (message) => {
      if (message?.type === 'ready') {
        clearTimeout(timer);
        resolve(message);
        return;
      }
      const waiter = pending.get(message?.id);
      if (waiter) {
        pending.delete(message.id);
        waiter(message);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${role} child exited early (code ${code}, signal ${signal})`));
    });
  });
  const { url, pid } = await ready;
  const call = (cmd, extra = {}) =>
    new Promise((resolve) => {
      const id = nextId;
      nextId += 1;
      pending.set(id, resolve);
      child.send({ id, cmd, ...extra });
    });
  return {
    role,
    url,
    pid,
    call,
    stats: () => call('stats'),
    /** Asks the child to close its server and exit; kills it by pid if it does not. */
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      call('stop').catch(() => undefined);
      const timer = setTimeout(() => {
        if (child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      }, timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** CPU µs (user + system) spent between two 'stats' answers. */
export function cpuBetween(before, after) {
  return after.cpu.user - before.cpu.user + (after.cpu.system - before.cpu.system);
}
