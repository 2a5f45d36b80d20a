// Model round trips, input tokens and wall time of one scripted A3 investigation that needs six
// reads: the model lists src/, reads six files and reports. Played twice through the real
// MissionRuntime against the scripted mock upstream with a per-call model latency: once asking
// for one tool per turn (how missions ran before), once asking for the six reads in one turn.
//
// Input tokens are what each request would cost a provider: tools plus transcript, at four
// characters a token. The cacheable share is the part of a request that repeats the previous
// request of the same mission byte for byte from its start (what a provider's prefix cache can
// serve); the mock reports it as cached_tokens, so the runtime's own totals carry both.
//
// Usage: npm run build && node bench/mission-roundtrips.mjs [--runs 3] [--latency 300] [--quick]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../dist/config/index.js';
import { reply, startMockUpstream, toolResults } from '../dist/demo/index.js';
import { createRegistry } from '../dist/models/index.js';
import { createLogger } from '../dist/log/index.js';
import { MissionRuntime } from '../dist/runtime/index.js';
import { createUpstreamClient } from '../dist/upstream/index.js';
import { median } from './lib/stats.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    latency: { type: 'string', default: '300' },
    quick: { type: 'boolean', default: false },
  },
});
const runs = values.quick ? 1 : Number(values.runs);
const latencyMs = Number(values.latency);
const READS = 6;
const CHARS_PER_TOKEN = 4;

const project = mkdtempSync(path.join(tmpdir(), 'ocb-bench-roundtrips-'));
mkdirSync(path.join(project, 'src'));
for (let index = 0; index < READS; index += 1) {
  const body = Array.from(
    { length: 60 },
    (_, line) => `export const setting_${index}_${line} = ${line * 7 + index}; // line ${line + 1}`,
  ).join('\n');
  writeFileSync(path.join(project, 'src', `file-${index}.ts`), `${body}\n`);
}

const tokens = (chars) => Math.ceil(chars / CHARS_PER_TOKEN);
const previousPrompt = new Map();
const commonPrefix = (a, b) => {
  const max = Math.min(a.length, b.length);
  let index = 0;
  while (index < max && a.charCodeAt(index) === b.charCodeAt(index)) index += 1;
  return index;
};
const refsIn = (output) =>
  (/^\[refs: ([^\]]*)\]/m.exec(output)?.[1] ?? '')
    .split(', ')
    .filter((ref) => ref.startsWith('file:'));

const mock = await startMockUpstream({
  responder: (request) => {
    const body = request.body;
    const system = String(body.messages?.[0]?.content ?? '');
    const missionId = /mission (rt-[a-z]+-\d+)/.exec(system)?.[1] ?? 'unknown';
    const parallel = missionId.startsWith('rt-parallel');
    // What a provider renders before generating: the tool list, then the transcript.
    const prompt =
      JSON.stringify(body.tools ?? []) + body.messages.map((m) => JSON.stringify(m)).join('');
    const cachedChars = commonPrefix(prompt, previousPrompt.get(missionId) ?? '');
    previousPrompt.set(missionId, prompt);
    const results = toolResults(request);
    const done = results.length;
    let builder;
    if (done === 0) builder = reply().toolCall('list_dir', { path: 'src/' });
    else if (parallel && done === 1) {
      builder = reply();
      for (let index = 0; index < READS; index += 1)
        builder.toolCall('read_file', { path: `src/file-${index}.ts` });
    } else if (!parallel && done <= READS)
      builder = reply().toolCall('read_file', { path: `src/file-${done - 1}.ts` });
    else {
      const refs = results.flatMap((result) => refsIn(result.output));
      builder = reply().toolCall('submit_report', {
        status: 'COMPLETE',
        summary: `Read the ${READS} files under src.`,
        findings: refs.map((ref, index) => ({
          claim: `file-${index} defines setting_${index}_0`,
          evidence_refs: [ref],
        })),
        confidence: 'HIGH',
      });
    }
    const spec = builder.toSpec();
    const completionChars = spec.toolCalls.reduce(
      (sum, call) => sum + call.name.length + call.arguments.length,
      0,
    );
    return builder
      .firstByteDelayMs(latencyMs)
      .chunkSize(4096)
      .usage({
        prompt_tokens: tokens(prompt.length),
        completion_tokens: tokens(completionChars),
        cached_tokens: Math.min(tokens(prompt.length), Math.floor(cachedChars / CHARS_PER_TOKEN)),
      });
  },
});
const config = loadConfig({
  cwd: project,
  env: {
    UPSTREAM_BASE: mock.baseUrl,
    OPENCODE_GO_API_KEY: 'sk-bench',
    CODEX_OSS_PROJECT: project,
    LOG_LEVEL: 'warn',
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
    objective: 'Read the six files under src and report the first setting of each.',
    allowed_roots: ['src/'],
    allowed_tool_classes: ['read', 'search', 'list'],
    required_outputs: ['findings', 'confidence'],
    tool_budget: 20,
    time_budget_seconds: 180,
  })}</OSS_HANDOFF_JSON>`;

async function play(mode, run) {
  const started = performance.now();
  const outcome = await runtime.execute({
    userTexts: [mission(`rt-${mode}-${run}`)],
    model: 'mission-a3-deepseek',
    missionAlias: registry.resolve('mission-a3-deepseek').mission,
    signal: new AbortController().signal,
  });
  const wall = performance.now() - started;
  const { record } = outcome;
  const files = record.files_inspected
    .map((file) => file.path)
    .filter((file) => /^src\/file-\d+\.ts$/.test(file))
    .sort();
  if (outcome.status !== 'COMPLETE' || files.length !== READS) {
    throw new Error(
      `${mode} run ${run} ended ${outcome.status} with ${files.length} files: ${outcome.finalText.slice(0, 400)}`,
    );
  }
  return {
    roundTrips: record.model_calls,
    inputTokens: record.tokens.input_tokens,
    cachedTokens: record.tokens.cached_input_tokens,
    toolCalls: record.tool_calls,
    wallMs: wall,
    files,
    findings: outcome.report?.findings.length ?? 0,
  };
}

const samples = { serial: [], parallel: [] };
// Interleaved, so load on the shared machine hits both modes alike.
for (let run = 0; run < runs; run += 1) {
  samples.serial.push(await play('serial', run));
  samples.parallel.push(await play('parallel', run));
}
await runtime.close();
await upstream.close();
await mock.close();
rmSync(project, { recursive: true, force: true });

const summary = (list) => ({
  round_trips: median(list.map((s) => s.roundTrips)),
  input_tokens: median(list.map((s) => s.inputTokens)),
  cacheable_tokens: median(list.map((s) => s.cachedTokens)),
  uncached_input_tokens: median(list.map((s) => s.inputTokens - s.cachedTokens)),
  tool_calls: median(list.map((s) => s.toolCalls)),
  wall_ms: median(list.map((s) => s.wallMs)),
  files_inspected: list[0].files.length,
  findings: list[0].findings,
});
const serial = summary(samples.serial);
const parallel = summary(samples.parallel);
const sameEvidence =
  JSON.stringify(samples.serial[0].files) === JSON.stringify(samples.parallel[0].files);
const result = {
  benchmark: 'mission-roundtrips',
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  loadavg: loadavg().map((value) => Number(value.toFixed(2))),
  model_latency_ms: latencyMs,
  runs,
  serial,
  parallel,
  same_evidence: sameEvidence,
  ratios: {
    round_trips: serial.round_trips / parallel.round_trips,
    input_tokens: parallel.input_tokens / serial.input_tokens,
    uncached_input_tokens: parallel.uncached_input_tokens / serial.uncached_input_tokens,
    wall: parallel.wall_ms / serial.wall_ms,
  },
};
result.pass = sameEvidence && result.ratios.round_trips >= 2 && result.ratios.input_tokens <= 0.7;
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(
  `./results/mission-roundtrips-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  import.meta.url,
);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

const pct = (value) => `${(value * 100).toFixed(0)}%`;
const row = (label, a, b, ratio) =>
  console.log(`  ${label.padEnd(24)}${String(a).padStart(12)}${String(b).padStart(12)}   ${ratio}`);
console.log(
  `mission round trips: list src/, read ${READS} files, report; model latency ${latencyMs} ms; ${runs} run(s) per mode, medians; load ${result.loadavg.join(' ')}`,
);
row('', 'one per turn', 'parallel', 'parallel vs one per turn');
row(
  'model round trips',
  serial.round_trips,
  parallel.round_trips,
  `${result.ratios.round_trips.toFixed(2)}x fewer`,
);
row(
  'input tokens',
  serial.input_tokens,
  parallel.input_tokens,
  `${pct(1 - result.ratios.input_tokens)} fewer`,
);
row(
  '  of which cacheable',
  `${serial.cacheable_tokens} (${pct(serial.cacheable_tokens / serial.input_tokens)})`,
  `${parallel.cacheable_tokens} (${pct(parallel.cacheable_tokens / parallel.input_tokens)})`,
  '',
);
row(
  '  uncached',
  serial.uncached_input_tokens,
  parallel.uncached_input_tokens,
  `${pct(1 - result.ratios.uncached_input_tokens)} fewer`,
);
row(
  'wall time (ms)',
  serial.wall_ms.toFixed(0),
  parallel.wall_ms.toFixed(0),
  `${pct(1 - result.ratios.wall)} less`,
);
row('tool calls', serial.tool_calls, parallel.tool_calls, '');
row(
  'files inspected',
  serial.files_inspected,
  parallel.files_inspected,
  sameEvidence ? 'same files' : 'DIFFERENT',
);
console.log(
  `  target: >= 2x fewer round trips, >= 30% fewer input tokens, same evidence: ${result.pass ? 'PASS' : 'MISS'}`,
);
console.log(`  written to ${file.pathname}`);
