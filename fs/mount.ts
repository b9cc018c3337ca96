/*
 * fs/mount.ts - the mount hash, and references on a path.
 *
 * Mirrors fs/mount.h and fs/namei.c's path_get/path_put (struct vfsmount
 * is include/linux/mount.ts's, struct path include/linux/path.ts's): a
 * mount attaches a superblock's root at a dentry (the mountpoint) of its
 * parent mount;
 * path walking crosses into it with lookup_mnt() (__follow_mount) and back
 * out through `..` at a mount root (follow_dotdot).
 * Simplified: one mount namespace, no mount propagation, no bind mounts,
 * and a dentry is a mountpoint of at most one mount, so the hash is keyed
 * by the mountpoint dentry alone (Linux: (parent mount, dentry)).
 */
import type { VfsMount } from '../include/linux/mount.ts';
import type { Path } from '../include/linux/path.ts';
import { type Dentry, dget } from '../include/linux/dcache.ts';
import { dput } from './dcache.ts';

export const mount_state = {
  /** The root of the (only) mount namespace: current->fs->root. */
  root: null as VfsMount | null,
  /** mount_hashtable: mountpoint dentry -> the mount on it. */
  hash: new Map<Dentry, VfsMount>(),
  /** Every mount, in mount order. */
  mounts: [] as VfsMount[],
};

export function mount_init(): void {
  mount_state.root = null;
  mount_state.hash = new Map();
  mount_state.mounts = [];
}

/** lookup_mnt(): the mount covering `dentry`, if any. */
export function lookup_mnt(dentry: Dentry): VfsMount | null {
  return mount_state.hash.get(dentry) ?? null;
}

/** path_get(): take a reference on the dentry (mounts are never unmounted: no mnt count). */
export function path_get(p: Path): void {
  dget(p.dentry);
}

/** path_put(). */
export function path_put(p: Path): void {
  dput(p.dentry);
}
