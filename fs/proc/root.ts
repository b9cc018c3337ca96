/*
 * fs/proc/root.ts - the proc filesystem type and /proc's root directory.
 *
 * Mirrors fs/proc/root.c: proc_fs_type ("proc"), proc_fill_super() (the
 * root inode of proc_root; proc_sops drops every inode at its last
 * reference), proc_root_lookup() (a pid directory first, then the
 * registered entries) and proc_root_init(), which registers the files
 * other subsystems create at boot in Linux (proc_meminfo_init,
 * proc_cmdline_init, proc_cpuinfo_init, mm/vmstat.c's "vmstat"). The
 * kernel mounts it on /proc at boot (fs/namespace.ts), as an init system
 * would right after start.
 * Simplified: one instance (no pid namespaces, no hidepid=/subset= mount
 * options: any option is -EINVAL), no /proc/sys, no getdents of /proc.
 */
import type { SuperBlock, Inode, FileSystemType, InodeOperations } from '../../include/linux/fs.ts';
import type { Dentry } from '../../include/linux/dcache.ts';
import { alloc_super, kill_litter_super, register_filesystem } from '../super.ts';
import { d_make_root } from '../dcache.ts';
import type { KernelParams } from '../../kernel/params.ts';
import { proc_get_inode, proc_getattr } from './internal.ts';
import { proc_state, proc_generic_init, proc_lookup } from './generic.ts';
import { proc_pid_lookup } from './base.ts';
import { proc_meminfo_init } from './meminfo.ts';
import { proc_cmdline_init } from './cmdline.ts';
import { proc_cpuinfo_init } from './cpuinfo.ts';
import { proc_vmstat_init } from './vmstat.ts';
import { EINVAL } from '../../include/uapi/asm-generic/errno.ts';

/** PROC_SUPER_MAGIC. */
export const PROC_SUPER_MAGIC = 0x9fa0;

/** proc_root_lookup(): /proc/<pid> and /proc/self, else a registered entry. */
function proc_root_lookup(dir: Inode, name: string, parent: Dentry): Dentry | null {
  return proc_pid_lookup(dir, name, parent) ?? proc_lookup(dir, name, parent);
}

const proc_root_inode_operations: InodeOperations = { lookup: proc_root_lookup, getattr: proc_getattr };

/** proc_fill_super(). */
function proc_mount(options: string): SuperBlock | number {
  if (options !== '') return -EINVAL;
  const sb = alloc_super(proc_fs_type);
  sb.s_magic = PROC_SUPER_MAGIC;
  sb.s_op = {
    evict_inode: () => {}, // proc_evict_inode: no page cache, nothing to free
    drop_inode: () => true, // generic_delete_inode
  };
  sb.s_root = d_make_root(proc_get_inode(sb, proc_state.root, proc_root_inode_operations));
  return sb;
}

export const proc_fs_type: FileSystemType = {
  name: 'proc',
  mount: proc_mount,
  kill_sb: kill_litter_super,
};

/** proc_root_init(): register "proc" and the entries /proc starts with. */
export function proc_root_init(params: KernelParams): void {
  proc_generic_init();
  proc_meminfo_init();
  proc_cmdline_init(params.saved_command_line);
  proc_cpuinfo_init(params);
  proc_vmstat_init();
  register_filesystem(proc_fs_type);
}
