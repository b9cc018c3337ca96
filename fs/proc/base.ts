/*
 * fs/proc/base.ts - /proc/<pid> and /proc/self.
 *
 * Mirrors fs/proc/base.c: proc_pid_lookup() turns a name in /proc into the
 * directory of a task (a thread group's pid, or a thread's), proc_pid_make_inode()
 * makes the inodes, tgid_base_stuff lists what such a directory holds, and
 * proc_single_open() shows a per-task file through single_open(), looking
 * the task up again at each show (-ESRCH once it is gone).
 * /proc/self is fs/proc/self.c's: Linux makes it a symlink to the
 * caller's pid; this VFS has no symlinks, so "self" looks up as the
 * caller's own pid directory.
 * Simplified: only status and maps (fs/proc/array.ts, task_mmu.ts); no
 * task/ subdirectory, no ptrace access checks (everything runs as root),
 * no getdents of /proc.
 */
import { S_IFDIR, S_IFREG, type Inode, type File, type InodeOperations, type FileOperations, type SuperBlock } from '../../include/linux/fs.ts';
import type { Dentry } from '../../include/linux/dcache.ts';
import { d_alloc, d_instantiate } from '../dcache.ts';
import { new_inode, simple_inode_init_ts } from '../inode.ts';
import { simple_dir_operations } from '../libfs.ts';
import { current } from '../../kernel/sched/core.ts';
import type { TaskStruct } from '../../kernel/sched/task.ts';
import { proc_getattr, proc_notify_change, proc_pid_task, type ProcPidInfo } from './internal.ts';
import {
  seq_read_iter, seq_lseek, single_open, single_release, seq_open, seq_release, type SeqFile, type SeqOperations,
} from '../seq_file.ts';
import { proc_pid_status } from './array.ts';
import { proc_pid_maps_op } from './task_mmu.ts';
import { ESRCH } from '../../include/uapi/asm-generic/errno.ts';


/** A per-task file shown by single_open() (the ONE() entries). */
type ProcPidShow = (m: SeqFile<object>, task: TaskStruct) => number;

function proc_single_fops(show: ProcPidShow): FileOperations {
  return {
    open: (inode: Inode, file: File) => single_open(file, (m, data) => {
      const task = proc_pid_task(data as ProcPidInfo);
      return task ? show(m, task) : -ESRCH;
    }, inode.i_private),
    read_iter: seq_read_iter,
    llseek: seq_lseek,
    release: (file: File) => single_release(null, file),
  };
}

/** A per-task file read record by record (maps): m.private is the ProcPidInfo. */
function proc_seq_fops<T extends object>(ops: SeqOperations<T>): FileOperations {
  return {
    open: (inode: Inode, file: File) => {
      seq_open(file, ops).private = inode.i_private;
      return 0;
    },
    read_iter: seq_read_iter,
    llseek: seq_lseek,
    release: (file: File) => seq_release(null, file),
  };
}

/** struct pid_entry. */
interface PidEntry {
  name: string;
  mode: number;
  fop: FileOperations;
}

/* tgid_base_stuff: what /proc/<pid>/ holds, in Linux's order. */
const tgid_base_stuff: readonly PidEntry[] = [
  { name: 'status', mode: S_IFREG | 0o444, fop: proc_single_fops(proc_pid_status) },
  { name: 'maps', mode: S_IFREG | 0o444, fop: proc_seq_fops(proc_pid_maps_op) },
];

const proc_pid_file_iops: InodeOperations = { getattr: proc_getattr, setattr: proc_notify_change };

/** proc_pid_make_inode(): an inode of /proc/<pid> (numbered by get_next_ino, as Linux's). */
function proc_pid_make_inode(sb: SuperBlock, info: ProcPidInfo, mode: number): Inode {
  const inode = new_inode(sb);
  inode.i_mode = mode;
  inode.i_private = info;
  simple_inode_init_ts(inode);
  return inode;
}

/** proc_tgid_base_lookup() (proc_pident_lookup over tgid_base_stuff). */
function proc_tgid_base_lookup(dir: Inode, name: string, parent: Dentry): Dentry | null {
  const info = dir.i_private as ProcPidInfo;
  if (!proc_pid_task(info)) return null;
  const p = tgid_base_stuff.find((e) => e.name === name);
  if (!p) return null;
  const inode = proc_pid_make_inode(dir.i_sb, info, p.mode);
  inode.i_op = proc_pid_file_iops;
  inode.i_fop = p.fop;
  const d = d_alloc(parent, name);
  d_instantiate(d, inode);
  return d;
}

const proc_tgid_base_inode_operations: InodeOperations = { lookup: proc_tgid_base_lookup, getattr: proc_getattr };

/** The name a /proc lookup may take as a pid: decimal, no sign, no leading zero (name_to_int). */
function name_to_int(name: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(name)) return -1;
  const n = Number(name);
  return n <= 0x7fffffff ? n : -1;
}

/**
 * proc_pid_lookup(): /proc/<pid> for a task that exists (a thread's id
 * works too, as on Linux, though readdir would not list it), and
 * /proc/self for the caller's thread group; null for anything else.
 */
export function proc_pid_lookup(dir: Inode, name: string, parent: Dentry): Dentry | null {
  const pid = name === 'self' ? current().tgid : name_to_int(name);
  if (pid <= 0) return null;
  const info: ProcPidInfo = { pid };
  if (!proc_pid_task(info)) return null;
  const inode = proc_pid_make_inode(dir.i_sb, info, S_IFDIR | 0o555);
  inode.i_nlink = 2 + tgid_base_stuff.filter((e) => e.mode & S_IFDIR).length;
  inode.i_op = proc_tgid_base_inode_operations;
  inode.i_fop = simple_dir_operations;
  const d = d_alloc(parent, name);
  d_instantiate(d, inode);
  return d;
}
