/*
 * kernel/trace/events/pmu.ts - pmu:pmu_sample, the CPU's counters as a
 * tracepoint.
 *
 * No Linux counterpart as a tracepoint: what `perf stat -I` (interval
 * mode) or Perfetto's per-CPU counter polling reads from the PMU, put in
 * the trace buffer so the timeline carries counter tracks. Fields are the
 * running totals on the CPU that emitted it: busy cycles (cycles,
 * CPU_CLK_UNHALTED), dTLB load misses, and ASI exits (its /proc/vmstat
 * asi_exits share). Emitted by arch/x86/events/pmu_sample.ts.
 */
import { DEFINE_EVENT } from '../index.ts';

export const trace_pmu_sample = DEFINE_EVENT<{ cycles: number; dtlb_misses: number; asi_exits: number }>(
  'pmu', 'pmu_sample',
  (f) => `cycles=${Math.round(f.cycles)} dTLB-load-misses=${f.dtlb_misses} asi_exits=${f.asi_exits}`);
