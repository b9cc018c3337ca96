/*
 * tools/fio/fio.ts - `fio` for tskernel: fio's command line, run inside a
 * freshly booted simulated kernel.
 *
 * Mirrors fio's init.c/backend.c front end: parse the command line and job
 * files, print each job's header, "fio-3.33", "Starting N processes", run
 * the jobs (tools/fio/job.ts: real syscalls from simulated user
 * processes), then report in the --output-format asked for. Everything
 * reported is simulated time. The kernel command line is
 * --kernel-cmdline="..." or the environment's TSKERNEL_CMDLINE (the option
 * wins); mem= defaults to twice the jobs' files (tmpfs takes at most
 * half of RAM) plus 256 MiB and cpus= to 2, and
 * anything given replaces those defaults. A kernel that refuses to boot
 * (a bad or unimplemented parameter) is an error: exit 1, one line.
 *
 *   npx tsx tools/fio/fio.ts --name=randread_tmpfs --rw=randread --size=1G \
 *       --blocksize=4K --directory=/tmp --output-format=json+
 *
 * In json and json+ modes the progress lines fio prints ("Laying out IO
 * file") go to stderr, so stdout is the JSON document alone.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { start_kernel, type Kernel } from '../../init/main.ts';
import { ParamError } from '../../kernel/params.ts';
import { printk_state } from '../../kernel/printk.ts';
import {
  default_trace_options, take_trace_options, trace_start, trace_capture, write_trace_files,
  type TraceRequest, type TraceCapture,
} from '../lib/trace_out.ts';
import { FioError, parse_cmdline, check_job, type FioCommand } from './options.ts';
import { ThreadStat, fio_main, type FioLog, type JobEnv } from './job.ts';
import {
  FIO_VERSION, report_of, sum_reports, group_stats, job_header, show_thread_status_normal, show_group_stats, fio_json,
  type Report, type GroupStats,
} from './output.ts';

export interface FioRunOptions {
  /** Environment (TSKERNEL_CMDLINE, SOURCE_DATE_EPOCH); default process.env. */
  env?: Record<string, string | undefined>;
  /** How job files are read; default the host's file system. */
  read_file?: (path: string) => string;
  /**
   * Called with the booted kernel when the jobs are about to start
   * ('io_start', after the files are laid out) and when every job has
   * finished ('io_end'), for tools that read counters over the I/O alone
   * (tools/compare).
   */
  on_phase?: (phase: 'io_start' | 'io_end', k: Kernel) => void;
  /** Called with the kernel right after it booted, before any job runs (tools turn tracing on here). */
  on_boot?: (k: Kernel) => void;
  /** Called with the kernel after the run, before shutdown. */
  on_done?: (k: Kernel) => void;
}

export interface FioResult {
  status: number;
  stdout: string;
  stderr: string;
  /** Set when the kernel refused the command line. */
  boot_error?: string;
  /** The reports as printed (one per job, or per group with group_reporting) and the group's stats. */
  reports?: Report[];
  group?: GroupStats;
  /** Every job's own stats (before group_reporting sums them). */
  threads?: ThreadStat[];
  kernel_cmdline?: string;
}

const USAGE = `${FIO_VERSION} (tskernel: simulated jobs on a simulated kernel)
fio [options] [job options] <job file(s)>
  --output-format=type  Output format (normal,json,json+)
  --kernel-cmdline=str  tskernel's boot command line (or TSKERNEL_CMDLINE)
  --trace FILE          tskernel: the run's ftrace text; --perfetto FILE: its Perfetto JSON
  --version             Print version info and exit
  --help                Print this page
Job options: --name --rw --rwmixread --bs/--blocksize --size --filename
  --directory --numjobs --ioengine=psync|sync --iodepth --loops --runtime
  --time_based --randrepeat --randseed --group_reporting
`;

const MIB = 1048576;

/** The boot command line: defaults sized for the jobs, then TSKERNEL_CMDLINE / --kernel-cmdline. */
export function fio_kernel_cmdline(cmd: FioCommand, env: Record<string, string | undefined>): string {
  const user = cmd.kernel_cmdline ?? env.TSKERNEL_CMDLINE ?? '';
  let files = 0;
  const seen = new Set<string>();
  for (const j of cmd.jobs)
    for (let n = 0; n < j.numjobs; n++) {
      const key = j.filename || `${j.directory}/${j.name}.${n}`;
      if (seen.has(key)) continue;
      seen.add(key);
      files += j.size;
    }
  // tmpfs may fill half of RAM (shmem's default size=50%): twice the files, plus room for the rest.
  const mem = 2 * Math.ceil(files / MIB) + 256;
  return `mem=${mem}M cpus=2${user ? ' ' + user : ''}`;
}

/** Run fio with `argv` (without the program name). Never throws for bad input; returns what fio would print. */
export function run_fio(argv: readonly string[], opts: FioRunOptions = {}): FioResult {
  const env = opts.env ?? process.env;
  let stdout = '';
  let stderr = '';
  let cmd: FioCommand;
  try {
    cmd = parse_cmdline(argv, opts.read_file ?? ((p) => readFileSync(p, 'utf8')));
    if (cmd.version) return { status: 0, stdout: `${FIO_VERSION}\n`, stderr };
    if (cmd.help) return { status: 0, stdout: USAGE, stderr };
    if (!cmd.jobs.length) return { status: 1, stdout: '', stderr: `No job(s) defined\n\n${USAGE}` };
    for (const j of cmd.jobs) {
      if (!j.name) throw new FioError('fio: job without a name');
      check_job(j);
    }
  } catch (e) {
    if (e instanceof FioError) return { status: 1, stdout, stderr: e.message + '\n' };
    throw e;
  }
  const normal = cmd.output_format.includes('normal');
  const out = (s: string): void => { stdout += s; };
  const log: FioLog = {
    info: (s) => { if (normal) stdout += s; else stderr += s; },
    err: (s) => { stderr += s; },
  };

  const threads: ThreadStat[] = [];
  for (const j of cmd.jobs)
    for (let n = 0; n < j.numjobs; n++) threads.push(new ThreadStat(j, n, threads.length + 1));

  const kernel_cmdline = fio_kernel_cmdline(cmd, env);
  let k: Kernel;
  const loglevel = printk_state.console_loglevel;
  try {
    k = start_kernel(kernel_cmdline);
    printk_state.console_loglevel = loglevel; // the boot set its own: keep the caller's console quiet
  } catch (e) {
    if (!(e instanceof ParamError) && !(e instanceof RangeError)) throw e;
    const msg = `fio: tskernel refused to boot '${kernel_cmdline}': ${e.message}`;
    return { status: 1, stdout, stderr: stderr + msg + '\n', boot_error: e.message, kernel_cmdline };
  }

  opts.on_boot?.(k);
  if (normal) {
    for (const j of cmd.jobs) {
      out(job_header(j));
      if (j.numjobs > 1) out('...\n');
    }
    out(`${FIO_VERSION}\n`);
    out(`Starting ${threads.length} process${threads.length > 1 ? 'es' : ''}\n`);
  }
  for (const j of cmd.jobs)
    if (j.iodepth > 1)
      log.info(`note: both iodepth >= 1 and synchronous I/O engine are selected, queue depth will be capped at 1\n`);

  const jenv: JobEnv = { kernel_seed: k.params.seed };
  const main = fio_main(threads, jenv, log);
  k.spawn('fio', function* (u) {
    const r = yield* main(u, () => opts.on_phase?.('io_start', k));
    opts.on_phase?.('io_end', k);
    return r;
  });
  const res = k.run();
  if (res.reason !== 'done') {
    k.shutdown();
    return { status: 1, stdout, stderr: stderr + `fio: the run ended early (${res.reason})\n`, kernel_cmdline };
  }
  opts.on_done?.(k);

  const per_job = threads.map(report_of);
  const grouped = cmd.jobs.some((j) => j.group_reporting);
  const reports = grouped ? [sum_reports(per_job)] : per_job;
  const g = group_stats(per_job);
  const epoch_s = Number(env.SOURCE_DATE_EPOCH ?? 0) || 0;
  const end_ns = Math.max(...k.machine.cpus.map((c) => c.clock * 1000 / k.costs.cpu_mhz));
  const now_ms = epoch_s * 1000 + end_ns / 1e6;
  const start_ns = Math.min(...threads.map((t) => t.epoch_ns));
  const elapsed_s = Math.max(1, Math.ceil((end_ns - start_ns) / 1e9));
  k.shutdown();

  for (const fmt of cmd.output_format) {
    if (fmt === 'normal') {
      out('\n');
      for (const r of reports) out(show_thread_status_normal(r, g, Math.floor(now_ms / 1000)));
      out(show_group_stats(g, 0));
    } else {
      out(fio_json(reports, g, fmt === 'json+', now_ms, elapsed_s, cmd.global));
    }
  }
  const failed = threads.some((t) => t.error);
  return { status: failed ? 1 : 0, stdout, stderr, reports, group: g, threads, kernel_cmdline };
}

/**
 * The command: fio's options, plus the tracing options every tskernel
 * tool takes (tools/lib/trace_out.ts: --trace FILE, --perfetto FILE,
 * --trace-events=, --trace-entries=), which fio itself never sees.
 */
function fio_cli(argv: readonly string[]): number {
  const topts = default_trace_options();
  let rest: string[];
  try {
    rest = take_trace_options(argv, topts);
  } catch (e) {
    process.stderr.write(`fio: ${(e as Error).message}\n`);
    return 1;
  }
  const req: TraceRequest = {
    events: topts.events, entries: topts.entries, ftrace: topts.trace !== null, perfetto: topts.perfetto !== null,
    pid: 1, process_name: 'fio',
  };
  const tracing = req.ftrace || req.perfetto;
  let cap: TraceCapture | null = null;
  const r = run_fio(rest, tracing ? {
    on_boot: (k) => { trace_start(k, req); },
    on_done: (k) => { cap = trace_capture(k, req); },
  } : {});
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (cap) write_trace_files(topts.trace, topts.perfetto, [{ name: 'fio', cap }]);
  return r.status;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  printk_state.console_loglevel = 0;
  process.exitCode = fio_cli(process.argv.slice(2));
}
