/*
 * kernel/trace/perf_stat.ts - print event counters the way `perf stat` does.
 *
 * Mirrors tools/perf/util/stat-display.c (print_header, abs_printout with
 * big_num: "%'18.0f " then "%-4s " unit then "%-32s" name; print_metric_std:
 * " # " metric; print_footer: " %17.9f seconds time elapsed") and the shadow
 * metrics of tools/perf/util/stat-shadow.c: "CPUs utilized" for a clock
 * event, "GHz" for cycles, "insn per cycle" for instructions, and
 * "/sec", "K/sec", "M/sec", "G/sec" rates for everything else.
 * Simplified: one run (no noise column), no CSV/JSON, no groups or
 * multiplexing, trailing blanks trimmed. Deterministic: time comes only
 * from the options, never from a clock.
 *
 * Time base. perf divides by the clock event's nanoseconds. A counter named
 * "task-clock" or "cpu-clock" (values in ns) is that clock and prints as
 * msec; without one, and given the elapsed time, the clock is the elapsed
 * time on every CPU (what `perf stat -a` counts as cpu-clock).
 *
 * Work, not sleep. perf's cycles event counts unhalted cycles
 * (CPU_CLK_UNHALTED stops while a CPU waits in HLT or MWAIT) and
 * task-clock counts the time tasks were on a CPU; neither counts sleep,
 * and a kernel developer reads them as the cost of the work. So
 * Kernel.perf_stat() prints task-clock (busy time, with "CPUs utilized"
 * against the elapsed time), cycles (busy cycles, so a patch's extra work
 * is not diluted by time spent asleep; "GHz" is then cycles per busy
 * second), and idle-cycles: the cycles each CPU waited for a timer, an
 * IPI or a wake-up, with the share of that CPU's time they are ("idle").
 * perf has no event of that name; the nearest is the C-state residency
 * counter cstate_core/c1-residency/. "seconds time elapsed" stays the
 * wall time, busy and idle: the latest CPU clock.
 */

/** Per-CPU values of one counter (a plain array or a Float64Array row). */
export type PerfCounts = ArrayLike<number>;

export interface PerfStatOptions {
  /** Shown as "Performance counter stats for '<target>'"; default 'system wide'. */
  target?: string;
  /** One line per CPU per counter, "CPU0 ..." (perf stat -A / --no-aggr). */
  per_cpu?: boolean;
  /**
   * With per_cpu: also the line summed over CPUs after each counter's
   * per-CPU lines (perf prints one or the other; both side by side read
   * as "which CPU did it" and "how much in all"). Default false.
   */
  aggregate?: boolean;
  /** Wall time of the run in ns; or give elapsed_cycles and cpu_ghz. */
  elapsed_ns?: number;
  elapsed_cycles?: number;
  cpu_ghz?: number;
  /** CPUs in the run; default the longest counter array. */
  nr_cpus?: number;
  /** A metric to print instead of the derived one, by counter name ("%8.3f" value, then unit). */
  metrics?: Record<string, { value: number; unit: string }>;
}

const COUNTS_LEN = 18;
const UNIT_WIDTH = 4;
const EVNAME_LEN = 32;

/** "%'.Nf": fixed decimals with thousands separators (the C locale's "," grouping). */
function big_num(v: number, decimals: number): string {
  const s = Math.abs(v).toFixed(decimals);
  const dot = s.indexOf('.');
  const int = dot < 0 ? s : s.slice(0, dot);
  const frac = dot < 0 ? '' : s.slice(dot);
  let g = '';
  for (let i = 0; i < int.length; i++) {
    if (i > 0 && (int.length - i) % 3 === 0) g += ',';
    g += int[i];
  }
  return (v < 0 && Number(s) !== 0 ? '-' : '') + g + frac;
}

/** convert_unit_double(): scale a rate to K, M or G. */
function convert_unit_double(value: number): { value: number; unit: string } {
  let unit = '';
  if (value > 1000) { value /= 1000; unit = 'K'; }
  if (value > 1000) { value /= 1000; unit = 'M'; }
  if (value > 1000) { value /= 1000; unit = 'G'; }
  return { value, unit };
}

/** print_metric_std(): " # ", the value as "%<width>.<decimals>f" plus `trail`, " ", the unit. */
function metric(width: number, decimals: number, trail: string, value: number, unit: string): string {
  return ' # ' + value.toFixed(decimals).padStart(width) + trail + ' ' + unit;
}

function is_clock(name: string): boolean {
  return name === 'task-clock' || name === 'cpu-clock';
}

function sum(a: PerfCounts | undefined, cpu: number): number {
  if (!a) return 0;
  if (cpu >= 0) return a[cpu] ?? 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] ?? 0;
  return s;
}

/**
 * Format `counters` (name -> per-CPU values, printed in key order) as
 * `perf stat` prints them, header and footer included.
 */
export function perf_stat_format(counters: Readonly<Record<string, PerfCounts>>, opts: PerfStatOptions = {}): string {
  const names = Object.keys(counters);
  let nr_cpus = opts.nr_cpus ?? 0;
  for (const n of names) nr_cpus = Math.max(nr_cpus, counters[n].length);
  nr_cpus = Math.max(nr_cpus, 1);

  let elapsed_ns = opts.elapsed_ns;
  if (elapsed_ns === undefined && opts.elapsed_cycles !== undefined && opts.cpu_ghz)
    elapsed_ns = opts.elapsed_cycles / opts.cpu_ghz;

  const clock_name = names.find(is_clock);
  const clock = clock_name !== undefined ? counters[clock_name] : undefined;
  /** The clock's nanoseconds for one CPU (cpu >= 0) or all (cpu = -1); undefined if unknown. */
  const clock_ns = (cpu: number): number | undefined => {
    if (clock) return sum(clock, cpu);
    if (elapsed_ns === undefined) return undefined;
    return cpu >= 0 ? elapsed_ns : elapsed_ns * nr_cpus;
  };

  const line = (name: string, cpu: number, label = ''): string => {
    const v = sum(counters[name], cpu);
    const clk = is_clock(name);
    let s = cpu >= 0 ? 'CPU' + String(cpu).padEnd(7) + ' ' : label ? label.padEnd(10) + ' ' : '';
    s += (clk ? big_num(v / 1e6, 2) : big_num(v, 0)).padStart(COUNTS_LEN) + ' ';
    s += (clk ? 'msec' : '').padEnd(UNIT_WIDTH) + ' ';
    s += name.padEnd(EVNAME_LEN);

    const given = cpu < 0 ? opts.metrics?.[name] : undefined;
    const ns = clock_ns(cpu);
    if (given) {
      s += metric(8, 3, '', given.value, given.unit);
    } else if (clk) {
      if (elapsed_ns) s += metric(8, 3, '', v / elapsed_ns, 'CPUs utilized');
    } else if (name === 'cycles') {
      if (ns !== undefined) s += metric(8, 3, '', ns ? v / ns : 0, 'GHz');
    } else if (name === 'idle-cycles' && counters['cycles'] !== undefined) {
      const all = sum(counters['cycles'], cpu) + v;
      s += metric(7, 2, '%', all ? (100 * v) / all : 0, 'idle');
    } else if (name === 'instructions' && counters['cycles'] !== undefined) {
      const cyc = sum(counters['cycles'], cpu);
      s += metric(7, 2, ' ', cyc ? v / cyc : 0, 'insn per cycle');
    } else if (ns !== undefined) {
      const r = convert_unit_double(ns ? (1e9 * v) / ns : 0);
      s += metric(8, 3, '', r.value, `${r.unit}/sec`);
    }
    return s.trimEnd() + '\n';
  };

  let out = `\n Performance counter stats for '${opts.target ?? 'system wide'}':\n\n`;
  for (const name of names) {
    if (opts.per_cpu) {
      for (let cpu = 0; cpu < nr_cpus; cpu++) out += line(name, cpu);
      if (opts.aggregate) out += line(name, -1, 'all');
    } else out += line(name, -1);
  }
  if (elapsed_ns !== undefined)
    out += '\n ' + (elapsed_ns / 1e9).toFixed(9).padStart(17) + ' seconds time elapsed\n';
  return out + '\n';
}
