/*
 * include/linux/dcache.ts - struct dentry and its inline helpers.
 *
 * Mirrors include/linux/dcache.h: the dentry (a name in the directory
 * tree, with references to its parent and its inode) and the small
 * accessors dcache.h defines inline; the cache itself (d_alloc, d_lookup,
 * dput ...) is fs/dcache.ts.
 */
import type { Inode, SuperBlock } from './fs.ts';
import { BUG } from '../../kernel/panic.ts';

/** d_flags. */
export const DCACHE_MOUNTED = 1 << 16;

/** struct dentry. */
export class Dentry {
  /** d_lockref.count. */
  d_count = 1;
  d_flags = 0;
  /** null: negative (no such file) or killed. */
  d_inode: Inode | null = null;
  /** d_parent: the root is its own parent (IS_ROOT). */
  d_parent: Dentry;
  /** d_children, by name; only hashed positive dentries are here. */
  readonly d_subdirs = new Map<string, Dentry>();
  /** False until d_add/d_rehash, and again after d_delete/__d_drop (d_unhashed). */
  hashed = false;
  constructor(readonly d_name: string, parent: Dentry | null, readonly d_sb: SuperBlock) {
    this.d_parent = parent ?? this;
  }
}

export function IS_ROOT(d: Dentry): boolean {
  return d.d_parent === d;
}

export function d_unhashed(d: Dentry): boolean {
  return !d.hashed;
}

export function d_mountpoint(d: Dentry): boolean {
  return (d.d_flags & DCACHE_MOUNTED) !== 0;
}

/** d_really_is_positive(). */
export function d_is_positive(d: Dentry): boolean {
  return d.d_inode !== null;
}

export function dget(d: Dentry): Dentry {
  if (d.d_count <= 0) BUG('dget on a dead dentry %s', d.d_name);
  d.d_count++;
  return d;
}
