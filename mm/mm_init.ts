/*
 * mm/mm_init.ts - building mem_map and the zone, and starting the page allocator.
 *
 * Mirrors mm/mm_init.c (free_area_init, memmap_init, init_unavailable_range,
 * mm_core_init, mem_init_print_info), the memmap allocation of
 * mm/sparse.c (sparse_init), and from mm/page_alloc.c the watermark setup
 * (calculate_min_free_kbytes, setup_per_zone_wmarks) and
 * setup_per_cpu_pageset.
 *
 * Boot order (the lead's start_kernel):
 *   smp_init_machine(m); vmstat_init();         // this_cpu() and the counters first
 *   memblock_init(); memblock_add(0, mem);
 *   memblock_reserve(...)                       // low 1 MiB, kernel image
 *   memblock_phys_alloc(4096, 4096) ...         // early page tables
 *   mm_core_init(params);                       // mem_map, zone, memblock_free_all, pcp
 * after which alloc_pages() works and memblock refuses further allocations.
 *
 * The memmap: Linux's struct page is 64 bytes and lives in RAM; here it is
 * typed arrays on the host (mm_types.ts), but free_area_init still reserves
 * 64 bytes per page of simulated RAM for it through memblock, as sparse_init
 * does, so MemTotal comes out as Linux's would.
 *
 * Struct page init is O(blocks), as deferred struct page init makes it in
 * Linux: mem_map starts as fresh free pages (mm_types.ts), memmap_init
 * writes only holes and pageblock flags, memblock_free_all only reserved
 * pages and the head of each free block (__free_pages_core).
 *
 * Simplified: one node, one zone (ZONE_NORMAL from pfn 0 to the end of
 * memblock.memory); no deferred-init kthreads (nothing is left for later:
 * the rest of a block is never written at boot), no zone lowmem_reserve,
 * no watermark_boost_factor; high auto-tuning is off (pcp.ts).
 */
import { PAGE_SIZE, PAGE_ALIGN } from '../arch/x86/include/asm/page_types.ts';
import { mem_map_init, PFN_UP, PFN_DOWN, init_page_count } from './mm_types.ts';
import { SetPageReserved } from './page_flags.ts';
import { Zone, contig_page_data, pageblock_nr_pages, set_pageblock_migratetype, MIGRATE_MOVABLE,
  page_alloc_asi, get_pageblock_sensitive, set_pageblock_sensitive,
  WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO } from './mmzone.ts';
import { memblock, memblock_end_of_DRAM, memblock_phys_alloc, memblock_free_all, memblock_phys_mem_size } from './memblock.ts';
import { setup_zone_pageset, zone_set_pageset_high_and_batch } from './pcp.ts';
import { charge_touched } from './page_alloc_free.ts';
import { page_alloc_debug_init, page_alloc_record_boot_state, check_page_alloc_invariants, nr_free_pages,
  totalram_pages } from './page_alloc_debug.ts';
import { fail_page_alloc_init } from './fail_page_alloc.ts';
import { failslab_init } from './failslab.ts';
import { vm_debug, vm_debug_init } from './debug.ts';
import { default_kernel_params, type KernelParams } from '../kernel/params.ts';
import { BUG } from '../kernel/panic.ts';
import { pr_info } from '../kernel/printk.ts';

/** sizeof(struct page) on x86-64. */
export const STRUCT_PAGE_SIZE = 64;
/** watermark_scale_factor sysctl default (in 1/10000 of managed pages). */
export const WATERMARK_SCALE_FACTOR = 10;

export const mm_init_state = {
  /** ASI: pageblocks boot's reservations made nonsensitive (memblock_reserved_nonsensitive). */
  asi_reserved_pageblocks: 0,
  /** min_free_kbytes (vm.min_free_kbytes). */
  min_free_kbytes: 0,
  /** Physical address of the memmap reservation. */
  memmap_phys: 0,
};

/** init_unavailable_range's per-page work: __init_single_page (refcount 1), then PG_reserved. */
function init_unavailable_page(pfn: number): void {
  init_page_count(pfn);
  SetPageReserved(pfn);
}

/**
 * memmap_init: every pageblock starts MIGRATE_MOVABLE; pfns with no RAM
 * behind them (gaps in memblock.memory, partial pages at region edges) are
 * PG_reserved with one reference, as init_unavailable_range leaves them.
 */
function memmap_init(zone: Zone): void {
  for (let pfn = zone.zone_start_pfn; pfn < zone.zone_end_pfn(); pfn += pageblock_nr_pages)
    set_pageblock_migratetype(pfn, MIGRATE_MOVABLE);
  let next = zone.zone_start_pfn;
  let present = 0;
  for (const r of memblock.memory) {
    const start = PFN_UP(r.base);
    const end = Math.min(PFN_DOWN(r.base + r.size), zone.zone_end_pfn());
    if (start >= end) continue;
    for (let pfn = next; pfn < start; pfn++) init_unavailable_page(pfn);
    present += end - start;
    next = Math.max(next, end);
  }
  for (let pfn = next; pfn < zone.zone_end_pfn(); pfn++) init_unavailable_page(pfn);
  zone.present_pages = present;
}

/**
 * free_area_init: reserve the memmap, build mem_map and the zone with its
 * boot pagesets (pcp disabled until setup_per_cpu_pageset).
 */
export function free_area_init(): void {
  const end = memblock_end_of_DRAM();
  if (!end) BUG('free_area_init: memblock has no memory (memblock_add first)');
  const max_pfn = PFN_DOWN(end);
  const memmap_bytes = PAGE_ALIGN(max_pfn * STRUCT_PAGE_SIZE);
  const memmap = memblock_phys_alloc(memmap_bytes, PAGE_SIZE);
  if (!memmap) BUG('Failed to allocate %d bytes for the memmap', memmap_bytes);
  mm_init_state.memmap_phys = memmap;
  mem_map_init(max_pfn);
  const zone = new Zone(0, max_pfn);
  contig_page_data.node_zones = [zone];
  memmap_init(zone);
  setup_zone_pageset(zone);
}

/** calculate_min_free_kbytes: sqrt(lowmem_kbytes * 16), clamped to 128..262144. */
export function calculate_min_free_kbytes(): void {
  const lowmem_kbytes = totalram_pages() * (PAGE_SIZE >> 10);
  const v = Math.floor(Math.sqrt(lowmem_kbytes * 16));
  mm_init_state.min_free_kbytes = Math.min(Math.max(v, 128), 262144);
}

/** setup_per_zone_wmarks: min from min_free_kbytes; low, high, promo each a step above. */
export function setup_per_zone_wmarks(): void {
  const pages_min = mm_init_state.min_free_kbytes >> 2;   // >> (PAGE_SHIFT - 10)
  let lowmem_pages = 0;
  for (const z of contig_page_data.node_zones) lowmem_pages += z.managed_pages;
  for (const z of contig_page_data.node_zones) {
    let tmp = lowmem_pages ? Math.floor((pages_min * z.managed_pages) / lowmem_pages) : 0;
    z._watermark[WMARK_MIN] = tmp;
    tmp = Math.max(tmp >> 2, Math.floor((z.managed_pages * WATERMARK_SCALE_FACTOR) / 10000));
    z._watermark[WMARK_LOW] = z._watermark[WMARK_MIN] + tmp;
    z._watermark[WMARK_HIGH] = z._watermark[WMARK_LOW] + tmp;
    z._watermark[WMARK_PROMO] = z._watermark[WMARK_HIGH] + tmp;
  }
}

/** setup_per_cpu_pageset: real high/batch for every CPU's pcp. */
export function setup_per_cpu_pageset(): void {
  for (const z of contig_page_data.node_zones) zone_set_pageset_high_and_batch(z, 0);
}

/** mem_init_print_info, without the kernel section sizes (no kernel image to measure). */
function mem_init_print_info(): void {
  const physpages = PFN_DOWN(memblock_phys_mem_size());
  pr_info('Memory: %dK/%dK available (%dK reserved)', nr_free_pages() * (PAGE_SIZE >> 10),
    physpages * (PAGE_SIZE >> 10), (physpages - totalram_pages()) * (PAGE_SIZE >> 10));
}

/*
 * With ASI on, what boot reserved (the kernel image, the boot page tables,
 * mem_map) is kernel data, nonsensitive as the branch maps the kernel
 * image: its pageblocks are marked nonsensitive and mapped in
 * asi_nonsensitive_pgd before memblock_free_all() frees the rest of those
 * pageblocks onto the nonsensitive lists. Without this, a software walk of
 * init_mm's boot tables (vmalloc, the fault path) would exit ASI every time.
 * tskernel's choice: the series leaves boot memory to the allocator's
 * default (sensitive) and maps the image separately.
 */
function memblock_reserved_nonsensitive(): void {
  mm_init_state.asi_reserved_pageblocks = 0;
  for (const r of memblock.reserved) {
    const first = Math.floor(PFN_DOWN(r.base) / pageblock_nr_pages) * pageblock_nr_pages;
    for (let pb = first; pb < PFN_UP(r.base + r.size); pb += pageblock_nr_pages) {
      if (!get_pageblock_sensitive(pb)) continue;
      set_pageblock_sensitive(pb, false);
      mm_init_state.asi_reserved_pageblocks++;
      const set = page_alloc_asi.set_direct_map_sensitive;
      if (!set || set(pb, 1, false) < 0)
        BUG('memblock_reserved_nonsensitive: pfn %d is not in the restricted direct map', pb);
    }
  }
}

/**
 * mm_core_init: from memblock to a working page allocator. Applies
 * debug_vm, fail_page_alloc= and its knobs, failslab=, and seed= from `p`.
 */
export function mm_core_init(p: KernelParams = default_kernel_params()): void {
  vm_debug_init(p);
  fail_page_alloc_init(p);
  failslab_init(p);
  page_alloc_debug_init();
  free_area_init();
  mm_init_state.asi_reserved_pageblocks = 0;
  if (page_alloc_asi.enabled) memblock_reserved_nonsensitive();
  memblock_free_all();
  pr_info('Built 1 zonelists, mobility grouping on.  Total pages: %d', totalram_pages());
  calculate_min_free_kbytes();
  setup_per_zone_wmarks();
  setup_per_cpu_pageset();
  charge_touched();
  page_alloc_record_boot_state();
  mem_init_print_info();
  if (vm_debug.debug_vm) check_page_alloc_invariants();
}
