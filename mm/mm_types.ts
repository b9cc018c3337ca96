/*
 * mm/mm_types.ts - struct page as struct-of-arrays: mem_map.
 *
 * Mirrors include/linux/mm_types.h (struct page), include/linux/page_ref.h
 * (refcount accessors), the pfn/address conversions of include/linux/mm.h,
 * include/linux/pfn.h and asm/page.h, and include/linux/list.h as used on
 * the page->lru union. A page IS its pfn (DESIGN.md section 4): mem_map holds
 * one typed-array slot per pfn for each field, never a JS object per page.
 *
 * Modelled: flags, _refcount, _mapcount (page_type overlays it, as in Linux
 * 6.12+: see PGTY_buddy in page_flags.ts), private (the buddy order of a free
 * block's head), and the lru / buddy_list / pcp_list union as two pfn links
 * (lru_next, lru_prev; -1 = none). As in Linux, the first word of that union
 * is compound_head on a tail page; Linux tags it with bit 0, here a tail page
 * stores -(head + 2), which no list link (>= -1) can be. owner_order is
 * page_owner's order (mm/page_owner.c keeps it in page_ext): the order of the
 * allocation this pfn heads, -1 if none; always on here, 1 byte per page.
 *
 * Host cost: 25 bytes per page (Linux's struct page is 64 bytes of RAM; the
 * boot reserves that much simulated RAM for it, see mm_init.ts).
 *
 * Left out: mapping, index, memcg_data, _last_cpupid, the zone/node/section
 * bits of page->flags (one node, one zone), folio fields beyond the order.
 */
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';
import { PAGE_OFFSET } from '../arch/x86/include/asm/page_64_types.ts';

/** The per-page arrays. Rebuilt by mem_map_init() at every boot. */
export const mem_map = {
  /** Number of struct pages: pfns 0..max_pfn-1 (Linux: max_pfn). */
  max_pfn: 0,
  /** page->flags: enum pageflags bits (page_flags.ts). */
  flags: new Uint32Array(0),
  /** page->_refcount: 0 for free pages, >= 1 for allocated heads and reserved pages. */
  _refcount: new Int32Array(0),
  /** page->_mapcount, -1 = unmapped; overlaid by page_type (PGTY_* << 24) for typed pages. */
  _mapcount: new Int32Array(0),
  /** page->private: the order of a free buddy head (set_buddy_order), else 0. */
  private: new Int32Array(0),
  /** page->lru.next as a pfn (-1: end of list / on no list); -(head+2) on a compound tail page. */
  lru_next: new Int32Array(0),
  /** page->lru.prev as a pfn (-1: start of list / on no list). */
  lru_prev: new Int32Array(0),
  /** page_owner->order: order of the allocation headed by this pfn, -1 if none. */
  owner_order: new Int8Array(0),
  /** struct pages touched by list and buddy operations since the last charge (cost model). */
  touched: 0,
};

/**
 * Build mem_map for `nr_pages` pfns as __init_single_page() leaves them:
 * refcount 1, mapcount reset, no flags, on no list. memblock_free_all()
 * later gives free pages to the buddy allocator (refcount 0) and marks the
 * rest PG_reserved.
 */
export function mem_map_init(nr_pages: number): void {
  if (!Number.isInteger(nr_pages) || nr_pages <= 0 || nr_pages >= 2 ** 31)
    throw new RangeError(`mem_map_init: bad page count ${nr_pages}`);
  mem_map.max_pfn = nr_pages;
  mem_map.flags = new Uint32Array(nr_pages);
  mem_map._refcount = new Int32Array(nr_pages).fill(1);
  mem_map._mapcount = new Int32Array(nr_pages).fill(-1);
  mem_map.private = new Int32Array(nr_pages);
  mem_map.lru_next = new Int32Array(nr_pages).fill(-1);
  mem_map.lru_prev = new Int32Array(nr_pages).fill(-1);
  mem_map.owner_order = new Int8Array(nr_pages).fill(-1);
  mem_map.touched = 0;
}

/* ---- pfn, page and address conversions (mm.h, pfn.h, asm/page.h) ---- */

/** page_to_pfn: the identity, a page is its pfn. */
export function page_to_pfn(page: number): number {
  return page;
}

/** pfn_to_page: the identity. */
export function pfn_to_page(pfn: number): number {
  return pfn;
}

/** pfn_valid: a struct page exists for `pfn`. */
export function pfn_valid(pfn: number): boolean {
  return Number.isInteger(pfn) && pfn >= 0 && pfn < mem_map.max_pfn;
}

/** PFN_UP / PFN_DOWN / PFN_PHYS (include/linux/pfn.h). */
export function PFN_UP(addr: number): number {
  return Math.ceil(addr / PAGE_SIZE);
}
export function PFN_DOWN(addr: number): number {
  return Math.floor(addr / PAGE_SIZE);
}
export function PFN_PHYS(pfn: number): number {
  return pfn * PAGE_SIZE;
}

/** page_address (lowmem_page_address): the page's direct-map address. */
export function page_address(page: number): number {
  return PAGE_OFFSET + page * PAGE_SIZE;
}

/** virt_to_pfn / virt_to_page for a direct-map address (truncates to the page). */
export function virt_to_pfn(addr: number): number {
  return Math.floor((addr - PAGE_OFFSET) / PAGE_SIZE);
}
export function virt_to_page(addr: number): number {
  return virt_to_pfn(addr);
}

/** virt_addr_valid (__virt_addr_valid, arch/x86/mm/physaddr.c): a direct-map address of RAM. */
export function virt_addr_valid(addr: number): boolean {
  return Number.isInteger(addr) && addr >= PAGE_OFFSET && pfn_valid(virt_to_pfn(addr));
}


/* ---- page_ref.h ---- */

export function page_ref_count(page: number): number {
  return mem_map._refcount[page];
}

export function set_page_count(page: number, v: number): void {
  mem_map._refcount[page] = v;
}

/** init_page_count: a freshly initialised or reused page holds one reference. */
export function init_page_count(page: number): void {
  mem_map._refcount[page] = 1;
}

export function page_ref_inc(page: number): void {
  mem_map._refcount[page]++;
}

/** page_ref_dec_and_test: true when the count reaches zero. */
export function page_ref_dec_and_test(page: number): boolean {
  return --mem_map._refcount[page] === 0;
}

/** PageTail: the first lru word holds a tagged compound_head. */
export function PageTail(page: number): boolean {
  return mem_map.lru_next[page] <= -2;
}

/** compound_head: the head of a compound page, or the page itself. */
export function compound_head(page: number): number {
  const v = mem_map.lru_next[page];
  return v <= -2 ? -v - 2 : page;
}

/** set_compound_head / clear_compound_head (page-flags.h). */
export function set_compound_head(page: number, head: number): void {
  mem_map.lru_next[page] = -head - 2;
}
export function clear_compound_head(page: number): void {
  mem_map.lru_next[page] = -1;
}

/** page_count: the reference count of the page's compound head (folio_ref_count). */
export function page_count(page: number): number {
  return mem_map._refcount[compound_head(page)];
}

/** page_mapcount_reset: back to -1 (no mappings, no page type). */
export function page_mapcount_reset(page: number): void {
  mem_map._mapcount[page] = -1;
}

/** page_type_has_type: _mapcount holds a PGTY_* type rather than a count. */
export function page_type_has_type(page_type: number): boolean {
  return page_type < (0xff << 24); // PGTY_mapcount_underflow << 24, as int
}

/** page_mapcount: how many page tables map this page (0 for typed pages such as free buddy heads). */
export function page_mapcount(page: number): number {
  const v = mem_map._mapcount[page];
  return page_type_has_type(v) ? 0 : v + 1;
}

/*
 * The rmap's _mapcount steps (mm/rmap.c's atomic_inc_and_test /
 * atomic_add_negative on page->_mapcount): a page mapped by user page
 * tables counts its PTEs here, from -1 (none).
 */

/** One more PTE maps `page`; true if it is the first (atomic_inc_and_test(&page->_mapcount)). */
export function page_mapcount_inc(page: number): boolean {
  return ++mem_map._mapcount[page] === 0;
}

/** One PTE less maps `page`; true if that was the last (atomic_add_negative(-1, &page->_mapcount)). */
export function page_mapcount_dec(page: number): boolean {
  return --mem_map._mapcount[page] < 0;
}

/*
 * ---- list.h on page->lru ----
 *
 * A list is a slot of a head array and a tail array (free_area's free lists,
 * the pcp lists); pages link through lru_next/lru_prev. Each operation
 * counts the struct pages it touches (mem_map.touched) for the cost model.
 */

/** list_add: at the head. */
export function list_add(heads: Int32Array, tails: Int32Array, li: number, page: number): void {
  const next = mem_map.lru_next;
  const h = heads[li];
  next[page] = h;
  mem_map.lru_prev[page] = -1;
  if (h === -1) tails[li] = page;
  else mem_map.lru_prev[h] = page;
  heads[li] = page;
  mem_map.touched += 2;
}

/** list_add_tail. */
export function list_add_tail(heads: Int32Array, tails: Int32Array, li: number, page: number): void {
  const prev = mem_map.lru_prev;
  const t = tails[li];
  prev[page] = t;
  mem_map.lru_next[page] = -1;
  if (t === -1) heads[li] = page;
  else mem_map.lru_next[t] = page;
  tails[li] = page;
  mem_map.touched += 2;
}

/**
 * list_del. With the links checked as CONFIG_DEBUG_LIST does: a page that
 * is not where its neighbours say is list corruption; returns false so the
 * caller can BUG with context instead of corrupting two lists.
 */
export function list_del(heads: Int32Array, tails: Int32Array, li: number, page: number): boolean {
  const next = mem_map.lru_next;
  const prev = mem_map.lru_prev;
  const n = next[page];
  const p = prev[page];
  if ((p === -1 ? heads[li] : next[p]) !== page) return false;
  if ((n === -1 ? tails[li] : prev[n]) !== page) return false;
  if (p === -1) heads[li] = n;
  else next[p] = n;
  if (n === -1) tails[li] = p;
  else prev[n] = p;
  next[page] = -1;
  prev[page] = -1;
  mem_map.touched += 3;
  return true;
}
