#!/usr/bin/env node
// Implementation-lane overhead, part 2: the runtime's own time per implementation step. An A5
// mission against a zero-latency scripted model, in-process through the real runtime from the
// app's composition root: read the owned file, stage --edits edits, submit; the runtime builds
// the patch, checks it (git apply --check), runs one trivial verification command, writes the
// log, projections and index. Per step = (wall − model wait − verification commands − creating
// and removing the worktree) / model calls; the last three are measured from the run's own
// events, and the isolation cost is part 1 (bench/implementation-overhead.mjs).
//
//   npm run build && node bench/implementation-steps.mjs [--runs 8] [--edits 10] [--quick]

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createServices } from '../dist/app/index.js';
import { loadConfig } from '../dist/config/index.js';
import { reply, startMockUpstream, toolResults } from '../dist/demo/index.js';
import { createLogger } from '../dist/log/index.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '8' },
    edits: { type: 'string', default: '10' },
    quick: { type: 'boolean', default: false },
  },
});
const runs = values.quick ? 3 : Number(values.runs);
const edits = Number(values.edits);
const warmups = 1;

const project = mkdtempSync(path.join(tmpdir(), 'ocb-bench-impl-'));
mkdirSync(path.join(project, 'src'));
const lines = Array.from({ length: 200 }, (_, i) => `export const value_${i} = ${i};`);
writeFileSync(path.join(project, 'src', 'values.mjs'), `${lines.join('\n')}\n`);
for (let i = 0; i < 20; i += 1)
  writeFileSync(path.join(project, 'src', `other-${i}.mjs`), `export const x${i} = ${i};\n`);
const git = (...args) =>
  execFileSync('git', args, {
    cwd: project,
    stdio: 'ignore',
    env: {
      PATH: process.env.PATH,
      GIT_AUTHOR_NAME: 'b',
      GIT_AUTHOR_EMAIL: 'b@example.invalid',
      GIT_COMMITTER_NAME: 'b',
      GIT_COMMITTER_EMAIL: 'b@example.invalid',
    },
  });
git('init', '-q');
git('add', '-A');
git('commit', '-q', '-m', 'base');

const mock = await startMockUpstream({
  responder: (request) => {
    const done = toolResults(request).length;
    if (done === 0)
      return reply().toolCall('read_file', { path: 'src/values.mjs' }).chunkSize(4096);
    if (done <= edits)
      return reply()
        .toolCall('edit_file', {
          path: 'src/values.mjs',
          old_string: `export const value_${done * 7} = ${done * 7};`,
          new_string: `export const value_${done * 7} = ${done * 7 + 1};`,
        })
        .chunkSize(4096);
    return reply()
      .toolCall('submit_patch', { summary: 'Bump values.', rationale: 'Benchmark.' })
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
  },
});
const services = createServices({ config, logger: createLogger('warn') });

const mission = (id) =>
  `<OSS_HANDOFF_JSON>${JSON.stringify({
    schema_version: 'oss_agent_mission.v1',
    mission_id: id,
    tier: 'A5',
    write_allowed: true,
    objective: 'Bump some values.',
    owned_paths: ['src/values.mjs'],
    allowed_paths: ['src/values.mjs'],
    allowed_tool_classes: ['read', 'search', 'list'],
    max_patch_bytes: 100000,
    tool_budget: 40,
    max_model_calls: 60,
    verification_policy: { allowed_commands: [[process.execPath, '-e', '0']] },
  })}</OSS_HANDOFF_JSON>`;

const samples = [];
for (let run = 0; run < warmups + runs; run += 1) {
  const started = performance.now();
  const outcome = await services.missions.execute({
    userTexts: [mission(`bench-impl-${run}`)],
    model: 'mission-a5-deepseek',
    missionAlias: services.registry.resolve('mission-a5-deepseek').mission,
    signal: new AbortController().signal,
  });
  const wall = performance.now() - started;
  if (outcome.status !== 'VERIFIED')
    throw new Error(`bench run ${run} ended ${outcome.status}: ${outcome.finalText.slice(0, 600)}`);
  if (run < warmups) continue;
  const log = readFileSync(
    path.join(project, '.codex-oss', 'runs', outcome.runId, 'events.jsonl'),
    'utf8',
  )
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  const at = (index) => Date.parse(log[index].ts);
  let excluded = 0;
  log.forEach((event, index) => {
    if (event.type === 'isolation.created' || event.type === 'isolation.removed')
      excluded += at(index) - at(Math.max(0, index - 1));
    if (event.type === 'verification.completed')
      for (const result of event.payload.results.commands) excluded += result.duration_ms;
  });
  const steps = outcome.record.model_calls;
  samples.push({ perStep: (wall - outcome.modelTimeMs - excluded) / steps, wall, excluded, steps });
}
await services.close();
await mock.close();
rmSync(project, { recursive: true, force: true });

const perStep = samples.map((sample) => sample.perStep).sort((a, b) => a - b);
const q = (list, p) => list[Math.min(list.length - 1, Math.floor(p * list.length))];
const result = {
  benchmark: 'implementation-steps',
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  load: loadavg().map((value) => Math.round(value * 10) / 10),
  runs,
  model_calls_per_mission: samples[0]?.steps,
  per_step_ms: { p50: q(perStep, 0.5), p90: q(perStep, 0.9), min: perStep[0] },
  mission_wall_ms_p50: q(
    samples.map((s) => s.wall).sort((a, b) => a - b),
    0.5,
  ),
  excluded_ms_p50: q(
    samples.map((s) => s.excluded).sort((a, b) => a - b),
    0.5,
  ),
  target_per_step_ms: 10,
};
result.pass = result.per_step_ms.p50 < result.target_per_step_ms;
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(
  `./results/implementation-steps-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  import.meta.url,
);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `implementation steps: A5 mission, ${result.model_calls_per_mission} model calls, ${runs} runs, zero-latency model (load ${result.load.join(' ')})`,
);
console.log(
  `  runtime time per step  p50 ${result.per_step_ms.p50.toFixed(2)} ms   p90 ${result.per_step_ms.p90.toFixed(2)} ms   (target < 10 ms) ${result.pass ? 'PASS' : 'MISS'}`,
);
console.log(
  `  mission wall p50 ${result.mission_wall_ms_p50.toFixed(0)} ms, of which isolation + verification ${result.excluded_ms_p50.toFixed(0)} ms`,
);
console.log(`  written to ${file.pathname}`);
