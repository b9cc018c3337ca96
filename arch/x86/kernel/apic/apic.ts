/*
 * arch/x86/kernel/apic/apic.ts - the local APIC timer as the clock event device.
 *
 * Mirrors the TSC-deadline half of arch/x86/kernel/apic/apic.c:
 * lapic_next_deadline() arms IA32_TSC_DEADLINE for the next timer event,
 * lapic_timer_shutdown() disarms it, and sysvec_apic_timer_interrupt(),
 * the LOCAL_TIMER_VECTOR entry, calls the clock event's event_handler,
 * which hrtimers_init() points at hrtimer_interrupt() (as
 * tick_switch_to_oneshot does in Linux). The handler is a pointer set at
 * boot so that this file needs nothing from kernel/time at runtime.
 * Left out: periodic and one-shot (non-deadline) modes, calibration
 * against the TSC, the tick broadcast device for deep C-states.
 */
import type { Cpu, FaultResult } from '../../hw/cpu.ts';
import { FAULT_RETRY } from '../../hw/cpu.ts';
import { this_cpu } from '../../../../kernel/smp.ts';

/** struct clock_event_device lapic_events, the part that is used. */
export const lapic_events = {
  event_handler: null as (() => void) | null,
};

/** lapic_next_deadline(): fire this CPU's timer when its TSC reaches `tsc` (cycles). */
export function lapic_next_deadline(tsc: number): void {
  this_cpu().write_tsc_deadline(tsc);
}

/** lapic_timer_shutdown(): no timer event on this CPU. */
export function lapic_timer_shutdown(): void {
  this_cpu().write_tsc_deadline(0);
}

/** The TSC deadline this CPU's timer is armed for, 0 if none (RDMSR). */
export function lapic_read_deadline(): number {
  return this_cpu().tsc_deadline;
}

/** sysvec_apic_timer_interrupt(): the timer fired on `cpu` (the current CPU). */
export function sysvec_apic_timer_interrupt(_cpu: Cpu): FaultResult {
  lapic_events.event_handler?.();
  return FAULT_RETRY; // the interrupted code resumes
}
