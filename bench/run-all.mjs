#!/usr/bin/env node
// `npm run bench`: every bench/*.mjs benchmark in turn, with short settings, then where the
// results went. A benchmark whose file is missing is skipped; one that fails does not stop the
// others, but the exit code says so. Full settings: run a benchmark directly (see its header).
// Arguments, if any, name the benchmarks to run (e.g. `node bench/run-all.mjs stream-overhead`).

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, 'results');

/** Short settings per known benchmark; any other bench/*.mjs runs with --quick. */
const SHORT = {
  'stream-overhead.mjs': ['--quick'],
  'eventlog.mjs': [
    '--events',
    '20000',
    '--rounds',
    '2',
    '--reduce-events',
    '10000',
    '--reduce-rounds',
    '2',
  ],
  'search-vs-rg.mjs': ['--rounds', '2'],
  'implementation-overhead.mjs': ['--quick'],
};
const NOT_BENCHMARKS = new Set(['run-all.mjs']);
const PER_BENCHMARK_TIMEOUT_MS = 10 * 60 * 1000;

// `node bench/run-all.mjs stream-overhead eventlog` runs only those (names without .mjs).
const only = new Set(
  process.argv.slice(2).map((name) => (name.endsWith('.mjs') ? name : `${name}.mjs`)),
);
const present = readdirSync(here).filter(
  (name) => name.endsWith('.mjs') && !NOT_BENCHMARKS.has(name),
);
const planned =
  only.size > 0 ? [...only] : [...new Set([...Object.keys(SHORT), ...present.sort()])];
const before = new Set(existsSync(resultsDir) ? readdirSync(resultsDir) : []);
const outcomes = [];

for (const name of planned) {
  const file = join(here, name);
  if (!existsSync(file)) {
    outcomes.push({ name, status: 'skipped (file missing)' });
    continue;
  }
  const args = SHORT[name] ?? ['--quick'];
  console.log(`\n=== ${name} ${args.join(' ')}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [file, ...args], {
    stdio: 'inherit',
    timeout: PER_BENCHMARK_TIMEOUT_MS,
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const status = run.error
    ? `error: ${run.error.message}`
    : run.status === 0
      ? 'ok'
      : `failed (exit ${run.status ?? run.signal})`;
  outcomes.push({ name, status: `${status}, ${seconds} s` });
}

const written = existsSync(resultsDir)
  ? readdirSync(resultsDir)
      .filter((name) => !before.has(name))
      .sort((a, b) => statSync(join(resultsDir, a)).mtimeMs - statSync(join(resultsDir, b)).mtimeMs)
  : [];
console.log('\n=== summary');
for (const outcome of outcomes) console.log(`${outcome.name.padEnd(24)} ${outcome.status}`);
console.log(
  written.length > 0
    ? 'results written:'
    : `no new files in ${relative(process.cwd(), resultsDir) || resultsDir}`,
);
for (const name of written) console.log(`  ${relative(process.cwd(), join(resultsDir, name))}`);
if (outcomes.some((outcome) => /^(failed|error)/.test(outcome.status))) process.exitCode = 1;
