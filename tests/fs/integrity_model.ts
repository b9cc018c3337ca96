/*
 * tests/fs/integrity_model.ts - the page-cache integrity harness: random
 * file-syscall programs, the in-memory reference model, and run_case().
 *
 * No Linux counterpart. Moved out of integrity.test.ts so other suites
 * (tests/mm/ephmap_integrity.test.ts) can run the same workload and model
 * on other configurations; see integrity.test.ts for what it checks.
 */
import fc from 'fast-check';
import { start_kernel, pattern, RW, ANON, kunit_activate_syscall_stub } from './helpers.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import type { Kernel } from '../../init/main.ts';
import * as NR from '../../arch/x86/include/uapi/asm/unistd_64.ts';
import { current } from '../../kernel/sched/core.ts';
import { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, AT_FDCWD } from '../../include/uapi/linux/fcntl.ts';
import { SEEK_SET, SEEK_CUR, SEEK_END } from '../../include/uapi/linux/fs.ts';
import { do_mkdirat } from '../../fs/namei.ts';
import { do_mount } from '../../fs/namespace.ts';
import { EBADF, EEXIST, EINVAL, ENOENT } from '../../include/uapi/asm-generic/errno.ts';
import { FsModel, type MFile } from '../../tools/testing/fs_model.ts';

export const FILES = ['/a', '/b', '/ram/a', '/ram/b', '/huge/a'];
export const HUGE = 2 << 20;

export type Op =
  | { k: 'open'; file: number; flags: number }
  | { k: 'close'; slot: number }
  | { k: 'read'; slot: number; len: number }
  | { k: 'write'; slot: number; len: number; seed: number }
  | { k: 'pread'; slot: number; off: number; len: number }
  | { k: 'pwrite'; slot: number; off: number; len: number; seed: number }
  | { k: 'readv'; slot: number; lens: number[] }
  | { k: 'writev'; slot: number; lens: number[]; seed: number }
  | { k: 'lseek'; slot: number; off: number; whence: number }
  | { k: 'ftruncate'; slot: number; len: number }
  | { k: 'unlink'; file: number }
  | { k: 'yield' };

/** What a process saw: the op, the fd it used, the result, the bytes a read returned. */
interface Rec {
  op: Op;
  fd: number;
  ret: number;
  data: Uint8Array | null;
}

const off_arb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 12288 }) },
  { weight: 1, arbitrary: fc.integer({ min: HUGE - 6000, max: HUGE + 6000 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 4095, 4096, 4097, 8191, 8192, HUGE - 1, HUGE) },
);
const len_arb = fc.oneof(fc.integer({ min: 0, max: 9000 }), fc.constantFrom(1, 4096, 8192));
const slot = fc.nat(7);
const lens_arb = fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 4 });
export const op_arb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('open' as const), file: fc.nat(FILES.length - 1),
    flags: fc.tuple(fc.constantFrom(O_RDONLY, O_WRONLY, O_RDWR, O_RDWR), fc.subarray([O_CREAT, O_TRUNC, O_APPEND, O_EXCL]))
      .map(([acc, extra]) => acc | extra.reduce((a, b) => a | b, 0) | (acc !== O_RDONLY ? O_CREAT : 0)) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('close' as const), slot }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('read' as const), slot, len: len_arb }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('write' as const), slot, len: len_arb, seed: fc.nat(1000) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('pread' as const), slot, off: off_arb, len: len_arb }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('pwrite' as const), slot, off: off_arb, len: len_arb, seed: fc.nat(1000) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('readv' as const), slot, lens: lens_arb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('writev' as const), slot, lens: lens_arb, seed: fc.nat(1000) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('lseek' as const), slot, off: fc.integer({ min: -5000, max: 20000 }),
    whence: fc.constantFrom(SEEK_SET, SEEK_CUR, SEEK_END) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('ftruncate' as const), slot, len: off_arb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('unlink' as const), file: fc.nat(FILES.length - 1) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'yield' as const }) },
);

const BUF = 16 * 4096;
const SEG = 3 * 4096; // readv/writev segment k lives at buf + k * SEG
const IOV = 15 * 4096;

function* proc(u: Nolibc, ops: Op[], recs: Rec[]): Generator<{ nr: number; args: readonly number[] }, number, number> {
  const buf = yield* u.mmap(0, BUF, RW, ANON);
  if (buf < 0) return 1;
  const fds: number[] = [];
  const pick = (s: number): number => fds[s % fds.length];
  for (const op of ops) {
    if (op.k === 'yield') {
      yield* u.sched_yield();
      continue;
    }
    if (op.k === 'open') {
      const r = yield* u.open(FILES[op.file], op.flags, 0o644);
      recs.push({ op, fd: -1, ret: r, data: null });
      if (r >= 0) fds.push(r);
      continue;
    }
    if (op.k === 'unlink') {
      recs.push({ op, fd: -1, ret: yield* u.unlink(FILES[op.file]), data: null });
      continue;
    }
    if (!fds.length) continue;
    const fd = pick(op.slot);
    let ret = 0;
    let data: Uint8Array | null = null;
    switch (op.k) {
      case 'close':
        fds.splice(op.slot % fds.length, 1);
        ret = yield* u.close(fd);
        break;
      case 'read':
        ret = yield* u.read(fd, buf, op.len);
        if (ret > 0) data = u.peek(buf, ret);
        break;
      case 'pread':
        ret = yield* u.pread64(fd, buf, op.len, op.off);
        if (ret > 0) data = u.peek(buf, ret);
        break;
      case 'write':
        u.poke(buf, pattern(op.len, op.seed));
        ret = yield* u.write(fd, buf, op.len);
        break;
      case 'pwrite':
        u.poke(buf, pattern(op.len, op.seed));
        ret = yield* u.pwrite64(fd, buf, op.len, op.off);
        break;
      case 'readv': {
        u.put_iovec(buf + IOV, op.lens.map((len, s) => [buf + s * SEG, len] as const));
        ret = yield* u.readv(fd, buf + IOV, op.lens.length);
        if (ret > 0) {
          const parts: number[] = [];
          let left = ret;
          op.lens.forEach((len, s) => {
            const n = Math.min(len, left);
            parts.push(...u.peek(buf + s * SEG, n));
            left -= n;
          });
          data = new Uint8Array(parts);
        }
        break;
      }
      case 'writev': {
        const all = pattern(op.lens.reduce((a, b) => a + b, 0), op.seed);
        let at = 0;
        op.lens.forEach((len, s) => {
          u.poke(buf + s * SEG, all.subarray(at, at + len));
          at += len;
        });
        u.put_iovec(buf + IOV, op.lens.map((len, s) => [buf + s * SEG, len] as const));
        ret = yield* u.writev(fd, buf + IOV, op.lens.length);
        break;
      }
      case 'lseek':
        ret = yield* u.lseek(fd, op.off, op.whence);
        break;
      case 'ftruncate':
        ret = yield* u.ftruncate(fd, op.len);
        break;
    }
    recs.push({ op, fd, ret, data });
  }
  return 0;
}

/* ---- the reference model (tools/testing/fs_model.ts) fed by each process's records ---- */

interface MFd {
  file: MFile;
  pos: number;
  flags: number;
}

class Model {
  /** The tree: / with the mount points of run_case's /ram and /huge. */
  readonly fs = new FsModel();
  constructor() {
    this.fs.mkdir('/ram');
    this.fs.mkdir('/huge');
  }
  fds = new Map<number, Map<number, MFd>>();

  table(pid: number): Map<number, MFd> {
    let t = this.fds.get(pid);
    if (!t) this.fds.set(pid, (t = new Map()));
    return t;
  }

  /** Apply one executed syscall; return a complaint or null. */
  apply(pid: number, r: Rec): string | null {
    const t = this.table(pid);
    const op = r.op;
    const want = (exp: number): string | null => (r.ret === exp ? null : `${op.k} returned ${r.ret}, model says ${exp}`);
    if (op.k === 'open') {
      const name = FILES[op.file];
      let f = this.fs.lookup(name);
      if (f?.kind === 'dir') return `open of ${name}: a directory in the model`;
      if (!f) {
        if (!(op.flags & O_CREAT)) return want(-ENOENT);
        f = this.fs.create(name)!;
      } else if (op.flags & O_CREAT && op.flags & O_EXCL) return want(-EEXIST);
      else if (op.flags & O_TRUNC) f.resize(0);
      let fd = 3;
      while (t.has(fd)) fd++;
      t.set(fd, { file: f, pos: 0, flags: op.flags });
      return want(fd);
    }
    if (op.k === 'unlink') {
      const name = FILES[op.file];
      if (!this.fs.unlink(name)) return want(-ENOENT);
      return want(0);
    }
    if (op.k === 'yield') return null;
    const d = t.get(r.fd);
    if (!d) return want(-EBADF);
    const acc = d.flags & 3;
    const readable = acc === O_RDONLY || acc === O_RDWR;
    const writable = acc === O_WRONLY || acc === O_RDWR;
    const f = d.file;
    switch (op.k) {
      case 'close':
        t.delete(r.fd);
        return want(0);
      case 'read':
      case 'pread':
      case 'readv': {
        if (!readable) return want(-EBADF);
        const len = op.k === 'readv' ? op.lens.reduce((a, b) => a + b, 0) : op.len;
        const pos = op.k === 'pread' ? op.off : d.pos;
        const exp = f.read(pos, len);
        if (r.ret !== exp.length) return want(exp.length);
        if (exp.length && (!r.data || r.data.some((b, i) => b !== exp[i]))) {
          const at = r.data ? r.data.findIndex((b, i) => b !== exp[i]) : 0;
          return `${op.k} at ${pos}: byte ${pos + at} is ${r.data?.[at]}, model says ${exp[at]}`;
        }
        if (op.k !== 'pread') d.pos += exp.length;
        return null;
      }
      case 'write':
      case 'pwrite':
      case 'writev': {
        if (!writable) return want(-EBADF);
        const bytes = op.k === 'writev' ? pattern(op.lens.reduce((a, b) => a + b, 0), op.seed) : pattern(op.len, op.seed);
        if (bytes.length === 0) return want(0);
        const pos = d.flags & O_APPEND ? f.size : op.k === 'pwrite' ? op.off : d.pos;
        f.write(pos, bytes);
        if (op.k !== 'pwrite') d.pos = pos + bytes.length;
        return want(bytes.length);
      }
      case 'lseek': {
        const base = op.whence === SEEK_SET ? 0 : op.whence === SEEK_CUR ? d.pos : f.size;
        const pos = base + op.off;
        if (op.whence === SEEK_CUR && op.off === 0) return want(d.pos);
        if (pos < 0) return want(-EINVAL);
        d.pos = pos;
        return want(pos);
      }
      case 'ftruncate':
        if (!writable) return want(-EINVAL);
        f.resize(op.len);
        return want(0);
    }
    return null;
  }
}

const LOGGED = [NR.__NR_open, NR.__NR_close, NR.__NR_read, NR.__NR_write, NR.__NR_pread64, NR.__NR_pwrite64, NR.__NR_readv,
  NR.__NR_writev, NR.__NR_lseek, NR.__NR_ftruncate, NR.__NR_unlink];

export function run_case(cmdline: string, progs: Op[][], after_boot?: (k: Kernel) => void, before_shutdown?: (k: Kernel) => void): void {
  const k = start_kernel(cmdline);
  try {
    after_boot?.(k);
    if (do_mkdirat(AT_FDCWD, '/huge', 0o755) || do_mount('tmpfs', '/huge', 'huge=always')) throw new Error('mount /huge');
    const log: number[] = [];
    for (const nr of LOGGED) {
      const fn = kunit_activate_syscall_stub(nr, (a) => {
        const ret = fn(a);
        log.push(current().pid);
        return ret;
      });
    }
    const recs = new Map<number, Rec[]>();
    for (let p = 0; p < progs.length; p++) {
      const mine: Rec[] = [];
      const pid = k.spawn(`p${p}`, (u) => proc(u, progs[p], mine));
      recs.set(pid, mine);
    }
    const res = k.run();
    if (res.reason !== 'done' || res.exited.some((e) => e.status !== 0)) throw new Error(`run: ${res.reason} ${JSON.stringify(res.exited)}`);
    // Replay in execution order. The open of each path copies it with nolibc's cstr (not logged).
    const model = new Model();
    const next = new Map<number, number>();
    for (const pid of log) {
      const i = next.get(pid) ?? 0;
      next.set(pid, i + 1);
      const r = recs.get(pid)?.[i];
      if (!r) throw new Error(`pid ${pid}: more syscalls logged than recorded`);
      const bad = model.apply(pid, r);
      if (bad) throw new Error(`pid ${pid} op ${i} ${JSON.stringify(r.op)} fd ${r.fd}: ${bad}`);
    }
    // Read every file back whole in a fresh process.
    const finals: { name: string; size: number; data: Uint8Array | null }[] = [];
    k.spawn('verify', function* (u) {
      const buf = yield* u.mmap(0, 3 << 20, RW, ANON);
      for (const [name] of model.fs.files()) {
        const fd = yield* u.open(name, O_RDONLY);
        yield* u.fstat(fd, buf);
        const size = u.peek64(buf + 48);
        const n = yield* u.pread64(fd, buf, 3 << 20, 0);
        finals.push({ name, size, data: n === size ? u.peek(buf, n) : null });
        yield* u.close(fd);
      }
      return 0;
    });
    k.run();
    for (const f of finals) {
      const m = model.fs.lookup(f.name);
      const want = m?.kind === 'file' ? m.read(0, m.size) : null;
      if (!m || m.kind !== 'file' || f.size !== m.size || !f.data || f.data.some((b, i) => b !== want![i]))
        throw new Error(`final ${f.name}: size ${f.size}, model ${m?.kind === 'file' ? m.size : m?.kind}, content ${f.data ? 'differs' : 'short read'}`);
    }
    before_shutdown?.(k);
  } finally {
    k.shutdown();
  }
}

