/*
 * kernel/trace/trace.ts - the tracer core: who is running, and committing one
 * event into the ring buffer.
 *
 * Mirrors kernel/trace/trace.c (tracing_gen_ctx, trace_event_buffer_commit,
 * tracing_on/tracing_off, tracing_reset_online_cpus, tracer_alloc_buffers)
 * and struct trace_event_call from include/linux/trace_events.h.
 * Simplified: one trace instance (no instances/ directory), one tracer
 * ("nop"); the context (CPU, current's comm and pid, clock, irq/preempt
 * flags) comes from a hook the kernel registers at boot, not from per-CPU
 * variables and `current`.
 */
import {
  ring_buffer_alloc, ring_buffer_reset, ring_buffer_write,
  type TraceBuffer, type TraceEntry, type TracePhase,
} from './ring_buffer.ts';

/**
 * struct trace_event_call: one event the tracer knows (system:name). The
 * subclasses say how a record of it prints (Tracepoint, TraceSpan).
 */
export abstract class TraceEventCall {
  /**
   * True when an emit would record or count anything: the one branch a call
   * site pays (`if (trace_x.enabled) trace_x.emit(...)`). Kept equal to
   * ftrace_enabled || perf_enabled by trace_event_update(); never set by hand.
   */
  enabled = false;
  /** Enabled through set_event / trace_event= (EVENT_FILE_FL_ENABLED). */
  ftrace_enabled = false;
  /** Enabled for counting, as `perf stat -e system:name` attaches. */
  perf_enabled = false;
  /** Hits per CPU while perf_enabled. */
  perf_count: number[] = [];

  constructor(readonly system: string, readonly name: string) {}

  /** "system:name", as available_events lists it. */
  get id(): string {
    return `${this.system}:${this.name}`;
  }

  /**
   * The text after the context columns: "event: TP_printk text"
   * (trace_raw_output_<call> in include/trace/trace_events.h).
   */
  abstract output(e: TraceEntry): string;
}

/** Recompute `enabled` after ftrace_enabled or perf_enabled changed. */
export function trace_event_update(call: TraceEventCall): void {
  call.enabled = call.ftrace_enabled || call.perf_enabled;
}

/** What the tracer records about the moment of an event. */
export interface TraceContext {
  cpu: number;
  comm: string;
  pid: number;
  ts_ns: number;
  /** The five latency columns (see trace_lat_flags); "....." when absent. */
  flags?: string;
}

const default_context: TraceContext = { cpu: 0, comm: '<idle>', pid: 0, ts_ns: 0 };
function default_context_hook(): TraceContext {
  return default_context;
}

/** Default per-CPU capacity in entries (Linux sizes trace_buf_size in bytes). */
export const TRACE_BUF_SIZE_DEFAULT = 65536;

export const trace_state = {
  /** No Linux counterpart: the kernel says who is running and what time it is. */
  context: default_context_hook as () => TraceContext,
  buffer: ring_buffer_alloc(TRACE_BUF_SIZE_DEFAULT),
  /** num_online_cpus() for the "#P:" header column. */
  nr_cpus: 1,
};

/**
 * Register the hook that reports the current CPU, task and clock (ns) at
 * emit time. The kernel registers it at boot; trace_init() restores the
 * default (CPU 0, "<idle>", pid 0, time 0). The hook may return the same
 * object each time: only its values are copied.
 */
export function trace_set_context(hook: () => TraceContext): void {
  trace_state.context = hook;
}

/**
 * tracer_alloc_buffers(): a fresh, empty buffer of `entries` per CPU, and
 * the default context. Called by trace_init() at every boot.
 */
export function tracer_alloc_buffers(entries = TRACE_BUF_SIZE_DEFAULT, nr_cpus = 1): void {
  trace_state.buffer = ring_buffer_alloc(entries);
  trace_state.nr_cpus = nr_cpus;
  trace_state.context = default_context_hook;
}

/**
 * tracing_resize_ring_buffer() (a write to buffer_size_kb): `entries` per
 * CPU from now on. Changed: what the buffer held is dropped (Linux keeps
 * it); tools resize right after the boot, before anything is traced.
 */
export function tracing_resize_ring_buffer(entries: number): void {
  const disabled = trace_state.buffer.record_disabled;
  trace_state.buffer = ring_buffer_alloc(entries);
  trace_state.buffer.record_disabled = disabled;
}

/** The live buffer, for the output code. */
export function trace_buffer(): TraceBuffer {
  return trace_state.buffer;
}

/** tracing_on(): let writes reach the buffer again. */
export function tracing_on(): void {
  trace_state.buffer.record_disabled = false;
}

/** tracing_off(): drop writes, keep what is in the buffer (echo 0 > tracing_on). */
export function tracing_off(): void {
  trace_state.buffer.record_disabled = true;
}

/** tracing_reset_online_cpus(): empty the buffer (echo > trace). */
export function tracing_reset_online_cpus(): void {
  ring_buffer_reset(trace_state.buffer);
}

/**
 * trace_event_buffer_commit(): record one event. Counts a hit for perf if
 * perf enabled it, and writes an entry if ftrace enabled it.
 */
export function trace_event_commit(call: TraceEventCall, fields: object, ph: TracePhase, name: string): void {
  const ctx = trace_state.context();
  const cpu = ctx.cpu;
  if (call.perf_enabled) {
    const c = call.perf_count;
    while (c.length <= cpu) c.push(0);
    c[cpu]++;
  }
  if (!call.ftrace_enabled) return;
  ring_buffer_write(trace_state.buffer, {
    ts_ns: ctx.ts_ns,
    cpu,
    pid: ctx.pid,
    comm: ctx.comm,
    flags: ctx.flags ?? '.....',
    tp: call,
    fields,
    ph,
    name,
  });
}

/** The state behind the five latency-format columns. All optional. */
export interface TraceLatState {
  irqs_off?: boolean;
  bh_off?: boolean;
  /** TIF_NEED_RESCHED */
  need_resched?: boolean;
  /** TIF_NEED_RESCHED_LAZY */
  need_resched_lazy?: boolean;
  /** PREEMPT_NEED_RESCHED folded into preempt_count */
  preempt_resched?: boolean;
  hardirq?: boolean;
  softirq?: boolean;
  nmi?: boolean;
  /** Preemption depth (low nibble of preempt_count). */
  preempt_count?: number;
  /** migrate_disable() depth. */
  migrate_disable?: number;
}

/**
 * The five columns "irqs-off, need-resched, hardirq/softirq, preempt-depth,
 * migrate-disable", as trace_print_lat_fmt() in kernel/trace/trace_output.c
 * prints them: e.g. "....." (nothing), "d..1." (irqs off, preempt depth 1),
 * "dNh2." (irqs off, need resched, in hardirq, depth 2).
 */
export function trace_lat_flags(s: TraceLatState): string {
  const irqs_off =
    s.irqs_off && s.bh_off ? 'D' :
    s.irqs_off ? 'd' :
    s.bh_off ? 'b' : '.';
  const n = s.need_resched ? 1 : 0, l = s.need_resched_lazy ? 2 : 0, p = s.preempt_resched ? 4 : 0;
  const need_resched = '.nlbpNLB'[n | l | p];
  const hardsoft_irq =
    s.nmi && s.hardirq ? 'Z' :
    s.nmi ? 'z' :
    s.hardirq && s.softirq ? 'H' :
    s.hardirq ? 'h' :
    s.softirq ? 's' : '.';
  const pc = (s.preempt_count ?? 0) & 0xf;
  const md = Math.min(s.migrate_disable ?? 0, 0xf);
  return irqs_off + need_resched + hardsoft_irq +
    (pc ? pc.toString(16) : '.') + (md ? md.toString(16) : '.');
}
