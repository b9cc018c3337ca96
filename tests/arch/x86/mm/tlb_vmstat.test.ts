/*
 * tests/arch/x86/mm/tlb_vmstat.test.ts - the /proc/vmstat TLB counters, per CPU.
 *
 * Linux counts them in arch/x86/mm/tlb.c (CONFIG_DEBUG_TLBFLUSH):
 *  - flush_tlb_func(): `if (!local)` nr_tlb_remote_flush_received, on
 *    arrival; `if (local)` nr_tlb_local_flush_one by the pages of a partial
 *    flush, nr_tlb_local_flush_all for a full one;
 *  - native_flush_tlb_multi(): nr_tlb_remote_flush, once, by the sender;
 *  - flush_tlb_one_kernel(): nr_tlb_local_flush_one, on whichever CPU runs it;
 *  - do_flush_tlb_all(): nr_tlb_remote_flush_received on every CPU;
 *    flush_tlb_all() adds one nr_tlb_remote_flush.
 * Each case counts all four counters on both CPUs of a two-CPU machine.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { start_kernel, type Kernel } from '../../../../init/main.ts';
import type { Nolibc } from '../../../../tools/include/nolibc.ts';
import { CLONE_VM, CLONE_FILES, CLONE_THREAD, CLONE_SIGHAND } from '../../../../include/uapi/linux/sched.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../../../include/uapi/linux/mman.ts';
import { vm_event_per_cpu } from '../../../../mm/vmstat.ts';
import { flush_tlb_all, flush_tlb_kernel_range } from '../../../../arch/x86/mm/tlb.ts';
import { HW_TLB_EVICT } from '../../../../arch/x86/hw/events.ts';
import { PAGE_OFFSET } from '../../../../arch/x86/include/asm/page_64_types.ts';

const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const RW = PROT_READ | PROT_WRITE;
const THREAD = CLONE_VM | CLONE_FILES | CLONE_THREAD | CLONE_SIGHAND;
const NAMES = ['nr_tlb_local_flush_one', 'nr_tlb_local_flush_all', 'nr_tlb_remote_flush', 'nr_tlb_remote_flush_received'];

/** The four counters as {name: [cpu0, cpu1]}. */
type Counts = Record<string, number[]>;

function snap(): Counts {
  const r: Counts = {};
  for (const n of NAMES) r[n] = vm_event_per_cpu(n);
  return r;
}

function delta(a: Counts, b: Counts): Counts {
  const r: Counts = {};
  for (const n of NAMES) r[n] = b[n].map((v, i) => v - a[n][i]);
  return r;
}

let k: Kernel | null = null;
afterEach(() => {
  k?.shutdown();
  k = null;
});

/*
 * The main thread (CPU 0) munmaps `pages` pages that a second thread of the
 * same mm has cached and keeps loaded on CPU 1. One page past them stays
 * mapped so the page table is not freed (a partial flush stays possible).
 *
 *   CPU 0: main   mmap, touch, clone ... munmap(b, pages) -> flush_tlb_mm_range
 *   CPU 1: thread touch b, spin on sched_yield (mm loaded, not lazy) -> IPI
 */
function shootdown(pages: number): Counts {
  k = start_kernel('mem=64M cpus=2');
  const kk = k;
  let d: Counts = {};
  kk.spawn('main', function* (u: Nolibc) {
    const b = yield* u.mmap(0, (pages + 1) * 4096, RW, ANON);
    for (let i = 0; i <= pages; i++) u.poke32(b + i * 4096, 1);
    const flag = b + pages * 4096 + 8;
    yield* u.clone(THREAD, function* (t: Nolibc) {
      for (let i = 0; i < pages; i++) t.peek32(b + i * 4096);
      t.poke32(flag, 1);
      while (t.peek32(flag) !== 2) yield* t.sched_yield();
      return 0;
    });
    while (u.peek32(flag) !== 1) yield* u.sched_yield();
    expect(kk.machine.cpus.map((c) => c.id)).toEqual([0, 1]);
    const before = snap();
    expect(yield* u.munmap(b, pages * 4096)).toBe(0);
    d = delta(before, snap());
    u.poke32(flag, 2);
    return 0;
  });
  kk.run();
  return d;
}

describe('x86_tlb_vmstat', () => {
  it('a one-page shootdown: the sender counts a local one-page flush and one remote flush, the receiver one received', () => {
    expect(shootdown(1)).toEqual({
      nr_tlb_local_flush_one: [1, 0], // flush_tlb_func `if (local)`: the receiver's INVLPG is not counted
      nr_tlb_local_flush_all: [0, 0],
      nr_tlb_remote_flush: [1, 0], // native_flush_tlb_multi, once, on the sender
      nr_tlb_remote_flush_received: [0, 1],
    });
  });

  it('a partial shootdown counts its pages once, on the initiating CPU', () => {
    expect(shootdown(8)).toEqual({
      nr_tlb_local_flush_one: [8, 0],
      nr_tlb_local_flush_all: [0, 0],
      nr_tlb_remote_flush: [1, 0],
      nr_tlb_remote_flush_received: [0, 1],
    });
  });

  it('above tlb_single_page_flush_ceiling the shootdown is a full flush, counted local_flush_all on the sender only', () => {
    expect(shootdown(40)).toEqual({
      nr_tlb_local_flush_one: [0, 0],
      nr_tlb_local_flush_all: [1, 0],
      nr_tlb_remote_flush: [1, 0],
      nr_tlb_remote_flush_received: [0, 1],
    });
  });

  it('flush_tlb_kernel_range page by page: each CPU counts its own pages through flush_tlb_one_kernel, nothing remote', () => {
    k = start_kernel('mem=32M cpus=2');
    const before = snap();
    flush_tlb_kernel_range(PAGE_OFFSET, PAGE_OFFSET + 5 * 4096);
    expect(delta(before, snap())).toEqual({
      nr_tlb_local_flush_one: [5, 5],
      nr_tlb_local_flush_all: [0, 0],
      nr_tlb_remote_flush: [0, 0],
      nr_tlb_remote_flush_received: [0, 0],
    });
  });

  it('flush_tlb_kernel_range over the ceiling: do_flush_tlb_all counts received on both CPUs, no remote flush sent', () => {
    k = start_kernel('mem=32M cpus=2');
    const before = snap();
    flush_tlb_kernel_range(PAGE_OFFSET, PAGE_OFFSET + 34 * 4096);
    expect(delta(before, snap())).toEqual({
      nr_tlb_local_flush_one: [0, 0],
      nr_tlb_local_flush_all: [0, 0],
      nr_tlb_remote_flush: [0, 0],
      nr_tlb_remote_flush_received: [1, 1],
    });
  });

  it('flush_tlb_all: one remote flush on the sender, a received one on every CPU, the sender too', () => {
    k = start_kernel('mem=32M cpus=2');
    k.machine.current = 1;
    const before = snap();
    flush_tlb_all();
    k.machine.current = 0;
    expect(delta(before, snap())).toEqual({
      nr_tlb_local_flush_one: [0, 0],
      nr_tlb_local_flush_all: [0, 0],
      nr_tlb_remote_flush: [0, 1],
      nr_tlb_remote_flush_received: [1, 1],
    });
  });
});

describe('x86_tlb_evictions', () => {
  it('the TLB model counts an eviction per live entry replaced, and perf stat reports tlb-evictions', () => {
    // 4096 user pages touched once each through the default 2048-entry 4 KiB STLB.
    k = start_kernel('mem=64M cpus=1');
    const kk = k;
    let ev = -1;
    kk.spawn('t', function* (u: Nolibc) {
      const b = yield* u.mmap(0, 4096 * 4096, RW, ANON);
      for (let i = 0; i < 4096; i++) u.poke32(b + i * 4096, i);
      ev = kk.machine.cpus[0].ev[HW_TLB_EVICT];
      return 0;
    });
    kk.run();
    // At least every page beyond the STLB's capacity replaced a live entry.
    expect(ev).toBeGreaterThanOrEqual(4096 - 2048);
    expect(kk.perf_stat()).toMatch(/tlb-evictions/);
  });
});
