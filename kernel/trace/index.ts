/*
 * kernel/trace/index.ts - the tracing API in one import.
 *
 * No Linux counterpart (Linux's users include <linux/tracepoint.h> and the
 * per-system headers under include/trace/events/). Re-exports only.
 */
export {
  TraceEventCall, trace_set_context, tracing_on, tracing_off, tracing_resize_ring_buffer,
  tracing_reset_online_cpus, trace_lat_flags, trace_buffer, TRACE_BUF_SIZE_DEFAULT,
  type TraceContext, type TraceLatState,
} from './trace.ts';
export {
  Tracepoint, DEFINE_EVENT, TRACE_EVENT, trace_find_event, available_events, enabled_events,
  trace_match_events, ftrace_set_clr_event, ftrace_clear_events, set_event,
  perf_trace_enable, perf_trace_counts, trace_init, type TraceInitOptions,
} from './trace_events.ts';
export { TraceSpan, DEFINE_SPAN } from './trace_marker.ts';
export {
  trace_read, trace_pipe_read, trace_entries, print_trace_header, print_trace_line,
} from './trace_output.ts';
export {
  trace_perfetto, trace_perfetto_json, chrome_trace_json, PERFETTO_KERNEL_PID, type PerfettoOptions,
  type ChromeTrace, type ChromeTraceEvent,
} from './trace_perfetto.ts';
export { perf_stat_format, type PerfStatOptions, type PerfCounts } from './perf_stat.ts';
export {
  ring_buffer_entries, ring_buffer_overruns, ring_buffer_iter,
  type TraceEntry, type TracePhase,
} from './ring_buffer.ts';
