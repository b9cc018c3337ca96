/*
 * fs/filemap.ts - the generic page cache: lookup, insertion, read and write.
 *
 * Mirrors mm/filemap.c (kept beside the VFS here, DESIGN.md section 3):
 *  - __filemap_add_folio / filemap_add_folio, __filemap_remove_folio /
 *    filemap_remove_folio with the NR_FILE_PAGES / NR_SHMEM(_THPS)
 *    accounting, __filemap_get_folio with FGP_CREAT;
 *  - filemap_read(): batches of up to PAGEVEC_SIZE contiguous cached folios
 *    (filemap_get_read_batch), a missing folio created and filled through
 *    ->read_folio (filemap_create_folio; ramfs zero-fills), each copied
 *    with copy_folio_to_iter() one 4 KiB subpage at a time;
 *  - generic_perform_write(): ->write_begin, copy_folio_from_iter_atomic,
 *    ->write_end, chunked by the mapping's largest folio;
 *  - generic_write_checks, generic_file_read_iter / generic_file_write_iter.
 * Simplified: no readahead (every folio of an in-memory filesystem is
 * either cached or a hole), no direct I/O, no dirty throttling, no
 * writeback, no folio locks or waits (see include/linux/pagemap.ts).
 */
import {
  type AddressSpace, type Folio, FolioBatch, folio_batch_add, folio_batch_count, folio_batch_init,
  folio_get, folio_put, folio_put_refs, folio_ref_add, folio_nr_pages, folio_size, folio_pos, folio_next_index,
  folio_test_uptodate, folio_mark_accessed, folio_lock, folio_test_large, filemap_alloc_folio, mapping_gfp_mask,
  mapping_max_folio_size, mapping_writably_mapped, offset_in_folio, xa_store_folio, xa_erase_folio, xa_range_empty,
} from '../include/linux/pagemap.ts';
import { xa_load, xa_store_needs_node } from '../lib/xarray.ts';
import { type Kiocb, IOCB_APPEND, i_size_read, file_inode, type File } from '../include/linux/fs.ts';
import {
  iov_iter_count, iov_iter_truncate, iov_iter_revert, copy_folio_to_iter, copy_folio_from_iter_atomic,
  fault_in_iov_iter_readable,
} from '../lib/iov_iter.ts';
import type { IovIter } from '../include/linux/uio.ts';
import { inode_touch_mtime, file_accessed } from './inode.ts';
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import { this_cpu } from '../kernel/smp.ts';
import { vm_stat_item, mod_node_page_state } from '../mm/vmstat.ts';
import { PageSwapBacked } from '../mm/page_flags.ts';
import { GFP_KERNEL, type gfp_t } from '../mm/gfp.ts';
import { should_failslab } from '../mm/failslab.ts';
import { BUG } from '../kernel/panic.ts';
import { ephmap_wanted } from '../mm/ephmap.ts';
import { ephmap_copy_folio_to_iter, ephmap_copy_folio_from_iter } from '../mm/folio_map.ts';
import { EEXIST, EFAULT, EFBIG, EINVAL, ENOENT, ENOMEM } from '../include/uapi/asm-generic/errno.ts';

/* Cost-key indices as module locals: an imported binding is a getter under the TS loaders. */
const K_XAS_RELOAD = COST_KEY_INDEX.xas_reload;
const K_SPIN_LOCK = COST_KEY_INDEX.spin_lock;

/* enum node_stat_item (the page-cache ones). */
export const NR_FILE_PAGES = vm_stat_item('nr_file_pages');
export const NR_SHMEM = vm_stat_item('nr_shmem');
export const NR_SHMEM_THPS = vm_stat_item('nr_shmem_hugepages');
export const NR_FILE_THPS = vm_stat_item('nr_file_hugepages');

/* fgf_t flags for __filemap_get_folio. */
export const FGP_ACCESSED = 1 << 0;
export const FGP_LOCK = 1 << 1;
export const FGP_CREAT = 1 << 2;
export const FGP_WRITE = 1 << 3;
export const FGP_NOFS = 1 << 4;
export const FGP_NOWAIT = 1 << 5;
export const FGP_STABLE = 1 << 7;
export const FGP_WRITEBEGIN = FGP_LOCK | FGP_WRITE | FGP_CREAT | FGP_STABLE;

/* ---- accounting ---- */

/** __lruvec_stat_mod_folio for the page-cache counters; `sign` +1 on add, -1 on removal. */
export function filemap_account_folio(folio: Folio, sign: number): void {
  const nr = folio_nr_pages(folio) * sign;
  mod_node_page_state(NR_FILE_PAGES, nr);
  const shmem = PageSwapBacked(folio.page);
  if (shmem) mod_node_page_state(NR_SHMEM, nr);
  if (folio_test_large(folio)) mod_node_page_state(shmem ? NR_SHMEM_THPS : NR_FILE_THPS, nr);
}

/* ---- insertion and removal ---- */

/**
 * __filemap_add_folio(): cache `folio` at `index` (aligned to its size).
 * The page cache takes folio_nr_pages() references. -EEXIST if any index
 * in the range is taken.
 */
export function __filemap_add_folio(mapping: AddressSpace, folio: Folio, index: number): number {
  const nr = folio_nr_pages(folio);
  if (index % nr !== 0) BUG('__filemap_add_folio: index %d not aligned to %d pages', index, nr);
  if (!xa_range_empty(mapping.i_pages, index, nr)) return -EEXIST; // xas_find_conflict()
  if ((xa_store_needs_node(mapping.i_pages, index) || xa_store_needs_node(mapping.i_pages, index + nr - 1)) && should_failslab('radix_tree_node', GFP_KERNEL)) return -ENOMEM; // xas_nomem() failed
  folio_ref_add(folio, nr);
  folio.mapping = mapping;
  folio.index = index;
  this_cpu().charge_index(K_SPIN_LOCK); // xas_lock_irq(&xas) around the store
  xa_store_folio(mapping.i_pages, folio);
  mapping.nrpages += nr;
  filemap_account_folio(folio, 1);
  return 0;
}

/** filemap_add_folio(): as above, plus the LRU (not modelled). */
export function filemap_add_folio(mapping: AddressSpace, folio: Folio, index: number, _gfp: gfp_t): number {
  return __filemap_add_folio(mapping, folio, index);
}

/** __filemap_remove_folio() (page_cache_delete + filemap_unaccount_folio). */
export function __filemap_remove_folio(folio: Folio): void {
  const mapping = folio.mapping;
  if (!mapping) BUG('__filemap_remove_folio: pfn %d is not in a page cache', folio.page);
  this_cpu().charge_index(K_SPIN_LOCK); // the caller's xa_lock_irq(&mapping->i_pages), one per folio here
  xa_erase_folio(mapping.i_pages, folio);
  mapping.nrpages -= folio_nr_pages(folio);
  folio.mapping = null;
  filemap_account_folio(folio, -1);
}

/** filemap_remove_folio(): remove and drop the page cache's references (filemap_free_folio). */
export function filemap_remove_folio(folio: Folio): void {
  __filemap_remove_folio(folio);
  folio_put_refs(folio, folio_nr_pages(folio));
}

/** filemap_get_entry(): the cached folio with a reference, or null. */
export function filemap_get_entry(mapping: AddressSpace, index: number): Folio | null {
  const folio = xa_load(mapping.i_pages, index);
  if (!folio) return null;
  folio_get(folio); // folio_try_get()
  this_cpu().charge_one(K_XAS_RELOAD); // xas_reload(): is the folio still the one cached there?
  return folio;
}

/**
 * __filemap_get_folio(): the folio at `index` with a reference; with
 * FGP_CREAT a missing one is allocated (order 0, !uptodate) and added.
 * -ENOENT if absent without FGP_CREAT, -ENOMEM if allocation fails.
 */
export function __filemap_get_folio(mapping: AddressSpace, index: number, fgp_flags: number, gfp: gfp_t): Folio | number {
  const found = filemap_get_entry(mapping, index);
  if (found) {
    if (fgp_flags & FGP_LOCK) folio_lock(found);
    if (fgp_flags & FGP_ACCESSED) folio_mark_accessed(found);
    return found;
  }
  if (!(fgp_flags & FGP_CREAT)) return -ENOENT;
  const folio = filemap_alloc_folio(gfp, 0);
  if (!folio) return -ENOMEM;
  const err = filemap_add_folio(mapping, folio, index, gfp);
  if (err) {
    folio_put(folio);
    return err;
  }
  return folio;
}

/* ---- reading ---- */

/*
 * A file position's page index (pos >> PAGE_SHIFT) and its offset in a
 * folio of `fsize` bytes, a power of two (pos & (fsize - 1)), as Linux
 * writes them (no helpers of these names). JIT-driven: below 2^31, where
 * almost every position lies, they are integer ops; on a double, `%` is a
 * call to fmod and `/` a float division, on every read.
 */
export function pos_to_index(pos: number): number {
  return pos < 0x80000000 ? pos >>> 12 : Math.floor(pos / 4096);
}
export function offset_in_fsize(pos: number, fsize: number): number {
  return pos < 0x80000000 ? pos & (fsize - 1) : pos % fsize;
}

/*
 * The struct folio_batch filemap_read() keeps on the kernel stack: one,
 * taken for the call and put back after, so a read nested inside (a fault
 * on the user buffer that reads another file) makes its own, as a deeper
 * frame would. A fresh batch per read was a host allocation per read.
 */
let fbatch_scratch: FolioBatch | null = null;

/**
 * filemap_get_read_batch(): referenced folios from `index` up to `max`,
 * stopping at the first gap, at a !uptodate folio (included) or when the
 * batch is full.
 */
function filemap_get_read_batch(mapping: AddressSpace, index: number, max: number, fbatch: FolioBatch): void {
  while (index <= max) {
    const folio = xa_load(mapping.i_pages, index);
    if (!folio) break;
    folio_get(folio);
    if (!folio_batch_add(fbatch, folio)) break;
    if (!folio_test_uptodate(folio)) break;
    index = folio_next_index(folio);
  }
}

/** filemap_read_folio(): ->read_folio on a folio just added. */
function filemap_read_folio(file: File | null, mapping: AddressSpace, folio: Folio): number {
  const read_folio = mapping.a_ops?.read_folio;
  if (!read_folio) return -EINVAL;
  return read_folio(file, folio);
}

/** filemap_create_folio(): allocate, cache and fill the folio at ki_pos. */
function filemap_create_folio(file: File, mapping: AddressSpace, pos: number, fbatch: FolioBatch): number {
  const folio = filemap_alloc_folio(mapping_gfp_mask(mapping), 0);
  if (!folio) return -ENOMEM;
  const index = Math.floor(pos / 4096);
  let err = filemap_add_folio(mapping, folio, index, mapping_gfp_mask(mapping));
  if (!err) err = filemap_read_folio(file, mapping, folio);
  if (err) {
    if (folio.mapping) filemap_remove_folio(folio);
    folio_put(folio);
    return err;
  }
  folio_batch_add(fbatch, folio);
  return 0;
}

/** filemap_get_pages(): a batch for the read at ki_pos, creating the first folio if missing. */
function filemap_get_pages(iocb: Kiocb, count: number, fbatch: FolioBatch): number {
  const file = iocb.ki_filp;
  const mapping = file_inode(file).i_mapping;
  const index = pos_to_index(iocb.ki_pos);
  const last_index = Math.ceil((iocb.ki_pos + count) / 4096);
  for (;;) {
    filemap_get_read_batch(mapping, index, last_index - 1, fbatch);
    if (folio_batch_count(fbatch)) break;
    // page_cache_sync_readahead() would go here: nothing to read ahead from.
    const err = filemap_create_folio(file, mapping, iocb.ki_pos, fbatch);
    if (err !== -EEXIST) return err; // -EEXIST: raced with another add (AOP_TRUNCATED_PAGE): retry
  }
  const last = fbatch.folios[fbatch.nr - 1];
  if (last && !folio_test_uptodate(last)) {
    // filemap_update_page(): an in-memory folio that is !uptodate was never filled; fill it now.
    const err = filemap_read_folio(file, mapping, last);
    if (err) return err;
  }
  return 0;
}

/**
 * filemap_read(): copy from the page cache to `iter` at ki_pos. Returns the
 * bytes read, or -errno if nothing was (EFAULT for a bad buffer).
 */
export function filemap_read(iocb: Kiocb, iter: IovIter, already_read: number): number {
  const inode = file_inode(iocb.ki_filp);
  const mapping = inode.i_mapping;
  if (iocb.ki_pos < 0) return -EINVAL;
  if (iocb.ki_pos >= inode.i_sb.s_maxbytes) return 0;
  if (!iov_iter_count(iter)) return 0;
  iov_iter_truncate(iter, inode.i_sb.s_maxbytes - iocb.ki_pos);
  const fbatch = fbatch_scratch ?? new FolioBatch();
  fbatch_scratch = null;
  let error = 0;
  let isize = 0;
  do {
    if (iocb.ki_pos >= i_size_read(inode)) break;
    error = filemap_get_pages(iocb, iter.count, fbatch);
    if (error < 0) break;
    // i_size must be checked after we know the pages are uptodate.
    isize = i_size_read(inode);
    if (iocb.ki_pos < isize) {
      const end_offset = Math.min(isize, iocb.ki_pos + iter.count);
      const writably_mapped = mapping_writably_mapped(mapping);
      folio_mark_accessed(fbatch.folios[0]); // (Linux skips it when the last read ended in this folio)
      for (let i = 0; i < folio_batch_count(fbatch); i++) {
        const folio = fbatch.folios[i];
        const fsize = folio_size(folio);
        const offset = offset_in_fsize(iocb.ki_pos, fsize);
        const bytes = Math.min(end_offset - iocb.ki_pos, fsize - offset);
        if (end_offset < folio_pos(folio)) break;
        if (i > 0) folio_mark_accessed(folio);
        void writably_mapped; // flush_dcache_folio() is a no-op on x86
        // Restricted (ASI): through the ephmap= mapping, not the physmap.
        const copied = ephmap_wanted() ? ephmap_copy_folio_to_iter(folio, offset, bytes, iter)
          : copy_folio_to_iter(folio, offset, bytes, iter);
        already_read += copied;
        iocb.ki_pos += copied;
        if (copied < bytes) {
          error = -EFAULT;
          break;
        }
      }
    }
    for (let i = 0; i < folio_batch_count(fbatch); i++) folio_put(fbatch.folios[i]);
    folio_batch_init(fbatch);
  } while (iov_iter_count(iter) && iocb.ki_pos < isize && !error);
  if (!folio_batch_count(fbatch)) fbatch_scratch = fbatch; // reused only empty
  file_accessed(iocb.ki_filp);
  return already_read ? already_read : error;
}

/** generic_file_read_iter(). */
export function generic_file_read_iter(iocb: Kiocb, iter: IovIter): number {
  if (!iov_iter_count(iter)) return 0;
  return filemap_read(iocb, iter, 0);
}

/* ---- writing ---- */

/**
 * generic_write_checks(): O_APPEND moves ki_pos to EOF; the count is cut
 * at s_maxbytes (-EFBIG at or beyond it). Returns the count or -errno.
 */
export function generic_write_checks(iocb: Kiocb, from: IovIter): number {
  const inode = file_inode(iocb.ki_filp);
  if (!iov_iter_count(from)) return 0;
  if (iocb.ki_flags & IOCB_APPEND) iocb.ki_pos = i_size_read(inode);
  const max_size = inode.i_sb.s_maxbytes;
  if (iocb.ki_pos >= max_size) return -EFBIG;
  iov_iter_truncate(from, max_size - iocb.ki_pos);
  return iov_iter_count(from);
}

/** file_update_time(): mtime and ctime to now. */
export function file_update_time(file: File): void {
  inode_touch_mtime(file_inode(file));
}

/**
 * generic_perform_write(): copy `i` into the page cache at ki_pos, a chunk
 * (up to the largest folio) at a time through ->write_begin/->write_end.
 * Returns the bytes written, or -errno if none were.
 */
export function generic_perform_write(iocb: Kiocb, i: IovIter): number {
  const mapping = file_inode(iocb.ki_filp).i_mapping;
  const a_ops = mapping.a_ops;
  if (!a_ops) BUG('generic_perform_write: mapping without address_space_operations');
  let chunk = mapping_max_folio_size(mapping);
  let pos = iocb.ki_pos;
  let written = 0;
  let status = 0;
  do {
    const offset = pos % chunk;
    let bytes = Math.min(chunk - offset, iov_iter_count(i));
    // Bring in the user page we will copy from first (Linux up to 6.14
    // does this here): a source that cannot be read at all fails before
    // write_begin can allocate a folio or move i_size.
    if (fault_in_iov_iter_readable(i, bytes) === bytes) {
      status = -EFAULT;
      break;
    }
    const r = a_ops.write_begin(iocb, mapping, pos, bytes);
    if (typeof r === 'number') {
      status = r;
      break;
    }
    const folio = r;
    const foffset = offset_in_folio(folio, pos);
    if (bytes > folio_size(folio) - foffset) bytes = folio_size(folio) - foffset;
    // Restricted (ASI): through the ephmap= mapping, not the physmap.
    const copied = ephmap_wanted() ? ephmap_copy_folio_from_iter(folio, foffset, bytes, i)
      : copy_folio_from_iter_atomic(folio, foffset, bytes, i);
    status = a_ops.write_end(iocb, mapping, pos, bytes, copied, folio);
    if (status !== copied) {
      iov_iter_revert(i, copied - Math.max(status, 0));
      if (status < 0) break;
    }
    if (status === 0) {
      // A short copy made ->write_end() reject it (or copied nothing).
      if (chunk > 4096) chunk /= 2;
      if (!copied && fault_in_iov_iter_readable(i, bytes) === bytes) {
        status = -EFAULT;
        break;
      }
    } else {
      pos += status;
      written += status;
    }
  } while (iov_iter_count(i));
  if (!written) return status;
  iocb.ki_pos += written;
  return written;
}

/** __generic_file_write_iter(): buffered writes only. */
export function __generic_file_write_iter(iocb: Kiocb, from: IovIter): number {
  file_update_time(iocb.ki_filp); // file_remove_privs(): no privileges to remove
  return generic_perform_write(iocb, from);
}

/** generic_file_write_iter(). */
export function generic_file_write_iter(iocb: Kiocb, from: IovIter): number {
  const ret = generic_write_checks(iocb, from);
  if (ret <= 0) return ret;
  return __generic_file_write_iter(iocb, from);
}
