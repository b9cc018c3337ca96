/*
 * fs/ramfs.ts - ramfs: the page cache with nothing behind it.
 *
 * Mirrors fs/ramfs/inode.c and fs/ramfs/file-mmu.c: files use the generic
 * page-cache paths of mm/filemap.c (generic_file_read_iter ->
 * filemap_read with folio batches, generic_file_write_iter ->
 * generic_perform_write) and libfs's ram_aops; pages are GFP_HIGHUSER and
 * unevictable. There is no size limit: a write that finds no memory fails
 * with -ENOMEM. Reading a hole allocates a zeroed page, as Linux's
 * filemap_create_folio + simple_read_folio do.
 * mmap goes through the page cache (generic_file_mmap, mm/filemap_fault.ts).
 * Simplified: no large folios, mount option mode= only.
 */
import {
  type SuperBlock, type Inode, type FileSystemType, type InodeOperations, S_IFDIR, S_IFREG, S_ISDIR, S_ISREG, S_IALLUGO,
  MAX_LFS_FILESIZE,
} from '../include/linux/fs.ts';
import { mapping_set_gfp_mask, mapping_set_unevictable } from '../include/linux/pagemap.ts';
import { generic_file_read_iter, generic_file_write_iter } from './filemap.ts';
import { truncate_inode_pages_final } from './truncate.ts';
import { new_inode, inode_init_owner, simple_inode_init_ts, inc_nlink, inode_touch_mtime } from './inode.ts';
import { d_make_root, d_instantiate, d_rehash } from './dcache.ts';
import { type Dentry, dget } from '../include/linux/dcache.ts';
import { alloc_super, kill_litter_super, register_filesystem } from './super.ts';
import {
  simple_lookup, simple_unlink, simple_rmdir, simple_getattr, simple_setattr, simple_dir_operations, ram_aops,
} from './libfs.ts';
import { generic_file_llseek } from './read_write.ts';
import type { FileOperations } from '../include/linux/fs.ts';
import { generic_file_mmap } from '../mm/filemap_fault.ts';
import { GFP_HIGHUSER } from '../mm/gfp.ts';
import { EINVAL } from '../include/uapi/asm-generic/errno.ts';

export const RAMFS_MAGIC = 0x858458f6;
/** RAMFS_DEFAULT_MODE. */
export const RAMFS_DEFAULT_MODE = 0o755;

export const ramfs_file_operations: FileOperations = {
  read_iter: generic_file_read_iter,
  write_iter: generic_file_write_iter,
  llseek: generic_file_llseek,
  mmap: generic_file_mmap,
};

const ramfs_file_inode_operations: InodeOperations = {
  setattr: simple_setattr,
  getattr: simple_getattr,
};

/** ramfs_get_inode(). */
export function ramfs_get_inode(sb: SuperBlock, dir: Inode | null, mode: number): Inode {
  const inode = new_inode(sb);
  inode_init_owner(inode, dir, mode);
  inode.i_mapping.a_ops = ram_aops;
  mapping_set_gfp_mask(inode.i_mapping, GFP_HIGHUSER);
  mapping_set_unevictable(inode.i_mapping);
  simple_inode_init_ts(inode);
  if (S_ISREG(mode)) {
    inode.i_op = ramfs_file_inode_operations;
    inode.i_fop = ramfs_file_operations;
  } else if (S_ISDIR(mode)) {
    inode.i_op = ramfs_dir_inode_operations;
    inode.i_fop = simple_dir_operations;
    inc_nlink(inode); // directory inodes start off with i_nlink == 2 (for "." entry)
  }
  return inode;
}

/** ramfs_mknod(): SMP-safe; the dentry is pinned while linked. */
function ramfs_mknod(dir: Inode, dentry: Dentry, mode: number): number {
  const inode = ramfs_get_inode(dir.i_sb, dir, mode);
  d_instantiate(dentry, inode);
  d_rehash(dentry);
  dget(dentry); // Extra count - pin the dentry in core
  inode_touch_mtime(dir);
  return 0;
}

function ramfs_create(dir: Inode, dentry: Dentry, mode: number, _excl: boolean): number {
  return ramfs_mknod(dir, dentry, (mode & S_IALLUGO) | S_IFREG);
}

function ramfs_mkdir(dir: Inode, dentry: Dentry, mode: number): number {
  const err = ramfs_mknod(dir, dentry, (mode & S_IALLUGO) | S_IFDIR);
  if (!err) inc_nlink(dir);
  return err;
}

const ramfs_dir_inode_operations: InodeOperations = {
  lookup: simple_lookup, create: ramfs_create, mkdir: ramfs_mkdir, unlink: simple_unlink, rmdir: simple_rmdir,
  getattr: simple_getattr, setattr: simple_setattr,
};

/** ramfs_evict_inode (Linux: evict()'s default, truncate_inode_pages_final). */
function ramfs_evict_inode(inode: Inode): void {
  truncate_inode_pages_final(inode.i_mapping);
}

/** ramfs_fill_super(): options mode=<octal>. */
function ramfs_mount(options: string): SuperBlock | number {
  let mode = RAMFS_DEFAULT_MODE;
  for (const opt of options.split(',')) {
    if (opt === '') continue;
    const m = /^mode=([0-7]+)$/.exec(opt);
    if (!m) return -EINVAL;
    mode = parseInt(m[1], 8) & S_IALLUGO;
  }
  const sb = alloc_super(ramfs_fs_type);
  sb.s_magic = RAMFS_MAGIC;
  sb.s_maxbytes = MAX_LFS_FILESIZE;
  sb.s_op = { evict_inode: ramfs_evict_inode };
  sb.s_root = d_make_root(ramfs_get_inode(sb, null, S_IFDIR | mode));
  return sb;
}

export const ramfs_fs_type: FileSystemType = {
  name: 'ramfs',
  mount: ramfs_mount,
  kill_sb: kill_litter_super,
};

/** init_ramfs_fs(). */
export function init_ramfs_fs(): void {
  register_filesystem(ramfs_fs_type);
}
