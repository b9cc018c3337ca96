/*
 * fs/shmem.ts - tmpfs: files whose only home is the page cache.
 *
 * Mirrors mm/shmem.c (kept beside the VFS, DESIGN.md section 3):
 *  - shmem_get_folio() with enum sgp_type: SGP_READ never allocates (a hole
 *    reads as zeros: the caller copies ZERO_PAGE), SGP_WRITE allocates a
 *    !uptodate folio that write_end zeroes around the copy;
 *  - page-cache folios come from the buddy allocator with the mapping's
 *    gfp (GFP_HIGHUSER_MOVABLE: the ASI work marks them sensitive);
 *  - huge=always (or within_size) mounts cache 2 MiB folios (order 9,
 *    HPAGE_PMD_ORDER) when the aligned extent is free, else fall back to
 *    order 0 (thp_file_fallback); reads still copy them a page at a time
 *    (copy_folio_to_iter), as Linux does;
 *  - shmem_file_read_iter() / shmem_file_write_iter() with
 *    shmem_write_begin / shmem_write_end;
 *  - size= (max_blocks, default half of RAM) and nr_inodes= limits give
 *    -ENOSPC, an allocator failure -ENOMEM; a write that runs out stops
 *    short with what it wrote, one that writes nothing changes nothing;
 *  - truncation (shmem_setattr -> shmem_truncate_range) and eviction free
 *    pages and their block accounting (shmem_recalc_inode).
 * Inodes, directories, mount options and init are the second half of
 * mm/shmem.c, in fs/shmem_super.ts.
 * mmap: shmem_mmap() / shmem_fault() (at the end of this file).
 * Simplified: no swap (swapped stays 0), no seals, no quotas or memcg, no
 * shrinker for huge folios beyond EOF, no huge PMD mappings.
 */
import {
  Inode, type SuperBlock, type Kiocb, type Iattr, type AddressSpaceOperations, S_ISREG, MAX_LFS_FILESIZE, ATTR_SIZE,
  ATTR_MTIME, i_size_read, i_size_write, file_inode,
} from '../include/linux/fs.ts';
import {
  type AddressSpace, type Folio, MAX_PAGECACHE_ORDER, folio_test_uptodate, folio_mark_uptodate, folio_mark_dirty,
  folio_mark_accessed, folio_put, folio_size, folio_lock, folio_unlock, folio_file_page, filemap_alloc_folio, mapping_gfp_mask,
  xa_range_empty, __folio_set_swapbacked, offset_in_folio,
} from '../include/linux/pagemap.ts';
import { iov_iter_count, user_backed_iter, copy_folio_to_iter, copy_page_to_iter, iov_iter_zero } from '../lib/iov_iter.ts';
import type { IovIter } from '../include/linux/uio.ts';
import {
  filemap_get_entry, __filemap_add_folio, filemap_remove_folio, generic_write_checks, generic_perform_write, file_update_time,
  pos_to_index, offset_in_fsize,
} from './filemap.ts';
import { truncate_inode_pages_range } from './truncate.ts';
import { unmap_mapping_range } from '../mm/memory.ts';
import { inode_newsize_ok, inode_touch_mtime, file_accessed } from './inode.ts';
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import { this_cpu } from '../kernel/smp.ts';
import type { Dentry } from '../include/linux/dcache.ts';
import { generic_file_llseek_size } from './read_write.ts';
import type { File, FileOperations } from '../include/linux/fs.ts';
import { folio_zero_segments } from '../mm/highmem.ts';
import { GFP_TRANSHUGE_LIGHT } from '../mm/gfp.ts';
import { PageHWPoison } from '../mm/page_flags.ts';
import { vm_event_item, count_vm_event } from '../mm/vmstat.ts';
import { ephmap_wanted } from '../mm/ephmap.ts';
import { ephmap_copy_folio_to_iter } from '../mm/folio_map.ts';
import { EEXIST, EFAULT, EFBIG, EINVAL, EIO, ENOENT, ENOMEM, ENOSPC } from '../include/uapi/asm-generic/errno.ts';

/* Cost-key indices as module locals: an imported binding is a getter under the TS loaders. */
const K_SHMEM_GET_FOLIO = COST_KEY_INDEX.shmem_get_folio;

/* enum sgp_type */
export const SGP_READ = 0;
export const SGP_NOALLOC = 1;
export const SGP_CACHE = 2;
export const SGP_WRITE = 3;
export const SGP_FALLOC = 4;

/* huge= (SHMEM_HUGE_*) */
export const SHMEM_HUGE_NEVER = 0;
export const SHMEM_HUGE_ALWAYS = 1;
export const SHMEM_HUGE_WITHIN_SIZE = 2;
export const SHMEM_HUGE_ADVISE = 3;
/** The huge= option's words. */
export const HUGE_NAMES: Readonly<Record<string, number>> = { never: 0, always: 1, within_size: 2, advise: 3 };

export const TMPFS_MAGIC = 0x01021994;
/** BOGO_DIRENT_SIZE: what each entry adds to a directory's i_size. */
export const BOGO_DIRENT_SIZE = 20;
export const HPAGE_PMD_ORDER = MAX_PAGECACHE_ORDER;
export const HPAGE_PMD_NR = 1 << HPAGE_PMD_ORDER;

export const THP_FILE_ALLOC = vm_event_item('thp_file_alloc');
export const THP_FILE_FALLBACK = vm_event_item('thp_file_fallback');

/** struct shmem_sb_info. */
export class ShmemSbInfo {
  /** max_blocks: pages the mount may hold (size=); 0 = unlimited. */
  max_blocks = 0;
  used_blocks = 0;
  max_inodes = 0;
  free_inodes = 0;
  huge = SHMEM_HUGE_NEVER;
  mode = 0o1777;
}

/** struct shmem_inode_info with its embedded vfs_inode. */
export class ShmemInodeInfo extends Inode {
  /** alloced: data pages charged to this inode (blocks accounted in sbinfo). */
  alloced = 0;
  swapped = 0;
  seals = 0;
}

export function SHMEM_I(inode: Inode): ShmemInodeInfo {
  return inode as ShmemInodeInfo;
}
export function SHMEM_SB(sb: SuperBlock): ShmemSbInfo {
  return sb.s_fs_info as ShmemSbInfo;
}

export const shmem_state = {
  /** tmpfs_default_huge (the transparent_hugepage_tmpfs= value). */
  tmpfs_default_huge: SHMEM_HUGE_NEVER,
};

/** ZERO_PAGE(0): mm/zero_page.ts. */
export { ZERO_PAGE } from '../mm/zero_page.ts';
import { ZERO_PAGE } from '../mm/zero_page.ts';

/* ---- block and inode accounting ---- */

/** shmem_inode_acct_blocks(): charge `pages` to the mount; -ENOSPC beyond size=. */
function shmem_inode_acct_blocks(inode: Inode, pages: number): number {
  const sbinfo = SHMEM_SB(inode.i_sb);
  if (sbinfo.max_blocks && sbinfo.used_blocks + pages > sbinfo.max_blocks) return -ENOSPC;
  sbinfo.used_blocks += pages;
  return 0;
}

function shmem_inode_unacct_blocks(inode: Inode, pages: number): void {
  SHMEM_SB(inode.i_sb).used_blocks -= pages;
}

/** shmem_recalc_inode(): pages no longer cached are uncharged. */
function shmem_recalc_inode(inode: Inode, alloced: number, swapped: number): void {
  const info = SHMEM_I(inode);
  info.alloced += alloced;
  info.swapped += swapped;
  const freed = info.alloced - info.swapped - inode.i_mapping.nrpages;
  if (freed > 0) {
    info.alloced -= freed;
    shmem_inode_unacct_blocks(inode, freed);
  }
}

/* ---- getting folios ---- */

/** shmem_allowable_huge_orders() for the read/write path: order 9 or 0. */
function shmem_huge_order(inode: Inode, index: number, write_end: number): number {
  if (!S_ISREG(inode.i_mode) || inode.i_mapping.max_folio_order === 0) return 0;
  switch (SHMEM_SB(inode.i_sb).huge) {
    case SHMEM_HUGE_ALWAYS:
      return HPAGE_PMD_ORDER;
    case SHMEM_HUGE_WITHIN_SIZE: {
      const end = Math.ceil(Math.max(write_end, i_size_read(inode)) / 4096);
      return end >= Math.ceil((index + 1) / HPAGE_PMD_NR) * HPAGE_PMD_NR ? HPAGE_PMD_ORDER : 0;
    }
    default:
      return 0; // never, advise (only for madvised mappings)
  }
}

/**
 * shmem_alloc_and_add_folio(): allocate a folio of `order` covering index,
 * cache it and charge its blocks. Returns it (one reference for the
 * caller) or -errno; on failure nothing is left behind.
 */
function shmem_alloc_and_add_folio(inode: Inode, index: number, order: number): Folio | number {
  const mapping = inode.i_mapping;
  const pages = 1 << order;
  index -= index % pages;
  const gfp = order ? GFP_TRANSHUGE_LIGHT : mapping_gfp_mask(mapping);
  const folio = filemap_alloc_folio(gfp, order);
  if (!folio) {
    if (order === HPAGE_PMD_ORDER) count_vm_event(THP_FILE_FALLBACK);
    return -ENOMEM;
  }
  __folio_set_swapbacked(folio);
  let error = __filemap_add_folio(mapping, folio, index); // shmem_add_to_page_cache
  if (!error) {
    error = shmem_inode_acct_blocks(inode, pages);
    if (error) filemap_remove_folio(folio);
  }
  if (error) {
    folio_put(folio);
    return error;
  }
  shmem_recalc_inode(inode, pages, 0);
  if (order === HPAGE_PMD_ORDER) count_vm_event(THP_FILE_ALLOC);
  return folio;
}

const MAX_LFS_INDEX = Math.floor(MAX_LFS_FILESIZE / 4096);

/**
 * shmem_get_folio(): the folio caching `index`, locked and with a
 * reference (the caller unlocks it), or 0 for a hole (SGP_READ), or
 * -errno: -EINVAL at or beyond EOF for SGP_READ and SGP_CACHE, -ENOSPC /
 * -ENOMEM when a new folio cannot be had. A new folio comes locked
 * (__folio_set_locked, no atomic); a cached one is locked here.
 */
export function shmem_get_folio(inode: Inode, index: number, write_end: number, sgp: number): Folio | number {
  this_cpu().charge_one(K_SHMEM_GET_FOLIO);
  if (index > MAX_LFS_INDEX) return -EFBIG;
  if (sgp <= SGP_CACHE && index * 4096 >= i_size_read(inode)) return -EINVAL;
  const found = filemap_get_entry(inode.i_mapping, index);
  if (found !== null) folio_lock(found);
  // A page-cache hit for anything but a write: the hot case, kept small.
  if (found !== null && sgp !== SGP_WRITE && folio_test_uptodate(found)) return found;
  return shmem_get_folio_gfp(inode, index, write_end, sgp, found);
}

/** The rest of shmem_get_folio(): writes, holes, !uptodate folios, allocation. */
function shmem_get_folio_gfp(inode: Inode, index: number, write_end: number, sgp: number, found: Folio | null): Folio | number {
  if (found) {
    if (sgp === SGP_WRITE) folio_mark_accessed(found);
    if (folio_test_uptodate(found) || sgp === SGP_WRITE) return found;
    if (sgp !== SGP_READ) {
      folio_zero_segments(found, 0, folio_size(found), 0, 0);
      folio_mark_uptodate(found);
      return found;
    }
    folio_unlock(found); // a !uptodate folio reads as a hole
    folio_put(found);
  }
  if (sgp === SGP_READ) return 0;
  if (sgp === SGP_NOALLOC) return -ENOENT;
  let r: Folio | number = -ENOMEM;
  const order = shmem_huge_order(inode, index, write_end);
  if (order && xa_range_empty(inode.i_mapping.i_pages, index - (index % (1 << order)), 1 << order))
    r = shmem_alloc_and_add_folio(inode, index, order);
  if (typeof r === 'number') r = shmem_alloc_and_add_folio(inode, index, 0);
  // Someone else added it: look again (Linux's goto repeat).
  if (r === -EEXIST) return shmem_get_folio(inode, index, write_end, sgp);
  if (typeof r === 'number') return r;
  if (sgp !== SGP_WRITE) {
    folio_zero_segments(r, 0, folio_size(r), 0, 0);
    folio_mark_uptodate(r);
  }
  return r;
}

/* ---- read and write ---- */

/** A hole reads as zeros: copying the zero page is faster than clear_user(). */
function shmem_read_hole(offset: number, nr: number, to: IovIter): number {
  if (user_backed_iter(to)) return copy_page_to_iter(ZERO_PAGE(0), offset, nr, to);
  return iov_iter_zero(nr, to);
}

/**
 * shmem_file_read_iter(): for each folio (or hole) under ki_pos, copy the
 * part within i_size to `to`: cached data through copy_folio_to_iter(), a
 * hole from ZERO_PAGE for user buffers. A short copy ends the read with
 * the bytes so far, or -EFAULT if none.
 */
export function shmem_file_read_iter(iocb: Kiocb, to: IovIter): number {
  const inode = file_inode(iocb.ki_filp);
  let retval = 0;
  let error = 0;
  for (;;) {
    const pos = iocb.ki_pos;
    if (pos >= i_size_read(inode)) break;
    const index = pos_to_index(pos);
    const r = shmem_get_folio(inode, index, 0, SGP_READ);
    if (typeof r === 'number' && r < 0) {
      if (r !== -EINVAL) error = r;
      break;
    }
    const folio = typeof r === 'number' ? null : r;
    if (folio) folio_unlock(folio);
    if (folio && PageHWPoison(folio_file_page(folio, index))) {
      folio_put(folio);
      error = -EIO;
      break;
    }
    // Reads do not hold i_rwsem: look at i_size again.
    const i_size = i_size_read(inode);
    if (pos >= i_size) {
      if (folio) folio_put(folio);
      break;
    }
    const end_offset = Math.min(i_size, pos + to.count);
    const fsize = folio ? folio_size(folio) : 4096;
    const offset = offset_in_fsize(pos, fsize); // ki_pos & (fsize - 1)
    const nr = Math.min(end_offset - pos, fsize - offset);
    let ret: number;
    if (folio) {
      // if (mapping_writably_mapped(mapping)) flush_dcache_folio(folio): nothing on x86.
      if (!offset) folio_mark_accessed(folio);
      // The copy out of the page cache. Restricted (ASI), through the ephmap=
      // mapping: migrate_disable(), get, copy_to_iter() from it, put,
      // migrate_enable(), the physmap copy when the get fails; else the
      // physmap copy (kmap_local_page) directly.
      ret = ephmap_wanted() ? ephmap_copy_folio_to_iter(folio, offset, nr, to) : copy_folio_to_iter(folio, offset, nr, to);
      folio_put(folio);
    } else {
      ret = shmem_read_hole(offset, nr, to);
    }
    retval += ret;
    iocb.ki_pos += ret;
    if (!iov_iter_count(to)) break;
    if (ret < nr) {
      error = -EFAULT;
      break;
    }
  }
  file_accessed(iocb.ki_filp);
  return retval ? retval : error;
}

/** shmem_write_begin(): the folio for pos (SGP_WRITE: allocated if needed, may be !uptodate). */
function shmem_write_begin(_iocb: Kiocb, mapping: AddressSpace, pos: number, len: number): Folio | number {
  const inode = mapping.host;
  const r = shmem_get_folio(inode, Math.floor(pos / 4096), pos + len, SGP_WRITE);
  if (typeof r === 'number') return r === 0 ? -ENOMEM : r;
  if (PageHWPoison(folio_file_page(r, Math.floor(pos / 4096)))) {
    folio_unlock(r);
    folio_put(r);
    return -EIO;
  }
  return r;
}

/**
 * shmem_write_end(): extend i_size, zero what the copy did not fill in a
 * new folio and mark it uptodate, mark it dirty, drop the reference.
 */
function shmem_write_end(_iocb: Kiocb, mapping: AddressSpace, pos: number, _len: number, copied: number, folio: Folio): number {
  const inode = mapping.host;
  if (pos + copied > inode.i_size) i_size_write(inode, pos + copied);
  if (!folio_test_uptodate(folio)) {
    if (copied < folio_size(folio)) {
      const from = offset_in_folio(folio, pos);
      folio_zero_segments(folio, 0, from, from + copied, folio_size(folio));
    }
    folio_mark_uptodate(folio);
  }
  folio_mark_dirty(folio);
  folio_unlock(folio);
  folio_put(folio);
  return copied;
}

/** shmem_file_write_iter(). */
export function shmem_file_write_iter(iocb: Kiocb, from: IovIter): number {
  const ret = generic_write_checks(iocb, from);
  if (ret <= 0) return ret;
  file_update_time(iocb.ki_filp); // after file_remove_privs(): nothing to remove
  return generic_perform_write(iocb, from);
}

/** shmem_file_llseek(): generic, bounded by MAX_LFS_FILESIZE (no SEEK_DATA/SEEK_HOLE). */
function shmem_file_llseek(file: File, offset: number, whence: number): number {
  const inode = file_inode(file);
  return generic_file_llseek_size(file, offset, whence, MAX_LFS_FILESIZE, i_size_read(inode));
}

export const shmem_aops: AddressSpaceOperations = {
  write_begin: shmem_write_begin,
  write_end: shmem_write_end,
};

export const shmem_file_operations: FileOperations = {
  llseek: shmem_file_llseek,
  read_iter: shmem_file_read_iter,
  write_iter: shmem_file_write_iter,
  fallocate: shmem_fallocate,
  mmap: shmem_mmap,
};

/* ---- truncation and eviction ---- */

/** shmem_truncate_range(): drop [lstart, lend] from the cache, then uncharge. */
export function shmem_truncate_range(inode: Inode, lstart: number, lend: number): void {
  truncate_inode_pages_range(inode.i_mapping, lstart, lend);
  shmem_recalc_inode(inode, 0, 0);
}

export function shmem_setattr(dentry: Dentry, attr: Iattr): number {
  const inode = dentry.d_inode;
  if (!inode) return -EINVAL;
  if (attr.ia_valid & ATTR_SIZE && S_ISREG(inode.i_mode)) {
    const oldsize = inode.i_size;
    const newsize = attr.ia_size;
    const err = inode_newsize_ok(inode, newsize);
    if (err) return err;
    if (newsize !== oldsize) {
      i_size_write(inode, newsize);
      inode_touch_mtime(inode);
    }
    // Mappings beyond the new EOF go first, private CoW copies included.
    if (newsize < oldsize && inode.i_mapping.i_mmap.size)
      unmap_mapping_range(inode.i_mapping, Math.ceil(newsize / 4096) * 4096, 0, true);
    if (newsize <= oldsize && SHMEM_I(inode).alloced) shmem_truncate_range(inode, newsize, -1);
  } else if (attr.ia_valid & ATTR_MTIME) {
    inode_touch_mtime(inode);
  }
  return 0;
}

export function shmem_evict_inode(inode: Inode): void {
  if (pr_debug.enabled) pr_debug('shmem_evict_inode: ino %d, %d bytes', inode.i_ino, inode.i_size);
  if (S_ISREG(inode.i_mode)) {
    inode.i_size = 0;
    shmem_truncate_range(inode, 0, -1);
  }
  const sbinfo = SHMEM_SB(inode.i_sb);
  if (sbinfo.max_inodes) sbinfo.free_inodes++; // shmem_free_inode()
}

/* ---- fallocate ---- */

// Kept here, apart from the imports above, so this function stays one separate hunk.
import { EOPNOTSUPP } from '../include/uapi/asm-generic/errno.ts';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../include/uapi/linux/falloc.ts';
import { pr_debug_ns } from '../kernel/printk.ts';

const pr_debug = pr_debug_ns('fs:shmem');

/**
 * shmem_fallocate(): tmpfs's ->fallocate. PUNCH_HOLE (with KEEP_SIZE)
 * truncates the range; otherwise every page of [offset, offset + len) gets
 * a folio, allocated as SGP_FALLOC does in Linux, by the SGP_WRITE path: a
 * new folio is not cleared and stays !uptodate, so it reads as a hole (zeros)
 * and a later write fills it without clearing first. Without KEEP_SIZE the
 * file grows to offset + len. Returns 0 or -errno (-ENOSPC past the
 * mount's size=, -EFBIG past the maximum file size).
 * Simplified: on failure the folios allocated so far stay (Linux undoes
 * them with shmem_undo_range); no shmem_falloc wait for concurrent faults.
 */
export function shmem_fallocate(file: File, mode: number, offset: number, len: number): number {
  const inode = file_inode(file);
  if (pr_debug.enabled) pr_debug('shmem_fallocate: ino %d mode 0x%s offset %d len %d', inode.i_ino, mode.toString(16), offset, len);
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP;
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    shmem_truncate_range(inode, offset, offset + len - 1);
    inode_touch_mtime(inode);
    return 0;
  }
  const err = inode_newsize_ok(inode, offset + len);
  if (err) return err;
  const start = Math.floor(offset / 4096);
  const end = Math.ceil((offset + len) / 4096);
  for (let index = start; index < end; index++) {
    const r = shmem_get_folio(inode, index, offset + len, SGP_WRITE);
    if (typeof r === 'number') return r;
    folio_mark_dirty(r);
    folio_put(r);
  }
  if (!(mode & FALLOC_FL_KEEP_SIZE) && offset + len > i_size_read(inode)) i_size_write(inode, offset + len);
  inode_touch_mtime(inode);
  return 0;
}

/* ---- mmap ---- */

// Kept here, apart from the imports above, so this part stays one separate hunk.
import { type VmFault, type VmOperationsStruct, VM_FAULT_SIGBUS, VM_FAULT_OOM } from '../include/linux/mm.ts';
import type { VmAreaStruct } from '../include/linux/mm_types.ts';

/**
 * shmem_fault(): the folio for vmf.pgoff from shmem_get_folio(SGP_CACHE),
 * which allocates (and clears) a hole's folio; beyond EOF, or past size=,
 * is SIGBUS. The page goes to do_fault() with the lookup's reference.
 */
export function shmem_fault(vmf: VmFault): number {
  const file = vmf.vma.vm_file;
  if (!file) return VM_FAULT_SIGBUS;
  const r = shmem_get_folio(file_inode(file), vmf.pgoff, 0, SGP_CACHE);
  if (typeof r === 'number') return r === -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
  folio_unlock(r);
  vmf.page = folio_file_page(r, vmf.pgoff);
  return 0;
}

export const shmem_vm_ops: VmOperationsStruct = {
  name: 'shmem_vm_ops',
  fault: shmem_fault,
};

/** shmem_mmap(): tmpfs's ->mmap. */
export function shmem_mmap(file: File, vma: VmAreaStruct): number {
  file_accessed(file);
  vma.vm_ops = shmem_vm_ops;
  return 0;
}
