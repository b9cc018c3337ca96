/*
 * tests/mm/cow.test.ts - fork with copy-on-write, and the zero page
 * (kernel/fork.ts dup_mmap, mm/memory.ts copy_page_range, do_wp_page,
 * wp_page_copy, do_anonymous_page), with exact counter deltas, in the
 * spirit of tools/testing/selftests/mm/cow.c.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { RW, ANON } from '../fs/helpers.ts';
import { user_pte, vm_delta } from './cow_helpers.ts';
import { page_ref_count, page_mapcount } from '../../mm/mm_types.ts';
import { ZERO_PAGE } from '../../mm/zero_page.ts';
import { current } from '../../kernel/sched/core.ts';
import { vm_debug } from '../../mm/debug.ts';

const KEYS = ['pgfault', 'nr_cow_copy', 'nr_cow_zero', 'pgreuse', 'nr_zero_page_map'] as const;
type Sys = Generator<{ nr: number; args: readonly number[] }, number, number>;

describe('mm_cow', () => {
  it('after fork both see the same pages read-only; a child write copies exactly one page, the parent keeps its own', () => {
    /*
     *  parent  b: [1][2][3][4]   all private, writable, ref 1 map 1
     *  fork    b: [1][2][3][4]   shared by both: read-only, ref 2 map 2
     *  child writes page 0:      child [99] new page ref 1 map 1;
     *                            parent [1] old page ref 1 map 1 (still read-only until it writes)
     *  parent writes page 0 after the child exited: reused in place (pgreuse)
     */
    const k = start_kernel('mem=32M cpus=2 debug_vm');
    const r: Record<string, unknown> = {};
    k.spawn('parent', function* (u: Nolibc): Sys {
      const b = yield* u.mmap(0, 4 * 4096, RW, ANON);
      for (let i = 0; i < 4; i++) u.poke32(b + i * 4096, i + 1);
      r.before = user_pte(b);
      const pid = yield* u.clone(0, function* (c: Nolibc): Sys {
        const pte0 = user_pte(b)!;
        r.child_at_fork = pte0;
        const v0 = k.vmstat();
        c.poke32(b, 99);
        const v1 = k.vmstat();
        r.child_write = vm_delta(v0, v1, KEYS);
        const pte1 = user_pte(b)!;
        r.child_after = { ...pte1, moved: pte1.pfn !== pte0.pfn };
        r.old_page = { ref: page_ref_count(pte0.pfn), map: page_mapcount(pte0.pfn) };
        r.child_sees = [c.peek32(b), c.peek32(b + 4096), c.peek32(b + 2 * 4096), c.peek32(b + 3 * 4096)];
        r.child_reads = vm_delta(v1, k.vmstat(), KEYS).pgfault;
        return 0;
      });
      r.parent_at_fork = user_pte(b + 4096);
      const [, st] = yield* u.waitpid(pid);
      r.status = st;
      r.parent_sees = [u.peek32(b), u.peek32(b + 4096), u.peek32(b + 2 * 4096), u.peek32(b + 3 * 4096)];
      const v0 = k.vmstat();
      u.poke32(b, 7);
      r.parent_write = vm_delta(v0, k.vmstat(), KEYS);
      r.parent_after = user_pte(b);
      return 0;
    });
    k.run();
    expect(r.before).toEqual({ pfn: expect.any(Number), writable: true, ref: 1, map: 1 });
    expect(r.child_at_fork).toEqual({ pfn: (r.before as { pfn: number }).pfn, writable: false, ref: 2, map: 2 });
    expect(r.parent_at_fork).toMatchObject({ writable: false, ref: 2, map: 2 });
    expect(r.child_write).toEqual({ pgfault: 1, nr_cow_copy: 1, nr_cow_zero: 0, pgreuse: 0, nr_zero_page_map: 0 });
    expect(r.child_after).toMatchObject({ writable: true, ref: 1, map: 1, moved: true });
    expect(r.old_page).toEqual({ ref: 1, map: 1 });
    expect(r.child_sees).toEqual([99, 2, 3, 4]);
    expect(r.child_reads).toBe(0); // shared pages are read without a fault
    expect(r.status).toBe(0);
    expect(r.parent_sees).toEqual([1, 2, 3, 4]);
    expect(r.parent_write).toEqual({ pgfault: 1, nr_cow_copy: 0, nr_cow_zero: 0, pgreuse: 1, nr_zero_page_map: 0 });
    expect(r.parent_after).toEqual({ pfn: (r.before as { pfn: number }).pfn, writable: true, ref: 1, map: 1 });
    expect(vm_debug.nr_bad_pages).toBe(0);
    k.shutdown(); // BUGs on a leaked page
  });

  it('a read fault on anonymous memory maps the zero page read-only; the first write gives a zeroed page of its own', () => {
    const k = start_kernel('mem=32M cpus=1 debug_vm');
    const r: Record<string, unknown> = {};
    k.spawn('t', function* (u: Nolibc): Sys {
      const b = yield* u.mmap(0, 2 * 4096, RW, ANON);
      u.poke32(b + 4096 + 8, 5); // the page tables exist now
      const zref = page_ref_count(ZERO_PAGE(0));
      const v0 = k.vmstat();
      r.read = u.peek32(b + 100);
      const v1 = k.vmstat();
      r.read_d = vm_delta(v0, v1, KEYS);
      r.read_pte = user_pte(b);
      r.zero_ref_unchanged = page_ref_count(ZERO_PAGE(0)) === zref;
      r.anon_rss_after_read = (current().mm!.layout as { anon_rss: number }).anon_rss;
      u.poke32(b + 200, 6);
      const v2 = k.vmstat();
      r.write_d = vm_delta(v1, v2, KEYS);
      r.write_pte = user_pte(b);
      r.values = [u.peek32(b + 100), u.peek32(b + 200), u.peek32(b + 4092)];
      r.anon_rss_after_write = (current().mm!.layout as { anon_rss: number }).anon_rss;
      return 0;
    });
    k.run();
    expect(r.read).toBe(0);
    expect(r.read_d).toEqual({ pgfault: 1, nr_cow_copy: 0, nr_cow_zero: 0, pgreuse: 0, nr_zero_page_map: 1 });
    expect(r.read_pte).toEqual({ pfn: ZERO_PAGE(0), writable: false, ref: expect.any(Number), map: expect.any(Number) });
    expect(r.zero_ref_unchanged).toBe(true); // the zero page is never refcounted per mapping
    expect(r.anon_rss_after_read).toBe(1);
    expect(r.write_d).toEqual({ pgfault: 1, nr_cow_copy: 0, nr_cow_zero: 1, pgreuse: 0, nr_zero_page_map: 0 });
    expect(r.write_pte).toMatchObject({ writable: true, ref: 1, map: 1 });
    expect((r.write_pte as { pfn: number }).pfn).not.toBe(ZERO_PAGE(0));
    expect(r.values).toEqual([0, 6, 0]);
    expect(r.anon_rss_after_write).toBe(2);
    k.shutdown();
  });

  it('fork write-protects the parent with one flush_tlb_mm, however many pages; a CoW fault flushes its one address', () => {
    const k = start_kernel('mem=32M cpus=2');
    const r: Record<string, number> = {};
    k.spawn('parent', function* (u: Nolibc): Sys {
      const b = yield* u.mmap(0, 64 * 4096, RW, ANON);
      for (let i = 0; i < 64; i++) u.poke32(b + i * 4096, i);
      const mm = current().mm!;
      const gen0 = mm.context.tlb_gen;
      const pid = yield* u.clone(0, function* (c: Nolibc): Sys {
        const cmm = current().mm!;
        const g0 = cmm.context.tlb_gen;
        c.poke32(b, 1000);
        r.child_cow_flushes = cmm.context.tlb_gen - g0;
        return 0;
      });
      r.fork_flushes = mm.context.tlb_gen - gen0;
      r.pending = mm.tlb_flush_pending;
      yield* u.waitpid(pid);
      return 0;
    });
    k.run();
    expect(r).toEqual({ fork_flushes: 1, pending: 0, child_cow_flushes: 1 });
    k.shutdown();
  });

  it('a fork of a fork: three mms share a page (ref 3, map 3); each write copies one page until the last reuses it', () => {
    const k = start_kernel('mem=32M cpus=3 debug_vm');
    const r: Record<string, number[]> = { copies: [], reuses: [], values: [] };
    const log = (v0: Record<string, number>, v1: Record<string, number>): void => {
      r.copies.push(v1.nr_cow_copy - v0.nr_cow_copy);
      r.reuses.push(v1.pgreuse - v0.pgreuse);
    };
    k.spawn('a', function* (u: Nolibc): Sys {
      const b = yield* u.mmap(0, 4096, RW, ANON);
      u.poke32(b, 1);
      const pid = yield* u.clone(0, function* (c: Nolibc): Sys {
        const gpid = yield* c.clone(0, function* (g: Nolibc): Sys {
          r.shared = [user_pte(b)!.ref, user_pte(b)!.map];
          const v0 = k.vmstat();
          g.poke32(b, 3);
          log(v0, k.vmstat());
          r.values.push(g.peek32(b));
          return 0;
        });
        yield* c.waitpid(gpid);
        const v0 = k.vmstat();
        c.poke32(b, 2);
        log(v0, k.vmstat());
        r.values.push(c.peek32(b));
        return 0;
      });
      yield* u.waitpid(pid);
      const v0 = k.vmstat();
      u.poke32(b + 4, 9);
      log(v0, k.vmstat());
      r.values.push(u.peek32(b));
      return 0;
    });
    k.run();
    expect(r.shared).toEqual([3, 3]);
    expect(r.copies).toEqual([1, 1, 0]); // grandchild copies, child copies (the parent still maps it), parent reuses
    expect(r.reuses).toEqual([0, 0, 1]);
    expect(r.values).toEqual([3, 2, 1]);
    k.shutdown();
  });

  it('mprotect read-only then read-write: an exclusive page becomes writable again, a page shared with a fork stays CoW', () => {
    const k = start_kernel('mem=32M cpus=1');
    const r: Record<string, unknown> = {};
    k.spawn('p', function* (u: Nolibc): Sys {
      const b = yield* u.mmap(0, 2 * 4096, RW, ANON);
      u.poke32(b, 1);
      u.poke32(b + 4096, 2);
      const pid = yield* u.clone(0, function* (c: Nolibc): Sys {
        yield* c.mprotect(b, 2 * 4096, 1);
        yield* c.mprotect(b, 2 * 4096, 3);
        r.child_pte = user_pte(b);
        const v0 = k.vmstat();
        c.poke32(b, 5);
        r.child_copies = k.vmstat().nr_cow_copy - v0.nr_cow_copy;
        return 0;
      });
      yield* u.waitpid(pid);
      yield* u.mprotect(b, 2 * 4096, 1);
      yield* u.mprotect(b, 2 * 4096, 3);
      r.parent_pte = user_pte(b + 4096); // the child exited: exclusive again
      r.parent_sees = u.peek32(b);
      return 0;
    });
    k.run();
    expect(r.child_pte).toMatchObject({ writable: false, ref: 2 });
    expect(r.child_copies).toBe(1);
    expect(r.parent_pte).toMatchObject({ writable: true, ref: 1, map: 1 });
    expect(r.parent_sees).toBe(1);
    k.shutdown();
  });
});
