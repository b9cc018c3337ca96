/*
 * tests/kernel/trace/trace_output.test.ts - the `trace` and `trace_pipe`
 * text, byte for byte, and the ring buffer behind them.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DEFINE_EVENT, DEFINE_SPAN, set_event, trace_init, trace_read, trace_pipe_read, trace_entries,
  trace_set_context, trace_lat_flags, tracing_reset_online_cpus, ring_buffer_entries,
  ring_buffer_overruns, trace_buffer, type TraceContext,
} from '../../../kernel/trace/index.ts';
import { vsprintf } from '../../../lib/vsprintf.ts';

/* include/trace/events/tlb.h */
const TLB_FLUSH_REASON = ['flush on task switch', 'remote shootdown', 'local shootdown', 'local mm shootdown'];
const trace_tlb_flush = DEFINE_EVENT<{ reason: number; pages: number }>('tlb', 'tlb_flush',
  (f) => vsprintf('pages:%ld reason:%s (%d)', [f.pages, TLB_FLUSH_REASON[f.reason], f.reason]));
/* The fprobe event of Documentation/trace/fprobetrace.rst's example. */
const trace_truncate = DEFINE_EVENT<{ ip: string; dentry: number }>('fprobes', 'truncate',
  (f) => vsprintf('(%s) dentry=0x%px', [f.ip, f.dentry]));
const trace_seq = DEFINE_EVENT<{ n: number }>('test', 'seq', (f) => `n=${f.n}`);
const sys_span = DEFINE_SPAN('syscalls', 'sys_span');

const HEADER_BODY =
  '#\n' +
  '#                                _-----=> irqs-off/BH-disabled\n' +
  '#                               / _----=> need-resched\n' +
  '#                              | / _---=> hardirq/softirq\n' +
  '#                              || / _--=> preempt-depth\n' +
  '#                              ||| / _-=> migrate-disable\n' +
  '#                              |||| /     delay\n' +
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n' +
  '#              | |         |   |||||     |         |\n';

/** A settable context, like the scheduler's hook will be. */
const ctx: TraceContext = { cpu: 0, comm: '<idle>', pid: 0, ts_ns: 0 };
function at(cpu: number, ts_ns: number, comm = 'task', pid = 100, flags?: string): void {
  Object.assign(ctx, { cpu, ts_ns, comm, pid, flags });
}

describe('kernel_trace_output', () => {
  beforeEach(() => {
    trace_init({ nr_cpus: 2 });
    trace_set_context(() => ctx);
    at(0, 0);
  });

  it('prints the header of an empty buffer', () => {
    expect(trace_read()).toBe(
      '# tracer: nop\n' +
      '#\n' +
      '# entries-in-buffer/entries-written: 0/0   #P:2\n' +
      HEADER_BODY);
  });

  it('prints the fprobetrace.rst example line exactly', () => {
    trace_init({ nr_cpus: 8, trace_event: 'fprobes:truncate' });
    trace_set_context(() => ctx);
    at(4, 6_467_444_123, 'sh', 113);
    trace_truncate.emit({ ip: 'do_truncate+0x4/0x120', dentry: 0x8880044f0fd8 });
    expect(trace_read()).toBe(
      '# tracer: nop\n' +
      '#\n' +
      '# entries-in-buffer/entries-written: 1/1   #P:8\n' +
      HEADER_BODY +
      '              sh-113     [004] .....     6.467444: truncate: (do_truncate+0x4/0x120) dentry=0xffff8880044f0fd8\n');
  });

  it('prints tlb_flush with its TP_printk, flags and padding', () => {
    set_event('tlb:tlb_flush');
    at(1, 1_000_002_999, 'reader', 42, trace_lat_flags({ irqs_off: true, preempt_count: 1 }));
    trace_tlb_flush.emit({ reason: 0, pages: -1 });
    at(0, 12_345_678_901_000, 'kworker/0:1', 7, trace_lat_flags({ need_resched: true, preempt_resched: true, hardirq: true }));
    trace_tlb_flush.emit({ reason: 1, pages: 3 });
    expect(trace_read()).toBe(
      '# tracer: nop\n' +
      '#\n' +
      '# entries-in-buffer/entries-written: 2/2   #P:2\n' +
      HEADER_BODY +
      '          reader-42      [001] d..1.     1.000002: tlb_flush: pages:-1 reason:flush on task switch (0)\n' +
      '     kworker/0:1-7       [000] .Nh.. 12345.678901: tlb_flush: pages:3 reason:remote shootdown (1)\n');
  });

  it('renders the latency flags as trace_print_lat_fmt does', () => {
    expect(trace_lat_flags({})).toBe('.....');
    expect(trace_lat_flags({ irqs_off: true, bh_off: true, softirq: true, preempt_count: 2, migrate_disable: 1 })).toBe('D.s21');
    expect(trace_lat_flags({ bh_off: true, need_resched: true })).toBe('bn...');
    expect(trace_lat_flags({ nmi: true, hardirq: true, preempt_count: 0x1b })).toBe('..Zb.');
    expect(trace_lat_flags({ need_resched: true, need_resched_lazy: true, preempt_resched: true })).toBe('.B...');
    expect(trace_lat_flags({ need_resched_lazy: true })).toBe('.l...');
  });

  it('merges CPUs in time order, ties to the lower CPU, each CPU in write order', () => {
    set_event('test:seq');
    /*
     *  time   0    10   20   30
     *  CPU0   a         c    d(30) e(30)
     *  CPU1        b    x(20)          f(30)
     */
    at(0, 0); trace_seq.emit({ n: 1 });       // a
    at(1, 10); trace_seq.emit({ n: 2 });      // b
    at(1, 20); trace_seq.emit({ n: 4 });      // x: ties with c, CPU0 first
    at(1, 30); trace_seq.emit({ n: 7 });      // f
    at(0, 20); trace_seq.emit({ n: 3 });      // c
    at(0, 30); trace_seq.emit({ n: 5 });      // d
    at(0, 30); trace_seq.emit({ n: 6 });      // e
    const order = trace_entries().map((e) => (e.fields as { n: number }).n);
    expect(order).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const pipe = trace_pipe_read().split('\n').filter((l) => l).map((l) => l.slice(l.lastIndexOf('=') + 1));
    expect(pipe).toEqual(['1', '2', '3', '4', '5', '6', '7']);
  });

  it('overwrites the oldest entries when full and counts the overruns', () => {
    trace_init({ nr_cpus: 2, buffer_entries: 4, trace_event: 'test:seq' });
    trace_set_context(() => ctx);
    for (let n = 0; n < 10; n++) {
      at(0, n * 1000);
      trace_seq.emit({ n });
    }
    at(1, 500);
    trace_seq.emit({ n: 100 });
    const buf = trace_buffer();
    expect(ring_buffer_entries(buf)).toBe(5);
    expect(ring_buffer_overruns(buf)).toBe(6);
    expect(trace_read()).toBe(
      '# tracer: nop\n' +
      '#\n' +
      '# entries-in-buffer/entries-written: 5/11   #P:2\n' +
      HEADER_BODY +
      '            task-100     [001] .....     0.000000: seq: n=100\n' +
      '##### CPU 0 buffer started ####\n' +
      '            task-100     [000] .....     0.000006: seq: n=6\n' +
      '            task-100     [000] .....     0.000007: seq: n=7\n' +
      '            task-100     [000] .....     0.000008: seq: n=8\n' +
      '            task-100     [000] .....     0.000009: seq: n=9\n');
  });

  it('trace_pipe consumes, reports lost events, and has no header', () => {
    trace_init({ nr_cpus: 1, buffer_entries: 3, trace_event: 'test:seq' });
    trace_set_context(() => ctx);
    for (let n = 0; n < 5; n++) { at(0, n * 1000); trace_seq.emit({ n }); }
    expect(trace_pipe_read(1)).toBe(
      'CPU:0 [LOST 2 EVENTS]\n' +
      '            task-100     [000] .....     0.000002: seq: n=2\n');
    expect(trace_pipe_read()).toBe(
      '            task-100     [000] .....     0.000003: seq: n=3\n' +
      '            task-100     [000] .....     0.000004: seq: n=4\n');
    expect(trace_pipe_read()).toBe('');
    // Consumed entries leave the `trace` file too, as in Linux.
    expect(trace_read()).toContain('# entries-in-buffer/entries-written: 0/2   #P:1\n');
    for (let n = 5; n < 9; n++) { at(0, n * 1000); trace_seq.emit({ n }); }
    expect(trace_pipe_read().split('\n')[0]).toBe('CPU:0 [LOST 1 EVENTS]');
  });

  it('empties the buffer on reset (echo > trace)', () => {
    set_event('test:seq');
    trace_seq.emit({ n: 1 });
    tracing_reset_online_cpus();
    expect(trace_read()).toContain('entries-in-buffer/entries-written: 0/0');
  });

  it('prints spans as ATrace tracing_mark_write lines', () => {
    set_event('syscalls:sys_span');
    at(1, 2000, 'cat', 57);
    sys_span.begin('read', { fd: 3 });
    at(1, 5000, 'cat', 57);
    sys_span.end();
    expect(trace_pipe_read()).toBe(
      '             cat-57      [001] .....     0.000002: tracing_mark_write: B|57|read\n' +
      '             cat-57      [001] .....     0.000005: tracing_mark_write: E|57\n');
  });

  it('formats lazily: the raw fields are kept until read', () => {
    set_event('tlb:tlb_flush');
    trace_tlb_flush.emit({ reason: 2, pages: 8 });
    const [e] = trace_entries();
    expect(e.fields).toEqual({ reason: 2, pages: 8 });
    expect(e.tp).toBe(trace_tlb_flush);
  });
});
