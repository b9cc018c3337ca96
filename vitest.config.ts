import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/*
 * One worker per core. vitest's default is cores - 1 (leaving one for
 * itself), which on a 2-core machine is a single worker: the suite then
 * ran on one core. Its main process only collects results, so every core
 * goes to a worker.
 */
const workers = Math.max(availableParallelism(), 1);

/*
 * Files that need a module graph of their own: they count what importing
 * registers (the parameter registry, the trace event list) or boot only
 * part of a kernel and so rely on every other subsystem's state being the
 * module's initial one. mm_types_sparse measures the process's RSS: it is
 * the first file of its group, so it runs in a process nothing ran in.
 */
const FRESH = [
  'tests/mm/mm_types_sparse.test.ts',
  'tests/kernel/params_registry.test.ts',
  'tests/kernel/trace/trace_events.test.ts',
  'tests/kernel/trace/trace_output.test.ts',
  'tests/kernel/trace/trace_perfetto.test.ts',
  'tests/mm/memblock.test.ts',
];

export default defineConfig({
  test: {
    setupFiles: ['tests/setup.ts'],
    testTimeout: 60_000,
    /*
     * Forks (each worker a process of its own, its RSS its own), and the
     * processes stay between files: booting a worker and importing the
     * kernel took about a third of the suite's CPU time, and a kernel whose
     * code V8 has already optimised runs the next file's tests about twice
     * as fast. Every kernel file is built to boot again in the same process
     * (start_kernel re-initialises the subsystems, as the tools' variant
     * runs do); tests/setup.ts puts the test-only switches back before each
     * file. The FRESH files run first, each on a fresh module graph.
     */
    pool: 'forks',
    poolOptions: { forks: { isolate: false } },
    maxWorkers: workers,
    minWorkers: workers,
    projects: [
      {
        extends: true,
        test: {
          name: 'fresh',
          include: FRESH,
          sequence: { groupOrder: 0 },
          poolOptions: { forks: { isolate: true } },
        },
      },
      {
        extends: true,
        test: {
          name: 'shared',
          // Added to the root's setupFiles (extends merges the lists).
          setupFiles: ['tests/setup_shared.ts'],
          include: ['tests/**/*.test.ts'],
          exclude: FRESH,
          sequence: { groupOrder: 1 },
          poolOptions: { forks: { isolate: false } },
        },
      },
    ],
  },
});
