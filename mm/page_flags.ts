/*
 * mm/page_flags.ts - page flags and page types.
 *
 * Mirrors include/linux/page-flags.h (enum pageflags, the PageFoo /
 * SetPageFoo / __SetPageFoo accessors, enum pagetype) and the flag-name
 * table of include/trace/events/mmflags.h used by %pGp.
 *
 * Bit numbers are Linux's for an x86-64 build with CONFIG_MMU (PG_mlocked)
 * and CONFIG_MEMORY_FAILURE (PG_hwpoison); PG_young/PG_idle (PAGE_IDLE_FLAG)
 * and PG_arch_2/3 are left out, so __NR_PAGEFLAGS is 22. The flags word is
 * 32 bits: the zone/node/section fields Linux keeps in its top bits do not
 * exist (one node, one zone).
 *
 * Page types overlay _mapcount as in Linux 6.12+: a typed page's _mapcount
 * holds PGTY_<type> << 24 (as a signed 32-bit value), an untyped page's holds
 * its mapcount - 1 (so -1, "UINT_MAX", is "no type, unmapped"). PageBuddy
 * marks the head page of a free block in the buddy allocator.
 */
import { page_flags_word, set_page_flags_word, page_mapcount_word, set_page_mapcount_word } from './mm_types.ts';
import { BUG } from '../kernel/panic.ts';

/* enum pageflags */
export const PG_locked = 0;
export const PG_writeback = 1;
export const PG_referenced = 2;
export const PG_uptodate = 3;
export const PG_dirty = 4;
export const PG_lru = 5;
export const PG_head = 6;          // must be in bit 6
export const PG_waiters = 7;
export const PG_active = 8;
export const PG_workingset = 9;
export const PG_owner_priv_1 = 10;
export const PG_owner_2 = 11;
export const PG_arch_1 = 12;
export const PG_reserved = 13;
export const PG_private = 14;
export const PG_private_2 = 15;
export const PG_reclaim = 16;
export const PG_swapbacked = 17;
export const PG_unevictable = 18;
export const PG_dropbehind = 19;
export const PG_mlocked = 20;      // CONFIG_MMU
export const PG_hwpoison = 21;     // CONFIG_MEMORY_FAILURE
export const __NR_PAGEFLAGS = 22;

/* Aliases */
export const PG_readahead = PG_reclaim;
export const PG_swapcache = PG_owner_priv_1;
export const PG_checked = PG_owner_priv_1;
export const PG_anon_exclusive = PG_owner_2;
export const PG_mappedtodisk = PG_owner_2;
export const PG_reported = PG_uptodate;
/* Second-page (page[1]) flags of a large folio */
export const PG_has_hwpoisoned = PG_active;
export const PG_large_rmappable = PG_workingset;
export const PG_partially_mapped = PG_reclaim;

export const PAGEFLAGS_MASK = (1 << __NR_PAGEFLAGS) - 1;
export const __PG_HWPOISON = 1 << PG_hwpoison;
export const __PG_MLOCKED = 1 << PG_mlocked;

/** Flags that must be clear when a page is freed (bad_page otherwise). */
export const PAGE_FLAGS_CHECK_AT_FREE =
  (1 << PG_lru) | (1 << PG_locked) | (1 << PG_private) | (1 << PG_private_2) |
  (1 << PG_writeback) | (1 << PG_reserved) | (1 << PG_active) | (1 << PG_unevictable) | __PG_MLOCKED;

/** Flags that must be clear when a page is handed out; free_pages_prepare clears them. */
export const PAGE_FLAGS_CHECK_AT_PREP = PAGEFLAGS_MASK & ~__PG_HWPOISON;

/** page[1] of a large folio: the order byte and second-page flags, cleared at free. */
export const PAGE_FLAGS_SECOND =
  0xff | (1 << PG_has_hwpoisoned) | (1 << PG_large_rmappable) | (1 << PG_partially_mapped);

/** mmflags.h __def_pageflag_names, in Linux's order, for %pGp. */
const pageflag_names: readonly (readonly [number, string])[] = [
  [PG_locked, 'locked'], [PG_waiters, 'waiters'], [PG_referenced, 'referenced'],
  [PG_uptodate, 'uptodate'], [PG_dirty, 'dirty'], [PG_lru, 'lru'], [PG_active, 'active'],
  [PG_workingset, 'workingset'], [PG_owner_priv_1, 'owner_priv_1'], [PG_owner_2, 'owner_2'],
  [PG_arch_1, 'arch_1'], [PG_reserved, 'reserved'], [PG_private, 'private'],
  [PG_private_2, 'private_2'], [PG_writeback, 'writeback'], [PG_head, 'head'],
  [PG_reclaim, 'reclaim'], [PG_swapbacked, 'swapbacked'], [PG_unevictable, 'unevictable'],
  [PG_dropbehind, 'dropbehind'], [PG_mlocked, 'mlocked'], [PG_hwpoison, 'hwpoison'],
];

/** %pGp: "reserved|head", with any unnamed bits appended as |0x..., as format_flags() does. */
export function format_page_flags(flags: number): string {
  const out: string[] = [];
  let rest = flags >>> 0;
  for (const [bit, name] of pageflag_names) {
    if (rest & (1 << bit)) {
      out.push(name);
      rest = (rest & ~(1 << bit)) >>> 0;
    }
  }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out.join('|');
}

/* ---- generic accessors (test_bit / __set_bit / __clear_bit on page->flags) ---- */

export function PageFlag(page: number, bit: number): boolean {
  return (page_flags_word(page) & (1 << bit)) !== 0;
}
export function SetPageFlag(page: number, bit: number): void {
  set_page_flags_word(page, page_flags_word(page) | (1 << bit));
}
export function ClearPageFlag(page: number, bit: number): void {
  set_page_flags_word(page, page_flags_word(page) & ~(1 << bit));
}

/* The PAGEFLAG() accessors other subsystems use. The non-atomic __ forms are the same here. */
export const PageLocked = (p: number): boolean => PageFlag(p, PG_locked);
export const PageReferenced = (p: number): boolean => PageFlag(p, PG_referenced);
export const PageUptodate = (p: number): boolean => PageFlag(p, PG_uptodate);
export const SetPageUptodate = (p: number): void => SetPageFlag(p, PG_uptodate);
export const PageDirty = (p: number): boolean => PageFlag(p, PG_dirty);
export const SetPageDirty = (p: number): void => SetPageFlag(p, PG_dirty);
export const ClearPageDirty = (p: number): void => ClearPageFlag(p, PG_dirty);
export const PageLRU = (p: number): boolean => PageFlag(p, PG_lru);
export const PageActive = (p: number): boolean => PageFlag(p, PG_active);
export const PageWriteback = (p: number): boolean => PageFlag(p, PG_writeback);
export const PagePrivate = (p: number): boolean => PageFlag(p, PG_private);
export const PageSwapBacked = (p: number): boolean => PageFlag(p, PG_swapbacked);
export const PageHWPoison = (p: number): boolean => PageFlag(p, PG_hwpoison);

/** PageHead: the first page of a compound page (__GFP_COMP allocation of order > 0). */
export function PageHead(page: number): boolean {
  return (page_flags_word(page) & (1 << PG_head)) !== 0;
}
export function __SetPageHead(page: number): void {
  SetPageFlag(page, PG_head);
}

/** PageReserved: never given to the buddy allocator (firmware, kernel image, memmap, holes). */
export function PageReserved(page: number): boolean {
  return (page_flags_word(page) & (1 << PG_reserved)) !== 0;
}
export function SetPageReserved(page: number): void {
  SetPageFlag(page, PG_reserved);
}
export function ClearPageReserved(page: number): void {
  ClearPageFlag(page, PG_reserved);
}
export const __SetPageReserved = SetPageReserved;
export const __ClearPageReserved = ClearPageReserved;

/* ---- page types (enum pagetype), overlaying _mapcount ---- */

export const PGTY_buddy = 0xf0;
export const PGTY_offline = 0xf1;
export const PGTY_table = 0xf2;
export const PGTY_guard = 0xf3;
export const PGTY_hugetlb = 0xf4;
export const PGTY_slab = 0xf5;
export const PGTY_zsmalloc = 0xf6;
export const PGTY_unaccepted = 0xf7;
export const PGTY_large_kmalloc = 0xf8;
export const PGTY_mapcount_underflow = 0xff;

/** The page type byte (page_type >> 24); 0xff for an untyped page. */
export function page_type(page: number): number {
  return page_mapcount_word(page) >>> 24;
}

function set_page_type(page: number, ty: number, name: string): void {
  const v = page_mapcount_word(page);
  if (v !== -1) BUG('__SetPage%s: pfn %d has page_type %x, expected none', name, page, v >>> 0);
  set_page_mapcount_word(page, ty << 24);
}

function clear_page_type(page: number, ty: number, name: string): void {
  if (page_type(page) !== ty)
    BUG('__ClearPage%s: pfn %d has page_type %x', name, page, page_mapcount_word(page) >>> 0);
  set_page_mapcount_word(page, -1);
}

/** PageBuddy: the head of a free block on a buddy free list (order in page->private). */
export function PageBuddy(page: number): boolean {
  return page_mapcount_word(page) >>> 24 === PGTY_buddy;
}
export function __SetPageBuddy(page: number): void {
  set_page_type(page, PGTY_buddy, 'Buddy');
}
export function __ClearPageBuddy(page: number): void {
  clear_page_type(page, PGTY_buddy, 'Buddy');
}

/** PageTable: a page-table page (pagetable_alloc sets it). */
export function PageTable(page: number): boolean {
  return page_mapcount_word(page) >>> 24 === PGTY_table;
}

/** PageGuard: a debug_pagealloc guard page (never set here; page_is_buddy accepts it as Linux does). */
export function PageGuard(page: number): boolean {
  return page_mapcount_word(page) >>> 24 === PGTY_guard;
}

const page_type_names: Readonly<Record<number, string>> = {
  [PGTY_buddy]: 'buddy', [PGTY_offline]: 'offline', [PGTY_table]: 'table', [PGTY_guard]: 'guard',
  [PGTY_hugetlb]: 'hugetlb', [PGTY_slab]: 'slab', [PGTY_zsmalloc]: 'zsmalloc',
  [PGTY_unaccepted]: 'unaccepted', [PGTY_large_kmalloc]: 'large_kmalloc',
};

/** The type's name for dump_page ("buddy"), or null for an untyped page. */
export function page_type_name(page: number): string | null {
  const v = page_mapcount_word(page);
  if (v >= (PGTY_mapcount_underflow << 24)) return null;
  return page_type_names[v >>> 24] ?? `0x${(v >>> 24).toString(16)}`;
}
