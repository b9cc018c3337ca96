/*
 * tests/kernel/trace/trace_perfetto_tracks.test.ts - the Perfetto view:
 * task, syscall, IPI and ASI slices, exits with their site, IPI flow
 * arrows and counter tracks, checked against the Chrome trace format
 * (tools/lib/trace_check.ts) on hand-made events and on a booted kernel.
 */
import { describe, expect, it } from 'vitest';
import {
  trace_init, trace_set_context, trace_perfetto, set_event, chrome_trace_json, type ChromeTrace, type ChromeTraceEvent, type TraceContext,
} from '../../../kernel/trace/index.ts';
import { trace_sched_switch } from '../../../kernel/sched/core.ts';
import { trace_sys_enter, trace_sys_exit } from '../../../arch/x86/entry/common.ts';
import { trace_asi_enter, trace_asi_exit, trace_asi_exit_pf } from '../../../kernel/trace/events/asi.ts';
import { trace_ipi_send_cpumask, trace_ipi_entry, trace_ipi_exit, IPI_REASON_CALL_FUNCTION } from '../../../kernel/trace/events/ipi.ts';
import { trace_pmu_sample } from '../../../kernel/trace/events/pmu.ts';
import { ksym } from '../../../include/linux/instruction_pointer.ts';
import { check_chrome_trace } from '../../../tools/lib/trace_check.ts';
import { TRACE_DEFAULT_EVENTS, trace_start, trace_capture } from '../../../tools/lib/trace_out.ts';
import { start_kernel } from '../../../init/main.ts';
import { run_sample } from '../../../tools/compare/sample.ts';
import type { Nolibc } from '../../../tools/include/nolibc.ts';
import { CLONE_VM, CLONE_FILES, CLONE_THREAD, CLONE_SIGHAND } from '../../../include/uapi/linux/sched.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../../include/uapi/linux/mman.ts';
import { HW_IPI_SENT } from '../../../arch/x86/hw/events.ts';
import { ASI_EXIT_PAGE_FAULT, ASI_EXIT_CONTEXT_SWITCH } from '../../../include/linux/asi.ts';

const ctx: TraceContext = { cpu: 0, comm: 'swapper/0', pid: 0, ts_ns: 0 };
function at(cpu: number, ts_ns: number, comm = 'reader', pid = 42): void {
  Object.assign(ctx, { cpu, ts_ns, comm, pid });
}
const by = (t: ChromeTrace, ph: string, name?: string): ChromeTraceEvent[] =>
  t.traceEvents.filter((e) => e.ph === ph && (name === undefined || e.name === name));

describe('kernel_trace_perfetto_tracks', () => {
  it('folds sched_switch, syscalls, ASI transitions and IPIs into slices, instants, flows and counters', () => {
    trace_init({ nr_cpus: 2, trace_event: TRACE_DEFAULT_EVENTS });
    trace_set_context(() => ctx);
    const site = ksym('copy_page_to_iter');
    /*
     * CPU 0:  |-- reader (sched_switch at 1 us) ---------------------------|
     *           |- pread64 2..6 us -|        |- munmap 8..12 us (IPI) -|
     *         restricted 1.5..3 us, exit (page fault at copy_page_to_iter) at 3 us
     * CPU 1:  idle; the IPI's handler 9.5..10 us
     */
    at(0, 1000, 'swapper/0', 0);
    trace_sched_switch.emit({ prev_comm: 'swapper/0', prev_pid: 0, prev_state: 'R', next_comm: 'reader', next_pid: 42 });
    at(0, 1500);
    trace_asi_enter.emit({ class_id: 1, pcid: 0x801 });
    at(0, 2000);
    trace_sys_enter.emit({ nr: 17, args: [3, 0x1000, 4096, 0] });
    trace_pmu_sample.emit({ cycles: 5600, dtlb_misses: 3, asi_exits: 0 });
    at(0, 3000);
    trace_asi_exit.emit({ reason: ASI_EXIT_PAGE_FAULT, ip: 0 });
    trace_asi_exit_pf.emit({ address: 0x888000100000, ip: site, error_code: 0, user_mode: false });
    at(0, 6000);
    trace_sys_exit.emit({ nr: 17, ret: 4096 });
    trace_pmu_sample.emit({ cycles: 16800, dtlb_misses: 5, asi_exits: 1 });
    at(0, 8000);
    trace_sys_enter.emit({ nr: 11, args: [0x1000, 4096] });
    at(0, 9000);
    trace_ipi_send_cpumask.emit({ cpumask: [1], callsite: 'flush_tlb_mm_range', callback: 'flush_tlb_func' });
    at(1, 9500, 'swapper/1', 0);
    trace_ipi_entry.emit({ reason: IPI_REASON_CALL_FUNCTION });
    at(1, 10000, 'swapper/1', 0);
    trace_ipi_exit.emit({ reason: IPI_REASON_CALL_FUNCTION });
    at(0, 12000);
    trace_sys_exit.emit({ nr: 11, ret: 0 });
    at(0, 13000);
    trace_asi_exit.emit({ reason: ASI_EXIT_CONTEXT_SWITCH, ip: 0 });

    const t = trace_perfetto({ syscall_name: (nr) => ({ 17: 'pread64', 11: 'munmap' } as Record<number, string>)[nr] ?? `NR ${nr}` });
    const chk = check_chrome_trace(JSON.parse(JSON.stringify(t)));
    expect(chk.errors).toEqual([]);

    const x = by(t, 'X');
    const slice = (name: string): ChromeTraceEvent | undefined => x.find((e) => e.name === name);
    expect(slice('reader')).toMatchObject({ cat: 'sched', tid: 0, ts: 1, dur: 12 });
    expect(slice('pread64')).toMatchObject({ cat: 'syscall', tid: 0, ts: 2, dur: 4, args: { nr: 17, ret: 4096 } });
    expect(slice('munmap')).toMatchObject({ cat: 'syscall', tid: 0, ts: 8, dur: 4 });
    expect(slice('restricted')).toMatchObject({ cat: 'asi', tid: 1000, ts: 1.5, dur: 1.5 });
    expect(slice('unrestricted')).toMatchObject({ cat: 'asi', tid: 1000, ts: 3, dur: 10 });
    expect(slice('IPI: Function call interrupts')).toMatchObject({ tid: 1, ts: 9.5, dur: 0.5 });
    const exits = by(t, 'i', 'asi_exit');
    expect(exits.map((e) => [e.ts, e.args?.reason, e.args?.site])).toEqual([[3, 'page_fault', 'copy_page_to_iter'], [13, 'context_switch', '?']]);
    // One arrow from the sender's munmap to the receiver's handler.
    const [s] = by(t, 's');
    const [f] = by(t, 'f');
    expect([s.tid, s.ts, f.tid, f.bp, f.id]).toEqual([0, 9, 1, 'e', s.id]);
    expect(f.ts).toBeGreaterThan(9.5);
    expect(f.ts).toBeLessThan(10);
    // Counter tracks from the PMU samples.
    expect(by(t, 'C', 'CPU 0 cycles').map((e) => e.args?.value)).toEqual([5600, 16800]);
    expect(by(t, 'C', 'CPU 0 asi_exits').map((e) => e.args?.value)).toEqual([0, 1]);
    // The tracks are named; the ASI one only where ASI events happened.
    const names = by(t, 'M', 'thread_name').map((e) => e.args?.name);
    expect(names).toEqual(['CPU 0', 'CPU 1', 'CPU 0 ASI']);
    expect(chk.cpus['0/CPU 0']).toMatchObject({ syscall_slices: 2, restricted_slices: 1, asi_exits: 2, ipi_flows_sent: 1 });
    expect(chk.cpus['0/CPU 1']).toMatchObject({ ipi_flows_received: 1 });
  });

  it('a syscall that slept ends at the switch and resumes after; an end whose begin was overwritten is dropped', () => {
    trace_init({ nr_cpus: 1, trace_event: TRACE_DEFAULT_EVENTS, buffer_entries: 64 });
    trace_set_context(() => ctx);
    at(0, 1000);
    trace_sys_exit.emit({ nr: 0, ret: 1 }); // its sys_enter is not in the buffer, nor a task slice
    trace_sys_enter.emit({ nr: 61, args: [-1, 0, 0, 0] });
    at(0, 2000);
    trace_sched_switch.emit({ prev_comm: 'reader', prev_pid: 42, prev_state: 'S', next_comm: 'swapper/0', next_pid: 0 });
    at(0, 5000, 'swapper/0', 0);
    trace_sched_switch.emit({ prev_comm: 'swapper/0', prev_pid: 0, prev_state: 'R', next_comm: 'reader', next_pid: 42 });
    at(0, 5500);
    trace_sys_exit.emit({ nr: 61, ret: 43 });
    const t = trace_perfetto({ syscall_name: (nr) => (nr === 61 ? 'wait4' : `NR ${nr}`) });
    expect(check_chrome_trace(t).errors).toEqual([]);
    const x = by(t, 'X').map((e) => [e.name, e.ts, e.dur, e.args?.slept ?? false]);
    expect(x).toContainEqual(['wait4', 1, 1, true]);
    expect(x).toContainEqual(['wait4 (resumed)', 5, 0.5, false]);
    expect(x.filter((e) => e[0] === 'NR 0')).toEqual([]);
  });

  it('the format check finds unmatched B/E, time going back, overlapping slices and unpaired flows', () => {
    const ev = (o: Partial<ChromeTraceEvent>): ChromeTraceEvent => ({ name: 'x', ph: 'i', pid: 0, tid: 0, ts: 0, ...o });
    const bad = check_chrome_trace({
      traceEvents: [
        ev({ ph: 'E', ts: 1 }),
        ev({ ph: 'X', ts: 5, dur: 10 }),
        ev({ ph: 'X', ts: 6, dur: 20 }),
        ev({ ph: 'i', ts: 4 }),
        ev({ ph: 's', id: 7, ts: 30 }),
        ev({ ph: 'B', tid: 3, ts: 1 }),
      ],
      displayTimeUnit: 'ns',
    });
    expect(bad.errors).toEqual(expect.arrayContaining([
      expect.stringMatching(/E without B/),
      expect.stringMatching(/overlaps its parent/),
      expect.stringMatching(/goes back/),
      expect.stringMatching(/flow 7 is not paired/),
      expect.stringMatching(/B without E/),
    ]));
    expect(check_chrome_trace({ nope: 1 }).errors).toEqual(['no traceEvents array']);
  });

  it('the same traced sample twice in one host thread gives the same file, byte for byte', () => {
    const task = {
      variant: 'v', cmdline: 'asi=on', sample: 0,
      fio_args: ['--name=r', '--rw=randread', '--size=256K', '--bs=4k', '--directory=/tmp'],
      trace: { events: TRACE_DEFAULT_EVENTS, entries: 65536, ftrace: true, perfetto: true, pid: 1, process_name: 'v' },
    };
    const a = run_sample(task);
    const b = run_sample(task);
    expect(a.error).toBeUndefined();
    const ja = chrome_trace_json(a.trace!.perfetto!);
    expect(ja).toBe(chrome_trace_json(b.trace!.perfetto!));
    expect(a.trace!.ftrace).toBe(b.trace!.ftrace);
    expect(ja).toMatch(/"name":"CPU 0 cycles","ph":"C"/);
    set_event('*:*', false);
    // Tracing costs no simulated cycle: the traced sample's result is the untraced one's.
    const plain = run_sample({ ...task, trace: undefined });
    expect([plain.iops, plain.cost, plain.events]).toEqual([a.iops, a.cost, a.events]);
  });

  it('a booted kernel under asi=on: every CPU that ran syscalls has syscall and restricted slices and exits; every CPU that sent an IPI has a flow', () => {
    const k = start_kernel('mem=64M cpus=2 asi=on setcpuid=retbleed');
    const req = { events: TRACE_DEFAULT_EVENTS, entries: 65536, ftrace: true, perfetto: true, pid: 1, process_name: 'test' };
    expect(trace_start(k, req)).toEqual([]);
    k.spawn('init', function* (u: Nolibc) {
      // Two threads of one mm on two CPUs; unmapping what they touched shoots down the other CPU's TLB.
      const b = yield* u.mmap(0, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      const th = CLONE_VM | CLONE_FILES | CLONE_THREAD | CLONE_SIGHAND;
      for (let t = 0; t < 2; t++) {
        yield* u.clone(th, function* (c: Nolibc) {
          for (let r = 0; r < 4; r++) {
            for (let i = 0; i < 16; i++) c.poke32(b + i * 4096, r);
            yield* c.sched_yield();
          }
          return 0;
        });
      }
      yield* u.nanosleep(2_000_000);
      yield* u.munmap(b, 16 * 4096);
      return 0;
    });
    expect(k.run().reason).toBe('done');
    const cap = trace_capture(k, req);
    const sent = k.machine.cpus.map((c) => c.ev[HW_IPI_SENT]);
    k.shutdown();
    set_event('*:*', false);
    expect(cap.ftrace).toMatch(/sys_enter: NR \d+/);
    const chk = check_chrome_trace(JSON.parse(JSON.stringify(cap.perfetto)));
    expect(chk.errors).toEqual([]);
    expect(sent.some((n) => n > 0)).toBe(true);
    for (let cpu = 0; cpu < 2; cpu++) {
      const s = chk.cpus[`1/CPU ${cpu}`];
      expect(s.syscall_slices).toBeGreaterThan(0);
      expect(s.restricted_slices).toBeGreaterThan(0);
      expect(s.asi_exits).toBeGreaterThan(0);
      if (sent[cpu] > 0) expect(s.ipi_flows_sent).toBeGreaterThan(0);
    }
    expect(cap.perfetto!.traceEvents.some((e) => e.ph === 'C' && /cycles/.test(e.name))).toBe(true);
  });
});
