/*
 * tools/testing/asi_fuzz_fs.ts - the fuzzer's fs check: a reference model
 * (tools/testing/fs_model.ts) fed by the same syscalls the fuzzed programs
 * issue, compared with the tmpfs tree after each program.
 *
 * No Linux counterpart (syzkaller has none; fsx keeps such a model for one
 * file). Each file syscall's sys_call_table slot is wrapped for the boot
 * (as tests/fs/helpers.ts's kunit_activate_syscall_stub does): after the
 * real call returns, its result feeds the model, the way the executed
 * syscall changed the fs. Syscalls run to completion on their CPU, so the
 * wrapped calls see the fs in execution order across CPUs. The model
 * decides what a result means: a successful write puts the caller's bytes
 * (read from its buffer, through its page tables, as the oracle reads
 * machine state) at the model's own file position; a successful read must
 * return the model's bytes; an open, mkdir or unlink that succeeds must
 * find the model's tree agreeing (a name present, absent, a parent there).
 * Failed calls change nothing (every error path here fails before it
 * modifies the fs, as Linux's do). Open file descriptions are keyed by the
 * kernel's struct file, so fork, CLONE_FILES and dup share positions as
 * the kernel does. After the program, every name, type, size and byte of
 * the tree must equal the model's.
 *
 * Simplified: paths are read as NUL-terminated user strings and resolved
 * from the root (every task's cwd; the fuzzer uses absolute paths); the
 * model is the root tmpfs only: a path at or below another mount (/proc,
 * /sys/kernel/tracing) is left out. A user store through a writable
 * MAP_SHARED mapping changes a file with no syscall the model could see,
 * so a file once mapped that way takes its bytes from the kernel before
 * each check (its size and its name are still checked).
 */
import type { Kernel } from '../../init/main.ts';
import { syscall_64_state, syscall_64_tbl } from '../../arch/x86/entry/syscall_64.ts';
import { current } from '../../kernel/sched/core.ts';
import { task_files } from '../../fs/file.ts';
import { mount_state } from '../../fs/mount.ts';
import { S_ISDIR, file_inode, type File, type Inode } from '../../include/linux/fs.ts';
import { type Dentry, d_mountpoint } from '../../include/linux/dcache.ts';
import { xa_for_each } from '../../lib/xarray.ts';
import { folio_file_page, folio_test_uptodate } from '../../include/linux/pagemap.ts';
import { __pa } from '../../arch/x86/include/asm/page_64_types.ts';
import type { PhysMem } from '../../arch/x86/hw/physmem.ts';
import { O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_ACCMODE } from '../../include/uapi/asm-generic/fcntl.ts';
import { ENOENT } from '../../include/uapi/asm-generic/errno.ts';
import { FsModel, MDir, MFile, type MNode, type MOfd } from './fs_model.ts';

const PAGE = 4096;
const FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2;

/** The model and what the wrapped calls found wrong. */
export interface FsShadow {
  readonly model: FsModel;
  readonly ofds: Map<File, MOfd>;
  /** One line per disagreement (each a mismatch). */
  readonly bad: string[];
  /** Calls that fed the model. */
  fed: number;
  /** Files mapped MAP_SHARED and writable: their bytes are the kernel's (see the header). */
  readonly shared: Map<MFile, Inode>;
}

/** A shared-mapped file's bytes, taken from the kernel's page cache. */
function resync(mem: PhysMem, sh: FsShadow, f: MFile): void {
  const inode = sh.shared.get(f);
  if (!inode) return;
  f.pages.clear();
  for (const [i, b] of page_bytes(mem, inode)) if (i * PAGE < f.size) f.pages.set(i, b);
}

/* ---- reading user memory without touching it (no A bits, no faults, no cycles) ---- */

function pte_at(mem: PhysMem, table_pa: number, idx: number): [number, number] {
  return [mem.read32(table_pa + idx * 8), mem.read32(table_pa + idx * 8 + 4)];
}

/** The physical address `va` maps to in the current task's page tables, or -1. */
function user_pa(mem: PhysMem, va: number): number {
  const mm = current().mm;
  if (!mm || !mm.pgd || !Number.isInteger(va) || va < 0 || va >= 2 ** 47) return -1;
  let table = __pa(mm.pgd);
  for (let level = 4; level >= 1; level--) {
    const shift = 12 + 9 * (level - 1);
    const idx = Math.floor(va / 2 ** shift) % 512;
    const [lo, hi] = pte_at(mem, table, idx);
    if (!(lo & 1)) return -1;
    const base = ((hi & 0xfffff) * 2 ** 20 + (lo >>> 12)) * PAGE;
    if (level === 1 || (level < 4 && lo & 0x80)) {
      const size = 2 ** shift;
      return base - (base % size) + (va % size);
    }
    table = base;
  }
  return -1;
}

/** `len` bytes of user memory at `va`, or the present prefix of them. */
function peek_user(mem: PhysMem, va: number, len: number): Uint8Array {
  const out: number[] = [];
  for (let at = 0; at < len;) {
    const pa = user_pa(mem, va + at);
    if (pa < 0) break;
    const n = Math.min(PAGE - ((va + at) % PAGE), len - at);
    for (let i = 0; i < n; i++) out.push(mem.read8(pa + i));
    at += n;
  }
  return new Uint8Array(out);
}

/** The NUL-terminated string at `va` (at most PATH_MAX bytes), or null. */
function peek_path(mem: PhysMem, va: number): string | null {
  let s = '';
  for (let i = 0; i < 4096; i++) {
    const pa = user_pa(mem, va + i);
    if (pa < 0) return null;
    const b = mem.read8(pa);
    if (b === 0) return s;
    s += String.fromCharCode(b);
  }
  return null;
}

/** An iovec array's segments: [base, len] pairs. */
function peek_iov(mem: PhysMem, va: number, n: number): [number, number][] {
  const out: [number, number][] = [];
  if (!Number.isInteger(n) || n < 0 || n > 1024) return out;
  const raw = peek_user(mem, va, 16 * n);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i + 16 <= raw.length; i += 16) {
    out.push([dv.getUint32(i, true) + dv.getUint32(i + 4, true) * 2 ** 32, dv.getUint32(i + 8, true) + dv.getUint32(i + 12, true) * 2 ** 32]);
  }
  return out;
}

/** The first `total` bytes the segments hold (what readv filled, what writev took). */
function gather(mem: PhysMem, segs: [number, number][], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const [base, len] of segs) {
    if (at >= total) break;
    const n = Math.min(len, total - at);
    out.set(peek_user(mem, base, n), at);
    at += n;
  }
  return out;
}

/* ---- the kernel's tree, read as tests read kernel state ---- */

function page_bytes(mem: PhysMem, inode: Inode): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (const [idx, folio] of xa_for_each(inode.i_mapping.i_pages)) {
    // A !uptodate folio (fallocate's) holds stale bytes and reads as a hole, as the kernel's reads treat it.
    if (idx * PAGE >= inode.i_size || !folio_test_uptodate(folio)) continue;
    const pa = folio_file_page(folio, idx) * PAGE;
    const b = new Uint8Array(PAGE);
    for (let i = 0; i < PAGE; i++) b[i] = mem.read8(pa + i);
    out.set(idx, b);
  }
  return out;
}

function root_dentry(): Dentry | null {
  return mount_state.root?.mnt_root ?? null;
}

/** The root tmpfs's mountpoints as absolute paths ('/proc', '/sys/kernel/tracing', ...). */
function mountpoints(): string[] {
  const out: string[] = [];
  const walk = (d: Dentry, at: string): void => {
    for (const [name, c] of d.d_subdirs) {
      if (!c.hashed) continue;
      const p = `${at}/${name}`;
      if (d_mountpoint(c)) out.push(p);
      else if (c.d_inode && S_ISDIR(c.d_inode.i_mode)) walk(c, p);
    }
  };
  const r = root_dentry();
  if (r) walk(r, '');
  return out;
}

/** A model equal to the kernel's tree now (the starting point: what boot made). */
function model_of_kernel(mem: PhysMem): FsModel {
  const m = new FsModel();
  const copy = (d: Dentry, into: MDir): void => {
    for (const [name, c] of d.d_subdirs) {
      const inode = c.d_inode;
      if (!inode || !c.hashed) continue;
      if (S_ISDIR(inode.i_mode)) {
        const sub = new MDir();
        into.children.set(name, sub);
        copy(c, sub);
      } else {
        const f = new MFile();
        f.size = inode.i_size;
        for (const [i, b] of page_bytes(mem, inode)) f.pages.set(i, b);
        into.children.set(name, f);
      }
    }
  };
  const r = root_dentry();
  if (r) copy(r, m.root);
  return m;
}

/** Compare the kernel's tree with the model; one line per difference (at most `max`). */
export function fs_shadow_compare(k: Kernel, sh: FsShadow, max = 5): string[] {
  const mem = k.machine.mem;
  const out: string[] = [];
  const cmp = (d: Dentry, dir: MDir, at: string): void => {
    const seen = new Set<string>();
    for (const [name, c] of d.d_subdirs) {
      const inode = c.d_inode;
      if (!inode || !c.hashed) continue;
      seen.add(name);
      const path = `${at}/${name}`;
      const m = dir.children.get(name);
      const isdir = S_ISDIR(inode.i_mode);
      if (!m) { out.push(`fs: ${path} (${isdir ? 'dir' : `size ${inode.i_size}`}) exists, not in the model`); continue; }
      if (isdir !== (m.kind === 'dir')) { out.push(`fs: ${path} is a ${isdir ? 'dir' : 'file'}, the model's a ${m.kind}`); continue; }
      if (m.kind === 'dir') { cmp(c, m, path); continue; }
      if (inode.i_size !== m.size) { out.push(`fs: ${path} size ${inode.i_size}, model ${m.size}`); continue; }
      resync(mem, sh, m);
      const kp = page_bytes(mem, inode);
      for (const idx of new Set([...kp.keys(), ...m.pages.keys()])) {
        if (idx * PAGE >= m.size) continue;
        const a = kp.get(idx), b = m.pages.get(idx);
        const n = Math.min(PAGE, m.size - idx * PAGE);
        for (let i = 0; i < n; i++) {
          if ((a?.[i] ?? 0) !== (b?.[i] ?? 0)) {
            out.push(`fs: ${path} byte ${idx * PAGE + i} is ${a?.[i] ?? 0}, model ${b?.[i] ?? 0}`);
            break;
          }
        }
      }
    }
    for (const [name, m] of dir.children) if (!seen.has(name)) out.push(`fs: ${at}/${name} (${m.kind}) is in the model, not in the tree`);
  };
  const r = root_dentry();
  if (r) cmp(r, sh.model.root, '');
  return out.slice(0, max);
}

/* ---- feeding the model ---- */

const NR = (name: string): number => {
  const row = syscall_64_tbl.find(([, n]) => n === name);
  return row ? row[0] : -1;
};

/** Wrap this boot's file syscalls so their results feed a fresh model; returns it. */
export function fs_shadow_install(k: Kernel): FsShadow {
  const mem = k.machine.mem;
  const sh: FsShadow = { model: model_of_kernel(mem), ofds: new Map(), bad: [], fed: 0, shared: new Map() };
  const table = syscall_64_state.sys_call_table;
  const file_of = (fd: number): File | null => {
    const files = task_files(current());
    if (!files || !Number.isInteger(fd) || fd < 0 || fd >= files.fd.length) return null;
    return files.fd[fd];
  };
  const wrap = (name: string, feed: (a: readonly number[], ret: number, before: File | null) => void, fd_arg = -1): void => {
    const nr = NR(name);
    if (nr < 0) return;
    const real = table[nr];
    table[nr] = (a) => {
      const before = fd_arg >= 0 ? file_of(a[fd_arg]) : null;
      // The state the call starts from: a shared-mapped file's bytes as user stores left them.
      const node = before ? sh.ofds.get(before)?.node : undefined;
      if (node?.kind === 'file') resync(mem, sh, node);
      const path = name === 'open' || name === 'mkdir' || name === 'unlink' ? peek_path(mem, a[0]) : name === 'openat' ? peek_path(mem, a[1]) : null;
      const ret = real(a);
      sh.fed++;
      if (path !== null) feed_path(name, path, a, ret);
      else feed(a, ret, before);
      return ret;
    };
  };
  const bad = (s: string): void => { sh.bad.push(s); };
  const m = sh.model;

  const mounts = mountpoints();
  const feed_path = (name: string, path: string, a: readonly number[], ret: number): void => {
    // Another filesystem's name (procfs, tracefs): not the model's.
    const norm = path.replace(/\/+/g, '/');
    if (mounts.some((mp) => norm === mp || norm.startsWith(`${mp}/`))) return;
    if (name === 'mkdir') {
      if (ret === 0 && !m.mkdir(path)) bad(`mkdir(${path}) succeeded, the model has the name or no parent`);
      if (ret === -ENOENT && m.parent(path)) bad(`mkdir(${path}) returned -ENOENT, the model has its parent`);
      return;
    }
    if (name === 'unlink') {
      if (ret === 0 && !m.unlink(path)) bad(`unlink(${path}) succeeded, the model has no such file`);
      if (ret === -ENOENT && m.lookup(path)) bad(`unlink(${path}) returned -ENOENT, the model has it`);
      return;
    }
    const flags = name === 'open' ? a[1] : a[2];
    if (ret < 0) {
      if (ret === -ENOENT && m.lookup(path) && !(flags & O_CREAT)) bad(`${name}(${path}) returned -ENOENT, the model has it`);
      return;
    }
    const f = file_of(ret);
    let node: MNode | null = m.lookup(path);
    if (!node) {
      if (!(flags & O_CREAT)) { bad(`${name}(${path}, ${flags}) succeeded, the model has no such name`); return; }
      node = m.create(path);
      if (!node) { bad(`${name}(${path}, O_CREAT) succeeded, the model has no parent directory`); return; }
    } else if ((flags & O_CREAT) && (flags & O_EXCL)) bad(`${name}(${path}, O_CREAT|O_EXCL) succeeded on an existing name`);
    else if (node.kind === 'file' && flags & O_TRUNC) node.resize(0);
    if (f) sh.ofds.set(f, { node, pos: 0, flags });
  };

  const ofd_file = (f: File | null): [MOfd, MFile] | null => {
    const o = f ? sh.ofds.get(f) : undefined;
    return o && o.node.kind === 'file' ? [o, o.node] : null;
  };

  const write = (kind: 'write' | 'pwrite' | 'writev') => (a: readonly number[], ret: number, f: File | null): void => {
    const of = ofd_file(f);
    if (!of || ret <= 0) return;
    const [o, file] = of;
    const bytes = kind === 'writev' ? gather(mem, peek_iov(mem, a[1], a[2]), ret) : peek_user(mem, a[1], ret);
    if (bytes.length !== ret) bad(`${kind}(${a[0]}) returned ${ret}, the buffer holds ${bytes.length}`);
    const pos = o.flags & O_APPEND ? file.size : kind === 'pwrite' ? a[3] : o.pos;
    file.write(pos, bytes);
    if (kind !== 'pwrite') o.pos = pos + ret;
  };

  const read = (kind: 'read' | 'pread' | 'readv') => (a: readonly number[], ret: number, f: File | null): void => {
    const of = ofd_file(f);
    if (!of || ret < 0) return;
    const [o, file] = of;
    const pos = kind === 'pread' ? a[3] : o.pos;
    const want = file.read(pos, 2 ** 31);
    if (ret > want.length) bad(`${kind}(${a[0]}) at ${pos} returned ${ret}, the model has ${want.length} bytes there`);
    const got = kind === 'readv' ? gather(mem, peek_iov(mem, a[1], a[2]), ret) : peek_user(mem, a[1], ret);
    const at = got.findIndex((b, i) => b !== want[i]);
    if (at >= 0) bad(`${kind}(${a[0]}) at ${pos}: byte ${pos + at} is ${got[at]}, the model's ${want[at]}`);
    if (kind !== 'pread') o.pos = pos + ret;
  };

  wrap('open', () => {});
  wrap('openat', () => {});
  wrap('mkdir', () => {});
  wrap('unlink', () => {});
  wrap('write', write('write'), 0);
  wrap('pwrite64', write('pwrite'), 0);
  wrap('writev', write('writev'), 0);
  wrap('read', read('read'), 0);
  wrap('pread64', read('pread'), 0);
  wrap('readv', read('readv'), 0);
  wrap('lseek', (a, ret, f) => {
    const o = f ? sh.ofds.get(f) : undefined;
    if (!o || ret < 0) return;
    if (o.node.kind === 'file') {
      const base = a[2] === 0 ? 0 : a[2] === 1 ? o.pos : o.node.size;
      if (base + a[1] !== ret) bad(`lseek(${a[0]}, ${a[1]}, ${a[2]}) returned ${ret}, the model says ${base + a[1]}`);
    }
    o.pos = ret;
  }, 0);
  wrap('ftruncate', (a, ret, f) => {
    const of = ofd_file(f);
    if (of && ret === 0) of[1].resize(a[1]);
  }, 0);
  wrap('fallocate', (a, ret, f) => {
    const of = ofd_file(f);
    if (!of || ret !== 0) return;
    const [, file] = of;
    const [mode, off, len] = [a[1], a[2], a[3]];
    if (mode & FALLOC_FL_PUNCH_HOLE) file.zero(off, len);
    else if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > file.size) file.resize(off + len);
  }, 0);
  wrap('mmap', (a, ret, f) => {
    const o = f ? sh.ofds.get(f) : undefined;
    // MAP_SHARED (1) or MAP_SHARED_VALIDATE (3) with PROT_WRITE (2), and it succeeded.
    if (f && o && o.node.kind === 'file' && (a[3] & 3) !== 2 && a[2] & 2 && !(ret < 0 && ret >= -4095))
      sh.shared.set(o.node, file_inode(f));
  }, 4);
  void O_ACCMODE;
  return sh;
}
