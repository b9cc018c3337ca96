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
 * Files that measure the process's memory (RSS, ArrayBuffer bytes): each
 * runs in a process nothing ran in, whose earlier garbage cannot absorb or
 * mask what they measure. They run first, one per worker: at most as many
 * as there are workers.
 */
export const RSS = ['tests/mm/mm_types_sparse.test.ts', 'tests/arch/x86/hw/physmem.test.ts'];

/*
 * Files that need a module graph of their own: they count what importing
 * registers (the parameter registry, the trace event list), declare trace
 * events of their own (which replace the kernel's in the registry), or
 * boot only part of a kernel (memblock's machine_only, page_alloc_boot's
 * boot_mm) and so rely on every subsystem they do not initialise being in
 * its module's initial state (asi_state off, no earlier boot's machine).
 */
export const FRESH = [
  'tests/kernel/params_registry.test.ts',
  'tests/kernel/trace/trace_events.test.ts',
  'tests/kernel/trace/trace_output.test.ts',
  'tests/kernel/trace/trace_perfetto.test.ts',
  'tests/mm/memblock.test.ts',
  'tests/mm/page_alloc.test.ts',
  'tests/mm/page_alloc_property.test.ts',
  'tests/mm/fail_page_alloc.test.ts',
];

export default defineConfig({
  test: {
    setupFiles: ['tests/setup.ts'],
    testTimeout: 60_000,
    /*
     * Forks (each worker a process of its own, its RSS its own), and the
     * processes stay between files: a new process per file, importing the
     * kernel again and running each file's tests on code V8 had not yet
     * optimised, made the suite cost ~160 CPU seconds instead of ~90.
     * Every kernel file is built to boot again in the same process
     * (start_kernel re-initialises the subsystems, as the tools' variant
     * runs do); tests/setup_shared.ts puts the test-only switches back
     * before each file. The RSS and FRESH files run first, in processes of
     * their own (vitest starts new ones after each project), each FRESH
     * file on a fresh module graph. tests/vitest_projects.test.ts checks
     * the lists.
     */
    pool: 'forks',
    poolOptions: { forks: { isolate: false } },
    maxWorkers: workers,
    minWorkers: workers,
    projects: [
      {
        extends: true,
        test: {
          name: 'rss',
          include: RSS,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'fresh',
          include: FRESH,
          sequence: { groupOrder: 1 },
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
          exclude: [...RSS, ...FRESH],
          sequence: { groupOrder: 2 },
          poolOptions: { forks: { isolate: false } },
        },
      },
    ],
  },
});
