/*
 * tests/mm/ephmap_safety.test.ts - what the ephmap's flushes prevent
 * (KUnit-style suite mm_ephmap_safety), with seeded bugs.
 *
 * Each case runs a scenario twice: on the real build, and with one flush
 * removed by a test-only hook (ephmap_state.test_skip_*; no command-line
 * spelling). The real build must keep the isolation; the buggy one must
 * visibly break it, so the case would catch the bug.
 *
 *  1. ephmap_put() without its local INVLPG: the slot's stale translation
 *     still points at page P after P is freed and reused by a new owner;
 *     the next get of another page R at the same address reads the new
 *     owner's data instead of R's.
 *  2. No mm-wide flush on truncate (mermap: puts flush lazily): process X
 *     read page P of a file on CPU c and sleeps; another process truncates
 *     the file (P freed) and writes a new file (P reused); X, back on c,
 *     still translates its old mermap address to P.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel, in_kernel, pattern, RW, ANON, kunit_activate_syscall_stub, __NR_kunit } from '../fs/helpers.ts';
import type { Kernel } from '../../init/main.ts';
import { O_RDWR, O_CREAT } from '../../include/uapi/linux/fcntl.ts';
import { ephmap_state, ephmap_get, ephmap_put } from '../../mm/ephmap.ts';
import { mermap_cpu_state, mermap_cpu_base } from '../../mm/mermap.ts';
import { migrate_disable, migrate_enable, current } from '../../kernel/sched/core.ts';
import { smp_processor_id, this_cpu } from '../../kernel/smp.ts';
import { alloc_pages, __free_pages } from '../../mm/page_alloc.ts';
import { GFP_KERNEL } from '../../mm/gfp.ts';
import { page_address } from '../../mm/mm_types.ts';
import { get_kernel_nofault, EFAULT } from '../../mm/maccess.ts';

function boot(mode: string): Kernel {
  const k = start_kernel(`mem=64M cpus=2 debug_vm ephmap=${mode}`);
  ephmap_state.test_force = true;
  return k;
}

const R_WORD = 0x11111111;
const SECRET = 0x5ec2e7ed;

/** Scenario 1; returns what the fresh mapping of R read, and whether P was reused. */
function stale_put(skip_flush: boolean): { read: number; reused: boolean } {
  const k = boot('percpu');
  ephmap_state.test_skip_put_flush = skip_flush;
  const r = in_kernel(k, () => {
    const cpu = this_cpu();
    const P = alloc_pages(GFP_KERNEL, 0)!;
    const R = alloc_pages(GFP_KERNEL, 0)!;
    cpu.store32(page_address(P), 0xaaaaaaaa);
    cpu.store32(page_address(R), R_WORD);
    migrate_disable();
    const va = ephmap_get(P, 4096);
    cpu.load32(va); // the copy: this CPU now caches va -> P
    ephmap_put(va, 4096);
    __free_pages(P, 0);
    const P2 = alloc_pages(GFP_KERNEL, 0)!; // the next owner of the freed page
    cpu.store32(page_address(P2), SECRET);
    const va2 = ephmap_get(R, 4096);
    const read = cpu.load32(va2);
    ephmap_put(va2, 4096);
    migrate_enable();
    __free_pages(P2, 0);
    __free_pages(R, 0);
    return { read, reused: P2 === P };
  });
  k.shutdown();
  return r;
}

/** Scenario 2; returns X's probe of its old mermap address after the truncation, and the new file's first word. */
function stale_truncate(skip_mm_flush: boolean): { probe: number; new_word: number; same_cpu: boolean; flushes: number } {
  const k = boot('mermap');
  ephmap_state.test_skip_mm_flush = skip_mm_flush;
  const out = { probe: 0, new_word: 0, same_cpu: false, flushes: 0 };
  let cpu_read = -1;
  let va = 0;
  kunit_activate_syscall_stub(__NR_kunit, (a) => {
    if (a[0] === 1) { // after X's read: where did its mermap map the page?
      cpu_read = smp_processor_id();
      const mc = mermap_cpu_state(current().mm!, cpu_read)!;
      va = mermap_cpu_base(cpu_read) + mc.allocs[0].base;
    } else { // after the truncation: does X's CPU still translate it?
      out.same_cpu = smp_processor_id() === cpu_read;
      out.probe = get_kernel_nofault(va);
    }
    return 0;
  });
  k.spawn('setup', function* (u) {
    const buf = yield* u.mmap(0, 4096, RW, ANON);
    u.poke(buf, pattern(4096, 1));
    const fd = yield* u.open('/f', O_RDWR | O_CREAT);
    yield* u.pwrite64(fd, buf, 4096, 0);
    return 0;
  });
  k.run();
  k.spawn('x', function* (u) {
    const buf = yield* u.mmap(0, 4096, RW, ANON);
    const fd = yield* u.open('/f', O_RDWR);
    yield* u.pread64(fd, buf, 4096, 0);
    yield* u.syscall(__NR_kunit, 1);
    yield* u.nanosleep(2e6);
    yield* u.syscall(__NR_kunit, 2);
    return 0;
  });
  k.spawn('y', function* (u) {
    const buf = yield* u.mmap(0, 4096, RW, ANON);
    const data = pattern(4096, 2);
    u.poke(buf, data);
    out.new_word = u.peek32(buf);
    yield* u.nanosleep(5e5);
    const fd = yield* u.open('/f', O_RDWR);
    yield* u.ftruncate(fd, 0); // P leaves the page cache and is freed
    const g = yield* u.open('/g', O_RDWR | O_CREAT);
    yield* u.pwrite64(g, buf, 4096, 0); // and is reused for /g
    return 0;
  });
  k.run();
  out.flushes = k.vmstat().nr_ephmap_mm_flush;
  k.shutdown();
  return out;
}

describe('mm_ephmap_safety', () => {
  it('ephmap_put flushes its slot: a later mapping never reaches a freed and reused page', () => {
    const real = stale_put(false);
    expect(real.reused).toBe(true);
    expect(real.read).toBe(R_WORD);
  });

  it('seeded bug: ephmap_put without its flush lets the stale translation read the reused page', () => {
    const buggy = stale_put(true);
    expect(buggy.reused).toBe(true);
    expect(buggy.read).toBe(SECRET); // the real case's assertion (R_WORD) fails here
  });

  it('truncation flushes every mm that may hold a stale entry: the reader\'s CPU no longer reaches the page', () => {
    const real = stale_truncate(false);
    expect(real.same_cpu).toBe(true);
    expect(real.flushes).toBeGreaterThanOrEqual(1);
    expect(real.probe).toBe(-EFAULT);
  });

  it('seeded bug: without the mm-wide flush on truncate, the reader\'s CPU still reads the old page, now reused', () => {
    const buggy = stale_truncate(true);
    expect(buggy.same_cpu).toBe(true);
    expect(buggy.flushes).toBe(0);
    expect(buggy.probe).toBe(buggy.new_word); // the real case's assertion (-EFAULT) fails here
  });
});
