/*
 * tests/mm/page_alloc.test.ts - the buddy allocator on a bare 64 MiB machine.
 *
 * KUnit-style cases for mm/page_alloc.ts, mm/buddy.ts and mm/pcp.ts: expand
 * and merge drawn as page maps, fallback claiming and stealing, pcp batching,
 * OOM, bad-page reports, compound pages (the fast-check sequences are in
 * page_alloc_property.test.ts). debug_vm is on, so every alloc and free runs
 * the invariant checker. No direct map exists here: __GFP_ZERO is not used.
 */
import { describe, it, expect, beforeEach } from 'vitest';
import { boot_mm } from './page_alloc_boot.ts';
import {
  alloc_pages, alloc_page, __free_pages, __free_page, free_pages, __get_free_pages, get_page, put_page,
  free_reserved_page, meminfo, nr_free_pages, totalram_pages, compound_order, drain_all_pages, drain_local_pages,
  page_alloc_shutdown,
} from '../../mm/page_alloc.ts';
import {
  GFP_KERNEL, GFP_ATOMIC, GFP_HIGHUSER_MOVABLE, __GFP_RECLAIMABLE, __GFP_NOWARN,
  __GFP_COMP, __GFP_NOFAIL, __GFP_MOVABLE, type gfp_t,
} from '../../mm/gfp.ts';
import {
  contig_page_data, ZONE_NORMAL, free_list_index, get_pageblock_migratetype, MIGRATE_UNMOVABLE, MIGRATE_MOVABLE,
  MIGRATE_RECLAIMABLE, MAX_PAGE_ORDER, pageblock_nr_pages, type Zone,
} from '../../mm/mmzone.ts';
import { __zone_set_pageset_high_and_batch, pcp_total_count } from '../../mm/pcp.ts';
import {
  check_page_alloc_invariants, page_alloc_invariant_violations, free_area_nr_free, page_alloc_debug,
} from '../../mm/page_alloc_debug.ts';
import { mem_map, page_address, page_ref_count, page_count, compound_head, PageTail, page_private, page_owner_order,
  set_page_owner_order } from '../../mm/mm_types.ts';
import { PageBuddy, PageHead, PageReserved } from '../../mm/page_flags.ts';
import { vm_debug } from '../../mm/debug.ts';
import { all_vmstat } from '../../mm/vmstat.ts';
import { dmesg } from '../../kernel/printk.ts';
import { KernelPanic, warn_state } from '../../kernel/panic.ts';
import { machine } from '../../kernel/smp.ts';

const zone = (): Zone => contig_page_data.node_zones[ZONE_NORMAL];
const head = (order: number, mt: number): number => zone().free_list_head[free_list_index(order, mt)];
/** Let every free go straight to the buddy lists and every allocation come from them. */
const pcp_off = (): void => __zone_set_pageset_high_and_batch(zone(), 0, 0, 1);
const vm = (name: string): number => all_vmstat()[name] ?? 0;

/** Allocate everything at `gfp`, largest blocks first; returns [pfn, order] pairs. */
function fill(gfp: gfp_t): [number, number][] {
  const got: [number, number][] = [];
  for (let order = MAX_PAGE_ORDER; order >= 0; order--) {
    for (;;) {
      const p = alloc_pages(gfp | __GFP_NOWARN, order);
      if (p === null) break;
      got.push([p, order]);
    }
  }
  return got;
}

describe('mm_page_alloc', () => {
  beforeEach(() => { boot_mm(); });

  it('boots with every free page in maximal blocks and the reserved ones marked', () => {
    // 64 MiB less: the low 1 MiB, the 4 MiB image, 8 early page-table pages, a 1 MiB memmap.
    expect(meminfo()).toEqual({ MemTotal: 65536 - 1024 - 4096 - 32 - 1024, MemFree: 65536 - 1024 - 4096 - 32 - 1024 });
    expect(totalram_pages()).toBe(14840);
    expect(nr_free_pages()).toBe(14840);
    expect(free_area_nr_free()).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 13]);
    expect(PageReserved(0)).toBe(true);
    expect(page_ref_count(0)).toBe(1);
    expect(PageReserved(0x1000)).toBe(true);           // kernel image at 16 MiB
    expect(PageReserved(256)).toBe(false);             // 1 MiB: free
    expect(vm('nr_free_pages')).toBe(14840);
    expect(vm('pgfree')).toBe(14840);                   // boot's frees count, as in Linux
    expect(page_alloc_invariant_violations()).toEqual([]);
    // Every pageblock starts movable.
    for (let pfn = 0; pfn < mem_map.max_pfn; pfn += pageblock_nr_pages)
      expect(get_pageblock_migratetype(pfn)).toBe(MIGRATE_MOVABLE);
  });

  it('expand hands out the lowest sub-block and lists the upper halves; freeing merges them back', () => {
    pcp_off();
    const P = head(3, MIGRATE_MOVABLE);    // the only order-3 block; orders 0-2 are empty
    expect(zone().nr_free.slice(0, 4)).toEqual(new Int32Array([0, 0, 0, 1]));
    /*
     *  P+0 1 2 3 4 5 6 7
     *  [  order-3 free  ]         before
     *  A  o0 [o1] [ o2  ]         alloc_pages(order 0): A = P; P+1 on order 0,
     *                             P+2 on order 1, P+4 on order 2 (list heads)
     */
    const A = alloc_pages(GFP_HIGHUSER_MOVABLE, 0)!;
    expect(A).toBe(P);
    expect([head(0, MIGRATE_MOVABLE), head(1, MIGRATE_MOVABLE), head(2, MIGRATE_MOVABLE)]).toEqual([P + 1, P + 2, P + 4]);
    expect([page_private(P + 1), page_private(P + 2), page_private(P + 4)]).toEqual([0, 1, 2]);
    expect(zone().nr_free.slice(0, 4)).toEqual(new Int32Array([1, 1, 1, 0]));
    /*
     *  A  B  C  o0 [ o2  ]        two more: B = P+1 (order-0 head), C = P+2
     *                             (order 1 split: P+3 back on order 0)
     */
    const B = alloc_pages(GFP_HIGHUSER_MOVABLE, 0)!;
    const C = alloc_pages(GFP_HIGHUSER_MOVABLE, 0)!;
    expect([B, C, head(0, MIGRATE_MOVABLE)]).toEqual([P + 1, P + 2, P + 3]);
    /*
     *  A  .  C  .  [ o2  ]        free B: buddy A busy, stays order 0
     *  [ o1 ] C .  [ o2  ]        free A: merges with B (order 1); buddy C busy
     *  [     order 3      ]       free C: C+P+3 -> order 1, + A's pair -> 2, + P+4 -> 3
     */
    __free_page(B);
    expect(PageBuddy(B) && page_private(B) === 0).toBe(true);
    __free_page(A);
    expect(PageBuddy(A) && page_private(A) === 1 && !PageBuddy(B)).toBe(true);
    __free_page(C);
    expect(head(3, MIGRATE_MOVABLE)).toBe(P);
    expect(page_private(P)).toBe(3);
    expect(free_area_nr_free()).toEqual(page_alloc_debug.boot_nr_free);
  });

  it('claims a whole pageblock for a fallback of pageblock order or more', () => {
    pcp_off();
    const all = fill(GFP_KERNEL);                    // unmovable takes every block
    expect(nr_free_pages()).toBe(0);
    for (const [p] of all) expect(get_pageblock_migratetype(p)).toBe(MIGRATE_UNMOVABLE);
    const [X] = all.find(([, o]) => o === MAX_PAGE_ORDER)!;
    __free_pages(X, MAX_PAGE_ORDER);                  // only unmovable memory is free now
    const M = alloc_pages(GFP_HIGHUSER_MOVABLE, 0)!;  // movable request: fallback
    expect(M).toBe(X);
    expect(get_pageblock_migratetype(X)).toBe(MIGRATE_MOVABLE);                 // both pageblocks
    expect(get_pageblock_migratetype(X + pageblock_nr_pages)).toBe(MIGRATE_MOVABLE);  // claimed
    expect(head(9, MIGRATE_MOVABLE)).toBe(X + pageblock_nr_pages);
    __free_page(M);
    for (const [p, o] of all) if (p !== X) __free_pages(p, o);
    expect(page_alloc_shutdown()).toMatchObject({ leaked: [], fully_merged: true });
  });

  it('claims a pageblock that is at least half free, and only steals from one that is not', () => {
    pcp_off();
    const all = fill(GFP_KERNEL);
    const [X] = all.find(([, o]) => o === MAX_PAGE_ORDER)!;
    __free_pages(X, MAX_PAGE_ORDER);
    // Take 3/4 of X's first pageblock back as unmovable: X+384..X+511 (order 7) stays free.
    const U9 = alloc_pages(GFP_KERNEL, 9)!;          // X's first pageblock ...
    expect(U9).toBe(X);
    const U10 = alloc_pages(GFP_KERNEL, 9)!;         // ... and its second
    __free_pages(U9, 9);
    const U8 = alloc_pages(GFP_KERNEL, 8)!;
    const U7 = alloc_pages(GFP_KERNEL, 7)!;
    expect([U8, U7]).toEqual([X, X + 256]);
    // 128 of 512 pages free: a movable order-0 request may not claim (order 7 >= 4 tries, < half),
    // so it steals the smallest block, split on the unmovable lists.
    const S = alloc_pages(GFP_HIGHUSER_MOVABLE, 0)!;
    expect(S).toBe(X + 384);
    expect(get_pageblock_migratetype(X)).toBe(MIGRATE_UNMOVABLE);
    expect(head(0, MIGRATE_UNMOVABLE)).toBe(X + 385);
    expect(head(6, MIGRATE_UNMOVABLE)).toBe(X + 448);
    // Free U8: now 256 + 127 free, more than half: the next movable request claims the pageblock.
    __free_pages(U8, 8);
    const T = alloc_pages(GFP_HIGHUSER_MOVABLE, 0)!;
    expect(get_pageblock_migratetype(X)).toBe(MIGRATE_MOVABLE);
    expect(T).toBe(X + 385);                         // from the moved order-0 block
    expect(head(0, MIGRATE_UNMOVABLE)).toBe(-1);
    for (const p of [S, T]) __free_page(p);
    __free_pages(U7, 7);
    __free_pages(U10, 9);
    for (const [p, o] of all) if (p !== X) __free_pages(p, o);
    expect(page_alloc_shutdown()).toMatchObject({ leaked: [], fully_merged: true });
  });

  it('reclaimable requests fall back to unmovable first (the fallbacks table)', () => {
    pcp_off();
    const U = alloc_pages(GFP_KERNEL, 10)!;                       // claims a movable block as unmovable
    __free_pages(U, 10);                                          // an unmovable order-10 free block
    const R = alloc_pages(GFP_KERNEL | __GFP_RECLAIMABLE, 10)!;  // RECLAIMABLE -> {UNMOVABLE, MOVABLE}
    expect(R).toBe(U);
    expect(get_pageblock_migratetype(R)).toBe(MIGRATE_RECLAIMABLE);
    __free_pages(R, 10);
  });

  it('refills the pcp list in batches, drains it from the tail at high', () => {
    const pcp = zone().per_cpu_pageset[0];
    expect(pcp.batch).toBe(3);                        // zone_batchsize: (14840 >> 10) / 4 -> 2^2 - 1
    expect(pcp.high_min).toBe(151);                   // low watermark 303 over 2 CPUs
    const free0 = nr_free_pages();
    const a = alloc_page(GFP_KERNEL)!;
    expect(pcp.count).toBe(2);                        // batch of 3 taken, one handed out
    expect(nr_free_pages()).toBe(free0 - 3);          // pcp pages do not count as free
    expect(pcp.alloc_factor).toBe(1);
    alloc_page(GFP_KERNEL);
    alloc_page(GFP_KERNEL);
    const d = alloc_page(GFP_KERNEL)!;                // second refill is doubled: 6
    expect(nr_free_pages()).toBe(free0 - 9);
    expect(pcp.count).toBe(5);
    expect(d).toBe(a + 3);                            // refills keep address order
    drain_local_pages();
    expect(pcp.count).toBe(0);
    expect(nr_free_pages()).toBe(free0 - 4);
    for (const p of [a, a + 1, a + 2, d]) __free_page(p);
    expect(pcp.count).toBe(4);

    // A small high shows the drain: at count >= high, nr_pcp_free pages go back, batch stay.
    __zone_set_pageset_high_and_batch(zone(), 8, 8, 2);
    drain_local_pages();
    const pages: number[] = [];
    for (let i = 0; i < 20; i++) pages.push(alloc_page(GFP_KERNEL)!);
    drain_local_pages();
    const before = nr_free_pages();
    let drained = 0;
    for (const p of pages) {
      const f = nr_free_pages();
      __free_page(p);
      expect(pcp.count).toBeLessThan(8);
      if (nr_free_pages() > f) drained++;
    }
    expect(drained).toBeGreaterThan(0);
    expect(nr_free_pages() + pcp.count).toBe(before + 20);
  });

  it('drain_all_pages empties every CPU, including a remote one', () => {
    const m = machine();
    m.current = 1;
    const p = alloc_page(GFP_KERNEL)!;
    __free_page(p);
    const pcp1 = zone().per_cpu_pageset[1];
    expect(pcp1.count).toBeGreaterThan(0);
    m.current = 0;
    drain_all_pages();
    expect(pcp_total_count(zone())).toBe(0);
    expect(free_area_nr_free()).toEqual(page_alloc_debug.boot_nr_free);
  });

  it('a blocking allocation drains other CPUs before it fails; an atomic one does not', () => {
    pcp_off();
    const all = fill(GFP_KERNEL);
    // Put one page on CPU 1's pcp list.
    __zone_set_pageset_high_and_batch(zone(), 100, 100, 10);
    const m = machine();
    m.current = 1;
    const [p, order] = all[all.length - 1];
    expect(order).toBe(3);
    __free_pages(p, order);
    m.current = 0;
    expect(nr_free_pages()).toBe(0);
    expect(zone().per_cpu_pageset[1].count).toBe(8);
    expect(alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 3)).toBeNull();
    expect(alloc_pages(GFP_KERNEL, 3)).toBe(p);
  });

  it('out of memory returns null with the warn_alloc report, silently under __GFP_NOWARN', () => {
    const got = fill(GFP_KERNEL);
    expect(dmesg()).not.toMatch(/page allocation failure/);
    expect(alloc_pages(GFP_KERNEL, 10)).toBeNull();
    expect(dmesg()).toMatch(/swapper\/0: page allocation failure: order:10, mode:0xcc0\(GFP_KERNEL\), nodemask=\(null\)/);
    expect(dmesg()).toMatch(/Node 0 Normal: 0\*4kB 0\*8kB .* = 0kB/);
    const lines = dmesg().split('\n').length;
    expect(alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0)).toBeNull();
    expect(__get_free_pages(GFP_KERNEL | __GFP_NOWARN, 0)).toBe(0);
    expect(dmesg().split('\n').length).toBe(lines);
    expect(() => alloc_pages(GFP_KERNEL | __GFP_NOFAIL, 0)).toThrow(/System is deadlocked on memory/);
    for (const [p, o] of got) __free_pages(p, o);
    expect(page_alloc_shutdown()).toMatchObject({ leaked: [], fully_merged: true });
  });

  it('refuses orders above MAX_PAGE_ORDER with a warning', () => {
    const w = warn_state.count;
    expect(alloc_pages(GFP_KERNEL, 11)).toBeNull();
    expect(alloc_pages(GFP_KERNEL, -1)).toBeNull();
    expect(warn_state.count).toBe(w + 2);
    expect(alloc_pages(GFP_KERNEL | __GFP_NOWARN, 11)).toBeNull();
    expect(warn_state.count).toBe(w + 2);
    expect(dmesg()).toMatch(/order 11 is not in 0..MAX_PAGE_ORDER \(10\)/);
  });

  it('reports a double free as a bad page and leaves the free lists intact', () => {
    const p = alloc_page(GFP_KERNEL)!;
    __free_page(p);
    __free_page(p);                                   // on the pcp list now
    expect(dmesg()).toMatch(new RegExp(`BUG: Bad page state in process swapper/0  pfn:${p.toString(16).padStart(5, '0')}`));
    expect(dmesg()).toMatch(/page dumped because: VM_BUG_ON_PAGE\(page_ref_count\(page\) == 0\)/);
    drain_all_pages();
    __free_page(p);                                   // now a buddy page
    expect(dmesg()).toMatch(/page_type: f0\(buddy\)/);
    expect(vm_debug.nr_bad_pages).toBe(2);
    expect(PageBuddy(p) || page_alloc_invariant_violations().length === 0).toBe(true);
    check_page_alloc_invariants();
    expect(free_area_nr_free()).toEqual(page_alloc_debug.boot_nr_free);
  });

  it('reports freeing a reserved page, a tail, or with the wrong order; the page leaks', () => {
    put_page(0);                                      // reserved: refcount 1 -> 0, then the flag check
    expect(dmesg()).toMatch(/pfn:00000\n[^]*flags: 0x2000\(reserved\)\npage dumped because: PAGE_FLAGS_CHECK_AT_FREE flag\(s\) set/);
    expect(PageReserved(0) && !PageBuddy(0)).toBe(true);
    const q = alloc_pages(GFP_KERNEL, 2)!;
    __free_page(q + 1);                               // a tail of a non-compound block
    expect(vm_debug.nr_bad_pages).toBe(2);
    __free_pages(q, 0);                               // wrong order
    expect(dmesg()).toMatch(/page_owner: freed as order 0, allocated as order 2/);
    expect(vm_debug.nr_bad_pages).toBe(3);
    check_page_alloc_invariants();
    const r = page_alloc_shutdown();
    expect(r.leaked).toEqual([q, q + 1, q + 2, q + 3]);
    expect(r.leaked_allocations).toEqual([{ pfn: q, order: 2 }]);
  });

  it('WARNs on frees it cannot even check: out of range, misaligned, not a direct-map address', () => {
    const p = alloc_pages(GFP_KERNEL, 1)!;
    const w = warn_state.count;
    __free_pages(mem_map.max_pfn + 3, 0);
    __free_pages(p + 1, 1);
    __free_pages(p, 11);
    free_pages(page_address(p) + 12, 1);
    free_pages(0x1000, 1);
    free_pages(0, 1);                                 // NULL: nothing, as in Linux
    expect(warn_state.count).toBe(w + 5);
    expect(page_ref_count(p)).toBe(1);
    free_pages(page_address(p), 1);
    expect(page_alloc_shutdown()).toMatchObject({ leaked: [], fully_merged: true });
  });

  it('get_page on a free page is a bug', () => {
    const p = alloc_page(GFP_KERNEL)!;
    __free_page(p);
    expect(() => get_page(p)).toThrow(KernelPanic);
  });

  it('builds compound pages for __GFP_COMP and frees the folio on the last put_page', () => {
    const p = alloc_pages(GFP_KERNEL | __GFP_COMP, 2)!;
    expect(PageHead(p)).toBe(true);
    expect(compound_order(p)).toBe(2);
    expect([PageTail(p + 1), compound_head(p + 3), page_count(p + 2)]).toEqual([true, p, 1]);
    get_page(p + 3);
    expect(page_ref_count(p)).toBe(2);
    put_page(p + 1);
    put_page(p + 2);                                  // last reference: the order-2 folio goes
    expect(PageHead(p) || PageTail(p + 1)).toBe(false);
    expect(page_alloc_shutdown()).toMatchObject({ leaked: [], fully_merged: true });
  });

  it('a non-compound block with an extra reference frees its tail now and its head later', () => {
    const p = alloc_pages(GFP_KERNEL, 2)!;
    get_page(p);
    __free_pages(p, 2);                               // tails p+1 (order 0) and p+2 (order 1) freed
    expect(page_ref_count(p)).toBe(1);
    expect(page_owner_order(p)).toBe(0);
    put_page(p);
    expect(page_alloc_shutdown()).toMatchObject({ leaked: [], fully_merged: true });
  });

  it('free_reserved_page hands a reserved page to the allocator', () => {
    const total = totalram_pages();
    free_reserved_page(0x1000);
    expect(totalram_pages()).toBe(total + 1);
    expect(PageReserved(0x1000)).toBe(false);
    expect(meminfo().MemTotal).toBe((total + 1) * 4);
    const w = warn_state.count;
    free_reserved_page(0x1000);                       // not reserved any more
    expect(warn_state.count).toBe(w + 1);
    check_page_alloc_invariants();
  });

  it('the checker catches corrupted bookkeeping (so it can fail)', () => {
    const z = zone();
    z.nr_free[3]++;
    expect(page_alloc_invariant_violations().join('\n')).toMatch(/free_area\[3\]\.nr_free is 2, its lists hold 1/);
    z.nr_free[3]--;
    const p = alloc_page(GFP_KERNEL)!;
    set_page_owner_order(p, -1);                      // an allocation nobody recorded: a lost page
    expect(page_alloc_invariant_violations().join('\n')).toMatch(new RegExp(`pfn ${p} is in no state`));
    set_page_owner_order(p, 0);
    const h = head(4, MIGRATE_MOVABLE);
    set_page_owner_order(h, 0);                       // a page both free and allocated
    expect(page_alloc_invariant_violations().join('\n')).toMatch(new RegExp(`pfn ${h} is free and allocated`));
    expect(() => check_page_alloc_invariants()).toThrow(KernelPanic);
    set_page_owner_order(h, -1);
    check_page_alloc_invariants();
  });

  it('charges the struct pages it touches to the current CPU', () => {
    const cpu = machine().cpus[0];
    const c0 = cpu.clock;
    const p = alloc_page(GFP_KERNEL)!;
    expect(cpu.clock).toBeGreaterThan(c0);
    const c1 = cpu.clock;
    __free_page(p);
    expect(cpu.clock).toBeGreaterThan(c1);
  });
});
