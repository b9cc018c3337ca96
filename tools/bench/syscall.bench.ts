/*
 * tools/bench/syscall.bench.ts - host cost of simulated syscalls and switches.
 *
 * Simulated getpid() round trips per wall second (SYSCALL, dispatch, SYSRET
 * and the run loop), and simulated context switches per wall second (two
 * processes ping-ponging with sched_yield on one CPU, each switch a CR3
 * load), each against a baseline measured in the same run: plain generator
 * resumptions yielding the same request objects. Each side runs once
 * untimed first (a warm-up kernel for the simulated ones), so the timed
 * runs see optimized code and the first timed kernel pays no compile; the
 * sides then take turns (baseline, getpid, getpid pti=on, switches, ...).
 * Goal: no issue sets one for these rows (issue 19's are the read path's,
 * tools/bench/read.bench.ts); each row prints that, so a reader does not
 * look for one.
 */
import { fileURLToPath } from 'node:url';
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../include/nolibc.ts';
import { printk_state } from '../../kernel/printk.ts';
import { nr_context_switches } from '../../kernel/sched/core.ts';
import { print_rows, consume, type BenchRow } from './harness.ts';

function wall(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0);
}

function baseline_ns(n: number): number {
  const req = { nr: 39, args: [] as number[] }; // one request, reused, as nolibc's wrappers do
  function* gen(): Generator<{ nr: number; args: number[] }, number, number> {
    let s = 0;
    for (let i = 0; i < n; i++) s += yield req;
    return s;
  }
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    best = Math.min(best, wall(() => {
      const g = gen();
      let v = g.next(0);
      let k = 0;
      while (!v.done) v = g.next(++k);
      consume(v.value);
    }));
  }
  return best / n;
}

function getpid_run(n: number, extra: string): number {
  const k = start_kernel(`mem=64M cpus=1 ${extra}`);
  k.spawn('getpid', function* (u: Nolibc) {
    for (let i = 0; i < n; i++) yield* u.getpid();
    return 0;
  });
  const t = wall(() => k.run());
  k.shutdown();
  return t / n;
}

function switch_run(n: number): { ns: number; switches: number } {
  const k = start_kernel('mem=64M cpus=1');
  for (const name of ['ping', 'pong']) {
    k.spawn(name, function* (u: Nolibc) {
      for (let i = 0; i < n; i++) yield* u.sched_yield();
      return 0;
    });
  }
  const t = wall(() => k.run());
  const switches = nr_context_switches().reduce((a, b) => a + b, 0);
  k.shutdown();
  return { ns: t / Math.max(switches, 1), switches };
}

/** Rounds of the four sides in turns, after one untimed warm-up round. */
const ROUNDS = 3;

export function main(): BenchRow[] {
  printk_state.console_loglevel = 0;
  const N = 100_000;
  // Warm-up: every side once, untimed (baseline_ns() warms itself).
  getpid_run(N, '');
  getpid_run(N, 'pti=on');
  switch_run(N / 2);
  let base = Infinity, g = Infinity, gp = Infinity, sw = Infinity, switches = 0;
  for (let r = 0; r < ROUNDS; r++) {
    base = Math.min(base, baseline_ns(N));
    g = Math.min(g, getpid_run(N, ''));
    gp = Math.min(gp, getpid_run(N, 'pti=on'));
    const s = switch_run(N / 2);
    sw = Math.min(sw, s.ns);
    switches = s.switches;
  }
  const none = 'goal: none set by an issue (reported)';
  const rows: BenchRow[] = [
    { name: 'getpid round trip', ns_per_op: g, baseline_ns: base, ratio: g / base, target: none },
    { name: 'getpid round trip, pti=on', ns_per_op: gp, baseline_ns: base, ratio: gp / base, target: none },
    { name: `context switch (${switches} switches)`, ns_per_op: sw, baseline_ns: base, ratio: sw / base, target: none },
  ];
  print_rows('syscall: simulated syscalls and switches vs plain generator resumptions (warmed up, in turns)', rows);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
