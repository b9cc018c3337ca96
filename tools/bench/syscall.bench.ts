/*
 * tools/bench/syscall.bench.ts - host cost of simulated syscalls and switches.
 *
 * Simulated getpid() round trips per wall second (SYSCALL, dispatch, SYSRET
 * and the run loop), and simulated context switches per wall second (two
 * processes ping-ponging with sched_yield on one CPU, each switch a CR3
 * load), each against a baseline measured in the same run: plain generator
 * resumptions yielding the same request objects.
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
  function* gen(): Generator<{ nr: number; args: number[] }, number, number> {
    let s = 0;
    for (let i = 0; i < n; i++) s += yield { nr: 39, args: [] };
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

function getpid_ns(n: number, extra: string): number {
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const k = start_kernel(`mem=64M cpus=1 ${extra}`);
    k.spawn('getpid', function* (u: Nolibc) {
      for (let i = 0; i < n; i++) yield* u.getpid();
      return 0;
    });
    best = Math.min(best, wall(() => k.run()));
    k.shutdown();
  }
  return best / n;
}

function switch_ns(n: number): { ns: number; switches: number } {
  let best = Infinity;
  let switches = 0;
  for (let r = 0; r < 3; r++) {
    const k = start_kernel('mem=64M cpus=1');
    for (const name of ['ping', 'pong']) {
      k.spawn(name, function* (u: Nolibc) {
        for (let i = 0; i < n; i++) yield* u.sched_yield();
        return 0;
      });
    }
    const t = wall(() => k.run());
    const cs = nr_context_switches().reduce((a, b) => a + b, 0);
    switches = cs;
    best = Math.min(best, t / Math.max(cs, 1));
    k.shutdown();
  }
  return { ns: best, switches };
}

export function main(): BenchRow[] {
  printk_state.console_loglevel = 0;
  const N = 100_000;
  const base = baseline_ns(N);
  const rows: BenchRow[] = [];
  const g = getpid_ns(N, '');
  rows.push({ name: 'getpid round trip', ns_per_op: g, baseline_ns: base, ratio: g / base });
  const gp = getpid_ns(N, 'pti=on');
  rows.push({ name: 'getpid round trip, pti=on', ns_per_op: gp, baseline_ns: base, ratio: gp / base });
  const s = switch_ns(N / 2);
  rows.push({ name: `context switch (${s.switches} switches)`, ns_per_op: s.ns, baseline_ns: base, ratio: s.ns / base });
  print_rows('syscall: simulated syscalls and switches vs plain generator resumptions', rows);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
