#!/usr/bin/env node
// Benchmark 4 (style-and-performance-anchors Part C): our TypeScript searcher vs ripgrep on the
// same tree. First the (file, line) match sets must be identical, then warm runs are timed,
// interleaved, over several rounds. Gate on the ratio ours/rg, never on absolute milliseconds.
//
//   node bench/search-vs-rg.mjs [--tree DIR] [--rounds 7] [--queries FILE.json]
//
// Queries file: [{ "name", "pattern", "fixed": bool, "caseSensitive": bool, "glob"?, "path"? }].

import { Buffer } from 'node:buffer';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import console from 'node:console';
import {
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  closeSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
function option(name, fallback) {
  const index = argv.indexOf(`--${name}`);
  return index === -1 ? fallback : argv[index + 1];
}
const tree = path.resolve(option('tree', path.join(repoRoot, 'node_modules')));
const rounds = Number(option('rounds', '7'));
const queriesFile = option('queries', null);
const maxFileBytes = 2 * 1024 * 1024;

const defaultQueries = [
  // Literals (fixed strings); each also runs with a scope.
  {
    name: 'createServer',
    pattern: 'createServer',
    fixed: true,
    caseSensitive: true,
    glob: '*.d.ts',
  },
  { name: 'require(', pattern: 'require(', fixed: true, caseSensitive: true, path: 'typescript' },
  {
    name: 'module.exports',
    pattern: 'module.exports',
    fixed: true,
    caseSensitive: true,
    glob: '*.{js,cjs}',
  },
  {
    name: 'Object.defineProperty',
    pattern: 'Object.defineProperty',
    fixed: true,
    caseSensitive: true,
    path: '@typescript-eslint',
  },
  { name: 'use strict', pattern: 'use strict', fixed: true, caseSensitive: true, glob: '*.mjs' },
  {
    name: 'process.env',
    pattern: 'process.env',
    fixed: true,
    caseSensitive: true,
    path: 'fastify',
  },
  {
    name: 'Symbol.asyncIterator',
    pattern: 'Symbol.asyncIterator',
    fixed: true,
    caseSensitive: true,
    path: 'openai',
  },
  { name: 'AbortSignal', pattern: 'AbortSignal', fixed: true, caseSensitive: true, glob: '*.ts' },
  {
    name: 'sqlite3_prepare',
    pattern: 'sqlite3_prepare',
    fixed: true,
    caseSensitive: true,
    path: 'better-sqlite3',
  },
  {
    name: 'deprecated (-i)',
    pattern: 'deprecated',
    fixed: true,
    caseSensitive: false,
    path: 'zod',
  },
  // Regexes.
  {
    name: 'function\\s+\\w+Async\\b',
    pattern: 'function\\s+\\w+Async\\b',
    fixed: false,
    caseSensitive: true,
    glob: '*.js',
  },
  {
    name: 'TODO|FIXME',
    pattern: 'TODO|FIXME',
    fixed: false,
    caseSensitive: true,
    path: 'typescript',
  },
  {
    name: "import {…} from 'node:",
    pattern: 'import\\s+\\{[^}]*\\}\\s+from\\s+[\'"]node:',
    fixed: false,
    caseSensitive: true,
    glob: '*.{js,mjs}',
  },
  {
    name: '^export default',
    pattern: '^export default',
    fixed: false,
    caseSensitive: true,
    path: 'zod',
  },
  {
    name: 'semver-beta',
    pattern: '[0-9]+\\.[0-9]+\\.[0-9]+-beta',
    fixed: false,
    caseSensitive: true,
    glob: '*.json',
  },
];

function ensureRipgrep() {
  if (spawnSync('rg', ['--version']).status === 0) return;
  console.log('rg not found: installing the Debian ripgrep package (benchmark only)…');
  execFileSync('apt-get', ['update'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', 'ripgrep'], { stdio: 'inherit' });
}

async function loadSearcher() {
  const built = path.join(repoRoot, 'dist/runtime/index.js');
  if (!existsSync(built)) {
    console.log('dist/runtime missing: building with tsconfig.build.json…');
    // tsc exits non-zero on other domains' type errors but still emits; only the file matters.
    spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'inherit' });
  }
  const module = await import(pathToFileURL(built).href);
  return module.searchTree;
}

/** Every variant: the query over the whole tree, and the same query with its scope. */
function variants(queries) {
  const out = [];
  for (const query of queries) {
    out.push({ ...query, label: query.name, glob: undefined, path: undefined });
    if (query.glob !== undefined)
      out.push({ ...query, label: `${query.name} -g ${query.glob}`, path: undefined });
    if (query.path !== undefined)
      out.push({ ...query, label: `${query.name} in ${query.path}/`, glob: undefined });
  }
  return out;
}

function rgArgs(variant) {
  const args = ['--json', '-n', '-j2', '--no-ignore', '--hidden', '--max-filesize', '2M'];
  if (variant.fixed) args.push('-F');
  if (!variant.caseSensitive) args.push('-i');
  if (variant.glob !== undefined) args.push('-g', variant.glob);
  args.push('-e', variant.pattern);
  if (variant.path !== undefined) args.push('--', variant.path);
  return args;
}

function runRg(variant) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('rg', rgArgs(variant), { cwd: tree, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (chunk) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0 && code !== 1) {
        reject(new Error(`rg exited ${code}`));
        return;
      }
      resolve({ ms, output: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

function parseRg(output) {
  const matches = new Set();
  for (const line of output.split('\n')) {
    if (line === '') continue;
    const event = JSON.parse(line);
    if (event.type === 'match') {
      const file =
        event.data.path.text ?? Buffer.from(event.data.path.bytes, 'base64').toString('utf8');
      matches.add(`${file.replace(/^\.\//, '')}:${event.data.line_number}`);
    }
  }
  return { matches };
}

async function runOurs(searchTree, variant) {
  const started = performance.now();
  const result = await searchTree({
    root: tree,
    targets: [variant.path ?? ''],
    pattern: variant.pattern,
    fixedString: variant.fixed,
    caseSensitive: variant.caseSensitive,
    ...(variant.glob !== undefined ? { glob: variant.glob } : {}),
    maxFileBytes,
    respectGitignore: false,
  });
  return { ms: performance.now() - started, result };
}

/** True when our searcher skips the file as binary (a NUL byte) or too large, as it documents. */
function skippedByDesign(relative) {
  const file = path.join(tree, relative);
  const size = statSync(file).size;
  if (size > maxFileBytes) return true;
  const buffer = Buffer.allocUnsafe(size);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, size, 0);
  } finally {
    closeSync(fd);
  }
  return buffer.includes(0);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
};

async function main() {
  ensureRipgrep();
  const searchTree = await loadSearcher();
  const queries =
    queriesFile === null ? defaultQueries : JSON.parse(readFileSync(queriesFile, 'utf8'));
  const all = variants(queries);
  const rgVersion = execFileSync('rg', ['--version']).toString().split('\n')[0];
  console.log(
    `tree ${tree}\n${rgVersion}; node ${process.version}; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'})`,
  );

  // 1. Correctness: identical (file, line) sets, after dropping files we skip by design.
  let mismatches = 0;
  const filesSearched = new Map();
  for (const variant of all) {
    const ours = await runOurs(searchTree, variant);
    const rg = parseRg((await runRg(variant)).output);
    const oursSet = new Set(ours.result.matches.map((match) => `${match.path}:${match.line}`));
    const skippedFiles = new Map();
    const rgSet = new Set(
      [...rg.matches].filter((key) => {
        const file = key.slice(0, key.lastIndexOf(':'));
        if (!skippedFiles.has(file)) skippedFiles.set(file, skippedByDesign(file));
        return !skippedFiles.get(file);
      }),
    );
    const onlyOurs = [...oursSet].filter((key) => !rgSet.has(key));
    const onlyRg = [...rgSet].filter((key) => !oursSet.has(key));
    filesSearched.set(variant.label, { ours: ours.result.filesSearched, matches: oursSet.size });
    if (onlyOurs.length > 0 || onlyRg.length > 0) {
      mismatches++;
      console.error(`MISMATCH ${variant.label}: ours ${oursSet.size}, rg ${rgSet.size}`);
      for (const key of onlyOurs.slice(0, 5)) console.error(`  only ours: ${key}`);
      for (const key of onlyRg.slice(0, 5)) console.error(`  only rg:   ${key}`);
    }
  }
  if (mismatches > 0) {
    console.error(`\n${mismatches} queries disagree with ripgrep: no timing reported.`);
    process.exit(1);
  }
  console.log(`match sets identical for all ${all.length} queries\n`);

  // 2. Warm timing, interleaved; the order alternates each round to cancel drift.
  const times = new Map(all.map((variant) => [variant.label, { ours: [], rg: [] }]));
  for (let round = 0; round < rounds; round++) {
    for (const variant of all) {
      const entry = times.get(variant.label);
      const runs = [
        async () => entry.ours.push((await runOurs(searchTree, variant)).ms),
        async () => entry.rg.push((await runRg(variant)).ms),
      ];
      if (round % 2 === 1) runs.reverse();
      for (const run of runs) await run();
    }
  }

  const rows = all.map((variant) => {
    const entry = times.get(variant.label);
    const counts = filesSearched.get(variant.label);
    const oursMs = median(entry.ours);
    const rgMs = median(entry.rg);
    return {
      query: variant.label,
      matches: counts.matches,
      files: counts.ours,
      oursMs: Number(oursMs.toFixed(1)),
      oursIqrMs: Number((quantile(entry.ours, 0.75) - quantile(entry.ours, 0.25)).toFixed(1)),
      rgMs: Number(rgMs.toFixed(1)),
      rgIqrMs: Number((quantile(entry.rg, 0.75) - quantile(entry.rg, 0.25)).toFixed(1)),
      ratio: Number((oursMs / rgMs).toFixed(2)),
      oursFilesPerSec: Math.round(counts.ours / (oursMs / 1000)),
      // Both search the same files (the match sets were checked equal), so one count serves both.
      rgFilesPerSec: Math.round(counts.ours / (rgMs / 1000)),
    };
  });
  const ratios = rows.map((row) => row.ratio);
  const summary = {
    medianRatio: Number(median(ratios).toFixed(2)),
    geomeanRatio: Number(
      Math.exp(ratios.reduce((sum, r) => sum + Math.log(r), 0) / ratios.length).toFixed(2),
    ),
    worstRatio: Math.max(...ratios),
    target: 3,
  };

  const pad = (value, width) => String(value).padStart(width);
  console.log(
    `${'query'.padEnd(46)}${pad('matches', 8)}${pad('files', 7)}${pad('ours ms', 9)}${pad('rg ms', 8)}${pad('ratio', 7)}${pad('ours f/s', 10)}${pad('rg f/s', 9)}`,
  );
  for (const row of rows) {
    console.log(
      `${row.query.slice(0, 45).padEnd(46)}${pad(row.matches, 8)}${pad(row.files, 7)}${pad(row.oursMs, 9)}${pad(row.rgMs, 8)}${pad(row.ratio, 7)}${pad(row.oursFilesPerSec, 10)}${pad(row.rgFilesPerSec, 9)}`,
    );
  }
  console.log(
    `\nratio ours/rg: median ${summary.medianRatio}, geomean ${summary.geomeanRatio}, worst ${summary.worstRatio} (target ≤ ${summary.target})`,
  );

  let gitSha = 'unknown';
  try {
    gitSha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot })
      .toString()
      .trim();
  } catch {
    // Not a git checkout: the sha is informational only.
  }
  const resultsDir = path.join(repoRoot, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const iso = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(resultsDir, `search-vs-rg-${iso}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        suite: 'search-vs-rg',
        gitSha,
        date: new Date().toISOString(),
        node: process.version,
        cpu: os.cpus()[0]?.model ?? 'unknown',
        cores: os.cpus().length,
        ripgrep: rgVersion,
        tree,
        rounds,
        config: {
          maxFileBytes,
          rgArgs: '--json -n -j2 --no-ignore --hidden --max-filesize 2M',
          ours: 'no gitignore, no deny list',
        },
        rows,
        summary,
      },
      null,
      2,
    ),
  );
  console.log(`wrote ${path.relative(repoRoot, file)}`);
  if (summary.medianRatio > summary.target) process.exitCode = 2;
}

await main();
