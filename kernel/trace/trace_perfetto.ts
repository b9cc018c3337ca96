/*
 * kernel/trace/trace_perfetto.ts - the trace as Chrome Trace Event JSON, for
 * ui.perfetto.dev (or chrome://tracing).
 *
 * No Linux counterpart (Linux gets there through trace-cmd or Perfetto's own
 * ftrace reader, which does the same folding of events into slices). Layout:
 * one process (pid 0, "kernel", unless the caller names another so several
 * kernels can share a file), with per CPU
 *   - "CPU n" (tid = pid * 10000 + n): the task running (a slice per
 *     sched_switch interval, named by comm), inside it each syscall
 *     (raw_syscalls:sys_enter to sys_exit, named by the syscall when the
 *     caller gives the names), inside that each IPI handler
 *     (ipi:ipi_entry to ipi_exit); tlb:tlb_flush, ipi:ipi_send_cpumask
 *     and every other tracepoint as thread-scoped instants ('i', s:'t')
 *     named by the event, category = the system, args = the raw fields plus
 *     common_pid and common_comm; trace_marker spans as 'B'/'E';
 *   - "CPU n ASI" (tid + 1000, only if ASI events were traced): "restricted"
 *     from asi:asi_enter to the next asi:asi_exit, "unrestricted" from an
 *     exit to the next enter, and each exit as an instant with its reason
 *     and site (the faulting kernel site, from asi:asi_exit_pf, for a page
 *     fault);
 *   - counter tracks ('C') "CPU n cycles", "CPU n dTLB-load-misses",
 *     "CPU n asi_exits" from pmu:pmu_sample;
 *   - a flow arrow (v1 flow events: 's' on the sender, 'f' with bp:'e' on
 *     the receiver) from each ipi_send_cpumask to each receiver's handler,
 *     paired in order per receiver (a cross-call's handlers run before the
 *     sender goes on, so the n-th IPI sent to a CPU is the n-th it takes).
 * Slices are complete events ('X') whose durations are computed here, so
 * begin and end always match: a syscall a context switch interrupts (it
 * slept) ends at the switch and its sys_exit, when it comes, closes a
 * "<name> (resumed)" slice from the switch-in; an end whose begin was
 * overwritten in the ring buffer is dropped; anything open at the end of
 * the buffer ends at that CPU's last event. Events are sorted by time
 * (parents before children at equal times), so every track is monotonic.
 * Time stamps are microseconds (floating point) of the emulated clock;
 * displayTimeUnit "ns" keeps Perfetto showing nanoseconds. Reading does not
 * consume the buffer. The buffer is bounded (ring_buffer.ts: overwrite
 * mode), so a file is too; otherData.lost_events says how many of the
 * oldest entries it no longer holds.
 */
import { trace_state } from './trace.ts';
import { trace_find_event } from './trace_events.ts';
import { ring_buffer_iter, ring_buffer_overruns, type TraceEntry } from './ring_buffer.ts';

/** One Chrome Trace Event ("JSON Object Format"). */
export interface ChromeTraceEvent {
  name: string;
  ph: 'i' | 'B' | 'E' | 'X' | 'M' | 'C' | 's' | 'f';
  pid: number;
  tid: number;
  ts?: number;
  cat?: string;
  /** Scope of an instant: 't' thread (track). */
  s?: 't' | 'p' | 'g';
  dur?: number;
  /** Flow id ('s'/'f'). */
  id?: number;
  /** Flow binding point: 'e' binds the flow's end to the enclosing slice. */
  bp?: 'e';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ns' | 'ms';
  /** Free-form metadata (Chrome's "otherData"): set when the ring buffer lost entries. */
  otherData?: Record<string, unknown>;
}

/** The pid of the process holding the CPU tracks. */
export const PERFETTO_KERNEL_PID = 0;

/** tid offsets of a CPU's tracks within a process (tid = pid * 10000 + offset + cpu). */
const TID_CPU = 0;
const TID_ASI = 1000;
const TIDS_PER_PID = 10000;

export interface PerfettoOptions {
  /** Process id and name for the tracks (several kernels can share one file). */
  pid?: number;
  process_name?: string;
  /** Names syscall slices ('read'); without it they are "NR n". */
  syscall_name?: (nr: number) => string;
  /** First flow id (ids must be unique in a file). */
  flow_id_base?: number;
}

interface OpenSlice {
  name: string;
  start: number;
  cat: string;
  args: Record<string, unknown>;
  /** The flow (IPI arrow) that ends in this slice. */
  flow?: number;
}

interface CpuState {
  task: OpenSlice | null;
  task_pid: number;
  sys: OpenSlice | null;
  sys_nr: number;
  ipi: OpenSlice | null;
  asi: OpenSlice | null;
  /** Open trace_marker spans: only their count matters for matching 'E'. */
  spans: number;
  last_ts: number;
  /** The last ASI exit instant, for asi_exit_pf to name its site. */
  last_exit: ChromeTraceEvent | null;
}

function fresh_cpu(): CpuState {
  return { task: null, task_pid: 0, sys: null, sys_nr: -1, ipi: null, asi: null, spans: 0, last_ts: 0, last_exit: null };
}

const us = (ns: number): number => ns / 1000;

/** The trace as a Chrome Trace Event object. */
export function trace_perfetto(opts: PerfettoOptions = {}): ChromeTrace {
  const buffer = trace_state.buffer;
  const pid = opts.pid ?? PERFETTO_KERNEL_PID;
  const base = pid * TIDS_PER_PID;
  const sys_name = opts.syscall_name ?? ((nr: number): string => `NR ${nr}`);
  const meta: ChromeTraceEvent[] = [
    { name: 'process_name', ph: 'M', pid, tid: base, args: { name: opts.process_name ?? 'kernel' } },
  ];
  const nr_cpus = Math.max(trace_state.nr_cpus, buffer.buffers.length);
  for (let cpu = 0; cpu < nr_cpus; cpu++) {
    meta.push({ name: 'thread_name', ph: 'M', pid, tid: base + TID_CPU + cpu, args: { name: `CPU ${cpu}` } });
    meta.push({ name: 'thread_sort_index', ph: 'M', pid, tid: base + TID_CPU + cpu, args: { sort_index: cpu } });
  }
  // Task slices need the task boundaries: only with sched:sched_switch traced.
  const sched_switch = trace_find_event('sched', 'sched_switch');
  const task_slices = sched_switch?.ftrace_enabled === true;
  const asi_tracks = new Set<number>();
  const ev: ChromeTraceEvent[] = [];
  const cpus: CpuState[] = [];
  const st = (cpu: number): CpuState => (cpus[cpu] ??= fresh_cpu());
  let flow_id = opts.flow_id_base ?? 1;
  /** Per receiving CPU: flow ids of IPIs sent to it and not yet taken. */
  const pending_ipis: number[][] = [];

  const close = (s: OpenSlice, end: number, tid: number): void => {
    ev.push({ name: s.name, cat: s.cat, ph: 'X', ts: us(s.start), dur: us(end - s.start), pid, tid, args: s.args });
  };
  const asi_tid = (cpu: number): number => {
    if (!asi_tracks.has(cpu)) asi_tracks.add(cpu);
    return base + TID_ASI + cpu;
  };

  for (const e of ring_buffer_iter(buffer)) {
    const cpu = e.cpu;
    const c = st(cpu);
    const ts = e.ts_ns;
    const tid = base + TID_CPU + cpu;
    c.last_ts = ts;
    // A task already running when the buffer starts: its slice opens at its first event.
    if (task_slices && c.task === null && e.pid !== 0 && e.tp !== sched_switch) {
      c.task = { name: e.comm, start: ts, cat: 'sched', args: { pid: e.pid } };
      c.task_pid = e.pid;
    }
    if (e.ph !== 'i') {
      // trace_marker spans, as they were.
      if (e.ph === 'B') {
        c.spans++;
        ev.push({ name: e.name, cat: e.tp.system, ph: 'B', ts: us(ts), pid, tid, args: common_args(e) });
      } else if (c.spans > 0) {
        c.spans--;
        ev.push({ name: e.name, cat: e.tp.system, ph: 'E', ts: us(ts), pid, tid });
      }
      continue;
    }
    const f = e.fields as Record<string, unknown>;
    switch (`${e.tp.system}:${e.name}`) {
      case 'sched:sched_switch': {
        if (c.ipi) { close(c.ipi, ts, tid); c.ipi = null; }
        if (c.sys) { c.sys.args.slept = true; close(c.sys, ts, tid); c.sys = null; }
        if (c.task) { close(c.task, ts, tid); c.task = null; }
        const next_pid = f.next_pid as number;
        if (next_pid !== 0) {
          c.task = { name: f.next_comm as string, start: ts, cat: 'sched', args: { pid: next_pid } };
          c.task_pid = next_pid;
        }
        continue;
      }
      case 'raw_syscalls:sys_enter': {
        if (c.sys) close(c.sys, ts, tid);
        const nr = f.nr as number;
        const args = (f.args as readonly number[]).map((a) => '0x' + a.toString(16));
        c.sys = { name: sys_name(nr), start: ts, cat: 'syscall', args: { nr, args } };
        c.sys_nr = nr;
        continue;
      }
      case 'raw_syscalls:sys_exit': {
        const nr = f.nr as number;
        if (c.sys && c.sys_nr === nr) {
          c.sys.args.ret = f.ret;
          close(c.sys, ts, tid);
        } else if (c.task && !c.sys) {
          // Woken after sleeping in it: the syscall resumed when the task was switched in.
          close({ name: `${sys_name(nr)} (resumed)`, start: c.task.start, cat: 'syscall', args: { nr, ret: f.ret } }, ts, tid);
        }
        c.sys = null;
        continue;
      }
      case 'ipi:ipi_entry':
        c.ipi = { name: 'IPI: ' + String(f.reason), start: ts, cat: 'ipi', args: {}, flow: pending_ipis[cpu]?.shift() };
        continue;
      case 'ipi:ipi_exit':
        if (c.ipi) {
          const id = c.ipi.flow;
          if (id !== undefined) {
            // The arrow's head in the middle of the handler: strictly inside the slice it binds to.
            ev.push({ name: 'ipi', cat: 'ipi', ph: 'f', bp: 'e', id, ts: us((c.ipi.start + ts) / 2), pid, tid });
          }
          close(c.ipi, ts, tid);
          c.ipi = null;
        }
        continue;
      case 'ipi:ipi_send_cpumask': {
        ev.push(instant(e, pid, tid));
        for (const to of f.cpumask as readonly number[]) {
          const id = flow_id++;
          (pending_ipis[to] ??= []).push(id);
          ev.push({ name: 'ipi', cat: 'ipi', ph: 's', id, ts: us(ts), pid, tid });
        }
        continue;
      }
      case 'asi:asi_enter': {
        const atid = asi_tid(cpu);
        if (c.asi && c.asi.name === 'restricted') continue;
        if (c.asi) close(c.asi, ts, atid);
        c.asi = { name: 'restricted', start: ts, cat: 'asi', args: { class_id: f.class_id, pcid: f.pcid } };
        continue;
      }
      case 'asi:asi_exit': {
        const atid = asi_tid(cpu);
        if (c.asi) close(c.asi, ts, atid);
        c.asi = { name: 'unrestricted', start: ts, cat: 'asi', args: {} };
        const x: ChromeTraceEvent = {
          name: 'asi_exit', cat: 'asi', ph: 'i', s: 't', ts: us(ts), pid, tid: atid,
          args: { reason: e.tp.output(e).replace(/^asi_exit: reason=(\S+).*$/, '$1'), site: site_of(e), common_pid: e.pid, common_comm: e.comm },
        };
        ev.push(x);
        c.last_exit = x;
        continue;
      }
      case 'asi:asi_exit_pf': {
        // The exit just before it on this CPU was this fault's: name its site.
        if (c.last_exit?.args) {
          c.last_exit.args.site = site_of(e);
          c.last_exit.args.address = f.address;
          c.last_exit.args.error_code = f.error_code;
        }
        ev.push(instant(e, pid, asi_tid(cpu)));
        continue;
      }
      case 'pmu:pmu_sample': {
        const t = us(ts);
        ev.push({ name: `CPU ${cpu} cycles`, ph: 'C', ts: t, pid, tid: base, args: { value: f.cycles } });
        ev.push({ name: `CPU ${cpu} dTLB-load-misses`, ph: 'C', ts: t, pid, tid: base, args: { value: f.dtlb_misses } });
        ev.push({ name: `CPU ${cpu} asi_exits`, ph: 'C', ts: t, pid, tid: base, args: { value: f.asi_exits } });
        continue;
      }
      default:
        ev.push(instant(e, pid, tid));
    }
  }
  // What is still open ends at its CPU's last event, innermost first.
  cpus.forEach((c, cpu) => {
    const tid = base + TID_CPU + cpu;
    if (c.ipi) close(c.ipi, c.last_ts, tid);
    if (c.sys) close(c.sys, c.last_ts, tid);
    if (c.task) close(c.task, c.last_ts, tid);
    if (c.asi) close(c.asi, c.last_ts, base + TID_ASI + cpu);
    for (; c.spans > 0; c.spans--) ev.push({ name: 'span', cat: 'marker', ph: 'E', ts: us(c.last_ts), pid, tid });
  });
  drop_unpaired_flows(ev);
  for (const cpu of [...asi_tracks].sort((a, b) => a - b)) {
    meta.push({ name: 'thread_name', ph: 'M', pid, tid: base + TID_ASI + cpu, args: { name: `CPU ${cpu} ASI` } });
    meta.push({ name: 'thread_sort_index', ph: 'M', pid, tid: base + TID_ASI + cpu, args: { sort_index: nr_cpus + cpu } });
  }
  // Stable sort by time; at equal times a longer slice (the parent) first.
  const order = ev.map((_x, i) => i);
  order.sort((a, b) => (ev[a].ts! - ev[b].ts!) || ((ev[b].dur ?? -1) - (ev[a].dur ?? -1)) || a - b);
  const out: ChromeTrace = { traceEvents: [...meta, ...order.map((i) => ev[i])], displayTimeUnit: 'ns' };
  const lost = ring_buffer_overruns(buffer);
  if (lost > 0) {
    out.otherData = {
      lost_events: lost,
      note: `the ring buffer (${buffer.capacity} entries per CPU) overwrote the oldest ${lost} entries; the trace starts later`,
    };
  }
  return out;
}

/** The slice-less instant of a tracepoint, as every event was shown before slices. */
function instant(e: TraceEntry, pid: number, tid: number): ChromeTraceEvent {
  return { name: e.name, cat: e.tp.system, ph: 'i', s: 't', ts: us(e.ts_ns), pid, tid, args: common_args(e) };
}

function common_args(e: TraceEntry): Record<string, unknown> {
  return { ...e.fields, common_pid: e.pid, common_comm: e.comm };
}

/** An ASI exit's kernel site: its `ip` field printed by the event (ksym name), '?' if none. */
function site_of(e: TraceEntry): string {
  const m = / ip=(\S+)/.exec(e.tp.output(e));
  return m ? m[1] : '?';
}

/** A flow start whose receiver's handler was lost (or an end without a start) is left out. */
function drop_unpaired_flows(ev: ChromeTraceEvent[]): void {
  const starts = new Set<number>();
  const ends = new Set<number>();
  for (const x of ev) {
    if (x.ph === 's') starts.add(x.id!);
    else if (x.ph === 'f') ends.add(x.id!);
  }
  let j = 0;
  for (const x of ev) {
    if ((x.ph === 's' && !ends.has(x.id!)) || (x.ph === 'f' && !starts.has(x.id!))) continue;
    ev[j++] = x;
  }
  ev.length = j;
}

/** Chrome trace JSON text, one event per line (diff-friendly, still valid JSON). */
export function chrome_trace_json(t: ChromeTrace): string {
  const lines = t.traceEvents.map((e) => JSON.stringify(e));
  const other = t.otherData ? `,"otherData":${JSON.stringify(t.otherData)}` : '';
  return `{"traceEvents":[\n${lines.join(',\n')}\n],"displayTimeUnit":${JSON.stringify(t.displayTimeUnit)}${other}}\n`;
}

/** The trace as JSON text, one event per line. */
export function trace_perfetto_json(opts: PerfettoOptions = {}): string {
  return chrome_trace_json(trace_perfetto(opts));
}
