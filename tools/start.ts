/*
 * tools/start.ts - `npm start`: the seed's experiment.
 *
 * No Linux counterpart: what the seed's falba loop did on real kernels
 * (reference/asi.md section 2), run on tskernel. With no arguments it
 * boots five variants, runs the seed's fio job on each a few times
 * (tools/compare: fresh boot per sample, seed=<n>, worker threads), and
 * prints the seed's table (IOPS per variant: samples, mean, min, max and
 * Δ mean against asi-off), the counters per read that explain each Δ
 * (cycles by where they went, ASI exits by reason, IBPB, TLB flushes,
 * INVLPGs, page walks) and the per-site ASI exit histogram.
 *
 *   npm start                       --size=64M, 3 samples (~15 s on 2 cores)
 *   npm start -- --full             the seed's exact job: --size=1G, 10 samples
 *   npm start -- costs=skylake      kernel parameters added to every variant
 *   npm start -- --size=16M --samples=2 --workers=1 --json --keys
 *   npm start -- --demo [cmdline]   the demonstration workload (tools/demo/demo.ts)
 *   npm start -- --perfetto out.json asi=on     a Perfetto timeline of one variant's first sample
 *   npm start -- --help             options and every kernel parameter
 *
 * The command line reads as `[options] [kernel parameters] [-- init
 * arguments]`: an argument starting with '-' is an option of this tool, any
 * other a kernel parameter; a `--` after a kernel parameter ends them, as on
 * Linux's command line, and what follows is passed to init (the kernel
 * reports it in /proc/cmdline; tskernel's init takes no arguments). A
 * leading `--` (npm's own separator, when it reaches us) is skipped.
 * Unknown kernel parameters are reported once on stderr with Linux's
 * notice. The HTML report (tools/report) goes to results/start.html
 * unless --report names another file or --no-report.
 *
 * The variants: asi-off; asi=on with ephmap=off (the page cache out of
 * the restricted address space, every read an exit: the "70%" era of RFC
 * v2); asi=on with the per-CPU ephmap (the seed's Aug 2025 prototype);
 * asi=on with a vmalloc-backed ephmap (the rival the seed remembers as
 * "something like 10%" worse); and pti=on, the mitigation ASI competes
 * with. Every asi=on variant has setcpuid=retbleed, as the seed's kernel
 * had, so asi_exit() does an IBPB. A bad command line or option exits 2
 * with one line on stderr, before anything runs. Progress (one line per
 * finished sample) goes to stderr only when it is a terminal, so piped
 * output is the result alone, and the same command prints the same bytes.
 */
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { start_kernel, type Kernel } from '../init/main.ts';
import { ParamError, parse_kernel_params, format_params_help } from '../kernel/params.ts';
import { printk_state, KERN_INFO, PR_DEBUG_NAMESPACES } from '../kernel/printk.ts';
import {
  default_trace_options, take_trace_options, trace_start, trace_capture, write_trace_files, TRACE_OPTIONS_HELP,
  type TraceOptions, type TraceRequest,
} from './lib/trace_out.ts';
import { write_report } from './report/report.ts';
import { compare, format_compare, type Variant } from './compare/compare.ts';
import { run_demo } from './demo/demo.ts';

/** The seed's variants (asi.md 2.1, 2.2), the baseline first. */
export const START_VARIANTS: readonly Variant[] = [
  { name: 'asi-off', cmdline: 'asi=off' },
  { name: 'asi-on/ephmap=off', cmdline: 'asi=on setcpuid=retbleed ephmap=off' },
  { name: 'asi-on/percpu', cmdline: 'asi=on setcpuid=retbleed ephmap=percpu' },
  { name: 'asi-on/vmalloc', cmdline: 'asi=on setcpuid=retbleed ephmap=vmalloc' },
  { name: 'pti-on', cmdline: 'pti=on' },
];

/** The seed's fio job (asi.md 2.3, src/benchmarks-wrapper.sh) without its size. */
export const SEED_JOB = ['--name=randread_tmpfs', '--rw=randread', '--blocksize=4K', '--directory=/tmp'];

export const DEFAULT_SIZE = '64M';
export const DEFAULT_SAMPLES = 3;
export const FULL_SIZE = '1G';
export const FULL_SAMPLES = 10;

export interface StartArgs {
  mode: 'experiment' | 'demo' | 'help';
  size: string;
  samples: number;
  workers: number;
  json: boolean;
  keys: boolean;
  /** Kernel parameters: added to every variant (experiment) or the demo's whole command line. */
  params: string[];
  /** Arguments after the kernel parameters' `--`: init's (appended to every command line after `--`). */
  init_args: string[];
  /** The HTML report's file, or null for none. */
  report: string | null;
  trace: TraceOptions;
  /** The variants whose first sample is traced (names, or 'all'). */
  trace_variants: string[];
}

/** Where the report goes by default (results/ is in .gitignore). */
export const DEFAULT_REPORT = 'results/start.html';
/**
 * The variant traced by default: it has ASI exits, restricted and
 * unrestricted time and IPIs (a vmap purge flushes the kernel TLB on
 * every CPU), so its timeline shows every track.
 */
export const DEFAULT_TRACE_VARIANT = 'asi-on/vmalloc';

/** Thrown for a bad option: start prints its message on one line and exits 2. */
export class StartUsageError extends Error {}

export function parse_start_args(argv: readonly string[]): StartArgs {
  const a: StartArgs = {
    mode: 'experiment', size: DEFAULT_SIZE, samples: DEFAULT_SAMPLES,
    workers: Math.max(1, Math.min(availableParallelism(), 8)), json: false, keys: false, params: [], init_args: [],
    report: DEFAULT_REPORT, trace: default_trace_options(), trace_variants: [DEFAULT_TRACE_VARIANT],
  };
  let rest: string[];
  try {
    rest = take_trace_options(argv, a.trace);
  } catch (e) {
    throw new StartUsageError(`tskernel: ${(e as Error).message}`);
  }
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    let m: RegExpExecArray | null;
    if (arg === '--') {
      // Linux's convention: after the kernel's parameters, `--` hands the rest to init.
      if (a.params.length) {
        a.init_args = rest.slice(i + 1);
        break;
      }
      continue;
    }
    if (!arg.startsWith('-')) a.params.push(arg);
    else if (arg === '--help' || arg === '-h') a.mode = 'help';
    else if (arg === '--demo') a.mode = 'demo';
    else if (arg === '--report' && i + 1 < rest.length && !rest[i + 1].startsWith('-')) a.report = rest[++i];
    else if ((m = /^--report=(.+)$/.exec(arg))) a.report = m[1];
    else if (arg === '--no-report') a.report = null;
    else if ((m = /^--trace-variant=(.+)$/.exec(arg))) a.trace_variants = m[1].split(',');
    else if (arg === '--full') [a.size, a.samples] = [FULL_SIZE, FULL_SAMPLES];
    else if ((m = /^--size=(\d+[kKmMgG]?)$/.exec(arg))) a.size = m[1];
    else if ((m = /^--samples=(\d+)$/.exec(arg)) && Number(m[1]) > 0) a.samples = Number(m[1]);
    else if ((m = /^--workers=(\d+)$/.exec(arg))) a.workers = Number(m[1]);
    else if (arg === '--json') a.json = true;
    else if (arg === '--keys') a.keys = true;
    else throw new StartUsageError(`tskernel: unknown or bad option '${arg}' (see --help)`);
  }
  return a;
}

/** Each variant's command line with the extra parameters after it (so they win), then `-- init_args`. */
export function start_variants(params: readonly string[], init_args: readonly string[] = []): Variant[] {
  const extra = params.join(' ') + (init_args.length ? ` -- ${init_args.join(' ')}` : '');
  return START_VARIANTS.map((v) => ({ name: v.name, cmdline: extra ? `${v.cmdline} ${extra}` : v.cmdline }));
}

/**
 * Read the kernel parameters alone once, with the console at KERN_INFO's
 * threshold, so what the kernel says about the command line (Linux's
 * "Unknown kernel command line parameters ..." notice) reaches stderr
 * once, not once per boot. Returns a ParamError's message, or null.
 */
export function announce_params(params: readonly string[]): string | null {
  if (!params.length) return null;
  const saved = printk_state.console_loglevel;
  printk_state.console_loglevel = KERN_INFO;
  try {
    parse_kernel_params(params.join(' '));
  } catch (e) {
    if (e instanceof ParamError) return e.message;
    throw e;
  } finally {
    printk_state.console_loglevel = saved;
  }
  return null;
}

/** `npm start -- --help`: the options, then every registered kernel parameter (from the registry). */
export function start_usage(): string {
  return `usage: npm start -- [options] [kernel parameters] [-- init arguments]

Runs the seed's experiment: the fio job ${SEED_JOB.join(' ')} --size=${DEFAULT_SIZE}
on five kernels (${START_VARIANTS.map((v) => v.name).join(', ')}), ${DEFAULT_SAMPLES} samples each,
and prints the seed's table and the counters that explain it. Kernel parameters are added to
every variant's command line (the demo's whole command line with --demo).

Options:
  --demo                the demonstration workload on one kernel instead (tools/demo)
  --full                the seed's exact job: --size=${FULL_SIZE}, ${FULL_SAMPLES} samples
  --size=SIZE           fio --size [${DEFAULT_SIZE}]
  --samples=N           samples per variant (seed=1..N) [${DEFAULT_SAMPLES}]
  --workers=N           worker threads, 0 for none [CPUs, at most 8]
  --json                the result as JSON
  --keys                every cost key in the cycles breakdown
  --report FILE         the HTML report's file [${DEFAULT_REPORT}]; --no-report for none
${TRACE_OPTIONS_HELP}  --trace-variant=NAME[,NAME...]|all
                        the variants whose first sample is traced [${DEFAULT_TRACE_VARIANT}]
  -h, --help            this text

Kernel parameters (registered by the subsystems; default, then meaning):
${format_params_help()}
Debug output: DEBUG=<namespaces> (the debug package), e.g. DEBUG=mm:* or
DEBUG=mm:asi,x86:tlb; namespaces: ${PR_DEBUG_NAMESPACES.join(', ')}.
`;
}

/**
 * Boot each variant's command line once, small, to refuse a bad one before
 * any sample runs. Returns the parameter error's message, or null.
 */
export function check_variants(vs: readonly Variant[]): string | null {
  for (const v of vs) {
    let k: Kernel;
    try {
      k = start_kernel(`mem=64M cpus=2 ${v.cmdline}`);
    } catch (e) {
      if (e instanceof ParamError) return e.message;
      throw e;
    }
    k.shutdown();
  }
  return null;
}

function int(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

const SEED_NOTE = `The seed (asi.md 2.1, 2.2; Sapphire Rapids, --size=1G, 10 samples): asi-off 1,003,102 IOPS;
asi-on with the ephmap −13.1%; the earlier page-cache-unmapped design −70%; a vmalloc-backed
ephmap "something like 10%" more. Calibration: Documentation/calibration.md.
`;

async function experiment(a: StartArgs): Promise<number> {
  printk_state.console_loglevel = 0;
  const variants = start_variants(a.params, a.init_args);
  const bad = announce_params(a.params) ?? check_variants(variants);
  if (bad !== null) {
    process.stderr.write(`tskernel: bad command line: ${bad}\n`);
    return 2;
  }
  const tty = process.stderr.isTTY === true;
  const t0 = performance.now();
  const c = await compare({
    variants, samples: a.samples, workers: a.workers, fio_args: [...SEED_JOB.slice(0, 2), `--size=${a.size}`, ...SEED_JOB.slice(2)],
    trace: { variants: a.trace_variants, opts: a.trace },
    progress: tty ? (r, d, n) => process.stderr.write(
      `[${d}/${n}] ${r.variant} #${r.sample + 1}: ${r.error ? `error: ${r.error}` : `${int(r.iops)} IOPS`} (${(r.host_ms / 1000).toFixed(1)} s)\n`)
      : undefined,
  });
  if (tty) process.stderr.write(`${c.results.length} samples in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  if (a.json) {
    // Host time is not a result: left out so the same command prints the same document.
    const doc = { ...c, results: c.results.map(({ host_ms: _h, ...r }) => r) };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  } else {
    let out = `tskernel: the seed's experiment, ${a.samples} sample${a.samples === 1 ? '' : 's'} per variant\n`;
    for (const v of variants) out += `  ${v.name.padEnd(18)} ${v.cmdline}\n`;
    out += `\n${format_compare(c, a.keys)}\n${SEED_NOTE}`;
    if (a.report) out += `\nHTML report: ${a.report}\n`;
    process.stdout.write(out);
  }
  if (a.report) {
    write_report(a.report, {
      title: `tskernel: the seed's experiment, ${a.samples} sample${a.samples === 1 ? '' : 's'} per variant`,
      command: ['npm start --', ...process.argv.slice(2)].join(' '), result: c, note: SEED_NOTE,
    });
  }
  return c.variants.some((v) => v.error) ? 1 : 0;
}

function demo(a: StartArgs): number {
  let k: Kernel;
  const cmdline = (a.params.join(' ') || 'mem=256M cpus=2') + (a.init_args.length ? ` -- ${a.init_args.join(' ')}` : '');
  try {
    const saved = printk_state.console_loglevel;
    printk_state.console_loglevel = KERN_INFO; // the boot's notices (unknown parameters) reach the console
    try {
      k = start_kernel(cmdline);
    } finally {
      printk_state.console_loglevel = saved;
    }
  } catch (e) {
    if (!(e instanceof ParamError)) throw e;
    process.stderr.write(`tskernel: bad command line: ${e.message}\n`);
    return 2;
  }
  const tracing = a.trace.trace !== null || a.trace.perfetto !== null;
  const req: TraceRequest = {
    events: a.trace.events, entries: a.trace.entries, ftrace: a.trace.trace !== null, perfetto: a.trace.perfetto !== null,
    pid: 1, process_name: `demo (${cmdline})`,
  };
  if (tracing) trace_start(k, req);
  run_demo(k, tracing ? (kk) => write_trace_files(a.trace.trace, a.trace.perfetto, [{ name: 'demo', cap: trace_capture(kk, req) }]) : undefined);
  return 0;
}

async function main(): Promise<void> {
  let a: StartArgs;
  try {
    a = parse_start_args(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof StartUsageError)) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (a.mode === 'help') {
    process.stdout.write(start_usage());
    process.exitCode = 0;
    return;
  }
  process.exitCode = a.mode === 'demo' ? demo(a) : await experiment(a);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) void main();
