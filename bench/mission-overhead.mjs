// Runtime overhead per mission step: a 20-step A3 mission (19 reads + the report) against a
// zero-latency scripted model, run in-process through the real MissionRuntime. The bridge's own
// time per step is (wall time − time waiting on the model) / steps: admission, scope checks,
// tool execution, redaction, the hash-chained log with its fsyncs, commentary, validation,
// projections and the SQLite index are all inside it.
//
// Usage: npm run build && node bench/mission-overhead.mjs [--runs 15] [--steps 20] [--quick]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../dist/config/index.js';
import { reply, startMockUpstream, toolResults } from '../dist/demo/index.js';
import { createRegistry } from '../dist/models/index.js';
import { createLogger } from '../dist/log/index.js';
import { MissionRuntime } from '../dist/runtime/index.js';
import { createUpstreamClient } from '../dist/upstream/index.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    steps: { type: 'string', default: '20' },
    quick: { type: 'boolean', default: false },
  },
});
const runs = values.quick ? 4 : Number(values.runs);
const steps = Number(values.steps);
const warmups = values.quick ? 1 : 3;
const reads = steps - 1;

const project = mkdtempSync(path.join(tmpdir(), 'ocb-bench-mission-'));
mkdirSync(path.join(project, 'src'));
for (let index = 0; index < reads; index += 1) {
  const body = Array.from(
    { length: 60 },
    (_, line) => `export const value_${index}_${line} = ${line * index}; // line ${line}`,
  ).join('\n');
  writeFileSync(path.join(project, 'src', `file-${index}.ts`), `${body}\n`);
}

const mock = await startMockUpstream({
  responder: (request) => {
    const done = toolResults(request).length;
    if (done < reads)
      return reply()
        .toolCall('read_file', { path: `src/file-${done}.ts` })
        .chunkSize(4096);
    return reply()
      .toolCall('submit_report', {
        status: 'COMPLETE',
        summary: 'Read every file.',
        findings: [
          { claim: 'file-0 defines value_0_1', evidence_refs: ['file:src/file-0.ts#L2-L2'] },
        ],
        confidence: 'HIGH',
      })
      .chunkSize(4096);
  },
});
const config = loadConfig({
  cwd: project,
  env: {
    UPSTREAM_BASE: mock.baseUrl,
    OPENCODE_GO_API_KEY: 'sk-bench',
    CODEX_OSS_PROJECT: project,
    LOG_LEVEL: 'warn',
    OSS_VISIBLE_TRACE: 'detailed',
    OSS_VISIBLE_TRACE_MAX_EVENTS: '200',
    MISSION_READ_POOL_CAPACITY: '4',
  },
});
const logger = createLogger('warn');
const registry = createRegistry(config);
const upstream = createUpstreamClient({ config, logger, registry });
const runtime = new MissionRuntime({ config, logger, registry, upstream });

const mission = (id) =>
  `<OSS_HANDOFF_JSON>${JSON.stringify({
    schema_version: 'oss_agent_mission.v1',
    mission_id: id,
    tier: 'A3',
    objective: 'Read every file under src and report one value.',
    allowed_roots: ['src/'],
    allowed_tool_classes: ['read', 'search', 'list'],
    required_outputs: ['findings', 'confidence'],
    tool_budget: 20,
    time_budget_seconds: 180,
    max_files_to_inspect: 50,
  })}</OSS_HANDOFF_JSON>`;

const samples = [];
for (let run = 0; run < warmups + runs; run += 1) {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const outcome = await runtime.execute({
    userTexts: [mission(`bench-${run}`)],
    model: 'mission-a3-deepseek',
    missionAlias: registry.resolve('mission-a3-deepseek').mission,
    signal: new AbortController().signal,
  });
  const wall = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  if (outcome.status !== 'COMPLETE' || outcome.record.model_calls !== steps) {
    throw new Error(
      `bench mission ${run} ended ${outcome.status} after ${outcome.record.model_calls} model calls: ${outcome.finalText.slice(0, 400)}`,
    );
  }
  if (run < warmups) continue;
  const bridgeMs = wall - outcome.modelTimeMs;
  samples.push({
    wall,
    modelMs: outcome.modelTimeMs,
    bridgeMs,
    perStep: bridgeMs / steps,
    cpuMs: (cpu.user + cpu.system) / 1000,
    events: outcome.record.event_count,
  });
}

await runtime.close();
await upstream.close();
await mock.close();
rmSync(project, { recursive: true, force: true });

const sorted = (key) => samples.map((sample) => sample[key]).sort((a, b) => a - b);
const quantile = (list, q) => list[Math.min(list.length - 1, Math.floor(q * list.length))];
const perStep = sorted('perStep');
const result = {
  benchmark: 'mission-overhead',
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  steps,
  runs,
  per_step_ms: { p50: quantile(perStep, 0.5), p90: quantile(perStep, 0.9), min: perStep[0] },
  mission_wall_ms_p50: quantile(sorted('wall'), 0.5),
  model_wait_ms_p50: quantile(sorted('modelMs'), 0.5),
  process_cpu_ms_per_mission_p50: quantile(sorted('cpuMs'), 0.5),
  events_per_mission: samples[0]?.events,
  target_per_step_ms: 5,
};
result.pass = result.per_step_ms.p50 < result.target_per_step_ms;
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(
  `./results/mission-overhead-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  import.meta.url,
);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

console.log(
  `mission overhead: ${steps}-step A3 mission, ${runs} runs (${warmups} warm-up), zero-latency scripted model`,
);
console.log(
  `  bridge time per step   p50 ${result.per_step_ms.p50.toFixed(2)} ms   p90 ${result.per_step_ms.p90.toFixed(2)} ms   (target < 5 ms) ${result.pass ? 'PASS' : 'MISS'}`,
);
console.log(
  `  mission wall time      p50 ${result.mission_wall_ms_p50.toFixed(1)} ms, of which waiting on the model ${result.model_wait_ms_p50.toFixed(1)} ms`,
);
console.log(
  `  process CPU / mission  p50 ${result.process_cpu_ms_per_mission_p50.toFixed(1)} ms (bridge and in-process mock together)`,
);
console.log(`  events per mission     ${result.events_per_mission}`);
console.log(`  written to ${file.pathname}`);
