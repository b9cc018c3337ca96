/*
 * tools/calibrate.ts - fit the cost model's two fitted parameters to the
 * seed's two fitted figures, then measure every prediction's residual.
 *
 * No Linux counterpart. Documentation/calibration.md says what is fitted
 * and why; this is the arithmetic, rerunnable whenever a cost or a
 * mechanism changes (`npx tsx tools/calibrate.ts`, --size=1G by default,
 * the seed's exact job). Two parameters, two figures, nothing else tuned:
 *
 *   U    = fio_get_io_u + fio_io_completed, fio's user cycles per I/O that
 *          no reference run measured step by step (their [I] split is
 *          kept), fitted so asi-off runs at the seed's 1,003,102 IOPS;
 *   ibpb = the IBPB's cycles (no published figure: costs.md 1), fitted so
 *          asi=on ephmap=off setcpuid=retbleed (every read an exit with an
 *          IBPB and an RSB fill: RFC v2's "hard-coded to perform IBPB and
 *          RSB-stuffing on asi_exit()") runs 70% below asi-off.
 *
 * Both are linear in a sample's cycles per I/O, so one run at the current
 * values gives the fit in closed form: a run's cycles per I/O is
 * cpu_mhz x 1e6 / IOPS, and raising a key by d adds d x (its count per
 * I/O). A second run with the fitted values checks the fit (its residuals
 * should be ~0) and measures what the model predicts: the per-CPU
 * ephmap's Δ (seed -13.1%), the vmalloc-backed ephmap's extra cost over it
 * (seed "something like 10%"), pti=on's Δ (no seed figure). The fitted
 * values are printed as the lines to put in arch/x86/hw/costs.ts.
 *
 *   npx tsx tools/calibrate.ts [--size=1G] [--samples=3] [--workers=N] [--json] [kernel params...]
 */
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { printk_state } from '../kernel/printk.ts';
import { COST_PROFILES, DEFAULT_COST_PROFILE } from '../arch/x86/hw/costs.ts';
import { compare, type VariantSummary } from './compare/compare.ts';
import { START_VARIANTS, SEED_JOB, DEFAULT_TRACE_VARIANT } from './start.ts';
import { default_trace_options, take_trace_options, type TraceOptions } from './lib/trace_out.ts';
import { write_report } from './report/report.ts';

/** The seed's figures (reference/asi.md 2.1, 2.2). */
export const SEED = {
  /** asi-off mean IOPS, Sapphire Rapids, 10 samples. Fitted. */
  asi_off_iops: 1_003_102,
  /** RFC v2's "70% degradation" with IBPB + RSB stuffing on every asi_exit(). Fitted. */
  ephmap_off_delta: -0.70,
  /** asi-on (per-CPU ephmap) Δ mean. Predicted. */
  percpu_delta: -0.131,
  /** A vmalloc-backed ephmap: "something like 10% hits", read as its IOPS ~10% below the per-CPU one. Predicted. */
  vmalloc_extra: -0.10,
};

/** The keys the fitted fio parameter U is split over, in their [I] proportion. */
export const FIO_FITTED_KEYS = ['fio_get_io_u', 'fio_io_completed'] as const;

export interface FitInput {
  cpu_mhz: number;
  /** Current values of the fitted keys. */
  fio_get_io_u: number;
  fio_io_completed: number;
  ibpb: number;
  /** asi-off at the current values: IOPS and fio_get_io_u's count per I/O (fio's I/Os per I/O: 1). */
  off_iops: number;
  off_u_per_io: number;
  /** asi=on ephmap=off at the current values: IOPS, U's count per I/O and IBPBs per I/O. */
  e70_iops: number;
  e70_u_per_io: number;
  e70_ibpb_per_io: number;
}

export interface Fit {
  /** U before and after. */
  u_was: number;
  u: number;
  fio_get_io_u: number;
  fio_io_completed: number;
  ibpb_was: number;
  ibpb: number;
  /** Cycles per I/O wanted for asi-off and for ephmap=off. */
  off_cycles_target: number;
  e70_cycles_target: number;
}

/** The closed-form fit (see the header); integer cycles. */
export function fit_parameters(i: FitInput, seed = SEED): Fit {
  const f = i.cpu_mhz * 1e6;
  const u_was = i.fio_get_io_u + i.fio_io_completed;
  const off_cycles_target = f / seed.asi_off_iops;
  const off_cycles = f / i.off_iops;
  const u = Math.round(u_was + (off_cycles_target - off_cycles) / i.off_u_per_io);
  const get = Math.round((u * i.fio_get_io_u) / u_was);
  const e70_cycles_target = f / (seed.asi_off_iops * (1 + seed.ephmap_off_delta));
  const e70_cycles = f / i.e70_iops + (u - u_was) * i.e70_u_per_io;
  const ibpb = Math.round(i.ibpb + (e70_cycles_target - e70_cycles) / i.e70_ibpb_per_io);
  return { u_was, u, fio_get_io_u: get, fio_io_completed: u - get, ibpb_was: i.ibpb, ibpb, off_cycles_target, e70_cycles_target };
}

/**
 * Why a fit cannot be used, or null. U below zero means the model's
 * asi-off, with no fio user time at all, already runs slower than the seed
 * at this size (the 1G job since issue 13's kernel-step factor:
 * Documentation/calibration.md, "At the seed's exact size").
 */
export function fit_infeasible(fit: Fit): string | null {
  if (fit.fio_get_io_u >= 0 && fit.fio_io_completed >= 0 && fit.ibpb >= 0) return null;
  if (fit.u < 0)
    return `U = ${fit.u}: asi-off runs below the seed's IOPS with no fio user work at all, ` +
      'so no value of U fits; the residual is the kernel side\'s';
  return `ibpb = ${fit.ibpb}: ephmap=off runs below the seed's −70% with no IBPB at all`;
}

/** A row of the report: a figure, the seed's, the model's, and the residual (model - seed), in points or IOPS. */
export interface CalibrationRow {
  what: string;
  kind: 'fitted' | 'predicted' | 'no seed figure';
  seed: number | null;
  model: number;
  residual: number | null;
}

export function calibration_rows(vs: readonly VariantSummary[], seed = SEED): CalibrationRow[] {
  const by = (n: string): VariantSummary => {
    const v = vs.find((x) => x.name === n);
    if (!v || v.error || !v.samples) throw new Error(`calibrate: variant ${n} failed: ${v?.error ?? 'missing'}`);
    return v;
  };
  const off = by('asi-off');
  const d = (n: string): number => by(n).mean / off.mean - 1;
  const vm_extra = by('asi-on/vmalloc').mean / by('asi-on/percpu').mean - 1;
  const row = (what: string, kind: CalibrationRow['kind'], s: number | null, m: number): CalibrationRow =>
    ({ what, kind, seed: s, model: m, residual: s === null ? null : m - s });
  return [
    row('asi-off IOPS', 'fitted', seed.asi_off_iops, off.mean),
    row('asi-on ephmap=off Δ', 'fitted', seed.ephmap_off_delta, d('asi-on/ephmap=off')),
    row('asi-on percpu Δ', 'predicted', seed.percpu_delta, d('asi-on/percpu')),
    row('vmalloc vs percpu', 'predicted', seed.vmalloc_extra, vm_extra),
    row('asi-on vmalloc Δ', 'no seed figure', null, d('asi-on/vmalloc')),
    row('pti-on Δ', 'no seed figure', null, d('pti-on')),
  ];
}

/** x with its sign (a real minus), `digits` decimals; a value that rounds to 0 unsigned. */
function signed(x: number, digits: number): string {
  const s = Math.abs(x).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return Number(s.replace(/,/g, '')) === 0 ? s : `${x < 0 ? '−' : '+'}${s}`;
}

function fmt(x: number | null, pctish: boolean): string {
  if (x === null) return '';
  if (!pctish) return Math.round(x).toLocaleString('en-US');
  return `${signed(x * 100, 1)}%`;
}

export function format_rows(rows: readonly CalibrationRow[]): string {
  let out = '| figure | kind | seed | model | residual (model − seed) |\n|---|---|---:|---:|---:|\n';
  for (const r of rows) {
    const p = r.what !== 'asi-off IOPS';
    const res = r.residual === null ? '' : p ? `${signed(r.residual * 100, 1)} pts` : signed(r.residual, 0);
    out += `| ${r.what} | ${r.kind} | ${fmt(r.seed, p)} | ${fmt(r.model, p)} | ${res} |\n`;
  }
  return out;
}

interface CalibrateArgs {
  size: string;
  samples: number;
  workers: number;
  json: boolean;
  params: string[];
  /** --trace/--perfetto: round 2's first sample of the traced variant (tools/lib/trace_out.ts). */
  trace: TraceOptions;
  trace_variants: string[];
  /** --report FILE: round 2 as the HTML report (tools/report); none by default. */
  report: string | null;
}

function parse_args(argv: readonly string[]): CalibrateArgs {
  const a: CalibrateArgs = {
    size: '1G', samples: 3, workers: Math.max(1, Math.min(availableParallelism(), 8)), json: false, params: [],
    trace: default_trace_options(), trace_variants: [DEFAULT_TRACE_VARIANT], report: null,
  };
  const rest = take_trace_options(argv, a.trace);
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    let m: RegExpExecArray | null;
    if (arg === '--') continue;
    if (arg === '--report' && i + 1 < rest.length) { a.report = rest[++i]; continue; }
    if ((m = /^--report=(.+)$/.exec(arg))) { a.report = m[1]; continue; }
    if ((m = /^--trace-variant=(.+)$/.exec(arg))) { a.trace_variants = m[1].split(','); continue; }
    if (!arg.startsWith('-')) a.params.push(arg);
    else if ((m = /^--size=(\d+[kKmMgG]?)$/.exec(arg))) a.size = m[1];
    else if ((m = /^--samples=(\d+)$/.exec(arg)) && Number(m[1]) > 0) a.samples = Number(m[1]);
    else if ((m = /^--workers=(\d+)$/.exec(arg))) a.workers = Number(m[1]);
    else if (arg === '--json') a.json = true;
    else throw new Error(`calibrate: unknown option '${arg}'`);
  }
  return a;
}

async function main(): Promise<void> {
  printk_state.console_loglevel = 0;
  let a: CalibrateArgs;
  try {
    a = parse_args(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const p = COST_PROFILES[DEFAULT_COST_PROFILE];
  const fio_args = [...SEED_JOB.slice(0, 2), `--size=${a.size}`, ...SEED_JOB.slice(2)];
  const extra = a.params.join(' ');
  const with_extra = (c: string, more = ''): string => [c, extra, more].filter(Boolean).join(' ');
  const log = (s: string): void => { process.stderr.write(s); };
  const t0 = performance.now();

  // Round 1: the two fitted figures at the current values.
  log(`calibrate: round 1, asi-off and ephmap=off at the current values (${a.size})\n`);
  const r1 = await compare({
    variants: START_VARIANTS.slice(0, 2).map((v) => ({ name: v.name, cmdline: with_extra(v.cmdline) })),
    samples: 1, workers: a.workers, fio_args,
  });
  const [off, e70] = r1.variants;
  for (const v of r1.variants) if (v.error) throw new Error(`calibrate: ${v.name}: ${v.error}`);
  const fit = fit_parameters({
    cpu_mhz: p.cpu_mhz, fio_get_io_u: p.fio_get_io_u, fio_io_completed: p.fio_io_completed, ibpb: p.ibpb,
    off_iops: off.mean, off_u_per_io: off.per_io.count_by_key.fio_get_io_u ?? 0,
    e70_iops: e70.mean, e70_u_per_io: e70.per_io.count_by_key.fio_get_io_u ?? 0,
    e70_ibpb_per_io: e70.per_io.count_by_key.ibpb ?? 0,
  });

  const c1 = (x: number): string => x.toFixed(1);
  let out = `fio ${fio_args.join(' ')}${extra ? ` (kernel: ${extra})` : ''}\n\n`;
  out += `Round 1 (current values: fio_get_io_u=${p.fio_get_io_u}, fio_io_completed=${p.fio_io_completed}, ibpb=${p.ibpb}):\n`;
  out += `  asi-off     ${Math.round(off.mean)} IOPS = ${c1(p.cpu_mhz * 1e6 / off.mean)} cycles/I/O; ` +
    `wanted ${c1(fit.off_cycles_target)} (${p.cpu_mhz} MHz / ${SEED.asi_off_iops} IOPS), ` +
    `fio_get_io_u ${c1(off.per_io.count_by_key.fio_get_io_u ?? 0)}/I/O\n`;
  out += `  ephmap=off  ${Math.round(e70.mean)} IOPS = ${c1(p.cpu_mhz * 1e6 / e70.mean)} cycles/I/O, ` +
    `${(e70.per_io.count_by_key.ibpb ?? 0).toFixed(4)} IBPB/I/O; wanted ${c1(fit.e70_cycles_target)} (asi-off's / 0.30)\n`;
  out += `  U = fio_get_io_u + fio_io_completed: ${fit.u_was} + (${c1(fit.off_cycles_target)} − ${c1(p.cpu_mhz * 1e6 / off.mean)}) / ` +
    `${c1(off.per_io.count_by_key.fio_get_io_u ?? 0)} = ${fit.u}` +
    ` → fio_get_io_u ${fit.fio_get_io_u}, fio_io_completed ${fit.fio_io_completed} (split kept)\n`;
  out += `  ibpb: ${fit.ibpb_was} + (${c1(fit.e70_cycles_target)} − ${c1(p.cpu_mhz * 1e6 / e70.mean)} − (${fit.u - fit.u_was}) × ` +
    `${c1(e70.per_io.count_by_key.fio_get_io_u ?? 0)}) / ${(e70.per_io.count_by_key.ibpb ?? 0).toFixed(4)} = ${fit.ibpb}\n\n`;
  const why = fit_infeasible(fit);
  if (why) {
    process.stdout.write(out + `No fit at --size=${a.size}: ${why}.\n`);
    process.exitCode = 1;
    return;
  }

  // Round 2: every variant with the fitted values: the check and the predictions.
  const costs = `costs=${DEFAULT_COST_PROFILE},fio_get_io_u=${fit.fio_get_io_u},fio_io_completed=${fit.fio_io_completed},ibpb=${fit.ibpb}`;
  log(`calibrate: round 2, every variant with ${costs}, ${a.samples} samples\n`);
  const r2 = await compare({
    variants: START_VARIANTS.map((v) => ({ name: v.name, cmdline: with_extra(v.cmdline, costs) })),
    samples: a.samples, workers: a.workers, fio_args, trace: { variants: a.trace_variants, opts: a.trace },
  });
  if (a.report) {
    write_report(a.report, {
      title: `tskernel calibration, round 2 (${costs})`, command: ['npx tsx tools/calibrate.ts', ...process.argv.slice(2)].join(' '), result: r2,
    });
  }
  const rows = calibration_rows(r2.variants);
  log(`calibrate: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  if (a.json) {
    process.stdout.write(JSON.stringify({ fio_args, fit, rows, variants: r2.variants.map((v) => ({ name: v.name, mean: v.mean, min: v.min, max: v.max, delta: v.delta })) }, null, 2) + '\n');
    return;
  }
  out += `Round 2 (fitted values, ${a.samples} sample${a.samples === 1 ? '' : 's'}):\n\n${format_rows(rows)}\n`;
  out += `For arch/x86/hw/costs.ts (sapphire_rapids):\n  fio_get_io_u: ${fit.fio_get_io_u}, fio_io_completed: ${fit.fio_io_completed}, ibpb: ${fit.ibpb}\n`;
  process.stdout.write(out);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) void main();
