/*
 * fs/dcache.ts - the dentry cache: names in the directory tree.
 *
 * Mirrors fs/dcache.c (struct dentry is include/linux/dcache.ts) for the
 * in-memory filesystems: tmpfs and ramfs keep
 * their whole tree in the dcache (a created dentry is pinned with an extra
 * reference, as simple_mknod's dget does), so a lookup that misses the
 * dcache is a miss on disk too. A dentry holds a reference to its parent
 * and to its inode; when the last reference to an unhashed (unlinked)
 * dentry goes, dentry_kill() drops the inode (iput), which evicts an
 * unlinked inode's pages.
 * Simplified: d_subdirs is a Map by name (Linux hashes (parent, name) in
 * dentry_hashtable), no negative dentries are cached (always_delete_dentry),
 * no RCU walk, no aliases or hard links, no LRU.
 */
import type { Inode } from '../include/linux/fs.ts';
import { Dentry, IS_ROOT, dget } from '../include/linux/dcache.ts';
import { iput } from './inode.ts';
import { BUG } from '../kernel/panic.ts';

/** d_alloc(): a new negative child of `parent`, not yet hashed; holds a reference to the parent. */
export function d_alloc(parent: Dentry, name: string): Dentry {
  dget(parent);
  return new Dentry(name, parent, parent.d_sb);
}

/** d_make_root(): the root dentry of a new superblock. */
export function d_make_root(inode: Inode): Dentry {
  const d = new Dentry('/', null, inode.i_sb);
  d.d_inode = inode;
  d.hashed = true;
  return d;
}

/** d_instantiate(): attach the inode; the dentry takes over the caller's inode reference. */
export function d_instantiate(d: Dentry, inode: Inode): void {
  if (d.d_inode) BUG('d_instantiate: %s is already positive', d.d_name);
  d.d_inode = inode;
}

/** d_rehash(): make the dentry findable by name in its parent. */
export function d_rehash(d: Dentry): void {
  if (IS_ROOT(d)) return;
  d.d_parent.d_subdirs.set(d.d_name, d);
  d.hashed = true;
}

/** d_add(): instantiate (inode may be null: negative, not cached) and hash. */
export function d_add(d: Dentry, inode: Inode | null): void {
  if (inode) {
    d_instantiate(d, inode);
    d_rehash(d);
  }
}

/** d_lookup(): the hashed child `name` of `parent`, with a reference, or null. */
export function d_lookup(parent: Dentry, name: string): Dentry | null {
  const d = parent.d_subdirs.get(name);
  return d ? dget(d) : null;
}

/** __d_drop(): unhash, so lookups no longer find it. */
export function __d_drop(d: Dentry): void {
  if (!d.hashed) return;
  d.hashed = false;
  if (!IS_ROOT(d) && d.d_parent.d_subdirs.get(d.d_name) === d) d.d_parent.d_subdirs.delete(d.d_name);
}

/*
 * dentry_unlink_inode(): make the dentry negative and drop its inode
 * reference (an unlinked inode with no other users is evicted).
 */
function dentry_unlink_inode(d: Dentry): void {
  const inode = d.d_inode;
  d.d_inode = null;
  if (inode) iput(inode);
}

/**
 * d_delete(): after unlink. The only user turns the dentry negative at
 * once; with other users (open files) it is only unhashed and the inode
 * lives until the last dput.
 */
export function d_delete(d: Dentry): void {
  if (d.d_count === 1) {
    __d_drop(d);
    dentry_unlink_inode(d);
    return;
  }
  __d_drop(d);
}

/** dput(): drop a reference; an unhashed dentry with none left is killed, then its parent is put. */
export function dput(d: Dentry | null): void {
  while (d) {
    if (d.d_count <= 0) BUG('dput on a dead dentry %s', d.d_name);
    if (--d.d_count > 0) return;
    if (d.hashed) return; // still named: stays in the dcache (pinned fs: never reached)
    dentry_unlink_inode(d);
    const parent = IS_ROOT(d) ? null : d.d_parent;
    d = parent;
  }
}

/**
 * d_genocide() + shrink_dcache_for_umount(): at unmount of an in-memory
 * filesystem, drop every dentry under `root` and the inode references
 * they hold. Returns the inodes that were reached.
 */
export function d_genocide(root: Dentry): void {
  const walk = (d: Dentry): void => {
    for (const c of [...d.d_subdirs.values()]) walk(c);
    d.d_subdirs.clear();
    d.hashed = false;
    dentry_unlink_inode(d);
    d.d_count = 0;
  };
  walk(root);
}
