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

export { trace_pmu_sample };

/** Sampling period per CPU, in ns of simulated time (100 µs: ~10 samples per ms of work). */
export const PMU_SAMPLE_PERIOD_NS = 100_000;

/** Per CPU: the time of its last sample (ns); -Infinity before the first. */
const last_sample_ns = new Float64Array(NR_CPUS).fill(-Infinity);

/** Emit a sample if this CPU's period has passed, or always when `force`. */
export function pmu_sample(force: boolean): void {
  const cpu = smp_processor_id();
  const now = ktime_get_ns();
  // A new boot's clock starts over: a sample "from the future" is a previous boot's.
  if (!force && now - last_sample_ns[cpu] < PMU_SAMPLE_PERIOD_NS && now >= last_sample_ns[cpu]) return;
  last_sample_ns[cpu] = now;
  const c = this_cpu();
  trace_pmu_sample.emit({ cycles: c.busy_cycles, dtlb_misses: c.ev[HW_TLB_MISS], asi_exits: vmstat.events[cpu]?.[ASI_EXITS] ?? 0 });
}
