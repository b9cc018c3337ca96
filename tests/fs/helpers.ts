/*
 * tests/fs/helpers.ts - booting, running programs and running kernel code in a task.
 *
 * No Linux counterpart (KUnit's test harness plays this part): in_kernel()
 * runs a function in kernel mode inside a syscall of a spawned task, the
 * way a KUnit case runs in a kthread, so kernel code sees current(), its
 * mm and the usercopy helpers as in a real syscall. The hook is a stub in
 * a slot of the boot's sys_call_table (kunit_activate_syscall_stub(), as
 * KUnit's static stubs redirect a function for one test).
 */
import { start_kernel, type Kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { syscall_64_state, NR_syscalls, type sys_call_ptr_t } from '../../arch/x86/entry/syscall_64.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../include/uapi/linux/mman.ts';
import { drain_all_pages } from '../../mm/page_alloc.ts';

export type Prog = (u: Nolibc) => Generator<{ nr: number; args: readonly number[] }, number, number>;

/**
 * Syscall numbers no table row uses, the test hooks: __NR_kunit and
 * __NR_kunit + 1 are afs_syscall (183) and tuxcall (184), slots Linux
 * leaves to sys_ni_syscall too.
 */
export const __NR_kunit = 183;

/**
 * Point slot `nr` of this boot's sys_call_table at `fn` and return what
 * was there. The stub lasts until the next boot, which rebuilds the table
 * from arch/x86/entry/syscall_64.ts.
 */
export function kunit_activate_syscall_stub(nr: number, fn: sys_call_ptr_t): sys_call_ptr_t {
  if (!Number.isInteger(nr) || nr < 0 || nr >= NR_syscalls) throw new RangeError(`no sys_call_table slot ${nr}`);
  const table = syscall_64_state.sys_call_table;
  const prev = table[nr];
  table[nr] = fn;
  return prev;
}

export const RW = PROT_READ | PROT_WRITE;
export const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/** Run `prog` in one process to completion; returns its exit status. */
export function run_one(k: Kernel, prog: Prog, name = 't'): number {
  k.spawn(name, prog);
  const r = k.run();
  if (r.reason !== 'done') throw new Error(`run ended: ${r.reason}`);
  return r.exited[r.exited.length - 1].status;
}

/**
 * Run `fn` in kernel mode inside a syscall of a fresh task that first maps
 * a `buf_bytes` user buffer (passed to fn, not yet faulted in).
 */
export function in_kernel<T>(k: Kernel, fn: (ubuf: number) => T, buf_bytes = 4 * 4096): T {
  let out: { v: T } | null = null;
  kunit_activate_syscall_stub(__NR_kunit, (a) => {
    out = { v: fn(a[0]) };
    return 0;
  });
  run_one(k, function* (u) {
    const b = yield* u.mmap(0, buf_bytes, RW, ANON);
    if (b < 0) return 1;
    return yield* u.syscall(__NR_kunit, b);
  });
  if (!out) throw new Error('in_kernel: the syscall did not run');
  return (out as { v: T }).v;
}

/** nr_free_pages with the per-CPU lists drained. */
export function free_pages_now(k: Kernel): number {
  drain_all_pages();
  return k.vmstat().nr_free_pages;
}

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** A deterministic pattern: byte i of a buffer seeded with `seed`. */
export function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

export { start_kernel };
