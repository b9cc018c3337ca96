/*
 * include/linux/pagemap.ts - struct folio, struct address_space and the page cache index.
 *
 * Mirrors the page-cache half of include/linux/mm_types.h (struct folio),
 * include/linux/pagemap.h (address_space helpers, folio_pos, mapping gfp and
 * large-folio flags), include/linux/mm.h's folio accessors and
 * include/linux/pagevec.h (struct folio_batch).
 *
 * A folio is 2^order physically contiguous pages; its head page is a pfn
 * (`folio.page`, Linux's &folio->page) and its flags and refcount are that
 * pfn's entries in mem_map (PG_uptodate, PG_dirty, _refcount), reached
 * through the mm/ accessors. The Folio object carries what mem_map leaves
 * out: mapping and index. It exists while the folio is in a page cache.
 *
 * mapping->i_pages is an xarray (lib/xarray.ts) from page index to folio,
 * with a large folio stored under every index it covers (that xarray has no
 * multi-index entries), as a multi-index entry answers a lookup of any of them.
 * References follow Linux: the page cache holds folio_nr_pages() references
 * (folio_ref_add in __filemap_add_folio), a lookup takes one more.
 * Simplified: the folio lock is charged (folio_lock/folio_unlock) but holds
 * nothing (syscalls run to completion on their CPU, nobody waits), no
 * LRU lists, no shadow/swap value entries, no memcg.
 */
import { COST_KEY_INDEX } from '../../arch/x86/hw/costs.ts';
import type { Inode, AddressSpaceOperations } from './fs.ts';
import type { VmAreaStruct } from './mm_types.ts';
import { alloc_pages, put_page } from '../../mm/page_alloc.ts';
import { GFP_HIGHUSER_MOVABLE, __GFP_COMP, type gfp_t } from '../../mm/gfp.ts';
import { page_ref_count, page_ref_inc, set_page_count } from '../../mm/mm_types.ts';
import { PageUptodate, SetPageUptodate, SetPageDirty, PageFlag, SetPageFlag, PG_referenced, PG_swapbacked } from '../../mm/page_flags.ts';
import { BUG } from '../../kernel/panic.ts';
import { this_cpu } from '../../kernel/smp.ts';
import { XArray, XA_MAX_INDEX, xa_load, xa_store, xa_erase, xa_find, type XaIndex } from '../../lib/xarray.ts';

/* Cost-key indices as module locals: an imported binding is a getter under the TS loaders. */
const K_FOLIO_GET = COST_KEY_INDEX.folio_get, K_FOLIO_PUT = COST_KEY_INDEX.folio_put;
const K_FOLIO_LOCK = COST_KEY_INDEX.folio_lock, K_FOLIO_UNLOCK = COST_KEY_INDEX.folio_unlock;
const K_FOLIO_MARK_ACCESSED = COST_KEY_INDEX.folio_mark_accessed;

/** MAX_PAGECACHE_ORDER: HPAGE_PMD_ORDER (9) on x86-64 with THP; the ephmap's per-CPU slot is sized by it. */
export const MAX_PAGECACHE_ORDER = 9;
/** PAGEVEC_SIZE: folios in a folio_batch. */
export const PAGEVEC_SIZE = 31;

/** struct folio: the page-cache view of a (possibly large) page. */
export class Folio {
  /** The address_space this folio is cached in; null once removed. */
  mapping: AddressSpace | null = null;
  /** index: the file offset of the first page, in pages; a multiple of folio_nr_pages(). */
  index = 0;
  constructor(readonly page: number, readonly order: number) {}
}

export function folio_nr_pages(f: Folio): number {
  return 1 << f.order;
}
export function folio_size(f: Folio): number {
  return 4096 << f.order;
}
export function folio_test_large(f: Folio): boolean {
  return f.order > 0;
}
/** folio_pos(): the file position of the folio's first byte. */
export function folio_pos(f: Folio): number {
  return f.index * 4096;
}
export function folio_next_index(f: Folio): number {
  return f.index + (1 << f.order);
}
/** folio_page(folio, n): the n-th page (pfn). */
export function folio_page(f: Folio, n: number): number {
  return f.page + n;
}
/** folio_file_page(): the page of `index` within the folio. */
export function folio_file_page(f: Folio, index: number): number {
  return f.page + (index & ((1 << f.order) - 1));
}
/** offset_in_folio(). */
export function offset_in_folio(f: Folio, pos: number): number {
  return pos % (4096 << f.order);
}

/* ---- flags (PG_* of the head page) ---- */

export function folio_test_uptodate(f: Folio): boolean {
  return PageUptodate(f.page);
}
export function folio_mark_uptodate(f: Folio): void {
  SetPageUptodate(f.page);
}
/** folio_mark_dirty() via ->dirty_folio; shmem and ramfs just set the flag (noop_dirty_folio / filemap_dirty_folio). */
export function folio_mark_dirty(f: Folio): void {
  SetPageDirty(f.page);
}
/** folio_mark_accessed(): only PG_referenced here (no LRU to activate on); tested before set, as Linux does. */
export function folio_mark_accessed(f: Folio): void {
  this_cpu().charge_one(K_FOLIO_MARK_ACCESSED);
  if (!PageFlag(f.page, PG_referenced)) SetPageFlag(f.page, PG_referenced);
}

/*
 * folio_lock() / folio_unlock(): PG_locked, taken and dropped with an atomic
 * each. Nothing can wait on it here (a syscall runs to completion on its
 * CPU), so only the two atomics are modelled, as charges.
 */
export function folio_lock(_f: Folio): void {
  this_cpu().charge_one(K_FOLIO_LOCK);
}
export function folio_unlock(_f: Folio): void {
  this_cpu().charge_one(K_FOLIO_UNLOCK);
}
export function __folio_set_swapbacked(f: Folio): void {
  SetPageFlag(f.page, PG_swapbacked);
}

/* ---- references ---- */

/* Each reference change is one atomic on the refcount: folio_get / folio_put charges. */
export function folio_get(f: Folio): void {
  this_cpu().charge_one(K_FOLIO_GET);
  page_ref_inc(f.page);
}
export function folio_ref_add(f: Folio, nr: number): void {
  this_cpu().charge_one(K_FOLIO_GET);
  set_page_count(f.page, page_ref_count(f.page) + nr);
}
/** folio_put_refs(): drop `nr` references; the last frees the whole folio. */
export function folio_put_refs(f: Folio, nr: number): void {
  this_cpu().charge_one(K_FOLIO_PUT);
  const c = page_ref_count(f.page);
  if (c > nr) set_page_count(f.page, c - nr);
  else __folio_put_refs(f, c, nr);
}

/* The last references (or too many): out of line, as Linux's __folio_put(). */
function __folio_put_refs(f: Folio, c: number, nr: number): void {
  if (c < nr) BUG('folio_put_refs: pfn %d has %d references, dropping %d', f.page, c, nr);
  set_page_count(f.page, 1);
  put_page(f.page); // the last reference: back to the allocator (compound order from page[1])
}
export function folio_put(f: Folio): void {
  folio_put_refs(f, 1);
}

/**
 * filemap_alloc_folio(): 2^order pages, compound if large, one reference.
 * Null when the allocator has none.
 */
export function filemap_alloc_folio(gfp: gfp_t, order: number): Folio | null {
  const pfn = alloc_pages(order ? gfp | __GFP_COMP : gfp, order);
  return pfn === null ? null : new Folio(pfn, order);
}

/* ---- struct address_space ---- */

/** AS_* flags in mapping->flags. */
export const AS_UNEVICTABLE = 1 << 3;

/** struct address_space: an inode's page cache. */
export class AddressSpace {
  /** i_pages: page index -> folio (see the file comment). */
  readonly i_pages = new XArray<Folio>();
  /** nrpages: pages (not folios) cached. */
  nrpages = 0;
  a_ops: AddressSpaceOperations | null = null;
  /** gfp_mask: how page-cache folios are allocated (mapping_gfp_mask). */
  gfp_mask: gfp_t = GFP_HIGHUSER_MOVABLE;
  flags = 0;
  /** The largest folio order this mapping takes (mapping_set_large_folios: MAX_PAGECACHE_ORDER). */
  max_folio_order = 0;
  /** i_mmap_writable: shared writable mappings (VM_SHARED with VM_MAYWRITE) of this file. */
  i_mmap_writable = 0;
  /**
   * i_mmap: the VMAs mapping this file (Linux's interval tree over their
   * pgoff ranges; a set here, scanned by unmap_mapping_range()).
   */
  readonly i_mmap = new Set<VmAreaStruct>();
  constructor(readonly host: Inode) {}
}

export function mapping_gfp_mask(m: AddressSpace): gfp_t {
  return m.gfp_mask;
}
export function mapping_set_gfp_mask(m: AddressSpace, gfp: gfp_t): void {
  m.gfp_mask = gfp;
}
export function mapping_set_large_folios(m: AddressSpace): void {
  m.max_folio_order = MAX_PAGECACHE_ORDER;
}
/** mapping_max_folio_size(): the chunk generic_perform_write copies at once. */
export function mapping_max_folio_size(m: AddressSpace): number {
  return 4096 << m.max_folio_order;
}
export function mapping_set_unevictable(m: AddressSpace): void {
  m.flags |= AS_UNEVICTABLE;
}
/** mapping_writably_mapped(): shared writable mmaps need flush_dcache_folio (a no-op on x86). */
export function mapping_writably_mapped(m: AddressSpace): boolean {
  return m.i_mmap_writable > 0;
}

/*
 * ---- the index: xarray operations on mapping->i_pages ----
 *
 * Callers pass the xarray, as Linux's pass &mapping->i_pages: a lookup is
 * lib/xarray's xa_load(mapping.i_pages, index). What Linux does with one
 * multi-index entry is spelled out here over each index a folio covers.
 */

/** True if no index in [start, start + nr) is occupied (xa_find in the range finds nothing). */
export function xa_range_empty(xa: XArray<Folio>, start: number, nr: number): boolean {
  return xa_find(xa, { index: start }, start + nr - 1) === null;
}

/** The multi-index xas_store(&xas, folio) of __filemap_add_folio: every index the folio covers. */
export function xa_store_folio(xa: XArray<Folio>, f: Folio): void {
  const nr = 1 << f.order;
  for (let i = 0; i < nr; i++) xa_store(xa, f.index + i, f);
}

/** xas_store(&xas, NULL) over the folio's range (page_cache_delete). */
export function xa_erase_folio(xa: XArray<Folio>, f: Folio): void {
  const nr = 1 << f.order;
  for (let i = 0; i < nr; i++) if (xa_load(xa, f.index + i) === f) xa_erase(xa, f.index + i);
}

/**
 * The distinct folios with an index >= start, in index order, including one
 * that covers `start` (find_lock_entries' walk). A snapshot: the caller may
 * remove folios while going through it.
 */
export function mapping_folios_from(m: AddressSpace, start: number): Folio[] {
  const folios: Folio[] = [];
  // One lookup per folio: a large folio fills all its indices, so go on past it.
  const idx: XaIndex = { index: start };
  for (let f = xa_find(m.i_pages, idx, XA_MAX_INDEX); f !== null; f = xa_find(m.i_pages, idx, XA_MAX_INDEX)) {
    folios.push(f);
    idx.index = folio_next_index(f);
  }
  return folios;
}

/* ---- struct folio_batch ---- */

export class FolioBatch {
  nr = 0;
  readonly folios: Folio[] = [];
}
/* Only nr counts: the slots past it are stale and never read, and keeping the array spares a reallocation per reuse. */
export function folio_batch_init(b: FolioBatch): void {
  b.nr = 0;
}
export function folio_batch_count(b: FolioBatch): number {
  return b.nr;
}
/** folio_batch_add(): the space left afterwards (0: full). */
export function folio_batch_add(b: FolioBatch, f: Folio): number {
  b.folios[b.nr++] = f;
  return PAGEVEC_SIZE - b.nr;
}
