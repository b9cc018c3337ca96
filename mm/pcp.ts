/*
 * mm/pcp.ts - per-CPU page lists (struct per_cpu_pages).
 *
 * Mirrors the pcp half of mm/page_alloc.c (Linux 6.15-6.17): rmqueue_bulk,
 * nr_pcp_alloc, __rmqueue_pcplist, rmqueue_pcplist, free_frozen_page_commit,
 * nr_pcp_high, nr_pcp_free, free_pcppages_bulk, drain_pages_zone,
 * drain_pages, drain_local_pages, drain_all_pages, zone_batchsize,
 * zone_highsize, zone_set_pageset_high_and_batch and
 * __zone_set_pageset_high_and_batch.
 *
 * Orders 0..PAGE_ALLOC_COSTLY_ORDER are cached per CPU in one list per
 * (sensitivity, order, migratetype): pindex = NR_PCP_LISTS_PER_SENSITIVITY *
 * sensitive + MIGRATE_PCPTYPES * order + migratetype (ASI's Sep 2025 series
 * doubles the lists; with ASI off only the first half is used, and the
 * drain loop does not visit the second).
 * An allocation takes the list head, refilling the list with `batch` blocks
 * from the buddy lists (added at the tail, in address order) when it is
 * empty; a free adds at the head and, once count reaches high, gives blocks
 * back from the list tails, round-robin over the lists.
 *
 * Simplified: high auto-tuning is off (high_min == high_max, the value Linux
 * derives from the low watermark, as if percpu_pagelist_high_fraction had
 * pinned it; __zone_set_pageset_high_and_batch can set a range and the
 * growth rule of nr_pcp_alloc/nr_pcp_high then applies with ZONE_BELOW_HIGH
 * never set); no free_high heuristics for high-order frees
 * (PCPF_PREV_FREE_HIGH_ORDER), no decay_pcp_high, no THP list, no pcp
 * spinlock (one host thread): drain_all_pages drains every CPU's lists
 * directly, as Linux 6.0+ does under each pcp's lock, without IPIs.
 */
import { list_add, list_add_tail, list_del, set_page_owner_order } from './mm_types.ts';
import {
  type Zone, type freetype_t, PerCpuPages, NR_PCP_LISTS, NR_PCP_LISTS_PER_SENSITIVITY, CONFIG_PCP_BATCH_SCALE_MAX,
  order_to_pindex, pindex_to_order, __get_pfnblock_freetype, low_wmark_pages, contig_page_data, PGFREE, page_alloc_asi,
} from './mmzone.ts';
import { __rmqueue, __free_one_page, FPI_NONE, RMQUEUE_NORMAL, type RmqueueMode } from './buddy.ts';
import { count_vm_events } from './vmstat.ts';
import { alloc_percpu, nr_cpu_ids, smp_processor_id, this_cpu } from '../kernel/smp.ts';
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';
import { BUG } from '../kernel/panic.ts';
import { vm_debug, check_new_pages } from './debug.ts';
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';

/* Cost-key indices as module locals: an imported binding is a getter under the TS loaders. */
const K_PAGE_ALLOC = COST_KEY_INDEX.page_alloc, K_PAGE_FREE = COST_KEY_INDEX.page_free;

/** BOOT_PAGESET_HIGH / BOOT_PAGESET_BATCH: the pcp is disabled until setup_per_cpu_pageset. */
export const BOOT_PAGESET_HIGH = 0;
export const BOOT_PAGESET_BATCH = 1;
/** MIN_PERCPU_PAGELIST_HIGH_FRACTION. */
export const MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8;

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

const bulk_mode: RmqueueMode = { mode: RMQUEUE_NORMAL };

/** rmqueue_bulk: take up to `count` blocks from the buddy lists onto a pcp list's tail. */
export function rmqueue_bulk(zone: Zone, order: number, count: number, pcp: PerCpuPages,
  pindex: number, freetype: freetype_t): number {
  bulk_mode.mode = RMQUEUE_NORMAL;
  let i = 0;
  for (; i < count; i++) {
    const page = __rmqueue(zone, order, freetype, bulk_mode);
    if (page === -1) break;
    // Split blocks arrive in address order: the list stays ordered by pfn.
    list_add_tail(pcp.lists_head, pcp.lists_tail, pindex, page);
  }
  return i;
}

/** nr_pcp_alloc: how many blocks one refill takes; consecutive order-0 refills grow by alloc_factor. */
export function nr_pcp_alloc(pcp: PerCpuPages, _zone: Zone, order: number): number {
  const base_batch = pcp.batch;
  const high_min = pcp.high_min;
  const high_max = pcp.high_max;
  let high = pcp.high = clamp(pcp.high, high_min, high_max);
  // PCP disabled or boot pageset.
  if (high < base_batch) return 1;
  let batch = order ? base_batch : base_batch << pcp.alloc_factor;
  // ZONE_BELOW_HIGH is never set (no watermark tracking): a tunable high grows.
  if (high_min !== high_max) high = pcp.high = Math.min(high + batch, high_max);
  if (!order) {
    const max_nr_alloc = Math.max(high - pcp.count - base_batch, base_batch);
    // Double the refill each time order-0 allocations follow without frees.
    if (batch <= max_nr_alloc && pcp.alloc_factor < CONFIG_PCP_BATCH_SCALE_MAX) pcp.alloc_factor++;
    batch = Math.min(batch, max_nr_alloc);
  }
  // Scale by order when the pcp may hold pages at all.
  if (batch > 1) batch = Math.max(batch >> order, 2);
  return batch;
}

function __rmqueue_pcplist(zone: Zone, order: number, freetype: freetype_t, pcp: PerCpuPages, pindex: number): number {
  for (;;) {
    if (pcp.lists_head[pindex] === -1) {
      const batch = nr_pcp_alloc(pcp, zone, order);
      const alloced = rmqueue_bulk(zone, order, batch, pcp, pindex, freetype);
      pcp.count += alloced << order;
      if (pcp.lists_head[pindex] === -1) return -1;
    }
    const page = pcp.lists_head[pindex];
    if (!list_del(pcp.lists_head, pcp.lists_tail, pindex, page))
      BUG('__rmqueue_pcplist: list corruption at pfn %d (pcp list %d)', page, pindex);
    pcp.count -= 1 << order;
    this_cpu().charge_index(K_PAGE_ALLOC);
    if (!vm_debug.debug_vm || !check_new_pages(page, order)) return page;
    // A bad block stays out of circulation; page_owner keeps it visible as a leak.
    set_page_owner_order(page, order);
  }
}

/** rmqueue_pcplist: an order <= PAGE_ALLOC_COSTLY_ORDER block of a freetype from this CPU's lists, or -1. */
export function rmqueue_pcplist(zone: Zone, order: number, freetype: freetype_t): number {
  const pcp = zone.per_cpu_pageset[smp_processor_id()];
  // On allocation, reduce the number of pages that are batch freed.
  pcp.free_count >>= 1;
  return __rmqueue_pcplist(zone, order, freetype, pcp, order_to_pindex(freetype, order));
}

/** nr_pcp_high: the high mark now in force (0: pcp disabled, free every page at once). */
export function nr_pcp_high(pcp: PerCpuPages, _zone: Zone, batch: number): number {
  const high_min = pcp.high_min;
  const high_max = pcp.high_max;
  const high = pcp.high = clamp(pcp.high, high_min, high_max);
  if (!high) return 0;
  if (high_min === high_max) return high;
  if (pcp.count >= high) {
    // pcp->high should be large enough to hold batch freed pages.
    const need_high = pcp.free_count + batch;
    if (pcp.high < need_high) pcp.high = clamp(need_high, high_min, high_max);
  }
  return high;
}

/** nr_pcp_free: how many pages a drain at high gives back; at least batch stay on the lists. */
export function nr_pcp_free(pcp: PerCpuPages, batch: number, high: number): number {
  if (high < batch) return 1;
  return clamp(pcp.free_count, batch, high - batch);
}

/** free_frozen_page_commit: put a freed block on this CPU's list; drain if count reached high. */
export function free_frozen_page_commit(zone: Zone, pcp: PerCpuPages, page: number, freetype: freetype_t, order: number): void {
  // On freeing, reduce the number of pages that are batch allocated.
  pcp.alloc_factor >>= 1;
  this_cpu().charge_index(K_PAGE_FREE);
  count_vm_events(PGFREE, 1 << order);
  const pindex = order_to_pindex(freetype, order);
  list_add(pcp.lists_head, pcp.lists_tail, pindex, page);
  pcp.count += 1 << order;
  const batch = pcp.batch;
  if (pcp.free_count < batch << CONFIG_PCP_BATCH_SCALE_MAX) pcp.free_count += 1 << order;
  const high = nr_pcp_high(pcp, zone, batch);
  if (pcp.count < high) return;
  free_pcppages_bulk(zone, nr_pcp_free(pcp, batch, high), pcp, pindex);
}

/**
 * free_pcppages_bulk: give `count` pages back to the buddy lists, starting
 * with list `pindex`, round-robin, each list from its tail (the coldest).
 */
export function free_pcppages_bulk(zone: Zone, count: number, pcp: PerCpuPages, pindex: number): void {
  count = Math.min(pcp.count, count);
  // With ASI off the sensitive half of the lists is always empty: skip it.
  const nr_lists = page_alloc_asi.enabled ? NR_PCP_LISTS : NR_PCP_LISTS_PER_SENSITIVITY;
  // Ensure the requested pindex is drained first.
  pindex = pindex - 1;
  while (count > 0) {
    let tries = 0;
    do {
      if (++pindex > nr_lists - 1) pindex = 0;
      if (++tries > nr_lists)
        BUG('free_pcppages_bulk: pcp count %d but every list is empty', pcp.count);
    } while (pcp.lists_head[pindex] === -1);
    const order = pindex_to_order(pindex);
    const nr_pages = 1 << order;
    do {
      const page = pcp.lists_tail[pindex];
      const mt = __get_pfnblock_freetype(page, page);
      if (!list_del(pcp.lists_head, pcp.lists_tail, pindex, page))
        BUG('free_pcppages_bulk: list corruption at pfn %d (pcp list %d)', page, pindex);
      count -= nr_pages;
      pcp.count -= nr_pages;
      __free_one_page(page, page, zone, order, mt, FPI_NONE);
    } while (count > 0 && pcp.lists_head[pindex] !== -1);
  }
}

/** drain_pages_zone: empty one CPU's lists in one zone. */
export function drain_pages_zone(cpu: number, zone: Zone): void {
  const pcp = zone.per_cpu_pageset[cpu];
  let count: number;
  do {
    count = pcp.count;
    if (count) {
      const to_drain = Math.min(count, pcp.batch << CONFIG_PCP_BATCH_SCALE_MAX);
      free_pcppages_bulk(zone, to_drain, pcp, 0);
      count -= to_drain;
    }
  } while (count);
}

/** drain_pages: one CPU, every zone. */
export function drain_pages(cpu: number): void {
  for (const zone of contig_page_data.node_zones) drain_pages_zone(cpu, zone);
}

/** drain_local_pages: this CPU's lists (one zone, or all with null). */
export function drain_local_pages(zone: Zone | null = null): void {
  const cpu = smp_processor_id();
  if (zone) drain_pages_zone(cpu, zone);
  else drain_pages(cpu);
}

/** drain_all_pages: every CPU's lists, directly (no IPI since Linux 6.0). */
export function drain_all_pages(zone: Zone | null = null): void {
  for (let cpu = 0; cpu < nr_cpu_ids(); cpu++) {
    const zones = zone ? [zone] : contig_page_data.node_zones;
    for (const z of zones) if (z.per_cpu_pageset[cpu].count) drain_pages_zone(cpu, z);
  }
}

/** rounddown_pow_of_two. */
function rounddown_pow_of_two(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

/**
 * zone_batchsize: about 0.1% of the zone or 1 MiB, whichever is smaller,
 * divided by 4 and clamped to 2^n - 1 (cache aliasing).
 */
export function zone_batchsize(zone: Zone): number {
  let batch = Math.min(zone.managed_pages >> 10, (1 << 20) / PAGE_SIZE);
  batch = (batch / 4) | 0;
  if (batch < 1) batch = 1;
  return rounddown_pow_of_two(batch + (batch >> 1)) - 1;
}

/** zone_highsize: the low watermark (or managed / fraction) split over the node's CPUs, at least 4 batches. */
export function zone_highsize(zone: Zone, batch: number, cpu_online: number, high_fraction: number): number {
  const total_pages = !high_fraction ? low_wmark_pages(zone) : Math.floor(zone.managed_pages / high_fraction);
  let nr_split_cpus = nr_cpu_ids() + cpu_online;
  if (!nr_split_cpus) nr_split_cpus = nr_cpu_ids();
  const high = Math.floor(total_pages / nr_split_cpus);
  return Math.max(high, batch << 2);
}

/** __zone_set_pageset_high_and_batch: set every CPU's limits (tests use it to shape the pcp). */
export function __zone_set_pageset_high_and_batch(zone: Zone, high_min: number, high_max: number, batch: number): void {
  for (const pcp of zone.per_cpu_pageset) {
    pcp.high_min = high_min;
    pcp.high_max = high_max;
    pcp.batch = batch;
  }
}

/** zone_set_pageset_high_and_batch: from the zone's size and watermarks (auto-tuning off). */
export function zone_set_pageset_high_and_batch(zone: Zone, cpu_online: number): void {
  const new_batch = Math.max(1, zone_batchsize(zone));
  const new_high = zone_highsize(zone, new_batch, cpu_online, 0);
  __zone_set_pageset_high_and_batch(zone, new_high, new_high, new_batch);
}

/** setup_zone_pageset: one boot pageset per CPU (high 0, batch 1: every free goes straight back). */
export function setup_zone_pageset(zone: Zone): void {
  zone.per_cpu_pageset = alloc_percpu(() => {
    const pcp = new PerCpuPages();
    pcp.high = pcp.high_min = pcp.high_max = BOOT_PAGESET_HIGH;
    pcp.batch = BOOT_PAGESET_BATCH;
    return pcp;
  });
}

/** Pages on every CPU's lists (no Linux counterpart; /proc/zoneinfo shows them per CPU). */
export function pcp_total_count(zone: Zone): number {
  let n = 0;
  for (const pcp of zone.per_cpu_pageset) n += pcp.count;
  return n;
}
