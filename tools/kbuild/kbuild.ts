/*
 * tools/kbuild/kbuild.ts - a kernel-build-like workload, with asi=off and asi=on side by side.
 *
 * No Linux counterpart: the seed's second benchmark (a kernel compile:
 * asi-off 34.84 s, asi-on 37.50 s, +7.6%) in miniature. A make process
 * forks and execs cc1 jobs, -j at a time (tools/kbuild/programs.ts); each
 * reads sources and headers from tmpfs, grows its heap with mmap (page
 * faults, zeroed pages), computes, writes an object and exits; make
 * waits with wait4 and takes SIGCHLD. Reported over the build phase alone
 * (the tree's layout left out): the modelled elapsed time, the ASI exits
 * per second by reason, context switches per second, and the exit sites,
 * for each kernel command line. Nothing here is fitted: the asi-on delta
 * is what the mechanisms produce.
 *
 *   npx tsx tools/kbuild/kbuild.ts [--units-per-cpu=N] [-jJ] [--cpus=N] [--seed=N]
 *       [--size=F] [--cycles-per-byte=N] [--heap-per-byte=N] [--json] [name="kernel cmdline" ...]
 *   npm run kbuild
 *   npx tsx tools/compare/compare.ts --workload=kbuild [variants] [-- kbuild options]
 *
 * Defaults: cpus=4, 8 units per CPU, -j = cpus (make -j$(nproc)), the
 * variants asi-off="asi=off" and asi-on="asi=on setcpuid=retbleed" (the
 * seed's benchmark: an IBPB in every asi_exit). --size scales every
 * source and header size.
 */
import { fileURLToPath } from 'node:url';
import { start_kernel, type Kernel } from '../../init/main.ts';
import { printk_state } from '../../kernel/printk.ts';
import { nr_context_switches } from '../../kernel/sched/core.ts';
import { ASI_EXIT_REASON_NAMES } from '../../include/linux/asi.ts';
import { COST_KEY_INDEX } from '../../arch/x86/hw/costs.ts';
import { make, cc1, DEFAULT_KBUILD, type KbuildParams, type MakeLog } from './programs.ts';

const K_USER_WORK = COST_KEY_INDEX.user_work;

export interface KbuildVariant {
  name: string;
  cmdline: string;
}

export const DEFAULT_KBUILD_VARIANTS: KbuildVariant[] = [
  { name: 'asi-off', cmdline: 'asi=off' },
  { name: 'asi-on', cmdline: 'asi=on setcpuid=retbleed' },
];

export interface KbuildOptions {
  cpus: number;
  mem_mb: number;
  units_per_cpu: number;
  /** make -j; 0: the number of CPUs. */
  jobs: number;
  size: number;
  seed: number;
  /** cc1's user cycles per input byte and heap bytes per input byte (DEFAULT_KBUILD's unless given). */
  cycles_per_byte?: number;
  heap_per_byte?: number;
}

export const DEFAULT_KBUILD_OPTIONS: KbuildOptions = { cpus: 4, mem_mb: 512, units_per_cpu: 8, jobs: 0, size: 1, seed: 1 };

export interface KbuildResult {
  name: string;
  cmdline: string;
  error?: string;
  units: number;
  built: number;
  sigchld: number;
  /** The build phase, modelled: elapsed ns (make's clock), and per CPU busy cycles. */
  elapsed_ns: number;
  /** Counters over the build phase. */
  context_switches: number;
  vmstat: Record<string, number>;
  exit_sites: Record<string, number>;
  /** Per second of modelled time. */
  exits_per_s: Record<string, number>;
  context_switches_per_s: number;
  /** CPU time over the build phase, summed over CPUs: busy cycles, and those spent in user code (user_work). */
  busy_cycles: number;
  user_cycles: number;
}

function sum(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0);
}

/** The workload's parameters for `o`. */
export function kbuild_params(o: KbuildOptions): KbuildParams {
  const scale = (r: [number, number]): [number, number] => [Math.max(1, Math.round(r[0] * o.size)), Math.max(2, Math.round(r[1] * o.size))];
  return {
    ...DEFAULT_KBUILD,
    src_kib: scale(DEFAULT_KBUILD.src_kib),
    hdr_kib: scale(DEFAULT_KBUILD.hdr_kib),
    units: o.units_per_cpu * o.cpus,
    jobs: o.jobs > 0 ? o.jobs : o.cpus,
    seed: o.seed,
    cycles_per_byte: o.cycles_per_byte ?? DEFAULT_KBUILD.cycles_per_byte,
    heap_per_byte: o.heap_per_byte ?? DEFAULT_KBUILD.heap_per_byte,
  };
}

/** The build's start and end, with the kernel running it (tools/kbuild/sample.ts snapshots its counters). */
export type KbuildPhaseHook = (phase: 'build_start' | 'build_end', k: Kernel) => void;

/** One build on a fresh kernel booted with `cmdline` (cpus=, mem= and seed= are added unless given). */
export function run_kbuild(v: KbuildVariant, o: KbuildOptions = DEFAULT_KBUILD_OPTIONS, on_phase?: KbuildPhaseHook): KbuildResult {
  const params = kbuild_params(o);
  const out: KbuildResult = {
    name: v.name, cmdline: v.cmdline, units: params.units, built: 0, sigchld: 0, elapsed_ns: 0, context_switches: 0,
    vmstat: {}, exit_sites: {}, exits_per_s: {}, context_switches_per_s: 0, busy_cycles: 0, user_cycles: 0,
  };
  const has = (key: string): boolean => new RegExp(`(^|\\s)${key}=`).test(v.cmdline);
  const cmdline = [v.cmdline, has('cpus') ? '' : `cpus=${o.cpus}`, has('mem') ? '' : `mem=${o.mem_mb}M`, has('seed') ? '' : `seed=${o.seed}`]
    .filter((s) => s).join(' ');
  let k: Kernel;
  try {
    k = start_kernel(cmdline);
  } catch (e) {
    out.error = (e as Error).message.split('\n')[0];
    return out;
  }
  const log: MakeLog = { built: 0, failed: 0, sigchld: 0 };
  let t0 = 0;
  let vm0: Record<string, number> = {};
  let cs0 = 0;
  let sites0: Record<string, number> = {};
  let busy0 = 0;
  let user0 = 0;
  const busy = (): number => sum(k.machine.cpus.map((c) => c.busy_cycles));
  const user = (): number => sum(k.machine.cpus.map((c) => c.cost_events[K_USER_WORK] * c.cost_cycles[K_USER_WORK]));
  const now_ns = (): number => Math.max(...k.machine.cpus.map((c) => c.clock)) / (k.costs.cpu_mhz / 1000);
  k.register_program('cc1', cc1(params));
  k.spawn('make', make(params, log, {
    build_start: () => {
      t0 = now_ns();
      vm0 = k.vmstat();
      cs0 = sum(nr_context_switches());
      sites0 = k.asi_exit_sites();
      busy0 = busy();
      user0 = user();
      on_phase?.('build_start', k);
    },
    build_end: () => {
      out.elapsed_ns = now_ns() - t0;
      const vm = k.vmstat();
      for (const [key, x] of Object.entries(vm)) {
        const d = x - (vm0[key] ?? 0);
        if (d !== 0 && !/^nr_/.test(key)) out.vmstat[key] = d;
      }
      out.context_switches = sum(nr_context_switches()) - cs0;
      out.busy_cycles = busy() - busy0;
      out.user_cycles = user() - user0;
      for (const [site, n] of Object.entries(k.asi_exit_sites())) {
        const d = n - (sites0[site] ?? 0);
        if (d) out.exit_sites[site] = d;
      }
      on_phase?.('build_end', k);
    },
  }));
  const r = k.run();
  if (r.reason !== 'done' || r.exited[0]?.status !== 0) out.error = `make: ${r.reason}, status ${r.exited[0]?.status}`;
  out.built = log.built;
  out.sigchld = log.sigchld;
  const secs = out.elapsed_ns / 1e9;
  if (secs > 0) {
    out.exits_per_s.asi_exits = (out.vmstat.asi_exits ?? 0) / secs;
    for (const name of ASI_EXIT_REASON_NAMES) out.exits_per_s[name] = (out.vmstat[name] ?? 0) / secs;
    out.context_switches_per_s = out.context_switches / secs;
  }
  k.shutdown();
  return out;
}

function fmt(x: number, digits = 0): string {
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The side-by-side report. */
export function format_kbuild(rs: KbuildResult[], o: KbuildOptions): string {
  const p = kbuild_params(o);
  const lines: string[] = [];
  lines.push(`kbuild: ${p.units} units, make -j${p.jobs}, cpus=${o.cpus}, seed=${o.seed}, size=${o.size}`);
  const base = rs[0];
  const cols = rs.map((r) => r.name);
  const row = (label: string, vals: string[]): string => `${label.padEnd(34)}${vals.map((s) => s.padStart(16)).join('')}`;
  lines.push(row('', cols));
  lines.push(row('elapsed (modelled, ms)', rs.map((r) => (r.error ? 'error' : fmt(r.elapsed_ns / 1e6, 3)))));
  lines.push(row('  delta vs first', rs.map((r) => (r === base || r.error || base.error ? '' : `${fmt((r.elapsed_ns / base.elapsed_ns - 1) * 100, 2)}%`))));
  lines.push(row('units built / SIGCHLD taken', rs.map((r) => `${r.built} / ${r.sigchld}`)));
  lines.push(row('CPU time: user / kernel (%)', rs.map((r) => (r.busy_cycles
    ? `${fmt((r.user_cycles / r.busy_cycles) * 100, 1)} / ${fmt((1 - r.user_cycles / r.busy_cycles) * 100, 1)}` : ''))));
  lines.push(row('context switches /s', rs.map((r) => fmt(r.context_switches_per_s))));
  lines.push(row('ASI exits /s', rs.map((r) => fmt(r.exits_per_s.asi_exits ?? 0))));
  for (const name of ASI_EXIT_REASON_NAMES) lines.push(row(`  ${name.replace('asi_exit_', '')} /s`, rs.map((r) => fmt(r.exits_per_s[name] ?? 0))));
  for (const key of ['pgfault', 'nr_tlb_remote_flush', 'nr_tlb_local_flush_all', 'pgalloc_normal']) {
    if (rs.some((r) => r.vmstat[key])) lines.push(row(`${key} /s`, rs.map((r) => fmt((r.vmstat[key] ?? 0) / (r.elapsed_ns / 1e9 || 1)))));
  }
  for (const r of rs) {
    const sites = Object.entries(r.exit_sites).sort((a, b) => b[1] - a[1]).slice(0, 8);
    if (!sites.length) continue;
    lines.push(`ASI page-fault exits by site (${r.name}, build phase):`);
    for (const [s, n] of sites) lines.push(`  ${s.padEnd(40)}${fmt(n).padStart(12)}`);
  }
  for (const r of rs) if (r.error) lines.push(`${r.name}: error: ${r.error}`);
  return lines.join('\n');
}

export function parse_kbuild_args(argv: readonly string[]): { o: KbuildOptions; variants: KbuildVariant[]; json: boolean } {
  const o = { ...DEFAULT_KBUILD_OPTIONS };
  const variants: KbuildVariant[] = [];
  let json = false;
  for (const a of argv) {
    let m: RegExpMatchArray | null;
    if ((m = a.match(/^--units-per-cpu=(\d+)$/))) o.units_per_cpu = Number(m[1]);
    else if ((m = a.match(/^(?:-j|--jobs=)(\d+)$/))) o.jobs = Number(m[1]);
    else if ((m = a.match(/^--cpus=(\d+)$/))) o.cpus = Number(m[1]);
    else if ((m = a.match(/^--mem=(\d+)M?$/))) o.mem_mb = Number(m[1]);
    else if ((m = a.match(/^--seed=(\d+)$/))) o.seed = Number(m[1]);
    else if ((m = a.match(/^--size=([\d.]+)$/))) o.size = Number(m[1]);
    else if ((m = a.match(/^--cycles-per-byte=(\d+)$/))) o.cycles_per_byte = Number(m[1]);
    else if ((m = a.match(/^--heap-per-byte=(\d+)$/))) o.heap_per_byte = Number(m[1]);
    else if (a === '--json') json = true;
    else if ((m = a.match(/^([\w.-]+)=(.*)$/))) variants.push({ name: m[1], cmdline: m[2] });
    else throw new Error(`kbuild: unknown argument '${a}'`);
  }
  return { o, variants: variants.length ? variants : DEFAULT_KBUILD_VARIANTS, json };
}

const USAGE = `usage: npm run kbuild -- [options] [name="kernel command line" ...]

A make -jJ parent forks and execs cc1 jobs that read sources and headers from
tmpfs, grow a heap, write an object and exit; each named kernel command line
is booted and built in turn (default: asi-off="asi=off" and
asi-on="asi=on setcpuid=retbleed").

  --units-per-cpu=N     compile units per CPU [${DEFAULT_KBUILD_OPTIONS.units_per_cpu}]
  -jN, --jobs=N         parallel cc1 jobs [the CPU count]
  --cpus=N              CPUs of each kernel [${DEFAULT_KBUILD_OPTIONS.cpus}]
  --mem=N[M]            memory of each kernel, MiB [${DEFAULT_KBUILD_OPTIONS.mem_mb}]
  --seed=N              the tree's sizes and includes, and the kernel's seed= [${DEFAULT_KBUILD_OPTIONS.seed}]
  --size=F              scale every source and header size [${DEFAULT_KBUILD_OPTIONS.size}]
  --cycles-per-byte=N   cc1's user cycles per input byte (estimate) [${DEFAULT_KBUILD.cycles_per_byte}]
  --heap-per-byte=N     cc1's heap bytes per input byte (estimate) [${DEFAULT_KBUILD.heap_per_byte}]
  --json                the results as JSON
  --help                this text
`;

function main(argv: readonly string[]): number {
  printk_state.console_loglevel = 0;
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let args: ReturnType<typeof parse_kbuild_args>;
  try {
    args = parse_kbuild_args(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  const rs = args.variants.map((v) => run_kbuild(v, args.o));
  process.stdout.write(args.json ? `${JSON.stringify(rs, null, 2)}\n` : `${format_kbuild(rs, args.o)}\n`);
  return rs.some((r) => r.error) ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
