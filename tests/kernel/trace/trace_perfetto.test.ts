/*
 * tests/kernel/trace/trace_perfetto.test.ts - the Chrome Trace Event JSON.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DEFINE_EVENT, DEFINE_SPAN, trace_init, trace_set_context, trace_perfetto_json,
  trace_pipe_read, type ChromeTrace, type TraceContext,
} from '../../../kernel/trace/index.ts';

const trace_tlb_flush = DEFINE_EVENT<{ reason: number; pages: number }>(
  'tlb', 'tlb_flush', (f) => `pages:${f.pages} reason:${f.reason}`);
const sys_span = DEFINE_SPAN('syscalls', 'sys_span');

const ctx: TraceContext = { cpu: 0, comm: '<idle>', pid: 0, ts_ns: 0 };

describe('kernel_trace_perfetto', () => {
  beforeEach(() => {
    trace_init({ nr_cpus: 2, trace_event: 'tlb:tlb_flush,syscalls:*' });
    trace_set_context(() => ctx);
  });

  it('emits parseable JSON with CPU tracks, instants and spans', () => {
    Object.assign(ctx, { cpu: 1, comm: 'reader', pid: 42, ts_ns: 1500 });
    sys_span.begin('read', { fd: 3 });
    Object.assign(ctx, { ts_ns: 2250 });
    trace_tlb_flush.emit({ reason: 1, pages: 4 });
    Object.assign(ctx, { ts_ns: 4000 });
    sys_span.end();
    Object.assign(ctx, { cpu: 0, comm: '<idle>', pid: 0, ts_ns: 3000 });
    trace_tlb_flush.emit({ reason: 0, pages: -1 });

    const text = trace_perfetto_json();
    const t = JSON.parse(text) as ChromeTrace;
    expect(t.displayTimeUnit).toBe('ns');
    expect(t.traceEvents).toEqual([
      { name: 'process_name', ph: 'M', pid: 0, tid: 0, args: { name: 'kernel' } },
      { name: 'thread_name', ph: 'M', pid: 0, tid: 0, args: { name: 'CPU 0' } },
      { name: 'thread_sort_index', ph: 'M', pid: 0, tid: 0, args: { sort_index: 0 } },
      { name: 'thread_name', ph: 'M', pid: 0, tid: 1, args: { name: 'CPU 1' } },
      { name: 'thread_sort_index', ph: 'M', pid: 0, tid: 1, args: { sort_index: 1 } },
      { name: 'read', cat: 'syscalls', ph: 'B', ts: 1.5, pid: 0, tid: 1,
        args: { fd: 3, common_pid: 42, common_comm: 'reader' } },
      { name: 'tlb_flush', cat: 'tlb', ph: 'i', s: 't', ts: 2.25, pid: 0, tid: 1,
        args: { reason: 1, pages: 4, common_pid: 42, common_comm: 'reader' } },
      { name: 'tlb_flush', cat: 'tlb', ph: 'i', s: 't', ts: 3, pid: 0, tid: 0,
        args: { reason: 0, pages: -1, common_pid: 0, common_comm: '<idle>' } },
      { name: 'sys_span', cat: 'syscalls', ph: 'E', ts: 4, pid: 0, tid: 1 },
    ]);
  });

  it('does not consume the buffer', () => {
    trace_tlb_flush.emit({ reason: 0, pages: 1 });
    trace_perfetto_json();
    expect(trace_pipe_read()).toContain('tlb_flush: pages:1 reason:0');
  });

  it('is one event per line and byte-identical for identical runs', () => {
    const run = (): string => {
      trace_init({ nr_cpus: 1, trace_event: 'tlb:tlb_flush' });
      trace_set_context(() => ctx);
      Object.assign(ctx, { cpu: 0, ts_ns: 1 });
      trace_tlb_flush.emit({ reason: 2, pages: 1 });
      return trace_perfetto_json();
    };
    const a = run();
    expect(a).toBe(run());
    expect(a.split('\n')).toHaveLength(1 + 4 + 2);
  });
});
