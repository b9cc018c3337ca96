/*
 * include/linux/mount.ts - struct vfsmount.
 *
 * Mirrors include/linux/mount.h with fs/mount.h's struct mount folded in:
 * a superblock's root attached at a dentry of the parent mount. The mount
 * hash and mounting itself are fs/mount.ts and fs/namespace.ts.
 */
import type { SuperBlock } from './fs.ts';
import type { Dentry } from './dcache.ts';

/** struct mount + struct vfsmount in one. */
export class VfsMount {
  /** mnt_parent: the mount this one is attached to; the root mount is its own parent. */
  mnt_parent: VfsMount;
  /** mnt_mountpoint: the dentry in mnt_parent covered by this mount. */
  mnt_mountpoint: Dentry;
  constructor(readonly mnt_root: Dentry, readonly mnt_sb: SuperBlock) {
    this.mnt_parent = this;
    this.mnt_mountpoint = mnt_root;
  }
}
