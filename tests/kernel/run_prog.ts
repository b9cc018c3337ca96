/*
 * tests/kernel/run_prog.ts - a test helper (not a suite): boot, run one
 * program that records what it saw, and report its exit status and the
 * pages it leaked.
 */
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { drain_all_pages } from '../../mm/page_alloc.ts';

export type RecProgram = (u: Nolibc, rec: Record<string, number>) => Generator<{ nr: number; args: readonly number[] }, number, number>;

/** Run `prog` on a fresh kernel; what it recorded, plus `exit` (its status) and `leaked` (pages). */
export function run_prog(cmdline: string, prog: RecProgram): Record<string, number> {
  const k = start_kernel(cmdline);
  drain_all_pages();
  const free0 = k.vmstat().nr_free_pages;
  const rec: Record<string, number> = {};
  k.spawn('t', (u: Nolibc) => prog(u, rec));
  const r = k.run();
  rec.exit = r.exited[0].status;
  drain_all_pages(); // pages parked on per-CPU lists do not count as free
  rec.leaked = free0 - k.vmstat().nr_free_pages;
  k.shutdown();
  return rec;
}
