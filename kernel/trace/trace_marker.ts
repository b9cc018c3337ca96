/*
 * kernel/trace/trace_marker.ts - spans: named intervals on a CPU (a syscall,
 * a flush), shown as slices in Perfetto.
 *
 * Mirrors the trace_marker file (tracing_mark_write() in kernel/trace/trace.c)
 * as user space uses it with the ATrace convention: a begin writes
 * "B|pid|name" and an end "E|pid", which Perfetto turns into slices both
 * from the ftrace text and (as 'B'/'E' events) from the JSON.
 * No Linux counterpart for the declaration: a span class is registered like
 * an event (system:name) so trace_event= turns it on and off, and its
 * `enabled` is the one branch a call site pays. Spans must nest per CPU
 * (a syscall runs to completion on its CPU, so they do).
 */
import { TraceEventCall, trace_event_commit } from './trace.ts';
import { trace_add_event_call } from './trace_events.ts';
import type { TraceEntry } from './ring_buffer.ts';

const no_args: Readonly<Record<string, never>> = Object.freeze({});

export class TraceSpan extends TraceEventCall {
  /**
   * Open a span called `name` on the current CPU; `args` show in Perfetto.
   *   if (sys_span.enabled) sys_span.begin('read', { fd });
   */
  begin(name: string, args: object = no_args): void {
    if (!this.enabled) return;
    trace_event_commit(this, args, 'B', name);
  }

  /** Close the innermost open span on the current CPU. */
  end(): void {
    if (!this.enabled) return;
    trace_event_commit(this, no_args, 'E', this.name);
  }

  /** ftrace text: "tracing_mark_write: B|pid|name" or "tracing_mark_write: E|pid". */
  output(e: TraceEntry): string {
    return e.ph === 'B'
      ? `tracing_mark_write: B|${e.pid}|${e.name}`
      : `tracing_mark_write: E|${e.pid}`;
  }
}

/**
 * Declare a span class `system:name` (enabled with trace_event=system:name).
 * Its spans take their own names at begin(); their Perfetto category is
 * `system`.
 */
export function DEFINE_SPAN(system: string, name: string): TraceSpan {
  return trace_add_event_call(new TraceSpan(system, name));
}
