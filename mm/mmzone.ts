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
 * through mem_map.lru_next/lru_prev.
 *
 * ASI (asi.md 4.8.3, the Sep 2025 series "mm: ASI direct map management"):
 * free lists and pcp lists are indexed by a freetype, MIGRATE_TYPES *
 * sensitive + migratetype, so NR_SENSITIVITIES = 2 doubles them, and
 * PB_nonsensitive records a pageblock's sensitivity (0 = sensitive, so the
 * zeroed bitmap of a fresh boot is all sensitive). When ASI is off at
 * runtime, sensitivity is forced false and every freetype equals its
 * migratetype, as in a kernel built without ASI.
 * Simplified against the series: freetype_t is a plain number (Linux wraps
 * it in a struct so the compiler tells freetypes from migratetypes); the
 * runtime switch is page_alloc_asi below, not a static key.
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
 * Sensitivity (CONFIG_MITIGATION_ADDRESS_SPACE_ISOLATION=y): a freetype is
 * MIGRATE_TYPES * sensitive + migratetype; free_to_migratetype(ft) =
 * ft % MIGRATE_TYPES and freetype_sensitive(ft) = ft / MIGRATE_TYPES.
 */
export const NR_SENSITIVITIES = 2;
export const NR_FREETYPES = MIGRATE_TYPES * NR_SENSITIVITIES;

/** freetype_t: which free lists a block lives on (see the file comment). */
export type freetype_t = number;

/**
 * The allocator's view of X86_FEATURE_ASI (static_asi_enabled() in the
 * series). Turned on or off for each boot by the restricted direct map's
 * setup (asi_nonsensitive_pgd_init / _reset in
 * arch/x86/mm/asi_direct_map.ts, from init_mem_mapping, before
 * mm_core_init). set_direct_map_sensitive is registered by
 * arch/x86/mm/pat/set_memory.ts when it loads: mm/ calls down into x86
 * through it without importing arch code.
 */
export const page_alloc_asi = {
  enabled: false,
  /** MIGRATE_TYPES with ASI on, 0 off: the freetype offset of a sensitive block. */
  ft_sensitive: 0,
  /**
   * set_direct_map_sensitive(page, nr_pageblocks, sensitive): map or unmap
   * pageblocks in asi_nonsensitive_pgd; 0 or -errno.
   */
  set_direct_map_sensitive: null as ((page: number, nr_pageblocks: number, sensitive: boolean) => number) | null,
};

/** Turn the allocator's sensitivity on or off (each boot, before mm_core_init). */
export function page_alloc_asi_init(enabled: boolean): void {
  page_alloc_asi.enabled = enabled;
  page_alloc_asi.ft_sensitive = enabled ? MIGRATE_TYPES : 0;
}

/** Called once by arch/x86/mm/pat/set_memory.ts. */
export function register_set_direct_map_sensitive(fn: (page: number, nr_pageblocks: number, sensitive: boolean) => number): void {
  page_alloc_asi.set_direct_map_sensitive = fn;
}

/** migrate_to_freetype: sensitivity is forced false when ASI is off. */
export function migrate_to_freetype(migratetype: number, sensitive: boolean): freetype_t {
  return sensitive ? migratetype + page_alloc_asi.ft_sensitive : migratetype;
}

/** free_to_migratetype: the migratetype part of a freetype. */
export function free_to_migratetype(ft: freetype_t): number {
  return ft & (MIGRATE_TYPES - 1);
}

/** freetype_sensitive: the sensitivity part of a freetype. */
export function freetype_sensitive(ft: freetype_t): boolean {
  return ft >= MIGRATE_TYPES;
}

/** The freetype of the other sensitivity, same migratetype (ASI on only). */
export function freetype_opposite(ft: freetype_t): freetype_t {
  return ft ^ MIGRATE_TYPES;
}

/**
 * can_merge_freetypes: may buddies of these freetypes merge across a
 * pageblock boundary? Never across sensitivity (the merged block would be
 * half mapped in the restricted address space); otherwise as
 * migratetype_is_mergeable says.
 */
export function can_merge_freetypes(a: freetype_t, b: freetype_t): boolean {
  if (a === b) return true;
  if (freetype_sensitive(a) !== freetype_sensitive(b)) return false;
  return migratetype_is_mergeable(free_to_migratetype(a)) && migratetype_is_mergeable(free_to_migratetype(b));
}

/* Pageblocks (pageblock-flags.h): 2 MiB on x86-64. */
export const pageblock_order = 9;
export const pageblock_nr_pages = 1 << pageblock_order;

/* enum pageblock_bits: one byte per pageblock (NR_PAGEBLOCK_BITS rounds up to 8). */
export const PB_migrate_0 = 0;
export const PB_migrate_1 = 1;
export const PB_migrate_2 = 2;
/** ASI: set when the pageblock is mapped in the restricted address space (0 = sensitive). */
export const PB_nonsensitive = 3;
export const PB_compact_skip = 4;
export const PB_migrate_isolate = 5;
export const __NR_PAGEBLOCK_BITS = 6;
export const NR_PAGEBLOCK_BITS = 8;
export const MIGRATETYPE_MASK = (1 << (PB_migrate_2 + 1)) - 1;
export const NONSENSITIVE_MASK = 1 << PB_nonsensitive;
/** PAGEBLOCK_FREETYPE_MASK (no ISO_MASK: isolation is not modelled). */
export const PAGEBLOCK_FREETYPE_MASK = MIGRATETYPE_MASK | NONSENSITIVE_MASK;

export function pageblock_start_pfn(pfn: number): number {
  return pfn - (pfn & (pageblock_nr_pages - 1));
}
export function pageblock_end_pfn(pfn: number): number {
  return pageblock_start_pfn(pfn) + pageblock_nr_pages;
}

/*
 * Per-CPU page lists: one per migratetype for orders 0..PAGE_ALLOC_COSTLY_ORDER
 * (no THP list), per sensitivity: the nonsensitive lists first, so with ASI
 * off only pindex < NR_PCP_LISTS_PER_SENSITIVITY is ever used.
 */
export const NR_PCP_LISTS_PER_SENSITIVITY = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1);
export const NR_PCP_LISTS = NR_PCP_LISTS_PER_SENSITIVITY * NR_SENSITIVITIES;
/** CONFIG_PCP_BATCH_SCALE_MAX default. */
export const CONFIG_PCP_BATCH_SCALE_MAX = 5;

export function pcp_allowed_order(order: number): boolean {
  return order <= PAGE_ALLOC_COSTLY_ORDER;
}
/** order_to_pindex: the pcp list of a freetype (a migratetype below MIGRATE_PCPTYPES) and order. */
export function order_to_pindex(ft: freetype_t, order: number): number {
  // ft >>> 2 is the sensitivity (MIGRATE_TYPES is 4), ft & 3 the migratetype: no branch on the hot path.
  return NR_PCP_LISTS_PER_SENSITIVITY * (ft >>> 2) + MIGRATE_PCPTYPES * order + (ft & (MIGRATE_TYPES - 1));
}
export function pindex_to_order(pindex: number): number {
  return ((pindex % NR_PCP_LISTS_PER_SENSITIVITY) / MIGRATE_PCPTYPES) | 0;
}
/** pindex_sensitive: the sensitivity half a pcp list belongs to. */
export function pindex_sensitive(pindex: number): boolean {
  return pindex >= NR_PCP_LISTS_PER_SENSITIVITY;
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

/*
 * A freetype from pageblock flags: the migratetype, plus MIGRATE_TYPES when
 * PB_nonsensitive is clear and ASI is on. Branch-free: (NONSENSITIVE_MASK ^
 * bit) >> 1 is MIGRATE_TYPES for a sensitive block, masked to 0 when off.
 */
function flags_to_freetype(f: number): freetype_t {
  return (f & MIGRATETYPE_MASK) | (((f & NONSENSITIVE_MASK) ^ NONSENSITIVE_MASK) >>> 1 & page_alloc_asi.ft_sensitive);
}

/** __get_pfnblock_freetype / get_pfnblock_freetype. */
export function __get_pfnblock_freetype(_page: number, pfn: number): freetype_t {
  mem_map.touched++;
  return flags_to_freetype(get_pfnblock_flags(pfn));
}
export function get_pageblock_freetype(pfn: number): freetype_t {
  return flags_to_freetype(get_pfnblock_flags(pfn));
}

/** The pageblock's PB_nonsensitive bit read as "sensitive" (whatever ASI's runtime state). */
export function get_pageblock_sensitive(pfn: number): boolean {
  return (get_pfnblock_flags(pfn) & NONSENSITIVE_MASK) === 0;
}

/** set_pageblock_sensitive: set or clear PB_nonsensitive; the other bits are kept. */
export function set_pageblock_sensitive(pfn: number, sensitive: boolean): void {
  const z = contig_page_data.node_zones[ZONE_NORMAL];
  const i = (pfn - z.zone_start_pfn) >>> pageblock_order;
  z.pageblock_flags[i] = sensitive ? z.pageblock_flags[i] & ~NONSENSITIVE_MASK : z.pageblock_flags[i] | NONSENSITIVE_MASK;
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
/*
 * ASI's sensitivity changes (no Linux counter; named as a developer tuning
 * the series would want them): pageblocks __rmqueue_asi turned nonsensitive
 * (zeroed and mapped into asi_nonsensitive_pgd) and sensitive (unmapped, a
 * TLB shootdown each time), and __rmqueue_asi calls that found nothing to
 * convert or were not allowed to (ALLOC_NOBLOCK).
 */
export const ASI_PAGEBLOCK_TO_NONSENSITIVE = vm_event_item('asi_pageblock_to_nonsensitive');
export const ASI_PAGEBLOCK_TO_SENSITIVE = vm_event_item('asi_pageblock_to_sensitive');
export const ASI_RMQUEUE_FAIL = vm_event_item('asi_rmqueue_fail');
