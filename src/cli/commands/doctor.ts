import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import {
  ConfigError,
  DEFAULT_UPSTREAM_BASE,
  computeSourceHash,
  loadConfig,
  packageRoot,
  type Config,
} from '../../config/index.js';
import type { CliIO, Command } from '../cli-io.js';
import { bridgeBaseUrl, resolveTarget, type BridgeTarget } from '../bridge-target.js';
import { probeBridge, reportedSourceHash } from '../bridge-probe.js';
import { readCodexConfig, tableValues } from '../codex-config.js';
import { flagOverrides } from '../load-cli-config.js';
import { parseFlags } from '../parse-flags.js';
import { DEFAULT_LIVE_MODEL, liveModelCheck, liveModelRequest } from '../live-model-check.js';
import { projectSetupChecks } from '../project-setup-checks.js';

const execFileAsync = promisify(execFile);

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface DoctorCheck {
  readonly name: string;
  readonly status: CheckStatus;
  readonly message: string;
  /** What to do about it; empty when the check passed. */
  readonly fix: string;
}

/** The first Codex version whose subagents post to the parent's provider (openai/codex#40858). */
const PARENT_PROVIDER_SINCE: readonly [number, number] = [0, 149];
const MIN_NODE: readonly [number, number] = [20, 18];
const PROVIDER_ID = 'opencode_bridge';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check Node, config, keys, project, running bridge, Codex version and config',
  usage: `Usage: codex-oss doctor [--json] [--network] [--live-model [--model ALIAS]] [--project PATH]
                        [--port N] [--host H]

Runs every check and prints ✓/⚠/✗ with a "Fix:" line for each problem. Exits 0 when nothing
failed (warnings are allowed). The project checks read what \`codex-oss install\` writes: role
files, [mcp_servers.opencode_bridge] in .codex/config.toml, the AGENTS.md block and
.codex/rules/no-recursive-codex.rules (a piece that is absent warns; one that is wrong fails).

  --json        print {healthy, checks:[{name, status, message, fix}]}
  --network     also call {UPSTREAM_BASE}/models with the upstream key
  --live-model  also send one real request through the bridge to the upstream (the running
                bridge, or one started for the check) and report model, latency and tokens
  --model       the alias for --live-model (default ${DEFAULT_LIVE_MODEL})
`,
  async run(args, io) {
    const { values } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        options: {
          json: { type: 'boolean', default: false },
          network: { type: 'boolean', default: false },
          'live-model': { type: 'boolean', default: false },
          model: { type: 'string', default: DEFAULT_LIVE_MODEL },
          project: { type: 'string' },
          port: { type: 'string' },
          host: { type: 'string' },
        },
      }),
    );
    const checks = await runDoctorChecks(io, values, values.network);
    if (values['live-model'])
      checks.push(liveModelCheck(await liveModelRequest(io, flagOverrides(values), values.model)));
    const counts = {
      passed: checks.filter((check) => check.status === 'pass').length,
      warnings: checks.filter((check) => check.status === 'warn').length,
      failed: checks.filter((check) => check.status === 'fail').length,
    };
    const healthy = counts.failed === 0;
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ healthy, ...counts, checks }, null, 2)}\n`);
    } else {
      const marks: Record<CheckStatus, string> = { pass: '✓ PASS', warn: '⚠ WARN', fail: '✗ FAIL' };
      for (const check of checks) {
        io.stdout.write(`${marks[check.status]} ${check.name}: ${indentRest(check.message)}\n`);
        if (check.status !== 'pass' && check.fix)
          io.stdout.write(`    Fix: ${indentRest(check.fix)}\n`);
      }
      io.stdout.write(
        `\n${counts.passed} passed, ${counts.warnings} warnings, ${counts.failed} failed\n`,
      );
    }
    return healthy ? 0 : 1;
  },
};

export async function runDoctorChecks(
  io: CliIO,
  flags: { project?: string | undefined; port?: string | undefined; host?: string | undefined },
  network: boolean,
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add = (name: string, status: CheckStatus, message: string, fix = ''): void => {
    checks.push({ name, status, message, fix: status === 'pass' ? '' : fix });
  };

  // 1. Node
  const node = process.versions.node.split('.').map(Number);
  if (atLeast(node, MIN_NODE)) add('node.version', 'pass', `Node ${process.versions.node}`);
  else
    add(
      'node.version',
      'fail',
      `Node ${process.versions.node} is older than ${MIN_NODE.join('.')}`,
      `install Node ${MIN_NODE.join('.')} or newer (e.g. \`nvm install 20\`)`,
    );

  // 2. Config. Later checks fall back to the raw environment when it does not load.
  let config: Config | undefined;
  try {
    config = loadConfig({ env: io.env, overrides: flagOverrides(flags), cwd: io.cwd });
    add('config.load', 'pass', 'configuration is valid');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    add(
      'config.load',
      'fail',
      `${error.problems.length} problem(s):\n${error.problems.map((problem) => `- ${problem}`).join('\n')}`,
      'set the variables named above (environment or env file), then run `codex-oss doctor` again',
    );
  }
  let lenient: BridgeTarget;
  try {
    lenient = resolveTarget(flags, io);
  } catch {
    // A malformed PROXY_PORT or BRIDGE_URL is already reported by config.load; carry on with defaults.
    lenient = resolveTarget(flags, {
      ...io,
      env: { ...io.env, PROXY_PORT: undefined, BRIDGE_URL: undefined },
    });
  }
  const target: BridgeTarget = config
    ? {
        host: config.PROXY_HOST,
        port: config.PROXY_PORT,
        baseUrl: bridgeBaseUrl(config.PROXY_HOST, config.PROXY_PORT),
        apiKey: config.PROXY_API_KEY,
        project: config.CODEX_OSS_PROJECT,
        drainSeconds: config.BRIDGE_SHUTDOWN_DRAIN_SECONDS,
      }
    : lenient;
  const upstreamBase =
    config?.UPSTREAM_BASE ?? envValue(io, 'UPSTREAM_BASE') ?? DEFAULT_UPSTREAM_BASE;
  const upstreamKey =
    config?.OPENCODE_GO_API_KEY ??
    envValue(io, 'OPENCODE_GO_API_KEY') ??
    envValue(io, 'UPSTREAM_API_KEY') ??
    envValue(io, 'OPENCODE_API_KEY');
  const gptStrategy = config?.GPT_MODEL_STRATEGY ?? envValue(io, 'GPT_MODEL_STRATEGY') ?? 'error';

  // 3. Upstream key
  const upstreamIsGo = hostOf(upstreamBase) === hostOf(DEFAULT_UPSTREAM_BASE);
  if (upstreamKey) add('upstream.key', 'pass', `upstream key present for ${upstreamBase}`);
  else if (!upstreamIsGo)
    add(
      'upstream.key',
      'warn',
      `no upstream key set; fine if ${upstreamBase} needs none (Ollama, llama.cpp), otherwise calls get 401`,
      'set OPENCODE_GO_API_KEY (or UPSTREAM_API_KEY) if the server wants a key',
    );
  else if (
    config?.ALLOW_MISSING_OPENCODE_KEY ??
    /^(1|true|yes|on)$/i.test(envValue(io, 'ALLOW_MISSING_OPENCODE_KEY') ?? '')
  )
    add(
      'upstream.key',
      'warn',
      `no OPENCODE_GO_API_KEY; the bridge starts (ALLOW_MISSING_OPENCODE_KEY=1) but every call to ${upstreamBase} will fail`,
      'export OPENCODE_GO_API_KEY=<your key from opencode.ai>, then `codex-oss restart`',
    );
  else
    add(
      'upstream.key',
      'fail',
      `OpenCode Go (${upstreamBase}) needs a key and OPENCODE_GO_API_KEY is not set`,
      'export OPENCODE_GO_API_KEY=<your key from opencode.ai>, then `codex-oss restart`',
    );

  // 4. Local key must differ from the upstream key, or every client would hold the upstream key.
  if (upstreamKey && upstreamKey === target.apiKey)
    add(
      'auth.separation',
      'fail',
      'the local bridge key (PROXY_API_KEY) equals the upstream key',
      'set PROXY_API_KEY to a different value (the default sk-local-codex-bridge is fine) and update env_key in Codex',
    );
  else add('auth.separation', 'pass', 'local key and upstream key differ');

  // 5. Project
  checks.push(checkProject(target.project));

  // 6. Running bridge and freshness
  await checkBridge(target, add);

  // 7. Codex version, and which setup works with it
  const codexFile = readCodexConfig(io.env);
  const codex = await detectCodexVersion(io);
  if (codex.version === undefined) {
    add(
      'codex.version',
      'warn',
      `Codex CLI not found (${codex.error})`,
      'install it with `npm install -g @openai/codex`, or use the pinned one: `npx codex --version` in the bridge folder',
    );
  } else {
    add('codex.version', 'pass', `codex-cli ${codex.version.join('.')} (${codex.source})`);
  }
  const parentProvider = codexFile.values.get('model_provider');
  checks.push(subagentSetupCheck(codex.version, parentProvider, gptStrategy));

  // 8. Codex provider block
  checks.push(providerBlockCheck(codexFile, `${bridgeBaseUrl(target.host, target.port)}/v1`, io));

  // 9. What `install` put into the project: role files, MCP block, AGENTS.md, rules
  if (existsSync(target.project))
    checks.push(...(await projectSetupChecks(target.project, io.env, codex.command)));

  // 10. Upstream reachability (opt-in: it spends a network round trip and needs the key)
  if (network) checks.push(await upstreamNetworkCheck(upstreamBase, upstreamKey));

  return checks;
}

function checkProject(project: string): DoctorCheck {
  const name = 'project.dir';
  if (!existsSync(project) || !statSync(project).isDirectory()) {
    return {
      name,
      status: 'fail',
      message: `project directory ${project} does not exist`,
      fix: 'pass --project PATH (or set CODEX_OSS_PROJECT) to your repository',
    };
  }
  const stateDir = path.join(project, '.codex-oss');
  const probe = existsSync(stateDir) ? stateDir : project;
  try {
    accessSync(probe, constants.W_OK);
  } catch {
    return {
      name,
      status: 'fail',
      message: `${probe} is not writable; the bridge keeps logs, pid and mission records in ${stateDir}`,
      fix: `make it writable: \`chmod u+w ${probe}\` (or run as its owner)`,
    };
  }
  return { name, status: 'pass', message: `${project} (state in ${stateDir})`, fix: '' };
}

async function checkBridge(
  target: BridgeTarget,
  add: (name: string, status: CheckStatus, message: string, fix?: string) => void,
): Promise<void> {
  const probe = await probeBridge(target.baseUrl, target.apiKey);
  switch (probe.kind) {
    case 'down':
      add(
        'bridge.running',
        'warn',
        `no bridge on ${target.baseUrl}`,
        'start it: `codex-oss up --daemon`',
      );
      return;
    case 'foreign':
      add(
        'bridge.running',
        'fail',
        `port ${target.port} is held by another program (${probe.detail}); the bridge cannot start there`,
        'stop that program, or use another port with --port N (or PROXY_PORT) and update base_url in Codex',
      );
      return;
    case 'bridge-locked':
      add(
        'bridge.running',
        'warn',
        `a bridge on ${target.baseUrl} rejects PROXY_API_KEY (HTTP ${probe.status}); it was started with another key`,
        'run `codex-oss restart` so it uses this key, or set PROXY_API_KEY to its key',
      );
      return;
    case 'bridge':
      break;
  }
  const health = probe.health;
  add(
    'bridge.running',
    'pass',
    `pid ${health.pid} on ${target.baseUrl}, project ${health.project_root ?? '?'}`,
  );
  if (health.project_root !== undefined && path.resolve(health.project_root) !== target.project) {
    add(
      'bridge.project',
      'warn',
      `the running bridge serves ${health.project_root}, not ${target.project}`,
      `run \`codex-oss restart --project ${target.project}\` to serve this project`,
    );
  }
  const running = reportedSourceHash(health);
  const onDisk = computeSourceHash();
  if (running === onDisk.hash) add('bridge.fresh', 'pass', 'running code matches the code on disk');
  else
    add(
      'bridge.fresh',
      'fail',
      running === undefined
        ? 'the bridge reports no source hash, so it is not known to run the code on disk'
        : `running code ${running.slice(0, 12)} differs from the code on disk ${onDisk.hash.slice(0, 12)} (${packageRoot()}); failures now may come from old code`,
      'run `codex-oss restart`',
    );
}

async function detectCodexVersion(
  io: CliIO,
): Promise<
  | { version: number[]; source: string; command: string; error?: undefined }
  | { version?: undefined; command?: undefined; error: string }
> {
  const candidates = [
    { command: 'codex', source: 'from PATH' },
    {
      command: path.join(packageRoot(), 'node_modules', '.bin', 'codex'),
      source: "the bridge's pinned @openai/codex",
    },
  ];
  let lastError = 'not on PATH';
  for (const candidate of candidates) {
    try {
      const { stdout } = await execFileAsync(candidate.command, ['--version'], {
        env: { ...io.env },
        timeout: 10_000,
        encoding: 'utf8',
      });
      const match = /codex-cli\s+(\d+)\.(\d+)\.(\d+)/.exec(stdout);
      if (match)
        return {
          version: [Number(match[1]), Number(match[2]), Number(match[3])],
          source: candidate.source,
          command: candidate.command,
        };
      lastError = `unexpected \`codex --version\` output: ${stdout.trim().slice(0, 80)}`;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT')
        lastError = `\`${candidate.command} --version\` failed: ${(error as Error).message.split('\n')[0] ?? ''}`;
    }
  }
  return { error: lastError };
}

function subagentSetupCheck(
  version: number[] | undefined,
  parentProvider: string | number | boolean | undefined,
  gptStrategy: string,
): DoctorCheck {
  const name = 'codex.subagent_setup';
  const outOfBand = `codex exec -c model_provider=${PROVIDER_ID} -m mission-a3-kimi "<task>"`;
  if (version === undefined) {
    return {
      name,
      status: 'warn',
      message: 'Codex version unknown, so the working subagent setup cannot be chosen',
      fix: 'install Codex, then run `codex-oss doctor` again',
    };
  }
  if (!atLeast(version, PARENT_PROVIDER_SINCE)) {
    return {
      name,
      status: 'pass',
      message: `Codex ${version.join('.')} honours a role file's provider: agents/*.toml with model_provider = "${PROVIDER_ID}" send subagents to the bridge`,
      fix: '',
    };
  }
  const parentOnBridge = parentProvider === PROVIDER_ID;
  if (parentOnBridge && gptStrategy === 'openai') {
    return {
      name,
      status: 'pass',
      message: `Codex ${version.join('.')} sends subagents to the parent's provider (openai/codex#40858); the parent uses the bridge and GPT_MODEL_STRATEGY=openai passes GPT names through to OpenAI`,
      fix: '',
    };
  }
  if (parentOnBridge) {
    return {
      name,
      status: 'warn',
      message: `the parent uses the bridge, but GPT_MODEL_STRATEGY=${gptStrategy}: the parent's own GPT model requests will not reach OpenAI`,
      fix: 'set GPT_MODEL_STRATEGY=openai and OPENAI_API_KEY, then `codex-oss restart`',
    };
  }
  return {
    name,
    status: 'warn',
    message:
      `Codex ${version.join('.')} sends subagents to the PARENT's provider whatever their role file says (openai/codex#40858); ` +
      `with the parent on ${typeof parentProvider === 'string' ? parentProvider : 'the default openai provider'}, role files cannot reach the bridge`,
    fix:
      `either make the bridge the parent's provider (model_provider = "${PROVIDER_ID}" at the top of config.toml) with GPT_MODEL_STRATEGY=openai so GPT names pass through to OpenAI, ` +
      `or run OSS work out-of-band: ${outOfBand}`,
  };
}

function providerBlockCheck(
  codexFile: ReturnType<typeof readCodexConfig>,
  expectedBaseUrl: string,
  io: CliIO,
): DoctorCheck {
  const name = 'codex.provider_block';
  const block =
    `[model_providers.${PROVIDER_ID}]\n` +
    'name = "OpenCode Go bridge"\n' +
    `base_url = "${expectedBaseUrl}"\n` +
    'env_key = "OPENCODE_BRIDGE_KEY"\n' +
    'wire_api = "responses"';
  const addBlock = `add this to ${codexFile.path}:\n${block}`;
  if (!codexFile.exists) {
    return { name, status: 'warn', message: `${codexFile.path} does not exist`, fix: addBlock };
  }
  const provider = tableValues(codexFile, `model_providers.${PROVIDER_ID}`);
  if (provider === undefined) {
    return {
      name,
      status: 'warn',
      message: `${codexFile.path} has no [model_providers.${PROVIDER_ID}] block`,
      fix: addBlock,
    };
  }
  const problems: string[] = [];
  const wireApi = provider.get('wire_api');
  if (wireApi !== undefined && wireApi !== 'responses')
    problems.push(`wire_api is "${String(wireApi)}", must be "responses"`);
  const baseUrl = provider.get('base_url');
  if (typeof baseUrl !== 'string') problems.push('base_url is missing');
  else if (!sameBridgeUrl(baseUrl, expectedBaseUrl))
    problems.push(`base_url is "${baseUrl}", but the bridge is at ${expectedBaseUrl}`);
  const envKey = provider.get('env_key');
  if (typeof envKey === 'string' && !io.env[envKey]?.trim())
    problems.push(
      `env_key names ${envKey}, which is not set in this shell (Codex refuses to call the provider without it)`,
    );
  if (problems.length === 0) {
    return {
      name,
      status: 'pass',
      message: `[model_providers.${PROVIDER_ID}] in ${codexFile.path} points at ${expectedBaseUrl}`,
      fix: '',
    };
  }
  return {
    name,
    status: 'warn',
    message: `[model_providers.${PROVIDER_ID}] in ${codexFile.path}: ${problems.join('; ')}`,
    fix: `make the block read:\n${block}\n(and export the env_key variable with your PROXY_API_KEY)`,
  };
}

async function upstreamNetworkCheck(
  upstreamBase: string,
  key: string | undefined,
): Promise<DoctorCheck> {
  const name = 'upstream.network';
  const url = `${upstreamBase.replace(/\/+$/, '')}/models`;
  try {
    const response = await fetch(url, {
      headers: key ? { authorization: `Bearer ${key}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
    const body = await response.text();
    if (response.ok) {
      let count: number | undefined;
      try {
        const parsed = JSON.parse(body) as { data?: unknown };
        if (Array.isArray(parsed.data)) count = parsed.data.length;
      } catch {
        // Not JSON: still reachable.
      }
      return {
        name,
        status: 'pass',
        message: `GET ${url} → ${response.status}${count === undefined ? '' : ` (${count} models)`}`,
        fix: '',
      };
    }
    const authProblem = response.status === 401 || response.status === 403;
    return {
      name,
      status: 'fail',
      message: `GET ${url} → HTTP ${response.status}: ${body.slice(0, 200).trim()}`,
      fix: authProblem
        ? 'check OPENCODE_GO_API_KEY (or UPSTREAM_API_KEY); the upstream refused it'
        : 'check UPSTREAM_BASE points at an OpenAI-compatible /v1 base URL',
    };
  } catch (error) {
    return {
      name,
      status: 'fail',
      message: `GET ${url} failed: ${(error as Error).message}`,
      fix: 'check UPSTREAM_BASE and your network connection (is the local model server running?)',
    };
  }
}

function sameBridgeUrl(actual: string, expected: string): boolean {
  try {
    const a = new URL(actual);
    const b = new URL(expected);
    const loopback = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
    const sameHost =
      a.hostname === b.hostname || (loopback.has(a.hostname) && loopback.has(b.hostname));
    return (
      sameHost &&
      a.port === b.port &&
      a.pathname.replace(/\/+$/, '') === b.pathname.replace(/\/+$/, '')
    );
  } catch {
    return false;
  }
}

function atLeast(version: readonly number[], minimum: readonly [number, number]): boolean {
  const major = version[0] ?? 0;
  const minor = version[1] ?? 0;
  return major > minimum[0] || (major === minimum[0] && minor >= minimum[1]);
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

function envValue(io: CliIO, name: string): string | undefined {
  const value = io.env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

function indentRest(text: string): string {
  return text.split('\n').join('\n      ');
}
