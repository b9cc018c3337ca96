/*
 * kernel/time/hrtimer.ts - timer sleeps and the timer interrupt.
 *
 * Mirrors kernel/time/hrtimer.c in miniature. A task in nanosleep() sleeps
 * until an expiry in CLOCK_MONOTONIC ns on its CPU (sched/core.ts's
 * sleep_until, do_nanosleep's half); its CPU's clock event device, the
 * local APIC timer in TSC-deadline mode, is armed for the earliest expiry
 * on that CPU. hrtimer_interrupt() runs when it fires: it wakes every
 * sleeper of this CPU whose time has come and arms the timer for the next
 * one (or leaves it disarmed).
 * Simplified: no hrtimer objects or timerqueue. A CPU's timers are its
 * tasks sleeping on a timer (sched_state's task list, in the order the
 * tasks were created: the order they wake in when several expire at once,
 * where Linux would take expiry order); a sleep cannot be
 * cancelled except by the task's death (hrtimer_cancel_sleeper).
 */
import { sched_state, wake_up_process, wake_up_idle_cpu } from '../sched/core.ts';
import { TASK_INTERRUPTIBLE, type TaskStruct } from '../sched/task.ts';
import { smp_processor_id } from '../smp.ts';
import { rdtsc } from '../../arch/x86/kernel/tsc.ts';
import { lapic_events, lapic_next_deadline, lapic_read_deadline, lapic_timer_shutdown } from '../../arch/x86/kernel/apic/apic.ts';
import { cycles_to_ns, ns_to_cycles } from './timekeeping.ts';

/** hrtimers_init(): the local timer's interrupt runs hrtimer_interrupt(). */
export function hrtimers_init(): void {
  lapic_events.event_handler = hrtimer_interrupt;
}

/*
 * Has a sleep until `until_ns` ended at TSC value `now`? Either test says
 * yes: ns is what the sleeper asked for, and the TSC deadline is what the
 * timer fired at (converting that back to ns may round a hair below the
 * expiry: timer_wakeup_rounding in tests/kernel/sched.test.ts).
 */
function sleeper_expired(until_ns: number, now: number): boolean {
  return cycles_to_ns(now) >= until_ns || now >= ns_to_cycles(until_ns);
}

/** The earliest expiry, as a TSC deadline, among this CPU's timer sleepers; 0 if none. */
function next_sleeper_deadline(cpu: number): number {
  if (sched_state.timer_sleepers === 0) return 0;
  let next = 0;
  for (const p of sched_state.tasks.values()) {
    if (p.cpu !== cpu || p.state !== TASK_INTERRUPTIBLE || p.wait.kind !== 'timer') continue;
    const t = ns_to_cycles(p.wait.until_ns);
    if (next === 0 || t < next) next = t;
  }
  return next;
}

/* Arm this CPU's timer for the next sleeper, or disarm it. */
function hrtimer_reprogram(cpu: number): void {
  const next = next_sleeper_deadline(cpu);
  if (next > 0) lapic_next_deadline(next);
  else lapic_timer_shutdown();
}

/**
 * hrtimer_interrupt(): this CPU's timer fired. Wake the sleepers whose
 * time has come, in task-list order, then arm for the next.
 */
export function hrtimer_interrupt(): void {
  const cpu = smp_processor_id();
  const now = rdtsc();
  if (sched_state.timer_sleepers > 0) {
    for (const p of sched_state.tasks.values()) {
      if (p.cpu !== cpu || p.state !== TASK_INTERRUPTIBLE || p.wait.kind !== 'timer') continue;
      if (sleeper_expired(p.wait.until_ns, now)) wake_up_process(p);
    }
  }
  hrtimer_reprogram(cpu);
}

/**
 * tick_nohz_idle_enter()'s part: the CPU is about to wait idle, so its
 * timer must stand for its sleepers as they are now. (It can only be
 * early: a sleeper that died on another CPU leaves it armed.)
 */
export function hrtimer_idle_enter(): void {
  if (lapic_read_deadline() > 0) hrtimer_reprogram(smp_processor_id());
}

/**
 * A timer sleeper dies without waking (exit_group from another thread).
 * Its CPU's timer stays armed for it; if that CPU is idle it is woken to
 * re-arm, as Linux's dying sleeper would wake on its CPU and cancel its
 * hrtimer there.
 */
export function hrtimer_cancel_sleeper(p: TaskStruct): void {
  sched_state.timer_sleepers--;
  if (p.cpu !== smp_processor_id()) wake_up_idle_cpu(p.cpu);
}
