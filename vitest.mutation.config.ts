import { defineConfig } from 'vitest/config';

// Stryker runs one module at a time (scripts/mutation.mjs); MUTATION_TESTS names the test files
// that exercise that module, so each mutant runs only those (and, with perTest coverage, only
// the tests in them that reach the mutant).
const selected = (process.env['MUTATION_TESTS'] ?? '')
  .split(',')
  .map((file) => file.trim())
  .filter((file) => file !== '');

export default defineConfig({
  test: {
    include: selected.length > 0 ? selected : ['src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
