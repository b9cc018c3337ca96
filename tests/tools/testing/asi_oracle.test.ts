/*
 * tests/tools/testing/asi_oracle.test.ts - the ASI isolation oracle and
 * its seeded bugs (KUnit-style suite asi_oracle).
 *
 * Every case runs user programs on tmpfs with asi=on on 2 CPUs and the
 * oracle hooked into every asi_enter() (after every syscall). Each seeded
 * bug is a test-only switch with no command-line spelling; for each, one
 * case shows the oracle reports it and one shows the real kernel is clean
 * on the same program.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel, kunit_activate_syscall_stub, __NR_kunit, RW, ANON } from '../../fs/helpers.ts';
import type { Kernel } from '../../../init/main.ts';
import {
  asi_oracle, asi_oracle_install, asi_oracle_check, format_asi_violation, type AsiViolation,
} from '../../../tools/testing/asi_oracle.ts';
import { asi_oracle_workload } from '../../../tools/testing/asi_oracle_workload.ts';
import { ephmap_state } from '../../../mm/ephmap.ts';
import { cpa_asi_test } from '../../../arch/x86/mm/pat/set_memory.ts';
import { tlb_test, tlb_asi } from '../../../arch/x86/mm/tlb.ts';
import { asi_test } from '../../../mm/asi.ts';
import { asi_oracle_hook, asi_is_restricted } from '../../../arch/x86/mm/asi.ts';
import { alloc_pages, __free_pages } from '../../../mm/page_alloc.ts';
import { GFP_HIGHUSER, GFP_KERNEL } from '../../../mm/gfp.ts';
import { page_address } from '../../../mm/mm_types.ts';
import { sum_vm_event, vm_event_item } from '../../../mm/vmstat.ts';
import { this_cpu, smp_processor_id } from '../../../kernel/smp.ts';
import { MAP_FIXED } from '../../../include/uapi/asm-generic/mman-common.ts';

interface Outcome {
  statuses: number[];
  checks: number;
  violations: AsiViolation[];
  nr: number;
}

function finish(k: Kernel): Outcome {
  const r = k.run();
  if (r.reason !== 'done') throw new Error(`run ended: ${r.reason}`);
  const out = { statuses: r.exited.map((e) => e.status), checks: asi_oracle.checks, violations: asi_oracle.violations, nr: asi_oracle.nr_violations };
  k.shutdown();
  return out;
}

function boot(cmdline = ''): Kernel {
  const k = start_kernel(`mem=64M cpus=2 asi=on ${cmdline}`);
  expect(asi_oracle_install(k, { force: true })).toBe(true);
  return k;
}

/* The general workload: 4 processes, preads/pwrites/mmap/munmap/fork/exit. */
function workload(cmdline: string, seed: (k: Kernel) => void, opts: { nproc?: number; rounds?: number } = {}): Outcome {
  const k = boot(cmdline);
  seed(k);
  asi_oracle_workload(k, { nproc: opts.nproc ?? 4, rounds: opts.rounds ?? 8 });
  return finish(k);
}

const none = (): void => {};

/*
 * set_direct_map_sensitive() without its shootdown: process x (CPU 1)
 * uses a pageblock of kernel memory through the restricted direct map,
 * then frees it; process y (CPU 0) makes sensitive allocations until the
 * allocator turns a free nonsensitive pageblock (that one) sensitive.
 */
function cpa_program(skip_shootdown: boolean): Outcome & { cpus: number[] } {
  const k = boot();
  cpa_asi_test.skip_flush_tlb_kernel_range = skip_shootdown;
  const TO_SENSITIVE = vm_event_item('asi_pageblock_to_sensitive');
  let B = -1;
  let touched = false;
  let converted = false;
  const cpus: number[] = [];
  kunit_activate_syscall_stub(__NR_kunit, (a) => {
    if (a[0] === 1) {
      B = alloc_pages(GFP_KERNEL, 9) ?? -1;
      return B < 0 ? -12 : 0;
    }
    if (a[0] === 2) { // back in the restricted space (the allocation's zeroing exited)
      cpus[0] = asi_is_restricted() ? smp_processor_id() : -1;
      this_cpu().load32(page_address(B));
      __free_pages(B, 9);
      touched = true;
      return 0;
    }
    cpus[1] = smp_processor_id();
    const got: number[] = [];
    const before = sum_vm_event(TO_SENSITIVE);
    while (sum_vm_event(TO_SENSITIVE) === before) {
      const p = alloc_pages(GFP_HIGHUSER, 0);
      if (p === null || p < 0) break;
      got.push(p);
    }
    for (const p of got) __free_pages(p, 0);
    converted = sum_vm_event(TO_SENSITIVE) > before;
    return 0;
  });
  k.spawn('x', function* (u) {
    yield* u.getpid();
    yield* u.syscall(__NR_kunit, 1);
    yield* u.syscall(__NR_kunit, 2);
    let after = 5;
    for (let i = 0; i < 10000 && after > 0; i++) {
      u.compute(2000);
      yield* u.getpid();
      if (converted) after--;
    }
    return 0;
  });
  k.spawn('y', function* (u) {
    for (let i = 0; i < 10000 && !touched; i++) {
      u.compute(2000);
      yield* u.getpid();
    }
    yield* u.syscall(__NR_kunit, 3);
    return converted ? 0 : 1;
  });
  try {
    return { ...finish(k), cpus };
  } finally {
    cpa_asi_test.skip_flush_tlb_kernel_range = false; // no boot clears it
  }
}

/*
 * asi_clone_user_pgtbl() skipped: a process maps and touches a page in a
 * PGD slot of its own, then unmaps it, which frees that slot's tables;
 * the restricted PGD keeps pointing at the freed PUD page.
 */
function clone_program(skip_clone: boolean): Outcome {
  const k = boot();
  k.spawn('p', function* (u) {
    const at = 0x10000000000; // PGD entry 2, used by nothing else
    const a = yield* u.mmap(at, 4096, RW, ANON | MAP_FIXED);
    if (a !== at) return 1;
    u.poke32(a, 42);
    asi_test.skip_clone_user_pgtbl = skip_clone;
    if ((yield* u.munmap(a, 4096)) !== 0) return 2;
    asi_test.skip_clone_user_pgtbl = false;
    const b = yield* u.mmap(0, 4096, RW, ANON);
    u.poke32(b, 1);
    return 0;
  });
  return finish(k);
}

function describe_first(o: Outcome): string {
  return o.violations.length ? format_asi_violation(o.violations[0]) : 'none';
}

describe('asi_oracle', () => {
  it('the real kernel is clean: 4 processes pread/pwrite/mmap/munmap/fork/exit on tmpfs, every ephmap= variant', () => {
    for (const mode of ['percpu', 'mermap', 'off']) {
      const o = workload(`ephmap=${mode}`, none);
      expect(o.statuses).toEqual(new Array(o.statuses.length).fill(0));
      expect(o.checks).toBeGreaterThan(200);
      expect(describe_first(o)).toBe('none');
    }
  });

  it('is an observer: the simulated machine runs the same cycles and events with it on and off', () => {
    const run = (on: boolean): { clocks: number[]; vm: Record<string, number> } => {
      const k = start_kernel('mem=64M cpus=2 asi=on');
      if (on) asi_oracle_install(k, { force: true });
      asi_oracle_workload(k, { nproc: 3, rounds: 6 });
      k.run();
      const out = { clocks: k.machine.cpus.map((c) => c.rdtsc()), vm: k.vmstat() };
      k.shutdown();
      return out;
    };
    const off = run(false);
    const on = run(true);
    expect(on.clocks).toEqual(off.clocks);
    expect(on.vm).toEqual(off.vm);
  });

  it('installs only under debug_vm unless forced, and every boot clears the hook', () => {
    let k = start_kernel('mem=32M cpus=1 asi=on');
    expect(asi_oracle_install(k)).toBe(false);
    expect(asi_oracle_hook.fn).toBe(null);
    k.shutdown();
    k = start_kernel('mem=32M cpus=1 asi=on debug_vm');
    expect(asi_oracle_install(k)).toBe(true);
    expect(asi_oracle_hook.fn).not.toBe(null);
    k.shutdown();
    k = start_kernel('mem=32M cpus=1 asi=on');
    expect(asi_oracle_hook.fn).toBe(null);
    k.shutdown();
  });

  it('on demand: a restricted CPU whose PGD shares a table the template does not is reported', () => {
    const k = boot();
    let found: AsiViolation[] = [];
    kunit_activate_syscall_stub(__NR_kunit, () => {
      found = asi_oracle_check();
      return 0;
    });
    k.spawn('p', function* (u) {
      yield* u.getpid(); // now restricted
      yield* u.syscall(__NR_kunit);
      return 0;
    });
    const o = finish(k);
    expect(o.statuses).toEqual([0]);
    expect(found).toEqual([]); // the kernel as built
  });

  describe('seeded bug: ephmap_put without its flush', () => {
    it('real kernel: clean', () => {
      const o = workload('ephmap=percpu', none);
      expect(describe_first(o)).toBe('none');
    });
    it('the oracle reports the slot\'s stale translation, with the page-cache page it maps', () => {
      const o = workload('ephmap=percpu', () => { ephmap_state.test_skip_put_flush = true; });
      expect(o.nr).toBeGreaterThan(0);
      const v = o.violations[0];
      expect(v.via).toBe('stale TLB entry');
      expect(v.sensitive).toBe(true);
      expect(v.what).toMatch(/ephmap slot translation outlived its put/);
      expect(v.owner).toMatch(/^page cache of inode \d+/);
      expect(v.va).toBeGreaterThanOrEqual(0x880040000000);
    });
  });

  describe('seeded bug: set_direct_map_sensitive without the shootdown', () => {
    it('real kernel: clean', () => {
      const o = cpa_program(false);
      expect(o.statuses).toEqual([0, 0]);
      expect(o.cpus[0]).toBeGreaterThanOrEqual(0);
      expect(o.cpus[0]).not.toBe(o.cpus[1]);
      expect(describe_first(o)).toBe('none');
    });
    it('the oracle reports the other CPU\'s 2 MiB translation of the now sensitive pageblock', () => {
      const o = cpa_program(true);
      expect(o.statuses).toEqual([0, 0]);
      expect(o.nr).toBeGreaterThan(0);
      const v = o.violations[0];
      expect(v.cpu).toBe(o.cpus[0]);
      expect(v.via).toBe('stale TLB entry');
      expect(v.sensitive).toBe(true);
      expect(v.what).toMatch(/restricted TLB entry maps a sensitive frame/);
    });
  });

  describe('seeded bug: a recycled ASID without need_flush', () => {
    /*
     * 8 processes on 2 CPUs (6 dynamic ASIDs each), ephmap=off so every
     * pread exits and copies to the user buffer on the unrestricted PCID;
     * each pread follows a slice's worth of computation, so the task is
     * preempted at that syscall's exit, still unrestricted: its kernel-PCID
     * translations of its own buffer are not flushed by an asi_exit(), and
     * the next mm given that ASID without need_flush inherits them (at the
     * same user address, as every process has the same layout).
     */
    const run = (bug: boolean, noflush: boolean): Outcome => {
      const k = boot('ephmap=off');
      tlb_test.skip_asid_reuse_flush = bug;
      tlb_asi.cr3_noflush = noflush;
      asi_oracle_workload(k, { nproc: 8, rounds: noflush ? 8 : 6, compute: noflush ? 0 : 3_000_000 });
      return finish(k);
    };
    it('real kernel: clean', () => {
      const o = run(false, false);
      expect(o.statuses).toEqual(new Array(8).fill(0));
      expect(describe_first(o)).toBe('none');
    });
    it('the oracle reports another process\'s anonymous page reachable at the same user address', () => {
      const o = run(true, false);
      expect(o.nr).toBeGreaterThan(0);
      const v = o.violations[0];
      expect(v.via).toBe('stale TLB entry');
      expect(v.what).toMatch(/user-half TLB entry maps a frame the mm does not map there/);
      expect(v.owner).toMatch(/^anonymous page of pid \d+/);
    });
    it('with transitions that keep the TLB (tlb_asi.cr3_noflush), the restricted PCID inherits them too; real kernel clean', () => {
      expect(describe_first(run(false, true))).toBe('none');
      const o = run(true, true);
      expect(o.nr).toBeGreaterThan(0);
      expect(o.violations.some((v) => v.pcid !== undefined && v.pcid >= 1024)).toBe(true); // an ASI PCID
    });
  });

  describe('seeded bug: asi_clone_user_pgtbl skipped', () => {
    it('real kernel: clean', () => {
      const o = clone_program(false);
      expect(o.statuses).toEqual([0]);
      expect(describe_first(o)).toBe('none');
    });
    it('the oracle reports the restricted PGD entry still pointing at the freed table', () => {
      const o = clone_program(true);
      expect(o.statuses).toEqual([0]);
      expect(o.nr).toBeGreaterThan(0);
      const v = o.violations[0];
      expect(v.va).toBe(0x10000000000);
      expect(v.via).toBe('page table');
      expect(v.what).toMatch(/differs from the mm's/);
      expect(v.owner).toMatch(/free|page table/);
    });
  });
});
