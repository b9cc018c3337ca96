/*
 * arch/x86/events/pmu_sample.ts - read the PMU into pmu:pmu_sample.
 *
 * Mirrors, loosely, arch/x86/events/core.c's x86_perf_event_update() (read
 * a counter, RDPMC) driven the way `perf stat -I` polls: at most one sample
 * per CPU every PMU_SAMPLE_PERIOD_NS of that CPU's time, taken on the
 * syscall exit path, plus one at every context switch, so a counter track
 * steps where tasks change. Only when pmu:pmu_sample is enabled; the call
 * sites test `trace_pmu_sample.enabled` first.
 */
import { this_cpu, smp_processor_id } from '../../../kernel/smp.ts';
import { ktime_get_ns } from '../../../kernel/time/timekeeping.ts';
import { vmstat } from '../../../mm/vmstat.ts';
import { HW_TLB_MISS } from '../hw/events.ts';
import { ASI_EXITS } from '../mm/asi.ts';
import { NR_CPUS } from '../../../include/linux/threads.ts';
import { trace_pmu_sample } from '../../../kernel/trace/events/pmu.ts';
import { trace_buffer } from '../../../kernel/trace/index.ts';
import type { TraceBuffer } from '../../../kernel/trace/ring_buffer.ts';

export { trace_pmu_sample };

/** Sampling period per CPU, in ns of simulated time (100 µs: ~10 samples per ms of work). */
export const PMU_SAMPLE_PERIOD_NS = 100_000;

/** Per CPU: the time of its last sample (ns); -Infinity before the first. */
const last_sample_ns = new Float64Array(NR_CPUS).fill(-Infinity);
/**
 * The trace buffer those times belong to: every boot (and every resize)
 * makes a new one, and the times start over with it, so a trace does not
 * depend on what an earlier kernel in the same host thread sampled.
 */
let sampled_buffer: TraceBuffer | null = null;

/** Emit a sample if this CPU's period has passed, or always when `force`. */
export function pmu_sample(force: boolean): void {
  const cpu = smp_processor_id();
  const now = ktime_get_ns();
  const buf = trace_buffer();
  if (buf !== sampled_buffer) {
    last_sample_ns.fill(-Infinity);
    sampled_buffer = buf;
  }
  if (!force && now - last_sample_ns[cpu] < PMU_SAMPLE_PERIOD_NS) return;
  last_sample_ns[cpu] = now;
  const c = this_cpu();
  trace_pmu_sample.emit({ cycles: c.busy_cycles, dtlb_misses: c.ev[HW_TLB_MISS], asi_exits: vmstat.events[cpu]?.[ASI_EXITS] ?? 0 });
}
