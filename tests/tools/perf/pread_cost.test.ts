/*
 * tests/tools/perf/pread_cost.test.ts - the pread cost breakdown adds up and tells hot from cold.
 */
import { describe, it, expect } from 'vitest';
import { pread_cost, format_pread_cost } from '../../../tools/perf/pread_cost.ts';

describe('tools_pread_cost', () => {
  it('breaks a hot and a cold pread down by key, adding up to the clock, cold costing the DRAM-bound copy', () => {
    // 256 MiB is past the profile's 105 MiB LLC: random reads mostly miss it.
    const [hot, cold] = pread_cost(256, 256);
    for (const r of [hot, cold]) {
      const sum = r.rows.reduce((s, x) => s + x.cycles, 0);
      expect(sum).toBeCloseTo(r.cycles, 6);
      expect(format_pread_cost(r)).toContain('total');
    }
    expect(hot.rows.find((x) => x.key === 'line_read_dram')).toBeUndefined();
    const dram = cold.rows.find((x) => x.key === 'line_read_dram');
    expect(dram?.cycles ?? 0).toBeGreaterThan(0);
    expect(cold.cycles - hot.cycles).toBeGreaterThan(0.5 * (dram?.cycles ?? 0));
  });
});
