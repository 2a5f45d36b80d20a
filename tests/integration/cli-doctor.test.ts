import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../src/cli/index.js';
import { parseTomlScalars } from '../../src/cli/codex-config.js';
import { computeSourceHash } from '../../src/config/index.js';
import { startMockUpstream, type MockUpstream } from '../../src/demo/index.js';
import { cliEnv, refusingPort } from './cli-harness.js';

// doctor, help and the source hash run in-process through runCli: they start no daemon, so the
// exit codes and JSON shapes are checked without a build.

let upstream: MockUpstream;
let root: string;

beforeAll(async () => {
  upstream = await startMockUpstream();
  root = mkdtempSync(path.join(os.tmpdir(), 'codex-oss-doctor-'));
});

afterAll(async () => {
  await upstream.close();
  rmSync(root, { recursive: true, force: true });
});

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[], env: Record<string, string>, cwd = root): Promise<Captured> {
  const out = { stdout: '', stderr: '' };
  const io: CliIO = {
    stdout: { write: (chunk: string) => (out.stdout += chunk) },
    stderr: { write: (chunk: string) => (out.stderr += chunk) },
    env,
    cwd,
  };
  const code = await runCli(args, io);
  return { code, ...out };
}

function codexHome(name: string, toml?: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  if (toml !== undefined) writeFileSync(path.join(dir, 'config.toml'), toml);
  return dir;
}

describe('codex-oss doctor', () => {
  it('--json prints {healthy, checks[{name,status,message,fix}]} and passes a good setup', async () => {
    // Nothing may listen there: no bridge is a warning, something else would be a failure.
    const port = await refusingPort();
    const home = codexHome(
      'good',
      [
        'model = "kimi-k2.6"',
        'model_provider = "opencode_bridge" # the parent uses the bridge',
        '',
        '[model_providers.opencode_bridge]',
        'name = "OpenCode Go bridge"',
        `base_url = "http://localhost:${port}/v1/"`,
        'env_key = "OPENCODE_BRIDGE_KEY"',
        "wire_api = 'responses'",
      ].join('\n'),
    );
    const env = cliEnv({
      UPSTREAM_BASE: upstream.baseUrl,
      CODEX_HOME: home,
      PROXY_PORT: String(port),
      OPENCODE_BRIDGE_KEY: 'sk-local-codex-bridge',
      GPT_MODEL_STRATEGY: 'openai',
      OPENAI_API_KEY: 'sk-test-openai',
    });
    const result = await run(['doctor', '--json', '--network'], env);
    const report = JSON.parse(result.stdout);

    expect(typeof report.healthy).toBe('boolean');
    expect(Array.isArray(report.checks)).toBe(true);
    for (const check of report.checks) {
      expect(Object.keys(check).sort()).toEqual(['fix', 'message', 'name', 'status']);
      expect(['pass', 'warn', 'fail']).toContain(check.status);
      expect(typeof check.message).toBe('string');
      expect(typeof check.fix).toBe('string');
      if (check.status !== 'pass') expect(check.fix.length).toBeGreaterThan(0);
    }
    const byName = Object.fromEntries(
      report.checks.map((check: { name: string }) => [check.name, check]),
    );
    expect(Object.keys(byName)).toEqual(
      expect.arrayContaining([
        'node.version',
        'config.load',
        'upstream.key',
        'auth.separation',
        'project.dir',
        'bridge.running',
        'codex.version',
        'codex.subagent_setup',
        'codex.provider_block',
        'upstream.network',
      ]),
    );
    expect(byName['config.load'].status).toBe('pass');
    // No bridge on the port is a warning, not a failure.
    expect(byName['bridge.running'].status).toBe('warn');
    expect(byName['codex.provider_block'].status).toBe('pass');
    expect(byName['upstream.network'].status).toBe('pass');
    // The pinned @openai/codex is >= 0.149, where the parent's provider must be the bridge.
    expect(byName['codex.version'].status).toBe('pass');
    expect(byName['codex.subagent_setup'].status).toBe('pass');
    expect(report.healthy).toBe(true);
    expect(result.code).toBe(0);
  });

  it('fails on config problems, names every variable, and prints the human summary', async () => {
    const home = codexHome(
      'bad',
      '[model_providers.opencode_bridge]\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "chat"\n',
    );
    const env = cliEnv({
      UPSTREAM_BASE: upstream.baseUrl,
      CODEX_HOME: home,
      PROXY_PORT: 'abc',
      GPT_MODEL_STRATEGY: 'bogus',
    });
    const result = await run(['doctor'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗ FAIL config\.load: 2 problem\(s\)/);
    expect(result.stdout).toContain('PROXY_PORT');
    expect(result.stdout).toContain('GPT_MODEL_STRATEGY');
    expect(result.stdout).toContain('⚠ WARN codex.provider_block');
    expect(result.stdout).toContain('wire_api is "chat"');
    expect(result.stdout).toContain('Fix: ');
    expect(result.stdout).toMatch(/\n\d+ passed, \d+ warnings, \d+ failed\n$/);
  });

  it('shows the provider block to add, and the out-of-band route when the parent is on OpenAI', async () => {
    const port = await refusingPort();
    const env = cliEnv({
      UPSTREAM_BASE: upstream.baseUrl,
      CODEX_HOME: codexHome('empty'),
      PROXY_PORT: String(port),
    });
    const report = JSON.parse((await run(['doctor', '--json'], env)).stdout);
    const byName = Object.fromEntries(
      report.checks.map((check: { name: string }) => [check.name, check]),
    );
    expect(byName['codex.provider_block'].status).toBe('warn');
    expect(byName['codex.provider_block'].fix).toContain('[model_providers.opencode_bridge]');
    expect(byName['codex.provider_block'].fix).toContain(
      `base_url = "http://127.0.0.1:${port}/v1"`,
    );
    expect(byName['codex.provider_block'].fix).toContain('wire_api = "responses"');
    expect(byName['codex.subagent_setup'].status).toBe('warn');
    expect(byName['codex.subagent_setup'].message).toContain('openai/codex#40858');
    expect(byName['codex.subagent_setup'].fix).toContain('GPT_MODEL_STRATEGY=openai');
    expect(byName['codex.subagent_setup'].fix).toContain(
      'codex exec -c model_provider=opencode_bridge -m mission-a3-kimi',
    );
  });

  it('--network fails when the upstream cannot be reached', async () => {
    const closed = await refusingPort();
    const env = cliEnv({
      UPSTREAM_BASE: `http://127.0.0.1:${closed}/v1`,
      CODEX_HOME: codexHome('net'),
      PROXY_PORT: String(await refusingPort()),
    });
    const report = JSON.parse((await run(['doctor', '--json', '--network'], env)).stdout);
    const network = report.checks.find(
      (check: { name: string }) => check.name === 'upstream.network',
    );
    expect(network.status).toBe('fail');
    expect(network.fix).toContain('UPSTREAM_BASE');
    expect(report.healthy).toBe(false);
  });
});

describe('codex-oss command dispatch', () => {
  const env = cliEnv({});

  it('prints the command list and per-verb help', async () => {
    const help = await run(['--help'], env);
    expect(help.code).toBe(0);
    for (const verb of ['up', 'stop', 'restart', 'status', 'doctor'])
      expect(help.stdout).toContain(`  ${verb}`);
    const up = await run(['help', 'up'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('Usage: codex-oss up [--daemon]');
    const inline = await run(['status', '--help'], env);
    expect(inline.stdout).toContain('Usage: codex-oss status');
  });

  it('exits 2 on an unknown verb or flag, saying what to run instead', async () => {
    const verb = await run(['stat'], env);
    expect(verb.code).toBe(2);
    expect(verb.stderr).toContain('unknown command "stat"');
    expect(verb.stderr).toContain('"status"');
    const flag = await run(['status', '--bogus'], env);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--bogus');
    expect(flag.stderr).toContain('Usage: codex-oss status');
    const port = await run(['stop', '--port', 'x'], env);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--port must be a port number');
  });
});

describe('computeSourceHash', () => {
  it('hashes dist js, bin and package.json, and changes when running code changes', () => {
    const pkg = path.join(root, 'pkg');
    mkdirSync(path.join(pkg, 'dist', 'cli'), { recursive: true });
    mkdirSync(path.join(pkg, 'bin'), { recursive: true });
    writeFileSync(path.join(pkg, 'package.json'), '{"name":"opencode-bridge","version":"9.9.9"}');
    writeFileSync(path.join(pkg, 'bin', 'codex-oss'), '#!/usr/bin/env node\n');
    writeFileSync(path.join(pkg, 'dist', 'cli', 'main.js'), 'export {};\n');
    writeFileSync(path.join(pkg, 'dist', 'cli', 'main.js.map'), '{}');
    writeFileSync(path.join(pkg, 'README.md'), 'docs do not run');

    const first = computeSourceHash(pkg);
    expect(first.files).toBe(3);
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(computeSourceHash(pkg)).toEqual(first);

    writeFileSync(path.join(pkg, 'README.md'), 'still not code');
    writeFileSync(path.join(pkg, 'dist', 'cli', 'main.js.map'), '{"changed":true}');
    expect(computeSourceHash(pkg).hash).toBe(first.hash);

    writeFileSync(path.join(pkg, 'dist', 'cli', 'main.js'), 'export const changed = 1;\n');
    expect(computeSourceHash(pkg).hash).not.toBe(first.hash);
  });
});

describe('parseTomlScalars', () => {
  it('reads tables, dotted and quoted keys, and ignores comments and arrays', () => {
    const values = parseTomlScalars(
      [
        'model_provider = "opencode_bridge" # comment',
        'model_providers.inline.base_url = "http://x/#not-a-comment"',
        '[model_providers."opencode_bridge"]',
        "wire_api = 'responses'",
        'request_max_retries = 2',
        'requires_openai_auth = false',
        'http_headers = ["ignored"]',
        '[[profiles]]',
        'model = "ignored"',
      ].join('\n'),
    );
    expect(values.get('model_provider')).toBe('opencode_bridge');
    expect(values.get('model_providers.inline.base_url')).toBe('http://x/#not-a-comment');
    expect(values.get('model_providers.opencode_bridge.wire_api')).toBe('responses');
    expect(values.get('model_providers.opencode_bridge.request_max_retries')).toBe(2);
    expect(values.get('model_providers.opencode_bridge.requires_openai_auth')).toBe(false);
    expect(values.has('model_providers.opencode_bridge.http_headers')).toBe(false);
    expect(values.has('model')).toBe(false);
  });
});
