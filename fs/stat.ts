/*
 * fs/stat.ts - fstat(2): struct stat in the x86-64 layout.
 *
 * Mirrors fs/stat.c: vfs_getattr() asks ->getattr (or generic_fillattr),
 * cp_new_stat() builds struct stat in kernel memory and copies it out with
 * copy_to_user(), so a bad buffer is -EFAULT. The x86-64 struct stat
 * (arch/x86/include/uapi/asm/stat.h), 144 bytes:
 *
 *     0 st_dev      8 st_ino     16 st_nlink   24 st_mode (u32)  28 st_uid
 *    32 st_gid     36 __pad0     40 st_rdev    48 st_size        56 st_blksize
 *    64 st_blocks  72 st_atime   80 st_atime_nsec  88 st_mtime   96 st_mtime_nsec
 *   104 st_ctime  112 st_ctime_nsec  120 __unused[3]
 *
 * The kernel copy is built in a page standing in for the kernel stack
 * (fs_stat_state.buf, no Linux counterpart: Linux's `tmp` is on the stack).
 * Simplified: uid/gid 0, no statx, no stat/lstat by name.
 */
import { copy_to_user } from '../arch/x86/lib/usercopy_64.ts';
import { this_cpu } from '../kernel/smp.ts';
import type { Kstat } from '../include/linux/fs.ts';
import type { Dentry } from '../include/linux/dcache.ts';
import { generic_fillattr } from './libfs.ts';
import { MAJOR, MINOR } from './super.ts';
import { file_of } from './read_write.ts';
import { __get_free_pages, free_pages } from '../mm/page_alloc.ts';
import { GFP_KERNEL } from '../mm/gfp.ts';
import { BUG } from '../kernel/panic.ts';
import { EBADF, EFAULT } from '../include/uapi/asm-generic/errno.ts';

export const STAT_SIZE = 144;

export const fs_stat_state = {
  /** Kernel address of the page cp_new_stat builds struct stat in. */
  buf: 0,
};

/** vfs_getattr(). */
export function vfs_getattr(dentry: Dentry, stat: Kstat): number {
  const inode = dentry.d_inode;
  if (!inode) return -EBADF;
  if (inode.i_op.getattr) return inode.i_op.getattr(dentry, stat);
  generic_fillattr(inode, stat);
  stat.blocks = inode.i_mapping.nrpages * 8;
  return 0;
}

/** new_encode_dev(). */
function new_encode_dev(dev: number): number {
  const major = MAJOR(dev);
  const minor = MINOR(dev);
  return (minor & 0xff) + major * 256 + (minor - (minor & 0xff)) * 4096;
}

function put64(at: number, v: number): void {
  const cpu = this_cpu();
  cpu.store32(at, v % 4294967296);
  cpu.store32(at + 4, Math.floor(v / 4294967296));
}

/** cp_new_stat(): 0 or -EFAULT. */
export function cp_new_stat(stat: Kstat, statbuf: number): number {
  const k = fs_stat_state.buf;
  if (!k) BUG('cp_new_stat before stat_init()');
  this_cpu().fill(k, 0, STAT_SIZE);
  put64(k + 0, new_encode_dev(stat.dev));
  put64(k + 8, stat.ino);
  put64(k + 16, stat.nlink);
  this_cpu().store32(k + 24, stat.mode);
  put64(k + 48, stat.size);
  put64(k + 56, stat.blksize);
  put64(k + 64, stat.blocks);
  const ts = (off: number, ns: number): void => {
    put64(k + off, Math.floor(ns / 1e9));
    put64(k + off + 8, ns % 1e9);
  };
  ts(72, stat.atime_ns);
  ts(88, stat.mtime_ns);
  ts(104, stat.ctime_ns);
  return copy_to_user(statbuf, k, STAT_SIZE) ? -EFAULT : 0;
}

/** fstat(fd, statbuf): vfs_fstat() + cp_new_stat(). The console has no inode: a character device. */
export function sys_newfstat(regs: readonly number[]): number {
  const fd = regs[0];
  const statbuf = regs[1];
  const f = file_of(fd);
  if (!f) return -EBADF;
  const stat: Kstat = { dev: 0, ino: 0, nlink: 1, mode: 0o020620, size: 0, blksize: 1024, blocks: 0, atime_ns: 0, mtime_ns: 0, ctime_ns: 0 };
  if (f.f_path) {
    const err = vfs_getattr(f.f_path.dentry, stat);
    if (err) return err;
  }
  return cp_new_stat(stat, statbuf);
}

/** stat_init() (no Linux counterpart): the page cp_new_stat() builds struct stat in. */
export function stat_init(): void {
  fs_stat_state.buf = __get_free_pages(GFP_KERNEL, 0);
  if (!fs_stat_state.buf) BUG('stat_init: out of memory');
}

export function stat_exit(): void {
  free_pages(fs_stat_state.buf, 0);
  fs_stat_state.buf = 0;
}
