/*
 * tests/kernel/trace/perf_stat_aggr.test.ts - perf stat's aggregate line
 * beside the per-CPU ones, and the kernel's software events under perf's
 * style of name.
 */
import { describe, expect, it } from 'vitest';
import { perf_stat_format } from '../../../kernel/trace/index.ts';
import { start_kernel } from '../../../init/main.ts';
import type { Nolibc } from '../../../tools/include/nolibc.ts';

describe('kernel_trace_perf_stat_aggr', () => {
  it('prints each counter\'s CPUs then their sum as "all"', () => {
    const out = perf_stat_format({ 'asi-exits': [10, 32] }, { per_cpu: true, aggregate: true, elapsed_cycles: 2e9, cpu_ghz: 2 });
    expect(out.split('\n').filter((l) => l.includes('asi-exits'))).toEqual([
      'CPU0                       10      asi-exits                        #   10.000 /sec',
      'CPU1                       32      asi-exits                        #   32.000 /sec',
      'all                        42      asi-exits                        #   21.000 /sec',
    ]);
    // Without per_cpu, one line as before.
    expect(perf_stat_format({ 'asi-exits': [10, 32] }, { aggregate: true })).toMatch(/^ {16}42 {6}asi-exits$/m);
  });

  it('Kernel.perf_stat names ASI and ephmap events as perf names software events; -A off gives the sums alone', () => {
    const k = start_kernel('mem=64M cpus=2 asi=on');
    k.spawn('t', function* (u: Nolibc) {
      for (let i = 0; i < 3; i++) yield* u.getpid();
      return 0;
    });
    k.run();
    const text = k.perf_stat();
    expect(text).toMatch(/^CPU0 +[\d,]+ +asi-enters/m);
    expect(text).toMatch(/^all +[\d,]+ +asi-enters/m);
    expect(text).toMatch(/^all +[\d,]+ +cycles +# +\d+\.\d+ GHz/m);
    expect(text).not.toMatch(/asi_exits|nr_ephmap/);
    const sums = k.perf_stat('t', { per_cpu: false });
    expect(sums).not.toMatch(/^CPU\d/m);
    expect(sums).toMatch(/^ +[\d,]+ +asi-enters/m);
    k.shutdown();
  });
});
