/*
 * fs/truncate.ts - removing page-cache folios when a file shrinks or dies.
 *
 * Mirrors mm/truncate.c: truncate_inode_pages_range() removes every folio
 * lying wholly inside [lstart, lend] and zeroes the part inside the range
 * of a folio straddling either end (truncate_inode_partial_folio), so
 * bytes beyond EOF in a kept folio read as zeros if the file grows again.
 * A folio still mapped into user space is unmapped before it goes
 * (truncate_cleanup_folio -> unmap_mapping_folio), and truncate_pagecache()
 * first unmaps everything beyond the new EOF, private CoW copies included
 * (unmap_mapping_range(..., even_cows = 1)), so a later access there
 * faults and gets SIGBUS; each mm's unmap is one mmu_gather and flush.
 * Simplified: a large folio straddling the boundary is never split (Linux
 * tries split_folio() and, when that fails, zeroes and keeps it, as here);
 * no shadow entries, no writeback to wait for.
 */
import { type AddressSpace, folio_pos, folio_size, mapping_folios_from } from '../include/linux/pagemap.ts';
import { filemap_remove_folio } from './filemap.ts';
import { folio_zero_range } from '../mm/highmem.ts';
import { type Inode, i_size_write } from '../include/linux/fs.ts';
import { ephmap_lose_access_all } from '../mm/ephmap.ts';
import { unmap_mapping_range, unmap_mapping_pages } from '../mm/memory.ts';

/**
 * truncate_inode_pages_range(): drop the page cache of bytes [lstart, lend]
 * (lend inclusive; -1 means to the end of the file).
 * `on_remove` lets shmem account each removed folio (shmem_undo_range).
 */
export function truncate_inode_pages_range(mapping: AddressSpace, lstart: number, lend: number,
  on_remove?: (nr_pages: number) => void): void {
  if (mapping.nrpages === 0) return;
  const end = lend < 0 ? Infinity : lend + 1; // exclusive
  let flushed = false;
  for (const folio of mapping_folios_from(mapping, Math.floor(lstart / 4096))) {
    const fstart = folio_pos(folio);
    const fend = fstart + folio_size(folio);
    if (fstart >= end) break;
    if (fstart >= lstart && fend <= end) {
      const nr = 1 << folio.order;
      // Processes lose logical access to the folio: flush stale ephmap entries first (once).
      if (!flushed) ephmap_lose_access_all();
      flushed = true;
      // truncate_cleanup_folio(): a folio still mapped loses its user mappings first.
      if (mapping.i_mmap.size) unmap_mapping_pages(mapping, folio.index, folio.index + nr, false);
      filemap_remove_folio(folio);
      on_remove?.(nr);
      continue;
    }
    // truncate_inode_partial_folio(): zero what lies inside the range.
    const from = Math.max(lstart, fstart) - fstart;
    const to = Math.min(end, fend) - fstart;
    if (to > from) folio_zero_range(folio, from, to - from);
  }
}

/** truncate_inode_pages(): everything from lstart on. */
export function truncate_inode_pages(mapping: AddressSpace, lstart: number): void {
  truncate_inode_pages_range(mapping, lstart, -1);
}

/** truncate_inode_pages_final(): the inode is being evicted; drop its whole cache. */
export function truncate_inode_pages_final(mapping: AddressSpace): void {
  truncate_inode_pages_range(mapping, 0, -1);
}

/**
 * truncate_pagecache(): after i_size moved down to `newsize`. The user
 * mappings beyond the new EOF go before and after the page cache does (a
 * fault in between could map a page again), private copies included.
 */
export function truncate_pagecache(inode: Inode, newsize: number): void {
  const mapping = inode.i_mapping;
  const holebegin = Math.ceil(newsize / 4096) * 4096;
  if (mapping.i_mmap.size) unmap_mapping_range(mapping, holebegin, 0, true);
  truncate_inode_pages(mapping, newsize);
  if (mapping.i_mmap.size) unmap_mapping_range(mapping, holebegin, 0, true);
}

/** truncate_setsize(): set i_size, then drop the cache beyond it if it shrank. */
export function truncate_setsize(inode: Inode, newsize: number): void {
  const oldsize = inode.i_size;
  i_size_write(inode, newsize);
  if (newsize < oldsize) truncate_pagecache(inode, newsize);
}
