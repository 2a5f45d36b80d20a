#!/usr/bin/env node
// Implementation-lane overhead, part 1: the cost of an isolation. On a repository of --files
// small files (a few of them modified, so changes are carried), times createIsolation + remove
// against bare `git worktree add --detach` + `git worktree remove --force`, interleaved round by
// round (the order alternates), and reports medians and the ratio ours/bare. Gate on the ratio,
// never on absolute milliseconds: the machine is shared.
//
//   npm run build && node bench/implementation-overhead.mjs [--files 10000] [--rounds 7] [--dir DIR]
//   node bench/implementation-overhead.mjs --quick        # 2k files, 3 rounds (what npm run bench runs)
//
// On a loaded shared 2-core box one 10k-file worktree add+remove takes tens of seconds, so the
// short run uses a smaller tree; run the default settings on a quiet machine.

import { execFileSync } from 'node:child_process';
import console from 'node:console';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { summarize } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..');
const implementation = await import(join(repoRoot, 'dist', 'implementation', 'index.js')).catch(
  () => {
    console.error('dist/ is missing: run `npm run build` first');
    process.exit(1);
  },
);

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '7' },
    modified: { type: 'string', default: '20' },
    dir: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const fileCount = args.quick ? 2000 : Number(args.files);
const rounds = args.quick ? 3 : Number(args.rounds);
const modified = Number(args.modified);

const gitEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? tmpdir(),
  GIT_CONFIG_NOSYSTEM: '1',
};
const git = (cwd, gitArgs) =>
  execFileSync(
    'git',
    ['-c', 'user.email=bench@example.invalid', '-c', 'user.name=bench', ...gitArgs],
    { cwd, env: gitEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );

const work = await realpath(await mkdtemp(join(args.dir ?? tmpdir(), 'bench-impl-')));
const project = join(work, 'project');

function buildRepo() {
  mkdirSync(project);
  git(project, ['init', '-q']);
  // 100 folders of up to 100 files, ~200 bytes each, like a mid-size source tree.
  for (let i = 0; i < fileCount; i++) {
    const dir = join(project, 'src', `pkg${String(Math.floor(i / 100)).padStart(3, '0')}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, `file${i}.ts`),
      `// file ${i}\nexport function f${i}(x: number): number {\n  return x * ${i} + ${i % 7};\n}\n` +
        `export const name${i} = 'module-${i}';\n`,
    );
  }
  git(project, ['add', '-A']);
  git(project, ['commit', '-q', '-m', 'bench tree']);
  // Uncommitted edits in scope, so the isolation has something to carry.
  for (let i = 0; i < modified; i++) {
    const dir = join(project, 'src', `pkg${String(Math.floor(i / 100)).padStart(3, '0')}`);
    writeFileSync(join(dir, `file${i}.ts`), `// edited ${i}\n`);
  }
}

let counter = 0;

/** Each variant returns [create ms, remove ms]. */
async function bare() {
  const target = join(project, '.codex-oss', 'worktrees', `bare-${counter++}`);
  const start = performance.now();
  git(project, ['worktree', 'add', '-q', '--detach', target, 'HEAD']);
  const created = performance.now();
  git(project, ['worktree', 'remove', '--force', target]);
  return [created - start, performance.now() - created];
}

async function ours() {
  const start = performance.now();
  const isolation = await implementation.createIsolation({
    projectRoot: project,
    runId: `ours-${counter++}`,
    scopePaths: ['.'],
  });
  const created = performance.now();
  await isolation.remove();
  const removed = performance.now();
  if (isolation.carried.length !== modified) {
    throw new Error(`expected ${modified} carried files, got ${isolation.carried.length}`);
  }
  return [created - start, removed - created];
}

const loadAtStart = loadavg();
const buildStart = performance.now();
buildRepo();
mkdirSync(join(project, '.codex-oss', 'worktrees'), { recursive: true });
const buildMs = performance.now() - buildStart;

// Warm-up (page cache, git's object lookup), discarded.
await bare();
await ours();

const timings = { bare: [], ours: [] };
const parts = { bare: { create: [], remove: [] }, ours: { create: [], remove: [] } };
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? ['bare', 'ours'] : ['ours', 'bare'];
  for (const name of order) {
    const [create, remove] = name === 'bare' ? await bare() : await ours();
    timings[name].push(create + remove);
    parts[name].create.push(create);
    parts[name].remove.push(remove);
  }
}

const bareStats = summarize(timings.bare);
const oursStats = summarize(timings.ours);
const ratio = oursStats.median / bareStats.median;
const result = {
  benchmark: 'implementation-overhead',
  part: 1,
  at: new Date().toISOString(),
  git_sha: (() => {
    try {
      return git(repoRoot, ['rev-parse', '--short', 'HEAD']).trim();
    } catch {
      return 'unknown';
    }
  })(),
  git_version: git(project, ['--version']).trim(),
  node: process.version,
  cpus: cpus().length,
  // The machine is shared; a load average above the core count means wall times are inflated
  // for both variants alike, which is why only the ratio is gated.
  load_average: { at_start: loadAtStart, at_end: loadavg() },
  settings: { files: fileCount, modified_in_scope: modified, rounds },
  repo_build_ms: Math.round(buildMs),
  isolation_ms: {
    bare_git_worktree_add_remove: bareStats,
    create_isolation_and_remove: oursStats,
  },
  split_ms: {
    bare: { add: summarize(parts.bare.create), remove: summarize(parts.bare.remove) },
    ours: { create: summarize(parts.ours.create), remove: summarize(parts.ours.remove) },
  },
  ratio_ours_over_bare: Number(ratio.toFixed(3)),
  target_ratio: 1.5,
  within_target: ratio <= 1.5,
  samples_ms: timings,
};

mkdirSync(join(here, 'results'), { recursive: true });
const out = join(
  here,
  'results',
  `implementation-overhead-${result.at.replace(/[:.]/g, '-')}.json`,
);
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
await rm(work, { recursive: true, force: true });

console.log(
  `isolation of a ${fileCount}-file repo (${modified} carried): ` +
    `bare git ${bareStats.median.toFixed(0)} ms, createIsolation+remove ${oursStats.median.toFixed(0)} ms ` +
    `(median of ${rounds}), ratio ${ratio.toFixed(2)} (target ≤ 1.5)`,
);
console.log(`written: ${out}`);
