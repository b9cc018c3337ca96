/*
 * mm/mm_types.ts - struct page as struct-of-arrays: mem_map, in sections that grow with use.
 *
 * Mirrors include/linux/mm_types.h (struct page), include/linux/page_ref.h
 * (refcount accessors), the pfn/address conversions of include/linux/mm.h,
 * include/linux/pfn.h and asm/page.h, include/linux/list.h as used on the
 * page->lru union, and the memmap layout of SPARSEMEM (mm/sparse.c,
 * include/linux/mmzone.h: mem_section, PAGES_PER_SECTION). A page IS its
 * pfn (DESIGN.md section 4): the fields are typed arrays indexed by pfn,
 * never a JS object per page, read and written through the accessors below.
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
 * Growing with use (Linux's deferred struct page init, in its effect): the
 * arrays are stored so that all-zero bytes mean a fresh free page (refcount
 * 0, no flags, _mapcount -1, on no list, no owner), _mapcount, the links
 * and owner_order being kept plus one. mem_map is cut in sections of
 * PAGES_PER_SECTION pages whose arrays are allocated on the first write of
 * a non-zero value to a page other than the section's first; until then
 * the section's pages read as fresh free pages, and its first page (the
 * head of the MAX_PAGE_ORDER block boot frees there) lives in small dense
 * per-section arrays. Boot then writes one struct page per free block and
 * one per reserved page, and a 64 GiB machine's mem_map costs the host the
 * sections the kernel has touched: 25 bytes per page of those, plus 25
 * bytes per section.
 *
 * Left out: mapping, index, memcg_data, _last_cpupid, the zone/node/section
 * bits of page->flags (one node, one zone), folio fields beyond the order.
 * Sections here are 4 MiB (a MAX_PAGE_ORDER block), not x86-64's 128 MiB:
 * the host's cost follows use more closely, and no free block spans two.
 */
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';
import { PAGE_OFFSET } from '../arch/x86/include/asm/page_64_types.ts';

/** PFN_SECTION_SHIFT: log2 of the pages per mem_map section (a MAX_PAGE_ORDER block). */
export const PFN_SECTION_SHIFT = 10;
export const PAGES_PER_SECTION = 1 << PFN_SECTION_SHIFT;
const SECTION_MASK = PAGES_PER_SECTION - 1;

/** struct mem_section: one section's struct pages (stored values: see the file comment). */
export class MemSection {
  readonly flags = new Uint32Array(PAGES_PER_SECTION);
  readonly _refcount = new Int32Array(PAGES_PER_SECTION);
  /** _mapcount + 1. */
  readonly _mapcount = new Int32Array(PAGES_PER_SECTION);
  readonly private = new Int32Array(PAGES_PER_SECTION);
  /** lru_next + 1, lru_prev + 1. */
  readonly lru_next = new Int32Array(PAGES_PER_SECTION);
  readonly lru_prev = new Int32Array(PAGES_PER_SECTION);
  /** owner_order + 1. */
  readonly owner_order = new Int8Array(PAGES_PER_SECTION);
}

/** The section table and the first page of each absent section. Rebuilt by mem_map_init() at every boot. */
export const mem_map = {
  /** Number of struct pages: pfns 0..max_pfn-1 (Linux: max_pfn). */
  max_pfn: 0,
  /** mem_section[]: section number -> its struct pages, undefined until a page other than its first is written. */
  mem_section: [] as (MemSection | undefined)[],
  /** Sections allocated so far (host memory grows with these). */
  nr_sections_present: 0,
  /* The first page of each section whose arrays are not allocated (stored values, as in MemSection). */
  head_flags: new Uint32Array(0),
  head_refcount: new Int32Array(0),
  head_mapcount: new Int32Array(0),
  head_private: new Int32Array(0),
  head_lru_next: new Int32Array(0),
  head_lru_prev: new Int32Array(0),
  head_owner_order: new Int8Array(0),
  /** struct pages touched by list and buddy operations since the last charge (cost model). */
  touched: 0,
};

/**
 * Build an empty mem_map for `nr_pages` pfns: every page reads as a fresh
 * free page. Boot (mm_init.ts, memblock.ts) then marks reserved pages and
 * puts free blocks on the lists; nothing here is per page.
 */
export function mem_map_init(nr_pages: number): void {
  if (!Number.isInteger(nr_pages) || nr_pages <= 0 || nr_pages >= 2 ** 31)
    throw new RangeError(`mem_map_init: bad page count ${nr_pages}`);
  const n = Math.ceil(nr_pages / PAGES_PER_SECTION);
  mem_map.max_pfn = nr_pages;
  mem_map.mem_section = new Array<MemSection | undefined>(n).fill(undefined);
  mem_map.nr_sections_present = 0;
  mem_map.head_flags = new Uint32Array(n);
  mem_map.head_refcount = new Int32Array(n);
  mem_map.head_mapcount = new Int32Array(n);
  mem_map.head_private = new Int32Array(n);
  mem_map.head_lru_next = new Int32Array(n);
  mem_map.head_lru_prev = new Int32Array(n);
  mem_map.head_owner_order = new Int8Array(n);
  mem_map.touched = 0;
}

/** __pfn_to_section: the section of `pfn`, allocating it (with its first page's state) if absent. */
export function sparse_section(pfn: number): MemSection {
  const nr = pfn >>> PFN_SECTION_SHIFT;
  const ms = mem_map.mem_section[nr];
  return ms !== undefined ? ms : sparse_add_section(nr);
}

/* sparse_add_section: allocate section `nr`'s arrays; its first page moves in from the dense arrays. */
function sparse_add_section(nr: number): MemSection {
  const ms = new MemSection();
  const m = mem_map;
  ms.flags[0] = m.head_flags[nr];
  ms._refcount[0] = m.head_refcount[nr];
  ms._mapcount[0] = m.head_mapcount[nr];
  ms.private[0] = m.head_private[nr];
  ms.lru_next[0] = m.head_lru_next[nr];
  ms.lru_prev[0] = m.head_lru_prev[nr];
  ms.owner_order[0] = m.head_owner_order[nr];
  m.mem_section[nr] = ms;
  m.nr_sections_present++;
  return ms;
}

/** The section of `pfn` if allocated (no allocation): for readers and scans. */
export function present_section(pfn: number): MemSection | undefined {
  return mem_map.mem_section[pfn >>> PFN_SECTION_SHIFT];
}

/*
 * ---- field accessors ----
 *
 * Reads of an absent section give its first page's dense value or a fresh
 * page's; writes go to the dense arrays for a first page, else to the
 * section, allocated only if the value is not what a fresh page holds.
 * Each field's pair is the same shape: small enough for V8 to inline.
 */

/** page->flags. */
export function page_flags_word(page: number): number {
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) return ms.flags[page & SECTION_MASK];
  return (page & SECTION_MASK) === 0 ? mem_map.head_flags[page >>> PFN_SECTION_SHIFT] : 0;
}
export function set_page_flags_word(page: number, v: number): void {
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) ms.flags[page & SECTION_MASK] = v;
  else if ((page & SECTION_MASK) === 0) mem_map.head_flags[page >>> PFN_SECTION_SHIFT] = v;
  else if (v !== 0) sparse_section(page).flags[page & SECTION_MASK] = v;
}

/** page->_refcount (page_ref_count and friends below are the kernel's API). */
function ref_get(page: number): number {
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) return ms._refcount[page & SECTION_MASK];
  return (page & SECTION_MASK) === 0 ? mem_map.head_refcount[page >>> PFN_SECTION_SHIFT] : 0;
}
function ref_set(page: number, v: number): void {
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) ms._refcount[page & SECTION_MASK] = v;
  else if ((page & SECTION_MASK) === 0) mem_map.head_refcount[page >>> PFN_SECTION_SHIFT] = v;
  else if (v !== 0) sparse_section(page)._refcount[page & SECTION_MASK] = v;
}

/** _refcount += d, one section lookup for the read and the write (page_ref_inc/dec's hot path); returns the new count. */
function ref_add(page: number, d: number): number {
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) {
    const i = page & SECTION_MASK;
    const v = ms._refcount[i] + d;
    ms._refcount[i] = v;
    return v;
  }
  const v = ref_get(page) + d;
  ref_set(page, v);
  return v;
}

/** page->_mapcount as Linux holds it (-1: unmapped, no type; PGTY_* << 24 for a typed page). */
export function page_mapcount_word(page: number): number {
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) return (ms._mapcount[page & SECTION_MASK] - 1) | 0;
  return (page & SECTION_MASK) === 0 ? (mem_map.head_mapcount[page >>> PFN_SECTION_SHIFT] - 1) | 0 : -1;
}
export function set_page_mapcount_word(page: number, v: number): void {
  const x = (v + 1) | 0;
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) ms._mapcount[page & SECTION_MASK] = x;
  else if ((page & SECTION_MASK) === 0) mem_map.head_mapcount[page >>> PFN_SECTION_SHIFT] = x;
  else if (x !== 0) sparse_section(page)._mapcount[page & SECTION_MASK] = x;
}

/** page_private / set_page_private (page->private). */
export function page_private(page: number): number {
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) return ms.private[page & SECTION_MASK];
  return (page & SECTION_MASK) === 0 ? mem_map.head_private[page >>> PFN_SECTION_SHIFT] : 0;
}
export function set_page_private(page: number, v: number): void {
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) ms.private[page & SECTION_MASK] = v;
  else if ((page & SECTION_MASK) === 0) mem_map.head_private[page >>> PFN_SECTION_SHIFT] = v;
  else if (v !== 0) sparse_section(page).private[page & SECTION_MASK] = v;
}

/** page->lru.next as a pfn (-1: none); -(head + 2) on a compound tail page. */
export function page_lru_next(page: number): number {
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) return ms.lru_next[page & SECTION_MASK] - 1;
  return (page & SECTION_MASK) === 0 ? mem_map.head_lru_next[page >>> PFN_SECTION_SHIFT] - 1 : -1;
}
export function set_page_lru_next(page: number, v: number): void {
  const x = v + 1;
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) ms.lru_next[page & SECTION_MASK] = x;
  else if ((page & SECTION_MASK) === 0) mem_map.head_lru_next[page >>> PFN_SECTION_SHIFT] = x;
  else if (x !== 0) sparse_section(page).lru_next[page & SECTION_MASK] = x;
}

/** page->lru.prev as a pfn (-1: none). */
export function page_lru_prev(page: number): number {
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) return ms.lru_prev[page & SECTION_MASK] - 1;
  return (page & SECTION_MASK) === 0 ? mem_map.head_lru_prev[page >>> PFN_SECTION_SHIFT] - 1 : -1;
}
export function set_page_lru_prev(page: number, v: number): void {
  const x = v + 1;
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) ms.lru_prev[page & SECTION_MASK] = x;
  else if ((page & SECTION_MASK) === 0) mem_map.head_lru_prev[page >>> PFN_SECTION_SHIFT] = x;
  else if (x !== 0) sparse_section(page).lru_prev[page & SECTION_MASK] = x;
}

/** page_owner's order for the allocation `page` heads, -1 if none. */
export function page_owner_order(page: number): number {
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) return ms.owner_order[page & SECTION_MASK] - 1;
  return (page & SECTION_MASK) === 0 ? mem_map.head_owner_order[page >>> PFN_SECTION_SHIFT] - 1 : -1;
}
export function set_page_owner_order(page: number, order: number): void {
  const x = order + 1;
  const ms = mem_map.mem_section[page >>> PFN_SECTION_SHIFT];
  if (ms !== undefined) ms.owner_order[page & SECTION_MASK] = x;
  else if ((page & SECTION_MASK) === 0) mem_map.head_owner_order[page >>> PFN_SECTION_SHIFT] = x;
  else if (x !== 0) sparse_section(page).owner_order[page & SECTION_MASK] = x;
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
  return ref_get(page);
}

export function set_page_count(page: number, v: number): void {
  ref_set(page, v);
}

/** init_page_count: a freshly initialised or reused page holds one reference. */
export function init_page_count(page: number): void {
  ref_set(page, 1);
}

export function page_ref_inc(page: number): void {
  ref_add(page, 1);
}

/** page_ref_dec_and_test: true when the count reaches zero. */
export function page_ref_dec_and_test(page: number): boolean {
  return ref_add(page, -1) === 0;
}

/** PageTail: the first lru word holds a tagged compound_head. */
export function PageTail(page: number): boolean {
  return page_lru_next(page) <= -2;
}

/** compound_head: the head of a compound page, or the page itself. */
export function compound_head(page: number): number {
  const v = page_lru_next(page);
  return v <= -2 ? -v - 2 : page;
}

/** set_compound_head / clear_compound_head (page-flags.h). */
export function set_compound_head(page: number, head: number): void {
  set_page_lru_next(page, -head - 2);
}
export function clear_compound_head(page: number): void {
  set_page_lru_next(page, -1);
}

/** page_count: the reference count of the page's compound head (folio_ref_count). */
export function page_count(page: number): number {
  return ref_get(compound_head(page));
}

/** page_mapcount_reset: back to -1 (no mappings, no page type). */
export function page_mapcount_reset(page: number): void {
  set_page_mapcount_word(page, -1);
}

/** page_type_has_type: _mapcount holds a PGTY_* type rather than a count. */
export function page_type_has_type(page_type: number): boolean {
  return page_type < (0xff << 24); // PGTY_mapcount_underflow << 24, as int
}

/** page_mapcount: how many page tables map this page (0 for typed pages such as free buddy heads). */
export function page_mapcount(page: number): number {
  const v = page_mapcount_word(page);
  return page_type_has_type(v) ? 0 : v + 1;
}

/*
 * The rmap's _mapcount steps (mm/rmap.c's atomic_inc_and_test /
 * atomic_add_negative on page->_mapcount): a page mapped by user page
 * tables counts its PTEs here, from -1 (none).
 */

/** One more PTE maps `page`; true if it is the first (atomic_inc_and_test(&page->_mapcount)). */
export function page_mapcount_inc(page: number): boolean {
  const v = page_mapcount_word(page) + 1;
  set_page_mapcount_word(page, v);
  return v === 0;
}

/** One PTE less maps `page`; true if that was the last (atomic_add_negative(-1, &page->_mapcount)). */
export function page_mapcount_dec(page: number): boolean {
  const v = page_mapcount_word(page) - 1;
  set_page_mapcount_word(page, v);
  return v < 0;
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
  const h = heads[li];
  set_page_lru_next(page, h);
  set_page_lru_prev(page, -1);
  if (h === -1) tails[li] = page;
  else set_page_lru_prev(h, page);
  heads[li] = page;
  mem_map.touched += 2;
}

/** list_add_tail. */
export function list_add_tail(heads: Int32Array, tails: Int32Array, li: number, page: number): void {
  const t = tails[li];
  set_page_lru_prev(page, t);
  set_page_lru_next(page, -1);
  if (t === -1) heads[li] = page;
  else set_page_lru_next(t, page);
  tails[li] = page;
  mem_map.touched += 2;
}

/**
 * list_del. With the links checked as CONFIG_DEBUG_LIST does: a page that
 * is not where its neighbours say is list corruption; returns false so the
 * caller can BUG with context instead of corrupting two lists.
 */
export function list_del(heads: Int32Array, tails: Int32Array, li: number, page: number): boolean {
  const n = page_lru_next(page);
  const p = page_lru_prev(page);
  if ((p === -1 ? heads[li] : page_lru_next(p)) !== page) return false;
  if ((n === -1 ? tails[li] : page_lru_prev(n)) !== page) return false;
  if (p === -1) heads[li] = n;
  else set_page_lru_next(p, n);
  if (n === -1) tails[li] = p;
  else set_page_lru_prev(n, p);
  set_page_lru_next(page, -1);
  set_page_lru_prev(page, -1);
  mem_map.touched += 3;
  return true;
}
