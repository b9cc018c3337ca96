/*
 * tests/mm/ephmap.test.ts - the ephmap and its rivals on the page-cache read
 * and write paths (KUnit-style suite mm_ephmap).
 *
 * ephmap_wanted() is forced on with the test-only switch (asi=off: no
 * restricted mode yet), so every ephmap= variant maps the folio for the
 * copy. The layout under test:
 *
 *   ffff880000000000  LDT remap (2 MiB)            mm-local PGD slot 272
 *   ffff880040000000  ephmap: CPU0 2M | CPU1 2M | ...
 *   ffff880080000000  mermap: CPU0 4M | CPU1 4M | ... (last page of each reserved)
 */
import { describe, it, expect } from 'vitest';
import { start_kernel, run_one, in_kernel, pattern, RW, ANON, kunit_activate_syscall_stub } from '../fs/helpers.ts';
import * as NR from '../../arch/x86/include/uapi/asm/unistd_64.ts';
import type { Kernel } from '../../init/main.ts';
import { O_RDWR, O_CREAT, AT_FDCWD } from '../../include/uapi/linux/fcntl.ts';
import {
  EPHEMERAL_FILEMAP_BASE_ADDR, EPHMAP_CPU_REGION_SIZE, MERMAP_BASE_ADDR, MERMAP_END_ADDR, MERMAP_CPU_REGION_SIZE, type EphmapMode,
} from '../../include/linux/ephmap.ts';
import { MM_LOCAL_BASE_ADDR, MM_LOCAL_END, LDT_END_ADDR } from '../../arch/x86/include/asm/pgtable_64_types.ts';
import { ephmap_state, ephmap_get, ephmap_put, ephmap_slot, ephmap_cond_put } from '../../mm/ephmap.ts';
import { mermap_get, mermap_put, mermap_ops, mermap_cpu_base } from '../../mm/mermap.ts';
import { migrate_disable, migrate_enable } from '../../kernel/sched/core.ts';
import { smp_processor_id, this_cpu } from '../../kernel/smp.ts';
import { alloc_pages, __free_pages } from '../../mm/page_alloc.ts';
import { GFP_KERNEL } from '../../mm/gfp.ts';
import { page_address } from '../../mm/mm_types.ts';
import { do_mkdirat } from '../../fs/namei.ts';
import { do_mount } from '../../fs/namespace.ts';
import { vmap_state } from '../../mm/vmap_area.ts';

const VARIANTS: EphmapMode[] = ['percpu', 'vmalloc', 'kmap', 'mermap'];

/**
 * Boot with ephmap=mode and the test override on. debug_vm (allocator
 * invariants after every allocation and free) only where a test asks for
 * it: the per-read loops; it makes the 2 MiB tests many times slower.
 */
function boot(mode: EphmapMode | 'off', extra = ''): Kernel {
  const k = start_kernel(`mem=64M cpus=2 ephmap=${mode} ${extra}`);
  ephmap_state.test_force = true;
  return k;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Write `pages` pages of a pattern to `path`, then pread them 4 KiB at a time; counters around the reads. */
function pread_loop(k: Kernel, path: string, pages: number, d: Record<string, number>): void {
  run_one(k, function* (u) {
    const buf = yield* u.mmap(0, (pages + 1) * 4096, RW, ANON);
    const data = pattern(pages * 4096, 7);
    u.poke(buf, data);
    const fd = yield* u.open(path, O_RDWR | O_CREAT);
    d.w = yield* u.pwrite64(fd, buf, pages * 4096, 0);
    const out = buf + 4096; // reads land over the pattern, shifted by a page: any miss shows
    yield* u.pread64(fd, out, 4096, 0); // warm-up
    const v0 = k.vmstat();
    let ok = 1;
    for (let i = 0; i < pages; i++) {
      const n = yield* u.pread64(fd, buf, 4096, i * 4096);
      if (n !== 4096 || !same(u.peek(buf, 4096), data.subarray(i * 4096, (i + 1) * 4096))) ok = 0;
    }
    const v1 = k.vmstat();
    for (const key of ['nr_ephmap_get', 'nr_ephmap_put', 'nr_ephmap_fallback', 'nr_tlb_local_flush_one', 'nr_tlb_local_flush_all',
      'nr_ephmap_vmap_alloc', 'nr_kmap_local_map', 'nr_mermap_flush']) d[key] = (v1[key] ?? 0) - (v0[key] ?? 0);
    d.ok = ok;
    yield* u.close(fd);
    return 0;
  });
}

describe('mm_ephmap', () => {
  it('lays the ephmap and mermap out in the mm-local PGD slot after the LDT remap', () => {
    expect(EPHEMERAL_FILEMAP_BASE_ADDR).toBe(0x880040000000);
    expect(LDT_END_ADDR).toBe(MM_LOCAL_BASE_ADDR + (2 << 20));
    expect(EPHMAP_CPU_REGION_SIZE).toBe(2 << 20);
    expect(MERMAP_BASE_ADDR).toBe(0x880080000000);
    expect(MERMAP_END_ADDR).toBeLessThanOrEqual(MM_LOCAL_END);
  });

  it('without the override (asi=off) reads use the physmap and new mms get no region tables', () => {
    const k = start_kernel('mem=64M cpus=1 debug_vm');
    const d: Record<string, number> = {};
    pread_loop(k, '/f', 4, d);
    expect(d.ok).toBe(1);
    expect(d.nr_ephmap_get).toBe(0);
    expect(ephmap_state.nr_tables).toBe(0);
    k.shutdown();
  });

  for (const mode of VARIANTS) {
    for (const fs of ['/f', '/ram/f']) {
      it(`ephmap=${mode}: 4 KiB preads of ${fs === '/f' ? 'tmpfs' : 'ramfs'} go through the mapping and return the right data`, () => {
        const k = boot(mode, 'debug_vm');
        const d: Record<string, number> = {};
        pread_loop(k, fs, 16, d);
        expect(d.ok).toBe(1);
        expect(d.nr_ephmap_get).toBe(16);
        expect(d.nr_ephmap_put).toBe(16);
        expect(d.nr_ephmap_fallback).toBe(0);
        if (mode === 'percpu' || mode === 'kmap') expect(d.nr_tlb_local_flush_one).toBe(16); // one INVLPG per read
        if (mode === 'percpu') expect(d.nr_tlb_local_flush_all).toBe(0);
        if (mode === 'vmalloc') expect(d.nr_ephmap_vmap_alloc).toBe(16);
        if (mode === 'kmap') expect(d.nr_kmap_local_map).toBe(16);
        if (mode === 'mermap') expect(d.nr_tlb_local_flush_one + d.nr_tlb_local_flush_all).toBe(0); // lazy: no wrap yet
        expect(ephmap_state.nr_tables).toBe(0); // the process exited: its region tables are gone
        k.shutdown(); // BUGs on a leaked page
      });
    }
  }

  it('ephmap=mermap: the bump pointer wraps after 1023 pages with one local full flush, and keeps the data right', () => {
    const k = boot('mermap');
    const d: Record<string, number> = {};
    run_one(k, function* (u) {
      const CH = 64 * 1024;
      const buf = yield* u.mmap(0, 2 * CH, RW, ANON);
      const data = pattern(CH, 9);
      u.poke(buf, data);
      const fd = yield* u.open('/f', O_RDWR | O_CREAT);
      for (let i = 0; i < 16; i++) yield* u.pwrite64(fd, buf, CH, i * CH); // 1 MiB of the same 64 KiB
      const v0 = k.vmstat();
      let ok = 1;
      for (let i = 0; i < 80; i++) { // 80 x 16 pages = 1280 > 1023
        const n = yield* u.pread64(fd, buf + CH, CH, (i % 16) * CH);
        if (n !== CH || (i % 20 === 0 && !same(u.peek(buf + CH, CH), data))) ok = 0;
      }
      const v1 = k.vmstat();
      d.ok = ok;
      d.gets = v1.nr_ephmap_get - v0.nr_ephmap_get;
      d.wraps = v1.nr_mermap_flush - v0.nr_mermap_flush;
      d.full = v1.nr_tlb_local_flush_all - v0.nr_tlb_local_flush_all;
      d.invlpg = v1.nr_tlb_local_flush_one - v0.nr_tlb_local_flush_one;
      return 0;
    });
    expect(d).toEqual({ ok: 1, gets: 1280, wraps: 1, full: 1, invlpg: 0 }); // one get per 4 KiB folio
    k.shutdown();
  });

  it('ephmap=percpu: pwrite of existing pages goes through the ephmap too', () => {
    const k = boot('percpu');
    const d: Record<string, number> = {};
    run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 4 * 4096, RW, ANON);
      const fd = yield* u.open('/f', O_RDWR | O_CREAT);
      u.poke(buf, pattern(8192, 1));
      yield* u.pwrite64(fd, buf, 8192, 0);
      const v0 = k.vmstat();
      u.poke(buf, pattern(4096, 2));
      d.w = yield* u.pwrite64(fd, buf, 4096, 4096);
      const v1 = k.vmstat();
      d.gets = v1.nr_ephmap_get - v0.nr_ephmap_get;
      d.invlpg = v1.nr_tlb_local_flush_one - v0.nr_tlb_local_flush_one;
      d.r = yield* u.pread64(fd, buf + 8192, 8192, 0);
      d.ok = same(u.peek(buf + 8192, 8192), new Uint8Array([...pattern(8192, 1).subarray(0, 4096), ...pattern(4096, 2)])) ? 1 : 0;
      return 0;
    });
    expect(d).toEqual({ w: 4096, gets: 1, invlpg: 1, r: 8192, ok: 1 });
    k.shutdown();
  });

  it('ephmap=percpu: a 2 MiB folio (tmpfs huge=always) maps whole, copies right, and flushes with one full local flush', () => {
    const k = boot('percpu');
    if (do_mkdirat(AT_FDCWD, '/huge', 0o755) || do_mount('tmpfs', '/huge', 'huge=always')) throw new Error('mount');
    const d: Record<string, number> = {};
    const SZ = 2 << 20;
    run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 3 * SZ, RW, ANON);
      const data = pattern(SZ + 8192, 3);
      u.poke(buf, data);
      const fd = yield* u.open('/huge/f', O_RDWR | O_CREAT);
      d.w = yield* u.pwrite64(fd, buf, SZ + 8192, 0);
      d.thp = k.vmstat().nr_shmem_hugepages;
      const v0 = k.vmstat();
      d.r = yield* u.pread64(fd, buf + SZ + 8192, SZ, 0);
      const v1 = k.vmstat();
      d.gets = v1.nr_ephmap_get - v0.nr_ephmap_get;
      d.full = v1.nr_tlb_local_flush_all - v0.nr_tlb_local_flush_all;
      d.ok = same(u.peek(buf + SZ + 8192, SZ), data.subarray(0, SZ)) ? 1 : 0;
      // A read larger than the slot, across the huge folio and the small one after it: per folio.
      const v2 = k.vmstat();
      d.r2 = yield* u.pread64(fd, buf + SZ + 8192, SZ + 4096, 8192);
      const v3 = k.vmstat();
      d.gets2 = v3.nr_ephmap_get - v2.nr_ephmap_get;
      d.ok2 = same(u.peek(buf + SZ + 8192, SZ), data.subarray(8192, SZ + 8192)) ? 1 : 0;
      return 0;
    });
    expect(d).toEqual({ w: SZ + 8192, thp: 1024, r: SZ, gets: 1, full: 1, ok: 1, r2: SZ, gets2: 2, ok2: 1 });
    k.shutdown();
  });

  it('ephmap_get fails for more than a slot, for a busy slot, and without migration disabled it BUGs', () => {
    const k = boot('percpu');
    const d = in_kernel(k, () => {
      const pfn = alloc_pages(GFP_KERNEL, 0)!;
      migrate_disable();
      const r: Record<string, number> = {};
      r.too_big = ephmap_get(pfn, EPHMAP_CPU_REGION_SIZE + 4096);
      const va = ephmap_get(pfn, 4096);
      r.at_slot = va === ephmap_slot(smp_processor_id()) ? 1 : 0;
      r.busy = ephmap_get(pfn, 4096);
      r.same_data = this_cpu().load32(va) === this_cpu().load32(page_address(pfn)) ? 1 : 0;
      ephmap_put(va, 4096);
      r.again = ephmap_get(pfn, 4096) ? 1 : 0;
      ephmap_put(ephmap_slot(smp_processor_id()), 4096);
      migrate_enable();
      __free_pages(pfn, 0);
      r.failed = k.vmstat().nr_ephmap_get_failed;
      let bugged = 0;
      try { ephmap_get(pfn, 4096); } catch { bugged = 1; }
      r.bugged = bugged;
      return r;
    });
    expect(d).toEqual({ too_big: 0, at_slot: 1, busy: 0, same_data: 1, again: 1, failed: 2, bugged: 1 });
  });

  it('a read while this CPU\'s slot is busy falls back to the physmap copy, with the right data, counted and traced', () => {
    const k = boot('percpu', 'trace_event=ephmap:*');
    const d: Record<string, number> = {};
    // Wrap pread64 so it holds this CPU's slot around the read: the read's own get fails.
    const orig = kunit_activate_syscall_stub(NR.__NR_pread64, (a) => {
      const pfn = alloc_pages(GFP_KERNEL, 0)!;
      migrate_disable();
      const va = ephmap_get(pfn, 4096);
      const ret = orig(a);
      ephmap_put(va, 4096);
      migrate_enable();
      __free_pages(pfn, 0);
      return ret;
    });
    run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 2 * 4096, RW, ANON);
      u.poke(buf, pattern(4096, 5));
      const fd = yield* u.open('/f', O_RDWR | O_CREAT);
      yield* u.pwrite64(fd, buf, 4096, 0);
      const v0 = k.vmstat();
      d.r = yield* u.pread64(fd, buf + 4096, 4096, 0);
      const v1 = k.vmstat();
      d.fallback = v1.nr_ephmap_fallback - v0.nr_ephmap_fallback;
      d.ok = same(u.peek(buf + 4096, 4096), pattern(4096, 5)) ? 1 : 0;
      return 0;
    });
    expect(d).toEqual({ r: 4096, fallback: 1, ok: 1 });
    expect(k.trace()).toMatch(/ephmap_fallback: variant=percpu pfn=0x[0-9a-f]+ nr_pages=1/);
    expect(k.trace()).toMatch(/ephmap_get: variant=percpu vaddr=0xffff8800400[0-9a-f]+ pfn=0x[0-9a-f]+ nr_pages=1/);
    expect(k.trace()).toMatch(/ephmap_put: variant=percpu vaddr=0xffff8800400[0-9a-f]+ nr_pages=1/);
    k.shutdown();
  });

  it('no vmap areas are left after ephmap=vmalloc reads (the lazy ones are purged at shutdown)', () => {
    const k = boot('vmalloc');
    const d: Record<string, number> = {};
    const busy0 = vmap_state.nr_busy;
    const lazy0 = vmap_state.vmap_lazy_nr;
    pread_loop(k, '/f', 8, d);
    expect(d.ok).toBe(1);
    expect(d.nr_ephmap_vmap_alloc).toBe(8);
    expect(vmap_state.nr_busy).toBe(busy0); // every area went back
    expect(vmap_state.vmap_lazy_nr - lazy0).toBeGreaterThanOrEqual(9); // waiting for a purge: 8 reads + the warm-up
    k.shutdown(); // purges them, frees vmalloc's tables, BUGs on a leaked page
    expect(vmap_state.vmap_lazy_nr).toBe(0);
  });

  it('ephmap_cond_put puts only an ephmap address; the mermap takes four mappings, then the reserved page for one more', () => {
    const k = boot('mermap');
    const d = in_kernel(k, () => {
      const pfn = alloc_pages(GFP_KERNEL, 2)!;
      const cpu = smp_processor_id();
      const r: Record<string, number> = {};
      migrate_disable();
      const held: number[] = [];
      for (let i = 0; i < 4; i++) held.push(mermap_get(pfn + i, 1));
      r.bumped = held.every((va, i) => va === mermap_cpu_base(cpu) + i * 4096) ? 1 : 0;
      r.fifth = mermap_get(pfn, 1);
      const reserved = mermap_ops.get(pfn, 1);
      r.reserved = reserved === mermap_cpu_base(cpu) + MERMAP_CPU_REGION_SIZE - 4096 ? 1 : 0;
      r.same = this_cpu().load32(reserved) === this_cpu().load32(page_address(pfn)) ? 1 : 0;
      const before = k.vmstat().nr_tlb_local_flush_one;
      mermap_ops.put(reserved, 1);
      r.reserved_flush = k.vmstat().nr_tlb_local_flush_one - before; // reused without a bump: flushed at once
      for (const va of held) mermap_put(va, 1);
      ephmap_cond_put(held[0], 4096); // not an ephmap address: nothing
      migrate_enable();
      __free_pages(pfn, 2);
      r.puts = k.vmstat().nr_ephmap_put;
      return r;
    });
    expect(d).toEqual({ bumped: 1, fifth: 0, reserved: 1, same: 1, reserved_flush: 1, puts: 5 });
    k.shutdown();
  });

  it('ephmap=percpu: a write into a new page zeroes the rest of it through the ephmap as well', () => {
    const k = boot('percpu');
    const d: Record<string, number> = {};
    run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 2 * 4096, RW, ANON);
      u.poke(buf, pattern(100, 4));
      const fd = yield* u.open('/new', O_RDWR | O_CREAT);
      const v0 = k.vmstat();
      d.w = yield* u.pwrite64(fd, buf, 100, 0);
      const v1 = k.vmstat();
      d.gets = v1.nr_ephmap_get - v0.nr_ephmap_get; // the copy, then shmem_write_end's zeroing
      d.fallback = v1.nr_ephmap_fallback - v0.nr_ephmap_fallback;
      yield* u.ftruncate(fd, 4096);
      u.poke(buf + 4096, new Uint8Array(4096).fill(0xee));
      d.r = yield* u.pread64(fd, buf + 4096, 4096, 0);
      const got = u.peek(buf + 4096, 4096);
      d.ok = same(got.subarray(0, 100), pattern(100, 4)) && got.subarray(100).every((b) => b === 0) ? 1 : 0;
      return 0;
    });
    expect(d).toEqual({ w: 100, gets: 2, fallback: 0, r: 4096, ok: 1 });
    k.shutdown();
  });
});
