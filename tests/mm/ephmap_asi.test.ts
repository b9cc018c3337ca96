/*
 * tests/mm/ephmap_asi.test.ts - the ephmap and its rivals with asi=on, end to
 * end (KUnit-style suite mm_ephmap_asi): issue 15's acceptance on the
 * kernel that really runs restricted.
 *
 * No override: ephmap_wanted() is asi_is_restricted(), so a copy goes
 * through the ephmap= mapping only because the CPU runs in the restricted
 * address space, where the physmap copy of a sensitive page-cache page
 * faults and exits. The mapping is reached there through the mm-local PGD
 * slot, which the domain PGD shares with the mm:
 *
 *   mm->pgd[272] ----+---> PUD (the mm's)  --> PMD --> PTE: CPU0 slot | CPU1 slot ...
 *   asi->pgd[272] ---+     (asi_clone_user_pgtbl() keeps the entry the same)
 */
import { cost_profile, DEFAULT_COST_PROFILE } from '../../arch/x86/hw/costs.ts';
import { describe, it, expect } from 'vitest';
import { start_kernel, run_one, pattern, RW, ANON, kunit_activate_syscall_stub } from '../fs/helpers.ts';
import * as NR from '../../arch/x86/include/uapi/asm/unistd_64.ts';
import type { Kernel } from '../../init/main.ts';
import { O_RDWR, O_CREAT, AT_FDCWD } from '../../include/uapi/linux/fcntl.ts';
import type { EphmapMode } from '../../include/linux/ephmap.ts';
import { ephmap_state, ephmap_get, ephmap_put } from '../../mm/ephmap.ts';
import { migrate_disable, migrate_enable, current } from '../../kernel/sched/core.ts';
import { alloc_pages, __free_pages } from '../../mm/page_alloc.ts';
import { GFP_KERNEL } from '../../mm/gfp.ts';
import { do_mkdirat } from '../../fs/namei.ts';
import { do_mount } from '../../fs/namespace.ts';
import { vmap_state } from '../../mm/vmap_area.ts';
import { MM_LOCAL_PGD_ENTRY } from '../../arch/x86/include/asm/pgtable_64_types.ts';
import { PAGE_OFFSET } from '../../arch/x86/include/asm/page_64_types.ts';
import { ASI_CLASS_USERSPACE } from '../../include/linux/asi.ts';
import { HW_IBPB } from '../../arch/x86/hw/events.ts';
import { __NR_kunit } from '../fs/helpers.ts';
import { mermap_cpu_state, mermap_cpu_base } from '../../mm/mermap.ts';
import { smp_processor_id } from '../../kernel/smp.ts';
import { asi_is_restricted } from '../../arch/x86/mm/asi.ts';
import { get_kernel_nofault, EFAULT } from '../../mm/maccess.ts';
import { CLONE_VM, CLONE_FILES, CLONE_THREAD, CLONE_SIGHAND } from '../../include/uapi/linux/sched.ts';

const THREAD = CLONE_VM | CLONE_FILES | CLONE_THREAD | CLONE_SIGHAND;

/*
 * Brendan's cross-CPU case with asi=on (ephmap=mermap: puts flush lazily).
 * Thread T of the mm reads page P of /f on CPU 1 and stays in the
 * restricted address space (it only makes syscalls that never exit); the
 * main thread, on CPU 0, truncates /f (P is freed) and writes /g (P is
 * reused). T then probes its old mermap address, still restricted.
 */
function stale_thread(skip_mm_flush: boolean): Record<string, number | boolean> {
  const k = start_kernel('mem=64M cpus=2 asi=on setcpuid=retbleed ephmap=mermap');
  ephmap_state.test_skip_mm_flush = skip_mm_flush;
  const out: Record<string, number | boolean> = {};
  let va = 0;
  kunit_activate_syscall_stub(__NR_kunit, (a) => {
    const cpu = smp_processor_id();
    if (a[0] === 1) { // after T's read: where did the mermap map P, and does this CPU translate it?
      out.cpu = cpu;
      va = mermap_cpu_base(cpu) + mermap_cpu_state(current().mm!, cpu)!.allocs[0].base;
      out.before = get_kernel_nofault(va);
    } else {
      out.same_cpu = cpu === out.cpu;
      out.restricted = asi_is_restricted();
      out.after = get_kernel_nofault(va);
    }
    return 0;
  });
  k.spawn('main', function* (u) {
    const buf = yield* u.mmap(0, 4 * 4096, RW, ANON);
    u.poke(buf, pattern(4096, 1));
    u.poke(buf + 4096, pattern(4096, 1)); // every buffer faulted in now: no exit on T's CPU later
    u.poke(buf + 2 * 4096, pattern(4096, 2));
    out.old_word = u.peek32(buf);
    out.new_word = u.peek32(buf + 2 * 4096);
    const fd = yield* u.open('/f', O_RDWR | O_CREAT);
    yield* u.pwrite64(fd, buf, 4096, 0);
    const flag = buf + 3 * 4096;
    u.poke32(flag, 0);
    yield* u.clone(THREAD, function* (t) {
      yield* t.pread64(fd, buf + 4096, 4096, 0);
      yield* t.syscall(__NR_kunit, 1);
      t.poke32(flag, 1);
      while (t.peek32(flag) !== 2) yield* t.getpid();
      yield* t.syscall(__NR_kunit, 2);
      t.poke32(flag, 3);
      return 0;
    });
    while (u.peek32(flag) !== 1) yield* u.getpid();
    yield* u.ftruncate(fd, 0); // P leaves the page cache and is freed
    const g = yield* u.open('/g', O_RDWR | O_CREAT);
    yield* u.pwrite64(g, buf + 2 * 4096, 4096, 0); // and is reused for /g
    u.poke32(flag, 2);
    while (u.peek32(flag) !== 3) yield* u.getpid();
    return 0;
  });
  k.run();
  out.flushes = k.vmstat().nr_ephmap_mm_flush;
  k.shutdown();
  return out;
}

const VARIANTS: EphmapMode[] = ['percpu', 'vmalloc', 'kmap', 'mermap'];
const ASI = 'asi=on setcpuid=retbleed';

/*
 * debug_vm (allocator invariants after every allocation and free, and
 * warn_if_bad_asi_pf) only on the small per-read loops: it makes the 2 MiB
 * folio tests 20x slower.
 */
function boot(mode: EphmapMode | 'off', extra = ''): Kernel {
  return start_kernel(`mem=64M cpus=2 ${ASI} ephmap=${mode} ${extra}`);
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const EVENTS = ['asi_exits', 'asi_exit_page_fault', 'nr_ephmap_get', 'nr_ephmap_put', 'nr_ephmap_fallback',
  'nr_tlb_local_flush_one', 'nr_tlb_local_flush_all', 'nr_ephmap_vmap_alloc', 'nr_kmap_local_map'];

/**
 * Lay out `pages` pages of a pattern in `path`, then per page: a 4 KiB
 * pread (read) or a pwrite of a second pattern read back afterwards
 * (write). Counters around the loop, after one warm-up access.
 */
function loop(k: Kernel, path: string, pages: number, dir: 'read' | 'write'): Record<string, number> {
  const d: Record<string, number> = {};
  run_one(k, function* (u) {
    const buf = yield* u.mmap(0, (2 * pages + 1) * 4096, RW, ANON);
    const data = pattern(pages * 4096, 7);
    const data2 = pattern(pages * 4096, 8);
    u.poke(buf, data);
    const fd = yield* u.open(path, O_RDWR | O_CREAT);
    if ((yield* u.pwrite64(fd, buf, pages * 4096, 0)) !== pages * 4096) return 1;
    const spare = buf + pages * 4096;
    u.poke(spare, data2);
    if (dir === 'read') yield* u.pread64(fd, spare + pages * 4096, 4096, 0); // warm-up
    else yield* u.pwrite64(fd, buf, 4096, 0);
    const v0 = k.vmstat();
    let ok = 1;
    for (let i = 0; i < pages; i++) {
      if (dir === 'read') {
        const n = yield* u.pread64(fd, buf, 4096, i * 4096);
        if (n !== 4096 || !same(u.peek(buf, 4096), data.subarray(i * 4096, (i + 1) * 4096))) ok = 0;
      } else if ((yield* u.pwrite64(fd, spare + i * 4096, 4096, i * 4096)) !== 4096) ok = 0;
    }
    const v1 = k.vmstat();
    for (const key of EVENTS) d[key] = (v1[key] ?? 0) - (v0[key] ?? 0);
    if (dir === 'write') {
      if ((yield* u.pread64(fd, buf, pages * 4096, 0)) !== pages * 4096 || !same(u.peek(buf, pages * 4096), data2)) ok = 0;
    }
    d.ok = ok;
    yield* u.close(fd);
    return 0;
  });
  return d;
}

function shutdown_clean(k: Kernel): void {
  const busy = vmap_state.nr_busy;
  const r = k.shutdown(); // BUGs on a leaked page
  expect(r.leaked).toEqual([]);
  expect(ephmap_state.nr_tables).toBe(0);
  expect(vmap_state.vmap_lazy_nr).toBe(0);
  expect(vmap_state.nr_busy).toBeLessThanOrEqual(busy);
}

describe('mm_ephmap_asi', () => {
  for (const fs of ['/f', '/ram/f']) {
    const name = fs === '/f' ? 'tmpfs' : 'ramfs';
    for (const dir of ['read', 'write'] as const) {
      it(`${ASI} ephmap=percpu: 4 KiB p${dir}s of cached ${name} pages exit zero times, one local INVLPG each, right data`, () => {
        const k = boot('percpu', 'debug_vm');
        const d = loop(k, fs, 16, dir);
        expect(d).toMatchObject({ ok: 1, asi_exits: 0, nr_ephmap_get: 16, nr_ephmap_put: 16, nr_ephmap_fallback: 0,
          nr_tlb_local_flush_one: 16, nr_tlb_local_flush_all: 0 });
        shutdown_clean(k);
      });

      it(`${ASI} ephmap=off: 4 KiB p${dir}s of cached ${name} pages exit exactly once each, on the page fault`, () => {
        const k = boot('off', 'debug_vm');
        const d = loop(k, fs, 16, dir);
        expect(d).toMatchObject({ ok: 1, asi_exits: 16, asi_exit_page_fault: 16, nr_ephmap_get: 0 });
        shutdown_clean(k);
      });
    }
  }

  for (const mode of VARIANTS) {
    it(`${ASI} ephmap=${mode}: reads and writes of tmpfs and ramfs never exit, the right data, nothing leaked`, () => {
      const k = boot(mode);
      for (const [fs, dir] of [['/f', 'read'], ['/ram/f', 'read'], ['/g', 'write']] as const) {
        const d = loop(k, fs, 8, dir);
        expect(d).toMatchObject({ ok: 1, asi_exits: 0, nr_ephmap_get: 8, nr_ephmap_fallback: 0 });
        if (mode === 'vmalloc') expect(d.nr_ephmap_vmap_alloc).toBe(8);
        if (mode === 'kmap') expect(d.nr_kmap_local_map).toBe(8);
      }
      shutdown_clean(k);
    });
  }

  it(`${ASI} ephmap=percpu: a 2 MiB folio (huge=always) maps whole and copies right; a read past the slot goes per folio`, () => {
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
      const out = buf + SZ + 8192;
      u.poke(out, new Uint8Array(SZ + 4096)); // the buffer faulted in (a user fault may exit to zero its page)
      const v0 = k.vmstat();
      d.r = yield* u.pread64(fd, out, SZ, 0);
      const v1 = k.vmstat();
      d.exits = v1.asi_exits - v0.asi_exits;
      d.gets = v1.nr_ephmap_get - v0.nr_ephmap_get;
      d.full = v1.nr_tlb_local_flush_all - v0.nr_tlb_local_flush_all;
      d.ok = same(u.peek(out, SZ), data.subarray(0, SZ)) ? 1 : 0;
      const v2 = k.vmstat();
      d.r2 = yield* u.pread64(fd, out, SZ + 4096, 8192); // more than a slot: the huge folio's tail, then a small one
      const v3 = k.vmstat();
      d.exits2 = v3.asi_exits - v2.asi_exits;
      d.gets2 = v3.nr_ephmap_get - v2.nr_ephmap_get;
      d.ok2 = same(u.peek(out, SZ), data.subarray(8192, SZ + 8192)) ? 1 : 0;
      yield* u.close(fd);
      return 0;
    });
    expect(d).toEqual({ w: SZ + 8192, thp: 1024, r: SZ, exits: 0, gets: 1, full: 1, ok: 1, r2: SZ, exits2: 0, gets2: 2, ok2: 1 });
    shutdown_clean(k);
  });

  for (const mode of ['vmalloc', 'kmap', 'mermap'] as const) {
    it(`${ASI} ephmap=${mode}: a 2 MiB folio and a read past it copy right without an exit`, () => {
      const k = boot(mode);
      if (do_mkdirat(AT_FDCWD, '/huge', 0o755) || do_mount('tmpfs', '/huge', 'huge=always')) throw new Error('mount');
      const d: Record<string, number> = {};
      const SZ = 2 << 20;
      run_one(k, function* (u) {
        const buf = yield* u.mmap(0, 3 * SZ, RW, ANON);
        const data = pattern(SZ + 8192, 4);
        u.poke(buf, data);
        const fd = yield* u.open('/huge/f', O_RDWR | O_CREAT);
        d.w = yield* u.pwrite64(fd, buf, SZ + 8192, 0);
        const out = buf + SZ + 8192;
        u.poke(out, new Uint8Array(SZ + 4096));
        const v0 = k.vmstat();
        d.r = yield* u.pread64(fd, out, SZ + 4096, 4096);
        const v1 = k.vmstat();
        d.exits = v1.asi_exits - v0.asi_exits;
        d.fallback = v1.nr_ephmap_fallback - v0.nr_ephmap_fallback;
        d.ok = same(u.peek(out, SZ + 4096), data.subarray(4096, SZ + 8192)) ? 1 : 0;
        yield* u.close(fd);
        return 0;
      });
      expect(d).toEqual({ w: SZ + 8192, r: SZ + 4096, exits: 0, fallback: 0, ok: 1 });
      shutdown_clean(k);
    });
  }

  it(`${ASI} ephmap=percpu: a read whose get fails (slot busy) falls back: it exits, the data is right`, () => {
    const k = boot('percpu');
    const d: Record<string, number> = {};
    // Hold this CPU's slot around each pread: the read's own get fails.
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
      const buf = yield* u.mmap(0, 8 * 4096, RW, ANON);
      u.poke(buf, pattern(3 * 4096, 5));
      const fd = yield* u.open('/f', O_RDWR | O_CREAT);
      yield* u.pwrite64(fd, buf, 3 * 4096, 0);
      const v0 = k.vmstat();
      d.r = yield* u.pread64(fd, buf + 4 * 4096, 3 * 4096, 0);
      const v1 = k.vmstat();
      d.fallback = v1.nr_ephmap_fallback - v0.nr_ephmap_fallback;
      d.failed = v1.nr_ephmap_get_failed - v0.nr_ephmap_get_failed;
      d.exits = v1.asi_exit_page_fault - v0.asi_exit_page_fault;
      d.ok = same(u.peek(buf + 4 * 4096, 3 * 4096), pattern(3 * 4096, 5)) ? 1 : 0;
      yield* u.close(fd);
      return 0;
    });
    // The first page's get fails and its physmap copy exits; the rest of the syscall runs
    // unrestricted (until the return to user), where ephmap_wanted() is false: plain copies.
    expect(d).toEqual({ r: 3 * 4096, fallback: 1, failed: 1, exits: 1, ok: 1 });
    shutdown_clean(k);
  });

  it(`${ASI}: the domain PGD shares the mm-local slot's entry with the mm (asi_clone_user_pgtbl when the slot is populated)`, () => {
    for (const mode of ['percpu', 'mermap'] as const) {
      const k = boot(mode);
      const d: Record<string, number> = {};
      kunit_activate_syscall_stub(NR.__NR_getpid, () => {
        const mm = current().mm!;
        const asi = mm.asi[ASI_CLASS_USERSPACE]!;
        const mem = k.machine.mem;
        const off = MM_LOCAL_PGD_ENTRY * 8;
        d.mm_lo = mem.read32(mm.pgd - PAGE_OFFSET + off);
        d.asi_lo = mem.read32(asi.pgd - PAGE_OFFSET + off);
        d.asi_hi = mem.read32(asi.pgd - PAGE_OFFSET + off + 4) - mem.read32(mm.pgd - PAGE_OFFSET + off + 4);
        return 0;
      });
      run_one(k, function* (u) {
        yield* u.getpid();
        return 0;
      });
      expect(d.mm_lo & 1).toBe(1); // present: ephmap_setup() built the slot's tables
      expect(d.asi_lo).toBe(d.mm_lo);
      expect(d.asi_hi).toBe(0);
      shutdown_clean(k);
    }
  });

  it(`${ASI}: seeded bug: with the domain's copy of the slot entry missing, every ephmap read exits`, () => {
    // What the zero-exit tests above depend on: wipe the domain's mm-local entry (as if
    // mm/ephmap.ts skipped asi_clone_user_pgtbl()) and the copy from the slot faults in
    // the restricted space, exits, and completes unrestricted.
    const k = boot('percpu');
    const d: Record<string, number> = {};
    run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 2 * 4096, RW, ANON);
      u.poke(buf, pattern(4096, 9));
      const fd = yield* u.open('/f', O_RDWR | O_CREAT);
      yield* u.pwrite64(fd, buf, 4096, 0);
      const asi = current().mm!.asi[ASI_CLASS_USERSPACE]!;
      k.machine.mem.write32(asi.pgd - PAGE_OFFSET + MM_LOCAL_PGD_ENTRY * 8, 0);
      k.machine.mem.write32(asi.pgd - PAGE_OFFSET + MM_LOCAL_PGD_ENTRY * 8 + 4, 0);
      yield* u.pread64(fd, buf + 4096, 4096, 0); // warm-up (and the restricted TLB forgets the entry)
      const v0 = k.vmstat();
      let ok = 1;
      for (let i = 0; i < 4; i++) {
        if ((yield* u.pread64(fd, buf + 4096, 4096, 0)) !== 4096 || !same(u.peek(buf + 4096, 4096), pattern(4096, 9))) ok = 0;
      }
      const v1 = k.vmstat();
      d.exits = v1.asi_exit_page_fault - v0.asi_exit_page_fault;
      d.ok = ok;
      yield* u.close(fd);
      return 0;
    });
    expect(d).toEqual({ exits: 4, ok: 1 });
    k.shutdown();
  });

  it(`${ASI} ephmap=percpu: seeded bug: ephmap_put without its INVLPG returns the previous page's bytes`, () => {
    // The restricted PCID keeps the slot's last translation while nothing exits: the
    // next read, of another page at the same slot address, copies the old page.
    const k = boot('percpu');
    ephmap_state.test_skip_put_flush = true;
    const d = loop(k, '/f', 16, 'read');
    expect(d).toMatchObject({ asi_exits: 0, nr_ephmap_get: 16, nr_tlb_local_flush_one: 0, ok: 0 }); // the real build: ok 1
    k.shutdown();
  });

  it(`${ASI} ephmap=mermap: truncation's mm-wide flush reaches a thread that stayed restricted on another CPU`, () => {
    const real = stale_thread(false);
    expect(real).toMatchObject({ cpu: 1, same_cpu: true, restricted: true, before: real.old_word, after: -EFAULT });
    expect(real.flushes).toBeGreaterThanOrEqual(1);
  });

  it(`${ASI} ephmap=mermap: seeded bug: without the mm-wide flush the thread still reads the page, now /g's`, () => {
    const buggy = stale_thread(true);
    expect(buggy).toMatchObject({ cpu: 1, same_cpu: true, restricted: true, before: buggy.old_word, flushes: 0 });
    expect(buggy.after).toBe(buggy.new_word); // the real case's assertion (-EFAULT) fails here
  });

  it(`${ASI}: changing the IBPB cost in costs= moves only the variants that exit`, () => {
    const cycles = (mode: EphmapMode | 'off', costs: string): { c: number; ibpb: number } => {
      const k = start_kernel(`mem=64M cpus=1 ${ASI} ephmap=${mode} ${costs}`);
      const cpu = k.machine.cpus[0];
      const r = { c: 0, ibpb: 0 };
      run_one(k, function* (u) {
        const buf = yield* u.mmap(0, 2 * 4096, RW, ANON);
        u.poke(buf, pattern(4096, 1));
        const fd = yield* u.open('/f', O_RDWR | O_CREAT);
        yield* u.pwrite64(fd, buf, 4096, 0);
        yield* u.pread64(fd, buf + 4096, 4096, 0);
        const c0 = cpu.clock;
        const i0 = cpu.ev[HW_IBPB];
        for (let i = 0; i < 32; i++) yield* u.pread64(fd, buf + 4096, 4096, 0);
        r.c = (cpu.clock - c0) / 32;
        r.ibpb = (cpu.ev[HW_IBPB] - i0) / 32;
        return 0;
      });
      k.shutdown();
      return r;
    };
    const ibpb = cost_profile(DEFAULT_COST_PROFILE).ibpb;
    for (const mode of ['percpu', 'vmalloc', 'kmap', 'mermap', 'off'] as const) {
      const base = cycles(mode, '');
      const more = cycles(mode, `costs=sapphire_rapids,ibpb=${2 * ibpb}`);
      if (mode === 'off') {
        expect(base.ibpb).toBe(1);
        expect(more.c - base.c).toBeCloseTo(ibpb, 6); // one IBPB per read, twice as dear
      } else {
        expect(base.ibpb).toBe(0);
        expect(more.c).toBe(base.c);
      }
    }
  });
});
