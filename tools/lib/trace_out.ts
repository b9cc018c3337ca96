/*
 * tools/lib/trace_out.ts - `--trace FILE` and `--perfetto FILE` for the tools.
 *
 * No Linux counterpart as a file: what `trace-cmd record -e ...` followed
 * by `trace-cmd report` (ftrace text) or a Perfetto capture does around a
 * workload, for the kernels the tools boot. After the boot the tool turns
 * on the events (set_event syntax; by default the ones the Perfetto view
 * folds into tracks: sched_switch, raw_syscalls, asi, tlb, ipi and the PMU
 * samples), runs, and before shutdown reads the ftrace text and/or the
 * Chrome JSON object (kernel/trace/trace_perfetto.ts).
 *
 * Bounded: the ring buffer keeps at most `entries` per CPU (overwrite mode,
 * as ftrace's default: the newest win), so a long run's trace is the end
 * of the run, and the files say how many entries were lost ("otherData" in
 * the JSON; "entries-in-buffer/entries-written" and "##### CPU n buffer
 * started" in the text). --trace-entries=N changes the bound.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Kernel } from '../../init/main.ts';
import { set_event, tracing_resize_ring_buffer, chrome_trace_json, type ChromeTrace } from '../../kernel/trace/index.ts';

/** What the Perfetto view makes tracks of. */
export const TRACE_DEFAULT_EVENTS = 'sched:sched_switch,raw_syscalls:*,asi:*,tlb:*,ipi:*,pmu:*';
/** Entries per CPU kept by a traced run (the ring buffer's size; Linux's buffer_size_kb). */
export const TRACE_DEFAULT_ENTRIES = 65536;

export interface TraceRequest {
  /** set_event syntax ("asi:*,tlb:tlb_flush"). */
  events: string;
  /** Ring buffer entries per CPU. */
  entries: number;
  ftrace: boolean;
  perfetto: boolean;
  /** Perfetto process for this kernel's tracks. */
  pid: number;
  process_name: string;
}

export interface TraceCapture {
  ftrace?: string;
  perfetto?: ChromeTrace;
}

/** After the boot: a buffer of the requested size and the requested events on. */
export function trace_start(_k: Kernel, req: TraceRequest): string[] {
  tracing_resize_ring_buffer(req.entries);
  return set_event(req.events, true);
}

/** Before shutdown: what was asked for, read without consuming. */
export function trace_capture(k: Kernel, req: TraceRequest): TraceCapture {
  const out: TraceCapture = {};
  if (req.ftrace) out.ftrace = k.trace();
  if (req.perfetto) out.perfetto = k.trace_perfetto({ pid: req.pid, process_name: req.process_name });
  return out;
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Several kernels' Chrome traces as one file (one process each). */
export function merge_chrome_traces(ts: readonly ChromeTrace[]): ChromeTrace {
  const out: ChromeTrace = { traceEvents: [], displayTimeUnit: 'ns' };
  const other: Record<string, unknown> = {};
  for (const t of ts) {
    out.traceEvents.push(...t.traceEvents);
    if (t.otherData) {
      const pname = t.traceEvents.find((e) => e.name === 'process_name')?.args?.name;
      other[String(pname ?? Object.keys(other).length)] = t.otherData;
    }
  }
  if (Object.keys(other).length) out.otherData = other;
  return out;
}

/** Write the files the options asked for; the ftrace texts of several kernels follow each other. */
export function write_trace_files(trace_file: string | null, perfetto_file: string | null,
  caps: readonly { name: string; cap: TraceCapture }[]): void {
  if (trace_file) {
    const text = caps.length === 1
      ? caps[0].cap.ftrace ?? ''
      : caps.map((c) => `# kernel: ${c.name}\n${c.cap.ftrace ?? ''}`).join('\n');
    write(trace_file, text);
  }
  if (perfetto_file) {
    const ts = caps.map((c) => c.cap.perfetto).filter((t): t is ChromeTrace => t !== undefined);
    write(perfetto_file, chrome_trace_json(ts.length === 1 ? ts[0] : merge_chrome_traces(ts)));
  }
}

/** The tracing options every tool takes. */
export interface TraceOptions {
  trace: string | null;
  perfetto: string | null;
  events: string;
  entries: number;
}

export function default_trace_options(): TraceOptions {
  return { trace: null, perfetto: null, events: TRACE_DEFAULT_EVENTS, entries: TRACE_DEFAULT_ENTRIES };
}

/**
 * Take the tracing options out of argv: `--trace FILE`, `--trace=FILE`,
 * `--perfetto FILE`, `--perfetto=FILE`, `--trace-events=LIST`,
 * `--trace-entries=N`. Returns the rest, in order; throws Error on a bad one.
 */
export function take_trace_options(argv: readonly string[], o: TraceOptions): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    let m: RegExpExecArray | null;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if ((m = /^--(trace|perfetto)(?:=(.*))?$/.exec(a))) {
      const file = m[2] ?? argv[++i];
      if (!file || (m[2] === undefined && file.startsWith('-'))) throw new Error(`--${m[1]}: missing file name`);
      if (m[1] === 'trace') o.trace = file;
      else o.perfetto = file;
    } else if ((m = /^--trace-events=(.+)$/.exec(a))) o.events = m[1];
    else if ((m = /^--trace-entries=(\d+)$/.exec(a)) && Number(m[1]) > 0) o.entries = Number(m[1]);
    else if (/^--trace-(events|entries)/.test(a)) throw new Error(`bad option '${a}'`);
    else rest.push(a);
  }
  return rest;
}

/** The help lines for the tracing options. */
export const TRACE_OPTIONS_HELP = `  --trace FILE          write the ftrace text (the \`trace\` file) of the traced run
  --perfetto FILE       write Chrome JSON for ui.perfetto.dev: CPU tracks with task, syscall,
                        IPI and ASI slices, exits and flushes as instants, IPI flow arrows,
                        counter tracks (cycles, dTLB-load-misses, asi_exits)
  --trace-events=LIST   events to trace, set_event syntax [${TRACE_DEFAULT_EVENTS}]
  --trace-entries=N     ring buffer entries per CPU; the oldest are overwritten [${TRACE_DEFAULT_ENTRIES}]
`;
