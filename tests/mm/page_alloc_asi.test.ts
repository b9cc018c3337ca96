/*
 * tests/mm/page_alloc_asi.test.ts - the page allocator's sensitivity (ASI).
 *
 * KUnit-style suite mm_page_alloc_asi, after the series' asi_test.c smoke
 * test and page_alloc_test.c pindex checks: free lists and pcp lists by
 * freetype, pageblocks converted by __rmqueue_asi (zeroed when they become
 * nonsensitive), no buddy merge across sensitivity, ALLOC_NOBLOCK callers
 * never converting, and asi=off behaving as a kernel without ASI.
 */
import { mm_init_state } from '../../mm/mm_init.ts';
import { describe, it, expect, afterEach } from 'vitest';
import { start_kernel, type Kernel } from '../../init/main.ts';
import { printk_state } from '../../kernel/printk.ts';
import { this_cpu, smp_processor_id } from '../../kernel/smp.ts';
import { alloc_pages, __free_pages } from '../../mm/page_alloc.ts';
import { GFP_KERNEL, GFP_ATOMIC, GFP_USER, GFP_HIGHUSER_MOVABLE, __GFP_NOWARN } from '../../mm/gfp.ts';
import {
  contig_page_data, ZONE_NORMAL, NR_PAGE_ORDERS, MIGRATE_TYPES, MIGRATE_MOVABLE, MIGRATE_UNMOVABLE,
  NR_PCP_LISTS_PER_SENSITIVITY, NR_PCP_LISTS, pageblock_order, pageblock_nr_pages, free_list_index,
  get_pageblock_sensitive, get_pageblock_freetype, order_to_pindex, pindex_to_order, pindex_sensitive,
  migrate_to_freetype, can_merge_freetypes, NONSENSITIVE_MASK, type Zone,
} from '../../mm/mmzone.ts';
import { PageBuddy } from '../../mm/page_flags.ts';
import { buddy_order } from '../../mm/buddy.ts';
import { mem_map, page_address } from '../../mm/mm_types.ts';
import { all_vmstat } from '../../mm/vmstat.ts';
import { page_alloc_invariant_violations } from '../../mm/page_alloc_debug.ts';

const zone = (): Zone => contig_page_data.node_zones[ZONE_NORMAL];
const vm = (n: string): number => all_vmstat()[n] ?? 0;

let k: Kernel | null = null;
afterEach(() => {
  k?.shutdown();
  k = null;
});

function boot(cmdline: string): Kernel {
  printk_state.console_loglevel = 0;
  k = start_kernel(cmdline);
  return k;
}

describe('mm_page_alloc_asi', () => {
  it('pindex helpers: sensitive lists are the second half, orders and types as without ASI', () => {
    expect(NR_PCP_LISTS).toBe(2 * NR_PCP_LISTS_PER_SENSITIVITY);
    for (const sensitive of [false, true]) {
      for (let order = 0; order <= 3; order++) {
        for (const mt of [MIGRATE_UNMOVABLE, MIGRATE_MOVABLE]) {
          const p = order_to_pindex(mt + (sensitive ? MIGRATE_TYPES : 0), order);
          expect(p).toBe((sensitive ? NR_PCP_LISTS_PER_SENSITIVITY : 0) + 3 * order + mt);
          expect(pindex_to_order(p)).toBe(order);
          expect(pindex_sensitive(p)).toBe(sensitive);
        }
      }
    }
    expect(can_merge_freetypes(MIGRATE_MOVABLE, MIGRATE_UNMOVABLE)).toBe(true);
    expect(can_merge_freetypes(MIGRATE_MOVABLE, MIGRATE_TYPES + MIGRATE_MOVABLE)).toBe(false);
  });

  it('asi=on: all memory but boot\'s reservations starts sensitive; GFP_KERNEL converts a pageblock, GFP_USER stays sensitive', () => {
    boot('mem=32M cpus=2 asi=on debug_vm');
    const z = zone();
    const user = alloc_pages(GFP_USER, 0)!;
    expect(get_pageblock_sensitive(user)).toBe(true);
    expect(get_pageblock_freetype(user)).toBe(migrate_to_freetype(MIGRATE_UNMOVABLE, true));
    const kern = alloc_pages(GFP_KERNEL, 0)!;
    expect(get_pageblock_sensitive(kern)).toBe(false);
    // Boot's reservations are nonsensitive; it converted only what its own GFP_KERNEL allocations needed.
    let nonsensitive = 0;
    for (let i = 0; i < z.pageblock_flags.length; i++) if (z.pageblock_flags[i] & NONSENSITIVE_MASK) nonsensitive++;
    expect(nonsensitive).toBe(vm('asi_pageblock_to_nonsensitive') + mm_init_state.asi_reserved_pageblocks);
    expect(nonsensitive).toBeLessThan(z.pageblock_flags.length / 2);
    // The order-0 pages went through this CPU's pcp lists of their sensitivity.
    const pcp = z.per_cpu_pageset[smp_processor_id()];
    __free_pages(user, 0);
    __free_pages(kern, 0);
    expect(pcp.lists_head[order_to_pindex(MIGRATE_TYPES + MIGRATE_UNMOVABLE, 0)]).toBe(user);
    expect(pcp.lists_head[order_to_pindex(MIGRATE_UNMOVABLE, 0)]).toBe(kern);
    expect(page_alloc_invariant_violations()).toEqual([]);
  });

  it('a pageblock that becomes nonsensitive is zeroed first: nothing written while sensitive shows', () => {
    /*
     *  GFP_HIGHUSER_MOVABLE order 9 at B: write a secret in every page, free
     *  GFP_KERNEL order 9 until the allocator converts B: B reads all zero
     */
    boot('mem=32M cpus=2 asi=on');
    const b = alloc_pages(GFP_HIGHUSER_MOVABLE, pageblock_order)!;
    expect(get_pageblock_sensitive(b)).toBe(true);
    for (let p = b; p < b + pageblock_nr_pages; p++) this_cpu().store32(page_address(p) + 8, 0x5ec2e7);
    __free_pages(b, pageblock_order);
    const got: number[] = [];
    while (get_pageblock_sensitive(b)) {
      const p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, pageblock_order);
      if (p === null) break;
      got.push(p);
    }
    expect(get_pageblock_sensitive(b)).toBe(false);
    for (let p = b; p < b + pageblock_nr_pages; p++) expect(this_cpu().load32(page_address(p) + 8)).toBe(0);
    for (const p of got) __free_pages(p, pageblock_order);
  });

  it('no buddy merge across sensitivity: two free order-9 buddies of different sensitivity stay apart', () => {
    /*
     *  order-10 block [ A | A^512 ]   A converted to nonsensitive, its buddy sensitive
     *  free A:        [ A (9, nonsensitive) | A^512 (9, sensitive) ]   not one order-10 block
     */
    boot('mem=32M cpus=2 asi=on debug_vm');
    // Take nonsensitive pageblocks until one was split off a sensitive order-10 block.
    const held: number[] = [];
    let a = -1;
    for (let i = 0; i < 16 && a < 0; i++) {
      const p = alloc_pages(GFP_KERNEL, pageblock_order)!;
      const b = p ^ pageblock_nr_pages;
      if (get_pageblock_sensitive(b) && PageBuddy(b) && buddy_order(b) === pageblock_order) a = p;
      else held.push(p);
    }
    expect(a).toBeGreaterThanOrEqual(0);
    const buddy = a ^ pageblock_nr_pages;
    expect(get_pageblock_sensitive(a)).toBe(false);
    __free_pages(a, pageblock_order);
    expect(PageBuddy(a) && buddy_order(a) === pageblock_order).toBe(true);
    expect(PageBuddy(buddy) && buddy_order(buddy) === pageblock_order).toBe(true);
    expect(page_alloc_invariant_violations()).toEqual([]);
    for (const p of held) __free_pages(p, pageblock_order);
  });

  it('ALLOC_NOBLOCK: GFP_ATOMIC never converts a pageblock; GFP_KERNEL then does', () => {
    boot('mem=32M cpus=2 asi=on');
    const conv = vm('asi_pageblock_to_nonsensitive');
    const got: number[] = [];
    for (;;) {
      const p = alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 0);
      if (p === null) break;
      got.push(p);
    }
    expect(got.length).toBeGreaterThan(0);   // the nonsensitive free pages boot left
    expect(vm('asi_pageblock_to_nonsensitive')).toBe(conv);
    const p = alloc_pages(GFP_KERNEL, 0)!;
    expect(get_pageblock_sensitive(p)).toBe(false);
    expect(vm('asi_pageblock_to_nonsensitive')).toBe(conv + 1);
    got.push(p);
    for (const q of got) __free_pages(q, 0);
  });

  it('asi=off: no sensitive free list, pcp list or pageblock bit is ever used, and no conversion', () => {
    boot('mem=32M cpus=2 debug_vm');
    const z = zone();
    const held = [alloc_pages(GFP_USER, 0)!, alloc_pages(GFP_HIGHUSER_MOVABLE, 3)!, alloc_pages(GFP_KERNEL, 5)!];
    for (let order = 0; order < NR_PAGE_ORDERS; order++)
      for (let ft = MIGRATE_TYPES; ft < 2 * MIGRATE_TYPES; ft++) expect(z.free_list_head[free_list_index(order, ft)]).toBe(-1);
    for (const pcp of z.per_cpu_pageset)
      for (let p = NR_PCP_LISTS_PER_SENSITIVITY; p < NR_PCP_LISTS; p++) expect(pcp.lists_head[p]).toBe(-1);
    for (let i = 0; i < z.pageblock_flags.length; i++) expect(z.pageblock_flags[i] & NONSENSITIVE_MASK).toBe(0);
    expect(get_pageblock_freetype(held[0])).toBeLessThan(MIGRATE_TYPES);
    expect(vm('asi_pageblock_to_nonsensitive') + vm('asi_pageblock_to_sensitive')).toBe(0);
    __free_pages(held[0], 0);
    __free_pages(held[1], 3);
    __free_pages(held[2], 5);
    expect(mem_map.max_pfn).toBe(8192);
  });

  it('same command line, same sequence: identical counters and pageblock flags with asi=on', () => {
    const once = (): string => {
      boot('mem=32M cpus=2 asi=on seed=3');
      const held: [number, number][] = [];
      for (let i = 0; i < 300; i++) {
        const order = i % 5 === 0 ? pageblock_order : i % 4;
        const g = i % 3 === 0 ? GFP_HIGHUSER_MOVABLE : GFP_KERNEL;
        const p = alloc_pages(g | __GFP_NOWARN, order);
        if (p !== null) held.push([p, order]);
        if (i % 7 === 3 && held.length) {
          const [q, o] = held.splice(i % held.length, 1)[0];
          __free_pages(q, o);
        }
      }
      const out = JSON.stringify([all_vmstat(), Array.from(zone().pageblock_flags)]);
      for (const [q, o] of held) __free_pages(q, o);
      k!.shutdown();
      k = null;
      return out;
    };
    const a = once();
    expect(once()).toBe(a);
    expect(a).toMatch(/"asi_pageblock_to_sensitive":[1-9]/);
  });
});
