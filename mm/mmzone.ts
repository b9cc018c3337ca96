/*
 * mm/mmzone.ts - zones, free areas, migratetypes, pageblocks, pcp lists.
 *
 * Mirrors include/linux/mmzone.h (MAX_PAGE_ORDER, enum migratetype, struct
 * free_area, struct per_cpu_pages, struct zone, the watermarks),
 * include/linux/pageblock-flags.h (pageblock_order, enum pageblock_bits) and
 * the pageblock bitmap accessors of mm/page_alloc.c
 * (get_pfnblock_migratetype, set_pageblock_migratetype).
 *
 * One node and one zone: ZONE_NORMAL spans every pfn. ZONE_DMA, ZONE_DMA32,
 * ZONE_HIGHMEM, ZONE_MOVABLE, ZONE_DEVICE and NUMA are left out, and so are
 * MIGRATE_CMA and MIGRATE_ISOLATE (isolation is the PB_migrate_isolate bit in
 * recent kernels; it has a slot but nothing sets it). MIGRATE_HIGHATOMIC has
 * its free lists but no reserve is ever built.
 *
 * Free lists are flat typed arrays: free_area[order].free_list[type] is slot
 * `order * NR_FREETYPES + type` of free_list_head/free_list_tail; pages link
 * through mem_map.lru_next/lru_prev. ASI (asi.md 4.8.3) widens the type
 * index into a freetype = MIGRATE_TYPES * sensitive + migratetype: raising
 * NR_SENSITIVITIES to 2 doubles these arrays and the pcp lists, and
 * PB_nonsensitive (reserved below) records a pageblock's sensitivity.
 */
import { vm_event_item, vm_stat_item } from './vmstat.ts';
import { mem_map } from './mm_types.ts';

export const MAX_PAGE_ORDER = 10;
export const NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;
export const MAX_ORDER_NR_PAGES = 1 << MAX_PAGE_ORDER;
export const PAGE_ALLOC_COSTLY_ORDER = 3;

/* enum migratetype */
export const MIGRATE_UNMOVABLE = 0;
export const MIGRATE_MOVABLE = 1;
export const MIGRATE_RECLAIMABLE = 2;
export const MIGRATE_PCPTYPES = 3;        // the number of types on the pcp lists
export const MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES;
export const MIGRATE_TYPES = 4;

/** migratetype_names (mm/vmstat.c), and the show_migration_types letters. */
export const migratetype_names: readonly string[] = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic'];
export const migratetype_letters: readonly string[] = ['U', 'M', 'E', 'H'];

/** migratetype_is_mergeable: blocks of these types may merge across pageblocks. */
export function migratetype_is_mergeable(mt: number): boolean {
  return mt < MIGRATE_PCPTYPES;
}

/*
 * Sensitivity (ASI, not compiled in yet): 1 here, 2 once ASI splits the
 * free lists. A freetype is then MIGRATE_TYPES * sensitive + migratetype,
 * free_to_migratetype(ft) = ft % MIGRATE_TYPES and freetype_sensitive(ft) =
 * ft / MIGRATE_TYPES; with one sensitivity, freetype == migratetype.
 */
export const NR_SENSITIVITIES = 1;
export const NR_FREETYPES = MIGRATE_TYPES * NR_SENSITIVITIES;

/* Pageblocks (pageblock-flags.h): 2 MiB on x86-64. */
export const pageblock_order = 9;
export const pageblock_nr_pages = 1 << pageblock_order;

/* enum pageblock_bits: one byte per pageblock (NR_PAGEBLOCK_BITS rounds up to 8). */
export const PB_migrate_0 = 0;
export const PB_migrate_1 = 1;
export const PB_migrate_2 = 2;
/** ASI: set when the pageblock is mapped in the restricted address space (0 = sensitive). Unused until ASI. */
export const PB_nonsensitive = 3;
export const PB_compact_skip = 4;
export const PB_migrate_isolate = 5;
export const __NR_PAGEBLOCK_BITS = 6;
export const NR_PAGEBLOCK_BITS = 8;
export const MIGRATETYPE_MASK = (1 << (PB_migrate_2 + 1)) - 1;
export const NONSENSITIVE_MASK = 1 << PB_nonsensitive;

export function pageblock_start_pfn(pfn: number): number {
  return pfn - (pfn & (pageblock_nr_pages - 1));
}
export function pageblock_end_pfn(pfn: number): number {
  return pageblock_start_pfn(pfn) + pageblock_nr_pages;
}

/* Per-CPU page lists: one per migratetype for orders 0..PAGE_ALLOC_COSTLY_ORDER (no THP list). */
export const NR_PCP_LISTS_PER_SENSITIVITY = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1);
export const NR_PCP_LISTS = NR_PCP_LISTS_PER_SENSITIVITY * NR_SENSITIVITIES;
/** CONFIG_PCP_BATCH_SCALE_MAX default. */
export const CONFIG_PCP_BATCH_SCALE_MAX = 5;

export function pcp_allowed_order(order: number): boolean {
  return order <= PAGE_ALLOC_COSTLY_ORDER;
}
export function order_to_pindex(migratetype: number, order: number): number {
  return MIGRATE_PCPTYPES * order + migratetype;
}
export function pindex_to_order(pindex: number): number {
  return (pindex / MIGRATE_PCPTYPES) | 0;
}

/** struct per_cpu_pages. The lists are pfn lists through mem_map.lru_*. */
export class PerCpuPages {
  /** Pages (not entries) on the lists: an order-n entry counts 1 << n. */
  count = 0;
  /** Drain to the buddy lists when count reaches high. */
  high = 0;
  high_min = 0;
  high_max = 0;
  /** Chunk size for buddy list refills and drains. */
  batch = 1;
  /** Refill scaling: grows with consecutive allocations, halves on each free (nr_pcp_alloc). */
  alloc_factor = 0;
  /** Pages freed since the last allocation, scaled (nr_pcp_free). */
  free_count = 0;
  readonly lists_head = new Int32Array(NR_PCP_LISTS).fill(-1);
  readonly lists_tail = new Int32Array(NR_PCP_LISTS).fill(-1);
}

/* enum zone_watermarks */
export const WMARK_MIN = 0;
export const WMARK_LOW = 1;
export const WMARK_HIGH = 2;
export const WMARK_PROMO = 3;

/** struct zone, the parts the page allocator uses. */
export class Zone {
  readonly name = 'Normal';
  readonly zone_start_pfn: number;
  readonly spanned_pages: number;
  /** Pages with RAM behind them (memblock.memory). */
  present_pages = 0;
  /** Pages the buddy allocator manages: given to it at boot or by free_reserved_page. */
  managed_pages = 0;
  readonly _watermark = [0, 0, 0, 0];
  /** free_area[order].free_list[freetype]: first and last pfn, -1 if empty. */
  readonly free_list_head = new Int32Array(NR_PAGE_ORDERS * NR_FREETYPES).fill(-1);
  readonly free_list_tail = new Int32Array(NR_PAGE_ORDERS * NR_FREETYPES).fill(-1);
  /** free_area[order].nr_free: free blocks of that order, all types. */
  readonly nr_free = new Int32Array(NR_PAGE_ORDERS);
  /** pageblock_flags: one byte (enum pageblock_bits) per pageblock. */
  readonly pageblock_flags: Uint8Array;
  /** per_cpu_pageset, indexed by CPU. */
  per_cpu_pageset: PerCpuPages[] = [];

  constructor(start_pfn: number, spanned: number) {
    this.zone_start_pfn = start_pfn;
    this.spanned_pages = spanned;
    this.pageblock_flags = new Uint8Array(Math.ceil(spanned / pageblock_nr_pages));
  }

  zone_end_pfn(): number {
    return this.zone_start_pfn + this.spanned_pages;
  }

  zone_spans_pfn(pfn: number): boolean {
    return pfn >= this.zone_start_pfn && pfn < this.zone_end_pfn();
  }
}

export function free_list_index(order: number, freetype: number): number {
  return order * NR_FREETYPES + freetype;
}

export function low_wmark_pages(z: Zone): number {
  return z._watermark[WMARK_LOW];
}

/** contig_page_data (!CONFIG_NUMA): the one node and its zone. Rebuilt by free_area_init(). */
export const contig_page_data = {
  node_id: 0,
  node_zones: [] as Zone[],
};

export const ZONE_NORMAL = 0;

/** page_zone: the zone of a page (the only zone). */
export function page_zone(_page: number): Zone {
  return contig_page_data.node_zones[ZONE_NORMAL];
}

/* ---- pageblock flags (page_alloc.c: get_pfnblock_flags_mask and friends) ---- */

export function get_pfnblock_flags(pfn: number): number {
  const z = contig_page_data.node_zones[ZONE_NORMAL];
  return z.pageblock_flags[(pfn - z.zone_start_pfn) >>> pageblock_order];
}

/** get_pfnblock_migratetype / get_pageblock_migratetype. */
export function get_pfnblock_migratetype(_page: number, pfn: number): number {
  mem_map.touched++;
  return get_pfnblock_flags(pfn) & MIGRATETYPE_MASK;
}
export function get_pageblock_migratetype(pfn: number): number {
  return get_pfnblock_flags(pfn) & MIGRATETYPE_MASK;
}

/** set_pageblock_migratetype: the other bits of the block are kept. */
export function set_pageblock_migratetype(pfn: number, mt: number): void {
  const z = contig_page_data.node_zones[ZONE_NORMAL];
  const i = (pfn - z.zone_start_pfn) >>> pageblock_order;
  z.pageblock_flags[i] = (z.pageblock_flags[i] & ~MIGRATETYPE_MASK) | mt;
}

/* ---- counters (/proc/vmstat names) ---- */

/** NR_FREE_PAGES (zone_stat_item): pages on the buddy free lists; pcp pages are not counted. */
export const NR_FREE_PAGES = vm_stat_item('nr_free_pages');
/** PGALLOC_NORMAL: pages allocated from ZONE_NORMAL (1 << order per allocation). */
export const PGALLOC_NORMAL = vm_event_item('pgalloc_normal');
/** PGFREE: pages freed (to pcp or buddy). */
export const PGFREE = vm_event_item('pgfree');
