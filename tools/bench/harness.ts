/*
 * tools/bench/harness.ts - timing for host benchmarks.
 *
 * No Linux counterpart. Benchmarks report ratios against a baseline measured
 * in the same run (DESIGN.md section 10): absolute host speed varies, the
 * ratio much less. Each measurement is the best of several batched runs.
 */

/** Best-of-`reps` nanoseconds per operation for fn(), which performs `ops` operations. */
export function ns_per_op(fn: () => void, ops: number, reps = 5): number {
  fn(); // warm up: let the JIT see the loop
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    const dt = Number(process.hrtime.bigint() - t0);
    if (dt < best) best = dt;
  }
  return best / ops;
}

/**
 * Best-of-`rounds` ns per operation for each of `fns` (each performing
 * `ops` operations), measured in turns: f0, f1, ..., f0, f1, ... so that a
 * background compile or a busy neighbour slows every side alike instead of
 * whichever happened to be running. Each turn runs its function once
 * untimed first, so every timed run starts with its own working set as
 * warm as back-to-back runs would leave it.
 */
export function ns_per_op_interleaved(fns: readonly (() => void)[], ops: number, rounds = 7): number[] {
  for (const fn of fns) fn(); // warm up
  const best = fns.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, i) => {
      fn();
      const t0 = process.hrtime.bigint();
      fn();
      const dt = Number(process.hrtime.bigint() - t0);
      if (dt < best[i]) best[i] = dt;
    });
  }
  return best.map((b) => b / ops);
}

export interface BenchRow {
  name: string;
  ns_per_op: number;
  baseline_ns: number;
  /** ns_per_op / baseline_ns: how many baseline operations one costs. */
  ratio: number;
  target?: string;
}

export function print_rows(title: string, rows: readonly BenchRow[]): void {
  console.log(`\n${title}`);
  for (const r of rows) {
    const ops = (1e9 / r.ns_per_op).toExponential(2);
    console.log(
      `  ${r.name.padEnd(44)} ${r.ns_per_op.toFixed(2).padStart(9)} ns/op  ${ops.padStart(9)} op/s  ` +
      `ratio ${r.ratio.toFixed(2)}x baseline${r.target ? `  (${r.target})` : ''}`);
  }
}

/** Keep a value alive so the JIT cannot drop the loop computing it. */
export let sink = 0;
export function consume(v: number): void {
  sink = (sink + v) | 0;
}
