/*
 * include/linux/path.ts - struct path: a dentry and the mount it is seen through.
 *
 * Mirrors include/linux/path.h; path_get()/path_put() are fs/mount.ts's.
 */
import type { VfsMount } from './mount.ts';
import type { Dentry } from './dcache.ts';

/** struct path. */
export interface Path {
  mnt: VfsMount;
  dentry: Dentry;
}
