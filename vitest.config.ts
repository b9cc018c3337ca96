import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/*
 * One worker per core. vitest's default is cores - 1 (leaving one for
 * itself), which on a 2-core machine is a single worker: the suite then
 * ran on one core. Its main process only collects results, so every core
 * goes to a worker. Forks, not threads: each test file's process RSS is
 * its own (tests/mm/mm_types_sparse.test.ts measures it).
 */
const workers = Math.max(availableParallelism(), 1);

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    maxWorkers: workers,
    minWorkers: workers,
  },
});
