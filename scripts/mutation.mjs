#!/usr/bin/env node
// Runs Stryker over each module that enforces a product promise, one module at a time, with
// only that module's tests selected (MUTATION_TESTS, read by vitest.mutation.config.ts) and an
// incremental file per module under reports/mutation/, so a second run only re-tests what changed.
//
//   npm run mutation                 every module below
//   npm run mutation -- path-scope   only the named module(s)
//
// MUTATION_TESTS=a.test.ts,b.test.ts replaces a module's test list (e.g. to score an older set of
// tests), and MUTATION_LABEL=name keeps that run's reports apart from the usual ones.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const modules = {
  'path-scope': {
    mutate: 'src/runtime/path-scope.ts',
    tests: ['src/runtime/path-scope.test.ts'],
  },
  'redact-secrets': {
    // Narrowed to what decides that text holds a secret: the secret-name rules, the generic
    // high-entropy detector and the two scans that apply every detector. The whole file is
    // 1441 mutants (38% static, each a full test run): about 4 hours on the shared machine.
    mutate: [
      'src/runtime/redact-secrets.ts:181-208',
      'src/runtime/redact-secrets.ts:626-650',
      'src/runtime/redact-secrets.ts:684-772',
    ],
    tests: ['src/runtime/redact-secrets.test.ts', 'src/runtime/redact-high-entropy.test.ts'],
  },
  'validate-report': {
    mutate: 'src/runtime/validate-report.ts',
    tests: ['src/runtime/validate-report.test.ts'],
  },
  'model-registry': {
    mutate: 'src/models/model-registry.ts',
    tests: ['src/models/model-registry.test.ts'],
  },
  'tool-dispatcher': {
    // The budgets: budgetRemaining and exhaustion(), then prepare/execute/commit (the counters
    // and reservations each call moves) and the refusals (deny). runBatch is left to the tests
    // of parallel calls. Measured (README) on the file before parallel calls, as lines 112-286.
    mutate: ['src/runtime/tool-dispatcher.ts:128-158', 'src/runtime/tool-dispatcher.ts:228-455'],
    tests: [
      'src/runtime/tool-dispatcher-budgets.test.ts',
      'tests/integration/tools-special-files.test.ts',
    ],
  },
  'event-log-writer': {
    // Opening (refusals, resume, torn tails), append (its checks and which events wait for a
    // sync) and the run lock. The whole file is 388 mutants and was still 26% short after 15
    // minutes: mutants of the group-commit loop and its timer time out (20 s each), so the flush
    // loop is left for a run of its own.
    mutate: ['src/events/event-log-writer.ts:102-349', 'src/events/event-log-writer.ts:509-577'],
    tests: [
      'tests/integration/events-log.test.ts',
      'src/events/event-log-writer.test.ts',
      'src/events/event-log-writer-open.test.ts',
    ],
  },
  'reduce-run-record': {
    mutate: 'src/events/reduce-run-record.ts',
    tests: ['tests/integration/events-record.test.ts', 'src/events/reduce-run-record.test.ts'],
  },
  // Both test files drive real git in temp dirs (about 7 s a mutant on the shared machine), so
  // these are narrowed to the decisions: which files are dependency manifests; in checkPatch,
  // no-op, scope, escapes, critical paths and their flag, deletions, and the verdict; the
  // dependency and test-removal flags. The whole of checkPatch and its helpers is 444 mutants
  // (about an hour). The name tables and the test-definition regex are left out: they are built
  // when the module loads, before the runner switches a mutant on, so their mutants could only
  // survive.
  'check-patch': {
    mutate: [
      'src/implementation/check-patch.ts:119-127',
      'src/implementation/check-patch.ts:173-259',
      'src/implementation/check-patch.ts:291-300',
      'src/implementation/check-patch.ts:334-366',
      'src/implementation/check-patch.ts:395-423',
    ],
    tests: ['tests/integration/implementation-patch.test.ts'],
  },
  // The file schema's hash rules, the read of a target (a swapped-in special file), promote() and
  // its plan (status gate, diff against the recorded files, forward and revert plans, the
  // record-or-undo step and its worst case, the inverse), then the two-phase apply and its
  // rollback; the other file helpers left out. Line ranges: re-check them after an edit.
  promote: {
    mutate: [
      'src/implementation/promote.ts:43-57',
      'src/implementation/promote.ts:159-184',
      'src/implementation/promote.ts:191-396',
      'src/implementation/promote.ts:398-467',
      'src/implementation/promote.ts:488-629',
      'src/implementation/promote.ts:649-723',
    ],
    tests: ['tests/integration/implementation-promote.test.ts'],
  },
  // From a run id or mission id to promote(): the run's log must verify, be an A5 or A6 run that
  // has finished and proposed a patch; the patch, tier and status come from that log.
  'promote-mission': {
    mutate: ['src/implementation/promote-mission.ts:26-85'],
    tests: ['tests/integration/implementation-promote-mission.test.ts'],
  },
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in modules));
if (unknown.length > 0) {
  console.error(
    `unknown module(s): ${unknown.join(', ')}; known: ${Object.keys(modules).join(', ')}`,
  );
  process.exit(2);
}
const names = requested.length > 0 ? requested : Object.keys(modules);
const outDir = path.resolve('reports/mutation');
mkdirSync(outDir, { recursive: true });

const summary = [];
for (const name of names) {
  const { mutate } = modules[name];
  const tests = process.env.MUTATION_TESTS?.split(',') ?? modules[name].tests;
  const label = process.env.MUTATION_LABEL ? `${name}.${process.env.MUTATION_LABEL}` : name;
  const started = Date.now();
  const jsonReport = path.join(outDir, `${label}.json`);
  // The TypeScript checker compiles only the mutated file and what it imports: a mutant inside a
  // function body can only break types there, and a program a quarter the size of src/ makes
  // each check several times faster on the shared machine. The file lives in the project root
  // because Stryker's sandbox leaves reports/ out.
  const checkerConfig = `tsconfig.mutation.${name}.json`;
  writeFileSync(
    checkerConfig,
    JSON.stringify(
      {
        extends: './tsconfig.json',
        include: [],
        files: [...new Set([mutate].flat().map((entry) => entry.replace(/:[\d-]+$/, '')))],
      },
      null,
      2,
    ) + '\n',
  );
  const result = spawnSync(
    'npx',
    [
      'stryker',
      'run',
      '--mutate',
      [mutate].flat().join(','),
      '--incrementalFile',
      path.join(outDir, `${label}.incremental.json`),
    ],
    {
      stdio: 'inherit',
      env: {
        ...process.env,
        MUTATION_TESTS: tests.join(','),
        STRYKER_JSON_REPORT: jsonReport,
        STRYKER_TSCONFIG: checkerConfig,
      },
    },
  );
  rmSync(checkerConfig, { force: true });
  const seconds = Math.round((Date.now() - started) / 1000);
  if (result.status !== 0) {
    console.error(`stryker failed on ${name} (exit ${String(result.status)})`);
    process.exit(result.status ?? 1);
  }
  summary.push({ name: label, seconds, ...scoreOf(jsonReport) });
}

console.log('\nmodule                 killed  survived  no-cov  timeout  score   time');
for (const row of summary) {
  console.log(
    `${row.name.padEnd(22)} ${String(row.killed).padStart(6)}  ${String(row.survived).padStart(8)}  ${String(row.noCoverage).padStart(6)}  ${String(row.timeout).padStart(7)}  ${row.score.padStart(6)}  ${row.seconds}s`,
  );
}
const summaryFile = path.join(outDir, 'summary.json');
const previous = (() => {
  try {
    return JSON.parse(readFileSync(summaryFile, 'utf8'));
  } catch {
    return [];
  }
})();
const merged = [
  ...previous.filter((row) => !summary.some((next) => next.name === row.name)),
  ...summary,
];
writeFileSync(summaryFile, JSON.stringify(merged, null, 2) + '\n');

function scoreOf(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const counts = { killed: 0, survived: 0, noCoverage: 0, timeout: 0 };
  for (const entry of Object.values(report.files)) {
    for (const mutant of entry.mutants) {
      if (mutant.status === 'Killed') counts.killed += 1;
      else if (mutant.status === 'Survived') counts.survived += 1;
      else if (mutant.status === 'NoCoverage') counts.noCoverage += 1;
      else if (mutant.status === 'Timeout') counts.timeout += 1;
    }
  }
  const detected = counts.killed + counts.timeout;
  const valid = detected + counts.survived + counts.noCoverage;
  return { ...counts, score: valid === 0 ? 'n/a' : `${((100 * detected) / valid).toFixed(1)}%` };
}
