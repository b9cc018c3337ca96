/*
 * tests/mm/memblock.test.ts - boot-time memory and its hand-over to the buddy allocator.
 *
 * KUnit-style cases for mm/memblock.ts and mm/mm_init.ts, in the spirit of
 * tools/testing/memblock: region merging and splitting, top-down and
 * bottom-up allocation, exhaustion, and memblock_free_all freeing each free
 * range in the largest aligned blocks with reserved pages and holes marked.
 */
import { describe, it, expect, beforeEach } from 'vitest';
import '../../init/params_owners.ts';
import { Machine } from '../../arch/x86/hw/smp.ts';
import { smp_init_machine } from '../../kernel/smp.ts';
import { printk_init, dmesg } from '../../kernel/printk.ts';
import { panic_init, warn_state } from '../../kernel/panic.ts';
import { parse_kernel_params } from '../../kernel/params.ts';
import { vmstat_init } from '../../mm/vmstat.ts';
import {
  memblock, memblock_init, memblock_add, memblock_remove, memblock_reserve, memblock_phys_free, memblock_phys_alloc,
  memblock_phys_alloc_range, memblock_set_bottom_up, memblock_set_current_limit, memblock_phys_mem_size,
  memblock_reserved_size, memblock_reserved_pages, memblock_free_ranges, memblock_is_reserved, memblock_is_memory,
  memblock_is_region_reserved, memblock_end_of_DRAM, memblock_start_of_DRAM,
} from '../../mm/memblock.ts';
import { mm_core_init, totalram_pages, meminfo, alloc_pages, __free_pages, page_alloc_shutdown } from '../../mm/page_alloc.ts';
import { free_area_nr_free, check_page_alloc_invariants } from '../../mm/page_alloc_debug.ts';
import { contig_page_data } from '../../mm/mmzone.ts';
import { page_ref_count, mem_map } from '../../mm/mm_types.ts';
import { PageReserved } from '../../mm/page_flags.ts';
import { GFP_KERNEL, __GFP_NOWARN } from '../../mm/gfp.ts';

const K = 1024;
const M = 1024 * 1024;

function machine_only(mem: number): void {
  const m = new Machine({ mem_bytes: mem, nr_cpus: 1 });
  smp_init_machine(m);
  printk_init();
  panic_init();
  vmstat_init();
  memblock_init();
}

const regions = (t: typeof memblock.memory): string[] => t.map((r) => `${r.base.toString(16)}+${r.size.toString(16)}`);

describe('mm_memblock', () => {
  beforeEach(() => machine_only(32 * M));

  it('merges adjacent and overlapping regions, splits on remove and free', () => {
    memblock_add(0, M);
    memblock_add(2 * M, M);
    memblock_add(M, M);                                 // fills the gap: one region
    expect(regions(memblock.memory)).toEqual(['0+300000']);
    memblock_remove(0x100000, 0x1000);                  // punch a hole
    expect(regions(memblock.memory)).toEqual(['0+100000', '101000+1ff000']);
    memblock_reserve(0x1000, 0x1000);
    memblock_reserve(0x1800, 0x2000);                   // overlaps: union
    memblock_reserve(0x8000, 0x1000);
    expect(regions(memblock.reserved)).toEqual(['1000+2800', '8000+1000']);
    memblock_phys_free(0x2000, 0x800);                  // split a reservation
    expect(regions(memblock.reserved)).toEqual(['1000+1000', '2800+1000', '8000+1000']);
    expect(memblock_phys_mem_size()).toBe(3 * M - 0x1000);
    expect(memblock_reserved_size()).toBe(0x3000);
    expect(memblock_is_reserved(0x2900)).toBe(true);
    expect(memblock_is_reserved(0x2000)).toBe(false);
    expect(memblock_is_memory(0x100800)).toBe(false);
    expect(memblock_is_region_reserved(0x3700, 0x200)).toBe(true);
    expect(memblock_is_region_reserved(0x3800, 0x800)).toBe(false);
    expect([memblock_start_of_DRAM(), memblock_end_of_DRAM()]).toEqual([0, 3 * M]);
    expect(memblock_free_ranges()).toEqual([[0, 0x1000], [0x2000, 0x2800], [0x3800, 0x8000], [0x9000, 0x100000],
      [0x101000, 0x300000]]);
  });

  it('allocates top-down by default, bottom-up on request, aligned, never page 0', () => {
    memblock_add(0, 16 * M);
    memblock_reserve(0, M);
    /*
     *  0      1M                                 14M         16M
     *  [resv ]...................................[C].......[B][A]   top-down
     */
    expect(memblock_phys_alloc(4096, 4096)).toBe(16 * M - 4096);          // A
    expect(memblock_phys_alloc(4096, 4096)).toBe(16 * M - 8192);          // B
    expect(memblock_phys_alloc(4096, 2 * M)).toBe(14 * M);                // C: 2 MiB aligned
    expect(memblock_is_reserved(14 * M)).toBe(true);
    memblock_set_bottom_up(true);
    expect(memblock_phys_alloc(8192, 4096)).toBe(M);                      // lowest free
    expect(memblock_phys_alloc(4096, 64 * K)).toBe(M + 64 * K);
    memblock_phys_free(0, M);
    expect(memblock_phys_alloc(4096, 4096)).toBe(4096);                   // page 0 is never handed out
    memblock_set_bottom_up(false);
    memblock_set_current_limit(8 * M);
    expect(memblock_phys_alloc(4096, 4096)).toBe(8 * M - 4096);
    expect(memblock_phys_alloc_range(4096, 4096, 2 * M, 3 * M)).toBe(3 * M - 4096);
  });

  it('returns 0 when nothing fits, and WARNs on bad input', () => {
    memblock_add(0, 4 * M);
    expect(memblock_phys_alloc(8 * M, 4096)).toBe(0);
    const w = warn_state.count;
    expect(memblock_add(-4096, 4096)).toBe(-22);
    expect(memblock_reserve(0.5, 4096)).toBe(-22);
    expect(memblock_phys_alloc(4096, 3000)).toBe(0);                      // not a power of two
    expect(memblock_phys_alloc(0, 4096)).toBe(0);
    expect(warn_state.count).toBe(w + 4);
    expect(memblock_phys_alloc(100, 0)).toBe(4 * M - 128);                // align 0: SMP_CACHE_BYTES
    // Exhaust it: 4 MiB less page 0 less 128 bytes, in pages.
    let n = 0;
    while (memblock_phys_alloc(4096, 4096)) n++;
    expect(n).toBe(1024 - 2);
  });

  it('frees each free range in the largest aligned blocks; partial pages stay reserved', () => {
    memblock_add(0, 32 * M);
    memblock_reserve(0, 0x2800);                      // pfns 0, 1 and half of 2
    memblock_reserve(40 * 4096 + 0x10, 16 * M - (40 * 4096 + 0x10));   // from inside pfn 40 to 16 MiB
    mm_core_init(parse_kernel_params('debug_vm', { host_totalmem: 2 ** 36 }));
    /*
     *  pfn  0 1 2 | 3 | 4..7 | 8..15 | 16..31 | 32..39 | 40 ...
     *       reserved  o0   o2     o3       o4       o3    reserved (to 16 MiB)
     *  then 16 MiB..32 MiB less the 512 KiB memmap at the top: 3 x o10, o9, o8, o7
     */
    expect(free_area_nr_free()).toEqual([1, 0, 1, 2, 1, 0, 0, 1, 1, 1, 3]);
    expect([PageReserved(2), PageReserved(3), PageReserved(39), PageReserved(40)]).toEqual([true, false, false, true]);
    expect([page_ref_count(2), page_ref_count(3), page_ref_count(40)]).toEqual([1, 0, 1]);
    expect(totalram_pages()).toBe(37 + 4096 - 128);
    expect(meminfo().MemTotal).toBe((37 + 4096 - 128) * 4);
    expect(memblock_reserved_pages()).toBe(3 + (4096 - 40) + 128);
    expect(dmesg()).toMatch(/Memory: 16020K\/32768K available \(16748K reserved\)/);
    check_page_alloc_invariants();
    // memblock is done: the buddy allocator owns memory now.
    const w = warn_state.count;
    expect(memblock_phys_alloc(4096, 4096)).toBe(0);
    expect(memblock_reserve(0x100000, 4096)).toBe(-22);
    expect(warn_state.count).toBe(w + 2);
    const p = alloc_pages(GFP_KERNEL, 0)!;
    __free_pages(p, 0);
    expect(page_alloc_shutdown()).toMatchObject({ leaked: [], fully_merged: true });
  });

  it('leaves holes between memory regions reserved and out of the allocator', () => {
    memblock_add(0, 8 * M);
    memblock_add(12 * M, 20 * M);
    memblock_reserve(0, M);
    // Without debug_vm: ~7000 allocations; the checker runs once at the end.
    mm_core_init(parse_kernel_params('', { host_totalmem: 2 ** 36 }));
    const zone = contig_page_data.node_zones[0];
    expect(zone.spanned_pages).toBe(8192);
    expect(zone.present_pages).toBe(7168);
    expect(PageReserved((8 * M) / 4096)).toBe(true);
    expect(PageReserved((12 * M) / 4096 - 1)).toBe(true);
    expect(PageReserved((12 * M) / 4096)).toBe(false);
    expect(totalram_pages()).toBe(7168 - 256 - 128);   // less the low 1 MiB and the memmap
    // Nothing the allocator hands out lies in the hole.
    const got: number[] = [];
    for (let p = alloc_pages(GFP_KERNEL, 0); p !== null; p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0)) got.push(p);
    expect(got.length).toBe(totalram_pages());
    expect(got.some((p) => p >= 2048 && p < 3072)).toBe(false);
    check_page_alloc_invariants();
    for (const p of got) __free_pages(p, 0);
    check_page_alloc_invariants();
    expect(mem_map.max_pfn).toBe(8192);
    expect(page_alloc_shutdown()).toMatchObject({ leaked: [], fully_merged: true });
  });
});
