/*
 * arch/x86/hw/smp.ts - the machine: RAM, N CPUs, the IDT, IPIs, wake-ups.
 *
 * Hardware, no Linux counterpart. All CPUs run in one host thread; the
 * machine's run loop (run.ts) says which CPU is executing (`current`).
 * A CPU waiting in HLT is woken by an event from another CPU (wake()), by
 * its timer (run.ts), or takes an IPI without waking. An IPI charges
 * the sender per target and the receiver for taking the interrupt, then
 * runs the handler on the receiver at once with `current` switched to it,
 * so code in the handler that asks "which CPU am I" gets the receiver.
 */
import { PhysMem } from './physmem.ts';
import { Cpu, type CpuFeatures, ALL_FEATURES, type FaultResult } from './cpu.ts';
import { type CostProfile, cost_profile, DEFAULT_COST_PROFILE } from './costs.ts';
import type { TlbConfig } from './tlb.ts';
import { HW_IPI_RECEIVED, HW_IPI_SENT } from './events.ts';
import { NR_VECTORS } from '../include/asm/irq_vectors.ts';
import { machine_run, type CpuStep, type MachineRunOptions, type MachineRunResult } from './run.ts';

/**
 * A trap handler: `error_code` and `cr2` for #PF, `reason` for #GP/#UD.
 * Returns FAULT_RETRY to restart the access or FAULT_FIXUP to abandon it.
 */
export type TrapHandler = (cpu: Cpu, error_code: number, cr2: number, reason: string) => FaultResult;

export interface MachineConfig {
  mem_bytes: number;
  nr_cpus: number;
  costs?: CostProfile;
  features?: Partial<CpuFeatures>;
  tlb?: Partial<TlbConfig>;
}

export const MAX_CPUS = 64;

export class Machine {
  readonly mem: PhysMem;
  readonly cpus: Cpu[];
  readonly costs: CostProfile;
  readonly features: CpuFeatures;
  /** IDT: vector -> handler (X86_TRAP_PF, X86_TRAP_GP, X86_TRAP_UD, LOCAL_TIMER_VECTOR). */
  readonly trap_table: (TrapHandler | undefined)[] = new Array<TrapHandler | undefined>(NR_VECTORS).fill(undefined);
  /** The CPU executing now. */
  current = 0;
  /** What a CPU executes on its turn in run(); the kernel's, set at boot. */
  private cpu_step: CpuStep | null = null;
  /** Wake-ups of halted CPUs so far: run() rescans when one became runnable. */
  nr_wakeups = 0;
  /** CPUs whose TSC deadline is armed (kept by Cpu.write_tsc_deadline). */
  nr_timers_armed = 0;

  constructor(cfg: MachineConfig) {
    if (!Number.isInteger(cfg.nr_cpus) || cfg.nr_cpus < 1 || cfg.nr_cpus > MAX_CPUS)
      throw new RangeError(`machine: ${cfg.nr_cpus} CPUs (1..${MAX_CPUS})`);
    this.mem = new PhysMem(cfg.mem_bytes);
    this.costs = cfg.costs ?? cost_profile(DEFAULT_COST_PROFILE);
    this.features = { ...ALL_FEATURES, ...cfg.features };
    this.cpus = [];
    for (let i = 0; i < cfg.nr_cpus; i++)
      this.cpus.push(new Cpu(i, this, this.mem, this.costs, this.features, cfg.tlb));
  }

  get nr_cpus(): number {
    return this.cpus.length;
  }

  this_cpu(): Cpu {
    return this.cpus[this.current];
  }

  /** set_intr_gate(): install a handler for a vector. */
  set_intr_gate(vector: number, handler: TrapHandler): void {
    this.trap_table[vector] = handler;
  }

  /** Install the code each CPU runs on its turn (as set_intr_gate installs handlers). */
  set_cpu_step(step: CpuStep): void {
    this.cpu_step = step;
  }

  /** Run the CPUs, smallest clock first, until all wait forever or the cycle limit (run.ts). */
  run(opts: MachineRunOptions = {}): MachineRunResult {
    if (!this.cpu_step) throw new Error('machine: run() with no CPU step installed');
    return machine_run(this, this.cpu_step, opts);
  }

  /**
   * A wake-up event from `from` to CPU `to`: a store to the line `to`
   * MONITORs in MWAIT (the kernel setting need_resched on its idle CPU) or
   * an interrupt. A CPU in its idle wait resumes no earlier than the event:
   * its clock moves up to the sender's, counted idle, and it becomes
   * runnable. A CPU that is running is not affected. Not charged: the store
   * is part of the sender's step.
   */
  wake(from: Cpu, to: number): void {
    const c = this.cpus[to];
    if (!c.in_idle) return;
    c.idle_until(from.clock);
    if (c.halted) {
      c.halted = false;
      this.nr_wakeups++;
    }
  }

  /**
   * Send an IPI from `from` to each CPU in `targets` and run `handler` there.
   * With `wait`, the sender also waits until every receiver is done, so its
   * clock moves to the latest receiver's finish (smp_call_function_many with
   * wait=1).
   */
  send_ipi(from: Cpu, targets: readonly number[], handler: (cpu: Cpu) => void, wait = true): void {
    const saved = this.current;
    let latest = from.clock;
    for (const t of targets) {
      const to = this.cpus[t];
      from.clock += this.costs.ipi_send;
      from.ev[HW_IPI_SENT]++;
      // The interrupt arrives no earlier than it was sent; a CPU waiting
      // idle until then counts the wait as idle.
      if (to.in_idle) to.idle_until(from.clock);
      else if (to.clock < from.clock) to.clock = from.clock;
      to.clock += this.costs.ipi_receive;
      to.ev[HW_IPI_RECEIVED]++;
      this.current = t;
      to.in_ipi++;
      try {
        handler(to);
      } finally {
        to.in_ipi--;
        this.current = saved;
      }
      if (to.clock > latest) latest = to.clock;
    }
    if (wait && latest > from.clock) from.clock = latest;
  }
}
