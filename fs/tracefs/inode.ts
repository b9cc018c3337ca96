/*
 * fs/tracefs/inode.ts - tracefs: the filesystem the tracing files live in.
 *
 * Mirrors fs/tracefs/inode.c: one superblock however often it is mounted
 * (mount_single), files and directories made by the tracer at boot with
 * tracefs_create_file() / tracefs_create_dir() (kernel/trace/tracefs.ts
 * makes trace, trace_pipe, set_event and events/); each is a pinned
 * dentry and an inode whose i_private is the file's data. The kernel
 * mounts it on /sys/kernel/tracing at boot (fs/namespace.ts).
 * Simplified: no mount options (uid=, gid=, mode=), no instances/ mkdir,
 * no eventfs (the events/ tree is made whole at boot, not on lookup).
 */
import {
  type SuperBlock, type Inode, type FileSystemType, type FileOperations, type InodeOperations, S_IFDIR, S_IFREG,
} from '../../include/linux/fs.ts';
import type { Dentry } from '../../include/linux/dcache.ts';
import { alloc_super, kill_litter_super, register_filesystem } from '../super.ts';
import { d_make_root, d_alloc, d_instantiate, d_rehash } from '../dcache.ts';
import { new_inode, simple_inode_init_ts, inc_nlink } from '../inode.ts';
import { simple_lookup, simple_getattr, simple_setattr, simple_dir_operations } from '../libfs.ts';
import { BUG } from '../../kernel/panic.ts';
import { EINVAL } from '../../include/uapi/asm-generic/errno.ts';

export const TRACEFS_MAGIC = 0x74726163;

export const tracefs_state = {
  /** The one superblock (tracefs_mount's), made at the first mount. */
  sb: null as SuperBlock | null,
  /** What the superblock's put_super runs: the tracer frees what it made for its files. */
  on_put_super: null as (() => void) | null,
};

const tracefs_dir_inode_operations: InodeOperations = { lookup: simple_lookup, getattr: simple_getattr };
const tracefs_file_inode_operations: InodeOperations = { getattr: simple_getattr, setattr: simple_setattr };

function tracefs_get_inode(sb: SuperBlock, mode: number): Inode {
  const inode = new_inode(sb);
  inode.i_mode = mode;
  simple_inode_init_ts(inode);
  return inode;
}

/** tracefs_fill_super() via mount_single(): every mount shares one superblock. */
function tracefs_mount(options: string): SuperBlock | number {
  if (options !== '') return -EINVAL;
  if (tracefs_state.sb) return tracefs_state.sb;
  const sb = alloc_super(tracefs_fs_type);
  sb.s_magic = TRACEFS_MAGIC;
  sb.s_op = {
    evict_inode: () => {}, // no page cache
    put_super: () => {
      tracefs_state.sb = null;
      const f = tracefs_state.on_put_super;
      tracefs_state.on_put_super = null;
      f?.();
    },
  };
  const root = tracefs_get_inode(sb, S_IFDIR | 0o700);
  root.i_op = tracefs_dir_inode_operations;
  root.i_fop = simple_dir_operations;
  inc_nlink(root);
  sb.s_root = d_make_root(root);
  tracefs_state.sb = sb;
  return sb;
}

/** kill_litter_super() once for the shared superblock, however many mounts it had. */
function tracefs_kill_sb(sb: SuperBlock): void {
  if (tracefs_state.sb === sb || sb.s_root) kill_litter_super(sb);
}

export const tracefs_fs_type: FileSystemType = {
  name: 'tracefs',
  mount: tracefs_mount,
  kill_sb: tracefs_kill_sb,
};

/** The root of the tracefs superblock (NULL parent of tracefs_create_*), once mounted. */
export function tracefs_root(): Dentry {
  const root = tracefs_state.sb?.s_root;
  if (!root) BUG('tracefs: not mounted');
  return root;
}

/* A pinned, hashed child of `parent`: the d_alloc reference is the pin. */
function tracefs_add(parent: Dentry, name: string, inode: Inode): Dentry {
  if (parent.d_subdirs.has(name)) BUG('tracefs: %s already exists', name);
  const d = d_alloc(parent, name);
  d_instantiate(d, inode);
  d_rehash(d);
  return d;
}

/** tracefs_create_file(): a file `name` under `parent` (the root if null) whose i_private is `data`. */
export function tracefs_create_file(name: string, mode: number, parent: Dentry | null, data: unknown, fops: FileOperations): Dentry {
  const dir = parent ?? tracefs_root();
  const inode = tracefs_get_inode(dir.d_sb, S_IFREG | (mode & 0o7777));
  inode.i_op = tracefs_file_inode_operations;
  inode.i_fop = fops;
  inode.i_private = data;
  return tracefs_add(dir, name, inode);
}

/** tracefs_create_dir(). */
export function tracefs_create_dir(name: string, parent: Dentry | null): Dentry {
  const dir = parent ?? tracefs_root();
  const inode = tracefs_get_inode(dir.d_sb, S_IFDIR | 0o755);
  inode.i_op = tracefs_dir_inode_operations;
  inode.i_fop = simple_dir_operations;
  inc_nlink(inode);
  if (dir.d_inode) inc_nlink(dir.d_inode);
  return tracefs_add(dir, name, inode);
}

/** tracefs_init(): register the type (fs_initcall). */
export function tracefs_init(): void {
  tracefs_state.sb = null;
  tracefs_state.on_put_super = null;
  register_filesystem(tracefs_fs_type);
}
