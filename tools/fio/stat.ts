/*
 * tools/fio/stat.ts - fio's latency statistics: running mean and variance,
 * the plat histogram and percentiles, the latency distribution buckets.
 *
 * Mirrors fio's stat.c/stat.h: struct io_stat (min, max, Welford's running
 * mean and sum of squares, sum_stat() to merge jobs under group_reporting),
 * the clat histogram io_u_plat[] with FIO_IO_U_PLAT_BITS=6 (plat_val_to_idx
 * and plat_idx_to_val: values below 128 exact, then 64 buckets per power of
 * two, each reporting the middle of its range), calc_clat_percentiles(),
 * and io_u_lat_n/u/m (the "lat (usec)   : 2=85.24%" lines).
 */

export const FIO_IO_U_PLAT_BITS = 6;
export const FIO_IO_U_PLAT_VAL = 1 << FIO_IO_U_PLAT_BITS;
export const FIO_IO_U_PLAT_GROUP_NR = 29;
export const FIO_IO_U_PLAT_NR = FIO_IO_U_PLAT_GROUP_NR * FIO_IO_U_PLAT_VAL;

/** fio's default percentile_list. */
export const FIO_DEFAULT_PERCENTILES = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99];

/** plat_val_to_idx(): the histogram bucket of a latency in ns (an integer). */
export function plat_val_to_idx(val: number): number {
  // msb: the highest set bit (latencies stay below 2^53).
  const m = val < 1 ? 0 : val < 4294967296 ? 31 - Math.clz32(val) : 63 - Math.clz32(Math.floor(val / 4294967296));
  if (m <= FIO_IO_U_PLAT_BITS) return val;
  const error_bits = m - FIO_IO_U_PLAT_BITS;
  const base = (error_bits + 1) << FIO_IO_U_PLAT_BITS;
  const offset = (FIO_IO_U_PLAT_VAL - 1) & Math.floor(val / 2 ** error_bits);
  return Math.min(base + offset, FIO_IO_U_PLAT_NR - 1);
}

/** plat_idx_to_val(): the value a bucket reports, the middle of its range. */
export function plat_idx_to_val(idx: number): number {
  if (idx < FIO_IO_U_PLAT_VAL << 1) return idx;
  const error_bits = (idx >> FIO_IO_U_PLAT_BITS) - 1;
  const base = 2 ** (error_bits + FIO_IO_U_PLAT_BITS);
  const k = idx % FIO_IO_U_PLAT_VAL;
  // C: base + ((k + 0.5) * (1 << error_bits)), converted to unsigned long long (truncation).
  return base + Math.floor((k + 0.5) * 2 ** error_bits);
}

/** struct io_stat. */
export class IoStat {
  min = Infinity;
  max = 0;
  mean = 0;
  S = 0;
  samples = 0;

  /** add_stat_sample(). */
  add(v: number): void {
    if (v > this.max) this.max = v;
    if (v < this.min) this.min = v;
    const delta = v - this.mean;
    if (delta) {
      this.mean += delta / (this.samples + 1);
      this.S += delta * (v - this.mean);
    }
    this.samples++;
  }

  /** sum_stat(): fold `src` into this (the parallel form of Welford's update). */
  merge(src: IoStat): void {
    if (src.samples === 0) return;
    if (this.samples === 0) {
      Object.assign(this, { min: src.min, max: src.max, mean: src.mean, S: src.S, samples: src.samples });
      return;
    }
    const n1 = this.samples;
    const n2 = src.samples;
    const delta = src.mean - this.mean;
    const n = n1 + n2;
    this.mean = (n1 * this.mean + n2 * src.mean) / n;
    this.S = this.S + src.S + (delta * delta * n1 * n2) / n;
    this.samples = n;
    this.min = Math.min(this.min, src.min);
    this.max = Math.max(this.max, src.max);
  }

  /** calc_lat(): min, max, mean, stddev; null without samples. */
  calc(): { min: number; max: number; mean: number; dev: number } | null {
    const n = this.samples;
    if (n === 0) return null;
    return { min: this.min, max: this.max, mean: this.mean, dev: n > 1 ? Math.sqrt(this.S / (n - 1)) : 0 };
  }
}

/**
 * calc_clat_percentiles(): walk the histogram until each percentile's share
 * of samples is reached; the bucket's value is the percentile.
 */
export function calc_clat_percentiles(plat: Float64Array, nr: number, plist: readonly number[] = FIO_DEFAULT_PERCENTILES): number[] {
  const out: number[] = [];
  let sum = 0;
  let j = 0;
  for (let i = 0; i < FIO_IO_U_PLAT_NR && j < plist.length; i++) {
    sum += plat[i];
    while (j < plist.length && sum >= (plist[j] / 100) * nr) {
      out.push(plat_idx_to_val(i));
      j++;
    }
  }
  return out;
}

/** io_u_lat_n/u/m: the bucket of a latency (ns) in the nsec, usec and msec tables. */
export const LAT_RANGES = [2, 4, 10, 20, 50, 100, 250, 500, 750, 1000];
export const LAT_RANGES_MS = [2, 4, 10, 20, 50, 100, 250, 500, 750, 1000, 2000];

/** io_u_mark_lat_nsec/usec's switch: index for a value below 1000. */
function lat_idx(v: number): number {
  if (v >= 750) return 9;
  if (v >= 500) return 8;
  if (v >= 250) return 7;
  if (v >= 100) return 6;
  if (v >= 50) return 5;
  if (v >= 20) return 4;
  if (v >= 10) return 3;
  if (v >= 4) return 2;
  if (v >= 2) return 1;
  return 0;
}

/** The latency counters of one data direction (fio's ts->io_u_plat, clat/lat stats). */
export class DirStat {
  readonly clat = new IoStat();
  readonly lat = new IoStat();
  readonly slat = new IoStat();
  readonly plat = new Float64Array(FIO_IO_U_PLAT_NR);
  io_bytes = 0;
  total_ios = 0;
  /** Runtime of this direction, microseconds (fio's elapsed_us, before rounding to ms). */
  runtime_us = 0;
  /** Bandwidth (KiB/s) and IOPS samples, one per bw_avg_time window. */
  readonly bw_stat = new IoStat();
  readonly iops_stat = new IoStat();

  /** add_clat_sample() + add_lat_sample() for one completed I/O. */
  add(clat_ns: number, lat_ns: number, bytes: number): void {
    this.clat.add(clat_ns);
    this.lat.add(lat_ns);
    this.plat[plat_val_to_idx(clat_ns)]++;
    this.io_bytes += bytes;
    this.total_ios++;
  }

  merge(o: DirStat): void {
    this.clat.merge(o.clat);
    this.lat.merge(o.lat);
    this.slat.merge(o.slat);
    for (let i = 0; i < FIO_IO_U_PLAT_NR; i++) this.plat[i] += o.plat[i];
    this.io_bytes += o.io_bytes;
    this.total_ios += o.total_ios;
    this.runtime_us = Math.max(this.runtime_us, o.runtime_us);
    this.bw_stat.merge(o.bw_stat);
    this.iops_stat.merge(o.iops_stat);
  }
}

/** Latency distribution counters over all directions (io_u_lat_n/u/m). */
export class LatDist {
  readonly n = new Float64Array(10);
  readonly u = new Float64Array(10);
  readonly m = new Float64Array(12);

  /** io_u_mark_latency(). */
  mark(ns: number): void {
    if (ns < 1000) this.n[lat_idx(ns)]++;
    else if (ns < 1000000) this.u[lat_idx(Math.floor(ns / 1000))]++;
    else {
      const ms = Math.floor(ns / 1000000);
      this.m[ms >= 2000 ? 11 : ms >= 1000 ? 10 : lat_idx(ms)]++;
    }
  }

  merge(o: LatDist): void {
    for (let i = 0; i < 10; i++) {
      this.n[i] += o.n[i];
      this.u[i] += o.u[i];
    }
    for (let i = 0; i < 12; i++) this.m[i] += o.m[i];
  }
}

/** stat_calc_lat(): percentages of all I/Os, a nonzero bucket shown as at least 0.01. */
export function stat_calc_lat(src: Float64Array, total: number): number[] {
  return Array.from(src, (c) => {
    if (!total) return 0;
    const p = (c / total) * 100;
    return p < 0.01 && c ? 0.01 : p;
  });
}
