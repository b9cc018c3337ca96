/*
 * tests/kernel/trace/perf_stat.test.ts - counters printed in perf stat's layout.
 */
import { describe, expect, it } from 'vitest';
import { perf_stat_format } from '../../../kernel/trace/index.ts';

describe('kernel_trace_perf_stat', () => {
  it('reproduces the perf stat example of reference/anchors.md 2.3', () => {
    const out = perf_stat_format({
      'task-clock': [2_338_210],
      'context-switches': [0],
      'page-faults': [96],
      cycles: [2_080_140],
      instructions: [2_103_400],
    }, { target: 'ls', elapsed_ns: 3_546_410 });
    expect(out).toBe(
      '\n' +
      " Performance counter stats for 'ls':\n" +
      '\n' +
      '              2.34 msec task-clock                       #    0.659 CPUs utilized\n' +
      '                 0      context-switches                 #    0.000 /sec\n' +
      '                96      page-faults                      #   41.057 K/sec\n' +
      '         2,080,140      cycles                           #    0.890 GHz\n' +
      '         2,103,400      instructions                     #    1.01  insn per cycle\n' +
      '\n' +
      '       0.003546410 seconds time elapsed\n' +
      '\n');
  });

  it('prints per-CPU lines like perf stat -A, rates from the elapsed cycles', () => {
    const out = perf_stat_format({
      'tlb:tlb_flush': [1234567, 89],
      'dTLB-load-misses': new Float64Array([12, 3_000_000_000]),
    }, { per_cpu: true, elapsed_cycles: 2_000_000_000, cpu_ghz: 2 });
    expect(out).toBe(
      '\n' +
      " Performance counter stats for 'system wide':\n" +
      '\n' +
      'CPU0                1,234,567      tlb:tlb_flush                    #    1.235 M/sec\n' +
      'CPU1                       89      tlb:tlb_flush                    #   89.000 /sec\n' +
      'CPU0                       12      dTLB-load-misses                 #   12.000 /sec\n' +
      'CPU1            3,000,000,000      dTLB-load-misses                 #    3.000 G/sec\n' +
      '\n' +
      '       1.000000000 seconds time elapsed\n' +
      '\n');
  });

  it('sums CPUs when aggregated and prints no metric without a time base', () => {
    expect(perf_stat_format({ 'tlb:tlb_flush': [1000, 2345] }, { target: 'fio' })).toBe(
      '\n' +
      " Performance counter stats for 'fio':\n" +
      '\n' +
      '             3,345      tlb:tlb_flush\n' +
      '\n');
  });

  it('uses a metric the caller gives', () => {
    const out = perf_stat_format({ 'asi:asi_exit': [10] }, { metrics: { 'asi:asi_exit': { value: 12.5, unit: '% of syscalls' } } });
    expect(out.split('\n')[3]).toBe('                10      asi:asi_exit                     #   12.500 % of syscalls');
  });
  it('prints busy task-clock and cycles beside idle-cycles, with the idle share of each CPU', () => {
    const out = perf_stat_format({
      'task-clock': [1_000_000, 250_000],
      cycles: [2_800_000, 700_000],
      'idle-cycles': [0, 2_100_000],
    }, { per_cpu: true, elapsed_cycles: 2_800_000, cpu_ghz: 2.8 });
    expect(out).toBe(
      '\n' +
      " Performance counter stats for 'system wide':\n" +
      '\n' +
      'CPU0                     1.00 msec task-clock                       #    1.000 CPUs utilized\n' +
      'CPU1                     0.25 msec task-clock                       #    0.250 CPUs utilized\n' +
      'CPU0                2,800,000      cycles                           #    2.800 GHz\n' +
      'CPU1                  700,000      cycles                           #    2.800 GHz\n' +
      'CPU0                        0      idle-cycles                      #    0.00% idle\n' +
      'CPU1                2,100,000      idle-cycles                      #   75.00% idle\n' +
      '\n' +
      '       0.001000000 seconds time elapsed\n' +
      '\n');
  });
});
