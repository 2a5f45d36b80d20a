#!/usr/bin/env node
// Benchmark 1 (style-and-performance-anchors.md, Part C): streamed-token overhead of the bridge's
// raw lane against a direct connection and a bare pipe proxy, in one run, interleaved.
//
//   npm run build && node bench/stream-overhead.mjs --rounds 7 --per-round 25 --pace 20
//   node bench/stream-overhead.mjs --quick          # a short smoke run (under a minute)
//
// Paths, same logical stream (64 deltas of 16 bytes from bench/lib/sse-upstream.mjs):
//   A  client → upstream /v1/chat/completions (the physical limit)
//   P  client → pipe proxy (bench/lib/pipe-proxy.mjs, no parsing) → upstream (the Node floor)
//   D  client → bridge /v1/responses (raw lane, ocg-kimi-k2.6) → upstream
// Each server runs in its own process (bench/lib/stream-bench-child.mjs) so its CPU and memory
// are its own; with taskset the bridge and the proxy get core 1, the client and upstream core 0.
// Phases: paced (--pace ms between deltas) and unpaced, each at concurrency 1 (A,P,D,A,P,D…,
// rounds × per-round after warm-ups) and at --conc (batches of N concurrent streams).
// Reported: median of round medians with IQR; added TTFT/gap = D−A and P−A.

import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent } from 'undici';
import { cpuBetween, pinningAvailable, pinSelf, startChild } from './lib/child-process.mjs';
import { benchPieces } from './lib/sse-upstream.mjs';
import { checkResponsesOrder, drainStream, runStream } from './lib/stream-client.mjs';
import { quantile, summarize } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const childModule = join(here, 'lib', 'stream-bench-child.mjs');

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string' },
    'per-round': { type: 'string' },
    warmup: { type: 'string' },
    pace: { type: 'string' },
    conc: { type: 'string' },
    'conc-rounds': { type: 'string' },
    'conc-per-round': { type: 'string' },
    quick: { type: 'boolean', default: false },
    upstream: { type: 'string', default: 'minimal' },
    'daemon-log': { type: 'string', default: 'warn' },
    profile: { type: 'boolean', default: false },
    'no-pin': { type: 'boolean', default: false },
    'skip-unpaced': { type: 'boolean', default: false },
    'skip-paced': { type: 'boolean', default: false },
    'wait-quiet': { type: 'string', default: '0' },
    out: { type: 'string' },
  },
});

const quick = args.quick;
const pick = (name, full, short) => Number(args[name] ?? (quick ? short : full));
const settings = {
  rounds: pick('rounds', 7, 3),
  perRound: pick('per-round', 25, 5),
  warmup: pick('warmup', 15, 3),
  // --quick shortens the pace too (64 × 20 ms per stream would not fit in a minute).
  paceMs: pick('pace', 20, 5),
  concurrency: pick('conc', 32, 32),
  concRounds: pick('conc-rounds', 5, 2),
  concPerRound: pick('conc-per-round', 3, 1),
  concWarmup: 1,
  deltas: 64,
  deltaBytes: 16,
  upstream: args.upstream,
  daemonLogLevel: args['daemon-log'],
  quick,
};
if (!['minimal', 'mock'].includes(settings.upstream))
  throw new Error('--upstream must be minimal or mock');
for (const [key, value] of Object.entries(settings)) {
  if (typeof value === 'number' && !(Number.isFinite(value) && value >= 0))
    throw new Error(`bad --${key}: ${value}`);
}

const TARGETS = { ttftP50Ms: 1, ttftP99Ms: 3, gapP50Ms: 0.05, throughputRatio: 0.9 };
const PEERS = [
  {
    name: 'LiteLLM 1.93.0',
    figure: 'added TTFT p50 8.5 ms, p99 8.8 ms (Busbar, paced 64×16 B @ 20 ms)',
  },
  {
    name: 'Helicone ai-gateway',
    figure: 'added TTFT p50 0.48 ms, p99 0.73 ms (Busbar, same method)',
  },
  {
    name: 'Portkey OSS 1.15.2',
    figure: 'added overhead 2.37 ms, IQR 2.25–2.48 (cuihuan, sequential, non-streamed)',
  },
  { name: 'Bifrost', figure: 'added overhead 0.44–0.62 ms (cuihuan, sequential)' },
];

try {
  statSync(join(repo, 'dist', 'http', 'index.js'));
} catch {
  console.error('dist/ is missing: run `npx tsc -p tsconfig.build.json` (or npm run build) first');
  process.exit(1);
}

// ---- Environment -------------------------------------------------------------------------------

const pinning = args['no-pin'] ? { available: false, reason: '--no-pin' } : pinningAvailable();
const cores = pinning.available ? { client: 0, upstream: 0, proxy: 1, daemon: 1 } : {};
if (pinning.available && !pinSelf(0)) {
  pinning.available = false;
  pinning.reason = 'taskset -p failed on this process';
}
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
/** Busy fraction of all cores over `ms` (from /proc/stat), i.e. how much else the machine runs. */
async function machineBusy(ms = 1000) {
  const read = () => {
    try {
      const fields = readFileSync('/proc/stat', 'utf8')
        .split('\n')[0]
        .trim()
        .split(/\s+/)
        .slice(1)
        .map(Number);
      return {
        idle: fields[3] + (fields[4] ?? 0),
        total: fields.reduce((sum, value) => sum + value, 0),
      };
    } catch {
      return undefined;
    }
  };
  const first = read();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const second = read();
  if (!first || !second || second.total === first.total) return Number.NaN;
  return 1 - (second.idle - first.idle) / (second.total - first.total);
}
// The run is only as clean as the machine: wait (bounded) for other work to calm down.
const waitQuietS = Number(args['wait-quiet']);
let busyBefore = await machineBusy();
for (let waited = 0; waited < waitQuietS && busyBefore > 0.25; waited += 5) {
  console.log(
    `machine ${(busyBefore * 100).toFixed(0)}% busy; waiting for it to calm down (${waited}/${waitQuietS} s)`,
  );
  await new Promise((resolve) => setTimeout(resolve, 4000));
  busyBefore = await machineBusy();
}
const loadBefore = loadavg();
const openFilesLimit = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
const work = mkdtempSync(join(tmpdir(), 'bench-stream-'));

const pieces = benchPieces(settings.deltas, settings.deltaBytes);
const expectedText = pieces.join('');
const chatBody = JSON.stringify({
  model: 'kimi-k2.6',
  stream: true,
  messages: [{ role: 'user', content: 'bench' }],
});
const responsesBody = JSON.stringify({ model: 'ocg-kimi-k2.6', input: 'bench', stream: true });
const chatHeaders = { 'content-type': 'application/json', authorization: 'Bearer sk-bench' };
const responsesHeaders = {
  'content-type': 'application/json',
  authorization: 'Bearer sk-local-codex-bridge',
};

// ---- Processes ---------------------------------------------------------------------------------

const children = [];
async function spawn(role, options, extra = {}) {
  const child = await startChild(childModule, role, options, {
    core: cores[role === 'mock' ? 'upstream' : role],
    ...extra,
  });
  children.push(child);
  return child;
}
async function stopAll() {
  for (const child of children.splice(0).reverse()) await child.stop();
}
process.on('SIGINT', () => {
  void stopAll().finally(() => process.exit(130));
});

const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
const profileDir = args.profile ? join(work, 'cpu-profile') : undefined;
const daemonLogPath = join(work, 'daemon.log');
const daemonLogFd = openSync(daemonLogPath, 'a');

const upstreamOptions = { deltas: settings.deltas, deltaBytes: settings.deltaBytes, paceMs: 0 };
const upstream = await spawn(settings.upstream === 'mock' ? 'mock' : 'upstream', upstreamOptions);
const proxy = await spawn('proxy', { target: upstream.url });
const daemon = await spawn(
  'daemon',
  { target: upstream.url, logLevel: settings.daemonLogLevel },
  {
    stdout: daemonLogFd,
    nodeFlags: profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-interval=100']
      : [],
  },
);

const paths = {
  A: {
    name: 'A direct',
    kind: 'chat',
    url: `${upstream.url}/v1/chat/completions`,
    body: chatBody,
    headers: chatHeaders,
  },
  P: {
    name: 'P pipe proxy',
    kind: 'chat',
    url: `${proxy.url}/v1/chat/completions`,
    body: chatBody,
    headers: chatHeaders,
  },
  D: {
    name: 'D bridge raw lane',
    kind: 'responses',
    url: `${daemon.url}/v1/responses`,
    body: responsesBody,
    headers: responsesHeaders,
  },
};
const order = ['A', 'P', 'D'];
const problems = { A: 0, P: 0, D: 0, examples: [] };

async function runOne(key, keepTypes = false) {
  const path = paths[key];
  const result = await runStream({ ...path, dispatcher, expectedText, keepTypes });
  if (result.deltas !== settings.deltas)
    result.problems.push(`${result.deltas} deltas, ${settings.deltas} expected`);
  if (result.problems.length > 0) {
    problems[key] += 1;
    if (problems.examples.length < 10)
      problems.examples.push({ path: key, problems: result.problems });
  }
  return result;
}

function gapsOf(result) {
  const gaps = [];
  for (let index = 1; index < result.deltaTimes.length; index += 1)
    gaps.push(result.deltaTimes[index] - result.deltaTimes[index - 1]);
  return gaps;
}

async function setPace(ms) {
  await upstream.call('pace', { ms });
}

async function statsAll() {
  return {
    upstream: await upstream.stats(),
    proxy: await proxy.stats(),
    daemon: await daemon.stats(),
    client: { cpu: process.cpuUsage() },
  };
}

function resources(before, after, streamsPerPath) {
  const total = streamsPerPath * 3;
  const mib = (bytes) => bytes / 1024 / 1024;
  return {
    daemonCpuUsPerStream: cpuBetween(before.daemon, after.daemon) / streamsPerPath,
    daemonSystemCpuUsPerStream:
      (after.daemon.cpu.system - before.daemon.cpu.system) / streamsPerPath,
    proxyCpuUsPerStream: cpuBetween(before.proxy, after.proxy) / streamsPerPath,
    upstreamCpuUsPerStream: cpuBetween(before.upstream, after.upstream) / total,
    clientCpuUsPerStream: cpuBetween(before.client, after.client) / total,
    daemonRssMiB: mib(after.daemon.memory.rss),
    daemonPeakRssMiB: after.daemon.maxRssKb / 1024,
    daemonHeapUsedMiB: mib(after.daemon.memory.heapUsed),
    daemonPeakHeapUsedMiB: mib(after.daemon.peakHeapUsed),
    proxyRssMiB: mib(after.proxy.memory.rss),
    proxyPeakRssMiB: after.proxy.maxRssKb / 1024,
  };
}

// ---- Correctness first -------------------------------------------------------------------------

async function verify() {
  const report = {};
  for (const pace of [0, settings.paceMs]) {
    await setPace(pace);
    for (const key of order) {
      const result = await runOne(key, key === 'D');
      const issues = [...result.problems];
      if (key === 'D') issues.push(...checkResponsesOrder(result.types, settings.deltas));
      report[`${key}@${pace}ms`] = {
        ok: issues.length === 0,
        deltas: result.deltas,
        textMatches: result.text === expectedText,
        issues,
      };
    }
  }
  return report;
}

// ---- Phases ------------------------------------------------------------------------------------

async function serialPhase(paceMs) {
  await setPace(paceMs);
  for (let index = 0; index < settings.warmup; index += 1)
    for (const key of order) await runOne(key);
  const before = await statsAll();
  const rounds = [];
  for (let round = 0; round < settings.rounds; round += 1) {
    const samples = { A: [], P: [], D: [] };
    for (let sample = 0; sample < settings.perRound; sample += 1) {
      for (const key of order) {
        const result = await runOne(key);
        samples[key].push({
          ttft: result.ttft,
          duration: result.durationMs,
          gaps: gapsOf(result),
          overheadHeader: result.overheadHeader,
          overheadTrailer: result.overheadTrailer,
        });
      }
    }
    rounds.push(samples);
  }
  const after = await statsAll();
  return { rounds, resources: resources(before, after, settings.rounds * settings.perRound) };
}

async function concurrentPhase(paceMs) {
  const n = settings.concurrency;
  await setPace(paceMs);
  const batch = async (key) => {
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: n }, () => runOne(key)));
    const wallMs = Math.max(...results.map((result) => result.ended)) - started;
    return {
      wallMs,
      streamsPerS: (n * 1000) / wallMs,
      deltasPerS: (n * settings.deltas * 1000) / wallMs,
      ttfts: results.map((result) => result.ttft),
      gaps: results.flatMap(gapsOf),
      durations: results.map((result) => result.durationMs),
    };
  };
  for (let index = 0; index < settings.concWarmup; index += 1)
    for (const key of order) await batch(key);
  const before = await statsAll();
  const rounds = [];
  for (let round = 0; round < settings.concRounds; round += 1) {
    const samples = { A: [], P: [], D: [] };
    for (let sample = 0; sample < settings.concPerRound; sample += 1)
      for (const key of order) samples[key].push(await batch(key));
    rounds.push(samples);
  }
  const after = await statsAll();
  return {
    rounds,
    resources: resources(before, after, settings.concRounds * settings.concPerRound * n),
  };
}

/** The upstream's own ceiling: concurrent unpaced streams drained without parsing, no proxy. */
async function ceiling(url, batches) {
  const n = settings.concurrency;
  const rates = [];
  for (let index = 0; index < batches + 1; index += 1) {
    const started = performance.now();
    await Promise.all(
      Array.from({ length: n }, () =>
        drainStream({ url, body: chatBody, headers: chatHeaders, dispatcher }),
      ),
    );
    if (index > 0) rates.push((n * 1000) / (performance.now() - started));
  }
  return summarize(rates);
}

// ---- Summaries ---------------------------------------------------------------------------------

const med = (values) => quantile(values, 0.5);
const p99 = (values) => quantile(values, 0.99);
const round3 = (value) => (Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null);
const roundSummary = (summary) => ({
  median: round3(summary.median),
  p25: round3(summary.p25),
  p75: round3(summary.p75),
  n: summary.n,
});

function summarizeSerial(phase, paceMs) {
  const { rounds } = phase;
  const perPath = {};
  for (const key of order) {
    const all = rounds.flatMap((round) => round[key]);
    const ttfts = all.map((sample) => sample.ttft);
    const gaps = all.flatMap((sample) => sample.gaps);
    const overheads = all
      .map((sample) => sample.overheadTrailer)
      .filter((value) => value !== undefined);
    const headerOverheads = all
      .map((sample) => sample.overheadHeader)
      .filter((value) => value !== undefined);
    perPath[key] = {
      streams: all.length,
      ttftMs: {
        ...roundSummary(summarize(rounds.map((round) => med(round[key].map((s) => s.ttft))))),
        pooledP50: round3(med(ttfts)),
        pooledP99: round3(p99(ttfts)),
      },
      gapMs: {
        ...roundSummary(summarize(rounds.map((round) => med(round[key].flatMap((s) => s.gaps))))),
        pooledP99: round3(p99(gaps)),
      },
      durationMs: roundSummary(
        summarize(rounds.map((round) => med(round[key].map((s) => s.duration)))),
      ),
      ...(overheads.length > 0
        ? {
            selfReportedOverheadMs: {
              trailerP50: round3(med(overheads)),
              trailerP99: round3(p99(overheads)),
              headerP50: round3(med(headerOverheads)),
            },
          }
        : {}),
    };
  }
  const added = {};
  for (const key of ['P', 'D']) {
    const diffPerRound = (select) =>
      summarize(rounds.map((round) => select(round[key]) - select(round.A)));
    const pooled = (select, q) =>
      quantile(
        rounds.flatMap((round) => round[key].flatMap(select)),
        q,
      ) -
      quantile(
        rounds.flatMap((round) => round.A.flatMap(select)),
        q,
      );
    added[key] = {
      ttftP50Ms: roundSummary(diffPerRound((samples) => med(samples.map((s) => s.ttft)))),
      ttftP99Ms: round3(pooled((s) => [s.ttft], 0.99)),
      ttftP99PerRoundMs: roundSummary(diffPerRound((samples) => p99(samples.map((s) => s.ttft)))),
      gapP50Ms: roundSummary(diffPerRound((samples) => med(samples.flatMap((s) => s.gaps)))),
      gapP99Ms: round3(pooled((s) => s.gaps, 0.99)),
      durationP50Ms: roundSummary(diffPerRound((samples) => med(samples.map((s) => s.duration)))),
    };
  }
  return { concurrency: 1, paceMs, perPath, added, resources: roundResources(phase.resources) };
}

function summarizeConcurrent(phase, paceMs, mockCeiling) {
  const { rounds } = phase;
  const perPath = {};
  for (const key of order) {
    const batches = rounds.flatMap((round) => round[key]);
    const ttfts = batches.flatMap((batch) => batch.ttfts);
    const gaps = batches.flatMap((batch) => batch.gaps);
    const streamsPerS = summarize(
      rounds.map((round) => med(round[key].map((batch) => batch.streamsPerS))),
    );
    perPath[key] = {
      streams: batches.length * settings.concurrency,
      streamsPerS: roundSummary(streamsPerS),
      deltasPerS: roundSummary(
        summarize(rounds.map((round) => med(round[key].map((batch) => batch.deltasPerS)))),
      ),
      ttftMs: { pooledP50: round3(med(ttfts)), pooledP99: round3(p99(ttfts)) },
      gapMs: { pooledP50: round3(med(gaps)), pooledP99: round3(p99(gaps)) },
      durationMs: { pooledP50: round3(med(batches.flatMap((batch) => batch.durations))) },
      mockBound: mockCeiling ? streamsPerS.median >= 0.9 * mockCeiling.median : undefined,
    };
  }
  const ratios = {};
  for (const key of ['P', 'D']) {
    const ratio = (field) =>
      roundSummary(
        summarize(
          rounds.map(
            (round) =>
              med(round[key].map((batch) => batch[field])) /
              med(round.A.map((batch) => batch[field])),
          ),
        ),
      );
    const ttftsOf = (k) => rounds.flatMap((round) => round[k].flatMap((batch) => batch.ttfts));
    ratios[key] = {
      streamsPerS: ratio('streamsPerS'),
      deltasPerS: ratio('deltasPerS'),
      addedTtftP50Ms: round3(med(ttftsOf(key)) - med(ttftsOf('A'))),
      addedTtftP99Ms: round3(p99(ttftsOf(key)) - p99(ttftsOf('A'))),
    };
  }
  const paceLimit =
    paceMs > 0 ? (settings.concurrency * 1000) / ((settings.deltas - 1) * paceMs) : undefined;
  return {
    concurrency: settings.concurrency,
    paceMs,
    paceLimitStreamsPerS: round3(paceLimit),
    perPath,
    ratios,
    resources: roundResources(phase.resources),
  };
}

function roundResources(values) {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, round3(value)]));
}

// ---- Run ---------------------------------------------------------------------------------------

const startedAt = new Date();
const t0 = performance.now();
const phases = [];
let ceilings = {};
let verification;
try {
  console.log(
    `stream-overhead: ${settings.rounds}×${settings.perRound} after ${settings.warmup} warm-ups at c=1; ${settings.concRounds}×${settings.concPerRound} batches of ${settings.concurrency} at c=${settings.concurrency}; pace ${settings.paceMs} ms; upstream ${settings.upstream}`,
  );
  console.log(
    `pinning: ${pinning.available ? 'client+upstream on core 0, bridge+proxy on core 1' : `off (${pinning.reason})`}`,
  );

  verification = await verify();
  const failed = Object.entries(verification).filter(([, value]) => !value.ok);
  if (failed.length > 0) {
    console.error('correctness check failed:', JSON.stringify(failed, null, 2));
    throw new Error('correctness check failed; not measuring');
  }
  console.log(
    'correctness: A, P and D deliver the exact upstream text; D event order and sequence numbers valid',
  );

  await setPace(0);
  ceilings.active = {
    upstream: settings.upstream,
    streamsPerS: roundSummary(await ceiling(paths.A.url, quick ? 3 : 10)),
  };
  if (!quick) {
    // The other upstream's ceiling, for context: why the minimal one is (or is not) used.
    const other = await spawn(settings.upstream === 'mock' ? 'upstream' : 'mock', upstreamOptions);
    ceilings.other = {
      upstream: settings.upstream === 'mock' ? 'minimal' : 'mock (dist/demo)',
      streamsPerS: roundSummary(await ceiling(`${other.url}/v1/chat/completions`, 10)),
    };
    await other.stop();
    children.splice(children.indexOf(other), 1);
  }
  console.log(
    `upstream ceiling (c=${settings.concurrency}, unpaced, drained): ${ceilings.active.streamsPerS.median.toFixed(0)} streams/s` +
      (ceilings.other
        ? `; ${ceilings.other.upstream}: ${ceilings.other.streamsPerS.median.toFixed(0)} streams/s`
        : ''),
  );

  const paces = [
    ...(args['skip-paced'] ? [] : [settings.paceMs]),
    ...(args['skip-unpaced'] ? [] : [0]),
  ];
  for (const paceMs of paces) {
    const label = paceMs > 0 ? `paced ${paceMs} ms` : 'unpaced';
    console.log(`… ${label}, c=1`);
    phases.push(summarizeSerial(await serialPhase(paceMs), paceMs));
    console.log(`… ${label}, c=${settings.concurrency}`);
    phases.push(
      summarizeConcurrent(
        await concurrentPhase(paceMs),
        paceMs,
        paceMs === 0 ? ceilings.active.streamsPerS : undefined,
      ),
    );
  }
} finally {
  await stopAll();
  closeSync(daemonLogFd);
  await dispatcher.close();
}
const elapsedS = (performance.now() - t0) / 1000;

// ---- Targets -----------------------------------------------------------------------------------

const targets = [];
for (const phase of phases) {
  const tag = `${phase.paceMs > 0 ? `paced ${phase.paceMs} ms` : 'unpaced'}, c=${phase.concurrency}`;
  if (phase.concurrency === 1) {
    const added = phase.added.D;
    targets.push({
      name: `added TTFT p50 < ${TARGETS.ttftP50Ms} ms (${tag})`,
      value: added.ttftP50Ms.median,
      pass: added.ttftP50Ms.median < TARGETS.ttftP50Ms,
      gate: phase.paceMs > 0,
    });
    targets.push({
      name: `added TTFT p99 < ${TARGETS.ttftP99Ms} ms (${tag})`,
      value: added.ttftP99Ms,
      pass: added.ttftP99Ms < TARGETS.ttftP99Ms,
      gate: phase.paceMs > 0,
    });
    targets.push({
      name: `added gap p50 < ${TARGETS.gapP50Ms * 1000} µs (${tag}, anchors' suggestion)`,
      value: added.gapP50Ms.median,
      pass: added.gapP50Ms.median < TARGETS.gapP50Ms,
      gate: false,
    });
  } else {
    const ratio = phase.ratios.D.streamsPerS.median;
    targets.push({
      name: `throughput ≥ ${TARGETS.throughputRatio * 100}% of direct (${tag})`,
      value: ratio,
      pass: ratio >= TARGETS.throughputRatio,
      gate: true,
      mockBound: phase.perPath.D.mockBound,
    });
  }
}

// ---- Output ------------------------------------------------------------------------------------

const fmt = (value, digits = 2) =>
  value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
const iqr = (summary, digits = 2) =>
  `${fmt(summary.median, digits)} [${fmt(summary.p25, digits)}–${fmt(summary.p75, digits)}]`;
function table(header, rows) {
  const widths = header.map((cell, index) =>
    Math.max(cell.length, ...rows.map((row) => String(row[index]).length)),
  );
  const line = (row) => row.map((cell, index) => String(cell).padEnd(widths[index])).join('  ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}

console.log('');
for (const phase of phases) {
  const label = `${phase.paceMs > 0 ? `paced ${phase.paceMs} ms` : 'unpaced'}, concurrency ${phase.concurrency}`;
  console.log(`== ${label}`);
  if (phase.concurrency === 1) {
    table(
      [
        'path',
        'TTFT p50 ms [IQR]',
        'TTFT p99',
        'gap p50 ms',
        'gap p99',
        'duration p50 ms',
        'added TTFT p50 [IQR]',
        'added TTFT p99',
        'added gap p50 µs',
        'added gap p99 ms',
      ],
      order.map((key) => {
        const row = phase.perPath[key];
        const added = phase.added[key];
        return [
          paths[key].name,
          iqr(row.ttftMs, 3),
          fmt(row.ttftMs.pooledP99, 3),
          fmt(row.gapMs.median, 3),
          fmt(row.gapMs.pooledP99, 3),
          fmt(row.durationMs.median, 1),
          added ? iqr(added.ttftP50Ms, 3) : '(baseline)',
          added ? fmt(added.ttftP99Ms, 3) : '',
          added ? fmt(added.gapP50Ms.median * 1000, 1) : '',
          added ? fmt(added.gapP99Ms, 3) : '',
        ];
      }),
    );
    const self = phase.perPath.D.selfReportedOverheadMs;
    if (self)
      console.log(
        `bridge self-reported x-bridge-overhead-ms: header p50 ${fmt(self.headerP50, 3)}, trailer (whole stream) p50 ${fmt(self.trailerP50, 3)} p99 ${fmt(self.trailerP99, 3)}`,
      );
  } else {
    table(
      [
        'path',
        'streams/s [IQR]',
        'deltas/s',
        'ratio vs A [IQR]',
        'TTFT p50 ms',
        'TTFT p99',
        'gap p99 ms',
        'mock-bound',
      ],
      order.map((key) => {
        const row = phase.perPath[key];
        const ratio = phase.ratios[key];
        return [
          paths[key].name,
          iqr(row.streamsPerS, 1),
          fmt(row.deltasPerS.median, 0),
          ratio ? iqr(ratio.streamsPerS, 3) : '(baseline)',
          fmt(row.ttftMs.pooledP50, 2),
          fmt(row.ttftMs.pooledP99, 2),
          fmt(row.gapMs.pooledP99, 2),
          row.mockBound === undefined
            ? phase.paceLimitStreamsPerS
              ? `pace limit ${fmt(phase.paceLimitStreamsPerS, 1)}/s`
              : '-'
            : row.mockBound
              ? 'YES'
              : 'no',
        ];
      }),
    );
  }
  const r = phase.resources;
  console.log(
    `CPU per stream: bridge ${fmt(r.daemonCpuUsPerStream, 0)} µs (${fmt(r.daemonSystemCpuUsPerStream, 0)} in the kernel), pipe proxy ${fmt(r.proxyCpuUsPerStream, 0)} µs, upstream ${fmt(r.upstreamCpuUsPerStream, 0)} µs, client ${fmt(r.clientCpuUsPerStream, 0)} µs; ` +
      `bridge RSS ${fmt(r.daemonRssMiB, 1)} MiB (peak ${fmt(r.daemonPeakRssMiB, 1)}), heap ${fmt(r.daemonHeapUsedMiB, 1)} MiB; proxy RSS ${fmt(r.proxyRssMiB, 1)} MiB`,
  );
  console.log('');
}
console.log('== targets');
table(
  ['target', 'measured', 'result'],
  targets.map((target) => [
    target.name,
    fmt(target.value, 3),
    `${target.pass ? 'PASS' : 'FAIL'}${target.gate ? '' : ' (info)'}${target.mockBound ? ' (mock-bound)' : ''}`,
  ]),
);
console.log('');
console.log('peers (published, other machines and methods; context only):');
for (const peer of PEERS) console.log(`  ${peer.name}: ${peer.figure}`);
console.log(`stream problems: A ${problems.A}, P ${problems.P}, D ${problems.D}`);
console.log(
  `machine: ${(busyBefore * 100).toFixed(0)}% busy before the run, load average ${loadBefore.map((v) => v.toFixed(1)).join('/')} → ${loadavg()
    .map((v) => v.toFixed(1))
    .join('/')}` +
    (busyBefore > 0.25 || loadavg()[0] > cpus().length
      ? ' — CONTENDED: other work shared the cores, absolute latencies are inflated'
      : ''),
);

const result = {
  suite: 'stream-overhead',
  createdAt: startedAt.toISOString(),
  elapsedS: round3(elapsedS),
  gitSha,
  node: process.version,
  v8: process.versions.v8,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  totalMemMiB: Math.round(totalmem() / 1024 / 1024),
  platform: `${process.platform} ${process.arch}`,
  openFilesLimit,
  pinning: { ...pinning, cores },
  machine: {
    busyBeforeStart: round3(busyBefore),
    loadavgBefore: loadBefore.map(round3),
    loadavgAfter: loadavg().map(round3),
    contended: busyBefore > 0.25 || loadavg()[0] > cpus().length,
  },
  settings,
  verification,
  ceilings,
  phases,
  targets,
  allGatesPass: targets.filter((target) => target.gate).every((target) => target.pass),
  problems,
  peers: PEERS,
  daemonLog: daemonLogPath,
  ...(profileDir ? { cpuProfileDir: profileDir } : {}),
};
const outDir = args.out ?? join(here, 'results');
mkdirSync(outDir, { recursive: true });
const outFile = join(
  outDir,
  `stream-overhead-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`,
);
writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${relative(process.cwd(), outFile)} (${elapsedS.toFixed(1)} s)`);
if (profileDir) console.log(`bridge CPU profile: ${profileDir}`);
if (problems.A + problems.P + problems.D > 0) process.exitCode = 1;
