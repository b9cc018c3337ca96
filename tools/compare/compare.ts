/*
 * tools/compare/compare.ts - one fio workload across named kernel variants:
 * the seed's table and the counters that explain it.
 *
 * No Linux counterpart: the seed's falba-style loop (reference/asi.md
 * section 2), which boots each variant, runs fio N times and prints
 *   | variant | samples | mean | min | max | Δ mean |
 * with IOPS per sample, Δ against the first variant. Below the table, per
 * variant and per I/O (mean over samples, I/O phase only): modelled
 * cycles split by where they went (user, syscall path, copy, exits and
 * mitigations, TLB refill, other kernel), then every machine event and
 * /proc/vmstat event that changed in any variant; last, the ASI
 * page-fault exits by faulting kernel site (the seed's bpftrace
 * histogram) for the variants that have any. Cost keys are put in
 * those groups by name, and counters are listed as found, so counters a
 * later kernel adds (ASI exits, IBPB) show up without a change here.
 *
 *   npx tsx tools/compare/compare.ts [--samples=N] [--workers=N] [--json] [--keys]
 *       [--workload=fio|kbuild] [name="kernel cmdline" ...] [-- fio (or kbuild) options]
 *
 * --workload=kbuild runs tools/kbuild's build instead of fio: an "I/O" is
 * then a compile unit and the rate units per second of build time.
 *
 * Variants default to asi-off="asi=off" and pti-on="pti=on"; the fio
 * workload defaults to the seed's job at --size=64M. Samples run in
 * worker_threads (--workers=0 runs them in this thread); each is a fresh
 * boot with seed=<sample+1>, so results do not depend on scheduling. A
 * variant whose kernel refuses to boot is reported as an error in its row
 * (exit status 1), never a crash. One progress line per finished sample
 * goes to stderr when it is a terminal.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { printk_state } from '../../kernel/printk.ts';
import { run_sample, type SampleTask, type SampleResult } from './sample.ts';
import {
  write_trace_files, default_trace_options, take_trace_options, TRACE_OPTIONS_HELP, type TraceOptions,
} from '../lib/trace_out.ts';
import { write_report } from '../report/report.ts';

export interface Variant {
  name: string;
  cmdline: string;
}

export interface CompareOptions {
  variants: Variant[];
  samples: number;
  fio_args: string[];
  /** fio (default) or kbuild (fio_args are then kbuild's options). */
  workload?: 'fio' | 'kbuild';
  /** Worker threads; 0 runs every sample in the calling thread. */
  workers: number;
  /** Trace the first sample of the named variants ('all': every variant) into these files. */
  trace?: { variants: string[]; opts: TraceOptions };
  /** Called as each sample finishes (in completion order). */
  progress?: (r: SampleResult, done: number, total: number) => void;
}

export interface VariantSummary {
  name: string;
  cmdline: string;
  samples: number;
  /** IOPS over samples (full-precision simulated IOPS, see SampleResult.iops). */
  mean: number;
  min: number;
  max: number;
  /** Relative to the first variant's mean, or null (the baseline, or an error on either side). */
  delta: number | null;
  fio_iops_mean: number;
  clat_mean_ns: number;
  /** I/Os per sample (mean; the same for every sample of a fixed-size job). */
  ios: number;
  error?: string;
  /** Per I/O, mean over samples: cycles per cost group and per key, events, vmstat. */
  per_io: {
    cycles_by_group: Record<string, number>;
    cycles_by_key: Record<string, number>;
    count_by_key: Record<string, number>;
    events: Record<string, number>;
    vmstat: Record<string, number>;
  };
  /** ASI page-fault exits by faulting kernel site, mean per sample over the I/O phase, most first. */
  exit_sites: Record<string, number>;
}

export interface CompareResult {
  fio_args: string[];
  workload?: 'fio' | 'kbuild';
  variants: VariantSummary[];
  results: SampleResult[];
}

export const DEFAULT_VARIANTS: Variant[] = [
  { name: 'asi-off', cmdline: 'asi=off' },
  { name: 'pti-on', cmdline: 'pti=on' },
];

export const DEFAULT_FIO_ARGS = ['--name=randread_tmpfs', '--rw=randread', '--size=64M', '--blocksize=4K', '--directory=/tmp'];

export { COST_GROUPS, OTHER_GROUP, cost_group } from './cost_groups.ts';
import { COST_GROUPS, OTHER_GROUP, cost_group } from './cost_groups.ts';

/** A Worker running tools/compare/worker.ts through tsx's loader (Node 20 does not pass --import to workers). */
function ts_worker(): Worker {
  let api: string;
  try {
    api = import.meta.resolve('tsx/esm/api');
  } catch {
    // Where import.meta.resolve is missing (vitest): the ESM entry of tsx's esm/api export, by its package's exports map.
    const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
    api = pathToFileURL(join(dirname(pkg), 'dist/esm/api/index.mjs')).href;
  }
  const entry = new URL('./worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`,
    { eval: true });
}

/** Run every task; results in task order whatever order they finish in. */
async function run_tasks(tasks: SampleTask[], workers: number, progress?: (r: SampleResult, done: number) => void): Promise<SampleResult[]> {
  const results = new Array<SampleResult>(tasks.length);
  let done = 0;
  if (workers <= 0) {
    tasks.forEach((t, i) => {
      results[i] = run_sample(t);
      progress?.(results[i], ++done);
    });
    return results;
  }
  const n = Math.min(workers, tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve, reject) => {
    const w = ts_worker();
    const feed = (): void => {
      if (next >= tasks.length) {
        w.postMessage({ exit: true });
        return;
      }
      const idx = next++;
      w.postMessage({ idx, task: tasks[idx] });
    };
    w.on('message', (m: { idx: number; result: SampleResult }) => {
      results[m.idx] = m.result;
      progress?.(m.result, ++done);
      feed();
    });
    w.on('error', reject);
    w.on('exit', () => resolve());
    feed();
  })));
  return results;
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0;
}

function summarize(v: Variant, rs: SampleResult[], base: VariantSummary | null): VariantSummary {
  const ok = rs.filter((r) => !r.error);
  const iops = ok.map((r) => r.iops);
  const s: VariantSummary = {
    name: v.name, cmdline: v.cmdline, samples: ok.length,
    mean: mean(iops), min: iops.length ? Math.min(...iops) : 0, max: iops.length ? Math.max(...iops) : 0, delta: null,
    fio_iops_mean: mean(ok.map((r) => r.fio_iops)), clat_mean_ns: mean(ok.map((r) => r.clat_mean_ns)),
    ios: mean(ok.map((r) => r.total_ios)),
    per_io: { cycles_by_group: {}, cycles_by_key: {}, count_by_key: {}, events: {}, vmstat: {} },
    exit_sites: {},
  };
  const bad = rs.find((r) => r.error);
  if (bad) s.error = bad.error;
  if (base && !s.error && !base.error && base.mean) s.delta = s.mean / base.mean - 1;
  const add = (o: Record<string, number>, k: string, v: number): void => { o[k] = (o[k] ?? 0) + v / ok.length; };
  for (const r of ok) {
    const n = r.total_ios || 1;
    for (const [k, [count, cyc]] of Object.entries(r.cost)) {
      add(s.per_io.cycles_by_key, k, cyc / n);
      add(s.per_io.count_by_key, k, count / n);
      add(s.per_io.cycles_by_group, cost_group(k), cyc / n);
    }
    for (const [k, x] of Object.entries(r.events)) add(s.per_io.events, k, x / n);
    for (const [k, x] of Object.entries(r.vmstat)) add(s.per_io.vmstat, k, x / n);
    for (const [k, x] of Object.entries(r.exit_sites)) add(s.exit_sites, k, x);
  }
  s.exit_sites = Object.fromEntries(Object.entries(s.exit_sites)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  return s;
}

/** Run the comparison. */
export async function compare(o: CompareOptions): Promise<CompareResult> {
  const tasks: SampleTask[] = [];
  o.variants.forEach((v, vi) => {
    for (let i = 0; i < o.samples; i++) {
      const t: SampleTask = { variant: v.name, cmdline: v.cmdline, sample: i, fio_args: o.fio_args, workload: o.workload };
      const tr = o.trace;
      if (i === 0 && tr && (tr.opts.trace || tr.opts.perfetto) && (tr.variants.includes('all') || tr.variants.includes(v.name))) {
        t.trace = {
          events: tr.opts.events, entries: tr.opts.entries, ftrace: tr.opts.trace !== null, perfetto: tr.opts.perfetto !== null,
          pid: vi + 1, process_name: `${v.name} (${v.cmdline} seed=1)`,
        };
      }
      tasks.push(t);
    }
  });
  const results = await run_tasks(tasks, o.workers, o.progress ? (r, d) => o.progress?.(r, d, tasks.length) : undefined);
  const variants: VariantSummary[] = [];
  for (const v of o.variants) variants.push(summarize(v, results.filter((r) => r.variant === v.name), variants[0] ?? null));
  if (o.trace) {
    const caps = results.filter((r) => r.trace).map((r) => ({ name: r.variant, cap: r.trace! }));
    write_trace_files(o.trace.opts.trace, o.trace.opts.perfetto, caps);
    for (const r of results) delete r.trace; // written; not part of the result
  }
  return { fio_args: o.fio_args, workload: o.workload, variants, results };
}

/* ---- text ---- */

function int(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

function pct(d: number | null): string {
  if (d === null) return '';
  const s = (d * 100).toFixed(1);
  return `${d >= 0 ? '+' : '−'}${s.replace('-', '')}%`;
}

/** A per-I/O figure: rare events (an IBPB every 50,000 reads) in exponent form rather than as 0.0000. */
function num(x: number | undefined): string {
  if (x === undefined || x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 99.5) return x.toFixed(0);
  if (a >= 0.995) return x.toFixed(2);
  if (a >= 0.0001) return x.toFixed(4);
  return x.toExponential(1);
}

/** Rows of a markdown table, columns padded. */
function table(head: string[], rows: string[][], right: boolean[]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (right[i] ? c.padStart(w[i]) : c.padEnd(w[i]))).join(' | ') + ' |';
  const sep = '|' + w.map((n, i) => (right[i] ? '-'.repeat(n + 1) + ':' : '-'.repeat(n + 2))).join('|') + '|';
  return [line(head), sep, ...rows.map(line)].join('\n') + '\n';
}

export function format_compare(c: CompareResult, all_keys = false): string {
  const kbuild = c.workload === 'kbuild';
  let out = `${kbuild ? 'kbuild' : 'fio'} ${c.fio_args.join(' ')}\n\n${kbuild ? 'compile units per second (simulated build time)' : 'IOPS (simulated)'}\n\n`;
  out += table(['variant', 'samples', 'mean', 'min', 'max', 'Δ mean'],
    c.variants.map((v) => (v.error && !v.samples
      ? [v.name, '0', 'error (below)', '', '', '']
      : [v.name, String(v.samples), int(v.mean), int(v.min), int(v.max), pct(v.delta)])),
    [false, true, true, true, true, true]);
  const errs = c.variants.filter((v) => v.error);
  for (const v of errs) out += `\n${v.name} ("${v.cmdline}"): error: ${v.error}\n`;
  const ok = c.variants.filter((v) => v.samples);
  if (!ok.length) return out;
  const cols = ok.map((v) => v.name);
  const rows: string[][] = [];
  rows.push(['clat mean (ns)', ...ok.map((v) => v.clat_mean_ns.toFixed(1))]);
  rows.push(['fio IOPS (ms runtime)', ...ok.map((v) => int(v.fio_iops_mean))]);
  const groups = [...COST_GROUPS.map(([g]) => g), OTHER_GROUP];
  let total: number[] = ok.map(() => 0);
  for (const g of groups) {
    const vals = ok.map((v) => v.per_io.cycles_by_group[g] ?? 0);
    if (vals.every((x) => x === 0)) continue;
    total = total.map((t, i) => t + vals[i]);
    rows.push([`cycles: ${g}`, ...vals.map(num)]);
    if (all_keys) {
      const keys = new Set(ok.flatMap((v) => Object.keys(v.per_io.cycles_by_key).filter((k) => cost_group(k) === g)));
      for (const k of keys) rows.push([`  ${k}`, ...ok.map((v) => num(v.per_io.cycles_by_key[k]))]);
    }
  }
  rows.push(['cycles: total', ...total.map(num)]);
  const list = (pick: (v: VariantSummary) => Record<string, number>, label: string): void => {
    const keys = [...new Set(ok.flatMap((v) => Object.keys(pick(v))))];
    for (const k of keys) rows.push([`${label}${k}`, ...ok.map((v) => num(pick(v)[k]))]);
  };
  list((v) => v.per_io.events, '');
  list((v) => v.per_io.vmstat, 'vmstat ');
  out += `\nPer I/O, mean over samples (I/O phase: the jobs' start to their end)\n\n`;
  out += table(['counter', ...cols], rows, [false, ...cols.map(() => true)]);
  out += format_exit_sites(ok);
  return out;
}

/**
 * The seed's bpftrace histogram (asi_exits.bpftrace's @stack_counts):
 * ASI page-fault exits by the kernel site whose access faulted, per
 * variant that has any, mean per sample and per 1000 I/Os.
 */
export function format_exit_sites(vs: readonly VariantSummary[]): string {
  const with_exits = vs.filter((v) => Object.keys(v.exit_sites).length);
  if (!with_exits.length) return '';
  const sites = [...new Set(with_exits.flatMap((v) => Object.keys(v.exit_sites)))];
  const head = ['faulting site', ...with_exits.flatMap((v) => [`${v.name} /sample`, 'per 1k I/O'])];
  const rows = sites.map((s) => [s, ...with_exits.flatMap((v) => {
    const n = v.exit_sites[s] ?? 0;
    return [num(n), num(v.ios ? (n * 1000) / v.ios : 0)];
  })]);
  return `\nASI page-fault exits by faulting site (asi:asi_exit_pf), I/O phase\n\n` +
    table(head, rows, [false, ...with_exits.flatMap(() => [true, true])]);
}

/* ---- command line ---- */

export interface CompareArgs {
  opts: CompareOptions;
  json: boolean;
  all_keys: boolean;
  /** The HTML report's file, or null. */
  report: string | null;
  help: boolean;
}

export const DEFAULT_COMPARE_REPORT = 'results/compare.html';

export const COMPARE_USAGE = `usage: npm run compare -- [options] [name="kernel cmdline" ...] [-- fio options]

Runs one fio workload (default: ${DEFAULT_FIO_ARGS.join(' ')}) on each named kernel
variant (default: ${DEFAULT_VARIANTS.map((v) => `${v.name}="${v.cmdline}"`).join(' ')}), N samples each
(seed=1..N), and prints the seed's table and the counters per I/O that explain it.

Options:
  --samples=N           samples per variant [3]
  --workers=N           worker threads, 0 for none [CPUs, at most 8]
  --json                the result as JSON
  --keys                every cost key in the cycles breakdown
  --report FILE         the HTML report's file [${DEFAULT_COMPARE_REPORT}]; --no-report for none
${TRACE_OPTIONS_HELP}  --trace-variant=NAME[,NAME...]|all
                        the variants whose first sample is traced [the first with asi=on, else the first]
  -h, --help            this text
Kernel parameters: npm start -- --help lists them.
`;

/** The first variant whose command line ends up with asi=on (the last asi= wins), else the first. */
export function default_trace_variant(vs: readonly Variant[]): string {
  const on = vs.find((v) => /(?:^|\s)asi=(on|off)(?!.*(?:^|\s)asi=)/.exec(v.cmdline)?.[1] === 'on');
  return (on ?? vs[0]).name;
}

export function parse_compare_args(argv_in: readonly string[]): CompareArgs {
  let argv = argv_in;
  const variants: Variant[] = [];
  let samples = 3;
  let workers = Math.max(1, Math.min(availableParallelism(), 8));
  let json = false;
  let all_keys = false;
  let fio_args: string[] | null = null;
  let workload: 'fio' | 'kbuild' = 'fio';
  let report: string | null = DEFAULT_COMPARE_REPORT;
  let help = false;
  let trace_variants: string[] | null = null;
  const topts = default_trace_options();
  argv = take_trace_options(argv, topts);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      fio_args = argv.slice(i + 1);
      break;
    }
    let m: RegExpExecArray | null;
    if (a === '--help' || a === '-h') help = true;
    else if (a === '--report' && i + 1 < argv.length && !argv[i + 1].startsWith('-')) report = argv[++i];
    else if ((m = /^--report=(.+)$/.exec(a))) report = m[1];
    else if (a === '--no-report') report = null;
    else if ((m = /^--trace-variant=(.+)$/.exec(a))) trace_variants = m[1].split(',');
    else if ((m = /^--samples=(\d+)$/.exec(a)) && Number(m[1]) > 0) samples = Number(m[1]);
    else if ((m = /^--workers=(\d+)$/.exec(a))) workers = Number(m[1]);
    else if (a === '--json') json = true;
    else if (a === '--keys') all_keys = true;
    else if ((m = /^--workload=(fio|kbuild)$/.exec(a))) workload = m[1] as 'fio' | 'kbuild';
    else if (a.startsWith('--variant=') || !a.startsWith('-')) {
      const mm = /^(?:--variant=)?([^=\s]+)=(.*)$/s.exec(a);
      if (!mm) throw new Error(`compare: bad variant '${a}' (want name="kernel command line")`);
      if (variants.some((v) => v.name === mm[1])) throw new Error(`compare: variant '${mm[1]}' given twice`);
      variants.push({ name: mm[1], cmdline: mm[2].replace(/^"(.*)"$/s, '$1') });
    } else throw new Error(`compare: unknown option '${a}'`);
  }
  const vs = variants.length ? variants : DEFAULT_VARIANTS;
  return {
    opts: {
      variants: vs, samples, workers,
      fio_args: fio_args ?? (workload === 'kbuild' ? [] : DEFAULT_FIO_ARGS), ...(workload === 'kbuild' ? { workload } : {}),
      trace: { variants: trace_variants ?? [default_trace_variant(vs)], opts: topts },
    },
    json, all_keys, report, help,
  };
}

async function main(): Promise<void> {
  printk_state.console_loglevel = 0;
  let args: CompareArgs;
  try {
    args = parse_compare_args(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    process.stdout.write(COMPARE_USAGE);
    return;
  }
  const tty = process.stderr.isTTY === true;
  const t0 = performance.now();
  const c = await compare({
    ...args.opts,
    progress: tty ? (r, d, n) => process.stderr.write(
      `[${d}/${n}] ${r.variant} #${r.sample + 1}: ${r.error ? `error: ${r.error}` : `${int(r.iops)} IOPS`} (${(r.host_ms / 1000).toFixed(1)} s)\n`)
      : undefined,
  });
  if (tty) process.stderr.write(`${c.results.length} samples in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  // Host time is not a result: left out of --json so the same command prints the same document.
  const doc = { ...c, results: c.results.map(({ host_ms: _h, ...r }) => r) };
  process.stdout.write(args.json ? JSON.stringify(doc, null, 2) + '\n' : format_compare(c, args.all_keys));
  if (args.report) {
    write_report(args.report, {
      title: `tskernel: ${c.variants.map((v) => v.name).join(' vs ')}, ${args.opts.samples} sample${args.opts.samples === 1 ? '' : 's'} each`,
      command: ['npm run compare --', ...process.argv.slice(2)].join(' '), result: c,
    });
    if (!args.json) process.stdout.write(`\nHTML report: ${args.report}\n`);
  }
  if (c.variants.some((v) => v.error)) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) void main();
