/*
 * tests/fs/helpers.ts - booting, running programs and running kernel code in a task.
 *
 * No Linux counterpart (KUnit's test harness plays this part): in_kernel()
 * runs a function in kernel mode inside a syscall of a spawned task, the
 * way a KUnit case runs in a kthread, so kernel code sees current(), its
 * mm and the usercopy helpers as in a real syscall.
 */
import { start_kernel, type Kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { register_syscall } from '../../arch/x86/entry/common.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../mm/mmap.ts';
import { drain_all_pages } from '../../mm/page_alloc.ts';

export type Prog = (u: Nolibc) => Generator<{ nr: number; args: readonly number[] }, number, number>;

/** A syscall number no table entry uses: the test hook. */
export const __NR_kunit = 500;

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
  register_syscall(__NR_kunit, (a) => {
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
