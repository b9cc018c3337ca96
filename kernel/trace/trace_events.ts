/*
 * kernel/trace/trace_events.ts - declaring trace events, the registry, and
 * turning events on and off by name.
 *
 * Mirrors include/linux/tracepoint.h and include/trace/trace_events.h
 * (DEFINE_EVENT / TRACE_EVENT: a static tracepoint whose `enabled` is the
 * static key a call site tests) and kernel/trace/trace_events.c
 * (ftrace_set_clr_event, the set_event file, early_enable_events; the
 * trace_event= boot parameter itself is registered in
 * trace_events_setup.ts).
 * Simplified: an event's print function is its TP_printk (fields -> text);
 * there is no format file, no filters or triggers, and no per-instance
 * enable state. trace_init() lives here rather than in trace.c so that
 * imports run one way (trace_events -> trace -> ring_buffer).
 */
import { pr_warn } from '../printk.ts';
import { WARN } from '../panic.ts';
import {
  TraceEventCall, trace_event_commit, trace_event_update, tracer_alloc_buffers,
  TRACE_BUF_SIZE_DEFAULT,
} from './trace.ts';
import type { TraceEntry } from './ring_buffer.ts';

const EINVAL = 22; // include/uapi/asm-generic/errno-base.h

/**
 * A tracepoint: `trace_tlb_flush` in Linux is a function; here it is this
 * object, and a call site reads
 *
 *   if (trace_tlb_flush.enabled) trace_tlb_flush.emit({ reason, pages });
 *
 * so a disabled event costs one branch and allocates nothing. `F` is the
 * TP_STRUCT__entry: the fields recorded, kept raw and printed when read.
 */
export class Tracepoint<F extends object> extends TraceEventCall {
  constructor(system: string, name: string, readonly print: (f: F) => string) {
    super(system, name);
  }

  /**
   * Record the event (trace_<name>()). Safe to call while disabled (it then
   * does nothing), but the call site should test `enabled` first so the
   * fields object is not built. The object must not be changed afterwards:
   * the buffer keeps it and formats it when read.
   */
  emit(fields: F): void {
    if (!this.enabled) return;
    trace_event_commit(this, fields, 'i', this.name);
  }

  output(e: TraceEntry): string {
    return `${this.name}: ${this.print(e.fields as F)}`;
  }
}

/** Every declared event, "system:name" -> call, in declaration order (ftrace_events). */
const ftrace_events = new Map<string, TraceEventCall>();

/**
 * trace_add_event_call(): register a call. Declaring the same system:name
 * twice (a module evaluated again) warns and the newer one replaces the
 * older, which keeps its own enabled flag but is no longer reachable by name.
 */
export function trace_add_event_call<T extends TraceEventCall>(call: T): T {
  if (!/^[A-Za-z0-9_]+$/.test(call.system) || !/^[A-Za-z0-9_]+$/.test(call.name))
    WARN(true, 'trace event "%s" has a bad name', call.id);
  WARN(ftrace_events.has(call.id), 'trace event %s declared twice', call.id);
  ftrace_events.set(call.id, call);
  return call;
}

/**
 * DEFINE_EVENT / TRACE_EVENT: declare `system:name` with its TP_printk.
 * Declare at module level; the event starts disabled.
 *
 *   export const trace_tlb_flush = DEFINE_EVENT<{ reason: number; pages: number }>(
 *     'tlb', 'tlb_flush', (f) => `pages:${f.pages} reason:${TLB_FLUSH_REASON[f.reason]} (${f.reason})`);
 */
export function DEFINE_EVENT<F extends object>(system: string, name: string, print: (f: F) => string): Tracepoint<F> {
  return trace_add_event_call(new Tracepoint<F>(system, name, print));
}

/** TRACE_EVENT is DEFINE_EVENT with its own class; here they are the same. */
export const TRACE_EVENT = DEFINE_EVENT;

/** Look up one event by system and name (trace_find_event_call). */
export function trace_find_event(system: string, name: string): TraceEventCall | undefined {
  return ftrace_events.get(`${system}:${name}`);
}

/** available_events: every declared event as "system:name". */
export function available_events(): string[] {
  return [...ftrace_events.keys()];
}

/** Reading set_event: the events ftrace has enabled, as "system:name". */
export function enabled_events(): string[] {
  const out: string[] = [];
  for (const call of ftrace_events.values()) if (call.ftrace_enabled) out.push(call.id);
  return out;
}

/**
 * The events one set_event token names, as ftrace_set_clr_event() parses it:
 *   "sys:event"   that event;    "sys:*" or "sys:"  all of sys;
 *   "*:event" or ":event"        every event of that name;   "*:*"  all;
 *   "word"        (no colon)     every event whose system or name is word.
 * Only a whole "*" is a wildcard, as in Linux (strcmp, not glob).
 */
export function trace_match_events(token: string): TraceEventCall[] {
  let match: string | null = token;
  let sub: string | null = null;
  let event: string | null = null;
  const colon = token.indexOf(':');
  if (colon >= 0) {
    sub = token.slice(0, colon);
    event = token.slice(colon + 1);
    match = null;
    if (sub === '' || sub === '*') sub = null;
    if (event === '' || event === '*') event = null;
  }
  const out: TraceEventCall[] = [];
  for (const call of ftrace_events.values()) {
    if (match !== null && match !== call.name && match !== call.system) continue;
    if (sub !== null && sub !== call.system) continue;
    if (event !== null && event !== call.name) continue;
    out.push(call);
  }
  return out;
}

/** ftrace_event_enable_disable() for the ftrace side. */
function ftrace_event_enable_disable(call: TraceEventCall, enable: boolean): void {
  call.ftrace_enabled = enable;
  trace_event_update(call);
}

/**
 * ftrace_set_clr_event(): enable (set) or disable the events `token` names.
 * Returns 0, or -EINVAL when it names no declared event.
 */
export function ftrace_set_clr_event(token: string, set: boolean): number {
  const calls = trace_match_events(token);
  if (calls.length === 0) return -EINVAL;
  for (const call of calls) ftrace_event_enable_disable(call, set);
  return 0;
}

/** ftrace_clear_events(): disable every event (what `echo > set_event` does). */
export function ftrace_clear_events(): void {
  for (const call of ftrace_events.values()) ftrace_event_enable_disable(call, false);
}

function split_event_list(list: string): string[] {
  return list.split(/[\s,]+/).filter((t) => t !== '');
}

/**
 * Write the set_event file: a comma- or space-separated list of tokens
 * (trace_match_events), each optionally prefixed by "!" to disable, applied
 * left to right: "asi:*,tlb:tlb_flush", "*:*,!tlb:tlb_flush", "tlb".
 * Without `append` every event is disabled first (`echo ... > set_event`);
 * with it the list adds to the current set (`>>`).
 * Returns one "Failed to enable trace event: TOKEN" per token that named no
 * event; the others still apply.
 */
export function set_event(list: string, append = false): string[] {
  if (!append) ftrace_clear_events();
  const errors: string[] = [];
  for (const tok of split_event_list(list)) {
    const set = tok[0] !== '!';
    if (ftrace_set_clr_event(set ? tok : tok.slice(1), set) < 0)
      errors.push(`Failed to enable trace event: ${tok}`);
  }
  return errors;
}

/**
 * perf_trace_init() for a list of events: count their hits per CPU without
 * recording them (`perf stat -e tlb:tlb_flush`). Same syntax and errors as
 * set_event; "!" stops counting. Counts are read with perf_trace_counts().
 */
export function perf_trace_enable(list: string): string[] {
  const errors: string[] = [];
  for (const tok of split_event_list(list)) {
    const set = tok[0] !== '!';
    const calls = trace_match_events(set ? tok : tok.slice(1));
    if (calls.length === 0) {
      errors.push(`Failed to enable trace event: ${tok}`);
      continue;
    }
    for (const call of calls) {
      call.perf_enabled = set;
      trace_event_update(call);
    }
  }
  return errors;
}

/** Per-CPU hit counts of every perf-enabled event, "system:name" -> counts. */
export function perf_trace_counts(nr_cpus = 0): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const call of ftrace_events.values()) {
    if (!call.perf_enabled) continue;
    const c = call.perf_count.slice();
    while (c.length < nr_cpus) c.push(0);
    out[call.id] = c;
  }
  return out;
}

export interface TraceInitOptions {
  /** CPUs online, for the "#P:" column and the Perfetto CPU tracks. */
  nr_cpus?: number;
  /** Ring buffer capacity per CPU, in entries (default 65536). */
  buffer_entries?: number;
  /** The trace_event= boot parameter: set_event syntax. */
  trace_event?: string;
}

/**
 * trace_init() + early_enable_events(): every event disabled and uncounted,
 * a fresh empty buffer, the default context, then the trace_event= list
 * applied. Events stay declared (they are module-level). A token naming no
 * event is reported with pr_warn("Failed to enable trace event: %s") as
 * Linux does at boot, and returned.
 */
export function trace_init(opts: TraceInitOptions = {}): string[] {
  for (const call of ftrace_events.values()) {
    call.ftrace_enabled = false;
    call.perf_enabled = false;
    call.perf_count = [];
    trace_event_update(call);
  }
  tracer_alloc_buffers(opts.buffer_entries ?? TRACE_BUF_SIZE_DEFAULT, opts.nr_cpus ?? 1);
  if (!opts.trace_event) return [];
  const errors = set_event(opts.trace_event, true);
  for (const e of errors) pr_warn('%s', e);
  return errors;
}
