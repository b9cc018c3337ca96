/*
 * arch/x86/hw/smp.ts - the machine: RAM, N CPUs, the shared LLC, the trap table, IPIs.
 *
 * Hardware, no Linux counterpart. All CPUs run in one host thread; the
 * kernel's run loop says which CPU is executing (`current`). An IPI runs
 * its handler on the receiver at once with `current` switched to it, so
 * code in the handler that asks "which CPU am I" gets the receiver.
 *
 * IPI timing. CPU clocks are not in step: the run loop advances the CPU
 * with the smallest clock, and an idle CPU's clock stands still. So an IPI
 * is timed by the work it causes, never by the distance between clocks:
 *  - the sender pays ipi_send per target, at its own clock; target i's
 *    interrupt is sent at the sender's clock after its i-th ipi_send;
 *  - a receiver whose clock is behind that send time (idle, or lagging)
 *    is brought to it; the gap is idle or skew, not work: it is charged to
 *    no cost key and is recorded in the receiver's ipi_catchup for the run
 *    loop's owner to count as idle. A receiver already ahead takes the
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
  /** IDT: vector -> handler (X86_TRAP_PF, X86_TRAP_GP, X86_TRAP_UD). */
  readonly trap_table: (TrapHandler | undefined)[] = new Array<TrapHandler | undefined>(32).fill(undefined);
  /** The CPU executing now. */
  current = 0;

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
      from.charge('ipi_send');
      from.ev[HW_IPI_SENT]++;
      const sent = from.clock;
      // The interrupt arrives no earlier than it was sent; waiting for it is not work.
      const behind = sent - to.clock;
      if (behind > 0) {
        to.ipi_catchup += behind;
        to.clock = sent;
      }
      const t0 = to.clock;
      to.charge('ipi_receive');
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
    if (wait && spin > 0) from.charge('ipi_wait', spin);
  }
}
