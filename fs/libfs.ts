/*
 * fs/libfs.ts - helpers for in-memory filesystems.
 *
 * Mirrors fs/libfs.c: simple_lookup, generic_read_dir, dcache_dir_lseek,
 * simple_unlink, simple_rmdir/simple_empty, simple_getattr, simple_setattr,
 * and ram_aops (simple_read_folio, simple_write_begin, simple_write_end),
 * the address_space_operations ramfs uses.
 * Simplified: no readdir (getdents is not a syscall here), so
 * dcache_dir_lseek only moves f_pos.
 */
import {
  type Inode, type Kstat, type Iattr, type Kiocb, type AddressSpaceOperations, ATTR_SIZE, ATTR_MTIME, S_ISDIR,
  type File, type FileOperations,
} from '../include/linux/fs.ts';
import {
  type AddressSpace, type Folio, folio_test_uptodate, folio_mark_uptodate, folio_mark_dirty, folio_put, folio_size,
  offset_in_folio, mapping_gfp_mask, folio_unlock,
} from '../include/linux/pagemap.ts';
import { dput } from './dcache.ts';
import type { Dentry } from '../include/linux/dcache.ts';
import { drop_nlink, inode_newsize_ok, inode_touch_mtime } from './inode.ts';
import { __filemap_get_folio, FGP_WRITEBEGIN } from './filemap.ts';
import { truncate_setsize } from './truncate.ts';
import { folio_zero_segments, folio_zero_range } from '../mm/highmem.ts';
import { EINVAL, EISDIR, ENOTEMPTY } from '../include/uapi/asm-generic/errno.ts';
import { SEEK_SET, SEEK_CUR } from '../include/uapi/linux/fs.ts';

/** simple_lookup(): every name an in-memory filesystem has is in the dcache; a miss is ENOENT. */
export function simple_lookup(_dir: Inode, _name: string): Dentry | null {
  return null;
}

/** generic_read_dir(): read(2) on a directory. */
export function generic_read_dir(): number {
  return -EISDIR;
}

/** dcache_dir_lseek(): SEEK_SET and SEEK_CUR to a non-negative position. */
export function dcache_dir_lseek(file: File, offset: number, whence: number): number {
  if (whence === SEEK_CUR) offset += file.f_pos;
  else if (whence !== SEEK_SET) return -EINVAL;
  // loff_t is signed 64-bit: 2^63 and above are negative offsets.
  if (!Number.isInteger(offset) || offset < 0 || offset >= 2 ** 63) return -EINVAL;
  file.f_pos = offset;
  return offset;
}

/** simple_dir_operations. */
export const simple_dir_operations: FileOperations = {
  read: generic_read_dir,
  llseek: dcache_dir_lseek,
};

/** simple_unlink(): drop the link and the pin the dentry had since creation. */
export function simple_unlink(dir: Inode, dentry: Dentry): number {
  const inode = dentry.d_inode;
  if (!inode) return -EINVAL;
  inode_touch_mtime(dir);
  inode.i_ctime_ns = dir.i_ctime_ns;
  drop_nlink(inode);
  dput(dentry);
  return 0;
}

/** simple_empty(): no children. */
export function simple_empty(dentry: Dentry): boolean {
  return dentry.d_subdirs.size === 0;
}

/** simple_rmdir(). */
export function simple_rmdir(dir: Inode, dentry: Dentry): number {
  if (!simple_empty(dentry)) return -ENOTEMPTY;
  const inode = dentry.d_inode;
  if (!inode) return -EINVAL;
  drop_nlink(inode);
  simple_unlink(dir, dentry);
  drop_nlink(dir);
  return 0;
}

/** generic_fillattr(). */
export function generic_fillattr(inode: Inode, stat: Kstat): void {
  stat.dev = inode.i_sb.s_dev;
  stat.ino = inode.i_ino;
  stat.nlink = inode.i_nlink;
  stat.mode = inode.i_mode;
  stat.size = inode.i_size;
  stat.blksize = inode.i_sb.s_blocksize;
  stat.atime_ns = inode.i_atime_ns;
  stat.mtime_ns = inode.i_mtime_ns;
  stat.ctime_ns = inode.i_ctime_ns;
}

/** simple_getattr(): st_blocks in 512-byte units from the pages cached. */
export function simple_getattr(dentry: Dentry, stat: Kstat): number {
  const inode = dentry.d_inode;
  if (!inode) return -EINVAL;
  generic_fillattr(inode, stat);
  stat.blocks = inode.i_mapping.nrpages * 8;
  return 0;
}

/** simple_setattr(): size changes go through truncate_setsize(). */
export function simple_setattr(dentry: Dentry, attr: Iattr): number {
  const inode = dentry.d_inode;
  if (!inode) return -EINVAL;
  if (attr.ia_valid & ATTR_SIZE) {
    if (S_ISDIR(inode.i_mode)) return -EISDIR;
    const err = inode_newsize_ok(inode, attr.ia_size);
    if (err) return err;
    truncate_setsize(inode, attr.ia_size);
  }
  if (attr.ia_valid & ATTR_MTIME) inode_touch_mtime(inode);
  return 0;
}

/** simple_read_folio(): a page of an in-memory file that was never written reads as zeros. */
export function simple_read_folio(_file: File | null, folio: Folio): number {
  folio_zero_range(folio, 0, folio_size(folio));
  folio_mark_uptodate(folio);
  return 0;
}

/**
 * simple_write_begin(): the folio at pos, created if missing; a new one
 * has everything outside [pos, pos + len) zeroed first.
 */
export function simple_write_begin(_iocb: Kiocb, mapping: AddressSpace, pos: number, len: number): Folio | number {
  const r = __filemap_get_folio(mapping, Math.floor(pos / 4096), FGP_WRITEBEGIN, mapping_gfp_mask(mapping));
  if (typeof r === 'number') return r;
  if (!folio_test_uptodate(r) && len !== folio_size(r)) {
    const from = offset_in_folio(r, pos);
    folio_zero_segments(r, 0, from, from + len, folio_size(r));
  }
  return r;
}

/**
 * simple_write_end(): zero what a short copy left stale in a new folio,
 * mark it uptodate and dirty, extend i_size, drop the write_begin reference.
 */
export function simple_write_end(_iocb: Kiocb, mapping: AddressSpace, pos: number, len: number, copied: number, folio: Folio): number {
  const inode = mapping.host;
  if (!folio_test_uptodate(folio)) {
    if (copied < len) {
      const from = offset_in_folio(folio, pos);
      folio_zero_range(folio, from + copied, len - copied);
    }
    folio_mark_uptodate(folio);
  }
  const last_pos = pos + copied;
  if (last_pos > inode.i_size) inode.i_size = last_pos;
  folio_mark_dirty(folio);
  folio_unlock(folio);
  folio_put(folio);
  return copied;
}

/** ram_aops. */
export const ram_aops: AddressSpaceOperations = {
  read_folio: simple_read_folio,
  write_begin: simple_write_begin,
  write_end: simple_write_end,
};
