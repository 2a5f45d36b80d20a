// What the MCP server adds to a mission (issue 7): the same two-step A3 mission (one read, then
// the report) against a zero-latency scripted model, run side by side and interleaved:
//   in-process  MissionRuntime.execute through createServices, which is what `mission run` does
//               once its process is up;
//   mcp         an `oss_mission` tool call to a running `codex-oss mcp` over stdio with the
//               official SDK client: JSON-RPC framing, argument validation, the mission board
//               and the answer rendering on top of the same runtime;
//   opencode    the `opencode` tool with a plain prompt (the delegation builder on top);
// and the time from spawning `codex-oss mcp` to `initialize` done and to its first tool result.
// Also, for scale, one `codex-oss mission run` process per mission (its start-up included).
//
// Usage: npm run build && node bench/mcp-overhead.mjs [--runs 30] [--quick]
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { createServices } from '../dist/app/index.js';
import { loadConfig } from '../dist/config/index.js';
import { reply, startMockUpstream, toolResults } from '../dist/demo/index.js';
import { createLogger } from '../dist/log/index.js';
import { renderHandoff } from '../dist/mission/index.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    quick: { type: 'boolean', default: false },
  },
});
const runs = values.quick ? 6 : Number(values.runs);
const warmups = values.quick ? 1 : 3;
const processRuns = values.quick ? 2 : 5;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(repoRoot, 'bin', 'codex-oss');

const project = mkdtempSync(path.join(tmpdir(), 'ocb-bench-mcp-'));
mkdirSync(path.join(project, 'src'));
writeFileSync(
  path.join(project, 'src', 'config.ts'),
  '// Server settings\nexport const PORT = 4000;\nexport const HOST = "127.0.0.1";\n',
);

const mock = await startMockUpstream({
  responder: (request) =>
    toolResults(request).length === 0
      ? reply().toolCall('read_file', { path: 'src/config.ts' })
      : reply().toolCall('submit_report', {
          status: 'COMPLETE',
          summary: 'The server listens on port 4000.',
          findings: [{ claim: 'PORT is 4000', evidence_refs: ['file:src/config.ts#L2-L2'] }],
          confidence: 'HIGH',
          escalation_recommendation: 'none needed',
        }),
});
const env = {
  UPSTREAM_BASE: mock.baseUrl,
  OPENCODE_GO_API_KEY: 'sk-bench',
  CODEX_OSS_PROJECT: project,
  LOG_LEVEL: 'warn',
  MISSION_READ_POOL_CAPACITY: '4',
};

let serial = 0;
const mission = () => ({
  schema_version: 'oss_agent_mission.v1',
  mission_id: `bench-mcp-${process.pid}-${++serial}`,
  tier: 'A3',
  objective: 'Which port does the server listen on?',
  allowed_paths: ['src/config.ts'],
  allowed_tool_classes: ['read', 'search'],
  required_outputs: ['findings'],
});

// In-process: the runtime the daemon, `mission run` and the MCP server all start from.
const config = loadConfig({ cwd: project, env });
const services = createServices({ config, logger: createLogger('warn') });
const alias = services.registry.resolve('mission-a3-kimi').mission;
async function inProcess() {
  const started = performance.now();
  const outcome = await services.missions.execute({
    userTexts: [renderHandoff(mission())],
    model: 'mission-a3-kimi',
    missionAlias: alias,
    signal: new AbortController().signal,
  });
  if (outcome.status !== 'COMPLETE') throw new Error(`in-process: ${outcome.finalText}`);
  return performance.now() - started;
}

// The MCP server, spawned the way Codex or Claude Code spawn it.
const spawnedAt = performance.now();
const transport = new StdioClientTransport({
  command: process.execPath,
  args: [bin, 'mcp', '--project', project],
  env: { ...process.env, ...env },
  stderr: 'ignore',
});
const client = new Client({ name: 'bench-mcp-overhead', version: '1.0.0' });
await client.connect(transport);
const readyMs = performance.now() - spawnedAt;

const text = (result) =>
  (result.content ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('');
async function overMcp(tool) {
  const args =
    tool === 'oss_mission'
      ? { mission: mission() }
      : {
          prompt: 'Which port does the server listen on?',
          workspace: project,
          permission: 'read-only',
          context_paths: ['src/config.ts'],
        };
  const started = performance.now();
  const result = await client.callTool({ name: tool, arguments: args });
  const elapsed = performance.now() - started;
  if (result.isError || !text(result).includes('Status: COMPLETE'))
    throw new Error(`${tool}: ${text(result).slice(0, 400)}`);
  return elapsed;
}
const firstResultMs = (await overMcp('opencode')) + readyMs;

const samples = { inProcess: [], mcp: [], opencode: [] };
for (let run = 0; run < warmups + runs; run += 1) {
  // Interleaved, so drift in machine load hits each side alike.
  const a = await inProcess();
  const b = await overMcp('oss_mission');
  const c = await overMcp('opencode');
  if (run < warmups) continue;
  samples.inProcess.push(a);
  samples.mcp.push(b);
  samples.opencode.push(c);
}
await client.close();

// For scale: a whole `mission run` process per mission, start-up included.
const exec = promisify(execFile);
const processSamples = [];
for (let run = 0; run < processRuns; run += 1) {
  const file = path.join(project, `handoff-${run}.md`);
  writeFileSync(file, renderHandoff(mission()));
  const started = performance.now();
  await exec(process.execPath, [bin, 'mission', 'run', file, '--project', project], {
    env: { ...process.env, ...env },
  });
  processSamples.push(performance.now() - started);
}

await services.close();
await mock.close();
rmSync(project, { recursive: true, force: true });

const median = (list) => {
  const sorted = [...list].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
const result = {
  benchmark: 'mcp-overhead',
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  load_average: loadavg()[0],
  runs,
  in_process_ms_p50: median(samples.inProcess),
  mcp_oss_mission_ms_p50: median(samples.mcp),
  mcp_opencode_ms_p50: median(samples.opencode),
  added_per_call_ms: median(samples.mcp) - median(samples.inProcess),
  added_per_call_opencode_ms: median(samples.opencode) - median(samples.inProcess),
  ratio_mcp_over_in_process: median(samples.mcp) / median(samples.inProcess),
  ready_ms: readyMs,
  first_tool_result_ms: firstResultMs,
  mission_run_process_ms_p50: median(processSamples),
  target_added_ms: 5,
  target_ready_ms: 300,
};
result.pass = result.added_per_call_ms < 5 && result.ready_ms < 300;
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const out = new URL(
  `./results/mcp-overhead-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  import.meta.url,
);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);

const ms = (value) => `${value.toFixed(2)} ms`;
console.log(
  `mcp overhead: a 2-step A3 mission, ${runs} interleaved runs (${warmups} warm-up), zero-latency model, load ${result.load_average.toFixed(1)}`,
);
console.log(`  in-process execute        p50 ${ms(result.in_process_ms_p50)}`);
console.log(
  `  MCP oss_mission           p50 ${ms(result.mcp_oss_mission_ms_p50)}  added ${ms(result.added_per_call_ms)} (${result.ratio_mcp_over_in_process.toFixed(2)}x; target < 5 ms)`,
);
console.log(
  `  MCP opencode (prompt)     p50 ${ms(result.mcp_opencode_ms_p50)}  added ${ms(result.added_per_call_opencode_ms)}`,
);
console.log(
  `  spawn → initialized       ${ms(result.ready_ms)} (target < 300 ms); → first tool result ${ms(result.first_tool_result_ms)}`,
);
console.log(`  mission run, whole process p50 ${ms(result.mission_run_process_ms_p50)}`);
console.log(`  ${result.pass ? 'PASS' : 'MISS'}; written to ${out.pathname}`);
