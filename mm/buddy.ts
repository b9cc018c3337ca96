/*
 * mm/buddy.ts - the buddy free lists: taking blocks off, splitting, merging.
 *
 * No file of its own in Linux: this is the zone->lock half of
 * mm/page_alloc.c, split out so that mm/pcp.ts (per-CPU lists) and
 * mm/page_alloc.ts (the API) can both stand on it without an import cycle.
 * Mirrors: __add_to_free_list, __del_page_from_free_list,
 * move_to_free_list, expand, page_del_and_expand, __rmqueue_smallest, the
 * fallbacks[] table, find_suitable_fallback, should_try_claim_block,
 * try_to_claim_block, prep_move_freepages_block, __move_freepages_block,
 * __rmqueue_claim, __rmqueue_steal, __rmqueue, find_buddy_page_pfn,
 * page_is_buddy, buddy_merge_likely, __free_one_page, split_large_buddy and
 * free_one_page, as of Linux 6.15-6.17.
 *
 * Simplified: no zone->lock (one host thread), no CMA, no highatomic
 * reserves, no ALLOC_NOFRAGMENT (Linux sets it only when a ZONE_DMA32 lies
 * below ZONE_NORMAL), no watermark boosting, no compaction capture, no
 * shuffling, no page reporting, no guard pages (page_is_buddy still accepts
 * PageGuard as Linux does).
 *
 * ASI (Sep 2025 "mm: ASI direct map management"): every list index is a
 * freetype (migratetype x sensitivity, mmzone.ts). Claim and steal stay
 * within one sensitivity (the fallbacks[] table is applied to the
 * migratetype part); __free_one_page never merges across sensitivity
 * (can_merge_freetypes). Taking memory from the other sensitivity is
 * __rmqueue_asi's job, in mm/page_alloc.ts.
 */
import { mem_map, page_ref_count, page_private, set_page_private, list_add, list_add_tail, list_del } from './mm_types.ts';
import { PageBuddy, PageGuard, PageLRU, __SetPageBuddy, __ClearPageBuddy } from './page_flags.ts';
import {
  type Zone, type freetype_t, MAX_PAGE_ORDER, NR_PAGE_ORDERS, MIGRATE_UNMOVABLE, MIGRATE_MOVABLE,
  MIGRATE_RECLAIMABLE, MIGRATE_PCPTYPES, MIGRATE_TYPES, pageblock_order, pageblock_nr_pages, pageblock_start_pfn,
  pageblock_end_pfn, free_list_index, __get_pfnblock_freetype, get_pageblock_freetype, set_pageblock_migratetype,
  can_merge_freetypes, free_to_migratetype, NR_FREE_PAGES, PGFREE, migratetype_names,
} from './mmzone.ts';
import { mod_node_page_state, count_vm_events } from './vmstat.ts';
import { BUG, WARN_ONCE } from '../kernel/panic.ts';
import { this_cpu } from '../kernel/smp.ts';
import { vm_debug, VM_BUG_ON_PAGE } from './debug.ts';

/* fpi_t: flags for __free_one_page and friends. */
export const FPI_NONE = 0;
export const FPI_SKIP_REPORT_NOTIFY = 1 << 0;
export const FPI_TO_TAIL = 1 << 1;

/* enum rmqueue_mode: where __rmqueue found pages last, so rmqueue_bulk skips the misses. */
export const RMQUEUE_NORMAL = 0;
export const RMQUEUE_CMA = 1;
export const RMQUEUE_CLAIM = 2;
export const RMQUEUE_STEAL = 3;
export interface RmqueueMode { mode: number }

/**
 * fallbacks[migratetype]: the types to borrow from, in order, when a type's
 * own lists are empty.
 */
export const fallbacks: readonly (readonly [number, number])[] = [
  [MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE],    // MIGRATE_UNMOVABLE
  [MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE],  // MIGRATE_MOVABLE
  [MIGRATE_UNMOVABLE, MIGRATE_MOVABLE],      // MIGRATE_RECLAIMABLE
];

/** buddy_order: the order of a free block, kept in its head page's private. */
export function buddy_order(page: number): number {
  return page_private(page);
}

function set_buddy_order(page: number, order: number): void {
  set_page_private(page, order);
  __SetPageBuddy(page);
}

/** account_freepages: NR_FREE_PAGES (the CMA and highatomic counters are not modelled). */
export function account_freepages(_zone: Zone, nr_pages: number, _ft: freetype_t): void {
  mod_node_page_state(NR_FREE_PAGES, nr_pages);
}

/** A freetype as text: "Movable" or "Movable/sensitive". */
export function freetype_name(ft: freetype_t): string {
  const mt = migratetype_names[free_to_migratetype(ft)] ?? String(ft);
  return ft >= MIGRATE_TYPES ? `${mt}/sensitive` : mt;
}

function warn_wrong_list(page: number, ft: freetype_t, what: string): void {
  const pb = get_pageblock_freetype(page);
  WARN_ONCE(pb !== ft, `page_alloc:${what}`, '%s: page type is %s, passed freetype is %s, pfn %d',
    what, freetype_name(pb), freetype_name(ft), page);
}

export function __add_to_free_list(page: number, zone: Zone, order: number, freetype: freetype_t, tail: boolean): void {
  if (vm_debug.debug_vm) warn_wrong_list(page, freetype, '__add_to_free_list');
  const li = free_list_index(order, freetype);
  if (tail) list_add_tail(zone.free_list_head, zone.free_list_tail, li, page);
  else list_add(zone.free_list_head, zone.free_list_tail, li, page);
  zone.nr_free[order]++;
}

/** move_to_free_list: to the tail of the new type's list; nr_free is unchanged. */
export function move_to_free_list(page: number, zone: Zone, order: number, old_mt: number, new_mt: number): void {
  if (vm_debug.debug_vm) warn_wrong_list(page, old_mt, 'move_to_free_list');
  if (!list_del(zone.free_list_head, zone.free_list_tail, free_list_index(order, old_mt), page))
    BUG('move_to_free_list: list corruption: pfn %d is not on free_area[%d].free_list[%d]', page, order, old_mt);
  list_add_tail(zone.free_list_head, zone.free_list_tail, free_list_index(order, new_mt), page);
  account_freepages(zone, -(1 << order), old_mt);
  account_freepages(zone, 1 << order, new_mt);
}

export function __del_page_from_free_list(page: number, zone: Zone, order: number, freetype: number): void {
  if (vm_debug.debug_vm) warn_wrong_list(page, freetype, '__del_page_from_free_list');
  if (!list_del(zone.free_list_head, zone.free_list_tail, free_list_index(order, freetype), page))
    BUG('__del_page_from_free_list: list corruption: pfn %d is not on free_area[%d].free_list[%d]',
      page, order, freetype);
  __ClearPageBuddy(page);
  set_page_private(page, 0);
  zone.nr_free[order]--;
}

export function del_page_from_free_list(page: number, zone: Zone, order: number, freetype: number): void {
  __del_page_from_free_list(page, zone, order, freetype);
  account_freepages(zone, -(1 << order), freetype);
}

/** get_page_from_free_area: the first block of free_area[order].free_list[mt], or -1. */
export function get_page_from_free_area(zone: Zone, order: number, freetype: number): number {
  return zone.free_list_head[free_list_index(order, freetype)];
}

export function free_area_empty(zone: Zone, order: number, freetype: number): boolean {
  return zone.free_list_head[free_list_index(order, freetype)] === -1;
}

/**
 * expand: split an order-`high` block down to order `low`. Each round puts
 * the upper half at the head of its order's list; the caller keeps the
 * lowest-addressed sub-block.
 *
 *   high=3, low=0:  [0 1 2 3 4 5 6 7]
 *                    kept 0 | 1 -> order 0 | 2-3 -> order 1 | 4-7 -> order 2
 */
export function expand(zone: Zone, page: number, low: number, high: number, freetype: number): number {
  let size = 1 << high;
  let nr_added = 0;
  this_cpu().charge('buddy_order', high - low);
  while (high > low) {
    high--;
    size >>= 1;
    __add_to_free_list(page + size, zone, high, freetype, false);
    set_buddy_order(page + size, high);
    nr_added += size;
  }
  return nr_added;
}

function page_del_and_expand(zone: Zone, page: number, low: number, high: number, freetype: number): void {
  let nr_pages = 1 << high;
  __del_page_from_free_list(page, zone, high, freetype);
  nr_pages -= expand(zone, page, low, high, freetype);
  account_freepages(zone, -nr_pages, freetype);
}

/** __rmqueue_smallest: the first block of the smallest order >= `order` on `freetype`'s lists. */
export function __rmqueue_smallest(zone: Zone, order: number, freetype: number): number {
  for (let current_order = order; current_order < NR_PAGE_ORDERS; current_order++) {
    const page = get_page_from_free_area(zone, current_order, freetype);
    if (page === -1) continue;
    this_cpu().charge('buddy_order', current_order - order + 1);
    page_del_and_expand(zone, page, order, current_order, freetype);
    return page;
  }
  this_cpu().charge('buddy_order', NR_PAGE_ORDERS - order);
  return -1;
}

/**
 * should_try_claim_block: claim whole pageblocks for big blocks, and
 * always for unmovable/reclaimable requests (they would pollute a movable
 * block permanently); small movable requests just steal.
 */
export function should_try_claim_block(order: number, start_mt: number): boolean {
  if (order >= pageblock_order) return true;
  if (order >= pageblock_order / 2) return true;
  if (start_mt === MIGRATE_RECLAIMABLE || start_mt === MIGRATE_UNMOVABLE) return true;
  return false;
}

/**
 * find_suitable_fallback: a fallback freetype (same sensitivity as
 * `freetype`) with a free block of `order`, -1 if none, -2 if too small to claim.
 */
export function find_suitable_fallback(zone: Zone, order: number, freetype: freetype_t, claimable: boolean): number {
  const mt = free_to_migratetype(freetype);
  if (claimable && !should_try_claim_block(order, mt)) return -2;
  if (zone.nr_free[order] === 0) return -1;
  const fb = fallbacks[mt];
  const sens = freetype - mt;
  for (let i = 0; i < MIGRATE_PCPTYPES - 1; i++) {
    if (!free_area_empty(zone, order, sens + fb[i])) return sens + fb[i];
  }
  return -1;
}

/** prep_move_freepages_block: free and movable pages in the pageblock of `page`, or null past the zone. */
function prep_move_freepages_block(zone: Zone, page: number): { start_pfn: number; num_free: number; num_movable: number } | null {
  const start = pageblock_start_pfn(page);
  const end = pageblock_end_pfn(page);
  if (!zone.zone_spans_pfn(start) || !zone.zone_spans_pfn(end - 1)) return null;
  let num_free = 0;
  let num_movable = 0;
  for (let pfn = start; pfn < end;) {
    mem_map.touched++;
    if (PageBuddy(pfn)) {
      const nr = 1 << buddy_order(pfn);
      num_free += nr;
      pfn += nr;
      continue;
    }
    // Pages that could be isolated for migration count as movable.
    if (PageLRU(pfn)) num_movable++;
    pfn++;
  }
  return { start_pfn: start, num_free, num_movable };
}

/** __move_freepages_block: move every free block of a pageblock to another type's lists. */
export function __move_freepages_block(zone: Zone, start_pfn: number, old_mt: number, new_mt: number): number {
  const end_pfn = pageblock_end_pfn(start_pfn);
  let pages_moved = 0;
  for (let pfn = start_pfn; pfn < end_pfn;) {
    mem_map.touched++;
    if (!PageBuddy(pfn)) {
      pfn++;
      continue;
    }
    const order = buddy_order(pfn);
    move_to_free_list(pfn, zone, order, old_mt, new_mt);
    pfn += 1 << order;
    pages_moved += 1 << order;
  }
  return pages_moved;
}

/** The pageblocks of an order >= pageblock_order block take `migratetype` (their sensitivity stays). */
function change_pageblock_range(pageblock_page: number, start_order: number, migratetype: number): void {
  let nr_pageblocks = 1 << (start_order - pageblock_order);
  while (nr_pageblocks--) {
    set_pageblock_migratetype(pageblock_page, migratetype);
    pageblock_page += pageblock_nr_pages;
  }
}

/**
 * try_to_claim_block: take a fallback block and, when the request is large
 * or the pageblock is at least half free or compatible, convert the whole
 * pageblock to the requested type first.
 */
function try_to_claim_block(zone: Zone, page: number, current_order: number, order: number,
  start_type: freetype_t, block_type: freetype_t): number {
  const start_mt = free_to_migratetype(start_type);
  const block_mt = free_to_migratetype(block_type);
  // Take ownership for orders >= pageblock_order.
  if (current_order >= pageblock_order) {
    del_page_from_free_list(page, zone, current_order, block_type);
    change_pageblock_range(page, current_order, start_mt);
    const nr_added = expand(zone, page, order, current_order, start_type);
    account_freepages(zone, nr_added, start_type);
    return page;
  }
  const r = prep_move_freepages_block(zone, page);
  if (r === null) return -1;
  let alike_pages: number;
  if (start_mt === MIGRATE_MOVABLE) {
    alike_pages = r.num_movable;
  } else if (block_mt === MIGRATE_MOVABLE) {
    // Unmovable/reclaimable falling back to a movable block: non-movable pages are alike.
    alike_pages = pageblock_nr_pages - (r.num_free + r.num_movable);
  } else {
    alike_pages = 0;
  }
  if (r.num_free + alike_pages >= 1 << (pageblock_order - 1)) {
    __move_freepages_block(zone, r.start_pfn, block_type, start_type);
    set_pageblock_migratetype(r.start_pfn, start_mt);
    return __rmqueue_smallest(zone, order, start_type);
  }
  return -1;
}

/** __rmqueue_claim: from the largest fallback block down, try to claim its pageblock. */
export function __rmqueue_claim(zone: Zone, order: number, start_freetype: number): number {
  for (let current_order = MAX_PAGE_ORDER; current_order >= order; current_order--) {
    const fallback_mt = find_suitable_fallback(zone, current_order, start_freetype, true);
    if (fallback_mt === -1) continue;        // no block in that order
    if (fallback_mt === -2) break;           // orders too low to claim
    const page = get_page_from_free_area(zone, current_order, fallback_mt);
    const got = try_to_claim_block(zone, page, current_order, order, start_freetype, fallback_mt);
    if (got !== -1) return got;
  }
  return -1;
}

/** __rmqueue_steal: the smallest fallback block, split on its own type's lists; no pageblock changes. */
export function __rmqueue_steal(zone: Zone, order: number, start_freetype: number): number {
  for (let current_order = order; current_order < NR_PAGE_ORDERS; current_order++) {
    const fallback_mt = find_suitable_fallback(zone, current_order, start_freetype, false);
    if (fallback_mt === -1) continue;
    const page = get_page_from_free_area(zone, current_order, fallback_mt);
    page_del_and_expand(zone, page, order, current_order, fallback_mt);
    return page;
  }
  return -1;
}

/**
 * __rmqueue: own lists, then claim, then steal; `m.mode` remembers which
 * worked so a bulk refill does not search again the modes that failed.
 */
export function __rmqueue(zone: Zone, order: number, freetype: freetype_t, m: RmqueueMode): number {
  let page: number;
  if (m.mode === RMQUEUE_NORMAL) {
    page = __rmqueue_smallest(zone, order, freetype);
    if (page !== -1) return page;
  }
  // RMQUEUE_CMA: no CMA.
  if (m.mode <= RMQUEUE_CLAIM) {
    page = __rmqueue_claim(zone, order, freetype);
    if (page !== -1) {
      // Replenished the preferred freelist, back to normal mode.
      m.mode = RMQUEUE_NORMAL;
      return page;
    }
  }
  page = __rmqueue_steal(zone, order, freetype);
  if (page !== -1) {
    m.mode = RMQUEUE_STEAL;
    return page;
  }
  return -1;
}

/* ---- freeing ---- */

/** __find_buddy_pfn: the buddy of an order-`order` block differs in bit `order`. */
export function __find_buddy_pfn(pfn: number, order: number): number {
  return pfn ^ (1 << order);
}

/**
 * page_is_buddy: `buddy` heads a free block of exactly `order` in this zone
 * (pfn_valid stands in for the same-zone check: there is one zone).
 */
export function page_is_buddy(buddy: number, order: number): boolean {
  if (buddy >= mem_map.max_pfn) return false;
  mem_map.touched++;
  if (!PageBuddy(buddy) && !PageGuard(buddy)) return false;
  if (buddy_order(buddy) !== order) return false;
  if (vm_debug.debug_vm) VM_BUG_ON_PAGE(page_ref_count(buddy) !== 0, buddy, 'page_count(buddy) != 0');
  return true;
}

/**
 * buddy_merge_likely: after a merge stopped at `order`, if the next-order
 * buddy is free the block will likely merge once its own buddy is freed, so
 * it goes to the list tail where it is taken last.
 */
function buddy_merge_likely(pfn: number, buddy_pfn: number, order: number): boolean {
  if (order >= MAX_PAGE_ORDER - 1) return false;
  const higher_page_pfn = buddy_pfn & pfn;
  return page_is_buddy(__find_buddy_pfn(higher_page_pfn, order + 1), order + 1);
}

/**
 * __free_one_page: merge with free buddies while possible, then list the
 * result.
 *
 *   free pfn 5 (order 0); 4 is free (order 0), 6-7 free (order 1):
 *     order 0: buddy 4 free  -> merge, block 4-5
 *     order 1: buddy 6 free  -> merge, block 4-7
 *     order 2: buddy 0-3 busy -> stop, list 4-7 at order 2
 *
 * At order >= pageblock_order the buddy lies in another pageblock: types
 * that are not mergeable (highatomic, isolate) or of the other sensitivity
 * stop the merge (can_merge_freetypes), mergeable ones merge and the
 * buddy's pageblock takes this block's migratetype.
 */
export function __free_one_page(page: number, pfn: number, zone: Zone, order: number, freetype: freetype_t, fpi_flags: number): void {
  if (vm_debug.debug_vm && pfn & ((1 << order) - 1))
    VM_BUG_ON_PAGE(true, page, 'pfn & ((1 << order) - 1)');
  account_freepages(zone, 1 << order, freetype);
  const start_order = order;
  let buddy_pfn = 0;
  while (order < MAX_PAGE_ORDER) {
    let buddy_ft = freetype;
    buddy_pfn = __find_buddy_pfn(pfn, order);
    if (!page_is_buddy(buddy_pfn, order)) break;
    if (order >= pageblock_order) {
      buddy_ft = __get_pfnblock_freetype(buddy_pfn, buddy_pfn);
      if (!can_merge_freetypes(freetype, buddy_ft)) break;
    }
    __del_page_from_free_list(buddy_pfn, zone, order, buddy_ft);
    // Match buddy type, so a later expand() puts the halves on the right lists.
    if (buddy_ft !== freetype) set_pageblock_migratetype(buddy_pfn, free_to_migratetype(freetype));
    pfn = buddy_pfn & pfn;
    order++;
  }
  this_cpu().charge('buddy_order', order - start_order);
  set_buddy_order(pfn, order);
  const to_tail = (fpi_flags & FPI_TO_TAIL) !== 0 || buddy_merge_likely(pfn, buddy_pfn, order);
  __add_to_free_list(pfn, zone, order, freetype, to_tail);
}

/** split_large_buddy: free a block larger than a pageblock one pageblock at a time, each with its own type. */
export function split_large_buddy(zone: Zone, page: number, pfn: number, order: number, fpi: number): void {
  const end = pfn + (1 << order);
  if (order > pageblock_order) order = pageblock_order;
  for (;;) {
    const ft = __get_pfnblock_freetype(page, pfn);
    __free_one_page(page, pfn, zone, order, ft, fpi);
    pfn += 1 << order;
    if (pfn === end) break;
    page = pfn;
  }
}

/** free_one_page: straight to the buddy lists (no pcp). */
export function free_one_page(zone: Zone, page: number, pfn: number, order: number, fpi_flags: number): void {
  split_large_buddy(zone, page, pfn, order, fpi_flags);
  count_vm_events(PGFREE, 1 << order);
}
