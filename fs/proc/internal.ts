/*
 * fs/proc/internal.ts - struct proc_dir_entry and the inodes procfs makes.
 *
 * Mirrors fs/proc/internal.h (struct proc_dir_entry, PDE(), struct
 * proc_ops from include/linux/proc_fs.h) and fs/proc/inode.c
 * (proc_get_inode, proc_reg_file_ops: open, read_iter, lseek and release
 * are the entry's proc_ops; a write to an entry without ->proc_write is
 * -EIO, as proc_reg_write() answers). A proc_dir_entry is the registered
 * name (/proc/meminfo, /proc/vmstat); its inode and dentry are made on
 * each lookup and dropped at the last reference (procfs' ->drop_inode is
 * generic_delete_inode), so /proc always shows the live state.
 * Simplified: no pde_users/unload protection (nothing is ever removed while
 * open), no proc_ops flags (PROC_ENTRY_PERMANENT), no ->poll/->mmap/->ioctl.
 */
import {
  type Inode, type File, type Kiocb, type SuperBlock, type FileOperations, type InodeOperations, type Kstat,
  S_ISDIR,
} from '../../include/linux/fs.ts';
import type { IovIter } from '../../include/linux/uio.ts';
import { new_inode, simple_inode_init_ts } from '../inode.ts';
import { simple_dir_operations, generic_fillattr } from '../libfs.ts';
import type { Dentry } from '../../include/linux/dcache.ts';
import { find_task_by_pid } from '../../kernel/sched/core.ts';
import type { TaskStruct } from '../../kernel/sched/task.ts';
import { EIO, EINVAL } from '../../include/uapi/asm-generic/errno.ts';

/** struct proc_ops (include/linux/proc_fs.h): what a /proc file does. */
export interface ProcOps {
  proc_open?(inode: Inode, file: File): number;
  proc_read_iter?(iocb: Kiocb, iter: IovIter): number;
  proc_write?(file: File, buf: number, count: number, pos: number): number;
  proc_lseek?(file: File, offset: number, whence: number): number;
  proc_release?(inode: Inode, file: File): void;
}

/** struct proc_dir_entry. */
export class ProcDirEntry {
  /** low_ino: the inode number every inode of this entry gets (proc_alloc_inum). */
  low_ino = 0;
  nlink = 1;
  /** subdir: the children of a directory entry, by name. */
  readonly subdir = new Map<string, ProcDirEntry>();
  parent: ProcDirEntry | null = null;
  proc_ops: ProcOps | null = null;
  /** data: what the entry's ->show gets (single_open's data, PDE_DATA()). */
  data: unknown = null;
  constructor(readonly name: string, readonly mode: number) {}
}

/** PDE(): the entry an inode was made for. */
export function PDE(inode: Inode): ProcDirEntry {
  return inode.i_private as ProcDirEntry;
}

function proc_reg_open(inode: Inode, file: File): number {
  return PDE(inode).proc_ops?.proc_open?.(inode, file) ?? 0;
}

function proc_reg_read_iter(iocb: Kiocb, iter: IovIter): number {
  const f = iocb.ki_filp.f_inode;
  const read = f ? PDE(f).proc_ops?.proc_read_iter : undefined;
  return read ? read(iocb, iter) : -EIO;
}

function proc_reg_write(file: File, buf: number, count: number, pos: number): number {
  const write = file.f_inode ? PDE(file.f_inode).proc_ops?.proc_write : undefined;
  return write ? write(file, buf, count, pos) : -EIO;
}

function proc_reg_llseek(file: File, offset: number, whence: number): number {
  const lseek = file.f_inode ? PDE(file.f_inode).proc_ops?.proc_lseek : undefined;
  return lseek ? lseek(file, offset, whence) : -EINVAL;
}

function proc_reg_release(file: File): void {
  const inode = file.f_inode;
  if (inode) PDE(inode).proc_ops?.proc_release?.(inode, file);
}

/** proc_reg_file_ops / proc_iter_file_ops. */
export const proc_reg_file_ops: FileOperations = {
  open: proc_reg_open,
  read_iter: proc_reg_read_iter,
  write: proc_reg_write,
  llseek: proc_reg_llseek,
  release: proc_reg_release,
};

/** proc_getattr(): the attributes, with st_nlink of a directory from the entry. */
export function proc_getattr(dentry: Dentry, stat: Kstat): number {
  const inode = dentry.d_inode;
  if (!inode) return -EINVAL;
  generic_fillattr(inode, stat);
  stat.blocks = 0;
  return 0;
}

/**
 * proc_notify_change(): attribute changes are accepted and not kept
 * (open(O_TRUNC) of a /proc file succeeds; the size stays 0).
 */
export function proc_notify_change(): number {
  return 0;
}

const proc_file_inode_operations: InodeOperations = { getattr: proc_getattr, setattr: proc_notify_change };

/**
 * proc_get_inode(): a new inode for entry `de` (its number, mode and
 * links), with the directory's lookup `dir_iops` or proc_reg_file_ops.
 */
export function proc_get_inode(sb: SuperBlock, de: ProcDirEntry, dir_iops: InodeOperations): Inode {
  const inode = new_inode(sb);
  inode.i_ino = de.low_ino;
  inode.i_mode = de.mode;
  inode.i_nlink = de.nlink;
  inode.i_private = de;
  simple_inode_init_ts(inode);
  if (S_ISDIR(de.mode)) {
    inode.i_op = dir_iops;
    inode.i_fop = simple_dir_operations;
  } else {
    inode.i_op = proc_file_inode_operations;
    inode.i_fop = proc_reg_file_ops;
  }
  return inode;
}

/** struct proc_inode's pid: which task an inode of /proc/<pid> shows. */
export interface ProcPidInfo {
  pid: number;
}

/** get_pid_task(): the task (live or zombie) with that pid, or null once it is reaped. */
export function proc_pid_task(info: ProcPidInfo): TaskStruct | null {
  return find_task_by_pid(info.pid) ?? null;
}
