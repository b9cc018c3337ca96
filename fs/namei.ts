/*
 * fs/namei.ts - path lookup, open, mkdir and unlink.
 *
 * Mirrors fs/namei.c: getname() copies the path from user memory
 * (strncpy_from_user), path_init() starts at the root, the cwd or a dirfd,
 * link_path_walk() resolves every component but the last (ENOENT for a
 * missing one, ENOTDIR for a non-directory in the middle), crossing mounts
 * downward (follow_mount) and upward at a mount's root on `..`
 * (follow_dotdot). Then:
 *  - path_openat(): open_last_lookups() finds or creates the last
 *    component (lookup_open -> ->create), do_open() applies O_EXCL,
 *    O_DIRECTORY, the directory rules (EISDIR) and O_TRUNC, vfs_open()
 *    makes the struct file;
 *  - filename_create() + vfs_mkdir(); do_unlinkat() + vfs_unlink().
 * do_sys_openat2() (fs/open.c in Linux) is here too, so that fs/open.ts,
 * which this file calls into, does not call back.
 * Simplified: no symlinks (so no LOOKUP_FOLLOW), no permissions, no RCU
 * walk, the cwd is always "/" (no chdir), umask 022.
 */
import { strncpy_from_user } from '../arch/x86/lib/usercopy_64.ts';
import { current } from '../kernel/sched/core.ts';
import { S_ISDIR, S_ISREG, S_IFREG, S_IALLUGO, ATTR_MTIME, ATTR_CTIME, type File } from '../include/linux/fs.ts';
import { dput, d_lookup, d_alloc, d_delete } from './dcache.ts';
import { type Dentry, dget, d_mountpoint, d_is_positive } from '../include/linux/dcache.ts';
import { mount_state, lookup_mnt } from './mount.ts';
import type { Path } from '../include/linux/path.ts';
import { fdget, fput, task_files, fd_install_new } from './file.ts';
import { AT_FDCWD, O_ACCMODE, O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, O_CLOEXEC } from '../include/uapi/linux/fcntl.ts';
import { vfs_open, do_truncate } from './open.ts';
import { EACCES, EBADF, EBUSY, EEXIST, EINVAL, EISDIR, ENAMETOOLONG, ENOENT, ENOMEM, ENOTDIR, EPERM } from '../include/uapi/asm-generic/errno.ts';
import { should_failslab } from '../mm/failslab.ts';
import { GFP_KERNEL } from '../mm/gfp.ts';

/** PATH_MAX (include/uapi/linux/limits.h), with the NUL. */
export const PATH_MAX = 4096;
export const NAME_MAX = 255;

/* last_type */
export const LAST_NORM = 0;
export const LAST_ROOT = 1;
export const LAST_DOT = 2;
export const LAST_DOTDOT = 3;

export const LOOKUP_DIRECTORY = 0x0002;

/** MAY_* access bits (ACC_MODE). */
const MAY_WRITE = 0x2;
const MAY_READ = 0x4;

/** The process umask (current->fs->umask): 022 for everyone here. */
export const CURRENT_UMASK = 0o022;

/** struct nameidata: the walk's position (a held reference) and the last component. */
export class Nameidata {
  last = '';
  last_type = LAST_ROOT;
  /** The name ended in '/': the last component must be a directory. */
  trailing_slash = false;
  constructor(public path: Path) {}
}

function terminate_walk(nd: Nameidata): void {
  dput(nd.path.dentry);
}

/** getname(): the path string from user memory; ENOENT if empty, ENAMETOOLONG, EFAULT. */
export function getname(uaddr: number): string | number {
  const s = strncpy_from_user(uaddr, PATH_MAX);
  if (typeof s === 'number') return s;
  if (s.length === 0) return -ENOENT;
  return s;
}

/** path_init(): where the walk starts, with a reference. */
function path_init(dfd: number, name: string): Nameidata | number {
  const root = mount_state.root;
  if (!root) return -ENOENT;
  if (name.startsWith('/') || dfd === AT_FDCWD) return new Nameidata({ mnt: root, dentry: dget(root.mnt_root) });
  const f = fdget(task_files(current()), dfd);
  if (!f) return -EBADF;
  if (!f.f_path || !f.f_inode || !S_ISDIR(f.f_inode.i_mode)) return -ENOTDIR;
  return new Nameidata({ mnt: f.f_path.mnt, dentry: dget(f.f_path.dentry) });
}

/** __follow_mount(): step onto the root of whatever is mounted here. */
function follow_mount(path: Path): void {
  while (d_mountpoint(path.dentry)) {
    const m = lookup_mnt(path.dentry);
    if (!m) break;
    dput(path.dentry);
    path.mnt = m;
    path.dentry = dget(m.mnt_root);
  }
}

/** follow_dotdot(): `..`, leaving a mount through its mountpoint; `..` of "/" is "/". */
function follow_dotdot(path: Path): void {
  const root = mount_state.root;
  for (;;) {
    if (root && path.mnt === root && path.dentry === root.mnt_root) return;
    if (path.dentry !== path.mnt.mnt_root) break;
    const mp = path.mnt.mnt_mountpoint;
    path.mnt = path.mnt.mnt_parent;
    dput(path.dentry);
    path.dentry = dget(mp);
  }
  const parent = dget(path.dentry.d_parent);
  dput(path.dentry);
  path.dentry = parent;
  follow_mount(path);
}

/** lookup_one(): the child `name` of a directory dentry, with a reference, or null. */
function lookup_one(parent: Dentry, name: string): Dentry | null {
  const d = d_lookup(parent, name);
  if (d) return d;
  const dir = parent.d_inode;
  return dir?.i_op.lookup?.(dir, name, parent) ?? null; // lookup_slow
}

/** walk_component(): move the walk to child `name`. */
function walk_component(nd: Nameidata, name: string): number {
  const dir = nd.path.dentry.d_inode;
  if (!dir || !S_ISDIR(dir.i_mode)) return -ENOTDIR;
  if (name.length > NAME_MAX) return -ENAMETOOLONG;
  const d = lookup_one(nd.path.dentry, name);
  if (!d) return -ENOENT;
  dput(nd.path.dentry);
  nd.path.dentry = d;
  follow_mount(nd.path);
  return 0;
}

function is_dir(d: Dentry): boolean {
  return d.d_inode !== null && S_ISDIR(d.d_inode.i_mode);
}

/** link_path_walk(): everything but the last component; the walk ends on a directory. */
function link_path_walk(name: string, nd: Nameidata): number {
  const parts = name.split('/').filter((c) => c !== '');
  nd.trailing_slash = name.endsWith('/') && parts.length > 0;
  if (parts.length === 0) {
    nd.last_type = LAST_ROOT;
    return 0;
  }
  for (let k = 0; k < parts.length - 1; k++) {
    const c = parts[k];
    if (c === '..') follow_dotdot(nd.path);
    else if (c !== '.') {
      const err = walk_component(nd, c);
      if (err) return err;
    }
    if (!is_dir(nd.path.dentry)) return -ENOTDIR;
  }
  if (!is_dir(nd.path.dentry)) return -ENOTDIR;
  const last = parts[parts.length - 1];
  if (last.length > NAME_MAX) return -ENAMETOOLONG;
  nd.last = last;
  nd.last_type = last === '.' ? LAST_DOT : last === '..' ? LAST_DOTDOT : LAST_NORM;
  return 0;
}

/** lookup_last(): resolve the last component in place. */
function lookup_last(nd: Nameidata): number {
  if (nd.last_type === LAST_DOTDOT) follow_dotdot(nd.path);
  else if (nd.last_type === LAST_NORM) return walk_component(nd, nd.last);
  return 0;
}

/** filename_parentat(): the walk stopped at the parent of the last component. */
function filename_parentat(dfd: number, name: string): Nameidata | number {
  const nd = path_init(dfd, name);
  if (typeof nd === 'number') return nd;
  const err = link_path_walk(name, nd);
  if (err) {
    terminate_walk(nd);
    return err;
  }
  return nd;
}

/** filename_lookup() / kern_path(): the whole path, with a reference on its dentry. */
export function filename_lookup(dfd: number, name: string, flags: number): Path | number {
  const nd = filename_parentat(dfd, name);
  if (typeof nd === 'number') return nd;
  let err = lookup_last(nd);
  if (!err && (nd.trailing_slash || flags & LOOKUP_DIRECTORY) && !is_dir(nd.path.dentry)) err = -ENOTDIR;
  if (err) {
    terminate_walk(nd);
    return err;
  }
  return nd.path;
}

export function kern_path(name: string, flags = 0): Path | number {
  return filename_lookup(AT_FDCWD, name, flags);
}

/* ---- open ---- */

export interface OpenFlags {
  open_flag: number;
  acc_mode: number;
  mode: number;
}

/** build_open_flags(): -EINVAL for O_CREAT | O_DIRECTORY. */
export function build_open_flags(flags: number, mode: number): OpenFlags | number {
  if (flags & O_CREAT && flags & O_DIRECTORY) return -EINVAL;
  let acc_mode = [MAY_READ, MAY_WRITE, MAY_READ | MAY_WRITE, MAY_READ | MAY_WRITE][flags & O_ACCMODE];
  if (flags & O_TRUNC) acc_mode |= MAY_WRITE;
  return { open_flag: flags, acc_mode, mode: flags & O_CREAT ? (mode & S_IALLUGO) | S_IFREG : 0 };
}

/**
 * path_openat(): open (or create) the last component. Returns the file,
 * or -errno with nothing created half-way (a failed ->create leaves no name).
 */
export function do_filp_open(dfd: number, name: string, op: OpenFlags): File | number {
  if (should_failslab('filp', GFP_KERNEL)) return -ENOMEM; // path_openat(): alloc_empty_file() first, before the walk
  const nd = filename_parentat(dfd, name);
  if (typeof nd === 'number') return nd;
  const flags = op.open_flag;
  let created = false;
  let err = 0;
  if (nd.last_type !== LAST_NORM) {
    err = lookup_last(nd); // handle_dots
    if (!err && flags & O_CREAT) err = -EISDIR;
  } else if (!(flags & O_CREAT)) {
    err = walk_component(nd, nd.last);
  } else if (nd.trailing_slash) {
    err = -EISDIR;
  } else {
    // lookup_open(): a cached positive dentry, or ->create on a new one.
    const dir = nd.path.dentry.d_inode;
    let d = dir ? lookup_one(nd.path.dentry, nd.last) : null;
    if (!dir) err = -ENOENT;
    else if (!d) {
      d = d_alloc(nd.path.dentry, nd.last);
      if (!dir.i_op.create) err = -EACCES; // lookup_open(): a directory nothing can be created in (procfs)
      else err = dir.i_op.create(dir, d, op.mode & ~CURRENT_UMASK, (flags & O_EXCL) !== 0);
      if (err) {
        dput(d);
        d = null;
      } else created = true;
    }
    if (d) {
      dput(nd.path.dentry);
      nd.path.dentry = d;
      if (!created) follow_mount(nd.path);
    }
  }
  if (!err) err = do_open_checks(nd, op, created);
  if (err) {
    terminate_walk(nd);
    return err;
  }
  const file = vfs_open(nd.path, flags);
  terminate_walk(nd); // the file holds its own reference now
  if (typeof file === 'number') return file;
  const inode = file.f_inode;
  if (!created && flags & O_TRUNC && inode && S_ISREG(inode.i_mode)) {
    const terr = do_truncate(file.f_path!.dentry, 0, ATTR_MTIME | ATTR_CTIME);
    if (terr) {
      fput(file);
      return terr;
    }
  }
  return file;
}

/** do_open()'s checks and may_open(). */
function do_open_checks(nd: Nameidata, op: OpenFlags, created: boolean): number {
  const flags = op.open_flag;
  const d = nd.path.dentry;
  if (!d_is_positive(d)) return -ENOENT;
  if (flags & O_CREAT) {
    if (flags & O_EXCL && !created) return -EEXIST;
    if (is_dir(d)) return -EISDIR;
  }
  if ((flags & O_DIRECTORY || nd.trailing_slash) && !is_dir(d)) return -ENOTDIR;
  if (is_dir(d) && op.acc_mode & MAY_WRITE) return -EISDIR;
  return 0;
}

/** do_sys_openat2(): getname, a free fd, do_filp_open, fd_install. */
export function do_sys_openat2(dfd: number, filename: number, flags: number, mode: number): number {
  if (!Number.isInteger(flags) || !Number.isInteger(mode)) return -EINVAL;
  const op = build_open_flags(flags, mode);
  if (typeof op === 'number') return op;
  const name = getname(filename);
  if (typeof name === 'number') return name;
  const files = task_files(current());
  if (!files) return -EBADF;
  const f = do_filp_open(dfd, name, op);
  if (typeof f === 'number') return f;
  const fd = fd_install_new(files, f, (flags & O_CLOEXEC) !== 0);
  if (fd < 0) fput(f);
  return fd;
}

/* ---- mkdir and unlink ---- */

/** filename_create(): a new negative dentry for the last component; EEXIST if taken. */
function filename_create(dfd: number, name: string, want_dir: boolean): { nd: Nameidata; dentry: Dentry } | number {
  const nd = filename_parentat(dfd, name);
  if (typeof nd === 'number') return nd;
  let err = 0;
  if (nd.last_type !== LAST_NORM) err = -EEXIST;
  else {
    const existing = lookup_one(nd.path.dentry, nd.last);
    if (existing) {
      dput(existing);
      err = -EEXIST;
    } else if (nd.trailing_slash && !want_dir) err = -ENOENT;
  }
  if (err) {
    terminate_walk(nd);
    return err;
  }
  return { nd, dentry: d_alloc(nd.path.dentry, nd.last) };
}

/** do_mkdirat(). */
export function do_mkdirat(dfd: number, name: string, mode: number): number {
  const r = filename_create(dfd, name, true);
  if (typeof r === 'number') return r;
  const dir = r.nd.path.dentry.d_inode;
  let err: number;
  if (!dir || !dir.i_op.mkdir) err = -EPERM;
  else err = dir.i_op.mkdir(dir, r.dentry, (mode & S_IALLUGO & ~CURRENT_UMASK) >>> 0);
  dput(r.dentry);
  terminate_walk(r.nd);
  return err;
}

/** vfs_unlink(): not a directory, not a mountpoint; d_delete on success. */
function vfs_unlink(dir: Dentry, dentry: Dentry): number {
  const inode = dir.d_inode;
  if (!inode) return -ENOENT;
  if (is_dir(dentry)) return -EISDIR;
  if (d_mountpoint(dentry)) return -EBUSY;
  if (!inode.i_op.unlink) return -EPERM;
  const err = inode.i_op.unlink(inode, dentry);
  if (!err) d_delete(dentry);
  return err;
}

/** do_unlinkat(). */
export function do_unlinkat(dfd: number, name: string): number {
  const nd = filename_parentat(dfd, name);
  if (typeof nd === 'number') return nd;
  let err: number;
  if (nd.last_type !== LAST_NORM) err = -EISDIR;
  else {
    const d = lookup_one(nd.path.dentry, nd.last);
    if (!d) err = -ENOENT;
    else {
      if (nd.trailing_slash) err = is_dir(d) ? -EISDIR : -ENOTDIR; // "slashes"
      else err = vfs_unlink(nd.path.dentry, d);
      dput(d);
    }
  }
  terminate_walk(nd);
  return err;
}

function with_name(uaddr: number, fn: (name: string) => number): number {
  const name = getname(uaddr);
  return typeof name === 'number' ? name : fn(name);
}

/* ---- the entry points, given the argument registers ---- */

/** open(filename, flags, mode) (fs/open.c in Linux). */
export function sys_open(regs: readonly number[]): number {
  return do_sys_openat2(AT_FDCWD, regs[0], regs[1], regs[2]);
}

/** openat(dfd, filename, flags, mode) (fs/open.c in Linux). */
export function sys_openat(regs: readonly number[]): number {
  return do_sys_openat2(regs[0], regs[1], regs[2], regs[3]);
}

/** mkdir(pathname, mode). */
export function sys_mkdir(regs: readonly number[]): number {
  const mode = regs[1];
  return with_name(regs[0], (n) => (Number.isInteger(mode) ? do_mkdirat(AT_FDCWD, n, mode) : -EINVAL));
}

/** unlink(pathname). */
export function sys_unlink(regs: readonly number[]): number {
  return with_name(regs[0], (n) => do_unlinkat(AT_FDCWD, n));
}
