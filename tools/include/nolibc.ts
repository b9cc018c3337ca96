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
import * as nr from '../../arch/x86/entry/syscall_64.ts';
import type { SyscallRequest, UserGenerator } from '../../kernel/sched/task.ts';
import { register_user_fn } from '../../kernel/fork.ts';
import { this_cpu } from '../../kernel/smp.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../mm/mmap.ts';

export type Sys<T = number> = Generator<SyscallRequest, T, number>;

/** A user program as users write it. */
export type Program = (u: Nolibc) => UserGenerator;

const SCRATCH_SIZE = 8192;

/*
 * One syscall, as the iterator `yield*` drives. The object is at once the
 * request the kernel reads ({nr, args}), the iterator, and both iterator
 * results: yield* hands an inner result object to the program's caller
 * unchanged (ECMA-262 GeneratorYield), so the kernel receives this object
 * as the yielded request, and the second next() carries the return value
 * back. A wrapper thus costs two host allocations (this and the argument
 * array) where a generator function costs five, on every syscall.
 */
class SysCall implements Generator<SyscallRequest, number, number> {
  /* The iterator-result fields: first {done: false, value: this}, then the return value. */
  done = false;
  value: SyscallRequest | number = this;
  private issued = false;

  constructor(readonly nr: number, readonly args: readonly number[]) {}

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

  poke_str(addr: number, s: string): void {
    const b = new Uint8Array(s.length + 1);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
    this.poke(addr, b);
  }

  /** Burn user-mode cycles (computation between syscalls). */
  compute(cycles: number): void {
    this_cpu().charge(cycles);
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

  read(fd: number, buf: number, count: number): Sys { return new SysCall(nr.__NR_read, [fd, buf, count]); }
  write(fd: number, buf: number, count: number): Sys { return new SysCall(nr.__NR_write, [fd, buf, count]); }
  pread64(fd: number, buf: number, count: number, off: number): Sys { return new SysCall(nr.__NR_pread64, [fd, buf, count, off]); }
  pwrite64(fd: number, buf: number, count: number, off: number): Sys { return new SysCall(nr.__NR_pwrite64, [fd, buf, count, off]); }
  readv(fd: number, iov: number, iovcnt: number): Sys { return new SysCall(nr.__NR_readv, [fd, iov, iovcnt]); }
  writev(fd: number, iov: number, iovcnt: number): Sys { return new SysCall(nr.__NR_writev, [fd, iov, iovcnt]); }
  close(fd: number): Sys { return new SysCall(nr.__NR_close, [fd]); }
  lseek(fd: number, off: number, whence: number): Sys { return new SysCall(nr.__NR_lseek, [fd, off, whence]); }
  ftruncate(fd: number, len: number): Sys { return new SysCall(nr.__NR_ftruncate, [fd, len]); }
  fstat(fd: number, statbuf: number): Sys { return new SysCall(nr.__NR_fstat, [fd, statbuf]); }

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
  munmap(addr: number, len: number): Sys { return new SysCall(nr.__NR_munmap, [addr, len]); }
  mprotect(addr: number, len: number, prot: number): Sys { return new SysCall(nr.__NR_mprotect, [addr, len, prot]); }

  getpid(): Sys { return new SysCall(nr.__NR_getpid, []); }
  gettid(): Sys { return new SysCall(nr.__NR_gettid, []); }
  sched_yield(): Sys { return new SysCall(nr.__NR_sched_yield, []); }

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

  exit(code: number): Sys { return new SysCall(nr.__NR_exit, [code]); }
  exit_group(code: number): Sys { return new SysCall(nr.__NR_exit_group, [code]); }

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
