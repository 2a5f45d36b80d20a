import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, startMockUpstream, type MockUpstream } from '../../src/demo/index.js';
import {
  buildPackageCopy,
  cliEnv,
  daemonPort,
  listeningPort,
  health,
  isAlive,
  LOCAL_KEY,
  PidTracker,
  readPid,
  removeDir,
  runCli,
  spawnCli,
  tempProject,
  waitFor,
  type BuiltPackage,
} from './cli-harness.js';

// Drives the real built CLI (bin/codex-oss → dist/cli/main.js) as child processes, the way a user
// does: daemons, pid files, signals and ports are the point of these tests.

let pkg: BuiltPackage;
let upstream: MockUpstream;
const pids = new PidTracker();
const dirs: string[] = [];

function project(label: string): string {
  const dir = tempProject(label);
  dirs.push(dir);
  return dir;
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  const codexHome = project('codex-home');
  return cliEnv({ UPSTREAM_BASE: upstream.baseUrl, CODEX_HOME: codexHome, ...extra });
}

beforeAll(async () => {
  [pkg, upstream] = await Promise.all([buildPackageCopy(), startMockUpstream()]);
  dirs.push(pkg.root);
}, 240_000);

afterAll(async () => {
  pids.killAll();
  await upstream.close();
  for (const dir of dirs) removeDir(dir);
});

describe('codex-oss up --daemon / status / stop', () => {
  it('starts a daemon that answers /health, reports fresh code, and stops it', async () => {
    const dir = project('daemon');
    const port = await daemonPort();
    const vars = env();

    const up = await runCli(pkg, ['up', '--daemon', '--port', String(port)], {
      cwd: dir,
      env: vars,
    });
    const pid = readPid(dir);
    pids.track(pid);
    expect(up.code, up.stderr).toBe(0);
    // It returned only once /health answered, from the pid it wrote.
    expect(pid).toBeDefined();
    const reported = await health(port);
    expect(reported?.['pid']).toBe(pid);
    expect(reported?.['project_root']).toBe(dir);
    expect(up.stdout).toContain(`http://127.0.0.1:${port}`);
    expect(up.stdout).toContain(path.join(dir, '.codex-oss', 'logs', 'bridge.log'));
    expect(existsSync(path.join(dir, '.codex-oss', 'logs', 'bridge.log'))).toBe(true);

    const status = await runCli(pkg, ['status', '--json', '--port', String(port)], {
      cwd: dir,
      env: vars,
    });
    expect(status.code, status.stderr).toBe(0);
    const statusJson = JSON.parse(status.stdout);
    expect(statusJson).toMatchObject({ running: true, fresh: true });
    expect(statusJson.health.pid).toBe(pid);
    expect(statusJson.source_hash_running).toBe(statusJson.source_hash_on_disk);

    const human = await runCli(pkg, ['status', '--port', String(port)], { cwd: dir, env: vars });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Running code:\s+FRESH/);
    expect(human.stdout).toContain(`PID:`);

    // A second `up` on the same port names the bridge that holds it.
    const again = await runCli(pkg, ['up', '--daemon', '--port', String(port)], {
      cwd: dir,
      env: vars,
    });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      `a bridge (pid ${pid}, project ${dir}) already listens on :${port}`,
    );

    const stop = await runCli(pkg, ['stop', '--port', String(port)], { cwd: dir, env: vars });
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain(`Stopped bridge pid ${pid}`);
    await waitFor('the daemon to exit', () => !isAlive(pid!));
    expect(readPid(dir)).toBeUndefined();

    const down = await runCli(pkg, ['status', '--port', String(port)], { cwd: dir, env: vars });
    expect(down.code).toBe(1);
    expect(down.stdout).toContain('DOWN');

    const nothing = await runCli(pkg, ['stop', '--port', String(port)], { cwd: dir, env: vars });
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toContain(`No bridge running on port ${port}`);
  }, 90_000);

  it('restart frees a port held by a daemon started from another project', async () => {
    const first = project('first');
    const second = project('second');
    const port = await daemonPort();
    const vars = env();

    const up = await runCli(pkg, ['up', '--daemon', '--port', String(port)], {
      cwd: first,
      env: vars,
    });
    const oldPid = readPid(first);
    pids.track(oldPid);
    expect(up.code, up.stderr).toBe(0);

    const restart = await runCli(pkg, ['restart', '--port', String(port)], {
      cwd: second,
      env: vars,
    });
    pids.track(readPid(second));
    expect(restart.code, restart.stderr).toBe(0);
    expect(restart.stderr).toContain(
      `Stopping bridge pid ${oldPid} (project ${first}, another checkout`,
    );
    expect(restart.stdout).toContain('Running code matches the code on disk.');
    expect(isAlive(oldPid!)).toBe(false);
    // The old project's pid file went with its daemon.
    expect(readPid(first)).toBeUndefined();

    const now = await health(port);
    expect(now?.['project_root']).toBe(second);
    expect(now?.['pid']).toBe(readPid(second));

    const stop = await runCli(pkg, ['stop', '--port', String(port)], { cwd: second, env: vars });
    expect(stop.code).toBe(0);
    await waitFor('the restarted daemon to exit', () => !isAlive(now?.['pid'] as number));
  }, 120_000);

  it('restart also replaces a bridge that rejects our key (another checkout, another PROXY_API_KEY)', async () => {
    const first = project('locked');
    const second = project('unlocked');
    const port = await daemonPort();

    const up = await runCli(pkg, ['up', '--daemon', '--port', String(port)], {
      cwd: first,
      env: env({ PROXY_API_KEY: 'sk-other-checkout' }),
    });
    const oldPid = readPid(first);
    pids.track(oldPid);
    expect(up.code, up.stderr).toBe(0);

    const vars = env();
    const status = await runCli(pkg, ['status', '--port', String(port)], {
      cwd: second,
      env: vars,
    });
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('rejected the key');

    const restart = await runCli(pkg, ['restart', '--port', String(port)], {
      cwd: second,
      env: vars,
    });
    pids.track(readPid(second));
    expect(restart.code, restart.stderr).toBe(0);
    expect(restart.stderr).toContain(
      `Stopping bridge pid ${oldPid} (project ${first}, another checkout`,
    );
    expect(isAlive(oldPid!)).toBe(false);
    expect(readPid(first)).toBeUndefined();
    expect((await health(port))?.['project_root']).toBe(second);

    const stop = await runCli(pkg, ['stop', '--port', String(port)], { cwd: second, env: vars });
    expect(stop.code).toBe(0);
  }, 120_000);

  it('refuses to take a port from a program that is not a bridge', async () => {
    const dir = project('foreign');
    const sockets = new Set<Socket>();
    const blocker: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.end('not http\r\n');
    });
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const vars = env();
      const up = await runCli(pkg, ['up', '--port', String(port)], { cwd: dir, env: vars });
      expect(up.code).toBe(1);
      expect(up.stderr).toContain(`port ${port} is in use by another program`);

      const restart = await runCli(pkg, ['restart', '--port', String(port)], {
        cwd: dir,
        env: vars,
      });
      expect(restart.code).toBe(1);
      expect(restart.stderr).toContain('not a bridge');
      expect(restart.stderr).toContain('--port');
    } finally {
      // close() waits for open connections; a probe's half-closed socket must not keep it waiting.
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, 60_000);
});

describe('codex-oss up (foreground)', () => {
  it('lists every configuration problem, naming each variable, and exits 2', async () => {
    const dir = project('config');
    const result = await runCli(pkg, ['up'], {
      cwd: dir,
      env: env({ PROXY_PORT: 'abc', GPT_MODEL_STRATEGY: 'bogus' }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PROXY_PORT');
    expect(result.stderr).toContain('GPT_MODEL_STRATEGY');
    expect(result.stderr).toContain('2 problem(s)');
  });

  it('on SIGTERM finishes the in-flight stream, then exits 0', async () => {
    const dir = project('drain');
    const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
    upstream.script(reply().text(words.join(' ')).chunkSize(6).paceMs(250));

    // Port 0: the daemon binds whatever the OS gives it and says which in its listening line.
    const daemon = spawnCli(pkg, ['up', '--port', '0'], { cwd: dir, env: env() });
    pids.track(daemon.child.pid);
    const port = await waitFor('the listening line', () => listeningPort(daemon.output.stderr));
    expect(daemon.output.stderr).toContain(`http://127.0.0.1:${port}`);
    expect(readPid(dir)).toBe(daemon.child.pid);

    const requestsBefore = upstream.requests.length;
    const response = await fetch(`http://127.0.0.1:${port}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${LOCAL_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'ocg-kimi-k2.6', stream: true, input: 'say the alphabet' }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let body = '';
    // Wait until the first delta arrived: the request is genuinely in flight when the signal lands.
    await waitFor('the first text delta', async () => {
      const chunk = await reader.read();
      if (chunk.value) body += decoder.decode(chunk.value, { stream: true });
      return body.includes('response.output_text.delta') || chunk.done;
    });
    expect(upstream.requests.length).toBeGreaterThan(requestsBefore);

    daemon.child.kill('SIGTERM');
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      body += decoder.decode(chunk.value, { stream: true });
    }
    const exit = await daemon.exited;

    expect(body).toContain('response.completed');
    const text = [...body.matchAll(/"delta":"([^"]*)"/g)].map((match) => match[1]).join('');
    expect(text).toBe(words.join(' '));
    expect(exit).toEqual({ code: 0, signal: null });
    expect(daemon.output.stderr).toContain('Received SIGTERM');
    // It removed its own pid file on the way out.
    expect(readPid(dir)).toBeUndefined();
  }, 60_000);
});

describe('codex-oss up (foreground), second signal', () => {
  it('a second SIGTERM exits at once without waiting for the drain', async () => {
    const dir = project('force');
    // Slow enough that the drain could not finish before the second signal lands.
    upstream.script(reply().text('x'.repeat(200)).chunkSize(2).paceMs(500));
    // Port 0: the daemon binds whatever the OS gives it and says which in its listening line.
    const daemon = spawnCli(pkg, ['up', '--port', '0'], { cwd: dir, env: env() });
    pids.track(daemon.child.pid);
    const port = await waitFor('the listening line', () => listeningPort(daemon.output.stderr));

    const response = await fetch(`http://127.0.0.1:${port}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${LOCAL_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'ocg-kimi-k2.6', stream: true, input: 'go slowly' }),
    });
    const reader = response.body!.getReader();
    await reader.read();

    daemon.child.kill('SIGTERM');
    await waitFor('the drain notice', () => daemon.output.stderr.includes('Received SIGTERM'));
    daemon.child.kill('SIGTERM');
    const exit = await daemon.exited;
    await reader.cancel().catch(() => undefined);

    expect(exit).toEqual({ code: 1, signal: null });
    expect(daemon.output.stderr).toContain('Received SIGTERM again: exiting now');
    expect(readPid(dir)).toBeUndefined();
  }, 60_000);
});

describe('bin/codex-oss', () => {
  it('tells the user to build when dist is missing', async () => {
    const bare = project('unbuilt');
    mkdirSync(path.join(bare, 'bin'));
    copyFileSync(pkg.bin, path.join(bare, 'bin', 'codex-oss'));
    const result = await runCli(
      { root: bare, bin: path.join(bare, 'bin', 'codex-oss') },
      ['status'],
      {
        cwd: bare,
        env: env(),
      },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('opencode-bridge is not built yet: run `npm run build`');
    expect(result.stderr).toContain(bare);
    expect(readFileSync(pkg.bin, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
  });
});
