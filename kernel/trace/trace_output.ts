/*
 * kernel/trace/trace_output.ts - the ftrace text: the `trace` and
 * `trace_pipe` files.
 *
 * Mirrors kernel/trace/trace_output.c (trace_print_context: "%16s-%-7d ",
 * "[%03d] ", the latency flags, " %5lu.%06lu: ") and the readers in
 * kernel/trace/trace.c (print_trace_header with print_event_info and
 * print_func_help_header_irq for the nop tracer, s_show, print_trace_line,
 * test_cpu_buff_start, tracing_read_pipe and its "[LOST n EVENTS]" line).
 * Simplified: only the default options (irq-info, annotate, no tgid, no
 * latency format, "local" clock in ns); text is built as strings, not in a
 * trace_seq page.
 */
import { trace_state } from './trace.ts';
import {
  ring_buffer_consume, ring_buffer_iter, ring_buffer_overruns,
  type TraceBuffer, type TraceEntry,
} from './ring_buffer.ts';

/** trace_print_time(): " %5lu.%06lu", seconds and microseconds of a ns stamp. */
function trace_print_time(ts_ns: number): string {
  const usecs = Math.floor(ts_ns / 1000);
  const secs = Math.floor(usecs / 1000000);
  const rem = usecs - secs * 1000000;
  return ' ' + String(secs).padStart(5) + '.' + String(rem).padStart(6, '0');
}

/**
 * trace_print_context(): the columns before the event name,
 * "            comm-pid     [cpu] flags    secs.usecs: ".
 */
export function trace_print_context(e: TraceEntry): string {
  return e.comm.padStart(16) + '-' + String(e.pid).padEnd(7) + ' ' +
    '[' + String(e.cpu).padStart(3, '0') + '] ' +
    e.flags + trace_print_time(e.ts_ns) + ': ';
}

/** print_trace_line(): one entry, newline-terminated. */
export function print_trace_line(e: TraceEntry): string {
  return trace_print_context(e) + e.tp.output(e) + '\n';
}

/** get_total_entries(): entries still in the buffer, and those plus the overwritten. */
export function get_total_entries(buffer: TraceBuffer): { entries: number; total: number } {
  let entries = 0;
  let total = 0;
  for (const b of buffer.buffers) {
    if (!b) continue;
    entries += b.count;
    total += b.count + b.overrun;
  }
  return { entries, total };
}

/** The header of the `trace` file with the nop tracer (print_trace_header). */
export function print_trace_header(buffer: TraceBuffer = trace_state.buffer): string {
  const { entries, total } = get_total_entries(buffer);
  const nr_cpus = Math.max(trace_state.nr_cpus, buffer.buffers.length);
  return '# tracer: nop\n' +
    '#\n' +
    `# entries-in-buffer/entries-written: ${entries}/${total}   #P:${nr_cpus}\n` +
    '#\n' +
    '#                                _-----=> irqs-off/BH-disabled\n' +
    '#                               / _----=> need-resched\n' +
    '#                              | / _---=> hardirq/softirq\n' +
    '#                              || / _--=> preempt-depth\n' +
    '#                              ||| / _-=> migrate-disable\n' +
    '#                              |||| /     delay\n' +
    '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n' +
    '#              | |         |   |||||     |         |\n';
}

/**
 * `cat trace`: the header and every entry, merged across CPUs in time
 * order, without consuming. When entries were overwritten, the first entry
 * of each CPU after the first line is preceded by
 * "##### CPU n buffer started ####" (test_cpu_buff_start), so a reader knows
 * that CPU's history before it was lost.
 */
export function trace_read(): string {
  const buffer = trace_state.buffer;
  const annotate = ring_buffer_overruns(buffer) > 0;
  const started: boolean[] = [];
  const out: string[] = [print_trace_header(buffer)];
  let idx = 0;
  for (const e of ring_buffer_iter(buffer)) {
    if (annotate && !started[e.cpu]) {
      started[e.cpu] = true;
      if (idx > 0) out.push(`##### CPU ${e.cpu} buffer started ####\n`);
    }
    out.push(print_trace_line(e));
    idx++;
  }
  return out.join('');
}

/**
 * `cat trace_pipe`: the same lines without the header, consumed as they are
 * read (at most `max` entries). A CPU that overwrote entries since the last
 * read says so first: "CPU:n [LOST m EVENTS]".
 */
export function trace_pipe_read(max = Infinity): string {
  const buffer = trace_state.buffer;
  const out: string[] = [];
  for (let n = 0; n < max; n++) {
    const r = ring_buffer_consume(buffer);
    if (!r) break;
    if (r.lost_events > 0) out.push(`CPU:${r.entry.cpu} [LOST ${r.lost_events} EVENTS]\n`);
    out.push(print_trace_line(r.entry));
  }
  return out.join('');
}

/** Every entry in the buffer, merged in time order, without consuming (for tools and tests). */
export function trace_entries(): TraceEntry[] {
  return [...ring_buffer_iter(trace_state.buffer)];
}
