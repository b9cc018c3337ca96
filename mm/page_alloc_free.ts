/*
 * mm/page_alloc_free.ts - the free path's core: checks, then to pcp or buddy.
 *
 * No file of its own in Linux: the part of mm/page_alloc.c between "the
 * last reference is gone" and the free lists (free_pages_prepare,
 * free_tail_page_prepare, __free_pages_ok, __free_frozen_pages,
 * __free_pages_core), split out so that mm/memblock.ts can hand boot memory
 * over without importing the allocator's API (no import cycle).
 *
 * free_pages_prepare checks every page of the block on every free (Linux
 * does the tail pages only when check_pages_enabled, i.e. CONFIG_DEBUG_VM or
 * debug_pagealloc), so a bad free is always reported, never absorbed. On top
 * of Linux's checks it compares the order with page_owner's record of the
 * allocation: freeing with the wrong order is reported before it can put
 * someone else's pages on the free lists.
 *
 * ASI: a freed page goes to the lists of its pageblock's freetype, so it
 * keeps the sensitivity of the block it lies in (pages never change
 * sensitivity one at a time, only whole free pageblocks do, in
 * __rmqueue_asi).
 */
import { mem_map, compound_head, clear_compound_head, PageTail, page_flags_word, set_page_flags_word, page_owner_order,
  set_page_owner_order, set_page_count, present_section } from './mm_types.ts';
import { PageHead, ClearPageReserved, PAGE_FLAGS_CHECK_AT_PREP, PAGE_FLAGS_SECOND } from './page_flags.ts';
import { MIGRATE_PCPTYPES, MIGRATE_MOVABLE, pcp_allowed_order, page_zone, __get_pfnblock_freetype,
  free_to_migratetype } from './mmzone.ts';
import { free_one_page, FPI_TO_TAIL } from './buddy.ts';
import { free_frozen_page_commit } from './pcp.ts';
import { bad_page, free_page_is_bad } from './debug.ts';
import { this_cpu, smp_processor_id } from '../kernel/smp.ts';

/** Charge the struct pages touched since the last call as memory accesses on this CPU. */
export function charge_touched(): void {
  const n = mem_map.touched;
  if (n === 0) return;
  mem_map.touched = 0;
  const cpu = this_cpu();
  cpu.charge('mem_access', n);
}

/** compound_order: the order of a compound page (page[1]'s order byte), 0 otherwise. */
export function compound_order(page: number): number {
  return PageHead(page) ? page_flags_word(page + 1) & 0xff : 0;
}

/** free_tail_page_prepare: a tail must point at its head; then it is unhooked. */
function free_tail_page_prepare(head_page: number, page: number): number {
  let ret = 1;
  if (!PageTail(page)) bad_page(page, 'PageTail not set');
  else if (compound_head(page) !== head_page) bad_page(page, 'compound_head not consistent');
  else ret = 0;
  clear_compound_head(page);
  return ret;
}

/**
 * free_pages_prepare: check every page of the block, clear the flags a new
 * page must not have. False if the block is bad (reported and leaked).
 */
export function free_pages_prepare(page: number, order: number): boolean {
  const owner = page_owner_order(page);
  if (owner >= 0 && owner !== order) {
    bad_page(page, `page_owner: freed as order ${order}, allocated as order ${owner}`);
    return false;
  }
  const compound = PageHead(page);
  if (compound && compound_order(page) !== order) {
    bad_page(page, `compound_order(page) ${compound_order(page)} != order ${order}`);
    return false;
  }
  let bad = 0;
  // Tails in a section nothing has written are fresh free pages: nothing to check or clear (boot's blocks).
  if (order && present_section(page) !== undefined) {
    if (compound) set_page_flags_word(page + 1, page_flags_word(page + 1) & ~PAGE_FLAGS_SECOND);
    const n = 1 << order;
    for (let i = 1; i < n; i++) {
      if (compound) bad += free_tail_page_prepare(page, page + i);
      if (free_page_is_bad(page + i)) {
        bad++;
        continue;
      }
      const f = page_flags_word(page + i);
      if (f & PAGE_FLAGS_CHECK_AT_PREP) set_page_flags_word(page + i, f & ~PAGE_FLAGS_CHECK_AT_PREP);
    }
  }
  if (free_page_is_bad(page)) bad++;
  if (bad) return false;
  set_page_flags_word(page, page_flags_word(page) & ~PAGE_FLAGS_CHECK_AT_PREP);
  set_page_owner_order(page, -1);    // reset_page_owner
  mem_map.touched += 1 << order;
  return true;
}

/** __free_pages_ok: straight to the buddy lists. */
export function __free_pages_ok(page: number, order: number, fpi_flags: number): void {
  if (free_pages_prepare(page, order)) free_one_page(page_zone(page), page, page, order, fpi_flags);
}

/** __free_frozen_pages: a block whose refcount is already 0, to the pcp lists or the buddy lists. */
export function __free_frozen_pages(page: number, order: number, fpi_flags: number): void {
  if (!pcp_allowed_order(order)) {
    __free_pages_ok(page, order, fpi_flags);
    return;
  }
  if (!free_pages_prepare(page, order)) return;
  // Highatomic (and CMA) pages go to the movable list of their sensitivity; isolate is not modelled.
  let ft = __get_pfnblock_freetype(page, page);
  const mt = free_to_migratetype(ft);
  if (mt >= MIGRATE_PCPTYPES) ft = ft - mt + MIGRATE_MOVABLE;
  const zone = page_zone(page);
  free_frozen_page_commit(zone, zone.per_cpu_pageset[smp_processor_id()], page, ft, order);
}

/**
 * __free_pages_core: boot hands a block to the allocator (memblock_free_all):
 * unreserve, refcount 0, count it managed, free it to the list tails.
 *
 * As deferred struct page init does, the block's pages are not visited one
 * by one when they are fresh: a block in a section of mem_map nothing has
 * written yet (mm_types.ts) already reads as free pages, so only its head
 * is set. Boot is then O(blocks), not O(pages).
 */
export function __free_pages_core(page: number, order: number): void {
  const nr_pages = 1 << order;
  if (present_section(page) === undefined) {
    ClearPageReserved(page);
    set_page_count(page, 0);
  } else {
    for (let p = page; p < page + nr_pages; p++) {
      ClearPageReserved(p);
      set_page_count(p, 0);
    }
  }
  page_zone(page).managed_pages += nr_pages;
  __free_pages_ok(page, order, FPI_TO_TAIL);
}
