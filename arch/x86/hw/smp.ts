/*
 * arch/x86/hw/smp.ts - the machine: RAM, N CPUs, the shared LLC, the IDT, IPIs, wake-ups.
 *
 * Hardware, no Linux counterpart. All CPUs run in one host thread; the
 * machine's run loop (run.ts) says which CPU is executing (`current`).
 * A CPU waiting in HLT is woken by an event from another CPU (wake()), by
 * its timer (run.ts), or takes an IPI without waking. An IPI runs
 * its handler on the receiver at once with `current` switched to it, so
 * code in the handler that asks "which CPU am I" gets the receiver.
 *
 * IPI timing. CPU clocks are not in step: the run loop advances the CPU
 * with the smallest clock, and an idle CPU's clock stands still. So an IPI
 * is timed by the work it causes, never by the distance between clocks:
 *  - the sender pays ipi_send per target, at its own clock; target i's
 *    interrupt is sent at the sender's clock after its i-th ipi_send;
 *  - a receiver whose clock is behind that send time is brought to it;
 *    the gap is not work and is charged to no cost key: a CPU waiting in
 *    HLT counts it as idle cycles, a busy CPU that lags (skew) records it
 *    in ipi_catchup. A receiver already ahead takes the
 *    interrupt at its own time;
 *  - either way the receiver pays ipi_receive (entry and exit) and whatever
 *    the handler charges; its "work" is its clock's advance over these;
 *  - with `wait` (smp_call_function_many's wait=1) the sender then spins
 *    until the last receiver is done, measured in the sender's time: each
 *    receiver's work counted from its own send time, the handlers running
 *    in parallel. The spin is charged as ipi_wait, one per cycle. A
 *    receiver's clock lead is never the sender's cost, so skew cannot
 *    change what one shootdown costs.
 */
import { PhysMem } from './physmem.ts';
import { CacheLevel } from './cache.ts';
import { Cpu, type CpuFeatures, ALL_FEATURES, type FaultResult } from './cpu.ts';
import { type CostProfile, cost_profile, DEFAULT_COST_PROFILE } from './costs.ts';
import type { TlbConfig } from './tlb.ts';
import { HW_IPI_RECEIVED, HW_IPI_SENT } from './events.ts';
import { NR_VECTORS } from '../include/asm/irq_vectors.ts';
import { machine_run, type CpuStep, type MachineRunOptions, type MachineRunResult } from './run.ts';
import { COST_KEY_INDEX } from './costs.ts';

/* Cost-key indices as module locals: an imported binding is a getter under the TS loaders. */
const K_IPI_SEND = COST_KEY_INDEX.ipi_send, K_IPI_RECEIVE = COST_KEY_INDEX.ipi_receive, K_IPI_WAIT = COST_KEY_INDEX.ipi_wait;

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
  /** The last-level cache of the cache model (cache.ts), shared by every CPU. */
  readonly llc: CacheLevel;
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
    this.llc = new CacheLevel(this.costs.cpu.llc_kib, this.costs.cpu.llc_ways);
    // Each CPU's TLB has the profile's geometry unless the config overrides it.
    const tlb: TlbConfig = { ...this.costs.cpu.tlb, ...cfg.tlb };
    this.cpus = [];
    for (let i = 0; i < cfg.nr_cpus; i++)
      this.cpus.push(new Cpu(i, this, this.mem, this.costs, this.features, tlb));
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
   * With `wait`, the sender also waits until every receiver's handler is
   * done (smp_call_function_many with wait=1). Timing: this file's first
   * comment.
   */
  send_ipi(from: Cpu, targets: readonly number[], handler: (cpu: Cpu) => void, wait = true): void {
    const saved = this.current;
    let done_at = 0; // when the last receiver finishes, on the sender's clock
    for (const t of targets) {
      const to = this.cpus[t];
      from.charge_index(K_IPI_SEND);
      from.ev[HW_IPI_SENT]++;
      const sent = from.clock;
      // The interrupt arrives no earlier than it was sent; waiting for it is not work.
      const behind = sent - to.clock;
      if (to.in_idle) to.idle_until(sent);
      else if (behind > 0) {
        to.ipi_catchup += behind;
        to.clock = sent;
      }
      const t0 = to.clock;
      to.charge_index(K_IPI_RECEIVE);
      to.ev[HW_IPI_RECEIVED]++;
      this.current = t;
      to.in_ipi++;
      try {
        handler(to);
      } finally {
        to.in_ipi--;
        this.current = saved;
      }
      const finish = sent + (to.clock - t0);
      if (finish > done_at) done_at = finish;
    }
    const spin = done_at - from.clock;
    if (wait && spin > 0) from.charge_index(K_IPI_WAIT, spin);
  }
}
