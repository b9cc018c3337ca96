/*
 * tools/fio/output.ts - fio's reports: normal text, json and json+.
 *
 * Mirrors fio's stat.c (show_thread_status_normal(), show_ddir_status(),
 * display_lat(), show_clat_percentiles(), show_latencies(),
 * show_run_stats()'s group lines, show_thread_status_json() and
 * add_ddir_status_json()), lib/num2str.c (the "447k", "1747MiB/s",
 * "1080.5k" numbers) and json.c's layout (`"key" : value`, doubles as %f),
 * key for key with fio 3.33's output of the seed's job
 * (tests/tools/fio/fixtures/). Times are simulated: the run's numbers
 * come from each CPU's cycle clock; the wall-clock fields ("time",
 * "timestamp") are the simulated clock from a boot at SOURCE_DATE_EPOCH
 * (0 when unset), so a run's output is reproducible byte for byte.
 * Left out: disk utilization (tmpfs has no block device, as in the
 * reference), trim, slat (0 for sync engines, as fio reports), the
 * high/low priority split, terse output.
 */
import { DirStat, LatDist, calc_clat_percentiles, plat_idx_to_val, stat_calc_lat, FIO_DEFAULT_PERCENTILES, FIO_IO_U_PLAT_NR, LAT_RANGES, LAT_RANGES_MS, type IoStat } from './stat.ts';
import { ThreadStat } from './job.ts';
import type { JobOptions } from './options.ts';

export const FIO_VERSION = 'fio-3.33';

/* ---- num2str() ---- */

export const N2S_NONE = 0;
export const N2S_PERSEC = 1;
export const N2S_BYTE = 2;
export const N2S_BYTEPERSEC = 4;
const UNITSTR = ['', '/s', 'B', 'bit', 'B/s', 'bit/s'];
const SISTR = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
const IECSTR = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** num2str(): a number in at most `maxlen` digits with a unit prefix, as fio prints it. */
export function num2str(num: number, maxlen: number, pow2: boolean, units: number): string {
  const thousand = pow2 ? 1024 : 1000;
  const prefix = pow2 ? IECSTR : SISTR;
  let n = Math.floor(num);
  let post = 0;
  let modulo = -1;
  let carry = false;
  while (post < SISTR.length) {
    if (String(n).length <= maxlen) break;
    modulo = n % thousand;
    n = Math.floor(n / thousand);
    carry = modulo >= thousand / 2;
    post++;
  }
  if (post >= SISTR.length) post = 0;
  if (modulo === -1) return `${n}${prefix[post]}${UNITSTR[units]}`;
  const digits = String(n).length;
  if (digits + 1 >= maxlen) return `${carry ? n + 1 : n}${prefix[post]}${UNITSTR[units]}`;
  const frac = (modulo / thousand).toFixed(maxlen - digits - 1);
  return `${n}.${frac.slice(2)}${prefix[post]}${UNITSTR[units]}`;
}

/** C's %.Nf with printf's rounding of the double's exact value (toFixed rounds the same way). */
function f(v: number, n = 6): string {
  return (Object.is(v, -0) ? 0 : v).toFixed(n);
}

function pad(s: string, w: number): string {
  return s.length >= w ? s : ' '.repeat(w - s.length) + s;
}

/** ctime()'s layout without the newline: "Thu Dec  3 09:05:25 2026" (UTC). */
export function ctime_str(sec: number): string {
  const d = new Date(sec * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const mons = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (x: number): string => String(x).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${mons[d.getUTCMonth()]} ${pad(String(d.getUTCDate()), 2)} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/* ---- what the reports are made from ---- */

/** A report's unit: one job, or a group's jobs summed (group_reporting). */
export interface Report {
  name: string;
  groupid: number;
  nr_jobs: number;
  o: JobOptions;
  pid: number;
  error: number;
  dir: DirStat[];
  latd: LatDist;
  usr_ns: number;
  sys_ns: number;
  ctx: number;
  /** Job run time from its process's start, ns (fio's total_run_time, job_runtime in JSON). */
  job_ns: number;
}

/** fio's runtime[ddir]: elapsed microseconds rounded up to ms (update_runtime()). */
export function runtime_ms(d: DirStat): number {
  return Math.ceil(Math.floor(d.runtime_us) / 1000);
}

export function report_of(ts: ThreadStat): Report {
  const o = ts.o;
  const span_us = Math.max(0, (ts.end_ns - ts.start_ns) / 1000);
  const dir = ts.dir;
  const rd = o.rw === 'read' || o.rw === 'randread' || o.rw === 'rw' || o.rw === 'randrw';
  const wr = o.rw === 'write' || o.rw === 'randwrite' || o.rw === 'rw' || o.rw === 'randrw';
  dir[0].runtime_us = rd && dir[0].total_ios ? span_us : 0;
  dir[1].runtime_us = wr && dir[1].total_ios ? span_us : 0;
  return {
    name: o.name, groupid: 0, nr_jobs: 1, o, pid: ts.pid, error: ts.error, dir, latd: ts.latd,
    usr_ns: ts.usr_ns, sys_ns: ts.sys_ns, ctx: ts.ctx, job_ns: Math.max(0, ts.end_ns - ts.epoch_ns),
  };
}

/** sum_thread_stats() for group_reporting: one report for the group, named after its first job. */
export function sum_reports(rs: Report[]): Report {
  const first = rs[0];
  const dir = [new DirStat(), new DirStat()];
  const latd = new LatDist();
  let usr = 0, sys = 0, ctx = 0, job = 0, err = 0;
  for (const r of rs) {
    dir[0].merge(r.dir[0]);
    dir[1].merge(r.dir[1]);
    latd.merge(r.latd);
    usr += r.usr_ns;
    sys += r.sys_ns;
    ctx += r.ctx;
    job = Math.max(job, r.job_ns);
    err = err || r.error;
  }
  return { ...first, nr_jobs: rs.length, dir, latd, usr_ns: usr, sys_ns: sys, ctx, job_ns: job, error: err };
}

/** struct group_run_stats, per direction: from every job of the group (not the summed report). */
export interface GroupStats {
  iobytes: number[];
  agg: number[];
  min_bw: number[];
  max_bw: number[];
  min_run: number[];
  max_run: number[];
}

export function group_stats(rs: Report[]): GroupStats {
  const g: GroupStats = { iobytes: [0, 0], agg: [0, 0], min_bw: [0, 0], max_bw: [0, 0], min_run: [0, 0], max_run: [0, 0] };
  for (let d = 0; d < 2; d++) {
    let min_bw = Infinity, max_bw = 0, min_run = Infinity, max_run = 0;
    for (const r of rs) {
      const rt = runtime_ms(r.dir[d]);
      if (!rt) continue;
      const bw = Math.floor((r.dir[d].io_bytes * 1000) / rt);
      min_bw = Math.min(min_bw, bw);
      max_bw = Math.max(max_bw, bw);
      min_run = Math.min(min_run, rt);
      max_run = Math.max(max_run, rt);
      g.iobytes[d] += r.dir[d].io_bytes;
    }
    if (max_run) {
      g.min_bw[d] = min_bw;
      g.max_bw[d] = max_bw;
      g.min_run[d] = min_run;
      g.max_run[d] = max_run;
      g.agg[d] = Math.floor((g.iobytes[d] * 1000) / max_run);
    }
  }
  return g;
}

/* ---- normal text ---- */

const DDIR_NAME = ['read', 'write'];

/** The line fio prints for each job before starting (print_job_header / "(g=0): rw=..."). */
export function job_header(o: JobOptions): string {
  const b = num2str(o.bs, 4, true, N2S_BYTE);
  return `${o.name}: (g=0): rw=${o.rw}, bs=(R) ${b}-${b}, (W) ${b}-${b}, (T) ${b}-${b}, ioengine=${o.ioengine}, iodepth=1\n`;
}

/** display_lat(): "clat (nsec): min=..., max=..., avg=..., stdev=...", scaled to usec or msec when large. */
function display_lat(name: string, s: IoStat): string {
  const c = s.calc();
  if (!c) return '';
  let { min, max, mean, dev } = c;
  let base = '(nsec)';
  if (min > 2000000 && max > 99999999 && dev > 1000000) {
    base = '(msec)';
    min = Math.floor(min / 1000000); max = Math.floor(max / 1000000); mean /= 1e6; dev /= 1e6;
  } else if (min > 2000 && max > 99999 && dev > 1000) {
    base = '(usec)';
    min = Math.floor(min / 1000); max = Math.floor(max / 1000); mean /= 1e3; dev /= 1e3;
  }
  return `    ${name} ${base}: min=${num2str(min, 6, false, N2S_NONE)}, max=${num2str(max, 6, false, N2S_NONE)}, ` +
    `avg=${pad(f(mean, 2), 5)}, stdev=${pad(f(dev, 2), 5)}\n`;
}

/** show_clat_percentiles(). */
function show_clat_percentiles(plat: Float64Array, nr: number, pre: string): string {
  const plist = FIO_DEFAULT_PERCENTILES;
  const ovals = calc_clat_percentiles(plat, nr, plist);
  if (!ovals.length) return '';
  const minv = Math.min(...ovals);
  const maxv = Math.max(...ovals);
  let scale_down = 0;
  let divisor = 1;
  let out: string;
  if (minv > 2000000 && maxv > 99999999) {
    scale_down = 2; divisor = 1000000;
    out = `    ${pre} percentiles (msec):\n     |`;
  } else if (minv > 2000 && maxv > 99999) {
    scale_down = 1; divisor = 1000;
    out = `    ${pre} percentiles (usec):\n     |`;
  } else {
    out = `    ${pre} percentiles (nsec):\n     |`;
  }
  const precision = 2;
  const time_width = Math.max(5, Math.floor(Math.log10(Math.floor(maxv / divisor)) + 1));
  const per_line = Math.floor((80 - 7) / (precision + 10 + time_width));
  for (let j = 0; j < ovals.length; j++) {
    if (j !== 0 && j % per_line === 0) out += '     |';
    const last = j === ovals.length - 1;
    let v = ovals[j];
    for (let i = 0; i < scale_down; i++) v = Math.floor((v + 999) / 1000);
    out += ` ${pad(f(plist[j], precision), precision + 3)}th=[${pad(String(v), time_width)}]${last ? '\n' : ','}`;
    if (last) break;
    if (j % per_line === per_line - 1) out += '\n';
  }
  return out;
}

/** show_ddir_status(). */
function show_ddir_status(r: Report, g: GroupStats, d: number): string {
  const ds = r.dir[d];
  const runt = runtime_ms(ds);
  if (!runt) return '';
  const bw = Math.floor((ds.io_bytes * 1000) / runt);
  const iops = Math.floor((1000 * ds.total_ios) / runt);
  let out = `  ${DDIR_NAME[d]}: IOPS=${num2str(iops, 4, false, N2S_NONE)}, BW=${num2str(bw, 4, true, N2S_BYTEPERSEC)} ` +
    `(${num2str(bw, 4, false, N2S_BYTEPERSEC)})(${num2str(ds.io_bytes, 4, true, N2S_BYTE)}/${runt}msec)\n`;
  out += display_lat('slat', ds.slat);
  out += display_lat('clat', ds.clat);
  out += display_lat(' lat', ds.lat);
  if (ds.clat.samples > 0) out += show_clat_percentiles(ds.plat, ds.clat.samples, 'clat');
  const bwc = ds.bw_stat.calc();
  if (bwc) {
    let { min, max, mean, dev } = bwc;
    let p_of_agg = 100;
    if (g.agg[d]) p_of_agg = Math.min(100, (mean * 100) / Math.floor(g.agg[d] / 1024));
    let unit = 'KiB';
    if (mean > 1024 * 1024) {
      min /= 1024; max /= 1024; mean /= 1024; dev /= 1024;
      unit = 'MiB';
    }
    out += `   bw (${pad(unit, 5)}/s): min=${pad(String(Math.floor(min)), 5)}, max=${pad(String(Math.floor(max)), 5)}, ` +
      `per=${f(p_of_agg, 2)}%, avg=${pad(f(mean, 2), 5)}, stdev=${pad(f(dev, 2), 5)}, samples=${ds.bw_stat.samples}\n`;
  }
  const ic = ds.iops_stat.calc();
  if (ic)
    out += `   iops        : min=${pad(String(ic.min), 5)}, max=${pad(String(ic.max), 5)}, avg=${pad(f(ic.mean, 2), 5)}, ` +
      `stdev=${pad(f(ic.dev, 2), 5)}, samples=${ds.iops_stat.samples}\n`;
  return out;
}

/** show_lat(): one "lat (usec)   : 2=85.24%, ..." run of lines, five entries a line. */
function show_lat(pct: number[], ranges: string[], msg: string): string {
  let out = '';
  let line = 0;
  let new_line = true;
  let shown = false;
  for (let i = 0; i < pct.length; i++) {
    if (pct[i] <= 0) continue;
    shown = true;
    if (new_line) {
      if (line) out += '\n';
      out += `  lat (${msg})   : `;
      new_line = false;
      line = 0;
    }
    if (line) out += ', ';
    out += `${ranges[i]}${f(pct[i], 2)}%`;
    line++;
    if (line === 5) new_line = true;
  }
  return shown ? out + '\n' : '';
}

function total_ios(r: Report): number {
  return r.dir[0].total_ios + r.dir[1].total_ios;
}

function lat_pcts(r: Report): { n: number[]; u: number[]; m: number[] } {
  const t = total_ios(r);
  return { n: stat_calc_lat(r.latd.n, t), u: stat_calc_lat(r.latd.u, t), m: stat_calc_lat(r.latd.m, t) };
}

const RANGE_LABELS = LAT_RANGES.map((v) => `${v}=`);
const RANGE_LABELS_MS = [...LAT_RANGES_MS.map((v) => `${v}=`), '>=2000='];

function cpu_pcts(r: Report): { usr: number; sys: number } {
  const rt = r.job_ns;
  if (!rt) return { usr: 0, sys: 0 };
  return { usr: (r.usr_ns * 100) / rt, sys: (r.sys_ns * 100) / rt };
}

/** show_thread_status_normal(). `now` is the report's time (s since the epoch). */
export function show_thread_status_normal(r: Report, g: GroupStats, now: number): string {
  let out = `${r.name}: (groupid=${r.groupid}, jobs=${r.nr_jobs}): err=${pad(String(r.error), 2)}: pid=${r.pid}: ${ctime_str(now)}\n`;
  out += show_ddir_status(r, g, 0);
  out += show_ddir_status(r, g, 1);
  const lp = lat_pcts(r);
  out += show_lat(lp.n, RANGE_LABELS, 'nsec');
  out += show_lat(lp.u, RANGE_LABELS, 'usec');
  out += show_lat(lp.m, RANGE_LABELS_MS, 'msec');
  const c = cpu_pcts(r);
  out += `  cpu          : usr=${f(c.usr, 2)}%, sys=${f(c.sys, 2)}%, ctx=${r.ctx}, majf=0, minf=0\n`;
  out += '  IO depths    : 1=100.0%, 2=0.0%, 4=0.0%, 8=0.0%, 16=0.0%, 32=0.0%, >=64=0.0%\n';
  out += '     submit    : 0=0.0%, 4=100.0%, 8=0.0%, 16=0.0%, 32=0.0%, 64=0.0%, >=64=0.0%\n';
  out += '     complete  : 0=0.0%, 4=100.0%, 8=0.0%, 16=0.0%, 32=0.0%, 64=0.0%, >=64=0.0%\n';
  out += `     issued rwts: total=${r.dir[0].total_ios},${r.dir[1].total_ios},0,0 short=0,0,0,0 dropped=0,0,0,0\n`;
  out += '     latency   : target=0, window=0, percentile=100.00%, depth=1\n';
  return out;
}

/** show_group_stats(): "Run status group 0 (all jobs):" and a line per direction. */
export function show_group_stats(g: GroupStats, id: number): string {
  let out = `\nRun status group ${id} (all jobs):\n`;
  const str = ['   READ', '  WRITE'];
  for (let d = 0; d < 2; d++) {
    if (!g.max_run[d]) continue;
    const bw = (v: number, p2: boolean): string => num2str(v, 4, p2, N2S_BYTEPERSEC);
    out += `${str[d]}: bw=${bw(g.agg[d], true)} (${bw(g.agg[d], false)}), ${bw(g.min_bw[d], true)}-${bw(g.max_bw[d], true)} ` +
      `(${bw(g.min_bw[d], false)}-${bw(g.max_bw[d], false)}), io=${num2str(g.iobytes[d], 4, true, N2S_BYTE)} ` +
      `(${num2str(g.iobytes[d], 4, false, N2S_BYTE)}), run=${g.min_run[d]}-${g.max_run[d]}msec\n`;
  }
  return out;
}

/* ---- json ---- */

/** A double, printed with %f as fio's json.c prints JSON_TYPE_FLOAT. */
export class JFloat {
  constructor(readonly v: number) {}
}
/** A JSON array. */
export class JArr {
  constructor(readonly items: JValue[]) {}
}
export type JValue = number | string | JFloat | JArr | JObject;
/** A JSON object: its entries in order. */
export type JObject = [string, JValue][];

/** json.c's json_print_*: 2-space indent, `"key" : value`. */
export function json_print(v: JValue, level = 0): string {
  const ind = '  '.repeat(level + 1);
  const close = '  '.repeat(level);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof JFloat) return f(v.v);
  if (v instanceof JArr)
    return v.items.length ? '[\n' + v.items.map((x) => ind + json_print(x, level + 1)).join(',\n') + '\n' + close + ']' : '[\n' + close + ']';
  if (!v.length) return '{\n' + close + '}';
  return '{\n' + v.map(([k, x]) => `${ind}${JSON.stringify(k)} : ${json_print(x, level + 1)}`).join(',\n') + '\n' + close + '}';
}

function stat_obj(s: IoStat, extra: JObject = []): JObject {
  const c = s.calc();
  return [
    ['min', c ? c.min : 0],
    ['max', c ? c.max : 0],
    ['mean', new JFloat(c ? c.mean : 0)],
    ['stddev', new JFloat(c ? c.dev : 0)],
    ['N', s.samples],
    ...extra,
  ];
}

/** add_ddir_status_json(). */
function ddir_json(r: Report, g: GroupStats, d: number, plus: boolean): JObject {
  const ds = r.dir[d];
  const runt = runtime_ms(ds);
  const bw_bytes = runt ? Math.floor((ds.io_bytes * 1000) / runt) : 0;
  const iops = runt ? (1000 * ds.total_ios) / runt : 0;
  const clat_extra: JObject = [];
  if (ds.clat.samples > 0) {
    const ovals = calc_clat_percentiles(ds.plat, ds.clat.samples);
    clat_extra.push(['percentile', FIO_DEFAULT_PERCENTILES.map((p, i) => [f(p), ovals[i]] as [string, JValue])]);
    if (plus) {
      const bins: JObject = [];
      for (let i = 0; i < FIO_IO_U_PLAT_NR; i++) if (ds.plat[i]) bins.push([String(plat_idx_to_val(i)), ds.plat[i]]);
      if (bins.length) clat_extra.push(['bins', bins]);
    }
  }
  const bwc = ds.bw_stat.calc();
  let p_of_agg = 0;
  if (bwc) {
    p_of_agg = 100;
    if (g.agg[d]) p_of_agg = Math.min(100, (bwc.mean * 100) / Math.floor(g.agg[d] / 1024));
  }
  const ic = ds.iops_stat.calc();
  return [
    ['io_bytes', ds.io_bytes],
    ['io_kbytes', Math.floor(ds.io_bytes / 1024)],
    ['bw_bytes', bw_bytes],
    ['bw', Math.floor(bw_bytes / 1024)],
    ['iops', new JFloat(iops)],
    ['runtime', runt],
    ['total_ios', ds.total_ios],
    ['short_ios', 0],
    ['drop_ios', 0],
    ['slat_ns', stat_obj(ds.slat)],
    ['clat_ns', stat_obj(ds.clat, clat_extra)],
    ['lat_ns', stat_obj(ds.lat)],
    ['bw_min', bwc ? bwc.min : 0],
    ['bw_max', bwc ? bwc.max : 0],
    ['bw_agg', new JFloat(p_of_agg)],
    ['bw_mean', new JFloat(bwc ? bwc.mean : 0)],
    ['bw_dev', new JFloat(bwc ? bwc.dev : 0)],
    ['bw_samples', ds.bw_stat.samples],
    ['iops_min', ic ? ic.min : 0],
    ['iops_max', ic ? ic.max : 0],
    ['iops_mean', new JFloat(ic ? ic.mean : 0)],
    ['iops_stddev', new JFloat(ic ? ic.dev : 0)],
    ['iops_samples', ds.iops_stat.samples],
  ];
}

function empty_ddir(): JObject {
  const z = new DirStat();
  return ddir_json({ dir: [z, z] } as unknown as Report, { agg: [0, 0] } as GroupStats, 0, false);
}

function pct_obj(keys: string[], vals: number[]): JObject {
  return keys.map((k, i) => [k, new JFloat(vals[i])] as [string, JValue]);
}

/** show_thread_status_json(). */
export function thread_status_json(r: Report, g: GroupStats, plus: boolean, elapsed_s: number): JObject {
  const lp = lat_pcts(r);
  const c = cpu_pcts(r);
  const zero_lat: JObject = [['min', 0], ['max', 0], ['mean', new JFloat(0)], ['stddev', new JFloat(0)], ['N', 0]];
  const lat_keys = LAT_RANGES.map(String);
  return [
    ['jobname', r.name],
    ['groupid', r.groupid],
    ['error', r.error],
    ['eta', 2147483647],
    ['elapsed', elapsed_s],
    ['job options', r.o.given.map(([k, v]) => [k, v] as [string, JValue])],
    ['read', ddir_json(r, g, 0, plus)],
    ['write', ddir_json(r, g, 1, plus)],
    ['trim', empty_ddir()],
    ['sync', [['total_ios', 0], ['lat_ns', zero_lat]]],
    ['job_runtime', Math.floor(r.job_ns / 1e6)],
    ['usr_cpu', new JFloat(c.usr)],
    ['sys_cpu', new JFloat(c.sys)],
    ['ctx', r.ctx],
    ['majf', 0],
    ['minf', 0],
    ['iodepth_level', pct_obj(['1', '2', '4', '8', '16', '32', '>=64'], [100, 0, 0, 0, 0, 0, 0])],
    ['iodepth_submit', pct_obj(['0', '4', '8', '16', '32', '64', '>=64'], [0, 100, 0, 0, 0, 0, 0])],
    ['iodepth_complete', pct_obj(['0', '4', '8', '16', '32', '64', '>=64'], [0, 100, 0, 0, 0, 0, 0])],
    ['latency_ns', pct_obj(lat_keys, lp.n)],
    ['latency_us', pct_obj(lat_keys, lp.u)],
    ['latency_ms', pct_obj([...LAT_RANGES_MS.map(String), '>=2000'], lp.m)],
    ['latency_depth', 1],
    ['latency_target', 0],
    ['latency_percentile', new JFloat(100)],
    ['latency_window', 0],
  ];
}

/** The whole JSON document. `now_ms` is the report's time in ms since the epoch. */
export function fio_json(reports: Report[], g: GroupStats, plus: boolean, now_ms: number, elapsed_s: number,
  global: [string, string][]): string {
  const doc: JObject = [
    ['fio version', FIO_VERSION],
    ['timestamp', Math.floor(now_ms / 1000)],
    ['timestamp_ms', Math.floor(now_ms)],
    ['time', ctime_str(Math.floor(now_ms / 1000))],
  ];
  if (global.length) doc.push(['global options', global.map(([k, v]) => [k, v] as [string, JValue])]);
  doc.push(['jobs', new JArr(reports.map((r) => thread_status_json(r, g, plus, elapsed_s)))]);
  return json_print(doc) + '\n';
}
