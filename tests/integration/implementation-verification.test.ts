import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createIsolation,
  planVerificationIsolation,
  probeSandbox,
  runVerification,
  type Isolation,
  type SandboxMechanism,
  type SandboxProbe,
} from '../../src/implementation/index.js';
import { hashTree, makeRepo } from '../support/implementation-repos.js';

const node = process.execPath;
const js = (code: string): string[] => [node, '-e', code];

let repo: string;
let isolation: Isolation;
let probe: SandboxProbe;
let mechanisms: SandboxMechanism[];
const markers: string[] = [];

beforeAll(async () => {
  probe = await probeSandbox();
  mechanisms = (['bwrap', 'unshare', 'none'] as const).filter(
    (m) => m === 'none' || (m === 'bwrap' ? probe.bwrap.works : probe.unshare.works),
  );
  repo = makeRepo({ 'package.json': '{"name":"fixture"}\n', 'src/a.js': 'module.exports = 1;\n' });
  isolation = await createIsolation({ projectRoot: repo, runId: 'verify', scopePaths: ['.'] });
});

afterAll(async () => {
  await isolation.remove();
  rmSync(repo, { recursive: true, force: true });
});

/** Processes whose command line holds `marker`, found through /proc (any pid namespace). */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

afterEach(() => {
  // Never leave a survivor behind, whatever a failed assertion skipped.
  for (const marker of markers.splice(0)) {
    for (const pid of processesWith(marker)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});

function newMarker(): string {
  const marker = `codex-oss-test-${randomUUID()}`;
  markers.push(marker);
  return marker;
}

describe('probeSandbox', () => {
  it('probes each mechanism for real and names the best one that works', async () => {
    expect(await probeSandbox()).toBe(probe); // cached
    expect(['bwrap', 'unshare', 'none']).toContain(probe.best);
    if (probe.best === 'bwrap') expect(probe.bwrap.works).toBe(true);
    if (probe.bwrap.path === null) expect(probe.bwrap.detail).toMatch(/not installed/);
    expect(probe.bwrap.detail.length).toBeGreaterThan(0);
    expect(probe.unshare.detail.length).toBeGreaterThan(0);
  });
});

describe('runVerification', () => {
  it('records exit codes and runs every command even after a failure', async () => {
    const planned = await planVerificationIsolation({ cwd: isolation.root, networkAllowed: false });
    const progress: string[] = [];
    const run = await runVerification({
      cwd: isolation.root,
      commands: [
        js('process.exit(0)'),
        js('console.error("boom"); process.exit(3)'),
        js('console.log("third")'),
      ],
      timeoutSeconds: 30,
      networkAllowed: false,
      onResult: (result, index) => progress.push(`${index}:${result.outcome}`),
    });
    expect(run.results.map((r) => r.outcome)).toEqual(['passed', 'failed', 'passed']);
    expect(run.results.map((r) => r.exit_code)).toEqual([0, 3, 0]);
    expect(run.results[1]!.stderr).toContain('boom');
    expect(run.results[2]!.stdout).toBe('third\n');
    expect(run.passed).toBe(false);
    expect(run.skipped).toEqual([]);
    expect(run.isolation.mechanism).toBe(probe.best);
    expect(run.results[0]!.isolation).toEqual(run.isolation);
    expect(planned).toEqual(run.isolation);
    expect(progress).toEqual(['0:passed', '1:failed', '2:passed']);
  });

  it('passes only when every command passes, and stops at the first failure when asked', async () => {
    const ok = await runVerification({
      cwd: isolation.root,
      commands: [js('0'), js('require("fs").writeFileSync("inside.txt", "x")')],
      timeoutSeconds: 30,
      networkAllowed: false,
    });
    expect(ok.passed).toBe(true);
    // Writing inside the worktree is what verification is for.
    expect(readFileSync(path.join(isolation.root, 'inside.txt'), 'utf8')).toBe('x');
    rmSync(path.join(isolation.root, 'inside.txt'));

    const stopped = await runVerification({
      cwd: isolation.root,
      commands: [js('process.exit(1)'), js('0')],
      timeoutSeconds: 30,
      networkAllowed: false,
      stopAtFirstFailure: true,
    });
    expect(stopped.results.map((r) => r.outcome)).toEqual(['failed']);
    expect(stopped.skipped).toEqual([js('0')]);
    expect(stopped.passed).toBe(false);

    const none = await runVerification({
      cwd: isolation.root,
      commands: [],
      timeoutSeconds: 30,
      networkAllowed: false,
    });
    expect(none.passed).toBe(false);
  });

  it('reports a program that does not exist as spawn_failed', async () => {
    const run = await runVerification({
      cwd: isolation.root,
      commands: [['definitely-not-a-program-3b1f']],
      timeoutSeconds: 30,
      networkAllowed: false,
    });
    expect(run.results[0]!.outcome).toBe('spawn_failed');
    expect(run.results[0]!.stderr).toContain('executable not found: definitely-not-a-program-3b1f');
  });

  it('kills a hung command at its timeout', async () => {
    const run = await runVerification({
      cwd: isolation.root,
      commands: [js('setTimeout(() => {}, 60_000)')],
      timeoutSeconds: 1,
      networkAllowed: false,
    });
    expect(run.results[0]!.outcome).toBe('timed_out');
    expect(run.results[0]!.exit_code).toBeNull();
    expect(run.results[0]!.signal).not.toBeNull();
  });

  it('ends a command that ignores SIGTERM with SIGKILL after the grace period', async () => {
    const run = await runVerification({
      cwd: isolation.root,
      commands: [js('process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)')],
      timeoutSeconds: 1,
      networkAllowed: false,
      killGraceMs: 500,
      sandbox: 'none',
    });
    expect(run.results[0]!.outcome).toBe('timed_out');
    expect(run.results[0]!.signal).toBe('SIGKILL');
  });

  it('kills a grandchild left running by a command that exited, with every mechanism', async () => {
    for (const sandbox of mechanisms) {
      const marker = newMarker();
      const run = await runVerification({
        cwd: isolation.root,
        commands: [
          js(
            `require("child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", "${marker}"], { stdio: "ignore" }).unref();` +
              `setTimeout(() => process.exit(0), 300)`,
          ),
        ],
        timeoutSeconds: 30,
        networkAllowed: false,
        sandbox,
      });
      expect(run.results[0]!.outcome, sandbox).toBe('passed');
      expect(run.isolation.mechanism).toBe(sandbox);
      expect(processesWith(marker), sandbox).toEqual([]);
    }
  });

  it('also kills a grandchild that left the process group, where a pid namespace is available', async () => {
    const withPidNamespace = mechanisms.filter((m) => m !== 'none');
    for (const sandbox of withPidNamespace) {
      const marker = newMarker();
      const run = await runVerification({
        cwd: isolation.root,
        commands: [
          js(
            `require("child_process").spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", "${marker}"], { stdio: "ignore", detached: true }).unref();` +
              `setTimeout(() => process.exit(0), 300)`,
          ),
        ],
        timeoutSeconds: 30,
        networkAllowed: false,
        sandbox,
      });
      expect(run.isolation.processes).toBe('pid_namespace');
      expect(processesWith(marker), sandbox).toEqual([]);
    }
    // Without one, the record says a descendant can outlive the command.
    const plain = await runVerification({
      cwd: isolation.root,
      commands: [js('0')],
      timeoutSeconds: 30,
      networkAllowed: false,
      sandbox: 'none',
    });
    expect(plain.isolation.processes).toBe('process_group');
    expect(plain.isolation.detail).toContain('can outlive the command');
  });

  it('stops a 100 MB flood early, keeping a bounded head and tail', async () => {
    const run = await runVerification({
      cwd: isolation.root,
      commands: [
        js(
          'const line = Buffer.from("x".repeat(1023) + "\\n"); process.stdout.write("FIRST\\n");' +
            'for (let i = 0; i < 100 * 1024; i++) process.stdout.write(line);',
        ),
      ],
      timeoutSeconds: 60,
      networkAllowed: false,
      maxCapturedBytes: 8 * 1024,
      maxOutputBytes: 4 * 1024 * 1024,
    });
    const result = run.results[0]!;
    expect(result.outcome).toBe('output_limit');
    expect(result.output_bytes).toBeGreaterThan(4 * 1024 * 1024);
    expect(result.output_bytes).toBeLessThan(100 * 1024 * 1024);
    expect(result.truncated).toBe(true);
    expect(result.stdout.startsWith('FIRST\n')).toBe(true);
    expect(result.stdout).toMatch(/\[… \d+ bytes omitted …\]/);
    expect(result.stdout.length).toBeLessThan(8 * 1024 + 100);
  });

  it('runs with a scrubbed environment and a temporary HOME and TMPDIR that are removed afterwards', async () => {
    process.env['OPENCODE_GO_API_KEY'] = 'sk-live-testprocesssecret0123456789abcdef';
    process.env['CODEX_OSS_TEST_SECRET'] = 'visible-only-to-the-test-process';
    try {
      // Written to a file in the worktree: the record's stdout is redacted, and a random temp
      // path can look like a token to the redactor.
      const report = path.join(isolation.root, `env-${randomUUID()}.json`);
      const run = await runVerification({
        cwd: isolation.root,
        commands: [
          js(
            `const os = require("os"); require("fs").writeFileSync(${JSON.stringify(report)}, JSON.stringify({ env: process.env, home: os.homedir(), tmp: os.tmpdir(), cwd: process.cwd() }))`,
          ),
        ],
        timeoutSeconds: 30,
        networkAllowed: false,
      });
      expect(run.results[0]!.outcome).toBe('passed');
      const seen = JSON.parse(readFileSync(report, 'utf8')) as {
        env: Record<string, string>;
        home: string;
        tmp: string;
        cwd: string;
      };
      expect(seen.env['OPENCODE_GO_API_KEY']).toBeUndefined();
      expect(seen.env['CODEX_OSS_TEST_SECRET']).toBeUndefined();
      expect(Object.keys(seen.env).sort()).toEqual(
        expect.arrayContaining(['HOME', 'PATH', 'TMPDIR']),
      );
      expect(seen.home).not.toBe(homedir());
      expect(seen.home).toMatch(/codex-oss-verify-[^/]+\/home$/);
      expect(seen.tmp).toMatch(/codex-oss-verify-[^/]+\/tmp$/);
      expect(seen.cwd).toBe(isolation.root);
      expect(existsSync(seen.home)).toBe(false);
      expect(existsSync(path.dirname(seen.home))).toBe(false);
      rmSync(report);
    } finally {
      delete process.env['OPENCODE_GO_API_KEY'];
      delete process.env['CODEX_OSS_TEST_SECRET'];
    }
  });

  it('redacts secrets a command prints', async () => {
    const secret = 'sk-proj-AbCdEf0123456789GhIjKlMnOpQrStUvWxYz';
    const run = await runVerification({
      cwd: isolation.root,
      commands: [js(`console.log("key: OPENAI_API_KEY=${secret}"); console.error("${secret}")`)],
      timeoutSeconds: 30,
      networkAllowed: false,
    });
    const result = run.results[0]!;
    expect(result.stdout).toContain('[REDACTED]');
    expect(result.stdout).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
    expect(result.command.join(' ')).not.toContain(secret);
  });

  it('kills the running command on abort and runs nothing more', async () => {
    const controller = new AbortController();
    const started = path.join(isolation.root, `started-${randomUUID()}`);
    const watcher = setInterval(() => {
      if (existsSync(started)) controller.abort();
    }, 50);
    try {
      const run = await runVerification({
        cwd: isolation.root,
        commands: [
          js(
            `require("fs").writeFileSync(${JSON.stringify(started)}, ""); setTimeout(() => {}, 60_000)`,
          ),
          js('0'),
        ],
        timeoutSeconds: 60,
        networkAllowed: false,
        signal: controller.signal,
      });
      expect(run.results.map((r) => r.outcome)).toEqual(['cancelled']);
      expect(run.skipped).toEqual([js('0')]);
      expect(run.passed).toBe(false);
    } finally {
      clearInterval(watcher);
      rmSync(started, { force: true });
    }
  });
});

describe('runVerification containment', () => {
  const escapes = (target: string): string[][] => [
    js(`require("fs").writeFileSync(${JSON.stringify(path.join(repo, target))}, "x")`),
    js(`require("fs").writeFileSync("../../../${target}-relative", "x")`),
  ];

  it('keeps the main workspace byte-identical, or reports the write, with the best mechanism', async () => {
    const before = hashTree(repo, ['.codex-oss', '.git']);
    const run = await runVerification({
      cwd: isolation.root,
      commands: escapes('escaped.txt'),
      timeoutSeconds: 30,
      networkAllowed: false,
    });
    if (run.isolation.filesystem !== 'checked') {
      expect(['read_only', 'project_read_only']).toContain(run.isolation.filesystem);
      expect(hashTree(repo, ['.codex-oss', '.git'])).toBe(before);
      for (const result of run.results) {
        expect(result.outcome).toBe('failed');
        expect(result.stderr).toMatch(/EROFS|read-only/i);
      }
    } else {
      expect(run.results.map((r) => r.outcome)).toEqual(['sandbox_violation', 'sandbox_violation']);
      expect(run.results[0]!.escaped_writes).toEqual(['escaped.txt']);
      rmSync(path.join(repo, 'escaped.txt'), { force: true });
      rmSync(path.join(repo, 'escaped.txt-relative'), { force: true });
    }
  });

  it('refuses or reports writes outside the worktree with every mechanism, as its record says', async () => {
    const seen = new Set<string>();
    for (const sandbox of mechanisms) {
      const before = hashTree(repo, ['.codex-oss', '.git']);
      const run = await runVerification({
        cwd: isolation.root,
        commands: escapes(`escaped-${sandbox}`),
        timeoutSeconds: 30,
        networkAllowed: false,
        sandbox,
      });
      seen.add(run.isolation.filesystem);
      if (run.isolation.filesystem !== 'checked') {
        expect(['read_only', 'project_read_only'], sandbox).toContain(run.isolation.filesystem);
        expect(hashTree(repo, ['.codex-oss', '.git']), sandbox).toBe(before);
        for (const result of run.results) {
          expect(result.outcome, sandbox).toBe('failed');
          expect(result.stderr, sandbox).toContain('EROFS');
        }
        continue;
      }
      expect(
        run.results.map((r) => r.outcome),
        sandbox,
      ).toEqual(['sandbox_violation', 'sandbox_violation']);
      expect(run.results[0]!.escaped_writes).toEqual([`escaped-${sandbox}`]);
      expect(run.results[1]!.escaped_writes).toEqual([`escaped-${sandbox}-relative`]);
      expect(run.results[0]!.stderr).toContain('the main workspace changed');
      rmSync(path.join(repo, `escaped-${sandbox}`));
      rmSync(path.join(repo, `escaped-${sandbox}-relative`));

      // Same size, and the mtime put back: the ctime still gives it away.
      const target = path.join(repo, 'src', 'a.js');
      const original = readFileSync(target, 'utf8');
      // A whole-second mtime, so the command can put it back exactly.
      utimesSync(target, 1_700_000_000, 1_700_000_000);
      const sneaky = await runVerification({
        cwd: isolation.root,
        commands: [
          js(
            `const fs = require("fs"); const p = ${JSON.stringify(target)};` +
              `fs.writeFileSync(p, fs.readFileSync(p, "utf8").replace("1", "2")); fs.utimesSync(p, 1700000000, 1700000000)`,
          ),
        ],
        timeoutSeconds: 30,
        networkAllowed: false,
        sandbox,
      });
      expect(sneaky.results[0]!.outcome, sandbox).toBe('sandbox_violation');
      expect(sneaky.results[0]!.escaped_writes).toEqual(['src/a.js']);
      writeFileSync(target, original);
    }
    // Without a sandbox the fingerprint check always runs, so that path is covered everywhere.
    expect(seen.has('checked')).toBe(true);
  });

  it('hides the bridge state (keys, logs, other runs) from a command wherever it can mount', async () => {
    const envFile = path.join(repo, '.codex-oss', 'env', 'opencode-go.env');
    mkdirSync(path.dirname(envFile), { recursive: true });
    writeFileSync(envFile, 'OPENCODE_GO_API_KEY=sk-live-bridgestatesecret0123456789\n');
    const read = js(
      'process.stdout.write(require("fs").readFileSync("../../env/opencode-go.env", "utf8"))',
    );
    try {
      for (const sandbox of mechanisms) {
        const run = await runVerification({
          cwd: isolation.root,
          commands: [read],
          timeoutSeconds: 30,
          networkAllowed: false,
          sandbox,
        });
        const result = run.results[0]!;
        // Even where it can be read, the key never reaches the record.
        expect(result.stdout).not.toContain('bridgestatesecret');
        if (run.isolation.filesystem !== 'checked') {
          expect(result.outcome).toBe('failed');
          expect(result.stderr).toContain('ENOENT');
        } else {
          expect(result.outcome).toBe('passed');
          expect(result.stdout).toContain('[REDACTED]');
        }
      }
    } finally {
      rmSync(path.dirname(envFile), { recursive: true, force: true });
    }
  });
});

describe('runVerification network', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((socket) => socket.end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const connect = (): string[] =>
    js(
      `const s = require("net").connect(${port}, "127.0.0.1"); s.on("data", () => process.exit(0)); s.on("error", (e) => { console.error(e.code); process.exit(7); })`,
    );

  it('cuts the network unless the mission allows it, and says what it enforced', async () => {
    const cut = await runVerification({
      cwd: isolation.root,
      commands: [connect()],
      timeoutSeconds: 30,
      networkAllowed: false,
    });
    if (cut.isolation.network === 'isolated') {
      expect(cut.results[0]!.outcome).toBe('failed');
      expect(cut.results[0]!.exit_code).toBe(7);
    } else {
      expect(cut.isolation.network).toBe('not_isolated');
      expect(cut.isolation.detail).toContain('network NOT isolated');
    }
    const allowed = await runVerification({
      cwd: isolation.root,
      commands: [connect()],
      timeoutSeconds: 30,
      networkAllowed: true,
    });
    expect(allowed.isolation.network).toBe('allowed');
    expect(allowed.results[0]!.outcome).toBe('passed');
  });
});

// Make sure git itself is available, so a skipped repository setup cannot pass silently.
describe('fixture', () => {
  it('is a real git worktree', () => {
    expect(
      execFileSync('git', ['-C', isolation.root, 'rev-parse', '--is-inside-work-tree'], {
        encoding: 'utf8',
      }).trim(),
    ).toBe('true');
  });
});
