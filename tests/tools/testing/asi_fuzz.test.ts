/*
 * tests/tools/testing/asi_fuzz.test.ts - a short deterministic slice of
 * the fuzzer with the isolation oracle on (KUnit-style suite asi_fuzz).
 * Long campaigns are `npx tsx tools/testing/asi_fuzz.ts --runs N`.
 */
import { describe, it, expect } from 'vitest';
import { asi_fuzz, format_fuzz_stats } from '../../../tools/testing/asi_fuzz.ts';
import { ephmap_state } from '../../../mm/ephmap.ts';
import { asi_test } from '../../../mm/asi.ts';
import { tlb_test } from '../../../arch/x86/mm/tlb.ts';
import { cpa_asi_test } from '../../../arch/x86/mm/pat/set_memory.ts';

describe('asi_fuzz', () => {
  it('seed 1, 15 programs on the real kernel (asi=on, 2 CPUs): no exception, every result in range, oracle clean, no leak', () => {
    const s = asi_fuzz({ seed: 1, runs: 15 });
    expect(s.first).toBe(null);
    expect(format_fuzz_stats(s)).toMatch(/^programs 15, syscalls \d+, faults injected 0, oracle checks \d+, violations 0, mismatches 0, leaks 0$/);
    expect(s.syscalls).toBeGreaterThan(500);
    expect(s.checks).toBeGreaterThan(500);
  });

  it('seed 3 with fail_page_alloc and failslab at 5%: faults injected, no exception, oracle clean, no leak', () => {
    // Regression: an ephmap_setup() that failed half-way freed the mm-local slot's
    // tables but left the restricted PGD's mirror of the slot pointing at them.
    const s = asi_fuzz({
      seed: 3, runs: 8,
      cmdline: 'asi=on fail_page_alloc=1,5,0,-1 fail_page_alloc_ignore_gfp_wait=0 fail_page_alloc_ignore_gfp_highmem=0 ' +
        'fail_page_alloc_min_order=0 failslab=1,5,0,-1',
    });
    expect(s.first).toBe(null);
    expect(s.faults).toBeGreaterThan(0);
    expect([s.exceptions, s.violations, s.mismatches, s.leaks]).toEqual([0, 0, 0, 0]);
  });

  /*
   * Which program catches it depends on the interleavings, so on the modelled
   * cycles: charging STAC/CLAC (20 cycles per user copy) moved seed 1's catch
   * from within the first 10 programs to the 11th.
   */
  it('seed 1: ephmap_put without its flush is caught within the first 20 programs', () => {
    const s = asi_fuzz({ seed: 1, runs: 20, stop_on_violation: true, setup: () => { ephmap_state.test_skip_put_flush = true; } });
    expect(s.first_violation).toBeGreaterThanOrEqual(0);
    expect(s.first).toMatch(/ephmap slot translation outlived its put/);
  });

  it('seed 1: asi_clone_user_pgtbl skipped from boot is caught by the first program', () => {
    const s = asi_fuzz({ seed: 1, runs: 1, stop_on_violation: true, setup: () => { asi_test.skip_clone_user_pgtbl = true; } });
    expect(s.first_violation).toBe(0);
    expect(s.violations).toBeGreaterThan(0);
  });

  /*
   * Which program first hits it moves with the fuzzer's draws and the cost
   * profile (threads interleave by modelled cycles): seed 1 catches it at
   * program 8 today; the test asks for it within 40, well inside 1,000.
   */
  it('seed 1: a recycled ASID handed out without need_flush is caught within the first 40 programs', () => {
    const s = asi_fuzz({ seed: 1, runs: 40, stop_on_violation: true, setup: () => { tlb_test.skip_asid_reuse_flush = true; } });
    expect(s.first_violation).toBeGreaterThanOrEqual(0);
    expect(s.first_violation).toBeLessThan(40);
    expect(s.first).toMatch(/user-half TLB entry for an address the mm does not map: .* via stale TLB entry/);
  });
});

/*
 * set_direct_map_sensitive() without its shootdown needs memory pressure:
 * at mem=16M a process's pressure phase builds enough page tables through
 * the restricted direct map to turn a sensitive pageblock nonsensitive,
 * frees them, and its fork child's sensitive fill then takes that free
 * pageblock back while the parent, still restricted, polls wait4()
 * (tools/testing/asi_fuzz_pressure.ts). Seed 2 catches it at program
 * CPA_PROGRAM (seed 1 at program 35, seed 3 at 24); the real kernel runs
 * the same programs clean, and takes such pageblocks back (the path is
 * exercised, its shootdown works).
 */
const CPA_CMDLINE = 'mem=16M cpus=2 asi=on';
const CPA_SEED = 2;
const CPA_PROGRAM = 1;

describe('asi_fuzz_pressure', () => {
  it('seed 2, mem=16M: cpa shootdown skipped is caught within 1,000 programs', () => {
    try {
      const s = asi_fuzz({ seed: CPA_SEED, runs: 1000, cmdline: CPA_CMDLINE, stop_on_violation: true,
        setup: () => { cpa_asi_test.skip_flush_tlb_kernel_range = true; } });
      expect(s.first_violation).toBe(CPA_PROGRAM);
      expect(s.first).toMatch(/restricted TLB entry maps a sensitive frame: .* \(sensitive, .*\) via stale TLB entry/);
      expect(s.pageblocks_to_sensitive).toBeGreaterThan(0);
    } finally {
      cpa_asi_test.skip_flush_tlb_kernel_range = false; // no boot clears it
    }
  });

  it('seed 2, mem=16M, the same programs on the real kernel: pageblocks turn sensitive under pressure, oracle clean, no leak', () => {
    const s = asi_fuzz({ seed: CPA_SEED, runs: CPA_PROGRAM + 1, cmdline: CPA_CMDLINE });
    expect(s.first).toBe(null);
    expect([s.exceptions, s.violations, s.mismatches, s.leaks]).toEqual([0, 0, 0, 0]);
    expect(s.pageblocks_to_sensitive).toBeGreaterThan(0);
    expect([...s.coverage.keys()].filter((k) => k.startsWith('pressure:race')).length).toBeGreaterThan(0);
  });
});

describe('asi_fuzz_threads', () => {
  it('seed 1, 6 programs: threads of every kind race on a shared mm across CPUs, with shootdowns, exit_group among them', () => {
    const s = asi_fuzz({ seed: 1, runs: 6, cmdline: 'mem=64M cpus=3 asi=on' });
    expect(s.first).toBe(null);
    for (const kind of ['clone:thread', 'clone:thread_own_files', 'clone:vm', 'exit_group']) expect(s.coverage.has(kind), kind).toBe(true);
    expect(s.remote_flushes).toBeGreaterThan(0);
    expect([s.exceptions, s.violations, s.mismatches, s.leaks]).toEqual([0, 0, 0, 0]);
  });
});
