/*
 * fs/proc/generic.ts - registering /proc entries and looking them up.
 *
 * Mirrors fs/proc/generic.c: proc_create_single() (a single_open() file),
 * proc_create_seq() (a seq_operations file), proc_mkdir(), proc_register()
 * (a name under its parent, an inode number from proc_alloc_inum()), and
 * proc_lookup() (an entry's inode, made fresh, on a dentry that is not
 * kept in the dcache). proc_root is the entry of /proc itself.
 * Simplified: no remove_proc_entry (nothing is ever unregistered), no
 * symlinks (proc_symlink), no per-entry uid/gid or size; the entries are
 * registered anew at every boot (proc_root_init).
 */
import { S_IFDIR, S_IFREG, type Inode, type File, type InodeOperations } from '../../include/linux/fs.ts';
import type { Dentry } from '../../include/linux/dcache.ts';
import { d_alloc, d_instantiate } from '../dcache.ts';
import { ProcDirEntry, type ProcOps, proc_get_inode, PDE, proc_getattr } from './internal.ts';
import {
  seq_read_iter, seq_lseek, seq_release, seq_open, single_open, single_release, type SeqOperations, type SeqFile,
} from '../seq_file.ts';
import { BUG } from '../../kernel/panic.ts';

/** PROC_ROOT_INO: /proc's own inode number; entries count up from PROC_DYNAMIC_FIRST. */
export const PROC_ROOT_INO = 1;
const PROC_DYNAMIC_FIRST = 0xf0000000;

export const proc_state = {
  root: new ProcDirEntry('/proc', S_IFDIR | 0o555),
  /** proc_inum_ida: the last inode number handed out. */
  last_inum: PROC_DYNAMIC_FIRST,
};

/** A fresh, empty proc_root (proc_root_init() fills it at every boot). */
export function proc_generic_init(): void {
  proc_state.root = new ProcDirEntry('/proc', S_IFDIR | 0o555);
  proc_state.root.low_ino = PROC_ROOT_INO;
  proc_state.root.nlink = 2;
  proc_state.last_inum = PROC_DYNAMIC_FIRST;
}

/** proc_register(): hang `de` under `dir`, with a new inode number. */
function proc_register(dir: ProcDirEntry, de: ProcDirEntry): ProcDirEntry {
  if (dir.subdir.has(de.name)) BUG('proc_dir_entry %s/%s already registered', dir.name, de.name);
  de.low_ino = ++proc_state.last_inum;
  de.parent = dir;
  dir.subdir.set(de.name, de);
  if (de.mode & S_IFDIR) dir.nlink++;
  return de;
}

/** proc_create(): a file with its own proc_ops. Mode 0 means 0444, as Linux's. */
export function proc_create(name: string, mode: number, parent: ProcDirEntry | null, proc_ops: ProcOps, data: unknown = null): ProcDirEntry {
  const de = new ProcDirEntry(name, S_IFREG | (mode & 0o7777 || 0o444));
  de.proc_ops = proc_ops;
  de.data = data;
  return proc_register(parent ?? proc_state.root, de);
}

/** proc_mkdir(). */
export function proc_mkdir(name: string, parent: ProcDirEntry | null): ProcDirEntry {
  const de = new ProcDirEntry(name, S_IFDIR | 0o555);
  de.nlink = 2;
  return proc_register(parent ?? proc_state.root, de);
}

/** The show function of a proc_create_single() file. */
export type ProcShow = (m: SeqFile<object>, data: unknown) => number;

/** proc_create_single_data(): a file whose text one show() prints (single_open). */
export function proc_create_single(name: string, mode: number, parent: ProcDirEntry | null, show: ProcShow, data: unknown = null): ProcDirEntry {
  return proc_create(name, mode, parent, {
    proc_open: (inode: Inode, file: File) => single_open(file, show, PDE(inode).data),
    proc_read_iter: seq_read_iter,
    proc_lseek: seq_lseek,
    proc_release: single_release,
  }, data);
}

/** proc_create_seq_private(): a file read record by record through `ops`. */
export function proc_create_seq<T extends object>(name: string, mode: number, parent: ProcDirEntry | null, ops: SeqOperations<T>): ProcDirEntry {
  return proc_create(name, mode, parent, {
    proc_open: (_inode: Inode, file: File) => {
      seq_open(file, ops);
      return 0;
    },
    proc_read_iter: seq_read_iter,
    proc_lseek: seq_lseek,
    proc_release: seq_release,
  });
}

/** proc_dir_inode_operations: a registered directory's lookup is its subdir. */
export const proc_dir_inode_operations: InodeOperations = {
  lookup: proc_lookup,
  getattr: proc_getattr,
};

/**
 * proc_lookup() / proc_lookup_de(): the child entry `name` of the
 * directory inode, on a new dentry that is not hashed, so every walk
 * looks it up again and the last dput frees dentry and inode.
 */
export function proc_lookup(dir: Inode, name: string, parent: Dentry): Dentry | null {
  const de = PDE(dir).subdir.get(name);
  if (!de) return null;
  const d = d_alloc(parent, name);
  d_instantiate(d, proc_get_inode(dir.i_sb, de, proc_dir_inode_operations));
  return d;
}
