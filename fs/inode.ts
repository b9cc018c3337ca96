/*
 * fs/inode.ts - inode lifetime: allocation, references, link counts, eviction.
 *
 * Mirrors fs/inode.c (new_inode, get_next_ino, iput/iput_final, evict,
 * evict_inodes, inode_init_owner, current_time, inode_newsize_ok, the
 * nlink helpers, touch_atime with the relatime rule every mount has by default). An inode with no references and no links is evicted:
 * the filesystem's ->evict_inode frees its page cache (Linux's evict()
 * calls truncate_inode_pages_final() itself when there is none; here every
 * filesystem has one, which keeps fs/inode.ts below the page cache).
 * Simplified: no inode hash (in-memory filesystems find inodes through
 * dentries only), no I_DIRTY/writeback states, times are simulated ns
 * from the current CPU's cycle clock (deterministic, not wall time); no
 * noatime/nodiratime mounts and no O_NOATIME.
 */
import { Inode, type File, type SuperBlock, MAX_LFS_FILESIZE, file_inode } from '../include/linux/fs.ts';
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import { this_cpu } from '../kernel/smp.ts';
import { ktime_get_ns } from '../kernel/time/timekeeping.ts';
import { BUG, WARN } from '../kernel/panic.ts';
import { EFBIG } from '../include/uapi/asm-generic/errno.ts';

/* Cost-key indices as module locals: an imported binding is a getter under the TS loaders. */
const K_TOUCH_ATIME = COST_KEY_INDEX.touch_atime, K_INODE_UPDATE_TIME = COST_KEY_INDEX.inode_update_time;
/** relatime's limit: an atime older than a day is updated even if newer than mtime and ctime. */
const RELATIME_NS = 24 * 60 * 60 * 1e9;

/** get_next_ino(): inode numbers, per superblock here (Linux: one global per-CPU batch counter). */
export function get_next_ino(sb: SuperBlock): number {
  return sb.next_ino++;
}

/**
 * new_inode(): a fresh inode on `sb` with one reference, listed in
 * sb->s_inodes. `alloc` is the filesystem's ->alloc_inode (shmem's embeds
 * the VFS inode in shmem_inode_info).
 */
export function new_inode(sb: SuperBlock, alloc?: (sb: SuperBlock) => Inode): Inode {
  const inode = alloc ? alloc(sb) : new Inode(sb);
  inode.i_ino = get_next_ino(sb);
  sb.s_inodes.add(inode);
  return inode;
}

/** inode_init_owner(): the mode (no uid/gid: everything is root). */
export function inode_init_owner(inode: Inode, _dir: Inode | null, mode: number): void {
  inode.i_mode = mode;
}

/** current_time(): the simulated time in ns on this CPU. */
export function current_time(_inode: Inode): number {
  return Math.floor(ktime_get_ns());
}

/** simple_inode_init_ts(): atime = mtime = ctime = now. */
export function simple_inode_init_ts(inode: Inode): void {
  const t = current_time(inode);
  inode.i_atime_ns = t;
  inode.i_mtime_ns = t;
  inode.i_ctime_ns = t;
}

/** inode_set_mtime_to_ts + inode_set_ctime_current: a modification happened now. */
export function inode_touch_mtime(inode: Inode): void {
  const t = current_time(inode);
  inode.i_mtime_ns = t;
  inode.i_ctime_ns = t;
}

export function ihold(inode: Inode): void {
  if (inode.i_count <= 0) BUG('ihold of a freed inode %d', inode.i_ino);
  inode.i_count++;
}

export function inc_nlink(inode: Inode): void {
  inode.i_nlink++;
}

export function drop_nlink(inode: Inode): void {
  WARN(inode.i_nlink === 0, 'drop_nlink of inode %d with no links', inode.i_ino);
  if (inode.i_nlink > 0) inode.i_nlink--;
}

/** evict(): the filesystem frees the inode's data; it leaves the superblock's list. */
export function evict(inode: Inode): void {
  const sb = inode.i_sb;
  if (!sb.s_op.evict_inode) BUG('evict: %s has no evict_inode', sb.s_type.name);
  sb.s_op.evict_inode(inode);
  if (inode.i_mapping.nrpages !== 0) BUG('evict: inode %d still caches %d pages', inode.i_ino, inode.i_mapping.nrpages);
  sb.s_inodes.delete(inode);
  inode.i_count = 0;
}

/**
 * iput(): drop a reference. iput_final() evicts an unlinked inode, or any
 * inode whose superblock's ->drop_inode says so (procfs); a linked one of
 * an in-memory filesystem is always pinned by its dentry, so it never
 * reaches zero while linked.
 */
export function iput(inode: Inode): void {
  if (inode.i_count <= 0) BUG('iput of a freed inode %d', inode.i_ino);
  if (--inode.i_count > 0) return;
  if (inode.i_nlink === 0 || inode.i_sb.s_op.drop_inode?.(inode)) evict(inode);
}

/**
 * evict_inodes(): at unmount, evict every inode left on the superblock,
 * referenced or not (generic_shutdown_super after the dentries are gone).
 */
export function evict_inodes(sb: SuperBlock): void {
  for (const inode of [...sb.s_inodes]) evict(inode);
}

/** inode_newsize_ok(): -EFBIG beyond the filesystem's maximum file size. */
export function inode_newsize_ok(inode: Inode, offset: number): number {
  if (offset > inode.i_sb.s_maxbytes || offset > MAX_LFS_FILESIZE) return -EFBIG;
  return 0;
}

/*
 * relatime_need_update(): update atime only if it is not newer than mtime
 * or ctime (so a reader can tell the file was read since it was written),
 * or is a day old.
 */
function relatime_need_update(inode: Inode, now: number): boolean {
  const atime = inode.i_atime_ns;
  if (inode.i_mtime_ns >= atime || inode.i_ctime_ns >= atime) return true;
  return now - atime >= RELATIME_NS;
}

/**
 * touch_atime(): after a read, atime_needs_update() (relatime) and, if it
 * says so, the update through inode_update_time(). Every read pays for the
 * test; in a loop of reads only the first after a write pays the update.
 */
export function touch_atime(inode: Inode): void {
  const cpu = this_cpu();
  cpu.charge_one(K_TOUCH_ATIME);
  const now = current_time(inode);
  if (now === inode.i_atime_ns || !relatime_need_update(inode, now)) return;
  cpu.charge_one(K_INODE_UPDATE_TIME);
  inode.i_atime_ns = now;
}

/** file_accessed() (include/linux/fs.h): the read path's atime update. */
export function file_accessed(file: File): void {
  touch_atime(file_inode(file));
}
