import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  computeSourceHash,
  ConfigError,
  loadConfig,
  packageVersion,
  PROJECT_ENV_FILE,
  readEnvFile,
  scrubbedChildEnv,
  type Config,
} from '../../config/index.js';
import {
  DEMO_A3_OBJECTIVE,
  DEMO_A5_OBJECTIVE,
  DEMO_A5_TARGET,
  DEMO_A5_TEST,
  demoResponder,
  prepareDemoProject,
  startMockUpstream,
  type MockUpstream,
} from '../../demo/index.js';
import { startDaemon, type RunningDaemon } from '../../http/index.js';
import { createLogger } from '../../log/index.js';
import type { CliIO } from '../cli-io.js';
import { parseFlags } from '../parse-flags.js';
import { projectRoot } from '../project-root.js';
import {
  a3Claim,
  a5Claim,
  mcpClaim,
  roleFilesClaim,
  setupEvidence,
  type A5Task,
  type ClaimOutcome,
} from '../smoke-claims.js';
import { SMOKE_CLAIMS, writeProof, type ClaimId, type ClaimResult } from '../smoke-proof.js';
import { installCommand } from './install.js';

const DEMO_UPSTREAM_KEY = 'sk-demo-upstream-key-not-real';
const SMOKE_FILE = 'codex-oss-smoke.txt';
const SMOKE_LINE = 'codex-oss smoke: written in isolation';

/** `codex-oss smoke`, loaded only when the verb runs (it pulls in the daemon and the MCP client). */
export async function runSmoke(args: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(() =>
    parseArgs({
      args,
      strict: true,
      options: {
        live: { type: 'boolean', default: false },
        project: { type: 'string' },
        json: { type: 'boolean', default: false },
        timeout: { type: 'string', default: '300' },
      },
    }),
  );
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0) {
    io.stderr.write(`--timeout must be a whole number of seconds, got "${values.timeout}"\n`);
    return 2;
  }
  const proofRoot = projectRoot(values.project, io);
  if (!existsSync(proofRoot) || !statSync(proofRoot).isDirectory()) {
    io.stderr.write(`The project ${proofRoot} does not exist; pass --project DIR.\n`);
    return 2;
  }
  const given = values.project !== undefined;
  const mode: 'live' | 'demo' = values.live ? 'live' : 'demo';
  const say = (line: string) => {
    if (!values.json) io.stderr.write(`${line}\n`);
  };

  const startedAt = new Date();
  const project = given ? proofRoot : prepareDemoProject('codex-oss-smoke-');
  if (!given) {
    // The copy is a fresh project: install into it exactly as a user would.
    const sink = { write: () => true };
    const code = await installCommand.run(['--project', project, '--mcp'], {
      ...io,
      stdout: sink,
      stderr: io.stderr,
    });
    if (code !== 0) {
      io.stderr.write(`codex-oss install into the demo copy ${project} failed (exit ${code}).\n`);
      return 1;
    }
  }

  let mock: MockUpstream | undefined;
  let daemon: RunningDaemon | undefined;
  const results: ClaimResult[] = [];
  try {
    const upstreamEnv = values.live ? liveEnv(io, proofRoot) : undefined;
    if (!values.live) mock = await startMockUpstream({ responder: demoResponder });
    const env: Record<string, string | undefined> = upstreamEnv ?? {
      UPSTREAM_BASE: mock?.baseUrl,
      OPENCODE_GO_API_KEY: DEMO_UPSTREAM_KEY,
      LOG_LEVEL: 'warn',
    };
    let config: Config;
    try {
      config = loadConfig({
        env,
        overrides: { CODEX_OSS_PROJECT: project, PROXY_PORT: '0', PROXY_HOST: '127.0.0.1' },
        cwd: project,
      });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      io.stderr.write(
        `${error.message}\nsmoke --live uses your upstream settings: set them (or put them in ${path.join(proofRoot, PROJECT_ENV_FILE)}), or drop --live to use the demo model.\n`,
      );
      return 2;
    }
    if (values.live && !config.OPENCODE_GO_API_KEY && /opencode\.ai/.test(config.UPSTREAM_BASE)) {
      io.stderr.write(
        `smoke --live needs a key for ${config.UPSTREAM_BASE}: set OPENCODE_GO_API_KEY (or put it in ${path.join(proofRoot, PROJECT_ENV_FILE)}), or drop --live to use the demo model.\n`,
      );
      return 2;
    }
    daemon = await startDaemon({ config, logger: createLogger('silent') });
    say(
      `codex-oss smoke (${mode}): project ${project}${given ? '' : ' (a fresh copy of examples/demo-repo)'}, upstream ${config.UPSTREAM_BASE}`,
    );
    const target = { bridgeUrl: daemon.url, bridgeKey: config.PROXY_API_KEY, project };
    const timeoutMs = timeoutSeconds * 1000;
    const a3Objective = given
      ? 'What is this project: which language is it written in and what is its entry point? Cite the files.'
      : DEMO_A3_OBJECTIVE;
    const a5Task: A5Task = given
      ? {
          objective: `Create the file ${SMOKE_FILE} containing exactly one line: ${SMOKE_LINE}`,
          ownedPaths: [SMOKE_FILE],
          readOnlyPaths: [],
          verification: [
            [
              'node',
              '-e',
              `const t=require('fs').readFileSync(${JSON.stringify(SMOKE_FILE)},'utf8').trim();if(t!==${JSON.stringify(SMOKE_LINE)})process.exit(1)`,
            ],
          ],
        }
      : {
          objective: DEMO_A5_OBJECTIVE,
          ownedPaths: [DEMO_A5_TARGET],
          readOnlyPaths: [DEMO_A5_TEST],
          verification: [['node', '--test', DEMO_A5_TEST]],
        };
    const mcpEnv = childEnv(io, env, project);
    const mcpAvailable = (await import('../command-list.js')).commands.some(
      (command) => command.name === 'mcp',
    );

    const runners: Record<ClaimId, () => Promise<ClaimOutcome>> = {
      role_files_installed: async () => {
        const outcome = roleFilesClaim(project);
        return {
          ...outcome,
          evidence: { ...outcome.evidence, ...(await setupEvidence(project, undefined)) },
        };
      },
      a3_complete_with_commentary: () => a3Claim(target, a3Objective, timeoutMs),
      a5_verified_in_isolation: () => a5Claim(target, a5Task, timeoutMs),
      mcp_round_trip: () =>
        mcpClaim({
          project,
          env: mcpEnv,
          prompt: a3Objective,
          timeoutMs,
          available: mcpAvailable,
        }),
    };
    for (const claim of SMOKE_CLAIMS) {
      const began = performance.now();
      let outcome: ClaimOutcome;
      try {
        outcome = await runners[claim.id]();
      } catch (error) {
        outcome = {
          pass: false,
          evidence: {},
          problem: `the check itself failed: ${(error as Error).message}`,
        };
      }
      const result: ClaimResult = {
        id: claim.id,
        title: claim.title,
        pass: outcome.pass,
        duration_ms: Math.round(performance.now() - began),
        evidence: outcome.evidence,
        ...(outcome.problem === undefined ? {} : { problem: outcome.problem }),
      };
      results.push(result);
      say(
        `${result.pass ? '✓ PASS' : '✗ FAIL'} ${claim.id} (${result.duration_ms} ms): ${result.pass ? claim.title : (result.problem ?? '')}`,
      );
    }
  } finally {
    await daemon?.close();
    await mock?.close();
  }

  const passed = results.every((result) => result.pass);
  const proof = {
    schema: 'codex_oss_smoke_proof.v1' as const,
    created_at: startedAt.toISOString(),
    mode,
    bridge: { version: packageVersion(), source_hash: computeSourceHash().hash },
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    upstream: values.live ? (liveUpstream(io, proofRoot) ?? '?') : 'built-in demo model',
    project: { path: project, kind: given ? ('given' as const) : ('demo-copy' as const) },
    claims: results,
    passed,
    duration_ms: Date.now() - startedAt.getTime(),
  };
  const file = writeProof(proofRoot, proof);
  if (values.json) io.stdout.write(`${JSON.stringify({ file, ...proof }, null, 2)}\n`);
  else
    io.stdout.write(
      `${results.filter((result) => result.pass).length} of ${results.length} claims hold; proof written to ${file}\n`,
    );
  return passed ? 0 : 1;
}

/** The user's upstream settings: the environment first, then the project's env file. */
function liveEnv(io: CliIO, proofRoot: string): Record<string, string | undefined> {
  return { ...readEnvFile(path.join(proofRoot, PROJECT_ENV_FILE)), ...io.env, LOG_LEVEL: 'warn' };
}

function liveUpstream(io: CliIO, proofRoot: string): string | undefined {
  return liveEnv(io, proofRoot)['UPSTREAM_BASE'] ?? 'https://opencode.ai/zen/go/v1';
}

/** What `codex-oss mcp` gets: the same upstream as the daemon, none of the shell's other secrets. */
function childEnv(
  io: CliIO,
  upstream: Record<string, string | undefined>,
  project: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({
    ...scrubbedChildEnv({}),
    ...upstream,
    CODEX_OSS_PROJECT: project,
    PATH: io.env['PATH'],
    HOME: io.env['HOME'],
  })) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}
