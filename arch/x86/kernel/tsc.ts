/*
 * arch/x86/kernel/tsc.ts - the time-stamp counter as the kernel's clock.
 *
 * Mirrors arch/x86/kernel/tsc.c: tsc_init() settles tsc_khz once at boot
 * (determine_cpu_tsc_frequencies), and rdtsc() (asm/msr.h) reads the
 * counter on the CPU the code runs on. Linux calibrates from CPUID leaf
 * 0x15/0x16 (native_calibrate_tsc) or against the PIT; the simulated
 * machine's CPUID base frequency is its cost profile's clock (cpu_mhz),
 * which is what native_calibrate_tsc() reads here. The TSC counts core
 * cycles, so tsc_khz equals cpu_khz (X86_FEATURE_CONSTANT_TSC with the
 * core at its base frequency).
 * Left out: TSC synchronisation between CPUs (each CPU's counter is its
 * own clock), the watchdog, refined calibration, sched_clock's cyc2ns
 * per-CPU data (kernel/time/timekeeping.ts converts).
 */
import { this_cpu } from '../../../kernel/smp.ts';

export const tsc_state = {
  /** tsc_khz: TSC frequency in kHz, set by tsc_init(); 0 before. */
  tsc_khz: 0,
  /** cpu_khz: the core's frequency in kHz. */
  cpu_khz: 0,
};

/** native_calibrate_tsc(): the TSC frequency in kHz from the CPU's frequency enumeration. */
export function native_calibrate_tsc(): number {
  return this_cpu().costs.cpu_mhz * 1000;
}

/** tsc_init(): settle tsc_khz and cpu_khz for this boot (the BSP's figure holds for all CPUs). */
export function tsc_init(): void {
  const khz = native_calibrate_tsc();
  if (!(khz > 0)) throw new RangeError(`tsc: bad TSC frequency ${khz} kHz`);
  tsc_state.tsc_khz = khz;
  tsc_state.cpu_khz = khz;
}

/** rdtsc(): this CPU's time-stamp counter, in cycles. */
export function rdtsc(): number {
  return this_cpu().rdtsc();
}
