#!/usr/bin/env node
// Benchmark 3 (style-and-performance-anchors.md, Part C): event-log append and reduce throughput
// against raw fs append, all variants in one process, interleaved round by round.
//
//   npm run build && node bench/eventlog.mjs --events 200000 --sync group:64:5ms
//
// Append variants: (a) writeSync loop on one fd, the limit without durability; (b) write +
// fdatasync per event, the per-event durability floor; (c) EventLogWriter, group commit only
// (no durable types in the stream); (c_mission) EventLogWriter on whole missions of --run-size
// events, with the contract's fsync points (admission, every tool result, the terminal event);
// (d_mission) c_mission plus a SQLite index upsert of the live RunRecord after every flush.
// Reduce variants on one --reduce-events run: bare readFile + split + JSON.parse fold, and
// readEventLog (verifying every hash) + reduceRunRecord, plus the fold alone.

// Globals are imported explicitly: the lint config gives .mjs files no Node environment.
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import console from 'node:console';
import {
  closeSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { groupCommitStream, missionRuns } from './lib/eventlog-fixtures.mjs';
import { formatRate, quantile, summarize } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const events = await import(join(repo, 'dist', 'events', 'index.js')).catch(() => {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
});
const store = await import(join(repo, 'dist', 'store', 'index.js'));
const {
  canonicalJson,
  durableEventTypes,
  sha256Hex,
  openEventLog,
  readEventLog,
  reduceRunRecord,
  RunRecordReducer,
} = events;

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '5' },
    sync: { type: 'string', default: 'group:64:5ms' },
    'run-size': { type: 'string', default: '1000' },
    'reduce-events': { type: 'string', default: '100000' },
    'reduce-rounds': { type: 'string', default: '7' },
    // Per-event fdatasync is ~200x slower; cap it so a round stays short.
    'fsync-cap': { type: 'string', default: '3000' },
    dir: { type: 'string' },
  },
});

const total = Number(args.events);
const rounds = Number(args.rounds);
const runSize = Number(args['run-size']);
const reduceCount = Number(args['reduce-events']);
const reduceRounds = Number(args['reduce-rounds']);
const fsyncCap = Number(args['fsync-cap']);
const syncMatch = /^group:(\d+):(\d+(?:\.\d+)?)ms$/.exec(args.sync);
if (!syncMatch) throw new Error(`--sync must look like group:64:5ms, got ${args.sync}`);
const groupCommit = { maxEvents: Number(syncMatch[1]), maxDelayMs: Number(syncMatch[2]) };
const perRound = Math.floor(total / rounds);

const baseDir = args.dir ?? tmpdir();
const work = await mkdtemp(join(baseDir, 'bench-eventlog-'));
const fsType = (() => {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', work], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const gitSha = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: repo,
      encoding: 'utf8',
    }).trim();
  } catch {
    return 'unknown';
  }
})();

// ---- Inputs, identical for every variant -------------------------------------------------------

const groupEvents = groupCommitStream(perRound, (type) => durableEventTypes.has(type));
const missionRunsPerRound = missionRuns(perRound, runSize);
// The raw variants write lines the size of ours (same envelope, placeholder hashes), so bytes
// match and only the work differs.
const rawLines = groupEvents.map(([type, source, payload], seq) =>
  Buffer.from(
    JSON.stringify({
      schema: 'mission_event.v1',
      run_id: 'raw',
      seq,
      ts: new Date(0).toISOString(),
      type,
      source,
      payload,
      prev_hash: '0'.repeat(64),
      hash: 'f'.repeat(64),
    }) + '\n',
  ),
);
const payloadBytes = groupEvents.map(([, , p]) => Buffer.byteLength(JSON.stringify(p)));

let fileCounter = 0;
const nextPath = (name) => join(work, `${name}-${fileCounter++}.jsonl`);

// ---- Append variants ---------------------------------------------------------------------------

function rawWrite(withSync) {
  const path = nextPath(withSync ? 'b' : 'a');
  const fd = openSync(path, 'a');
  const count = withSync ? Math.min(fsyncCap, rawLines.length) : rawLines.length;
  const latencies = new Float64Array(count);
  let bytes = 0;
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const line = rawLines[i];
    writeSync(fd, line);
    if (withSync) fdatasyncSync(fd);
    bytes += line.length;
    latencies[i] = performance.now() - t0;
  }
  if (!withSync) fdatasyncSync(fd); // make (a) end durable too, so the totals compare
  const elapsed = performance.now() - start;
  closeSync(fd);
  return { count, bytes, elapsed, latencies };
}

let runCounter = 0;
async function writerRun(projectRoot, stream, latencies, offset, onOpen) {
  const runId = `run-${runCounter++}`;
  const writer = await openEventLog({ projectRoot, runId, groupCommit });
  const detach = onOpen?.(writer);
  for (let i = 0; i < stream.length; i++) {
    const [type, source, payload] = stream[i];
    const t0 = performance.now();
    await writer.append(type, source, payload);
    latencies[offset + i] = performance.now() - t0;
  }
  await writer.close();
  detach?.();
  return statSync(writer.logPath).size;
}

async function ourWriterGroup(projectRoot) {
  const latencies = new Float64Array(groupEvents.length);
  const start = performance.now();
  const bytes = await writerRun(projectRoot, groupEvents, latencies, 0);
  return { count: groupEvents.length, bytes, elapsed: performance.now() - start, latencies };
}

async function ourWriterMissions(projectRoot, index) {
  const count = missionRunsPerRound.reduce((n, run) => n + run.length, 0);
  const latencies = new Float64Array(count);
  let bytes = 0;
  let offset = 0;
  let upserts = 0;
  const start = performance.now();
  for (const run of missionRunsPerRound) {
    let onOpen;
    if (index) {
      onOpen = (writer) => {
        const reducer = new RunRecordReducer();
        const offEvent = writer.onEvent((event) => reducer.apply(event));
        // One upsert (one transaction) per group commit: the index trails the durable log.
        const offFlush = writer.onFlush(() => {
          index.upsertRun(reducer.snapshot());
          upserts++;
        });
        return () => {
          offEvent();
          offFlush();
        };
      };
    }
    bytes += await writerRun(projectRoot, run, latencies, offset, onOpen);
    offset += run.length;
  }
  return { count, bytes, elapsed: performance.now() - start, latencies, upserts };
}

// ---- Reduce variants ---------------------------------------------------------------------------

async function buildReduceFixture(path) {
  const [run] = missionRuns(reduceCount, reduceCount, 3);
  let prev = '0'.repeat(64);
  const parts = [];
  run.forEach(([type, source, payload], seq) => {
    const body = {
      schema: 'mission_event.v1',
      run_id: 'reduce',
      seq,
      ts: new Date(1_700_000_000_000 + seq).toISOString(),
      type,
      source,
      payload: JSON.parse(canonicalJson(payload)),
      prev_hash: prev,
    };
    const hash = sha256Hex(canonicalJson(body));
    parts.push(JSON.stringify({ ...body, hash }) + '\n');
    prev = hash;
  });
  writeFileSync(path, parts.join(''));
}

// The floor: what any reader must do (read, split, parse) plus a fold of the same headline
// figures, with no validation and no hash checks.
async function bareFold(path) {
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  let modelCalls = 0;
  let toolCalls = 0;
  let tokens = 0;
  let cost = 0;
  let head = null;
  for (const line of lines) {
    if (line === '') continue;
    const event = JSON.parse(line);
    head = event.hash;
    if (event.type === 'model.requested') modelCalls++;
    else if (event.type === 'tool.requested') toolCalls++;
    else if (event.type === 'model.responded') {
      tokens += event.payload.usage.total_tokens;
      cost += event.payload.cost_usd;
    }
  }
  return { modelCalls, toolCalls, tokens, cost, head };
}

// ---- Harness -----------------------------------------------------------------------------------

function rotate(list, by) {
  return list.map((_, i) => list[(i + by) % list.length]);
}

const loadAtStart = loadavg();

async function main() {
  const projectRoot = join(work, 'project');
  mkdirSync(projectRoot, { recursive: true });
  const index = store.openRunIndex(projectRoot);
  const appendVariants = [
    ['a_writeSync', () => rawWrite(false)],
    ['b_fdatasync_each', () => rawWrite(true)],
    ['c_writer_group', () => ourWriterGroup(projectRoot)],
    ['c_writer_missions', () => ourWriterMissions(projectRoot, null)],
    ['d_writer_missions_index', () => ourWriterMissions(projectRoot, index)],
  ];
  const append = Object.fromEntries(
    appendVariants.map(([name]) => [
      name,
      { rates: [], mbps: [], p99: [], p50: [], cpuPerEvent: [], upserts: 0, count: 0 },
    ]),
  );

  // Warm-up: one short pass of each variant, discarded.
  for (const [, run] of appendVariants) await run();

  for (let round = 0; round < rounds; round++) {
    for (const [name, run] of rotate(appendVariants, round)) {
      const cpu0 = process.cpuUsage();
      const result = await run();
      const cpu = process.cpuUsage(cpu0);
      const stats = append[name];
      stats.cpuPerEvent.push((cpu.user + cpu.system) / result.count);
      stats.rates.push(result.count / (result.elapsed / 1000));
      stats.mbps.push(result.bytes / 1e6 / (result.elapsed / 1000));
      stats.p99.push(quantile(result.latencies, 0.99));
      stats.p50.push(quantile(result.latencies, 0.5));
      stats.upserts += result.upserts ?? 0;
      stats.count += result.count;
    }
    process.stderr.write(`append round ${round + 1}/${rounds} done\n`);
  }
  index.close();

  const reducePath = join(work, 'reduce.jsonl');
  await buildReduceFixture(reducePath);
  const reduceBytes = statSync(reducePath).size;
  const parsed = (await readEventLog(reducePath)).events;
  const reduceVariants = [
    ['r_bare_parse_fold', () => bareFold(reducePath)],
    ['r_readEventLog_verify', () => readEventLog(reducePath)],
    ['r_readEventLog_reduce', async () => reduceRunRecord((await readEventLog(reducePath)).events)],
    ['r_reduce_only', () => reduceRunRecord(parsed)],
  ];
  const reduce = Object.fromEntries(reduceVariants.map(([name]) => [name, { ms: [], cpuMs: [] }]));
  for (const [, run] of reduceVariants) await run();
  for (let round = 0; round < reduceRounds; round++) {
    for (const [name, run] of rotate(reduceVariants, round)) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const result = await run();
      reduce[name].ms.push(performance.now() - t0);
      const cpu = process.cpuUsage(cpu0);
      reduce[name].cpuMs.push((cpu.user + cpu.system) / 1000);
      if (name === 'r_readEventLog_verify' && result.chainErrors.length > 0)
        throw new Error('fixture chain broken');
    }
  }

  const appendSummary = Object.fromEntries(
    Object.entries(append).map(([name, s]) => [
      name,
      {
        events_per_s: summarize(s.rates),
        mb_per_s: summarize(s.mbps),
        p50_ms: summarize(s.p50),
        p99_ms: summarize(s.p99),
        cpu_us_per_event: summarize(s.cpuPerEvent),
        events_measured: s.count,
        ...(s.upserts ? { index_upserts: s.upserts } : {}),
      },
    ]),
  );
  const reduceSummary = Object.fromEntries(
    Object.entries(reduce).map(([name, s]) => [
      name,
      {
        ms: summarize(s.ms),
        cpu_ms: summarize(s.cpuMs),
        events_per_s: reduceCount / (summarize(s.ms).median / 1000),
      },
    ]),
  );
  const rate = (name) => appendSummary[name].events_per_s.median;
  const ratios = {
    c_over_a: rate('c_writer_group') / rate('a_writeSync'),
    c_over_b: rate('c_writer_group') / rate('b_fdatasync_each'),
    c_missions_over_c: rate('c_writer_missions') / rate('c_writer_group'),
    d_over_c_missions: rate('d_writer_missions_index') / rate('c_writer_missions'),
    reduce_ours_over_bare:
      reduceSummary.r_readEventLog_reduce.ms.median / reduceSummary.r_bare_parse_fold.ms.median,
  };
  const targets = {
    group_commit_append_ge_50k_per_s: rate('c_writer_group') >= 50_000,
    reduce_100k_under_1s:
      reduceSummary.r_readEventLog_reduce.ms.median * (100_000 / reduceCount) < 1000,
  };

  const result = {
    suite: 'eventlog',
    git_sha: gitSha,
    at: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    file_system: fsType,
    // The machine is shared; a load average above the core count means wall times are inflated
    // and CPU times (cpu_us_per_event, cpu_ms) are the steadier figures.
    load_average: { at_start: loadAtStart, at_end: loadavg() },
    config: {
      durable_types: [...durableEventTypes],
      events: total,
      rounds,
      per_round: perRound,
      group_commit: groupCommit,
      run_size: runSize,
      fsync_cap: fsyncCap,
      reduce_events: reduceCount,
      reduce_rounds: reduceRounds,
      reduce_file_bytes: reduceBytes,
      payload_bytes: {
        min: Math.min(...payloadBytes),
        p50: quantile(payloadBytes, 0.5),
        max: Math.max(...payloadBytes),
      },
    },
    append: appendSummary,
    reduce: reduceSummary,
    ratios,
    targets,
  };
  mkdirSync(join(here, 'results'), { recursive: true });
  const out = join(here, 'results', `eventlog-${result.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');

  const rows = [['variant', 'events/s', 'IQR', 'MB/s', 'p50 ms', 'p99 ms', 'cpu µs/ev']];
  for (const [name, s] of Object.entries(appendSummary)) {
    rows.push([
      name,
      formatRate(s.events_per_s.median),
      `${formatRate(s.events_per_s.p25)}–${formatRate(s.events_per_s.p75)}`,
      s.mb_per_s.median.toFixed(1),
      s.p50_ms.median.toFixed(4),
      s.p99_ms.median.toFixed(3),
      s.cpu_us_per_event.median.toFixed(2),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const print = (r) =>
    console.log(
      r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '),
    );
  console.log(
    `\nappend (${perRound} events per round x ${rounds} rounds, ${fsType}, ${result.cpu} x${result.cores}, node ${process.version}, load ${loadAtStart.map((l) => l.toFixed(1)).join('/')})`,
  );
  rows.forEach(print);
  console.log(
    `\nreduce (${reduceCount} events, ${(reduceBytes / 1e6).toFixed(1)} MB, ${reduceRounds} rounds)`,
  );
  for (const [name, s] of Object.entries(reduceSummary)) {
    console.log(
      `${name.padEnd(24)} ${s.ms.median.toFixed(1).padStart(8)} ms  (IQR ${s.ms.p25.toFixed(1)}–${s.ms.p75.toFixed(1)})  cpu ${s.cpu_ms.median.toFixed(1)} ms  ${formatRate(s.events_per_s)} events/s`,
    );
  }
  console.log(
    '\nratios',
    Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, Number(v.toFixed(3))])),
  );
  console.log('targets', targets);
  console.log(`results: ${out}`);
}

try {
  await main();
} finally {
  await rm(work, { recursive: true, force: true });
}
