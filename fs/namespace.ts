/*
 * fs/namespace.ts - mounting, and bringing the VFS up and down.
 *
 * Mirrors fs/namespace.c: init_mount_tree() makes tmpfs the root (Linux's
 * rootfs is tmpfs when CONFIG_TMPFS, with the default size of half of
 * RAM; transparent_hugepage_tmpfs= sets its huge= policy),
 * do_new_mount() attaches a filesystem on a directory. vfs_caches_init()
 * (fs/dcache.c in Linux, which calls mnt_init() here) is here so the
 * import graph stays acyclic. At boot it also makes /ram and mounts a
 * ramfs there, the second page-cache path (filemap_read) the ASI work
 * must cover, and mounts procfs on /proc and tracefs on
 * /sys/kernel/tracing and /sys/kernel/debug/tracing (one superblock; the
 * directories are made in the root tmpfs: there is no sysfs or debugfs),
 * as an init system does first thing.
 * do_mount() is the kernel-side mount(2) for tests and tools (no mount
 * syscall yet): do_mount('tmpfs', '/huge', 'huge=always,size=8M').
 * vfs_caches_exit() (no Linux counterpart) kills every superblock at
 * shutdown, freeing every page-cache page before the leak check.
 * Simplified: no umount, no propagation, no mount flags.
 */
import type { KernelParams } from '../kernel/params.ts';
import { BUG } from '../kernel/panic.ts';
import { dput } from './dcache.ts';
import { DCACHE_MOUNTED, d_mountpoint } from '../include/linux/dcache.ts';
import { mount_state, mount_init } from './mount.ts';
import { VfsMount } from '../include/linux/mount.ts';
import { super_init, super_state, get_fs_type } from './super.ts';
import { kern_path, do_mkdirat, LOOKUP_DIRECTORY } from './namei.ts';
import { AT_FDCWD } from '../include/uapi/linux/fcntl.ts';
import { stat_init, stat_exit } from './stat.ts';
import { shmem_init, shmem_exit } from './shmem_super.ts';
import { init_ramfs_fs } from './ramfs.ts';
import { proc_root_init } from './proc/root.ts';
import { tracefs_init } from './tracefs/inode.ts';
import { tracer_init_tracefs } from '../kernel/trace/tracefs.ts';
import { EBUSY, ENODEV } from '../include/uapi/asm-generic/errno.ts';

/** do_new_mount(): mount a new `fstype` superblock on directory `dir`. 0 or -errno. */
export function do_mount(fstype: string, dir: string, options = ''): number {
  const type = get_fs_type(fstype);
  if (!type) return -ENODEV;
  const p = kern_path(dir, LOOKUP_DIRECTORY);
  if (typeof p === 'number') return p;
  if (d_mountpoint(p.dentry)) {
    dput(p.dentry);
    return -EBUSY;
  }
  const sb = type.mount(options);
  if (typeof sb === 'number') {
    dput(p.dentry);
    return sb;
  }
  if (!sb.s_root) BUG('%s: mount without a root', fstype);
  const m = new VfsMount(sb.s_root, sb);
  m.mnt_parent = p.mnt;
  m.mnt_mountpoint = p.dentry; // keeps kern_path's reference
  p.dentry.d_flags |= DCACHE_MOUNTED;
  mount_state.hash.set(p.dentry, m);
  mount_state.mounts.push(m);
  return 0;
}

/** init_mount_tree(): the root filesystem. */
function init_mount_tree(): void {
  const type = get_fs_type('tmpfs');
  if (!type) BUG('init_mount_tree: no tmpfs');
  const sb = type.mount('');
  if (typeof sb === 'number' || !sb.s_root) BUG('init_mount_tree: cannot mount tmpfs on /: %d', sb);
  const m = new VfsMount(sb.s_root, sb);
  mount_state.root = m;
  mount_state.mounts.push(m);
}

/** vfs_caches_init(): filesystems, the root mount, /ram, and fstat's buffer. */
export function vfs_caches_init(params: KernelParams): void {
  super_init();
  mount_init();
  shmem_init(params);
  init_ramfs_fs();
  init_mount_tree();
  let err = do_mkdirat(AT_FDCWD, '/ram', 0o755);
  if (!err) err = do_mount('ramfs', '/ram');
  if (err) BUG('vfs_caches_init: cannot mount ramfs on /ram: %d', err);
  stat_init();
  // proc_root_init() and tracefs' fs_initcalls; then what init would mount: /proc and /sys/kernel/tracing.
  proc_root_init(params);
  tracefs_init();
  // /sys/kernel/debug/tracing: where older scripts look (Linux automounts tracefs there in debugfs).
  for (const dir of ['/proc', '/sys', '/sys/kernel', '/sys/kernel/tracing', '/sys/kernel/debug', '/sys/kernel/debug/tracing']) {
    err = do_mkdirat(AT_FDCWD, dir, 0o555);
    if (err) BUG('vfs_caches_init: cannot make %s: %d', dir, err);
  }
  err = do_mount('proc', '/proc') || do_mount('tracefs', '/sys/kernel/tracing') || do_mount('tracefs', '/sys/kernel/debug/tracing');
  if (err) BUG('vfs_caches_init: cannot mount proc or tracefs: %d', err);
  tracer_init_tracefs();
}

/** vfs_caches_exit(): kill every superblock (innermost mounts first), free the zero page. */
export function vfs_caches_exit(): void {
  for (const m of [...mount_state.mounts].reverse()) m.mnt_sb.s_type.kill_sb(m.mnt_sb);
  for (const sb of [...super_state.super_blocks]) sb.s_type.kill_sb(sb);
  mount_init();
  stat_exit();
  shmem_exit();
}
