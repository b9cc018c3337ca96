/*
 * arch/x86/hw/run.ts - the machine running its CPUs: Machine.run().
 *
 * Hardware, no Linux counterpart. N CPUs share one host thread, so they
 * take turns: each turn goes to the CPU with the smallest cycle clock
 * (the lowest number on ties), which executes one step of the code the
 * kernel registered with set_cpu_step() (for tskernel: run the current
 * task's user code up to its next syscall, then the syscall), with
 * `current` naming it. Before each turn, every CPU whose TSC deadline has
 * passed takes its timer interrupt. A halted CPU (HLT) gets no turn until
 * a wake-up event; when every CPU is halted, the CPU whose timer is due
 * first waits for it (its clock moves to the deadline, counted idle) and
 * takes the interrupt. With no timer armed either, nothing can ever run
 * again and run() returns 'idle'.
 *
 * A CPU keeps its turn without a new scan while the scan would pick it
 * again anyway: no CPU was woken (none became runnable), no timer is
 * armed anywhere (no interrupt can be due), it is not halted, and its
 * clock has not passed the runner-up's (ties going to the lower number).
 * Other CPUs' clocks only grow meanwhile, so this never runs a step the
 * scan would have given to another CPU; it only saves the scans.
 */
import type { Cpu } from './cpu.ts';
import type { Machine } from './smp.ts';
import { LOCAL_TIMER_VECTOR } from '../include/asm/irq_vectors.ts';

/** What a CPU executes on its turn (registered by the kernel with Machine.set_cpu_step). */
export type CpuStep = (cpu: Cpu) => void;

export interface MachineRunOptions {
  /** Stop once the CPU due next has reached this many cycles. */
  max_cycles?: number;
}

/** Why run() returned: every CPU halted with no timer armed, or the cycle limit. */
export type MachineRunResult = 'idle' | 'cycle_limit';

/* Deliver the local timer interrupt on `cpu`: the deadline disarms as it fires. */
function fire_timer(m: Machine, cpu: Cpu): void {
  cpu.write_tsc_deadline(0);
  const h = m.trap_table[LOCAL_TIMER_VECTOR];
  if (!h) return;
  const saved = m.current;
  m.current = cpu.id;
  try {
    h(cpu, 0, 0, '');
  } finally {
    m.current = saved;
  }
}

/*
 * Timer interrupts that are due, CPU by CPU. A halted CPU takes the
 * interrupt and goes back to waiting unless the handler woke it (the idle
 * loop's need_resched check, folded in).
 */
function fire_due_timers(m: Machine): void {
  if (m.nr_timers_armed === 0) return;
  for (const cpu of m.cpus) {
    const d = cpu.tsc_deadline;
    if (d > 0 && cpu.clock >= d) fire_timer(m, cpu);
  }
}

/*
 * Every CPU is halted: the one whose deadline comes first (lowest number on
 * ties) waits for it. The TSC ticks in whole cycles, so the wait ends on
 * the first whole cycle at or after the deadline.
 */
function idle_until_next_timer(m: Machine): boolean {
  if (m.nr_timers_armed === 0) return false;
  let next: Cpu | null = null;
  for (const cpu of m.cpus) {
    const d = cpu.tsc_deadline;
    if (d > 0 && (next === null || d < next.tsc_deadline)) next = cpu;
  }
  if (next === null) return false;
  next.idle_until(Math.ceil(next.tsc_deadline));
  fire_timer(m, next);
  return true;
}

export function machine_run(m: Machine, step: CpuStep, opts: MachineRunOptions = {}): MachineRunResult {
  const cpus = m.cpus;
  const max = opts.max_cycles;
  try {
    for (;;) {
      fire_due_timers(m);
      // The runnable CPU with the smallest clock, and the runner-up (rival).
      let best = -1;
      let rival = -1;
      for (let c = 0; c < cpus.length; c++) {
        if (cpus[c].halted) continue;
        if (best < 0) {
          best = c;
        } else if (cpus[c].clock < cpus[best].clock) {
          rival = best;
          best = c;
        } else if (rival < 0 || cpus[c].clock < cpus[rival].clock) {
          rival = c;
        }
      }
      if (best < 0) {
        if (idle_until_next_timer(m)) continue;
        return 'idle';
      }
      const cpu = cpus[best];
      if (max !== undefined && cpu.clock >= max) return 'cycle_limit';
      const rival_clock = rival < 0 ? Infinity : cpus[rival].clock;
      const wakeups = m.nr_wakeups;
      // Dispatched: whatever woke it, it runs from here. Only HLT (which
      // ends the turn) puts it back in its idle wait.
      cpu.in_idle = false;
      for (;;) {
        m.current = best;
        step(cpu);
        if (m.nr_wakeups !== wakeups || cpu.halted || m.nr_timers_armed > 0) break;
        const clock = cpu.clock;
        if (clock > rival_clock || (clock === rival_clock && best > rival)) break;
        if (max !== undefined && clock >= max) break;
      }
    }
  } finally {
    m.current = 0;
  }
}
