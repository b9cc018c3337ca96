/*
 * fs/open.ts - struct file for a path, and truncation.
 *
 * Mirrors fs/open.c: vfs_open() / do_dentry_open() build the struct file
 * (f_op from the inode, f_mode from the access mode plus FMODE_LSEEK,
 * FMODE_PREAD and FMODE_PWRITE, a reference on the path); do_truncate()
 * goes through notify_change() to ->setattr; ftruncate(2) is
 * do_sys_ftruncate() (-EINVAL for a negative length, a non-regular file or
 * one not open for writing). close(2) is close_fd() on the caller's table.
 * fallocate(2) is vfs_fallocate()'s checks, then the filesystem's ->fallocate.
 * open(2) itself is do_sys_openat2() in fs/namei.ts (see there).
 */
import { current } from '../kernel/sched/core.ts';
import {
  S_ISREG, S_ISDIR, ATTR_SIZE, ATTR_MTIME, ATTR_CTIME, type Iattr, File, FMODE_READ, FMODE_WRITE, FMODE_LSEEK, FMODE_PREAD,
  FMODE_PWRITE, type FileOperations,
} from '../include/linux/fs.ts';
import type { Dentry } from '../include/linux/dcache.ts';
import { path_get, path_put } from './mount.ts';
import type { Path } from '../include/linux/path.ts';
import { close_fd, task_files } from './file.ts';
import { O_ACCMODE } from '../include/uapi/asm-generic/fcntl.ts';
import { file_of } from './read_write.ts';
import { BUG } from '../kernel/panic.ts';
import { this_cpu } from '../kernel/smp.ts';
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import { EBADF, EINVAL, EPERM, EOPNOTSUPP, EISDIR, ENODEV, EFBIG } from '../include/uapi/asm-generic/errno.ts';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../include/uapi/linux/falloc.ts';

const K_KMEM_CACHE_ALLOC = COST_KEY_INDEX.kmem_cache_alloc, K_KMEM_CACHE_FREE = COST_KEY_INDEX.kmem_cache_free;

const empty_fops: FileOperations = {};

/** OPEN_FMODE(): O_RDONLY -> FMODE_READ, O_WRONLY -> FMODE_WRITE, O_RDWR -> both, 3 -> neither. */
export function OPEN_FMODE(flags: number): number {
  return ((flags & O_ACCMODE) + 1) & (FMODE_READ | FMODE_WRITE);
}

/**
 * vfs_open() + do_dentry_open(): a new file on `path`, holding a reference
 * to it, after the file's ->open (if any) agreed; -errno from ->open
 * leaves nothing behind.
 */
export function vfs_open(path: Path, flags: number): File | number {
  const inode = path.dentry.d_inode;
  if (!inode) BUG('vfs_open of a negative dentry %s', path.dentry.d_name);
  const f_mode = OPEN_FMODE(flags) | FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
  const file = new File(inode.i_fop ?? empty_fops, flags, f_mode);
  this_cpu().charge_index(K_KMEM_CACHE_ALLOC); // alloc_empty_file(): kmem_cache_alloc(filp_cachep)
  path_get(path);
  file.f_path = { mnt: path.mnt, dentry: path.dentry };
  file.f_inode = inode;
  file.f_mapping = inode.i_mapping;
  const open = file.f_op.open;
  if (open) {
    const err = open(inode, file);
    if (err) {
      // cleanup_all: put the path, free the file (no ->release: it never opened).
      file.f_path = null;
      file.f_inode = null;
      path_put(path);
      this_cpu().charge_index(K_KMEM_CACHE_FREE);
      return err;
    }
  }
  return file;
}

/** notify_change(): hand the change to ->setattr. */
export function notify_change(dentry: Dentry, attr: Iattr): number {
  const inode = dentry.d_inode;
  if (!inode) return -EINVAL;
  if (!inode.i_op.setattr) return -EPERM;
  return inode.i_op.setattr(dentry, attr);
}

/** do_truncate(): set the size to `length` (and the times). */
export function do_truncate(dentry: Dentry, length: number, time_attrs: number): number {
  if (length < 0) return -EINVAL;
  return notify_change(dentry, { ia_valid: ATTR_SIZE | time_attrs, ia_size: length });
}

/** do_sys_ftruncate(). */
export function do_sys_ftruncate(fd: number, length: number): number {
  if (!Number.isInteger(length) || length < 0) return -EINVAL;
  const f = file_of(fd);
  if (!f) return -EBADF;
  const inode = f.f_inode;
  if (!inode || !f.f_path || !S_ISREG(inode.i_mode) || !(f.f_mode & FMODE_WRITE)) return -EINVAL;
  return do_truncate(f.f_path.dentry, length, ATTR_MTIME | ATTR_CTIME);
}

/* ---- the entry points, given the argument registers ---- */

/** ftruncate(fd, length). */
export function sys_ftruncate(regs: readonly number[]): number {
  return do_sys_ftruncate(regs[0], regs[1]);
}

/** close(fd). */
export function sys_close(regs: readonly number[]): number {
  return close_fd(task_files(current()), regs[0]);
}

/* ---- fallocate(2) ---- */

/**
 * vfs_fallocate(): the checks every filesystem shares, then ->fallocate.
 * -EINVAL for a negative offset or an empty range, -EOPNOTSUPP for modes
 * outside FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, a hole punched
 * without KEEP_SIZE, or a filesystem without ->fallocate (ramfs); -EBADF
 * when not open for writing; -EISDIR / -ENODEV for a directory or a
 * non-regular file; -EFBIG past s_maxbytes.
 * Left out: the collapse/insert/zero/unshare modes, swap files, seals, the
 * fsnotify event.
 */
export function vfs_fallocate(file: File, mode: number, offset: number, len: number): number {
  if (!Number.isInteger(offset) || !Number.isInteger(len) || offset < 0 || len <= 0) return -EINVAL;
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP;
  if (mode & FALLOC_FL_PUNCH_HOLE && !(mode & FALLOC_FL_KEEP_SIZE)) return -EOPNOTSUPP;
  if (!(file.f_mode & FMODE_WRITE)) return -EBADF;
  const inode = file.f_inode;
  if (!inode) return -EBADF;
  if (S_ISDIR(inode.i_mode)) return -EISDIR;
  if (!S_ISREG(inode.i_mode)) return -ENODEV;
  if (offset + len > inode.i_sb.s_maxbytes) return -EFBIG;
  if (!file.f_op.fallocate) return -EOPNOTSUPP;
  return file.f_op.fallocate(file, mode, offset, len);
}

/** fallocate(fd, mode, offset, len). */
export function sys_fallocate(regs: readonly number[]): number {
  const f = file_of(regs[0]);
  if (!f) return -EBADF;
  return vfs_fallocate(f, regs[1], regs[2], regs[3]);
}
