/*
 * tests/kernel/trace/trace_events.test.ts - declaring events and turning them
 * on and off by set_event / trace_event= patterns.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DEFINE_EVENT, DEFINE_SPAN, available_events, enabled_events, set_event, trace_init,
  trace_entries, trace_set_context, perf_trace_enable, perf_trace_counts, trace_find_event,
  tracing_off, tracing_on,
} from '../../../kernel/trace/index.ts';
import { printk_state, printk_init, KERN_WARNING } from '../../../kernel/printk.ts';

const trace_tlb_flush = DEFINE_EVENT<{ reason: number; pages: number }>(
  'tlb', 'tlb_flush', (f) => `pages:${f.pages} reason:${f.reason}`);
const trace_asi_enter = DEFINE_EVENT<{ asi: number }>('asi', 'asi_enter', (f) => `asi=${f.asi}`);
const trace_asi_exit = DEFINE_EVENT<{ asi: number }>('asi', 'asi_exit', (f) => `asi=${f.asi}`);
const trace_mm_page_alloc = DEFINE_EVENT<{ pfn: number }>('kmem', 'mm_page_alloc', (f) => `pfn=0x${f.pfn.toString(16)}`);
// An event whose name equals another system's name: "tlb" must match both.
const trace_tlb = DEFINE_EVENT<Record<string, never>>('misc', 'tlb', () => '');
const sys_span = DEFINE_SPAN('syscalls', 'sys_span');

function enabled(): string[] {
  return enabled_events().sort();
}

describe('kernel_trace_events', () => {
  beforeEach(() => {
    trace_init();
  });

  it('lists every declared event in declaration order', () => {
    expect(available_events()).toEqual([
      'tlb:tlb_flush', 'asi:asi_enter', 'asi:asi_exit', 'kmem:mm_page_alloc', 'misc:tlb', 'syscalls:sys_span',
    ]);
    expect(trace_find_event('asi', 'asi_exit')).toBe(trace_asi_exit);
  });

  it('starts with every event disabled', () => {
    expect(enabled()).toEqual([]);
    expect(trace_tlb_flush.enabled).toBe(false);
  });

  it('enables a system wildcard and an exact event', () => {
    expect(set_event('asi:*,tlb:tlb_flush')).toEqual([]);
    expect(enabled()).toEqual(['asi:asi_enter', 'asi:asi_exit', 'tlb:tlb_flush']);
    expect(trace_asi_enter.enabled && trace_asi_exit.enabled && trace_tlb_flush.enabled).toBe(true);
    expect(trace_mm_page_alloc.enabled).toBe(false);
  });

  it('treats "sys:" like "sys:*" and ":name" like "*:name"', () => {
    set_event('kmem:');
    expect(enabled()).toEqual(['kmem:mm_page_alloc']);
    set_event(':asi_exit');
    expect(enabled()).toEqual(['asi:asi_exit']);
  });

  it('enables everything with *:*', () => {
    set_event('*:*');
    expect(enabled()).toEqual(available_events().sort());
    expect(sys_span.enabled).toBe(true);
  });

  it('matches a bare word against systems and event names', () => {
    set_event('tlb');
    expect(enabled()).toEqual(['misc:tlb', 'tlb:tlb_flush']);
    expect(trace_tlb.enabled).toBe(true);
  });

  it('disables with "!", left to right', () => {
    set_event('*:*,!tlb:tlb_flush,!asi');
    expect(enabled()).toEqual(['kmem:mm_page_alloc', 'misc:tlb', 'syscalls:sys_span']);
    expect(trace_tlb_flush.enabled).toBe(false);
  });

  it('replaces the set unless appending, like > and >> on set_event', () => {
    set_event('asi:asi_enter');
    set_event('kmem:mm_page_alloc');
    expect(enabled()).toEqual(['kmem:mm_page_alloc']);
    set_event('asi:asi_enter', true);
    expect(enabled()).toEqual(['asi:asi_enter', 'kmem:mm_page_alloc']);
    set_event('!asi:asi_enter', true);
    expect(enabled()).toEqual(['kmem:mm_page_alloc']);
  });

  it('names unknown events and still applies the rest', () => {
    const errors = set_event('tlb:nosuch,asi:*,nosys:*, bogus ,!tlb:nope');
    expect(errors).toEqual([
      'Failed to enable trace event: tlb:nosuch',
      'Failed to enable trace event: nosys:*',
      'Failed to enable trace event: bogus',
      'Failed to enable trace event: !tlb:nope',
    ]);
    expect(enabled()).toEqual(['asi:asi_enter', 'asi:asi_exit']);
  });

  it('treats * only as a whole component, as Linux does (no glob)', () => {
    expect(set_event('asi:asi_*')).toEqual(['Failed to enable trace event: asi:asi_*']);
    expect(set_event('*')).toEqual(['Failed to enable trace event: *']);
  });

  it('applies trace_event= at init and warns about unknown names', () => {
    printk_init();
    const errors = trace_init({ trace_event: 'asi:*,tlb:tlb_flsh' });
    expect(errors).toEqual(['Failed to enable trace event: tlb:tlb_flsh']);
    expect(printk_state.log).toEqual([{ level: KERN_WARNING, text: 'Failed to enable trace event: tlb:tlb_flsh' }]);
    expect(enabled()).toEqual(['asi:asi_enter', 'asi:asi_exit']);
  });

  it('records nothing for a disabled event, even when emit is called', () => {
    set_event('asi:asi_enter');
    trace_tlb_flush.emit({ reason: 0, pages: 1 });
    trace_asi_exit.emit({ asi: 1 });
    trace_asi_enter.emit({ asi: 2 });
    expect(trace_entries().map((e) => e.name)).toEqual(['asi_enter']);
  });

  it('records nothing while tracing is off, and again once on', () => {
    set_event('asi:asi_enter');
    tracing_off();
    trace_asi_enter.emit({ asi: 1 });
    expect(trace_entries()).toEqual([]);
    tracing_on();
    trace_asi_enter.emit({ asi: 2 });
    expect(trace_entries().map((e) => e.fields)).toEqual([{ asi: 2 }]);
  });

  it('starts each boot from nothing: flags, buffer, counters, context', () => {
    set_event('*:*');
    perf_trace_enable('tlb:tlb_flush');
    trace_set_context(() => ({ cpu: 1, comm: 'x', pid: 5, ts_ns: 9 }));
    trace_tlb_flush.emit({ reason: 0, pages: 1 });
    expect(trace_entries()).toHaveLength(1);

    trace_init();
    expect(enabled()).toEqual([]);
    expect(trace_tlb_flush.enabled).toBe(false);
    expect(trace_entries()).toEqual([]);
    expect(perf_trace_counts()).toEqual({});
    set_event('tlb:tlb_flush');
    trace_tlb_flush.emit({ reason: 0, pages: 1 });
    const [e] = trace_entries();
    expect([e.cpu, e.comm, e.pid, e.ts_ns, e.flags]).toEqual([0, '<idle>', 0, 0, '.....']);
  });

  it('counts hits per CPU for perf without recording', () => {
    expect(perf_trace_enable('tlb:tlb_flush,nosuch')).toEqual(['Failed to enable trace event: nosuch']);
    expect(trace_tlb_flush.enabled).toBe(true);
    let cpu = 0;
    trace_set_context(() => ({ cpu, comm: 'a', pid: 1, ts_ns: 0 }));
    trace_tlb_flush.emit({ reason: 0, pages: 1 });
    cpu = 2;
    trace_tlb_flush.emit({ reason: 0, pages: 1 });
    trace_tlb_flush.emit({ reason: 0, pages: 1 });
    expect(trace_entries()).toEqual([]);
    expect(perf_trace_counts(4)).toEqual({ 'tlb:tlb_flush': [1, 0, 2, 0] });
    perf_trace_enable('!tlb:tlb_flush');
    expect(trace_tlb_flush.enabled).toBe(false);
  });

  it('keeps an event enabled for ftrace when perf stops counting it', () => {
    set_event('tlb:tlb_flush');
    perf_trace_enable('tlb:tlb_flush');
    perf_trace_enable('!tlb:tlb_flush');
    expect(trace_tlb_flush.enabled).toBe(true);
  });
});
