/*
 * mm/page_alloc_debug.ts - the allocator's invariant checker, warn_alloc,
 * show_mem, /proc/meminfo and the teardown leak report.
 *
 * Mirrors, loosely: the CONFIG_DEBUG_VM checks of mm/page_alloc.c (here one
 * recomputing pass over mem_map instead of checks sprinkled on each path),
 * warn_alloc (mm/page_alloc.c), show_free_areas (mm/show_mem.c), si_meminfo,
 * nr_free_pages, totalram_pages and the MemTotal/MemFree lines of
 * fs/proc/meminfo.c. The checker and the leak report have no Linux
 * counterpart (kmemleak and page_owner's dump come closest).
 *
 * check_page_alloc_invariants() runs after every alloc_pages / __free_pages
 * / put_page when debug_vm is on; tests call it after every step. It
 * rebuilds each page's state from scratch and checks:
 *   - every pfn is in exactly one state: in a free block (a PageBuddy head on
 *     free_area[order].free_list[type] with private == order, aligned to its
 *     order, or a page that head covers), on one CPU's pcp list, allocated
 *     (covered by a page_owner record), or PG_reserved;
 *   - list links are consistent both ways and tails match;
 *   - nr_free[order] equals the blocks on that order's lists, NR_FREE_PAGES
 *     equals the pages in them, each pcp's count equals its lists;
 *   - a free block sits on the list of its pageblock's freetype (migratetype
 *     and, with ASI on, sensitivity), and a block spanning pageblocks has
 *     them all of that type; a page on a pcp list sits in the sensitivity
 *     half of the lists that its pageblock's sensitivity says;
 *   - no two free blocks are buddies of the same order that __free_one_page
 *     would have merged (can_merge_freetypes);
 *   - free + pcp + allocated pages equal the zone's managed pages;
 *   - every pageblock's flags hold a valid migratetype and no unused bits
 *     (PB_nonsensitive only with ASI on).
 */
import { mem_map, page_lru_next, page_lru_prev, page_private, page_ref_count, page_flags_word, page_owner_order,
  present_section, PAGES_PER_SECTION, PFN_SECTION_SHIFT } from './mm_types.ts';
import { PageBuddy, PageReserved, PAGE_FLAGS_CHECK_AT_PREP, PG_reserved, PGTY_buddy } from './page_flags.ts';
import {
  type Zone, NR_PAGE_ORDERS, MAX_PAGE_ORDER, NR_FREETYPES, MIGRATE_TYPES, NR_PCP_LISTS, NR_FREE_PAGES,
  pageblock_order, pageblock_nr_pages, pageblock_start_pfn, free_list_index, pindex_to_order, pindex_sensitive,
  get_pageblock_freetype, can_merge_freetypes, freetype_sensitive, contig_page_data, ZONE_NORMAL, migratetype_letters,
  MIGRATETYPE_MASK, NONSENSITIVE_MASK, page_alloc_asi, WMARK_MIN, WMARK_LOW, WMARK_HIGH,
} from './mmzone.ts';
import { drain_all_pages, pcp_total_count } from './pcp.ts';
import { global_node_page_state } from './vmstat.ts';
import { __GFP_NOWARN, format_gfp, type gfp_t } from './gfp.ts';
import { current_comm, current_where, RatelimitState, __ratelimit } from './debug.ts';
import { BUG } from '../kernel/panic.ts';
import { printk, KERN_WARNING, KERN_INFO } from '../kernel/printk.ts';
import { vsprintf } from '../lib/vsprintf.ts';
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';

/* Imported constants as module locals: imported bindings are getter calls under the TS loaders, and these run per page. */
const RESERVED_BIT = 1 << PG_reserved, BUDDY_TYPE = PGTY_buddy, CHECK_AT_PREP = PAGE_FLAGS_CHECK_AT_PREP;
const SECTION_PAGES = PAGES_PER_SECTION;

const S_NONE = 0;
const S_FREE = 1;
const S_PCP = 2;
const S_RESERVED = 3;
const S_ALLOC = 4;
const state_names = ['no state', 'free', 'on a pcp list', 'reserved', 'allocated'];

export const page_alloc_debug = {
  /** free_area[order].nr_free right after boot (memblock_free_all): fully merged free memory. */
  boot_nr_free: [] as number[],
  /** The checker's per-pfn state, allocated on first use. */
  scratch: new Uint8Array(0),
  /** nopage_rs: warn_alloc's rate limit (DEFAULT_RATELIMIT_INTERVAL, DEFAULT_RATELIMIT_BURST). */
  nopage_rs: new RatelimitState(5, 10),
};

/** Reset at boot, before memory reaches the allocator. */
export function page_alloc_debug_init(): void {
  page_alloc_debug.boot_nr_free = [];
  page_alloc_debug.scratch = new Uint8Array(0);
  page_alloc_debug.nopage_rs = new RatelimitState(5, 10);
}

/** Called by mm_core_init once boot memory is in the allocator. */
export function page_alloc_record_boot_state(): void {
  page_alloc_debug.boot_nr_free = free_area_nr_free();
}

/** totalram_pages: pages managed by the buddy allocator (the zones' managed_pages). */
export function totalram_pages(): number {
  let n = 0;
  for (const z of contig_page_data.node_zones) n += z.managed_pages;
  return n;
}

/** nr_free_pages: NR_FREE_PAGES, pages on the buddy lists (pcp pages not included). */
export function nr_free_pages(): number {
  return global_node_page_state(NR_FREE_PAGES);
}

/** free_area[order].nr_free for every order (no Linux counterpart; /proc/buddyinfo prints these). */
export function free_area_nr_free(): number[] {
  const z = contig_page_data.node_zones[ZONE_NORMAL];
  return z ? Array.from(z.nr_free) : [];
}

/** Walk one pfn list, calling visit(pfn) per entry; link errors go to err(). */
function walk_list(heads: Int32Array, tails: Int32Array, li: number, what: string,
  err: (m: string) => void, visit: (pfn: number) => void): void {
  const n = mem_map.max_pfn;
  let prev = -1;
  let p = heads[li];
  let steps = 0;
  while (p !== -1) {
    if (!(p >= 0 && p < n)) {
      err(`${what}: link to pfn ${p} outside mem_map`);
      return;
    }
    if (++steps > n) {
      err(`${what}: cycle through pfn ${p}`);
      return;
    }
    const pp = page_lru_prev(p);
    if (pp !== prev) err(`${what}: pfn ${p} has prev ${pp}, expected ${prev}`);
    visit(p);
    prev = p;
    p = page_lru_next(p);
  }
  if (tails[li] !== prev) err(`${what}: tail is ${tails[li]}, last entry is ${prev}`);
}

/** Every violated invariant, as text (at most `max`); [] when all hold. */
export function page_alloc_invariant_violations(max = 20): string[] {
  const errs: string[] = [];
  const err = (m: string): void => { if (errs.length < max) errs.push(m); };
  const zone = contig_page_data.node_zones[ZONE_NORMAL];
  if (!zone) return ['no zone: mm_core_init() has not run'];
  const n = mem_map.max_pfn;
  if (page_alloc_debug.scratch.length !== n) page_alloc_debug.scratch = new Uint8Array(n);
  const state = page_alloc_debug.scratch;
  state.fill(S_NONE);
  const mark = (first: number, nr: number, s: number, what: string): void => {
    for (let q = first; q < first + nr && q < n; q++) {
      if (state[q] !== S_NONE) err(`pfn ${q} is ${state_names[state[q]]} and ${state_names[s]} (${what})`);
      else state[q] = s;
    }
  };

  // Free lists.
  let free_pages = 0;
  for (let order = 0; order < NR_PAGE_ORDERS; order++) {
    let blocks = 0;
    const size = 1 << order;
    for (let ft = 0; ft < NR_FREETYPES; ft++) {
      const what = `free_area[${order}].free_list[${ft}]`;
      walk_list(zone.free_list_head, zone.free_list_tail, free_list_index(order, ft), what, err, (p) => {
        blocks++;
        free_pages += size;
        if (!PageBuddy(p)) err(`${what}: pfn ${p} is not PageBuddy`);
        if (page_private(p) !== order) err(`${what}: pfn ${p} has buddy order ${page_private(p)}`);
        if (p & (size - 1)) err(`${what}: pfn ${p} is not aligned to order ${order}`);
        if (p + size > n) err(`${what}: pfn ${p} order ${order} runs past max_pfn ${n}`);
        if (page_ref_count(p) !== 0) err(`${what}: pfn ${p} has refcount ${page_ref_count(p)}`);
        for (let b = pageblock_start_pfn(p); b < p + size && b < n; b += pageblock_nr_pages) {
          const bft = get_pageblock_freetype(b);
          if (bft !== ft) err(`${what}: pfn ${p} lies in pageblock ${b} of freetype ${bft}`);
        }
        // Pages of a section nothing wrote are fresh, so clean; a written one is checked page by page.
        const ms = present_section(p);
        if (ms !== undefined) {
          const o = p & (SECTION_PAGES - 1);
          for (let i = o + 1; i < o + size && p - o + i < n; i++) {
            if ((ms._mapcount[i] - 1) >>> 24 === BUDDY_TYPE || ms._refcount[i] !== 0 || ms.flags[i] & CHECK_AT_PREP)
              err(`${what}: pfn ${p - o + i} inside free block ${p} (order ${order}) is not a clean free page`);
          }
        }
        mark(p, size, S_FREE, what);
        if (order < MAX_PAGE_ORDER) {
          const b = p ^ size;
          if (b > p && b < n && PageBuddy(b) && page_private(b) === order) {
            const bft = get_pageblock_freetype(b);
            if (order < pageblock_order || can_merge_freetypes(ft, bft))
              err(`free buddies ${p} and ${b} of order ${order} were not merged`);
          }
        }
      });
    }
    if (blocks !== zone.nr_free[order]) err(`free_area[${order}].nr_free is ${zone.nr_free[order]}, its lists hold ${blocks}`);
  }
  const nr_free_stat = global_node_page_state(NR_FREE_PAGES);
  if (nr_free_stat !== free_pages) err(`nr_free_pages is ${nr_free_stat}, the free lists hold ${free_pages}`);

  // Per-CPU lists.
  let pcp_pages = 0;
  zone.per_cpu_pageset.forEach((pcp, cpu) => {
    let count = 0;
    for (let pindex = 0; pindex < NR_PCP_LISTS; pindex++) {
      const order = pindex_to_order(pindex);
      const what = `cpu ${cpu} pcp list ${pindex}`;
      walk_list(pcp.lists_head, pcp.lists_tail, pindex, what, err, (p) => {
        count += 1 << order;
        if (PageBuddy(p)) err(`${what}: pfn ${p} is PageBuddy`);
        if (p & ((1 << order) - 1)) err(`${what}: pfn ${p} is not aligned to order ${order}`);
        if (page_ref_count(p) !== 0) err(`${what}: pfn ${p} has refcount ${page_ref_count(p)}`);
        if (freetype_sensitive(get_pageblock_freetype(p)) !== pindex_sensitive(pindex))
          err(`${what}: pfn ${p} lies in a pageblock of the other sensitivity`);
        mark(p, 1 << order, S_PCP, what);
      });
    }
    if (count !== pcp.count) err(`cpu ${cpu} pcp count is ${pcp.count}, its lists hold ${count}`);
    pcp_pages += count;
  });

  // Reserved pages, then allocations as page_owner recorded them.
  // Section by section: the arrays of a written section directly, only the first page of the others.
  let allocated = 0;
  const check_reserved = (p: number, flags: number): void => {
    if (flags & RESERVED_BIT) mark(p, 1, S_RESERVED, 'PG_reserved');
  };
  const check_owner = (p: number, o: number): void => {
    if (o < 0) return;
    if (PageBuddy(p)) err(`allocated pfn ${p} (order ${o}) is PageBuddy`);
    allocated += 1 << o;
    mark(p, 1 << o, S_ALLOC, `allocation of order ${o} at pfn ${p}`);
  };
  for (let first = 0; first < n; first += SECTION_PAGES) {
    const ms = present_section(first);
    const end = Math.min(n, first + SECTION_PAGES);
    if (ms === undefined) {
      check_reserved(first, page_flags_word(first));
      continue;
    }
    for (let p = first; p < end; p++) check_reserved(p, ms.flags[p - first]);
  }
  for (let first = 0; first < n; first += SECTION_PAGES) {
    const ms = present_section(first);
    const end = Math.min(n, first + SECTION_PAGES);
    if (ms === undefined) {
      check_owner(first, page_owner_order(first));
      continue;
    }
    for (let p = first; p < end; p++) check_owner(p, ms.owner_order[p - first] - 1);
  }
  let lost = 0;
  for (let p = 0; p < n; p++) {
    if (state[p] !== S_NONE) continue;
    if (lost++ < 4) err(`pfn ${p} is in no state: not free, not on a pcp list, not allocated, not reserved`);
  }
  if (free_pages + pcp_pages + allocated !== zone.managed_pages)
    err(`free ${free_pages} + pcp ${pcp_pages} + allocated ${allocated} != managed ${zone.managed_pages}`);

  // Pageblock flags.
  const valid = page_alloc_asi.enabled ? MIGRATETYPE_MASK | NONSENSITIVE_MASK : MIGRATETYPE_MASK;
  for (let i = 0; i < zone.pageblock_flags.length; i++) {
    const f = zone.pageblock_flags[i];
    if ((f & MIGRATETYPE_MASK) >= MIGRATE_TYPES || f & ~valid)
      err(`pageblock ${i * pageblock_nr_pages} has flags 0x${f.toString(16)}`);
  }
  return errs;
}

/** BUG() with every violation if an invariant is broken. */
export function check_page_alloc_invariants(): void {
  const errs = page_alloc_invariant_violations();
  if (errs.length) BUG('page_alloc: invariants violated:\n%s', errs.join('\n'));
}

/* ---- show_mem, /proc/meminfo ---- */

const K = (pages: number): number => pages * (PAGE_SIZE >> 10);

/** show_free_areas: the zone line and the per-order free counts, as in an OOM report. */
export function show_free_areas(): string {
  const zone = contig_page_data.node_zones[ZONE_NORMAL];
  if (!zone) return '';
  const free = global_node_page_state(NR_FREE_PAGES);
  const lines = [
    `Node 0 ${zone.name} free:${K(free)}kB min:${K(zone._watermark[WMARK_MIN])}kB ` +
    `low:${K(zone._watermark[WMARK_LOW])}kB high:${K(zone._watermark[WMARK_HIGH])}kB ` +
    `present:${K(zone.present_pages)}kB managed:${K(zone.managed_pages)}kB free_pcp:${K(pcp_total_count(zone))}kB`,
  ];
  let line = `Node 0 ${zone.name}: `;
  let total = 0;
  for (let order = 0; order < NR_PAGE_ORDERS; order++) {
    const nr = zone.nr_free[order];
    total += nr << order;
    line += `${nr}*${K(1) << order}kB `;
    if (nr) {
      let types = '';
      // Lower case for a sensitive freetype (ASI on), as no Linux report has it.
      for (let t = 0; t < NR_FREETYPES; t++) {
        if (zone.free_list_head[free_list_index(order, t)] === -1) continue;
        const l = migratetype_letters[t % MIGRATE_TYPES];
        types += t >= MIGRATE_TYPES ? l.toLowerCase() : l;
      }
      line += `(${types}) `;
    }
  }
  lines.push(`${line}= ${K(total)}kB`);
  return lines.join('\n');
}

/**
 * warn_alloc: "<comm>: page allocation failure: order:N, mode:0x..(GFP_...),
 * nodemask=(null)", then Mem-Info with the free areas (show_mem); nothing
 * under __GFP_NOWARN, and at most 10 reports per 5 s of the CPU clock.
 */
export function warn_alloc(gfp_mask: gfp_t, fmt: string, ...args: unknown[]): void {
  if (gfp_mask & __GFP_NOWARN || !__ratelimit(page_alloc_debug.nopage_rs, 'warn_alloc')) return;
  printk(KERN_WARNING, `${current_comm()}: ${vsprintf(fmt, args)}, mode:0x${gfp_mask.toString(16)}` +
    `(${format_gfp(gfp_mask)}), nodemask=(null)`);
  printk(KERN_WARNING, current_where());   // dump_stack()'s header
  printk(KERN_INFO, `Mem-Info:\n${show_free_areas()}`);
}

/** struct sysinfo, the memory fields (si_meminfo). */
export interface Sysinfo {
  totalram: number;
  freeram: number;
  sharedram: number;
  bufferram: number;
  totalhigh: number;
  freehigh: number;
  mem_unit: number;
}

export function si_meminfo(): Sysinfo {
  return { totalram: totalram_pages(), freeram: global_node_page_state(NR_FREE_PAGES), sharedram: 0, bufferram: 0,
    totalhigh: 0, freehigh: 0, mem_unit: PAGE_SIZE };
}

/** /proc/meminfo's first lines, in kB. */
export function meminfo(): { MemTotal: number; MemFree: number } {
  const i = si_meminfo();
  return { MemTotal: K(i.totalram), MemFree: K(i.freeram) };
}

/* ---- teardown ---- */

export interface PageAllocTeardownReport {
  /** pfns neither free nor reserved after every pcp list was drained. */
  leaked: number[];
  /** The leaked allocations page_owner recorded: head pfn and order. */
  leaked_allocations: { pfn: number; order: number }[];
  /** free_area[order].nr_free now, and right after boot. */
  nr_free: number[];
  boot_nr_free: number[];
  /** nr_free equals boot_nr_free: every free page merged back as at boot. */
  fully_merged: boolean;
}

/**
 * For shutdown(): drain every pcp list, then report the pages still in use
 * (neither free nor reserved) and whether free memory merged back into the
 * blocks boot had.
 *
 * O(allocated), not O(pages): only the sections of mem_map the kernel wrote
 * are scanned page by page. A section nothing wrote (mm_types.ts) holds
 * fresh pages behind its first page, which are free exactly when a free
 * block there covers them; its first page is looked at on its own.
 */
export function page_alloc_teardown_report(): PageAllocTeardownReport {
  const zone: Zone | undefined = contig_page_data.node_zones[ZONE_NORMAL];
  if (!zone) return { leaked: [], leaked_allocations: [], nr_free: [], boot_nr_free: [], fully_merged: true };
  drain_all_pages(null);
  const n = mem_map.max_pfn;
  const nr_sections = Math.ceil(n / PAGES_PER_SECTION);
  // Free coverage: a bitmap per written section, a count of pages from its start for the others.
  const free_map = new Map<number, Uint8Array>();
  const free_head = new Map<number, number>();
  for (let order = 0; order < NR_PAGE_ORDERS; order++) {
    const size = 1 << order;
    for (let ft = 0; ft < NR_FREETYPES; ft++) {
      for (let p = zone.free_list_head[free_list_index(order, ft)]; p !== -1; p = page_lru_next(p)) {
        const sec = p >>> PFN_SECTION_SHIFT;
        const off = p & (PAGES_PER_SECTION - 1);
        if (present_section(p) === undefined) {
          if (off === 0) free_head.set(sec, Math.max(free_head.get(sec) ?? 0, size));
          continue;
        }
        let bm = free_map.get(sec);
        if (bm === undefined) free_map.set(sec, bm = new Uint8Array(PAGES_PER_SECTION));
        bm.fill(1, off, Math.min(PAGES_PER_SECTION, off + size));
      }
    }
  }
  const leaked: number[] = [];
  const leaked_allocations: { pfn: number; order: number }[] = [];
  for (let sec = 0; sec < nr_sections; sec++) {
    const first = sec * PAGES_PER_SECTION;
    const end = Math.min(n, first + PAGES_PER_SECTION);
    if (present_section(first) !== undefined) {
      const bm = free_map.get(sec);
      for (let p = first; p < end; p++) {
        if ((bm === undefined || !bm[p - first]) && !PageReserved(p)) leaked.push(p);
        const o = page_owner_order(p);
        if (o >= 0) leaked_allocations.push({ pfn: p, order: o });
      }
      continue;
    }
    // Fresh pages past the free block at the section's start (if any) are in no state.
    const covered = free_head.get(sec) ?? 0;
    if (covered === 0 && !PageReserved(first)) leaked.push(first);
    for (let p = first + Math.max(covered, 1); p < end; p++) leaked.push(p);
    const o = page_owner_order(first);
    if (o >= 0) leaked_allocations.push({ pfn: first, order: o });
  }
  const nr_free = free_area_nr_free();
  const boot = page_alloc_debug.boot_nr_free;
  return { leaked, leaked_allocations, nr_free, boot_nr_free: boot.slice(),
    fully_merged: nr_free.length === boot.length && nr_free.every((v, i) => v === boot[i]) };
}
