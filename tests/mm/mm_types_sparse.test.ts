/*
 * mem_map in sections that grow with use (mm/mm_types.ts): a fresh page is
 * all zeros, boot writes O(blocks) struct pages, and a 64 GiB machine costs
 * the host only what its kernel touched.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../init/main.ts';
import {
  mem_map, mem_map_init, PAGES_PER_SECTION, page_ref_count, page_mapcount, page_mapcount_word, compound_head,
  page_private, page_owner_order, set_page_owner_order, page_lru_next, set_page_lru_next, set_page_private,
  present_section,
} from '../../mm/mm_types.ts';
import { PageBuddy, PageReserved } from '../../mm/page_flags.ts';
import { memblock, memblock_reserved_pages } from '../../mm/memblock.ts';
import { alloc_pages, __free_pages, page_alloc_shutdown } from '../../mm/page_alloc.ts';
import { GFP_KERNEL } from '../../mm/gfp.ts';

const MiB = 2 ** 20;

/** process RSS, after a full GC when the host exposes one (node --expose-gc). */
function rss(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
  return process.memoryUsage().rss;
}

describe('mm_sparse', () => {
  it('reads an untouched page as a fresh free page without allocating its section', () => {
    mem_map_init(4 * PAGES_PER_SECTION);
    const p = PAGES_PER_SECTION + 5;
    expect([page_ref_count(p), page_mapcount(p), page_mapcount_word(p), page_private(p)]).toEqual([0, 0, -1, 0]);
    expect([page_lru_next(p), page_owner_order(p), compound_head(p)]).toEqual([-1, -1, p]);
    expect(PageBuddy(p) || PageReserved(p)).toBe(false);
    // Writing what a fresh page holds allocates nothing either.
    set_page_lru_next(p, -1);
    set_page_owner_order(p, -1);
    expect(mem_map.nr_sections_present).toBe(0);
    // A section's first page lives outside the section until another page is written.
    set_page_private(2 * PAGES_PER_SECTION, 10);
    expect(mem_map.nr_sections_present).toBe(0);
    set_page_owner_order(2 * PAGES_PER_SECTION + 1, 0);
    expect(mem_map.nr_sections_present).toBe(1);
    expect(present_section(2 * PAGES_PER_SECTION)).toBeDefined();
    expect(page_private(2 * PAGES_PER_SECTION)).toBe(10); // moved in with the section
    expect(page_owner_order(2 * PAGES_PER_SECTION + 1)).toBe(0);
  });

  it('boots mem=64G cpus=64 writing O(blocks) struct pages and under 64 MiB of host RSS', () => {
    const before = rss();
    const k = start_kernel('mem=64G cpus=64');
    const grown = rss() - before;
    const sections = mem_map.mem_section.length;
    expect(sections).toBe(64 * 1024 / 4);
    // Only sections boot's reservations fall in are allocated: the free blocks' heads are dense.
    const bound = Math.ceil(memblock_reserved_pages() / PAGES_PER_SECTION) + 2 * memblock.reserved.length + 2;
    expect(mem_map.nr_sections_present).toBeLessThanOrEqual(bound);
    expect(mem_map.nr_sections_present).toBeLessThan(sections / 16);
    expect(grown).toBeLessThan(64 * MiB);
    expect(k.shutdown().leaked).toEqual([]);
  });

  it('still reports a leak on a 64 GiB machine, scanning only what was written', () => {
    const k = start_kernel('mem=64G cpus=1');
    // What the booted kernel itself holds (page tables, per-CPU data) is in use too: the difference counts.
    const r0 = page_alloc_shutdown();
    const p = alloc_pages(GFP_KERNEL, 3)!;
    const q = alloc_pages(GFP_KERNEL, 10)!; // a whole section, possibly one never written before
    const r = page_alloc_shutdown();
    const pages = (first: number, nr: number): number[] => Array.from({ length: nr }, (_, i) => first + i);
    const held = new Set(r0.leaked);
    expect(r.leaked.filter((x) => !held.has(x))).toEqual([...pages(p, 8), ...pages(q, 1024)].sort((a, b) => a - b));
    const owned = new Set(r0.leaked_allocations.map((a) => a.pfn));
    expect(r.leaked_allocations.filter((a) => !owned.has(a.pfn)))
      .toEqual([{ pfn: p, order: 3 }, { pfn: q, order: 10 }].sort((a, b) => a.pfn - b.pfn));
    __free_pages(p, 3);
    __free_pages(q, 10);
    expect(k.shutdown().leaked).toEqual([]);
  });
});
