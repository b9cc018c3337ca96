/*
 * mm/page_alloc.ts - the page allocator's API: alloc_pages, __free_pages.
 *
 * Mirrors mm/page_alloc.c for one zone: __alloc_pages (prepare_alloc_pages
 * with should_fail_alloc_page, get_page_from_freelist, rmqueue,
 * rmqueue_buddy, the slow path), prep_new_page / post_alloc_hook /
 * prep_compound_page / kernel_init_pages, ___free_pages, free_reserved_page,
 * adjust_managed_page_count, and put_page/get_page (include/linux/mm.h,
 * mm/swap.c). Elsewhere: the buddy lists in mm/buddy.ts, the per-CPU lists
 * in mm/pcp.ts, free_pages_prepare and __free_pages_core in
 * mm/page_alloc_free.ts, warn_alloc, the checker and /proc/meminfo in
 * mm/page_alloc_debug.ts, boot in mm/mm_init.ts (mm_core_init, re-exported
 * here) and mm/memblock.ts, fault injection in mm/fail_page_alloc.ts.
 *
 * One zone, ZONE_NORMAL, spanning all RAM: ZONE_DMA, ZONE_DMA32,
 * ZONE_HIGHMEM, ZONE_MOVABLE and NUMA are left out (no zonelists,
 * nodemasks, cpusets, mempolicy). No watermark checks, kswapd, direct
 * reclaim, compaction or OOM killer: an allocation fails when the free lists
 * are empty. The one thing the slow path keeps is its drain: a caller that
 * may block (__GFP_DIRECT_RECLAIM) drains every CPU's pcp lists and retries
 * once, as Linux does after direct reclaim. A failed __GFP_NOFAIL
 * allocation panics ("System is deadlocked on memory", as out_of_memory()
 * does with nothing to kill); everything else returns null, never throws.
 *
 * Bad input is reported, never absorbed: order > MAX_PAGE_ORDER warns; a
 * free of a pfn out of range, misaligned for its order, or of a
 * non-page-aligned or non-direct-map address WARNs and frees nothing; a
 * double free, a free of a reserved page, a free with the wrong order (from
 * page_owner's record) or a corrupted compound page gets Linux's bad_page()
 * report and the page is left out of circulation. free_pages_prepare checks
 * every page of the block on every free (Linux does that under
 * CONFIG_DEBUG_VM only).
 *
 * Cost model: the code paths are charged per step on the current CPU:
 * page_alloc for a block taken from a pcp list (__rmqueue_pcplist),
 * page_free for one put on it (free_frozen_page_commit), buddy_order per
 * order probed, split or merged (__rmqueue_smallest, expand,
 * __free_one_page); each struct page touched by list and buddy operations
 * is one mem_access besides (estimates: there is no published figure per
 * allocator step); __GFP_ZERO is a real rep stosb through the direct map.
 *
 * ASI's direct map management (asi.md 4.8.3, Brendan Jackman's Sep 2025
 * series "mm: ASI direct map management"): with asi=on a block is sensitive
 * (absent from asi_nonsensitive_pgd, ASI's restricted address space) or
 * not, per pageblock (PB_nonsensitive), and free lists and pcp lists are
 * indexed by freetype = migratetype x sensitivity (mmzone.ts). An allocation
 * asks for gfp_freetype(gfp) (__GFP_SENSITIVE, part of GFP_USER).
 * rmqueue_buddy tries __rmqueue (own lists, claim, steal, all within one
 * sensitivity); if that fails, __rmqueue_asi takes a block of
 * max(order, pageblock_order) from the other sensitivity's lists, zeroes it
 * if it becomes nonsensitive (kernel_init_pages, through the direct map),
 * maps or unmaps it in asi_nonsensitive_pgd (set_direct_map_sensitive,
 * with a TLB shootdown when unmapping), retags its pageblocks and frees the
 * remainder. All memory starts sensitive (PB_nonsensitive is 0 at boot).
 * Simplified against the series: no zone->lock to drop around the
 * conversion (one host thread); ALLOC_NOBLOCK is set for every allocation
 * that may not block (no __GFP_DIRECT_RECLAIM: GFP_ATOMIC, GFP_NOWAIT),
 * our reading of "callers that hold locks or cannot IPI", so those never
 * convert a pageblock; no bad_page() check of the ASI mapping on
 * allocation (the property test walks the page tables instead); the
 * series' temporary "everything sensitive" hack is not reproduced.
 */
import { clear_pages } from '../arch/x86/lib/clear_page_64.ts';
import { mem_map, page_address, virt_to_page, virt_addr_valid, pfn_valid, init_page_count, compound_head,
  page_flags_word, set_page_flags_word, set_page_private, set_page_owner_order, page_ref_count, page_ref_inc,
  page_ref_dec_and_test,
  set_compound_head } from './mm_types.ts';
import { PageHead, __SetPageHead, PageReserved, ClearPageReserved } from './page_flags.ts';
import { type Zone, type freetype_t, MAX_PAGE_ORDER, PGALLOC_NORMAL, pcp_allowed_order, page_zone, contig_page_data,
  ZONE_NORMAL, pageblock_order, pageblock_nr_pages, page_alloc_asi, freetype_sensitive, freetype_opposite,
  free_to_migratetype, set_pageblock_migratetype, set_pageblock_sensitive, ASI_PAGEBLOCK_TO_NONSENSITIVE,
  ASI_PAGEBLOCK_TO_SENSITIVE, ASI_RMQUEUE_FAIL } from './mmzone.ts';
import { __GFP_NOWARN, __GFP_NOFAIL, __GFP_ZERO, __GFP_DIRECT_RECLAIM, __GFP_COMP, __GFP_HIGHMEM, __GFP_BITS_MASK, GFP_MOVABLE_MASK,
  gfp_freetype, gfpflags_allow_blocking, format_gfp, type gfp_t } from './gfp.ts';
import { __rmqueue, __free_one_page, FPI_NONE, FPI_SKIP_REPORT_NOTIFY, RMQUEUE_NORMAL, type RmqueueMode } from './buddy.ts';
import { rmqueue_pcplist, drain_all_pages } from './pcp.ts';
import { __free_frozen_pages, compound_order, charge_touched } from './page_alloc_free.ts';
import { should_fail_alloc_page } from './fail_page_alloc.ts';
import { vm_debug, bad_page, check_new_pages } from './debug.ts';
import { check_page_alloc_invariants, warn_alloc, page_alloc_teardown_report,
  type PageAllocTeardownReport } from './page_alloc_debug.ts';
import { count_vm_event, count_vm_events } from './vmstat.ts';
import { BUG, WARN, WARN_ONCE } from '../kernel/panic.ts';
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';
import { pr_debug_ns } from '../kernel/printk.ts';

const pr_debug = pr_debug_ns('mm:page_alloc');

/* What the rest of the kernel reaches through this file, as through <linux/gfp.h> and <linux/mm.h>. */
export { mm_core_init } from './mm_init.ts';
export { meminfo, si_meminfo, nr_free_pages, totalram_pages, warn_alloc, show_free_areas,
  check_page_alloc_invariants, type Sysinfo } from './page_alloc_debug.ts';
export { compound_order, __free_pages_core, free_pages_prepare } from './page_alloc_free.ts';
export { drain_local_pages, drain_all_pages } from './pcp.ts';

/** The teardown report shutdown() returns: `leaked` are pfns neither free nor reserved. */
export type ShutdownReport = PageAllocTeardownReport;

/**
 * page_alloc_shutdown (no Linux counterpart): drain every pcp list and
 * report leaked pages and the free counts per order against boot's.
 */
export function page_alloc_shutdown(): ShutdownReport {
  const r = page_alloc_teardown_report();
  charge_touched();
  pr_debug('page_alloc_shutdown: %d pages leaked; free per order %s (at boot %s)',
    r.leaked.length, r.nr_free.join(','), r.boot_nr_free.join(','));
  return r;
}

/* ---- allocation ---- */

/** prep_compound_page: mark head and tails, store the order in page[1] (folio_set_order). */
function prep_compound_page(page: number, order: number): void {
  const nr_pages = 1 << order;
  __SetPageHead(page);
  for (let i = 1; i < nr_pages; i++) set_compound_head(page + i, page);
  set_page_flags_word(page + 1, (page_flags_word(page + 1) & ~0xff) | order);
}

/** kernel_init_pages: clear the block through its direct-map address on this CPU. */
function kernel_init_pages(page: number, numpages: number): void {
  const left = clear_pages(page_address(page), numpages);
  if (left) BUG('kernel_init_pages: %d bytes of pfn %d not cleared: no direct map?', left, page);
}

/** prep_new_page / post_alloc_hook: the block becomes one allocation with one reference. */
function prep_new_page(page: number, order: number, gfp_flags: gfp_t): void {
  set_page_private(page, 0);
  init_page_count(page);                // set_page_refcounted
  set_page_owner_order(page, order);    // set_page_owner
  mem_map.touched++;
  if (gfp_flags & __GFP_ZERO) kernel_init_pages(page, 1 << order);
  if (order && gfp_flags & __GFP_COMP) prep_compound_page(page, order);
}

const buddy_mode: RmqueueMode = { mode: RMQUEUE_NORMAL };
const asi_mode: RmqueueMode = { mode: RMQUEUE_NORMAL };

/*
 * alloc_flags (mm/internal.h): only the one ASI adds is modelled.
 * ALLOC_NOBLOCK: the caller cannot block or send IPIs, so __rmqueue_asi
 * (which may zero 2 MiB and shoot down TLBs) is not for it.
 */
export const ALLOC_NOBLOCK = 0x1000;

/** Test-only switches (no Linux counterpart): seed a bug to show the ASI checks can fail. */
export const page_alloc_asi_test = {
  /** __rmqueue_asi forgets set_direct_map_sensitive(): the restricted map goes stale. */
  skip_set_direct_map: false,
};

/**
 * __rmqueue_asi: the other sensitivity has free memory and this one has
 * none. Take a max(order, pageblock_order) block from the other
 * sensitivity's lists (any migratetype: __rmqueue claims or steals), make
 * it this freetype, and return its first 2^order pages; the rest goes back
 * on this freetype's lists. -1 if ASI is off, the caller may not block,
 * there is nothing to take, or the direct map could not be changed.
 *
 *   a sensitive GFP_USER order-0 request, no sensitive page free:
 *     nonsensitive free lists: [ 2 MiB block B ]
 *     B: unmapped from asi_nonsensitive_pgd, TLBs shot down, PB_nonsensitive
 *        cleared; page B returned, B+1 .. B+511 freed as sensitive
 */
function __rmqueue_asi(zone: Zone, order: number, alloc_flags: number, freetype: freetype_t): number {
  if (!page_alloc_asi.enabled || alloc_flags & ALLOC_NOBLOCK) return -1;
  const sensitive = freetype_sensitive(freetype);
  const alloc_order = Math.max(order, pageblock_order);
  const nr_pageblocks = 1 << (alloc_order - pageblock_order);
  asi_mode.mode = RMQUEUE_NORMAL;
  const page = __rmqueue(zone, alloc_order, freetype_opposite(freetype), asi_mode);
  if (page === -1) {
    count_vm_event(ASI_RMQUEUE_FAIL);
    return -1;
  }
  // Mapping previously sensitive memory: nothing of its old contents may show.
  if (!sensitive) kernel_init_pages(page, 1 << alloc_order);
  const set_direct_map_sensitive = page_alloc_asi.set_direct_map_sensitive;
  if (!set_direct_map_sensitive) BUG('__rmqueue_asi: ASI is on but no set_direct_map_sensitive is registered');
  if (!page_alloc_asi_test.skip_set_direct_map && set_direct_map_sensitive(page, nr_pageblocks, sensitive) !== 0) {
    // Put it back as it was (no page table is ever allocated here, so this is a kernel bug).
    WARN(true, '__rmqueue_asi: set_direct_map_sensitive(pfn %d, %d, %s) failed', page, nr_pageblocks, sensitive);
    __free_one_page(page, page, zone, alloc_order, freetype_opposite(freetype), FPI_SKIP_REPORT_NOTIFY);
    count_vm_event(ASI_RMQUEUE_FAIL);
    return -1;
  }
  const mt = free_to_migratetype(freetype);
  for (let i = 0; i < nr_pageblocks; i++) {
    const pb = page + i * pageblock_nr_pages;
    set_pageblock_sensitive(pb, sensitive);
    set_pageblock_migratetype(pb, mt);
  }
  count_vm_events(sensitive ? ASI_PAGEBLOCK_TO_SENSITIVE : ASI_PAGEBLOCK_TO_NONSENSITIVE, nr_pageblocks);
  // The remainder, largest piece first: the upper half of each split.
  for (let o = alloc_order - 1; o >= order; o--)
    __free_one_page(page + (1 << o), page + (1 << o), zone, o, freetype, FPI_SKIP_REPORT_NOTIFY);
  return page;
}

/** rmqueue_buddy: straight from the buddy lists (large orders, or the pcp came up empty). */
function rmqueue_buddy(zone: Zone, order: number, freetype: freetype_t, alloc_flags: number): number {
  for (;;) {
    buddy_mode.mode = RMQUEUE_NORMAL;
    let page = __rmqueue(zone, order, freetype, buddy_mode);
    if (page === -1) page = __rmqueue_asi(zone, order, alloc_flags, freetype);
    if (page === -1) return -1;
    if (!vm_debug.debug_vm || !check_new_pages(page, order)) return page;
    set_page_owner_order(page, order); // a bad block is leaked, as Linux does
  }
}

/** rmqueue: the pcp lists for small orders, else (or if they are empty) the buddy lists. */
function rmqueue(zone: Zone, order: number, freetype: freetype_t, alloc_flags: number): number {
  let page = -1;
  if (pcp_allowed_order(order)) page = rmqueue_pcplist(zone, order, freetype);
  if (page === -1) page = rmqueue_buddy(zone, order, freetype, alloc_flags);
  if (page !== -1) count_vm_events(PGALLOC_NORMAL, 1 << order);
  return page;
}

function get_page_from_freelist(gfp_mask: gfp_t, order: number, freetype: freetype_t, alloc_flags: number): number {
  const page = rmqueue(contig_page_data.node_zones[ZONE_NORMAL], order, freetype, alloc_flags);
  if (page !== -1) prep_new_page(page, order, gfp_mask);
  return page;
}

function __alloc_pages_slowpath(gfp_mask: gfp_t, order: number, freetype: freetype_t, alloc_flags: number): number {
  // No reclaim or compaction to try; what direct reclaim does at its end is
  // drain the pcp lists (pages another CPU holds) and retry.
  if (gfpflags_allow_blocking(gfp_mask)) {
    drain_all_pages(null);
    const page = get_page_from_freelist(gfp_mask, order, freetype, alloc_flags);
    if (page !== -1) return page;
  }
  if (gfp_mask & __GFP_NOFAIL)
    BUG('Out of memory: __GFP_NOFAIL order:%d mode:0x%x(%s) cannot be satisfied and nothing can be reclaimed: ' +
      'System is deadlocked on memory', order, gfp_mask, format_gfp(gfp_mask));
  warn_alloc(gfp_mask, 'page allocation failure: order:%u', order);
  return -1;
}

/** __alloc_pages: the allocator's heart. Returns a pfn or -1. */
export function __alloc_pages(gfp: gfp_t, order: number): number {
  if (!Number.isInteger(order) || order < 0 || order > MAX_PAGE_ORDER) {
    // WARN_ON_ONCE_GFP(order > MAX_PAGE_ORDER, gfp)
    if (!(gfp & __GFP_NOWARN))
      WARN_ONCE(true, 'page_alloc:order', '__alloc_pages: order %s is not in 0..MAX_PAGE_ORDER (%d)', order, MAX_PAGE_ORDER);
    return -1;
  }
  if (contig_page_data.node_zones.length === 0) BUG('alloc_pages() before mm_core_init()');
  gfp &= __GFP_BITS_MASK;
  if (vm_debug.debug_vm)
    WARN_ONCE((gfp & GFP_MOVABLE_MASK) === GFP_MOVABLE_MASK, 'page_alloc:movable_mask',
      'gfp_migratetype: both __GFP_MOVABLE and __GFP_RECLAIMABLE in 0x%x', gfp);
  // prepare_alloc_pages
  if (should_fail_alloc_page(gfp, order)) return -1;
  const freetype = gfp_freetype(gfp);
  const alloc_flags = gfp & __GFP_DIRECT_RECLAIM ? 0 : ALLOC_NOBLOCK; // !gfpflags_allow_blocking(gfp)
  let page = get_page_from_freelist(gfp, order, freetype, alloc_flags);
  if (page === -1) page = __alloc_pages_slowpath(gfp, order, freetype, alloc_flags);
  if (page === -1 && pr_debug.enabled) pr_debug('__alloc_pages: order %d gfp %s failed', order, gfp.toString(16));
  charge_touched();
  if (vm_debug.debug_vm) check_page_alloc_invariants();
  return page;
}

/** alloc_pages: 2^order contiguous pages; the first pfn, or null. */
export function alloc_pages(gfp: gfp_t, order: number): number | null {
  const page = __alloc_pages(gfp, order);
  return page === -1 ? null : page;
}

export function alloc_page(gfp: gfp_t): number | null {
  return alloc_pages(gfp, 0);
}

/** __get_free_pages: like alloc_pages, but the direct-map address, or 0. */
export function __get_free_pages(gfp: gfp_t, order: number): number {
  const page = __alloc_pages(gfp & ~__GFP_HIGHMEM, order);
  return page === -1 ? 0 : page_address(page);
}

/** get_zeroed_page: one cleared page's direct-map address, or 0. Needs the direct map. */
export function get_zeroed_page(gfp: gfp_t): number {
  return __get_free_pages(gfp | __GFP_ZERO, 0);
}

/* ---- freeing ---- */

/** Range checks Linux leaves to VM_BUG_ON (or to luck); here they WARN and refuse. */
function free_args_ok(fn: string, page: number, order: number): boolean {
  if (!Number.isInteger(order) || order < 0 || order > MAX_PAGE_ORDER) {
    WARN(true, '%s: order %s is not in 0..MAX_PAGE_ORDER (%d); pfn %s not freed', fn, order, MAX_PAGE_ORDER, page);
    return false;
  }
  if (!pfn_valid(page) || !pfn_valid(page + (1 << order) - 1)) {
    WARN(true, '%s: pfn %s order %d is outside mem_map (max_pfn %d); not freed', fn, page, order, mem_map.max_pfn);
    return false;
  }
  if (page & ((1 << order) - 1)) {
    WARN(true, '%s: pfn %d is not aligned to order %d; not freed', fn, page, order);
    return false;
  }
  return true;
}

/**
 * __free_pages (___free_pages): drop the caller's reference; the block is
 * freed when it was the last. If another reference holds the head of a
 * non-compound block, the tail parts are freed now and the head later.
 */
export function __free_pages(page: number, order: number): void {
  if (!free_args_ok('__free_pages', page, order)) return;
  if (page_ref_count(page) <= 0) {
    // put_page_testzero's VM_BUG_ON_PAGE: a double free, or a free of a page never allocated.
    bad_page(page, 'VM_BUG_ON_PAGE(page_ref_count(page) == 0)', false);
  } else {
    const head = PageHead(page);
    if (page_ref_dec_and_test(page)) {
      __free_frozen_pages(page, order, FPI_NONE);
    } else if (!head) {
      while (order-- > 0) {
        const tail = page + (1 << order);
        set_page_owner_order(tail, order);
        __free_frozen_pages(tail, order, FPI_NONE);
      }
      set_page_owner_order(page, 0);
    }
  }
  charge_touched();
  if (vm_debug.debug_vm) check_page_alloc_invariants();
}

export function __free_page(page: number): void {
  __free_pages(page, 0);
}

/** free_pages: by direct-map address; 0 is ignored, as in Linux. */
export function free_pages(addr: number, order: number): void {
  if (addr === 0) return;
  if (!Number.isInteger(addr) || addr % PAGE_SIZE !== 0) {
    WARN(true, 'free_pages: address %s is not page aligned; not freed', Number.isInteger(addr) ? `0x${addr.toString(16)}` : addr);
    return;
  }
  if (!virt_addr_valid(addr)) {
    WARN(true, 'free_pages: %px is not a direct-map address of RAM; not freed', addr);
    return;
  }
  __free_pages(virt_to_page(addr), order);
}

export function free_page(addr: number): void {
  free_pages(addr, 0);
}

/** get_page: take a reference on the page's head. The page must be in use. */
export function get_page(page: number): void {
  const head = compound_head(page);
  if (page_ref_count(head) <= 0) {
    bad_page(head, 'VM_BUG_ON_FOLIO(folio_ref_zero_or_close_to_overflow(folio))', false);
    BUG('get_page: pfn %d is not in use (refcount %d)', head, page_ref_count(head));
  }
  page_ref_inc(head);
}

/** put_page: drop a reference; at zero the page (compound: the whole folio) is freed. */
export function put_page(page: number): void {
  if (!pfn_valid(page)) {
    WARN(true, 'put_page: pfn %s is outside mem_map', page);
    return;
  }
  const head = compound_head(page);
  if (page_ref_count(head) <= 0) {
    bad_page(head, 'VM_BUG_ON_PAGE(page_ref_count(page) == 0)', false);
  } else if (page_ref_dec_and_test(head)) {
    __free_frozen_pages(head, compound_order(head), FPI_NONE);
  }
  charge_touched();
  if (vm_debug.debug_vm) check_page_alloc_invariants();
}

/** adjust_managed_page_count (totalram_pages follows: it sums managed_pages). */
export function adjust_managed_page_count(page: number, count: number): void {
  page_zone(page).managed_pages += count;
}

/** free_reserved_page: hand a reserved page (an init section, a boot buffer) to the buddy allocator. */
export function free_reserved_page(page: number): void {
  if (!pfn_valid(page) || !PageReserved(page)) {
    WARN(true, 'free_reserved_page: pfn %s is not a reserved page', page);
    return;
  }
  ClearPageReserved(page);
  init_page_count(page);
  set_page_owner_order(page, 0);
  // Linux adjusts after the free; before it here, so debug_vm's check inside sees it managed.
  adjust_managed_page_count(page, 1);
  __free_page(page);
}
