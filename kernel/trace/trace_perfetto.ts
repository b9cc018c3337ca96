/*
 * kernel/trace/trace_perfetto.ts - the trace as Chrome Trace Event JSON, for
 * ui.perfetto.dev (or chrome://tracing).
 *
 * No Linux counterpart (Linux gets there through trace-cmd or Perfetto's own
 * ftrace reader). Layout: one process, pid 0, named "kernel", with one
 * thread track per CPU (tid = CPU number, thread_name "CPU n", sorted by
 * CPU), so the view reads like `trace` split by CPU column. Tracepoints are
 * thread-scoped instants ('i', s:'t') named by the event, category = the
 * system, args = the raw fields plus common_pid and common_comm (the task
 * that was running). Spans (trace_marker.ts) are 'B'/'E' slices on their
 * CPU's track. Time stamps are microseconds (floating point) of the
 * emulated clock; displayTimeUnit "ns" keeps Perfetto showing nanoseconds.
 * Reading does not consume the buffer.
 */
import { trace_state } from './trace.ts';
import { ring_buffer_iter } from './ring_buffer.ts';

/** One Chrome Trace Event ("JSON Object Format"). */
export interface ChromeTraceEvent {
  name: string;
  ph: 'i' | 'B' | 'E' | 'X' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  cat?: string;
  /** Scope of an instant: 't' thread (track). */
  s?: 't' | 'p' | 'g';
  dur?: number;
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ns' | 'ms';
}

/** The pid of the process holding the CPU tracks. */
export const PERFETTO_KERNEL_PID = 0;

/** The trace as a Chrome Trace Event object. */
export function trace_perfetto(): ChromeTrace {
  const buffer = trace_state.buffer;
  const pid = PERFETTO_KERNEL_PID;
  const ev: ChromeTraceEvent[] = [
    { name: 'process_name', ph: 'M', pid, tid: 0, args: { name: 'kernel' } },
  ];
  const nr_cpus = Math.max(trace_state.nr_cpus, buffer.buffers.length);
  for (let cpu = 0; cpu < nr_cpus; cpu++) {
    ev.push({ name: 'thread_name', ph: 'M', pid, tid: cpu, args: { name: `CPU ${cpu}` } });
    ev.push({ name: 'thread_sort_index', ph: 'M', pid, tid: cpu, args: { sort_index: cpu } });
  }
  for (const e of ring_buffer_iter(buffer)) {
    const ts = e.ts_ns / 1000;
    if (e.ph === 'E') {
      ev.push({ name: e.name, cat: e.tp.system, ph: 'E', ts, pid, tid: e.cpu });
      continue;
    }
    const args: Record<string, unknown> = { ...e.fields, common_pid: e.pid, common_comm: e.comm };
    if (e.ph === 'B') ev.push({ name: e.name, cat: e.tp.system, ph: 'B', ts, pid, tid: e.cpu, args });
    else ev.push({ name: e.name, cat: e.tp.system, ph: 'i', s: 't', ts, pid, tid: e.cpu, args });
  }
  return { traceEvents: ev, displayTimeUnit: 'ns' };
}

/** The trace as JSON text, one event per line (diff-friendly, still valid JSON). */
export function trace_perfetto_json(): string {
  const t = trace_perfetto();
  const lines = t.traceEvents.map((e) => JSON.stringify(e));
  return `{"traceEvents":[\n${lines.join(',\n')}\n],"displayTimeUnit":${JSON.stringify(t.displayTimeUnit)}}\n`;
}
