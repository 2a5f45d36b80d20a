import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { loadConfig, packageRoot } from '../config/index.js';
import { startDaemon } from '../http/index.js';
import { createLogger } from '../log/index.js';
import {
  DEMO_A3_OBJECTIVE,
  DEMO_A5_OBJECTIVE,
  DEMO_A5_TARGET,
  prepareDemoProject,
} from './demo-project.js';
import { demoResponder } from './mock-demo-responder.js';
import { startMockUpstream } from './mock-upstream.js';

const KEY = 'sk-local-codex-bridge';
const bold = (text: string) => (process.stdout.isTTY ? `\u001b[1m${text}\u001b[22m` : text);
const dim = (text: string) => (process.stdout.isTTY ? `\u001b[2m${text}\u001b[22m` : text);

/**
 * `npm run demo`: the whole product on one machine with no API key. The built-in demo model
 * server plays the upstream; the real daemon runs in front of it; the official openai SDK is the
 * client. Part 1 streams a raw-lane answer; part 2 runs a real A3 investigation of a small repo;
 * part 3 runs an A5 fix in an isolated worktree, verified by the repo's own test.
 */
async function main(): Promise<void> {
  const project = prepareDemoProject();
  const mock = await startMockUpstream({ responder: demoResponder });
  const config = loadConfig({
    cwd: project,
    env: {
      UPSTREAM_BASE: mock.baseUrl,
      OPENCODE_GO_API_KEY: 'sk-demo-upstream-key-not-real',
      PROXY_PORT: '0',
      CODEX_OSS_PROJECT: project,
      LOG_LEVEL: 'warn',
      SSE_KEEPALIVE_SECONDS: '2',
    },
  });
  const daemon = await startDaemon({ config, logger: createLogger(config.LOG_LEVEL) });
  const client = new OpenAI({ apiKey: KEY, baseURL: `${daemon.url}/v1` });
  try {
    console.log(
      bold(`opencode-bridge demo`) +
        dim(`  daemon ${daemon.url} · demo model server ${mock.baseUrl} · project ${project}`),
    );

    console.log(
      `\n${bold('1. Raw lane')}: responses.stream({ model: "ocg-kimi-k2.6" }) through the bridge to the demo model\n`,
    );
    const raw = client.responses.stream({
      model: 'ocg-kimi-k2.6',
      input: 'Say hello to the opencode-bridge demo.',
    });
    raw.on('response.reasoning_summary_text.delta', (event) =>
      process.stdout.write(dim(event.delta)),
    );
    raw.on('response.output_text.delta', (event) => process.stdout.write(event.delta));
    raw.on('response.output_item.added', (event) => {
      if (event.item.type === 'message') process.stdout.write('\n');
    });
    const first = await raw.finalResponse();
    console.log(dim(`\n   (${first.usage?.total_tokens ?? 0} tokens, response ${first.id})`));

    console.log(
      `\n${bold('2. Managed lane')}: an A3 investigation on mission-a3-kimi, commentary streamed live\n`,
    );
    const mission = {
      schema_version: 'oss_agent_mission.v1',
      mission_id: `demo-${Date.now()}`,
      tier: 'A3',
      objective: DEMO_A3_OBJECTIVE,
      allowed_roots: ['.'],
      allow_broad_read_scope: true,
      allowed_tool_classes: ['read', 'search', 'list'],
      required_outputs: ['findings', 'confidence'],
    };
    const stream = client.responses.stream({
      model: 'mission-a3-kimi',
      input: `Please investigate.\n<OSS_HANDOFF_JSON>\n${JSON.stringify(mission, null, 2)}\n</OSS_HANDOFF_JSON>`,
    });
    stream.on('response.reasoning_summary_text.delta', (event) =>
      console.log(dim(`   · ${event.delta}`)),
    );
    const result = await stream.finalResponse();
    console.log(`\n${result.output_text}\n`);
    await printArtifacts(daemon.url, project, mission.mission_id);

    console.log(
      `\n${bold('3. Implementation lane')}: an A5 fix on mission-a5-deepseek, in an isolated worktree, verified by the repo's own tests\n`,
    );
    const target = path.join(project, DEMO_A5_TARGET);
    const before = digest(target);
    const fix = {
      schema_version: 'oss_agent_mission.v1',
      mission_id: `demo-fix-${Date.now()}`,
      write_allowed: true,
      tier: 'A5',
      objective: DEMO_A5_OBJECTIVE,
      owned_paths: ['src/discount.mjs'],
      read_only_paths: ['test/discount.test.mjs'],
      allowed_paths: ['src/discount.mjs', 'test/discount.test.mjs'],
      allowed_tool_classes: ['read', 'search', 'list'],
      verification_policy: {
        allowed_commands: [['node', '--test', 'test/discount.test.mjs']],
        timeout_seconds: 60,
      },
    };
    const implementation = client.responses.stream({
      model: 'mission-a5-deepseek',
      input: `Please fix this.\n<OSS_HANDOFF_JSON>\n${JSON.stringify(fix, null, 2)}\n</OSS_HANDOFF_JSON>`,
    });
    implementation.on('response.reasoning_summary_text.delta', (event) =>
      console.log(dim(`   · ${event.delta}`)),
    );
    const fixed = await implementation.finalResponse();
    console.log(`\n${fixed.output_text}\n`);
    const unchanged = digest(target) === before;
    console.log(
      `${bold('Main workspace')}: src/discount.mjs is ${unchanged ? 'unchanged (the fix lives only in the review packet until you promote it)' : 'CHANGED (this is a bug: report it)'}`,
    );
    await printArtifacts(daemon.url, project, fix.mission_id);
    console.log(
      `   promote:     node ${path.join(packageRoot(), 'bin', 'codex-oss')} promote ${fix.mission_id} --project ${project}`,
    );
    if (!unchanged) process.exitCode = 1;
  } finally {
    await daemon.close();
    await mock.close();
  }
}

/** Where a mission's log and projections are, as the daemon's index knows them. */
async function printArtifacts(baseUrl: string, project: string, missionId: string): Promise<void> {
  const response = await fetch(`${baseUrl}/v1/missions/${encodeURIComponent(missionId)}`, {
    headers: { authorization: `Bearer ${KEY}` },
  });
  const record = (await response.json()) as { run_id?: string };
  const runId = record.run_id ?? '(unknown run)';
  console.log(bold('Artifacts'));
  console.log(`   event log:   ${path.join(project, '.codex-oss', 'runs', runId, 'events.jsonl')}`);
  console.log(`   projections: ${path.join(project, '.codex-oss', 'missions', missionId)}/`);
  console.log(
    `   verify:      node ${path.join(packageRoot(), 'bin', 'codex-oss')} audit-mission ${missionId} --project ${project}`,
  );
}

function digest(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
