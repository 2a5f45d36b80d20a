import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, startMockUpstream, type MockUpstream } from '../../src/demo/index.js';
import {
  buildPackageCopy,
  cliEnv,
  refusingPort,
  removeDir,
  repoRoot,
  runCli,
  tempProject,
  type BuiltPackage,
  type RunResult,
} from './cli-harness.js';

// install, doctor, smoke and claim-status through the real bin/codex-oss of a private built copy
// of the package (its source hash stays put while other files rebuild dist), in temp projects.

const execFileAsync = promisify(execFile);
const codexBin = path.join(repoRoot, 'node_modules', '.bin', 'codex');

let pkg: BuiltPackage;
let mock: MockUpstream;
const dirs: string[] = [];

beforeAll(async () => {
  pkg = await buildPackageCopy();
  // install and smoke read these from the package itself.
  for (const shipped of ['agents', 'examples', 'opencode-go.env.example'])
    symlinkSync(path.join(repoRoot, shipped), path.join(pkg.root, shipped));
  mock = await startMockUpstream();
}, 180_000);

afterAll(async () => {
  await mock.close();
  for (const dir of dirs) removeDir(dir);
  removeDir(pkg.root);
});

function project(label: string): string {
  const dir = tempProject(label);
  dirs.push(dir);
  return dir;
}

async function cli(args: string[], cwd: string, extra: Record<string, string> = {}) {
  const home = path.join(cwd, '.test-codex-home');
  mkdirSync(home, { recursive: true });
  return runCli(pkg, args, {
    cwd,
    env: cliEnv({ CODEX_HOME: home, PROXY_PORT: String(await refusingPort()), ...extra }),
    timeoutMs: 240_000,
  });
}

interface Check {
  name: string;
  status: 'pass' | 'warn' | 'fail';
  message: string;
  fix: string;
}

async function doctor(dir: string, extra: Record<string, string> = {}, flags: string[] = []) {
  const result = await cli(['doctor', '--json', '--project', dir, ...flags], dir, {
    UPSTREAM_BASE: mock.baseUrl,
    ...extra,
  });
  const report = JSON.parse(result.stdout) as { healthy: boolean; checks: Check[] };
  const byName = new Map(report.checks.map((check) => [check.name, check]));
  return { result, report, check: (name: string) => byName.get(name) };
}

const userConfig = `# my own settings, keep this comment
model = "gpt-5.5"

[mcp_servers.other]
command = "other-server" # and this one
args = ["--flag"]

[profiles.fast]
model = "gpt-5.5-mini"
`;

describe('codex-oss install --mcp', () => {
  it('adds the MCP block once, keeps every other line, and a second run changes nothing', async () => {
    const dir = project('install-mcp');
    mkdirSync(path.join(dir, '.codex'));
    const configFile = path.join(dir, '.codex', 'config.toml');
    writeFileSync(configFile, userConfig);

    const first = await cli(['install', '--mcp', '--project', dir], dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('[mcp_servers.opencode_bridge] added');
    const afterFirst = readFileSync(configFile, 'utf8');
    // Appended after the user's text, which is untouched byte for byte (comments included).
    expect(afterFirst.startsWith(userConfig)).toBe(true);
    const parsed = parseToml(afterFirst) as {
      model: string;
      mcp_servers: Record<string, Record<string, unknown>>;
      profiles: Record<string, unknown>;
    };
    expect(parsed.model).toBe('gpt-5.5');
    expect(parsed.mcp_servers['other']).toEqual({ command: 'other-server', args: ['--flag'] });
    expect(parsed.profiles).toEqual({ fast: { model: 'gpt-5.5-mini' } });
    const ours = parsed.mcp_servers['opencode_bridge'];
    expect(ours?.['command']).toBe(process.execPath);
    expect(ours?.['args']).toEqual([pkg.bin, 'mcp', '--project', dir]);
    expect(Number(ours?.['tool_timeout_sec'])).toBeGreaterThan(45);
    expect(Number(ours?.['startup_timeout_sec'])).toBeGreaterThan(0);
    expect(ours?.['required']).toBe(true);
    expect(ours?.['default_tools_approval_mode']).toBe('approve');

    const second = await cli(['install', '--mcp', '--project', dir], dir);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('MCP server block up to date');
    expect(readFileSync(configFile, 'utf8')).toBe(afterFirst);
    expect(afterFirst.match(/^\[mcp_servers\.opencode_bridge\]/gm)).toHaveLength(1);
  }, 120_000);

  it('refreshes only its own keys: a longer MCP_SYNC_SECONDS raises the timeout, user keys stay', async () => {
    const dir = project('install-refresh');
    const first = await cli(['install', '--mcp', '--project', dir], dir);
    expect(first.code).toBe(0);
    const configFile = path.join(dir, '.codex', 'config.toml');
    // The user adds an env sub-table and a key of their own to our table.
    const edited = readFileSync(configFile, 'utf8').replace(
      'required = true',
      'required = true\nenabled_tools = ["opencode", "oss_wait"]',
    );
    writeFileSync(configFile, `${edited}\n[mcp_servers.opencode_bridge.env]\nFOO = "bar"\n`);

    const refreshed = await cli(['install', '--mcp', '--project', dir], dir, {
      MCP_SYNC_SECONDS: '200',
    });
    expect(refreshed.code, refreshed.stderr).toBe(0);
    expect(refreshed.stdout).toContain('updated: tool_timeout_sec = 430');
    const parsed = parseToml(readFileSync(configFile, 'utf8')) as {
      mcp_servers: Record<string, Record<string, unknown>>;
    };
    const ours = parsed.mcp_servers['opencode_bridge'];
    expect(Number(ours?.['tool_timeout_sec'])).toBe(430);
    expect(ours?.['enabled_tools']).toEqual(['opencode', 'oss_wait']);
    expect(ours?.['env']).toEqual({ FOO: 'bar' });
  }, 120_000);

  it('refuses a config.toml that is not TOML and writes nothing at all', async () => {
    const dir = project('install-bad-toml');
    mkdirSync(path.join(dir, '.codex'));
    const configFile = path.join(dir, '.codex', 'config.toml');
    writeFileSync(configFile, 'model = "unterminated\n');
    const result = await cli(['install', '--mcp', '--project', dir], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /install changed nothing: .*config\.toml is not valid TOML \(line 1/,
    );
    expect(result.stderr).toContain('Fix: ');
    expect(readFileSync(configFile, 'utf8')).toBe('model = "unterminated\n');
    expect(readdirSync(dir).sort()).toEqual(['.codex', '.test-codex-home']);
    expect(readdirSync(path.join(dir, '.codex'))).toEqual(['config.toml']);
  }, 60_000);
});

describe('codex-oss install: AGENTS.md and the rules file', () => {
  it('replaces its own block between the markers and keeps user text on both sides', async () => {
    const dir = project('install-agents');
    const agentsFile = path.join(dir, 'AGENTS.md');
    writeFileSync(agentsFile, '# Team rules\n\nAlways run the linter.\n');
    expect((await cli(['install', '--project', dir], dir)).code).toBe(0);
    const installed = readFileSync(agentsFile, 'utf8');
    expect(installed.startsWith('# Team rules\n\nAlways run the linter.\n')).toBe(true);
    expect(installed).toContain('fork_turns: "none"');
    expect(installed).not.toContain('<OSS_HANDOFF_JSON>');
    for (const role of ['oss_kimi_investigator', 'oss_deepseek_implementer'])
      expect(installed).toContain(`\`${role}\``);

    // The user edits inside the block and adds text after it; a re-run restores only the block.
    const edited =
      installed.replace('Treat every report', 'IGNORE every report') + '\n## Mine\nKeep me.\n';
    writeFileSync(agentsFile, edited);
    const rerun = await cli(['install', '--project', dir], dir);
    expect(rerun.stdout).toContain('AGENTS.md (delegation block replaced)');
    const after = readFileSync(agentsFile, 'utf8');
    expect(after.match(/<!-- codex-oss:start -->/g)).toHaveLength(1);
    expect(after.match(/<!-- codex-oss:end -->/g)).toHaveLength(1);
    expect(after).not.toContain('IGNORE every report');
    expect(after.startsWith('# Team rules\n\nAlways run the linter.\n')).toBe(true);
    expect(after.endsWith('\n## Mine\nKeep me.\n')).toBe(true);
    expect(after).toBe(installed + '\n## Mine\nKeep me.\n');

    // A second start marker is ambiguous: refused, file untouched.
    writeFileSync(agentsFile, `${after}\n<!-- codex-oss:start -->\n`);
    const refused = await cli(['install', '--project', dir], dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('2 "<!-- codex-oss:start -->" and 1 "<!-- codex-oss:end -->"');
    expect(readFileSync(agentsFile, 'utf8')).toBe(`${after}\n<!-- codex-oss:start -->\n`);
  }, 120_000);

  it('writes a rules file that the real Codex execpolicy loads and that forbids recursive codex', async () => {
    const dir = project('install-rules');
    expect((await cli(['install', '--project', dir], dir)).code).toBe(0);
    const rules = path.join(dir, '.codex', 'rules', 'no-recursive-codex.rules');
    const decide = async (...command: string[]) => {
      const { stdout } = await execFileAsync(codexBin, [
        'execpolicy',
        'check',
        '--rules',
        rules,
        ...command,
      ]);
      return (JSON.parse(stdout) as { decision?: string }).decision ?? 'no match';
    };
    expect(await decide('codex', 'exec', 'do it')).toBe('forbidden');
    expect(await decide('codex', 'e', 'do it')).toBe('forbidden');
    expect(await decide('npx', 'codex', 'exec', 'do it')).toBe('forbidden');
    expect(await decide('npx', '@openai/codex', 'exec', 'do it')).toBe('forbidden');
    expect(await decide('codex', '--version')).toBe('no match');
    expect(await decide('codex-oss', 'doctor')).toBe('no match');
  }, 60_000);
});

describe('codex-oss doctor: the project install', () => {
  const setupChecks = [
    'project.role_files',
    'project.mcp_block',
    'project.agents_md',
    'project.rules',
  ];

  it('reports each missing piece with the install command, and passes once installed', async () => {
    const dir = project('doctor-setup');
    const before = await doctor(dir);
    for (const name of setupChecks) {
      expect(before.check(name)?.status, name).toBe('warn');
      expect(before.check(name)?.fix, name).toContain(`codex-oss install`);
      expect(before.check(name)?.fix, name).toContain(dir);
    }
    expect(before.check('project.mcp_block')?.fix).toContain('--mcp');

    expect((await cli(['install', '--mcp', '--project', dir], dir)).code).toBe(0);
    const after = await doctor(dir);
    for (const name of setupChecks) expect(after.check(name)?.status, name).toBe('pass');
    expect(after.check('project.rules')?.message).toContain('codex execpolicy forbids 4');
  }, 120_000);

  it('fails each broken piece with a fix: role file, MCP timeout, handoff example, rules', async () => {
    const dir = project('doctor-broken');
    expect((await cli(['install', '--mcp', '--project', dir], dir)).code).toBe(0);
    const role = path.join(dir, '.codex', 'agents', 'oss-kimi-investigator.toml');
    writeFileSync(
      role,
      readFileSync(role, 'utf8').replace('model = "mission-a3-kimi"', 'model = "gpt-5.5"'),
    );
    const configFile = path.join(dir, '.codex', 'config.toml');
    writeFileSync(
      configFile,
      readFileSync(configFile, 'utf8').replace(/tool_timeout_sec = \d+/, 'tool_timeout_sec = 30'),
    );
    const agentsFile = path.join(dir, 'AGENTS.md');
    writeFileSync(
      agentsFile,
      `${readFileSync(agentsFile, 'utf8')}\nExample:\n<OSS_HANDOFF_JSON>{}</OSS_HANDOFF_JSON>\n`,
    );
    const rules = path.join(dir, '.codex', 'rules', 'no-recursive-codex.rules');
    writeFileSync(rules, readFileSync(rules, 'utf8').replaceAll('"forbidden"', '"prompt"'));

    const { result, report, check } = await doctor(dir);
    expect(result.code).toBe(1);
    expect(report.healthy).toBe(false);
    expect(check('project.role_files')).toMatchObject({ status: 'fail' });
    expect(check('project.role_files')?.message).toContain('oss-kimi-investigator.toml');
    expect(check('project.role_files')?.fix).toContain('--force');
    expect(check('project.mcp_block')).toMatchObject({ status: 'fail' });
    expect(check('project.mcp_block')?.message).toContain('tool_timeout_sec = 30 is too short');
    expect(check('project.mcp_block')?.fix).toContain('codex-oss install --mcp');
    expect(check('project.agents_md')).toMatchObject({ status: 'fail' });
    expect(check('project.agents_md')?.message).toContain('literal <OSS_HANDOFF_JSON>');
    expect(check('project.rules')).toMatchObject({ status: 'fail' });
    expect(check('project.rules')?.message).toContain('codex exec summarise the repo → prompt');

    // A rules file Codex cannot even load says so.
    writeFileSync(rules, 'prefix_rule(pattern=\n');
    const unloadable = await doctor(dir);
    expect(unloadable.check('project.rules')?.status).toBe('fail');
    expect(unloadable.check('project.rules')?.message).toMatch(/Codex cannot load .*parse/i);
  }, 120_000);
});

describe('codex-oss doctor --live-model', () => {
  it('sends one real request through a bridge to the upstream and reports model, latency and tokens', async () => {
    const dir = project('doctor-live');
    mock.reset();
    mock.script(reply().text('OK').usage({ prompt_tokens: 17, completion_tokens: 2 }));
    const { check } = await doctor(dir, { OPENCODE_GO_API_KEY: 'sk-upstream-test' }, [
      '--live-model',
    ]);
    const live = check('bridge.oss_inference');
    expect(live?.status, live?.message).toBe('pass');
    expect(live?.message).toContain('ocg-kimi-k2.6');
    expect(live?.message).toContain('answered "OK"');
    expect(live?.message).toMatch(/in \d+ ms/);
    expect(live?.message).toContain('17 input + 2 output tokens');
    // The request really reached the upstream, translated by the bridge, with the upstream key.
    const sent = mock.requests.filter((request) => request.path === '/v1/chat/completions');
    expect(sent).toHaveLength(1);
    const body = sent[0]?.body as { model?: string; messages?: { content?: unknown }[] };
    expect(body.model).toBe('kimi-k2.6');
    expect(JSON.stringify(body.messages)).toContain('Reply with the single word OK.');
    expect(sent[0]?.headers['authorization']).toBe('Bearer sk-upstream-test');
  }, 120_000);

  it('fails clearly when nothing answers at the upstream, and sends nothing without a key', async () => {
    const dir = project('doctor-live-down');
    const closed = await refusingPort();
    const down = await doctor(dir, { UPSTREAM_BASE: `http://127.0.0.1:${closed}/v1` }, [
      '--live-model',
    ]);
    expect(down.result.code).toBe(1);
    const failed = down.check('bridge.oss_inference');
    expect(failed?.status).toBe('fail');
    expect(failed?.message).toContain('ECONNREFUSED');
    expect(failed?.fix).toContain(`UPSTREAM_BASE=http://127.0.0.1:${closed}/v1`);

    mock.reset();
    const noKey = await doctor(
      dir,
      { UPSTREAM_BASE: 'https://opencode.ai/zen/go/v1', ALLOW_MISSING_OPENCODE_KEY: '1' },
      ['--live-model'],
    );
    expect(noKey.result.code).toBe(1);
    expect(noKey.check('bridge.oss_inference')?.message).toContain(
      'no request sent: OpenCode Go (https://opencode.ai/zen/go/v1) needs a key',
    );
    expect(noKey.check('bridge.oss_inference')?.fix).toContain('OPENCODE_GO_API_KEY');
    expect(mock.requests).toHaveLength(0);
  }, 120_000);
});

interface ProofFile {
  created_at: string;
  mode: string;
  passed: boolean;
  bridge: { version: string; source_hash: string };
  project: { path: string; kind: string };
  claims: {
    id: string;
    pass: boolean;
    problem?: string;
    evidence: Record<string, unknown>;
  }[];
}

function proofs(dir: string): string[] {
  const folder = path.join(dir, '.codex-oss', 'proofs');
  return existsSync(folder)
    ? readdirSync(folder)
        .filter((name) => name.endsWith('.json'))
        .map((name) => path.join(folder, name))
    : [];
}

function countFiles(dir: string, top = true): number {
  let count = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (top && (entry.name === '.git' || entry.name === '.codex-oss')) continue;
    if (entry.isDirectory()) count += countFiles(path.join(dir, entry.name), false);
    else if (entry.isFile()) count += 1;
  }
  return count;
}

function lastLogLine(project: string, runId: string): { hash: string; type: string } {
  const lines = readFileSync(
    path.join(project, '.codex-oss', 'runs', runId, 'events.jsonl'),
    'utf8',
  )
    .trim()
    .split('\n');
  return JSON.parse(lines.at(-1) ?? '{}') as { hash: string; type: string };
}

describe('codex-oss smoke and claim-status', () => {
  let home: string;
  let smoke: RunResult;
  let proofFile: string;
  let proof: ProofFile;
  const hasMcp = existsSync(path.join(repoRoot, 'src', 'cli', 'commands', 'mcp.ts'));

  beforeAll(async () => {
    home = project('smoke-home');
    smoke = await cli(['smoke', '--project', home], home);
  }, 300_000);

  it('smoke against the demo model proves role files, A3, A5 and MCP, and writes a proof', () => {
    expect(proofs(home)).toHaveLength(1);
    proofFile = proofs(home)[0] ?? '';
    expect(path.basename(proofFile)).toMatch(/^smoke-\d{8}T\d{6}Z-demo\.json$/);
    proof = JSON.parse(readFileSync(proofFile, 'utf8')) as ProofFile;
    expect(proof.mode).toBe('demo');
    expect(proof.project.kind).toBe('given');
    expect(proof.claims.map((claim) => claim.id)).toEqual([
      'role_files_installed',
      'a3_complete_with_commentary',
      'a5_verified_in_isolation',
      'mcp_round_trip',
    ]);
  });

  it('a smoke on an uninstalled --project fails the role-file claim; the missions still run', () => {
    const byId = new Map(proof.claims.map((claim) => [claim.id, claim]));
    const roles = byId.get('role_files_installed');
    expect(roles?.pass).toBe(false);
    expect(roles?.problem).toContain('codex-oss install --project');
    expect(smoke.code).toBe(1);
    expect(proof.passed).toBe(false);
  });

  it('in a fresh demo copy every mission claim holds, with evidence that matches the event logs', async () => {
    const cwd = project('smoke-demo');
    const result = await cli(['smoke', '--json'], cwd);
    const printed = JSON.parse(result.stdout) as ProofFile & { file: string };
    expect(existsSync(printed.file)).toBe(true);
    expect(path.dirname(printed.file)).toBe(path.join(cwd, '.codex-oss', 'proofs'));
    expect(printed.project.kind).toBe('demo-copy');
    dirs.push(path.dirname(printed.project.path));
    const byId = new Map(printed.claims.map((claim) => [claim.id, claim]));
    expect(byId.get('role_files_installed')?.pass).toBe(true);

    const a3 = byId.get('a3_complete_with_commentary');
    expect(a3?.pass, a3?.problem).toBe(true);
    expect(a3?.evidence['status']).toBe('COMPLETE');
    expect(Number(a3?.evidence['commentary_events'])).toBeGreaterThan(0);
    const a3Head = lastLogLine(printed.project.path, String(a3?.evidence['run_id']));
    expect(a3Head.type).toBe('run.completed');
    expect(a3?.evidence['log_head_hash']).toBe(a3Head.hash);

    const a5 = byId.get('a5_verified_in_isolation');
    expect(a5?.pass, a5?.problem).toBe(true);
    expect(a5?.evidence['status']).toBe('VERIFIED');
    expect(a5?.evidence['workspace_digest_after']).toBe(a5?.evidence['workspace_digest_before']);
    // The digest covers the real tree (README, src, test, docs, .env, .gitignore, AGENTS.md…).
    expect(Number(a5?.evidence['workspace_files'])).toBe(countFiles(printed.project.path));
    expect(a5?.evidence['log_head_hash']).toBe(
      lastLogLine(printed.project.path, String(a5?.evidence['run_id'])).hash,
    );
    // The bug the A5 mission fixed is still in the workspace: the fix lives in the review packet.
    expect(readFileSync(path.join(printed.project.path, 'src', 'discount.mjs'), 'utf8')).toContain(
      'return price - percent;',
    );

    const mcpClaim = byId.get('mcp_round_trip');
    if (hasMcp) {
      expect(mcpClaim?.pass, mcpClaim?.problem).toBe(true);
      expect(mcpClaim?.evidence['tools']).toEqual(expect.arrayContaining(['opencode', 'oss_wait']));
      expect(String(mcpClaim?.evidence['continuation_id'])).not.toBe('');
      expect(mcpClaim?.evidence['status']).toBe('COMPLETE');
      expect(mcpClaim?.evidence['log_head_hash']).toBe(
        lastLogLine(printed.project.path, String(mcpClaim?.evidence['run_id'])).hash,
      );
      expect(result.code).toBe(0);
    } else {
      expect(mcpClaim?.pass).toBe(false);
      expect(mcpClaim?.problem).toContain('not available in this build');
      expect(result.code).toBe(1);
    }
  }, 300_000);

  it('claim-status: all hold on a fresh passing proof, stale when old, failed when a claim failed', async () => {
    // All hold: the fresh proof with every claim passing (the MCP one only once mcp exists).
    const good = project('claims-good');
    mkdirSync(path.join(good, '.codex-oss', 'proofs'), { recursive: true });
    const passing: ProofFile = {
      ...proof,
      passed: true,
      claims: proof.claims.map((claim) =>
        hasMcp || claim.id !== 'mcp_round_trip' ? { ...claim, pass: true } : claim,
      ),
    };
    // Only the role claim failed in the real proof (uninstalled project); its missions passed.
    for (const claim of proof.claims.filter((entry) => entry.id.startsWith('a')))
      expect(claim.pass, claim.id).toBe(true);
    const goodFile = path.join(good, '.codex-oss', 'proofs', 'smoke-good.json');
    writeFileSync(goodFile, JSON.stringify(passing));
    const allHold = await cli(['claim-status', '--json', '--project', good], good);
    const allHoldReport = JSON.parse(allHold.stdout) as {
      all_hold: boolean;
      claims: { id: string; state: string }[];
    };
    if (hasMcp) {
      expect(allHold.code).toBe(0);
      expect(allHoldReport.all_hold).toBe(true);
    } else {
      expect(allHold.code).toBe(1);
      expect(allHoldReport.claims.filter((claim) => claim.state !== 'holds')).toEqual([
        expect.objectContaining({ id: 'mcp_round_trip', state: 'failed' }),
      ]);
    }
    expect(
      allHoldReport.claims.find((claim) => claim.id === 'a5_verified_in_isolation')?.state,
    ).toBe('holds');

    // One stale: the same proof dated two days ago is not trusted, whatever it says.
    const stale = project('claims-stale');
    mkdirSync(path.join(stale, '.codex-oss', 'proofs'), { recursive: true });
    writeFileSync(
      path.join(stale, '.codex-oss', 'proofs', 'smoke-old.json'),
      JSON.stringify({
        ...passing,
        created_at: new Date(Date.now() - 48 * 3_600_000).toISOString(),
      }),
    );
    const staleRun = await cli(['claim-status', '--project', stale], stale);
    expect(staleRun.code).toBe(1);
    expect(staleRun.stdout).toMatch(
      /⚠ STALE a3_complete_with_commentary \(demo\): newest proof is not fresh: 48\.0 h old/,
    );
    // Other code: a proof from a different build is stale even when it is new.
    writeFileSync(
      path.join(stale, '.codex-oss', 'proofs', 'smoke-old.json'),
      JSON.stringify({ ...passing, bridge: { ...passing.bridge, source_hash: 'a'.repeat(64) } }),
    );
    const otherCode = await cli(['claim-status', '--project', stale], stale);
    expect(otherCode.code).toBe(1);
    expect(otherCode.stdout).toContain('made by other code');

    // One failed: the real proof from the uninstalled project says role_files_installed failed.
    const failed = await cli(['claim-status', '--json', '--project', home], home);
    expect(failed.code).toBe(1);
    const failedReport = JSON.parse(failed.stdout) as {
      all_hold: boolean;
      claims: { id: string; state: string; proof: string }[];
    };
    expect(failedReport.all_hold).toBe(false);
    expect(failedReport.claims.find((claim) => claim.id === 'role_files_installed')).toMatchObject({
      state: 'failed',
      proof: proofFile,
    });
    expect(
      failedReport.claims.find((claim) => claim.id === 'a3_complete_with_commentary')?.state,
    ).toBe('holds');

    // No proofs at all: unproven, exit 1.
    const none = project('claims-none');
    const unproven = await cli(['claim-status', '--project', none], none);
    expect(unproven.code).toBe(1);
    expect(unproven.stdout).toContain('? UNPROVEN role_files_installed');
  }, 120_000);
});
