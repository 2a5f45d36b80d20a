import { cpSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { loadConfig, packageRoot } from '../config/index.js';
import { startDaemon } from '../http/index.js';
import { createLogger } from '../log/index.js';
import { demoResponder } from './mock-demo-responder.js';
import { startMockUpstream } from './mock-upstream.js';

const KEY = 'sk-local-codex-bridge';
const bold = (text: string) => (process.stdout.isTTY ? `\u001b[1m${text}\u001b[22m` : text);
const dim = (text: string) => (process.stdout.isTTY ? `\u001b[2m${text}\u001b[22m` : text);

/**
 * `npm run demo`: the whole product on one machine with no API key. The built-in demo model
 * server plays the upstream; the real daemon runs in front of it; the official openai SDK is the
 * client. Part 1 streams a raw-lane answer; part 2 runs a real A3 investigation of a small repo.
 */
async function main(): Promise<void> {
  const project = prepareProject();
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
      objective:
        'Which port does the service listen on by default, and how is DEFAULT_PORT overridden?',
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
    console.log(bold('Artifacts'));
    console.log(
      `   event log:   ${path.join(project, '.codex-oss', 'runs')}/<run_id>/events.jsonl`,
    );
    console.log(
      `   projections: ${path.join(project, '.codex-oss', 'missions', mission.mission_id)}/`,
    );
    console.log(
      `   verify:      node ${path.join(packageRoot(), 'bin', 'codex-oss')} audit-mission ${mission.mission_id} --project ${project}`,
    );
  } finally {
    await daemon.close();
    await mock.close();
  }
}

/** A fresh copy of examples/demo-repo, so every run starts clean and the repo stays untouched. */
function prepareProject(): string {
  const project = path.join(mkdtempSync(path.join(tmpdir(), 'opencode-bridge-demo-')), 'demo-repo');
  cpSync(path.join(packageRoot(), 'examples', 'demo-repo'), project, { recursive: true });
  // Stored as dot-env so the repository never tracks a .env; the demo needs one to refuse.
  renameSync(path.join(project, 'dot-env'), path.join(project, '.env'));
  return project;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
