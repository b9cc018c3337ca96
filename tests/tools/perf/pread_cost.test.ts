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

  /*
   * Issue 13's acceptance bands on the default profile (Sapphire Rapids,
   * 2.8 GHz): a hot 4 KiB pread 300-700 ns, a cold one 700-1,300 ns. 256
   * MiB is past the LLC, as the seed's 1 GiB is (1 GiB: 974 ns), at a
   * quarter of the host time.
   */
  it('models a hot pread inside 300-700 ns and a cold one inside 700-1,300 ns', () => {
    const [hot, cold] = pread_cost(256, 256);
    expect(hot.ns).toBeGreaterThanOrEqual(300);
    expect(hot.ns).toBeLessThanOrEqual(700);
    expect(cold.ns).toBeGreaterThanOrEqual(700);
    expect(cold.ns).toBeLessThanOrEqual(1300);
  });

  /*
   * What a hot pread charges, pinned: work on the host's speed (issue 13's
   * bench) must leave what is modelled exactly as it is. A change to the
   * model changes these on purpose (Documentation/costs.md's table too).
   * 16 MiB: 4096 pages, a two-level xarray.
   */
  it('pins the hot pread: every key charged, how often, and the cycles', () => {
    const [hot] = pread_cost(16, 64);
    const counts = Object.fromEntries(hot.rows.filter((r) => r.count > 0).map((r) => [r.key, r.count]));
    expect(counts).toEqual({
      syscall: 1, sysret: 1, syscall_work: 1, syscall_exit_work: 1, fdget: 1, rw_verify_area: 1,
      security_file_permission: 1, iov_iter_init: 1, shmem_get_folio: 1, xa_node: 2, folio_get: 1, xas_reload: 1,
      folio_lock: 1, folio_unlock: 1, folio_mark_accessed: 1, copy_page_iter: 1, copy_base: 1, copy_byte: 4096,
      tlb_hit: 2, folio_put: 1, touch_atime: 1, fsnotify_file: 1, stac: 1, clac: 1,
    });
    expect(hot.cycles).toBeCloseTo(1088.01056, 4);
  });
});
