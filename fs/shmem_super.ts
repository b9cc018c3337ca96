/*
 * fs/shmem_super.ts - tmpfs inodes, directories, mount options and registration.
 *
 * The second half of mm/shmem.c (the page cache half is fs/shmem.ts):
 * shmem_get_inode() (-ENOSPC beyond nr_inodes), shmem_mknod/create/mkdir/
 * unlink/rmdir with BOGO_DIRENT_SIZE directory sizes, shmem_getattr
 * (st_blocks from the pages charged), the mount options size=, nr_blocks=,
 * nr_inodes=, huge=, mode= (shmem_parse_one), shmem_fill_super with the
 * defaults of half of RAM, and shmem_init(). The boot parameter
 * transparent_hugepage_tmpfs= (Linux 6.14) sets the default huge= of every
 * tmpfs mount, the root included.
 * Simplified: no uid=/gid=, no inode64, no quota options, no noswap.
 */
import {
  type SuperBlock, type Inode, type Kstat, type FileSystemType, type InodeOperations, S_IFDIR, S_IFREG, S_ISDIR, S_ISREG,
  S_IALLUGO, MAX_LFS_FILESIZE,
} from '../include/linux/fs.ts';
import { mapping_set_large_folios } from '../include/linux/pagemap.ts';
import {
  ShmemSbInfo, ShmemInodeInfo, SHMEM_I, SHMEM_SB, SHMEM_HUGE_NEVER, HUGE_NAMES, TMPFS_MAGIC, BOGO_DIRENT_SIZE, shmem_state,
  shmem_aops, shmem_file_operations, shmem_setattr, shmem_evict_inode,
} from './shmem.ts';
import { new_inode, inode_init_owner, simple_inode_init_ts, inc_nlink, drop_nlink, inode_touch_mtime } from './inode.ts';
import { d_make_root, d_instantiate, d_rehash } from './dcache.ts';
import { type Dentry, dget } from '../include/linux/dcache.ts';
import { alloc_super, kill_litter_super, register_filesystem } from './super.ts';
import { simple_lookup, simple_unlink, simple_empty, simple_dir_operations, generic_fillattr } from './libfs.ts';
import { totalram_pages } from '../mm/page_alloc.ts';
import { memparse } from '../lib/cmdline.ts';
import { register_param, param_error, type KernelParams } from '../kernel/params.ts';
import { EINVAL, ENOSPC, ENOTEMPTY } from '../include/uapi/asm-generic/errno.ts';
import { pr_debug_ns } from '../kernel/printk.ts';

const pr_debug = pr_debug_ns('fs:shmem');

declare module '../kernel/params.ts' {
  interface KernelParams {
    /** transparent_hugepage_tmpfs=: the default huge= of tmpfs mounts (Linux 6.14). */
    transparent_hugepage_tmpfs: number;
  }
}

/*
 * transparent_hugepage_tmpfs=always|within_size|advise|never: mm/shmem.c's
 * __setup("transparent_hugepage_tmpfs=") (Linux 6.14,
 * Documentation/admin-guide/mm/transhuge.rst): the huge= policy of every
 * tmpfs mount that does not give one, the root included; shmem_init()
 * applies it.
 */
register_param({
  name: 'transparent_hugepage_tmpfs', value: 'required',
  help: 'transparent_hugepage_tmpfs=[always|within_size|advise|never] default huge= policy of tmpfs mounts, / included. [never]',
  set_default: (out) => { out.transparent_hugepage_tmpfs = SHMEM_HUGE_NEVER; },
  parse: (val, out) => {
    const v = val !== null && Object.prototype.hasOwnProperty.call(HUGE_NAMES, val) ? HUGE_NAMES[val] : undefined;
    if (v === undefined) throw param_error('transparent_hugepage_tmpfs', 'policy', val ?? '', 'always, within_size, advise or never');
    out.transparent_hugepage_tmpfs = v;
  },
  format: (p) => {
    const v = p.transparent_hugepage_tmpfs;
    return v === SHMEM_HUGE_NEVER ? null : `transparent_hugepage_tmpfs=${Object.keys(HUGE_NAMES)[v]}`;
  },
});

/* ---- inodes and directories ---- */

/** shmem_get_inode(): a new inode; -ENOSPC beyond nr_inodes. */
function shmem_get_inode(sb: SuperBlock, dir: Inode | null, mode: number): Inode | number {
  const sbinfo = SHMEM_SB(sb);
  if (sbinfo.max_inodes) {
    if (!sbinfo.free_inodes) return -ENOSPC;
    sbinfo.free_inodes--;
  }
  const inode = new_inode(sb, (s) => new ShmemInodeInfo(s));
  inode_init_owner(inode, dir, mode);
  simple_inode_init_ts(inode);
  inode.i_mapping.a_ops = shmem_aops;
  if (S_ISREG(mode)) {
    inode.i_op = shmem_inode_operations;
    inode.i_fop = shmem_file_operations;
    if (sbinfo.huge !== SHMEM_HUGE_NEVER) mapping_set_large_folios(inode.i_mapping);
  } else if (S_ISDIR(mode)) {
    inc_nlink(inode);
    inode.i_size = 2 * BOGO_DIRENT_SIZE;
    inode.i_op = shmem_dir_inode_operations;
    inode.i_fop = simple_dir_operations;
  }
  return inode;
}

/** shmem_mknod(): create, instantiate, and pin the dentry (an extra reference while it is linked). */
function shmem_mknod(dir: Inode, dentry: Dentry, mode: number): number {
  const inode = shmem_get_inode(dir.i_sb, dir, mode);
  if (typeof inode === 'number') return inode;
  dir.i_size += BOGO_DIRENT_SIZE;
  inode_touch_mtime(dir);
  d_instantiate(dentry, inode);
  d_rehash(dentry);
  dget(dentry);
  return 0;
}

function shmem_create(dir: Inode, dentry: Dentry, mode: number, _excl: boolean): number {
  return shmem_mknod(dir, dentry, (mode & S_IALLUGO) | S_IFREG);
}

function shmem_mkdir(dir: Inode, dentry: Dentry, mode: number): number {
  const err = shmem_mknod(dir, dentry, (mode & S_IALLUGO) | S_IFDIR);
  if (!err) inc_nlink(dir);
  return err;
}

function shmem_unlink(dir: Inode, dentry: Dentry): number {
  dir.i_size -= BOGO_DIRENT_SIZE;
  return simple_unlink(dir, dentry);
}

function shmem_rmdir(dir: Inode, dentry: Dentry): number {
  if (!simple_empty(dentry)) return -ENOTEMPTY;
  const inode = dentry.d_inode;
  if (inode) drop_nlink(inode);
  drop_nlink(dir);
  return shmem_unlink(dir, dentry);
}

function shmem_getattr(dentry: Dentry, stat: Kstat): number {
  const inode = dentry.d_inode;
  if (!inode) return -EINVAL;
  generic_fillattr(inode, stat);
  stat.blocks = SHMEM_I(inode).alloced * 8;
  return 0;
}

const shmem_inode_operations: InodeOperations = { setattr: shmem_setattr, getattr: shmem_getattr };
const shmem_dir_inode_operations: InodeOperations = {
  lookup: simple_lookup, create: shmem_create, mkdir: shmem_mkdir, unlink: shmem_unlink, rmdir: shmem_rmdir,
  setattr: shmem_setattr, getattr: shmem_getattr,
};

/* ---- the filesystem ---- */

/**
 * shmem_parse_options(): size=<bytes>[kmg]|<n>%, nr_blocks=, nr_inodes=,
 * huge=never|always|within_size|advise, mode=<octal>. -EINVAL if malformed.
 */
export function shmem_parse_options(sbinfo: ShmemSbInfo, options: string): number {
  for (const opt of options.split(',')) {
    if (opt === '') continue;
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const val = eq < 0 ? '' : opt.slice(eq + 1);
    if (key === 'size' || key === 'nr_blocks') {
      let bytes: number;
      if (key === 'size' && /^[0-9]+%$/.test(val)) {
        bytes = Math.floor((totalram_pages() * 4096 * Number(val.slice(0, -1))) / 100);
      } else {
        const m = memparse(val);
        if (!/^[0-9]/.test(val) || m.rest !== '') return -EINVAL;
        bytes = key === 'size' ? m.value : m.value * 4096;
      }
      sbinfo.max_blocks = Math.ceil(bytes / 4096);
    } else if (key === 'nr_inodes') {
      const m = memparse(val);
      if (!/^[0-9]/.test(val) || m.rest !== '') return -EINVAL;
      sbinfo.max_inodes = m.value;
      sbinfo.free_inodes = m.value;
    } else if (key === 'huge') {
      if (!Object.prototype.hasOwnProperty.call(HUGE_NAMES, val)) return -EINVAL;
      sbinfo.huge = HUGE_NAMES[val];
    } else if (key === 'mode') {
      if (!/^[0-7]+$/.test(val)) return -EINVAL;
      sbinfo.mode = parseInt(val, 8) & S_IALLUGO;
    } else {
      return -EINVAL;
    }
  }
  return 0;
}

/** shmem_fill_super() behind get_tree_nodev(): defaults of half of RAM in blocks and in inodes. */
function shmem_mount(options: string): SuperBlock | number {
  const sbinfo = new ShmemSbInfo();
  sbinfo.max_blocks = Math.floor(totalram_pages() / 2); // shmem_default_max_blocks()
  sbinfo.max_inodes = Math.floor(totalram_pages() / 2); // shmem_default_max_inodes()
  sbinfo.free_inodes = sbinfo.max_inodes;
  sbinfo.huge = shmem_state.tmpfs_default_huge;
  const err = shmem_parse_options(sbinfo, options);
  if (err) return err;
  const sb = alloc_super(shmem_fs_type);
  sb.s_fs_info = sbinfo;
  sb.s_magic = TMPFS_MAGIC;
  sb.s_maxbytes = MAX_LFS_FILESIZE;
  sb.s_op = { evict_inode: shmem_evict_inode };
  const root = shmem_get_inode(sb, null, S_IFDIR | sbinfo.mode);
  if (typeof root === 'number') {
    kill_litter_super(sb);
    return root;
  }
  sb.s_root = d_make_root(root);
  return sb;
}

export const shmem_fs_type: FileSystemType = {
  name: 'tmpfs',
  mount: shmem_mount,
  kill_sb: kill_litter_super,
};

import { zero_page_init, zero_page_exit, ZERO_PAGE } from '../mm/zero_page.ts';

/** shmem_init(): register tmpfs, set the default huge policy, make the zero page. */
export function shmem_init(params: KernelParams): void {
  shmem_state.tmpfs_default_huge = params.transparent_hugepage_tmpfs;
  zero_page_init();
  register_filesystem(shmem_fs_type);
  pr_debug('shmem_init: zero page pfn %s, default huge=%s', ZERO_PAGE(0).toString(16), params.transparent_hugepage_tmpfs);
}

/** shmem_exit() (no Linux counterpart): give the zero page back at shutdown. */
export function shmem_exit(): void {
  zero_page_exit();
}
