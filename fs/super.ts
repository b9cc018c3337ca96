/*
 * fs/super.ts - filesystem types and superblocks.
 *
 * Mirrors fs/filesystems.c (register_filesystem, get_fs_type) and
 * fs/super.c (alloc_super, get_anon_bdev via the anon dev IDA,
 * kill_litter_super -> generic_shutdown_super). An in-memory filesystem's
 * superblock dies with its last mount; at shutdown every superblock is
 * killed, which evicts every inode and so frees every page-cache page.
 * Simplified: no s_umount/s_active reference dance (nothing is ever
 * unmounted while busy), no block devices, no fs_context: a type's
 * mount() parses its option string itself.
 */
import { SuperBlock, type FileSystemType } from '../include/linux/fs.ts';
import { d_genocide } from './dcache.ts';
import { evict_inodes } from './inode.ts';
import { EBUSY } from '../include/uapi/asm-generic/errno.ts';

export const super_state = {
  /** file_systems: registered types by name. */
  file_systems: new Map<string, FileSystemType>(),
  /** super_blocks: every live superblock. */
  super_blocks: [] as SuperBlock[],
  /** The anon dev IDA: the last minor handed out (major 0). */
  last_anon_minor: 0,
};

export function super_init(): void {
  super_state.file_systems = new Map();
  super_state.super_blocks = [];
  super_state.last_anon_minor = 0;
}

/** register_filesystem(): 0, or -EBUSY if the name is taken. */
export function register_filesystem(fs: FileSystemType): number {
  if (super_state.file_systems.has(fs.name)) return -EBUSY;
  super_state.file_systems.set(fs.name, fs);
  return 0;
}

export function get_fs_type(name: string): FileSystemType | null {
  return super_state.file_systems.get(name) ?? null;
}

/** MKDEV() of the kernel's internal dev_t: 12-bit major, 20-bit minor. */
export function MKDEV(major: number, minor: number): number {
  return major * 2 ** 20 + minor;
}
export function MAJOR(dev: number): number {
  return Math.floor(dev / 2 ** 20);
}
export function MINOR(dev: number): number {
  return dev % 2 ** 20;
}

/** alloc_super() + set_anon_super(): a superblock with an anonymous device number. */
export function alloc_super(type: FileSystemType): SuperBlock {
  const sb = new SuperBlock(type);
  sb.s_dev = MKDEV(0, ++super_state.last_anon_minor);
  super_state.super_blocks.push(sb);
  return sb;
}

/**
 * kill_litter_super(): drop the pinned dentries (d_genocide), then
 * generic_shutdown_super(): evict every inode, ->put_super, forget sb.
 */
export function kill_litter_super(sb: SuperBlock): void {
  if (sb.s_root) d_genocide(sb.s_root);
  sb.s_root = null;
  evict_inodes(sb);
  sb.s_op.put_super?.(sb);
  const i = super_state.super_blocks.indexOf(sb);
  if (i >= 0) super_state.super_blocks.splice(i, 1);
}
