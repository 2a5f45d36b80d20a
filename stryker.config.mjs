// Mutation testing of the modules that enforce the product's promises. Run through
// `npm run mutation` (scripts/mutation.mjs), which passes one module's files and tests at a time.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  // MUTATION_TYPECHECK=0 leaves the checker out: on the shared machine it costs about five times
  // what the tests do per mutant. Mutants that would not compile then run like any other.
  checkers: process.env['MUTATION_TYPECHECK'] === '0' ? [] : ['typescript'],
  // The checker compiles only src: a mutant in src can only break types there, and leaving the
  // tests out of the program makes each check several times faster. scripts/mutation.mjs narrows
  // it further, to the mutated file and its imports (STRYKER_TSCONFIG).
  tsconfigFile: process.env['STRYKER_TSCONFIG'] ?? 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  // Two cores shared with other work: one mutant at a time.
  concurrency: 1,
  incremental: true,
  reporters: ['clear-text', 'progress-append-only', 'json'],
  jsonReporter: {
    fileName: process.env['STRYKER_JSON_REPORT'] ?? 'reports/mutation/mutation.json',
  },
  ignorePatterns: ['dist', 'coverage', 'reports', 'bench/results', '.codex-oss'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  timeoutMS: 20_000,
};
