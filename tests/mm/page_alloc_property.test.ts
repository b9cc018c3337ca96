/*
 * tests/mm/page_alloc_property.test.ts - random allocation sequences against a model.
 *
 * fast-check sequences of mixed orders, GFP flags (and so migratetypes),
 * CPUs, frees, put_page on compound pages, drains and fills to exhaustion,
 * on a bare 16 or 32 MiB machine. After every step: the full invariant
 * checker, no page handed out twice (a per-pfn owner model), free + pcp +
 * allocated == total, and out of memory only when no block could serve the
 * request. At the end, with everything freed and the pcp lists drained,
 * every order's free count must equal boot's (full merging) and the vmstat
 * counters must match the model.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { boot_mm } from './page_alloc_boot.ts';
import {
  alloc_pages, __free_pages, __free_page, put_page, nr_free_pages, totalram_pages, drain_all_pages, drain_local_pages,
  page_alloc_shutdown,
} from '../../mm/page_alloc.ts';
import {
  GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_HIGHUSER_MOVABLE, GFP_USER, __GFP_RECLAIMABLE, __GFP_NOWARN,
  __GFP_COMP, __GFP_MOVABLE,
} from '../../mm/gfp.ts';
import { contig_page_data, ZONE_NORMAL, MAX_PAGE_ORDER, type Zone } from '../../mm/mmzone.ts';
import { __zone_set_pageset_high_and_batch, pcp_total_count } from '../../mm/pcp.ts';
import { check_page_alloc_invariants, free_area_nr_free } from '../../mm/page_alloc_debug.ts';
import { mem_map, page_ref_count } from '../../mm/mm_types.ts';
import { PageReserved } from '../../mm/page_flags.ts';
import { vm_debug } from '../../mm/debug.ts';
import { all_vmstat } from '../../mm/vmstat.ts';

const zone = (): Zone => contig_page_data.node_zones[ZONE_NORMAL];
const vm = (name: string): number => all_vmstat()[name] ?? 0;

type Cmd =
  | { op: 'alloc' | 'fill'; order: number; gfp: number; cpu: number }
  | { op: 'free'; idx: number; cpu: number; put: boolean }
  | { op: 'drain'; cpu: number; all: boolean };

const GFPS = [GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_USER, GFP_HIGHUSER_MOVABLE, GFP_KERNEL | __GFP_RECLAIMABLE,
  GFP_KERNEL | __GFP_COMP, GFP_HIGHUSER_MOVABLE | __GFP_COMP, GFP_ATOMIC | __GFP_MOVABLE];

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({
    op: fc.constant('alloc' as const),
    order: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 2, arbitrary: fc.integer({ min: 4, max: 10 }) }),
    gfp: fc.constantFrom(...GFPS).map((g) => g | __GFP_NOWARN),
    cpu: fc.integer({ min: 0, max: 1 }),
  }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('free' as const), idx: fc.nat(), cpu: fc.integer({ min: 0, max: 1 }), put: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drain' as const), cpu: fc.integer({ min: 0, max: 1 }), all: fc.boolean() }) },
  // Memory pressure: allocate at one order and type until it fails (fallbacks, claims, OOM).
  { weight: 1, arbitrary: fc.record({
    op: fc.constant('fill' as const),
    order: fc.integer({ min: 0, max: 10 }),
    gfp: fc.constantFrom(...GFPS).map((g) => g | __GFP_NOWARN),
    cpu: fc.integer({ min: 0, max: 1 }),
  }) },
);

describe('mm_page_alloc_property', () => {
  it('random alloc/free sequences: no page twice, nothing lost, full merging at the end', () => {
    fc.assert(fc.property(fc.array(cmd, { minLength: 1, maxLength: 80 }), fc.boolean(), fc.constantFrom(16, 32),
      (cmds, small_pcp, mib) => {
      const m = boot_mm({ mem: mib << 20 });
      const z = zone();
      if (small_pcp) __zone_set_pageset_high_and_batch(z, 6, 6, 2);
      const boot = free_area_nr_free();
      const total = totalram_pages();
      const owner = new Int32Array(mem_map.max_pfn).fill(-1);  // model: which allocation holds a pfn
      const live: { pfn: number; order: number; comp: boolean }[] = [];
      let allocated = 0;
      let pgalloc = 0;
      let pgfree = 0;
      const pgalloc0 = vm('pgalloc_normal');
      const pgfree0 = vm('pgfree');
      for (const c of cmds) {
        m.current = c.cpu;
        if (c.op === 'alloc' || c.op === 'fill') {
          // A fill is one step: the checker runs once after it, not after each allocation.
          vm_debug.debug_vm = c.op === 'alloc';
          for (let n = 0; n < (c.op === 'fill' ? Math.min(256, 1 << (12 - c.order)) : 1); n++) {
            const p = alloc_pages(c.gfp, c.order);
            if (p === null) {
              // Out of memory only when no free block could serve it.
              for (let o = c.order; o <= MAX_PAGE_ORDER; o++) expect(z.nr_free[o]).toBe(0);
              break;
            }
            expect(p % (1 << c.order)).toBe(0);
            for (let q = p; q < p + (1 << c.order); q++) {
              expect(owner[q]).toBe(-1);               // never handed out twice
              expect(PageReserved(q)).toBe(false);
              owner[q] = p;
            }
            expect(page_ref_count(p)).toBe(1);
            live.push({ pfn: p, order: c.order, comp: (c.gfp & __GFP_COMP) !== 0 && c.order > 0 });
            allocated += 1 << c.order;
            pgalloc += 1 << c.order;
          }
          vm_debug.debug_vm = true;
        } else if (c.op === 'free') {
          if (live.length === 0) continue;
          const [a] = live.splice(c.idx % live.length, 1);
          if (c.put && (a.comp || a.order === 0)) put_page(a.comp ? a.pfn + (1 << a.order) - 1 : a.pfn);
          else __free_pages(a.pfn, a.order);
          owner.fill(-1, a.pfn, a.pfn + (1 << a.order));
          allocated -= 1 << a.order;
          pgfree += 1 << a.order;
        } else if (c.op === 'drain') {
          if (c.all) drain_all_pages();
          else drain_local_pages();
        }
        check_page_alloc_invariants();
        expect(nr_free_pages() + pcp_total_count(z) + allocated).toBe(total);
      }
      m.current = 0;
      vm_debug.debug_vm = false;                        // one check after the teardown, below
      for (const a of live) __free_pages(a.pfn, a.order);
      vm_debug.debug_vm = true;
      for (const a of live) pgfree += 1 << a.order;
      drain_all_pages();
      check_page_alloc_invariants();
      expect(nr_free_pages()).toBe(total);
      expect(free_area_nr_free()).toEqual(boot);
      expect(vm('pgalloc_normal') - pgalloc0).toBe(pgalloc);
      expect(vm('pgfree') - pgfree0).toBe(pgfree);
      expect(vm_debug.nr_bad_pages).toBe(0);
      expect(page_alloc_shutdown().leaked).toEqual([]);
    }), { numRuns: 60 });
  });

  it('random sequences stay consistent when some frees are wrong (bad pages are reported, not absorbed)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 2 }), fc.nat()), { maxLength: 40 }),
      (steps) => {
        boot_mm({ mem: 32 << 20 });
        const live: [number, number][] = [];
        const freed: number[] = [];
        for (const [order, kind, n] of steps) {
          if (kind === 0 || live.length === 0) {
            const p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, order);
            if (p !== null) live.push([p, order]);
          } else if (kind === 1) {
            const [p, o] = live.splice(n % live.length, 1)[0];
            __free_pages(p, o);
            freed.push(p);
          } else if (freed.length) {
            const bad = vm_debug.nr_bad_pages;
            const p = freed[n % freed.length];
            if (page_ref_count(p) === 0) {
              __free_page(p);                           // a double free
              expect(vm_debug.nr_bad_pages).toBe(bad + 1);
            }
          }
          check_page_alloc_invariants();
        }
        for (const [p, o] of live) __free_pages(p, o);
        const r = page_alloc_shutdown();
        expect(r.leaked).toEqual([]);
        expect(r.fully_merged).toBe(true);
      }), { numRuns: 40 });
  });
});
