/*
 * tools/include/nolibc.ts - syscall wrappers and helpers for user programs.
 *
 * Mirrors tools/include/nolibc: each wrapper is an iterator that yields a
 * syscall request {nr, args} with the x86-64 number and returns the raw
 * result (negative errno on error): a SysCall for the plain ones, a
 * generator for those that first place a string or struct. A program writes
 *   const fd = yield* u.open('/f', O_RDWR | O_CREAT, 0o644);
 * Strings and structs are placed in a scratch page the wrapper maps on
 * first use, and every buffer is touched with user-mode accesses on the
 * current CPU through the MMU (u.poke / u.peek), so a program faults,
 * demand-pages and segfaults like a real one. clone() takes a program
 * function; its "address" is a handle the kernel resolves.
 */
import * as nr from '../../arch/x86/include/uapi/asm/unistd_64.ts';
import type { SyscallRequest, UserGenerator } from '../../kernel/sched/task.ts';
import { register_user_fn } from '../../kernel/fork.ts';
import { this_cpu } from '../../kernel/smp.ts';
import { ktime_get_ns } from '../../kernel/time/timekeeping.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../include/uapi/linux/mman.ts';
import { register_sig_handler, type SigHandlerFn } from '../../kernel/signal.ts';
import { SA_RESTORER, SIG_DFL, SIG_IGN, SIGSET_SIZE, SIGACTION_SIZE } from '../../include/uapi/asm-generic/signal.ts';
import { O_WRONLY, O_CREAT, O_TRUNC } from '../../include/uapi/asm-generic/fcntl.ts';
import { prog_image } from '../../include/uapi/linux/binfmts.ts';

export type Sys<T = number> = Generator<SyscallRequest, T, number>;

/** A user program as users write it. */
export type Program = (u: Nolibc) => UserGenerator;

/** A program started by execve(): main(argc/argv, envp), as nolibc's _start calls it. */
export type ExecProgram = (u: Nolibc, argv: string[], envp: string[]) => UserGenerator;

/**
 * A signal handler as users write it: void handler(int sig, siginfo_t *info,
 * void *uc), with the task's Nolibc; it may issue syscalls. Returning from
 * it returns through the restorer (rt_sigreturn).
 */
export type SigHandler = (u: Nolibc, sig: number, info: number, uc: number) => Generator<SyscallRequest, unknown, number>;

/*
 * __restore_rt: the restorer libc puts in sa_restorer (SA_RESTORER), to
 * which a handler returns: it only calls rt_sigreturn. Its address is what
 * the kernel writes as the frame's return address.
 */
function* __restore_rt(): UserGenerator {
  yield { nr: nr.__NR_rt_sigreturn, args: [] };
}
const restore_rt_fn: SigHandlerFn = () => __restore_rt();

/**
 * _start / _start_c (nolibc's crt.h): the entry of an exec'd program. The
 * kernel starts it with sp at argc; argv[] and envp[] follow, each
 * NULL-terminated; the strings are read with user-mode loads.
 */
export function* nolibc_start(main: ExecProgram, sp: number): UserGenerator {
  const u = new Nolibc();
  const argc = u.peek64(sp);
  const argv: string[] = [];
  for (let i = 0; i < argc; i++) argv.push(u.peek_str(u.peek64(sp + 8 + i * 8)));
  const envp: string[] = [];
  for (let at = sp + 8 + (argc + 1) * 8; ; at += 8) {
    const a = u.peek64(at);
    if (!a) break;
    envp.push(u.peek_str(a));
  }
  return yield* main(u, argv, envp);
}

const SCRATCH_SIZE = 8192;

/*
 * One syscall, as the iterator `yield*` drives. The object is at once the
 * request the kernel reads ({nr, args}), the iterator, and both iterator
 * results: yield* hands an inner result object to the program's caller
 * unchanged (ECMA-262 GeneratorYield), so the kernel receives this object
 * as the yielded request, and the second next() carries the return value
 * back. A new one costs two host allocations (this and the argument
 * array) where a generator function costs five; Nolibc reuses them (req()).
 */
class SysCall implements Generator<SyscallRequest, number, number> {
  /* The iterator-result fields: first {done: false, value: this}, then the return value. */
  done = false;
  value: SyscallRequest | number = this;
  private issued = false;

  constructor(public nr: number, readonly args: number[]) {}

  /** The same object as a new request for `n` (same argument count), once this one has returned. */
  reissue(n: number, a0: number, a1: number, a2: number, a3: number): this {
    this.nr = n;
    const a = this.args;
    if (a.length > 0) a[0] = a0;
    if (a.length > 1) a[1] = a1;
    if (a.length > 2) a[2] = a2;
    if (a.length > 3) a[3] = a3;
    this.done = false;
    this.value = this;
    this.issued = false;
    return this;
  }

  next(ret?: number): IteratorResult<SyscallRequest, number> {
    if (this.done) return this as unknown as IteratorReturnResult<number>;
    if (!this.issued) {
      this.issued = true;
      return this as unknown as IteratorYieldResult<SyscallRequest>;
    }
    return this.finish(ret ?? 0);
  }

  return(v: number): IteratorResult<SyscallRequest, number> {
    return this.finish(v);
  }

  throw(e: unknown): IteratorResult<SyscallRequest, number> {
    this.done = true;
    throw e;
  }

  [Symbol.iterator](): this {
    return this;
  }

  private finish(v: number): IteratorReturnResult<number> {
    this.done = true;
    this.value = v;
    return this as unknown as IteratorReturnResult<number>;
  }
}

export class Nolibc {
  private scratch = 0;
  /*
   * The requests the plain wrappers hand out, one per argument count (0-4),
   * each reused once its syscall has returned: C's nolibc passes the
   * arguments in registers and allocates nothing, and two host allocations
   * per syscall were ~6% of a cached 4 KiB read. A wrapper whose request is
   * still outstanding (made but not yet driven to its return, e.g. a second
   * wrapper called before `yield*` on the first) gets a fresh one, so only
   * a program that keeps a finished wrapper and reads it again can tell.
   * Each task has its own Nolibc (clone() makes one for the child).
   */
  private readonly reqs: (SysCall | undefined)[] = [undefined, undefined, undefined, undefined, undefined];

  /** The request for syscall `n` with `k` (at most 4) arguments a0... */
  private req(n: number, k: number, a0: number, a1: number, a2: number, a3: number): Sys {
    const r = this.reqs[k];
    if (r !== undefined && r.done) return r.reissue(n, a0, a1, a2, a3);
    const fresh = new SysCall(n, [a0, a1, a2, a3].slice(0, k));
    this.reqs[k] = fresh;
    return fresh;
  }

  syscall(n: number, ...args: number[]): Sys {
    return new SysCall(n, args);
  }

  /* ---- user memory, accessed in user mode ---- */

  /** Write bytes at a user address (a user-mode store loop). */
  poke(addr: number, bytes: Uint8Array): void {
    this_cpu().write_bytes(addr, bytes);
  }

  peek(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this_cpu().read_bytes(addr, out);
    return out;
  }

  poke32(addr: number, v: number): void {
    this_cpu().store32(addr, v);
  }

  peek32(addr: number): number {
    return this_cpu().load32(addr);
  }

  /** 64-bit little-endian store of a value below 2^53. */
  poke64(addr: number, v: number): void {
    this.poke32(addr, v % 4294967296);
    this.poke32(addr + 4, Math.floor(v / 4294967296));
  }

  peek64(addr: number): number {
    return this.peek32(addr) + this.peek32(addr + 4) * 4294967296;
  }

  /** Lay out struct iovec {iov_base, iov_len}[] at `at` for readv/writev. */
  put_iovec(at: number, iov: readonly (readonly [number, number])[]): void {
    for (let k = 0; k < iov.length; k++) {
      this.poke64(at + k * 16, iov[k][0]);
      this.poke64(at + k * 16 + 8, iov[k][1]);
    }
  }

  /** A NUL-terminated string at a user address (at most `max` bytes read). */
  peek_str(addr: number, max = 4096): string {
    let s = '';
    for (let at = addr; at < addr + max; ) {
      const n = Math.min(addr + max - at, 4096 - (at & 0xfff));
      const b = this.peek(at, n);
      for (let i = 0; i < n; i++) {
        if (b[i] === 0) return s;
        s += String.fromCharCode(b[i]);
      }
      at += n;
    }
    return s;
  }

  poke_str(addr: number, s: string): void {
    const b = new Uint8Array(s.length + 1);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
    this.poke(addr, b);
  }

  /**
   * Burn user-mode cycles (computation between syscalls). A count that is
   * not a finite positive number is the program's bug, not the machine's:
   * like C's `for (i = 0; i < n; i++)` with n NaN or negative, the loop
   * runs no iteration (so the clock never stops or runs backwards), and
   * an infinite count, which would spin forever, is treated the same way.
   */
  compute(cycles: number): void {
    if (!(cycles > 0) || cycles === Infinity) return;
    this_cpu().charge('user_work', cycles);
  }

  /**
   * User-mode work priced by cost key `i` (COST_KEY_INDEX), `n` times: a
   * program's own steps that the profile names (tools/fio's get_io_u, ...),
   * so its user time follows the profile instead of a literal.
   */
  compute_index(i: number, n = 1): void {
    if (!(n > 0) || n === Infinity) return; // as compute(): garbage counts run no iteration
    this_cpu().charge_index(i, n);
  }

  /**
   * clock_gettime(CLOCK_MONOTONIC) as the vDSO serves it: no syscall, the
   * TSC of the CPU the program runs on scaled to ns, truncated to whole
   * nanoseconds as struct timespec holds them.
   */
  clock_gettime_ns(): number {
    return Math.floor(ktime_get_ns());
  }

  private *scratch_page(): Sys {
    if (!this.scratch) {
      const a = yield* this.mmap(0, SCRATCH_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      if (a < 0) return a;
      this.scratch = a;
    }
    return this.scratch;
  }

  /** Place a NUL-terminated string in the scratch page; its address, or -errno. */
  *cstr(s: string, slot = 0): Sys {
    const base = yield* this.scratch_page();
    if (base < 0) return base;
    const at = base + slot * 2048;
    this.poke_str(at, s.slice(0, 2047));
    return at;
  }

  /* ---- syscalls ---- */

  read(fd: number, buf: number, count: number): Sys { return this.req(nr.__NR_read, 3, fd, buf, count, 0); }
  write(fd: number, buf: number, count: number): Sys { return this.req(nr.__NR_write, 3, fd, buf, count, 0); }
  pread64(fd: number, buf: number, count: number, off: number): Sys { return this.req(nr.__NR_pread64, 4, fd, buf, count, off); }
  pwrite64(fd: number, buf: number, count: number, off: number): Sys { return this.req(nr.__NR_pwrite64, 4, fd, buf, count, off); }
  readv(fd: number, iov: number, iovcnt: number): Sys { return this.req(nr.__NR_readv, 3, fd, iov, iovcnt, 0); }
  writev(fd: number, iov: number, iovcnt: number): Sys { return this.req(nr.__NR_writev, 3, fd, iov, iovcnt, 0); }
  close(fd: number): Sys { return this.req(nr.__NR_close, 1, fd, 0, 0, 0); }
  lseek(fd: number, off: number, whence: number): Sys { return this.req(nr.__NR_lseek, 3, fd, off, whence, 0); }
  ftruncate(fd: number, len: number): Sys { return this.req(nr.__NR_ftruncate, 2, fd, len, 0, 0); }
  fstat(fd: number, statbuf: number): Sys { return this.req(nr.__NR_fstat, 2, fd, statbuf, 0, 0); }
  fallocate(fd: number, mode: number, off: number, len: number): Sys { return this.req(nr.__NR_fallocate, 4, fd, mode, off, len); }

  *open(path: string, flags: number, mode = 0o644): Sys {
    const p = yield* this.cstr(path);
    if (p < 0) return p;
    return yield* new SysCall(nr.__NR_open, [p, flags, mode]);
  }

  *openat(dirfd: number, path: string, flags: number, mode = 0o644): Sys {
    const p = yield* this.cstr(path);
    if (p < 0) return p;
    return yield* new SysCall(nr.__NR_openat, [dirfd, p, flags, mode]);
  }

  *unlink(path: string): Sys {
    const p = yield* this.cstr(path);
    if (p < 0) return p;
    return yield* new SysCall(nr.__NR_unlink, [p]);
  }

  *mkdir(path: string, mode = 0o755): Sys {
    const p = yield* this.cstr(path);
    if (p < 0) return p;
    return yield* new SysCall(nr.__NR_mkdir, [p, mode]);
  }

  *mmap(addr: number, len: number, prot: number, flags: number, fd = -1, off = 0): Sys {
    return yield* new SysCall(nr.__NR_mmap, [addr, len, prot, flags, fd, off]);
  }
  munmap(addr: number, len: number): Sys { return this.req(nr.__NR_munmap, 2, addr, len, 0, 0); }
  msync(addr: number, len: number, flags: number): Sys { return this.req(nr.__NR_msync, 3, addr, len, flags, 0); }
  mprotect(addr: number, len: number, prot: number): Sys { return this.req(nr.__NR_mprotect, 3, addr, len, prot, 0); }

  getpid(): Sys { return this.req(nr.__NR_getpid, 0, 0, 0, 0, 0); }
  gettid(): Sys { return this.req(nr.__NR_gettid, 0, 0, 0, 0, 0); }
  sched_yield(): Sys { return this.req(nr.__NR_sched_yield, 0, 0, 0, 0, 0); }

  /** nanosleep() for `ns` nanoseconds of simulated time. */
  *nanosleep(ns: number): Sys {
    const base = yield* this.scratch_page();
    if (base < 0) return base;
    const ts = base + 4096;
    const sec = Math.floor(ns / 1e9);
    const nsec = ns - sec * 1e9;
    this.poke32(ts, sec >>> 0);
    this.poke32(ts + 4, 0);
    this.poke32(ts + 8, nsec >>> 0);
    this.poke32(ts + 12, 0);
    return yield* new SysCall(nr.__NR_nanosleep, [ts, 0]);
  }

  /** clone(flags, fn): the child runs fn with its own Nolibc. Returns the child's pid. */
  *clone(flags: number, fn: Program): Sys {
    const handle = register_user_fn(() => fn(new Nolibc()));
    return yield* new SysCall(nr.__NR_clone, [flags, handle]);
  }

  /* ---- signals ---- */

  private handler_addrs = new Map<SigHandler, number>();

  /** The user "address" of `h` (the same one each time for this task). */
  handler_addr(h: SigHandler): number {
    let a = this.handler_addrs.get(h);
    if (a === undefined) {
      const fn: SigHandlerFn = (sig, info, uc) => this.run_handler(h, sig, info, uc);
      a = register_sig_handler(fn);
      this.handler_addrs.set(h, a);
    }
    return a;
  }

  /* The handler, then the return into __restore_rt. */
  private *run_handler(h: SigHandler, sig: number, info: number, uc: number): UserGenerator {
    yield* h(this, sig, info, uc);
    yield* this.rt_sigreturn();
  }

  /** Lay out struct sigaction (kernel_sigaction) at `at`. */
  put_sigaction(at: number, handler: number, flags: number, mask: readonly number[] = []): void {
    let lo = 0;
    let hi = 0;
    for (const s of mask) {
      if (s >= 1 && s <= 32) lo |= 1 << (s - 1);
      else if (s >= 33 && s <= 64) hi |= 1 << (s - 33);
    }
    this.poke64(at, handler);
    this.poke64(at + 8, flags >>> 0);
    this.poke64(at + 16, flags & SA_RESTORER ? register_sig_handler(restore_rt_fn) : 0);
    this.poke32(at + 24, lo >>> 0);
    this.poke32(at + 28, hi >>> 0);
  }

  rt_sigaction(sig: number, act: number, oact: number, sigsetsize = SIGSET_SIZE): Sys {
    return this.req(nr.__NR_rt_sigaction, 4, sig, act, oact, sigsetsize);
  }

  /**
   * sigaction(sig, handler, flags, mask), as libc's: the handler runs with
   * `mask` and (unless SA_NODEFER) `sig` blocked; SA_RESTORER is added, with
   * __restore_rt. `handler` may be SIG_DFL or SIG_IGN. Returns 0 or -errno.
   */
  *sigaction(sig: number, handler: SigHandler | number, flags = 0, mask: readonly number[] = []): Sys {
    const base = yield* this.scratch_page();
    if (base < 0) return base;
    const act = base + 4096 + 128;
    const h = typeof handler === 'number' ? handler : this.handler_addr(handler);
    const f = h === SIG_DFL || h === SIG_IGN ? flags : flags | SA_RESTORER;
    this.put_sigaction(act, h, f, mask);
    return yield* new SysCall(nr.__NR_rt_sigaction, [sig, act, 0, SIGSET_SIZE]);
  }

  /** signal(sig, handler): sigaction with SA_RESTART, as glibc's BSD semantics. */
  *signal(sig: number, handler: SigHandler | number): Sys {
    return yield* this.sigaction(sig, handler, 0x10000000);
  }

  rt_sigprocmask(how: number, set: number, oset: number, sigsetsize = SIGSET_SIZE): Sys {
    return this.req(nr.__NR_rt_sigprocmask, 4, how, set, oset, sigsetsize);
  }

  /** sigprocmask(how, signals): returns [0 or -errno, the old mask's low word (signals 1-32), its high word]. */
  *sigprocmask(how: number, sigs: readonly number[] | null): Sys<[number, number, number]> {
    const base = yield* this.scratch_page();
    if (base < 0) return [base, 0, 0];
    const set = base + 4096 + 128 + SIGACTION_SIZE;
    const oset = set + 8;
    if (sigs) {
      let lo = 0;
      let hi = 0;
      for (const s of sigs) {
        if (s >= 1 && s <= 32) lo |= 1 << (s - 1);
        else if (s >= 33 && s <= 64) hi |= 1 << (s - 33);
      }
      this.poke32(set, lo >>> 0);
      this.poke32(set + 4, hi >>> 0);
    }
    const r = yield* new SysCall(nr.__NR_rt_sigprocmask, [how, sigs ? set : 0, oset, SIGSET_SIZE]);
    return [r, r === 0 ? this.peek32(oset) >>> 0 : 0, r === 0 ? this.peek32(oset + 4) >>> 0 : 0];
  }

  rt_sigreturn(): Sys { return this.req(nr.__NR_rt_sigreturn, 0, 0, 0, 0, 0); }
  kill(pid: number, sig: number): Sys { return this.req(nr.__NR_kill, 2, pid, sig, 0, 0); }
  tgkill(tgid: number, tid: number, sig: number): Sys { return this.req(nr.__NR_tgkill, 3, tgid, tid, sig, 0); }
  fcntl(fd: number, cmd: number, arg = 0): Sys { return this.req(nr.__NR_fcntl, 3, fd, cmd, arg, 0); }

  /* ---- exec ---- */

  /**
   * execve(path, argv, envp): the strings and pointer arrays go in a
   * mapping of their own; returns -errno (on success it does not return:
   * the new image runs instead).
   */
  *execve(path: string, argv: readonly string[], envp: readonly string[] = []): Sys {
    const strs = [path, ...argv, ...envp];
    const bytes = strs.reduce((n, x) => n + x.length + 1, 0) + (argv.length + envp.length + 2) * 8;
    const len = Math.ceil(bytes / 4096) * 4096;
    const area = yield* this.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (area < 0) return area;
    let at = area + (argv.length + envp.length + 2) * 8;
    const addr: number[] = [];
    for (const x of strs) {
      addr.push(at);
      this.poke_str(at, x);
      at += x.length + 1;
    }
    const vargv = area;
    const venvp = area + (argv.length + 1) * 8;
    argv.forEach((_, i) => this.poke64(vargv + i * 8, addr[1 + i]));
    this.poke64(vargv + argv.length * 8, 0);
    envp.forEach((_, i) => this.poke64(venvp + i * 8, addr[1 + argv.length + i]));
    this.poke64(venvp + envp.length * 8, 0);
    const r = yield* new SysCall(nr.__NR_execve, [addr[0], vargv, venvp]);
    yield* this.munmap(area, len);
    return r;
  }

  /** Write a program image naming registered program `name` at `path`, mode 0755 (an executable). */
  *install(path: string, name: string, mode = 0o755): Sys {
    const fd = yield* this.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0) return fd;
    const r = yield* this.write_str(fd, prog_image(name));
    yield* this.close(fd);
    return r < 0 ? r : 0;
  }

  /** write() of a string, placed in the scratch page (at most 2 KiB). */
  *write_str(fd: number, s: string): Sys {
    const p = yield* this.cstr(s, 1);
    if (p < 0) return p;
    return yield* this.write(fd, p, Math.min(s.length, 2047));
  }

  exit(code: number): Sys { return this.req(nr.__NR_exit, 1, code, 0, 0, 0); }
  exit_group(code: number): Sys { return this.req(nr.__NR_exit_group, 1, code, 0, 0, 0); }

  /** wait4(pid, &status, options): returns [pid or -errno, status word]. */
  *waitpid(pid: number, options = 0): Sys<[number, number]> {
    const base = yield* this.scratch_page();
    if (base < 0) return [base, 0];
    const st = base + 4096 + 64;
    const r = yield* this.syscall(nr.__NR_wait4, pid, st, options, 0);
    return [r, r > 0 ? this.peek32(st) : 0];
  }
}

/** WEXITSTATUS / WTERMSIG of a wait status word. */
export function WEXITSTATUS(status: number): number {
  return (status >> 8) & 0xff;
}
export function WTERMSIG(status: number): number {
  return status & 0x7f;
}
