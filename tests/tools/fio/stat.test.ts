/*
 * tests/tools/fio/stat.test.ts - fio's latency histogram, percentiles,
 * running statistics, num2str and random map.
 *
 * KUnit-style suite tools_fio_stat. The plat_idx scheme is checked against
 * hand-worked values and against fio 3.33's own json+ output of the seed's
 * job (tests/tools/fio/fixtures): every bin fio printed is a bucket's
 * value, and the percentiles recomputed from fio's bins are fio's.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  plat_val_to_idx, plat_idx_to_val, calc_clat_percentiles, IoStat, FIO_IO_U_PLAT_NR, FIO_DEFAULT_PERCENTILES, LatDist, stat_calc_lat,
} from '../../../tools/fio/stat.ts';
import { num2str, N2S_NONE, N2S_BYTE, N2S_BYTEPERSEC } from '../../../tools/fio/output.ts';
import { Axmap } from '../../../tools/fio/axmap.ts';
import { Taus88, fio_rand_seeds } from '../../../tools/fio/rand.ts';

const plus = JSON.parse(readFileSync(new URL('./fixtures/randread_tmpfs-1G.jsonplus.json', import.meta.url), 'utf8'));
const clat = plus.jobs[0].read.clat_ns;

describe('tools_fio_stat', () => {
  it('buckets latencies with FIO_IO_U_PLAT_BITS=6: exact below 128, then 64 per power of two', () => {
    /*
     *  value   msb  error_bits  base  offset  idx   reported (middle of the bucket)
     *    127     6      -         -      -    127   127
     *    128     7      1        128     0    128   129
     *    801     9      3        256    36    292   804   (fio's json+ prints "804" for min=801)
     *   1000     9      3        256    61    317   1004  (the bucket is 1000..1007)
     */
    expect(plat_val_to_idx(0)).toBe(0);
    expect(plat_val_to_idx(127)).toBe(127);
    expect(plat_idx_to_val(127)).toBe(127);
    expect(plat_val_to_idx(128)).toBe(128);
    expect(plat_idx_to_val(128)).toBe(129);
    expect(plat_val_to_idx(801)).toBe(292);
    expect(plat_idx_to_val(292)).toBe(804);
    expect(plat_val_to_idx(1000)).toBe(317);
    expect(plat_idx_to_val(317)).toBe(1004);
    expect(plat_val_to_idx(2 ** 40)).toBe(Math.min((40 - 6 + 1) * 64, FIO_IO_U_PLAT_NR - 1));
  });

  it('every bin in fio 3.33 json+ output is a bucket value, and fio\'s min lands in its first bin', () => {
    const keys = Object.keys(clat.bins).map(Number);
    for (const v of keys) expect(plat_idx_to_val(plat_val_to_idx(v))).toBe(v);
    expect(plat_idx_to_val(plat_val_to_idx(clat.min))).toBe(Math.min(...keys));
    expect(plat_idx_to_val(plat_val_to_idx(clat.max))).toBe(Math.max(...keys));
  });

  it('percentiles recomputed from fio 3.33\'s bins are the percentiles fio printed', () => {
    const plat = new Float64Array(FIO_IO_U_PLAT_NR);
    for (const [k, n] of Object.entries(clat.bins)) plat[plat_val_to_idx(Number(k))] += n as number;
    const got = calc_clat_percentiles(plat, clat.N);
    const want = FIO_DEFAULT_PERCENTILES.map((p) => clat.percentile[p.toFixed(6)]);
    expect(got).toEqual(want);
  });

  it('bucket values stay within 1/64 of the value below the last group, ~17 s (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 34 - 1 }), (v) => {
      const r = plat_idx_to_val(plat_val_to_idx(v));
      expect(Math.abs(r - v)).toBeLessThanOrEqual(Math.max(1, v / 64));
    }));
  });

  it('keeps a running mean and sample stddev, and merges as if the samples were one stream', () => {
    const a = new IoStat();
    const b = new IoStat();
    const all = new IoStat();
    const xs = [922, 1800, 1750, 809494, 1304, 2000, 1600];
    xs.forEach((x, i) => { (i < 3 ? a : b).add(x); all.add(x); });
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
    const c = all.calc()!;
    expect(c.mean).toBeCloseTo(mean, 6);
    expect(c.dev).toBeCloseTo(sd, 6);
    a.merge(b);
    const m = a.calc()!;
    expect([m.min, m.max, a.samples]).toEqual([922, 809494, 7]);
    expect(m.mean).toBeCloseTo(mean, 6);
    expect(m.dev).toBeCloseTo(sd, 6);
    expect(new IoStat().calc()).toBeNull();
  });

  it('counts the latency distribution as fio does, a nonzero share shown as at least 0.01%', () => {
    const d = new LatDist();
    d.mark(999); d.mark(1000); d.mark(1999); d.mark(2000); d.mark(1_080_494); d.mark(2_500_000_000);
    expect(Array.from(d.n)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(Array.from(d.u)).toEqual([2, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(d.m[0]).toBe(1);
    expect(d.m[11]).toBe(1);
    const p = stat_calc_lat(new Float64Array([1, 0, 99999]), 100000);
    expect(p[0]).toBe(0.01);
    expect(p[1]).toBe(0);
    expect(p[2]).toBeCloseTo(99.999, 9);
  });

  it('formats numbers as fio 3.33 printed them for the seed\'s job', () => {
    expect(num2str(1080494, 6, false, N2S_NONE)).toBe('1080.5k'); // clat max
    expect(num2str(447344, 4, false, N2S_NONE)).toBe('447k'); // IOPS
    expect(num2str(1832323931, 4, true, N2S_BYTEPERSEC)).toBe('1747MiB/s');
    expect(num2str(1832323931, 4, false, N2S_BYTEPERSEC)).toBe('1832MB/s');
    expect(num2str(2 ** 30, 4, true, N2S_BYTE)).toBe('1024MiB');
    expect(num2str(2 ** 30, 4, false, N2S_BYTE)).toBe('1074MB');
    expect(num2str(4096, 4, true, N2S_BYTE)).toBe('4096B');
    expect(num2str(65536, 4, true, N2S_BYTE)).toBe('64.0KiB');
    expect(num2str(962, 6, false, N2S_NONE)).toBe('962');
  });
});

describe('tools_fio_random', () => {
  it('the random map hands out every block once, then wraps to the first free one', () => {
    /*
     *  blocks 0..69, three levels of 32-bit words:
     *  set 5, then a draw on 5 moves to 6; set 69 (last), a draw on 69 wraps to 0
     */
    const m = new Axmap(70);
    m.set(5);
    expect(m.next_free(5)).toBe(6);
    m.set(69);
    expect(m.next_free(69)).toBe(0);
    for (let i = 0; i < 70; i++) m.set(i);
    expect(m.full).toBe(true);
    expect(m.next_free(3)).toBe(-1);
    m.reset();
    expect([m.full, m.isset(5), m.nr_set]).toEqual([false, false, 0]);
  });

  it('random draws through the map visit each block exactly once (property, against a Set)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n, seed) => {
      const m = new Axmap(n);
      const st = new Taus88(seed);
      const seen = new Set<number>();
      for (let i = 0; i < n; i++) {
        let b = Math.floor(n * (st.next() / 4294967296));
        if (m.isset(b)) b = m.next_free(b);
        if (seen.has(b) || b < 0 || b >= n) return false;
        seen.add(b);
        m.set(b);
      }
      return m.full;
    }), { numRuns: 25 });
  });

  it('seeds as fio does: deterministic per randseed and job number, different streams', () => {
    const a = fio_rand_seeds(0xb1899bed, 1);
    expect(fio_rand_seeds(0xb1899bed, 1)).toEqual(a);
    expect(fio_rand_seeds(0xb1899bed, 2)).not.toEqual(a);
    expect(new Set(a).size).toBe(a.length);
    const t1 = new Taus88(1234);
    const t2 = new Taus88(1234);
    const s1 = Array.from({ length: 8 }, () => t1.next());
    expect(Array.from({ length: 8 }, () => t2.next())).toEqual(s1);
    expect(s1.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
  });
});
