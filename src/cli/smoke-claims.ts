import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { packageRoot } from '../config/index.js';
import { auditMission, findRun, readEventLog, runPaths } from '../events/index.js';
import type { ClaimResult } from './smoke-proof.js';
import { packagedRoleFiles } from './project-setup.js';
import { projectSetupChecks } from './project-setup-checks.js';

/**
 * The checks behind each smoke claim. Each one drives the real product (the daemon over HTTP, the
 * event log on disk, `codex-oss mcp` as a child process) and returns what it saw as evidence;
 * none of them trusts a report's own words where the log can say it.
 */

export type Evidence = ClaimResult['evidence'];

export interface ClaimOutcome {
  readonly pass: boolean;
  readonly evidence: Evidence;
  readonly problem?: string;
}

export interface SmokeTarget {
  /** The daemon's base URL, e.g. http://127.0.0.1:41234 */
  readonly bridgeUrl: string;
  readonly bridgeKey: string;
  /** Where missions run. */
  readonly project: string;
}

export function roleFilesClaim(project: string): ClaimOutcome {
  const dir = path.join(project, '.codex', 'agents');
  const roles = packagedRoleFiles();
  const missing: string[] = [];
  const differing: string[] = [];
  for (const role of roles) {
    let installed: string;
    try {
      installed = readFileSync(path.join(dir, role.file), 'utf8');
    } catch {
      missing.push(role.file);
      continue;
    }
    const shipped = readFileSync(path.join(packageRoot(), 'agents', role.file), 'utf8');
    if (installed !== shipped) differing.push(role.file);
  }
  const evidence: Evidence = {
    agents_dir: dir,
    expected: roles.map((role) => role.file),
    missing,
    differing,
  };
  if (missing.length > 0)
    return {
      pass: false,
      evidence,
      problem: `${missing.length} role file(s) missing from ${dir}: ${missing.join(', ')}; run \`codex-oss install --project ${project}\``,
    };
  if (differing.length > 0)
    return {
      pass: false,
      evidence,
      problem: `${differing.join(', ')} differ from this bridge's agents/; run \`codex-oss install --force --project ${project}\``,
    };
  return { pass: true, evidence };
}

/** doctor's project checks, recorded beside the role files (the rest of what install wrote). */
export async function setupEvidence(project: string, codex: string | undefined): Promise<Evidence> {
  const checks = await projectSetupChecks(project, {}, codex);
  return Object.fromEntries(checks.map((check) => [check.name, check.status]));
}

interface MissionRun {
  readonly missionId: string;
  readonly httpStatus: number;
  readonly runId: string | null;
  readonly status: string | undefined;
  readonly reason: string | undefined;
  readonly commentary: number;
  readonly headHash: string | undefined;
  readonly auditOk: boolean;
  readonly tokens: number;
}

/** Posts one MissionV1 to the bridge as Codex would, then reads its run back from the log. */
async function runMission(
  target: SmokeTarget,
  model: string,
  mission: Record<string, unknown> & { mission_id: string },
  timeoutMs: number,
): Promise<MissionRun> {
  const response = await fetch(`${target.bridgeUrl}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${target.bridgeKey}` },
    body: JSON.stringify({
      model,
      input: `Smoke test.\n<OSS_HANDOFF_JSON>\n${JSON.stringify(mission, null, 2)}\n</OSS_HANDOFF_JSON>`,
      stream: false,
    }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.text();
  const runId = await findRun(target.project, mission.mission_id);
  if (runId === null)
    return {
      missionId: mission.mission_id,
      httpStatus: response.status,
      runId,
      status: undefined,
      reason: undefined,
      commentary: 0,
      headHash: undefined,
      auditOk: false,
      tokens: 0,
    };
  const log = await readEventLog(runPaths(target.project, runId).logPath);
  const terminal = log.events.findLast((event) => event.type === 'run.completed');
  const payload = (terminal?.payload ?? {}) as {
    status?: string;
    reason?: string;
    totals?: { input_tokens?: number; output_tokens?: number };
  };
  const audit = await auditMission(target.project, mission.mission_id);
  return {
    missionId: mission.mission_id,
    httpStatus: response.status,
    runId,
    status: payload.status,
    reason: payload.reason,
    commentary: log.events.filter((event) => event.type === 'commentary.emitted').length,
    headHash: log.events.at(-1)?.hash,
    auditOk: audit.ok && log.chainErrors.length === 0,
    tokens: (payload.totals?.input_tokens ?? 0) + (payload.totals?.output_tokens ?? 0),
  };
}

function runEvidence(run: MissionRun): Evidence {
  return {
    mission_id: run.missionId,
    run_id: run.runId,
    http_status: run.httpStatus,
    status: run.status ?? null,
    reason: run.reason ?? null,
    commentary_events: run.commentary,
    log_head_hash: run.headHash ?? null,
    audit_ok: run.auditOk,
    tokens: run.tokens,
  };
}

export async function a3Claim(
  target: SmokeTarget,
  objective: string,
  timeoutMs: number,
): Promise<ClaimOutcome> {
  const mission = {
    schema_version: 'oss_agent_mission.v1',
    mission_id: `smoke-a3-${Date.now().toString(36)}`,
    tier: 'A3',
    objective,
    allowed_roots: ['.'],
    allow_broad_read_scope: true,
    allowed_tool_classes: ['read', 'search', 'list'],
    required_outputs: ['findings', 'confidence'],
  };
  const run = await runMission(target, 'mission-a3-kimi', mission, timeoutMs);
  const evidence = runEvidence(run);
  const problem =
    runProblem(run, mission.mission_id, 'A3', 'COMPLETE', target) ??
    (run.commentary === 0 ? 'the run recorded no commentary.emitted event' : undefined);
  return problem === undefined ? { pass: true, evidence } : { pass: false, evidence, problem };
}

export interface A5Task {
  readonly objective: string;
  readonly ownedPaths: string[];
  readonly readOnlyPaths: string[];
  readonly verification: string[][];
}

export async function a5Claim(
  target: SmokeTarget,
  task: A5Task,
  timeoutMs: number,
): Promise<ClaimOutcome> {
  const before = treeDigest(target.project);
  const mission = {
    schema_version: 'oss_agent_mission.v1',
    mission_id: `smoke-a5-${Date.now().toString(36)}`,
    write_allowed: true,
    tier: 'A5',
    objective: task.objective,
    owned_paths: task.ownedPaths,
    read_only_paths: task.readOnlyPaths,
    allowed_paths: [...task.ownedPaths, ...task.readOnlyPaths],
    allowed_tool_classes: ['read', 'search', 'list'],
    verification_policy: { allowed_commands: task.verification, timeout_seconds: 60 },
  };
  const run = await runMission(target, 'mission-a5-deepseek', mission, timeoutMs);
  const after = treeDigest(target.project);
  const evidence: Evidence = {
    ...runEvidence(run),
    workspace_digest_before: before.digest,
    workspace_digest_after: after.digest,
    workspace_files: after.files,
  };
  if (before.digest !== after.digest)
    return {
      pass: false,
      evidence,
      problem: `the main workspace changed during the A5 mission (${before.digest.slice(0, 12)} → ${after.digest.slice(0, 12)}): this is a bug, report it`,
    };
  const problem = runProblem(run, mission.mission_id, 'A5', 'VERIFIED', target);
  return problem === undefined ? { pass: true, evidence } : { pass: false, evidence, problem };
}

/** Why a smoke mission's run does not prove its claim (no run, wrong status, failed audit). */
function runProblem(
  run: MissionRun,
  missionId: string,
  tier: string,
  expected: string,
  target: SmokeTarget,
): string | undefined {
  if (run.runId === null)
    return `the bridge answered HTTP ${run.httpStatus} but recorded no run for ${missionId}`;
  if (run.status !== expected)
    return `the ${tier} mission ended ${run.status ?? 'without a terminal event'} (${run.reason ?? '?'}), not ${expected}; see \`codex-oss explain ${missionId} --project ${target.project}\``;
  if (!run.auditOk)
    return `audit-mission failed: run \`codex-oss audit-mission ${missionId} --project ${target.project}\``;
  return undefined;
}

/**
 * sha256 over every file's path and bytes, skipping .git and the bridge's own state: the part of
 * the workspace a mission must never write.
 */
export function treeDigest(root: string): { digest: string; files: number } {
  const hash = createHash('sha256');
  let files = 0;
  const walk = (dir: string, rel: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const relative = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (rel === '' && (entry.name === '.git' || entry.name === '.codex-oss')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full, relative);
      else if (entry.isFile()) {
        const content = readFileSync(full);
        hash.update(`${relative}\0${content.length}\0${statSync(full).mode & 0o777}\0`);
        hash.update(content);
        files += 1;
      } else hash.update(`${relative}\0${entry.isSymbolicLink() ? 'link' : 'other'}\0`);
    }
  };
  walk(root, '');
  return { digest: hash.digest('hex'), files };
}

const RESPONSE_SHAPE =
  /<response>[\s\S]*<continuation_id>\s*([^<\s]+)\s*<\/continuation_id>[\s\S]*<\/response>/;
const STILL_RUNNING = /still running/i;
const MISSION_ID = /mission_id[^A-Za-z0-9_-]+([A-Za-z0-9][A-Za-z0-9._:-]*)/;

/**
 * Starts `codex-oss mcp --project DIR` as an MCP client would (the official SDK's Client over
 * stdio), lists its tools and makes one read-only `opencode` call, following `oss_wait` when the
 * call answers "still running".
 */
export async function mcpClaim(options: {
  readonly project: string;
  readonly env: Record<string, string>;
  readonly prompt: string;
  readonly timeoutMs: number;
  readonly available: boolean;
}): Promise<ClaimOutcome> {
  if (!options.available)
    return {
      pass: false,
      evidence: { available: false },
      problem:
        'not available in this build: this codex-oss has no `mcp` command, so the MCP round trip cannot be proven',
    };
  const stderr: string[] = [];
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [path.join(packageRoot(), 'bin', 'codex-oss'), 'mcp', '--project', options.project],
    env: options.env,
    cwd: options.project,
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.join('').length < 4000) stderr.push(chunk.toString('utf8'));
  });
  const client = new Client({ name: 'codex-oss-smoke', version: '1' });
  const evidence: Evidence = { available: true };
  const started = Date.now();
  try {
    await client.connect(transport, { timeout: 30_000 });
    const server = client.getServerVersion();
    evidence['server'] = server ? `${server.name} ${server.version}` : null;
    evidence['initialize_ms'] = Date.now() - started;
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name).sort();
    evidence['tools'] = names;
    const missing = ['opencode', 'oss_wait'].filter((name) => !names.includes(name));
    if (missing.length > 0)
      return { pass: false, evidence, problem: `tools/list lacks ${missing.join(', ')}` };

    const callStarted = Date.now();
    let text = await callText(
      client,
      'opencode',
      {
        prompt: options.prompt,
        workspace: options.project,
        permission: 'read-only',
      },
      options.timeoutMs,
    );
    let waits = 0;
    while (!RESPONSE_SHAPE.test(text) && STILL_RUNNING.test(text) && waits < 20) {
      const missionId = MISSION_ID.exec(text)?.[1];
      if (missionId === undefined) break;
      evidence['mission_id'] = missionId;
      waits += 1;
      text = await callText(client, 'oss_wait', { mission_id: missionId }, options.timeoutMs);
    }
    evidence['oss_wait_calls'] = waits;
    evidence['call_ms'] = Date.now() - callStarted;
    evidence['answer_head'] = text.slice(0, 300);
    const continuation = RESPONSE_SHAPE.exec(text)?.[1];
    evidence['continuation_id'] = continuation ?? null;
    if (continuation === undefined)
      return {
        pass: false,
        evidence,
        problem: 'the opencode answer is not in <response>…<continuation_id>…</response> form',
      };
    // The continuation id names the governed run; its own log says how it ended.
    const runId = await findRun(options.project, continuation).catch(() => null);
    evidence['run_id'] = runId;
    if (runId === null)
      return {
        pass: false,
        evidence,
        problem: `the MCP answer names ${continuation}, but no run of that id is in ${options.project}/.codex-oss/runs`,
      };
    const log = await readEventLog(runPaths(options.project, runId).logPath);
    const terminal = log.events.findLast((event) => event.type === 'run.completed');
    const status = (terminal?.payload as { status?: string } | undefined)?.status;
    evidence['status'] = status ?? null;
    evidence['log_head_hash'] = log.events.at(-1)?.hash ?? null;
    if (status !== 'COMPLETE')
      return {
        pass: false,
        evidence,
        problem: `the read-only opencode call ended ${status ?? 'without a terminal event'}, not COMPLETE`,
      };
    return { pass: true, evidence };
  } catch (error) {
    evidence['server_stderr'] = stderr.join('').slice(0, 1000);
    return {
      pass: false,
      evidence,
      problem: `the MCP round trip failed: ${(error as Error).message}`,
    };
  } finally {
    await client.close().catch(() => undefined);
  }
}

async function callText(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  timeoutMs: number,
): Promise<string> {
  const result = await client.callTool({ name, arguments: args }, undefined, {
    timeout: timeoutMs,
  });
  const content = Array.isArray(result['content']) ? (result['content'] as unknown[]) : [];
  const text = content
    .map((part) =>
      typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text'
        ? textOf((part as { text?: unknown }).text)
        : '',
    )
    .join('\n');
  if (result['isError'] === true)
    throw new Error(`${name} returned a tool error: ${text.slice(0, 300)}`);
  return text;
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
