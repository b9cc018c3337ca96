/*
 * arch/x86/hw/cpu_clock.ts - a CPU's cycle clock and what moves it.
 *
 * Hardware, no Linux counterpart: the base of Cpu (cpu.ts). Every cycle
 * added to the clock is charged to a cost key (costs.ts) and counted in
 * cost_events, so the clock's advance breaks down by key; the rest of the
 * clock is idle time, moved forward by the machine while the CPU waits in
 * HLT. Also here: the PMU-like event counters, RDTSC, the TSC-deadline
 * timer MSR and the cache-model lookup (cache.ts) the pricing of copies and
 * walks goes through.
 */
import { type CostKey, type CostProfile, COST_KEY_INDEX, NR_COST_KEYS, cost_cycles } from './costs.ts';
import { CacheLevel, CACHE_LLC, CACHE_DRAM, cache_touch } from './cache.ts';
import * as ev from './events.ts';
import type { Machine } from './smp.ts';

/* Hot-path constants as module locals (imported bindings are getters under the TS loaders). */
const E_TLB_HIT = ev.HW_TLB_HIT;
const KEY = COST_KEY_INDEX;
const KEY_MAP: ReadonlyMap<string, number> = new Map(Object.entries(KEY));
const K_TLB_HIT = KEY.tlb_hit, K_MEM = KEY.mem_access, K_COPY_BASE = KEY.copy_base, K_COPY_BYTE = KEY.copy_byte;
const K_FILL_BYTE = KEY.fill_byte, K_SYSCALL = KEY.syscall, K_SYSRET = KEY.sysret;

/** Cpu's clock layer: never built on its own (see cpu.ts). */
export abstract class CpuClock {
  protected readonly _ev = new Float64Array(ev.NR_HW_EVENTS);
  protected _clock = 0;
  /*
   * Front-cache hits not yet folded into _ev and _clock. A Float64 counter
   * bumped on every hit is a loop-carried load-add-store through memory that
   * costs more than the lookup itself; a small integer field does not. It is
   * folded on every slow-path translation and whenever anyone reads ev or
   * clock, so readers never see the difference. (Were it ever to pass 2^31
   * without a fold, V8 would only widen the field to a double: still exact.)
   */
  protected u_hits = 0;
  /* Loads and stores (mem_access) not yet folded, for the same reason. */
  protected u_mem = 0;
  /*
   * Loads and stores that hit the front cache: each one TLB hit and one
   * mem_access, counted once so that the hit path carries one counter
   * through memory instead of two (V8 keeps neither in a register across
   * the caller's loop).
   */
  protected u_ld = 0;
  /** Per cost key (COST_KEY_INDEX): times charged, folded on read (see cost_events). */
  protected readonly _ce = new Float64Array(NR_COST_KEYS);
  /** Per cost key: the cycles one charge adds, from the profile when the CPU was built. */
  readonly cost_cycles: Float64Array;
  /** This CPU's L2 in the cache model; the LLC is the machine's. */
  readonly l2: CacheLevel;
  protected readonly llc: CacheLevel;
  protected readonly c_tlb_hit: number;
  protected readonly c_mem: number;
  /* Cycles of the keys charged inline on the syscall and copy paths (cost_cycles' entries). */
  protected readonly c_syscall: number;
  protected readonly c_sysret: number;
  protected readonly c_copy_base: number;
  protected readonly c_copy_byte: number;
  protected readonly c_fill_byte: number;
  /** Interrupt nesting from IPIs, for the machine's bookkeeping. */
  in_ipi = 0;
  /*
   * The idle wait (see "idle" below). in_idle: the CPU executed HLT and has
   * not been dispatched since, so wake-up events move its clock forward;
   * halted: it waits for such an event, and the machine does not run it.
   * Both are the machine's; the kernel only executes hlt().
   */
  in_idle = false;
  halted = false;
  /** Cycles the clock moved forward while the CPU waited idle, within clock. */
  private _idle = 0;
  /** IA32_TSC_DEADLINE: the local APIC timer fires once the TSC reaches it; 0 when disarmed. */
  private _tsc_deadline = 0;
  /**
   * Cycles this CPU's clock was moved forward to take an IPI at its send
   * time (smp.ts): it was idle or behind, so the gap is idle or skew, not
   * work, and is charged to no cost key. The run loop's owner counts it.
   */
  ipi_catchup = 0;

  constructor(
    readonly id: number,
    readonly machine: Machine,
    readonly costs: CostProfile,
  ) {
    this.cost_cycles = cost_cycles(costs);
    this.c_tlb_hit = this.cost_cycles[K_TLB_HIT];
    this.c_mem = this.cost_cycles[K_MEM];
    this.c_syscall = this.cost_cycles[K_SYSCALL];
    this.c_sysret = this.cost_cycles[K_SYSRET];
    this.c_copy_base = this.cost_cycles[K_COPY_BASE];
    this.c_copy_byte = this.cost_cycles[K_COPY_BYTE];
    this.c_fill_byte = this.cost_cycles[K_FILL_BYTE];
    this.l2 = new CacheLevel(costs.cpu.l2_kib, costs.cpu.l2_ways);
    this.llc = machine.llc;
  }

  /** Event counters (events.ts), like the PMU's: read them as perf stat does. */
  get ev(): Float64Array {
    this.fold_hits();
    return this._ev;
  }

  /** Times each cost key was charged, by COST_KEY_INDEX (see cost_breakdown() in costs.ts). */
  get cost_events(): Float64Array {
    this.fold_hits();
    return this._ce;
  }

  /** Cycle clock. */
  get clock(): number {
    const ld = this.u_ld;
    return this._clock + (this.u_hits + ld) * this.c_tlb_hit + (this.u_mem + ld) * this.c_mem;
  }
  set clock(v: number) {
    this.fold_hits();
    this._clock = v;
  }

  /*
   * ---- idle ----
   *
   * Time on a CPU is busy or idle. Busy cycles are charged by the work done
   * (instructions, modelled kernel steps); idle cycles pass while the CPU
   * waits in HLT (or MWAIT) for a wake-up: its timer, an IPI, another CPU
   * queueing work for it. The CPUs' clocks are separate, so an idle CPU's
   * clock does not run by itself: the machine moves it forward to the event
   * that ends the wait (idle_until), and counts the gap as idle. A wake-up
   * before the CPU is dispatched again moves it further (it cannot resume
   * before the last event that woke it). The PMU's cycles event counts
   * busy cycles only (CPU_CLK_UNHALTED stops in HLT); the TSC counts both.
   */

  /** HLT: wait for a wake-up event (the kernel's idle loop). */
  hlt(): void {
    this.in_idle = true;
    this.halted = true;
  }

  /** Cycles spent waiting idle; busy cycles are clock - idle_cycles. */
  get idle_cycles(): number {
    return this._idle;
  }

  /** Busy (unhalted) cycles: what perf's cycles event counts. */
  get busy_cycles(): number {
    return this.clock - this._idle;
  }

  /**
   * The machine moves an idle CPU's clock forward to `t` (never back), the
   * gap counted as idle. Machine only: kernel code waits with hlt().
   */
  idle_until(t: number): void {
    this.fold_hits();
    if (t > this._clock) {
      this._idle += t - this._clock;
      this._clock = t;
    }
  }

  /** RDMSR IA32_TSC_DEADLINE. */
  get tsc_deadline(): number {
    return this._tsc_deadline;
  }

  /**
   * WRMSR IA32_TSC_DEADLINE: arm the local APIC timer to fire when the TSC
   * reaches `tsc` (at once if it already has); 0 disarms. Not charged,
   * like the other MSR writes the model leaves in the step around them.
   */
  write_tsc_deadline(tsc: number): void {
    const v = tsc > 0 ? tsc : 0;
    if ((v > 0) !== (this._tsc_deadline > 0)) this.machine.nr_timers_armed += v > 0 ? 1 : -1;
    this._tsc_deadline = v;
  }

  protected fold_hits(): void {
    const ld = this.u_ld;
    this.u_ld = 0;
    const h = this.u_hits + ld;
    if (h !== 0) {
      this.u_hits = 0;
      this._ev[E_TLB_HIT] += h;
      this._ce[K_TLB_HIT] += h;
      this._clock += h * this.c_tlb_hit;
    }
    const m = this.u_mem + ld;
    if (m !== 0) {
      this.u_mem = 0;
      this._ce[K_MEM] += m;
      this._clock += m * this.c_mem;
    }
  }

  /**
   * RDTSC: the time-stamp counter. The TSC counts this CPU's cycles, so it
   * reads the cycle clock (busy and idle cycles alike, as an invariant TSC
   * keeps counting through HLT/MWAIT). Not charged: its ~25 cycles belong
   * to the modelled step around it, and reading time must not move it.
   * A double, not a 64-bit integer: per-byte copy costs make the clock
   * fractional, and the kernel's conversions (kernel/time) are exact on it.
   */
  rdtsc(): number {
    return this._clock + (this.u_hits + this.u_ld) * this.c_tlb_hit;
  }

  /**
   * Charge `n` units (default 1) of cost `key`: n x profile[key] cycles to
   * the clock, n to the key's counter. The only way cycles reach the clock
   * besides idle time.
   */
  charge(key: CostKey, n?: number): void {
    /*
     * A Map, not KEY[key]: every caller's key goes through this one load
     * site, whose feedback soon sees every key; a keyed property load with
     * megamorphic feedback costs ~20 ns even when inlined with a literal
     * key, Map.get ~4.
     */
    this.charge_index(KEY_MAP.get(key) as number, n);
  }

  /**
   * charge() by key index (COST_KEY_INDEX), for hot paths that resolve
   * their key once at module load: no lookup at all.
   */
  charge_index(i: number, n = 1): void {
    this._clock += n * this.cost_cycles[i];
    this._ce[i] += n;
  }

  /*
   * charge_index(i) for one unit, for the syscall and read paths that make
   * a dozen such charges per call: without the default parameter its
   * bytecode is two thirds the size, and V8 inlines it into callers whose
   * inlining budget charge_index() would run out. n x cycles with n = 1
   * is exact, so the clock advances exactly as through charge_index().
   */
  charge_one(i: number): void {
    this._clock += this.cost_cycles[i];
    this._ce[i]++;
  }

  /** Where the physical page `pfn` is in the cache model (cache.ts CACHE_*), now touched. */
  cache_touch(pfn: number): number {
    return cache_touch(this.l2, this.llc, pfn);
  }

  /*
   * cache_touch() for a page this CPU's L2 has just missed (l2.touch()
   * returned false, and brought it in): the LLC or DRAM. copy() tests L2
   * itself, so that the common hit costs one call less on the host.
   */
  protected cache_touch_beyond_l2(pfn: number): number {
    return this.llc.touch(pfn) ? CACHE_LLC : CACHE_DRAM;
  }

  count(event: number, n = 1): void {
    this._ev[event] += n;
  }

  /*
   * copy_base and `done` bytes of key `k` (copy_byte or fill_byte, costing
   * `c` each), inline: charge_index() is too large to be inlined into every
   * copy's caller.
   */
  protected charge_string_op(k: number, c: number, done: number): void {
    const ce = this._ce;
    ce[K_COPY_BASE]++;
    ce[k] += done;
    this._clock += this.c_copy_base + done * c;
  }
}
