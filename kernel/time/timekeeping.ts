/*
 * kernel/time/timekeeping.ts - ktime_get_ns() and cycles <-> ns.
 *
 * Mirrors kernel/time/timekeeping.c's ktime_get_ns() over the TSC
 * clocksource, and the cycles/ns conversions that Linux splits between
 * clocksource mult/shift (timekeeping) and cyc2ns (arch/x86/kernel/tsc.c).
 * Linux converts with a multiply and a shift to stay in 64-bit integers;
 * here the counter is a double, so the conversion is an exact division,
 * ns = cycles * 1000 / MHz, correctly rounded, with no drift to correct.
 * Time is per CPU: each CPU's TSC is its own cycle clock (kernel/smp.ts's
 * this_cpu() picks which), so two CPUs may read different times, as
 * unsynchronised TSCs would.
 * Left out: clocksource switching, NTP adjustment, the realtime and
 * boottime offsets (one clock: CLOCK_MONOTONIC from boot).
 */
import { rdtsc, tsc_state } from '../../arch/x86/kernel/tsc.ts';

const tk = {
  /** tsc_khz / 1000, cached: the divisor of both conversions. */
  tsc_mhz: 0,
  tsc_khz: 0,
};

function tsc_mhz(): number {
  const khz = tsc_state.tsc_khz;
  if (khz !== tk.tsc_khz) {
    if (!(khz > 0)) throw new Error('timekeeping: no clocksource: tsc_init() has not run');
    tk.tsc_khz = khz;
    tk.tsc_mhz = khz / 1000;
  }
  return tk.tsc_mhz;
}

/** cycles_2_ns(): TSC cycles to nanoseconds. */
export function cycles_to_ns(cycles: number): number {
  return (cycles * 1000) / tsc_mhz();
}

/**
 * ns to TSC cycles, exactly (a fraction of a cycle included): the point at
 * which cycles_to_ns() reaches `ns`. A TSC deadline rounds it up.
 */
export function ns_to_cycles(ns: number): number {
  return (ns * tsc_mhz()) / 1000;
}

/** ktime_get_ns(): CLOCK_MONOTONIC on this CPU, in ns since boot. */
export function ktime_get_ns(): number {
  return cycles_to_ns(rdtsc());
}
