/*
 * include/linux/fs.ts - struct inode, super_block, file, kiocb and the VFS operation tables.
 *
 * Mirrors include/linux/fs.h (and the mode bits of include/uapi/linux/stat.h):
 * an inode is a TypeScript object (kernel metadata is not translated, DESIGN.md
 * section 2); its page cache is an AddressSpace (include/linux/pagemap.ts)
 * whose folios live in simulated RAM. A filesystem's private inode embeds the
 * VFS inode as Linux's do (struct shmem_inode_info { ...; struct inode
 * vfs_inode; }): here it extends Inode, and SHMEM_I() is a cast.
 * Simplified: no uid/gid/permissions (everything runs as root and every
 * permission check passes), no i_rwsem (a syscall runs to completion on its
 * CPU, so nothing races inside one), no xattrs; atime follows relatime
 * (fs/inode.ts touch_atime).
 */
import type { Dentry } from './dcache.ts';
import type { Path } from './path.ts';
import type { IovIter } from './uio.ts';
import type { VmAreaStruct } from './mm_types.ts';
import { BUG } from '../../kernel/panic.ts';
import { AddressSpace, type Folio } from './pagemap.ts';

/* include/uapi/linux/stat.h */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
export const S_IALLUGO = 0o7777;

export function S_ISREG(m: number): boolean {
  return (m & S_IFMT) === S_IFREG;
}
export function S_ISDIR(m: number): boolean {
  return (m & S_IFMT) === S_IFDIR;
}

/**
 * MAX_LFS_FILESIZE. Linux's is LLONG_MAX; here page indices must stay below
 * 2^31 (DESIGN.md section 5), so a file ends at 2^31 pages (8 TiB).
 */
export const MAX_LFS_FILESIZE = 2 ** 31 * 4096 - 1;

/** MAX_RW_COUNT: INT_MAX & PAGE_MASK, the most one read or write moves. */
export const MAX_RW_COUNT = 0x7ffff000;

/* kiocb->ki_flags */
export const IOCB_HIPRI = 1 << 0;
export const IOCB_DSYNC = 1 << 1;
export const IOCB_SYNC = 1 << 2;
export const IOCB_NOWAIT = 1 << 3;
export const IOCB_APPEND = 1 << 4;
export const IOCB_DIRECT = 1 << 17;

/** struct kiocb: one I/O request on a file at a position. */
export class Kiocb {
  ki_pos = 0;
  ki_flags = 0;
  constructor(public ki_filp: File) {}
}

/* iattr->ia_valid */
export const ATTR_MODE = 1 << 0;
export const ATTR_SIZE = 1 << 3;
export const ATTR_MTIME = 1 << 5;
export const ATTR_CTIME = 1 << 6;

/** struct iattr. */
export interface Iattr {
  ia_valid: number;
  ia_size: number;
}

/** struct kstat (include/linux/stat.h): what getattr fills and cp_new_stat copies out. */
export interface Kstat {
  dev: number;
  ino: number;
  nlink: number;
  mode: number;
  size: number;
  blksize: number;
  blocks: number;
  atime_ns: number;
  mtime_ns: number;
  ctime_ns: number;
}

/** struct inode_operations (the subset used). Each returns 0 or -errno. */
export interface InodeOperations {
  /**
   * lookup: a dentry for `name` not in the dcache, a child of `parent`
   * (dir's dentry) holding one reference; null = negative (ENOENT).
   */
  lookup?(dir: Inode, name: string, parent: Dentry): Dentry | null;
  create?(dir: Inode, dentry: Dentry, mode: number, excl: boolean): number;
  mkdir?(dir: Inode, dentry: Dentry, mode: number): number;
  unlink?(dir: Inode, dentry: Dentry): number;
  rmdir?(dir: Inode, dentry: Dentry): number;
  setattr?(dentry: Dentry, attr: Iattr): number;
  getattr?(dentry: Dentry, stat: Kstat): number;
}

/** struct address_space_operations (the subset used). */
export interface AddressSpaceOperations {
  /** read_folio: fill a !uptodate folio; 0 or -errno. */
  read_folio?(file: File | null, folio: Folio): number;
  /** write_begin: a referenced folio covering pos, or -errno. */
  write_begin(iocb: Kiocb, mapping: AddressSpace, pos: number, len: number): Folio | number;
  /** write_end: the bytes accepted (may be fewer than copied); drops the folio reference. */
  write_end(iocb: Kiocb, mapping: AddressSpace, pos: number, len: number, copied: number, folio: Folio): number;
  dirty_folio?(mapping: AddressSpace, folio: Folio): boolean;
}

/** struct super_operations. */
export interface SuperOperations {
  /** evict_inode: the last reference to an unlinked inode is gone; free its data. */
  evict_inode?(inode: Inode): void;
  /** put_super: the superblock goes away (kill_sb). */
  put_super?(sb: SuperBlock): void;
  /**
   * drop_inode: true to evict the inode at its last iput() even while
   * linked (generic_delete_inode: procfs' per-lookup pid inodes).
   */
  drop_inode?(inode: Inode): boolean;
}

/** struct file_system_type. */
export interface FileSystemType {
  readonly name: string;
  /** mount (init_fs_context + get_tree in one): a superblock, or -errno (EINVAL for bad options). */
  mount(options: string): SuperBlock | number;
  kill_sb(sb: SuperBlock): void;
}

/** struct super_block. */
export class SuperBlock {
  /** s_dev: an anonymous device number (get_anon_bdev), as MKDEV(0, n). */
  s_dev = 0;
  s_magic = 0;
  s_blocksize = 4096;
  s_maxbytes = MAX_LFS_FILESIZE;
  s_root: Dentry | null = null;
  s_op: SuperOperations = {};
  /** The filesystem's private data (shmem_sb_info). */
  s_fs_info: unknown = null;
  /** s_inodes: every live inode of this superblock. */
  readonly s_inodes = new Set<Inode>();
  /** get_next_ino() state for this superblock's inode numbers. */
  next_ino = 1;
  constructor(readonly s_type: FileSystemType) {}
}

/** struct inode. */
export class Inode {
  i_ino = 0;
  i_mode = 0;
  /** i_nlink: names pointing here; 0 once unlinked (the inode lives while referenced). */
  i_nlink = 1;
  /** i_size in bytes; only i_size_write() changes it. */
  i_size = 0;
  /** i_count: references (a dentry's, iget's). At 0 an unlinked inode is evicted. */
  i_count = 1;
  i_atime_ns = 0;
  i_mtime_ns = 0;
  i_ctime_ns = 0;
  i_op: InodeOperations = {};
  /** i_fop: the file operations an open of this inode installs. */
  i_fop: FileOperations | null = null;
  /** i_data: this inode's page cache; i_mapping points at it. */
  readonly i_data: AddressSpace;
  i_mapping: AddressSpace;
  /** i_private: the filesystem's (ramfs: unused). */
  i_private: unknown = null;
  constructor(readonly i_sb: SuperBlock) {
    this.i_data = new AddressSpace(this);
    this.i_mapping = this.i_data;
  }
}

/** i_size_read(). */
export function i_size_read(inode: Inode): number {
  return inode.i_size;
}

/** i_size_write(). */
export function i_size_write(inode: Inode, size: number): void {
  inode.i_size = size;
}

/** file_inode(). */
export function file_inode(f: File): Inode {
  const inode = f.f_inode;
  if (!inode) BUG('file_inode() of a file with no inode');
  return inode;
}

/* ---- struct file ---- */

/* f_mode */
export const FMODE_READ = 0x1;
export const FMODE_WRITE = 0x2;
export const FMODE_LSEEK = 0x4;
export const FMODE_PREAD = 0x8;
export const FMODE_PWRITE = 0x10;

/** struct file_operations: what read(2)/write(2) reach, with the file position handled by the caller. */
export interface FileOperations {
  /**
   * open: called by do_dentry_open() once the struct file exists (seq_open
   * sets private_data, nonseekable_open clears FMODE_LSEEK); 0 or -errno.
   */
  open?(inode: Inode, file: File): number;
  /** Copy up to count bytes to user `buf` from position pos; returns bytes or -errno. */
  read?(file: File, buf: number, count: number, pos: number): number;
  write?(file: File, buf: number, count: number, pos: number): number;
  /** read_iter: copy from ki_pos into `to`, advancing ki_pos; bytes or -errno. */
  read_iter?(iocb: Kiocb, to: IovIter): number;
  write_iter?(iocb: Kiocb, from: IovIter): number;
  /** llseek: the new position or -errno; absent means ESPIPE. */
  llseek?(file: File, offset: number, whence: number): number;
  /** fallocate: allocate or punch [offset, offset + len) per mode (FALLOC_FL_*); 0 or -errno. */
  fallocate?(file: File, mode: number, offset: number, len: number): number;
  /** mmap: set up `vma` to map this file (vm_ops); 0 or -errno. Absent: the file cannot be mapped (-ENODEV). */
  mmap?(file: File, vma: VmAreaStruct): number;
  release?(file: File): void;
}

/** struct file. */
export class File {
  f_pos = 0;
  f_count = 1;
  /** f_path: where it was opened (holds a dentry reference); null for the console. */
  f_path: Path | null = null;
  f_inode: Inode | null = null;
  f_mapping: AddressSpace | null = null;
  /** f_mode: FMODE_*; ->open may clear FMODE_LSEEK/PREAD/PWRITE (nonseekable_open, seq_open). */
  f_mode: number;
  /** private_data: the file's own state, set by ->open (struct seq_file, a trace iterator). */
  private_data: unknown;
  constructor(readonly f_op: FileOperations, readonly f_flags: number, f_mode: number, private_data: unknown = null) {
    this.f_mode = f_mode;
    this.private_data = private_data;
  }
}
