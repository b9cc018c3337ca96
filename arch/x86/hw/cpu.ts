/*
 * arch/x86/hw/cpu.ts - one logical CPU: control registers, mode, clock.
 *
 * Hardware, no Linux counterpart. The kernel reaches a CPU only through
 * instruction-like methods: MOV to/from CR0/CR3/CR4, INVLPG, INVPCID,
 * STAC/CLAC, the mitigation instructions (IBPB via its MSR write, L1D flush,
 * VERW, the RSB-filling call sequence), SYSCALL/SYSRET, RDTSC, HLT, the
 * IA32_TSC_DEADLINE MSR, and memory access by virtual address (load, store,
 * copy, fill, translate). Those that cost charge it from the profile to this
 * CPU's cycle clock and bump a counter; modelled kernel work is charged with
 * charge(). Nothing else in the kernel moves a clock: the machine does, for
 * a CPU waiting idle (see "idle" below) and for IPI timing (smp.ts).
 *
 * Every cycle added to the clock is charged to a cost key (costs.ts) and
 * counted in cost_events, so the clock's advance breaks down by key. Copies,
 * fills and page walks are priced by where the cache model (cache.ts) finds
 * the physical pages they touch: this CPU's L2, the shared LLC, or DRAM.
 *
 * A translation that fails raises #PF through the machine's trap table with
 * the error code and CR2. If the handler returns FAULT_RETRY the access is
 * retried, as the faulting instruction restarts on hardware; FAULT_FIXUP
 * abandons it the way an exception-table fixup does (copies report the bytes
 * left, loads return -1). The same fault coming back without progress is a
 * machine-level BUG rather than a hang.
 *
 * Simplified: no segmentation, no interrupts flag, CPL is 0 or 3, changed
 * only by SYSCALL/SYSRET and by exception delivery and its IRET; EFER.NXE
 * is always on.
 */
import { Tlb, TLB_DIRTY, TLB_GLOBAL, type TlbConfig } from './tlb.ts';
import type { PhysMem } from './physmem.ts';
import { MachineCheck } from './physmem.ts';
import { type CostKey, type CostProfile, COST_KEY_INDEX, NR_COST_KEYS, cost_cycles } from './costs.ts';
import { CacheLevel, cache_touch } from './cache.ts';
import * as ev from './events.ts';
import { ACC_EXEC, ACC_READ, ACC_WRITE, type Access, WalkResult, access_error, set_dirty, walk, walk_error } from './mmu.ts';
import {
  X86_CR0_WP, X86_CR0_PG, X86_CR0_PE, X86_CR3_PCD, X86_CR3_PWT, X86_CR4_PAE, X86_CR4_PCIDE, X86_CR4_PGE,
  X86_CR4_SMAP, X86_CR4_SMEP,
} from '../include/asm/processor-flags.ts';
import { MAXPHYADDR } from '../include/asm/pgtable_types.ts';
import { X86_TRAP_GP, X86_TRAP_PF, X86_TRAP_UD } from '../include/asm/trap_pf.ts';
import type { Machine, TrapHandler } from './smp.ts';
import {
  INVPCID_TYPE_INDIV_ADDR, INVPCID_TYPE_SINGLE_CTXT, INVPCID_TYPE_ALL_INCL_GLOBAL, INVPCID_TYPE_ALL_NON_GLOBAL,
} from '../include/asm/invpcid.ts';

export const FAULT_RETRY = 0;
export const FAULT_FIXUP = 1;
export type FaultResult = typeof FAULT_RETRY | typeof FAULT_FIXUP;

/** CPUID bits the machine can be built with or without. */
export interface CpuFeatures {
  pcid: boolean;
  invpcid: boolean;
  pge: boolean;
  smep: boolean;
  smap: boolean;
}

export const ALL_FEATURES: Readonly<CpuFeatures> = { pcid: true, invpcid: true, pge: true, smep: true, smap: true };

/** A #GP or #UD nobody handled: the kernel did something the CPU refuses. */
export class GeneralProtection extends Error {
  constructor(readonly vector: number, message: string) {
    super(message);
    this.name = vector === X86_TRAP_UD ? 'InvalidOpcode' : 'GeneralProtection';
  }
}

const VA_LIMIT = 2 ** 48;
/* Hot-path constants as module locals (imported bindings are getters under the TS loaders). */
const E_TLB_HIT = ev.HW_TLB_HIT, E_TLB_MISS = ev.HW_TLB_MISS, E_WALK = ev.HW_WALK, E_WALK_STEP = ev.HW_WALK_STEP;
const E_SYSCALL = ev.HW_SYSCALL, E_SYSRET = ev.HW_SYSRET, E_COPY_BYTES = ev.HW_COPY_BYTES, E_FILL_BYTES = ev.HW_FILL_BYTES;
const U_MASK = Tlb.U_ENTRIES - 1, U_GEN = Tlb.U_GEN;
const A_READ = ACC_READ, A_WRITE = ACC_WRITE;
const T_DIRTY = TLB_DIRTY;
/* Cost-key indices (costs.ts) as module locals, for the same reason. */
const KEY = COST_KEY_INDEX;
const KEY_MAP: ReadonlyMap<string, number> = new Map(Object.entries(KEY));
const K_TLB_HIT = KEY.tlb_hit, K_MEM = KEY.mem_access, K_EXCEPTION = KEY.exception;
const K_COPY_BASE = KEY.copy_base, K_COPY_BYTE = KEY.copy_byte, K_FILL_BYTE = KEY.fill_byte;
const K_SYSCALL = KEY.syscall, K_SYSRET = KEY.sysret;
const K_CR3_WRITE = KEY.cr3_write, K_CR4_WRITE = KEY.cr4_write, K_INVLPG = KEY.invlpg;
const K_INVPCID_ADDR = KEY.invpcid_addr, K_INVPCID_CTX = KEY.invpcid_ctx, K_INVPCID_ALL = KEY.invpcid_all;
const K_INVPCID_NONGLOBAL = KEY.invpcid_nonglobal;
const K_IBPB = KEY.ibpb, K_L1D_FLUSH = KEY.l1d_flush, K_VERW = KEY.verw, K_RSB_FILL = KEY.rsb_fill;
/* By cache level (cache.ts CACHE_L2/LLC/DRAM): an L2 line costs nothing beyond the per-byte rate. */
const K_WALK: readonly number[] = [KEY.walk_step_l2, KEY.walk_step_llc, KEY.walk_step_dram];
const K_LINE_READ: readonly number[] = [-1, KEY.line_read_llc, KEY.line_read_dram];
const K_LINE_WRITE: readonly number[] = [-1, KEY.line_write_llc, KEY.line_write_dram];

/** 64-byte lines spanned by `n` bytes at page offset `off`. */
function lines_of(off: number, n: number): number {
  return ((off + n + 63) >>> 6) - (off >>> 6);
}

/*
 * The front cache remembers a translation for one access context: CPL,
 * EFLAGS.AC and the kind of access, ctx = 8 * user + 4 * ac + acc, kept
 * in the key's low bits beside the generation (tlb.ts). It is filled only
 * by an access the permission check allowed (a write only through a dirty
 * entry), so a hit needs no check at all: one compare. The same page used
 * from another context refills from the STLB. CR0.WP, CR4.SMEP and
 * CR4.SMAP change what a context may do, so changing them empties it.
 */
const CFG_WP = 1, CFG_SMEP = 2, CFG_SMAP = 4;
const PHYS_LIMIT = 2 ** MAXPHYADDR;
/** Identical faults in a row, with the handler asking to retry, before we call it a livelock. */
const MAX_FAULT_RETRIES = 4;

/* mode_ctx bits: the front-cache context less the access kind (0..2). */
const MODE_AC = 4;
const MODE_USER = 8;

export class Cpu {
  readonly tlb: Tlb;
  private readonly _ev = new Float64Array(ev.NR_HW_EVENTS);
  private _clock = 0;
  /*
   * Front-cache hits not yet folded into _ev and _clock. A Float64 counter
   * bumped on every hit is a loop-carried load-add-store through memory that
   * costs more than the lookup itself; a small integer field does not. It is
   * folded on every slow-path translation and whenever anyone reads ev or
   * clock, so readers never see the difference. (Were it ever to pass 2^31
   * without a fold, V8 would only widen the field to a double: still exact.)
   */
  private u_hits = 0;
  /* Loads and stores (mem_access) not yet folded, for the same reason. */
  private u_mem = 0;
  /** Per cost key (COST_KEY_INDEX): times charged, folded on read (see cost_events). */
  private readonly _ce = new Float64Array(NR_COST_KEYS);
  /** Per cost key: the cycles one charge adds, from the profile when the CPU was built. */
  readonly cost_cycles: Float64Array;
  /** This CPU's L2 in the cache model; the LLC is the machine's. */
  readonly l2: CacheLevel;
  private readonly llc: CacheLevel;
  /* copy()'s cache-model state across its segments: the page last looked up on each side, where it was, its last line. */
  private cp_spfn = -1;
  private cp_slevel = 0;
  private cp_sline = -1;
  private cp_dpfn = -1;
  private cp_dlevel = 0;
  private cp_dline = -1;
  cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
  /** CR3 without bit 63 (it always reads as 0). */
  private cr3 = 0;
  cr4 = X86_CR4_PAE;
  cr2 = 0;
  /** Current privilege level: 0 kernel, 3 user. */
  private _cpl = 0;
  /** EFLAGS.AC, set by STAC, cleared by CLAC. */
  private _ac = false;
  private readonly c_tlb_hit: number;
  private readonly c_mem: number;
  /* Cycles of the keys charged inline on the syscall and copy paths (cost_cycles' entries). */
  private readonly c_syscall: number;
  private readonly c_sysret: number;
  private readonly c_copy_base: number;
  private readonly c_copy_byte: number;
  private readonly c_fill_byte: number;
  /* The TLB's front-cache arrays, held here to save a load on the hot path. */
  private readonly u_ent: Float64Array;
  /** 8 * user + 4 * ac (MODE_*): the front-cache context of this CPU's mode, less the access kind. */
  private mode_ctx = 0;
  /** CR0.WP, CR4.SMEP and CR4.SMAP as the front cache's entries were made under. */
  private paging_cfg = 0;
  /** Cached from CR3/CR4 for the hot path. */
  private cur_pcid = 0;
  private pgd_pa = 0;
  private readonly wr = new WalkResult();
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
    readonly mem: PhysMem,
    readonly costs: CostProfile,
    readonly features: CpuFeatures,
    tlb_config: Partial<TlbConfig> = {},
  ) {
    this.tlb = new Tlb(tlb_config);
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
    this.u_ent = this.tlb.u_ent;
    this.update_mode();
    this.update_paging_controls();
  }

  get cpl(): number {
    return this._cpl;
  }
  /**
   * Set CPL directly: for tests that put a bare CPU in user mode. Kernel
   * code changes CPL only through SYSCALL/SYSRET and exception delivery.
   */
  set cpl(v: number) {
    this._cpl = v === 3 ? 3 : 0;
    this.update_mode();
  }
  get ac(): boolean {
    return this._ac;
  }

  /*
   * Keep mode_ctx in step with CPL and EFLAGS.AC. SYSCALL and SYSRET, which
   * run on every syscall, set it outright, and STAC and CLAC, on every user
   * copy, flip the AC bit: STAC and CLAC are then small enough for V8 to
   * inline without charging their callers' inlining budget.
   */
  private update_mode(): void {
    this.mode_ctx = (this._cpl === 3 ? MODE_USER : 0) | (this._ac ? MODE_AC : 0);
  }

  /** Empty the front cache when CR0.WP, CR4.SMEP or CR4.SMAP change. */
  private update_paging_controls(): void {
    let cfg = 0;
    if (this.cr0 & X86_CR0_WP) cfg |= CFG_WP;
    if (this.cr4 & X86_CR4_SMEP) cfg |= CFG_SMEP;
    if (this.cr4 & X86_CR4_SMAP) cfg |= CFG_SMAP;
    if (cfg !== this.paging_cfg) {
      this.paging_cfg = cfg;
      this.tlb.pcid_switched();
    }
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
    return this._clock + this.u_hits * this.c_tlb_hit + this.u_mem * this.c_mem;
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

  private fold_hits(): void {
    const h = this.u_hits;
    if (h !== 0) {
      this.u_hits = 0;
      this._ev[E_TLB_HIT] += h;
      this._ce[K_TLB_HIT] += h;
      this._clock += h * this.c_tlb_hit;
    }
    const m = this.u_mem;
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
    return this._clock + this.u_hits * this.c_tlb_hit;
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

  /** Where the physical page `pfn` is in the cache model (cache.ts CACHE_*), now touched. */
  cache_touch(pfn: number): number {
    return cache_touch(this.l2, this.llc, pfn);
  }

  count(event: number, n = 1): void {
    this._ev[event] += n;
  }

  /* ---- faults ---- */

  /*
   * Exception delivery and IRET. The handler runs at CPL 0: from user mode
   * the CPU switches to the kernel before calling it (the IDT gate's DPL-0
   * code segment), with RFLAGS, and so EFLAGS.AC, saved in the frame. When
   * the handler returns, IRET restores the interrupted CPL and AC. A handler
   * that throws never IRETs (a fatal signal unwinding the task, a BUG): the
   * CPU stays in the kernel, where the kernel goes on to kill the task.
   */
  private deliver(h: TrapHandler, code: number, cr2: number, reason: string): FaultResult {
    const cpl = this._cpl;
    const ac = this._ac;
    if (cpl !== 0) {
      this._cpl = 0;
      this.update_mode();
    }
    const r = h(this, code, cr2, reason);
    this._cpl = cpl;
    this._ac = ac;
    this.update_mode();
    return r;
  }

  private raise_gp(vector: number, reason: string): false {
    this._ev[ev.HW_GP]++;
    this.charge_index(K_EXCEPTION);
    const h = this.machine.trap_table[vector];
    if (h && this.deliver(h, 0, 0, reason) === FAULT_FIXUP) return false;
    throw new GeneralProtection(vector, `CPU ${this.id}: ${vector === X86_TRAP_UD ? '#UD' : '#GP'}: ${reason}`);
  }

  private raise_pf(va: number, code: number): FaultResult {
    this.cr2 = va;
    this._ev[ev.HW_PAGE_FAULT]++;
    this.charge_index(K_EXCEPTION);
    const h = this.machine.trap_table[X86_TRAP_PF];
    if (!h)
      throw new MachineCheck(`CPU ${this.id}: #PF at ${va.toString(16)} error_code 0x${code.toString(16)} with no handler`);
    // The handler may copy (a COW fault): keep the faulting copy's cache-model state.
    const { cp_spfn, cp_slevel, cp_sline, cp_dpfn, cp_dlevel, cp_dline } = this;
    try {
      return this.deliver(h, code, va, '');
    } finally {
      this.cp_spfn = cp_spfn;
      this.cp_slevel = cp_slevel;
      this.cp_sline = cp_sline;
      this.cp_dpfn = cp_dpfn;
      this.cp_dlevel = cp_dlevel;
      this.cp_dline = cp_dline;
    }
  }

  /* ---- control registers ---- */

  read_cr3(): number {
    return this.cr3;
  }

  /**
   * MOV to CR3. With CR4.PCIDE=1, bits 11..0 are the PCID and the new PCID's
   * non-global entries are flushed unless `noflush` (bit 63) is set. With
   * PCIDE=0 the PCID is 0 and every write flushes PCID 0's non-global
   * entries; bit 63 is then reserved. Reserved bits (above MAXPHYADDR, or
   * bits 11..0 other than PWT/PCD without PCIDE) are a #GP: the SDM ignores
   * the low bits without PCIDE, tskernel faults so a kernel bug shows.
   */
  write_cr3(val: number, noflush = false): boolean {
    if (!Number.isInteger(val) || val < 0 || val >= PHYS_LIMIT)
      return this.raise_gp(X86_TRAP_GP, `MOV to CR3 with reserved bits: ${val.toString(16)}`);
    const pcide = (this.cr4 & X86_CR4_PCIDE) !== 0;
    const low = val % 4096;
    if (!pcide && (low & ~(X86_CR3_PWT | X86_CR3_PCD)) !== 0)
      return this.raise_gp(X86_TRAP_GP, `MOV to CR3 with PCID bits 0x${low.toString(16)} but CR4.PCIDE=0 (misaligned CR3)`);
    if (!pcide && noflush)
      return this.raise_gp(X86_TRAP_GP, 'MOV to CR3 with bit 63 (NOFLUSH) set but CR4.PCIDE=0');
    const pgd = val - low;
    if (pgd + 4096 > this.mem.size)
      return this.raise_gp(X86_TRAP_GP, `MOV to CR3: page table at 0x${pgd.toString(16)} is beyond RAM`);
    this.cr3 = val;
    this.pgd_pa = pgd;
    this.cur_pcid = pcide ? low : 0;
    this.tlb.pcid_switched();
    this.charge_index(K_CR3_WRITE);
    if (noflush) {
      this._ev[ev.HW_CR3_WRITE_NOFLUSH]++;
    } else {
      this._ev[ev.HW_CR3_WRITE]++;
      this.tlb.flush_pcid(this.cur_pcid);
    }
    return true;
  }

  /** Current PCID (0 without PCIDE). */
  get pcid(): number {
    return this.cur_pcid;
  }

  read_cr4(): number {
    return this.cr4;
  }

  /**
   * MOV to CR4. Changing PGE flushes the whole TLB, globals included
   * (Linux's __native_tlb_flush_global toggles it for that reason); clearing
   * PCIDE flushes everything too. Setting PCIDE needs CR3[11:0] = 0, and a
   * feature the CPU lacks is a #GP.
   */
  write_cr4(val: number): boolean {
    const f = this.features;
    const want = (bit: number, ok: boolean, name: string): string | null =>
      (val & bit) && !ok ? `CR4.${name} set but the CPU lacks the feature` : null;
    const why = want(X86_CR4_PCIDE, f.pcid, 'PCIDE') ?? want(X86_CR4_PGE, f.pge, 'PGE') ??
      want(X86_CR4_SMEP, f.smep, 'SMEP') ?? want(X86_CR4_SMAP, f.smap, 'SMAP');
    if (why) return this.raise_gp(X86_TRAP_GP, why);
    const old = this.cr4;
    if ((val & X86_CR4_PCIDE) && !(old & X86_CR4_PCIDE) && this.cr3 % 4096 !== 0)
      return this.raise_gp(X86_TRAP_GP, 'setting CR4.PCIDE with CR3[11:0] != 0');
    this.cr4 = val;
    this.charge_index(K_CR4_WRITE);
    this._ev[ev.HW_CR4_WRITE]++;
    if (((old ^ val) & X86_CR4_PGE) || ((old & X86_CR4_PCIDE) && !(val & X86_CR4_PCIDE))) {
      this.tlb.flush_all();
      this._ev[ev.HW_TLB_FLUSH_ALL]++;
    }
    this.cur_pcid = val & X86_CR4_PCIDE ? this.cr3 % 4096 : 0;
    this.tlb.pcid_switched();
    this.update_paging_controls();
    return true;
  }

  read_cr0(): number {
    return this.cr0;
  }

  write_cr0(val: number): void {
    this.cr0 = val | 0;
    this.update_paging_controls();
  }

  /* ---- TLB maintenance ---- */

  /** INVLPG: the page of `va` in the current PCID, and global entries for it. */
  invlpg(va: number): void {
    this.charge_index(K_INVLPG);
    this._ev[ev.HW_INVLPG]++;
    if (Number.isInteger(va) && va >= 0 && va < VA_LIMIT) this.tlb.invlpg(va, this.cur_pcid);
  }

  /**
   * INVPCID with descriptor {pcid, addr}. Without the feature: #UD. An
   * unknown type, a PCID above 4095 or a non-canonical address for type 0:
   * #GP.
   */
  invpcid(type: number, pcid: number, addr = 0): boolean {
    if (!this.features.invpcid) return this.raise_gp(X86_TRAP_UD, 'INVPCID not supported');
    if (!Number.isInteger(pcid) || pcid < 0 || pcid > 4095)
      return this.raise_gp(X86_TRAP_GP, `INVPCID with PCID ${pcid} > 4095`);
    switch (type) {
      case INVPCID_TYPE_INDIV_ADDR:
        if (!Number.isInteger(addr) || addr < 0 || addr >= VA_LIMIT)
          return this.raise_gp(X86_TRAP_GP, `INVPCID type 0 with non-canonical address ${addr}`);
        this.charge_index(K_INVPCID_ADDR);
        this._ev[ev.HW_INVPCID_ADDR]++;
        this.tlb.flush_addr_pcid(addr, pcid);
        return true;
      case INVPCID_TYPE_SINGLE_CTXT:
        this.charge_index(K_INVPCID_CTX);
        this._ev[ev.HW_INVPCID_CTX]++;
        this.tlb.flush_pcid(pcid);
        return true;
      case INVPCID_TYPE_ALL_INCL_GLOBAL:
        this.charge_index(K_INVPCID_ALL);
        this._ev[ev.HW_INVPCID_ALL]++;
        this._ev[ev.HW_TLB_FLUSH_ALL]++;
        this.tlb.flush_all();
        return true;
      case INVPCID_TYPE_ALL_NON_GLOBAL:
        this.charge_index(K_INVPCID_NONGLOBAL);
        this._ev[ev.HW_INVPCID_NONGLOBAL]++;
        this.tlb.flush_nonglobal();
        return true;
      default:
        return this.raise_gp(X86_TRAP_GP, `INVPCID with unknown type ${type}`);
    }
  }

  /* ---- flags and mitigations ---- */

  stac(): void {
    this._ac = true;
    this.mode_ctx |= MODE_AC;
  }

  clac(): void {
    this._ac = false;
    this.mode_ctx &= MODE_USER;
  }

  /** IBPB: WRMSR IA32_PRED_CMD.IBPB. */
  ibpb(): void {
    this.charge_index(K_IBPB);
    this._ev[ev.HW_IBPB]++;
  }

  /** WRMSR IA32_FLUSH_CMD.L1D_FLUSH. */
  l1d_flush(): void {
    this.charge_index(K_L1D_FLUSH);
    this._ev[ev.HW_L1D_FLUSH]++;
  }

  /** VERW with a selector: clears CPU buffers (MDS mitigation). */
  verw(): void {
    this.charge_index(K_VERW);
    this._ev[ev.HW_VERW]++;
  }

  /** The 32-entry RSB-stuffing call sequence (__FILL_RETURN_BUFFER). */
  rsb_fill(): void {
    this.charge_index(K_RSB_FILL);
    this._ev[ev.HW_RSB_FILL]++;
  }

  /** SYSCALL: enter CPL 0. */
  syscall(): void {
    this._cpl = 0;
    this._ac = false;
    this.mode_ctx = 0;
    this._clock += this.c_syscall; // charge_index(K_SYSCALL), inline: every syscall
    this._ce[K_SYSCALL]++;
    this._ev[E_SYSCALL]++;
  }

  /** SYSRET: return to CPL 3. */
  sysret(): void {
    this._cpl = 3;
    this._ac = false;
    this.mode_ctx = MODE_USER;
    this._clock += this.c_sysret;
    this._ce[K_SYSRET]++;
    this._ev[E_SYSRET]++;
  }

  /* ---- translation ---- */

  /**
   * Translate `va` for an access of kind `acc` under the current CR3,
   * through the TLB and, on a miss, the page walker. Returns the physical
   * address, or -1 if the access was abandoned by an exception-table fixup.
   */
  translate(va: number, acc: Access = A_READ): number {
    // Fast path: one compare against the front cache (see the comment above Cpu).
    const u = (va >>> 12) & U_MASK;
    const off = va & 0xfff;
    const e = this.u_ent;
    if (e[u << 1] === va - off + e[U_GEN] + this.mode_ctx + acc) {
      this.u_hits++;
      return e[(u << 1) + 1] + off;
    }
    return this.translate_slow(va, acc);
  }

  private translate_slow(va: number, acc: Access): number {
    this.fold_hits();
    if (!(va >= 0 && va < VA_LIMIT) || va % 1 !== 0) {
      this.raise_gp(X86_TRAP_GP, `non-canonical or invalid address ${va}`);
      return -1;
    }
    const tlb = this.tlb;
    const user = this._cpl === 3;
    let last_code = -1;
    let repeats = 0;
    for (;;) {
      const i = tlb.lookup(va, this.cur_pcid);
      let code = 0;
      if (i >= 0) {
        const f = tlb.flags[i];
        code = this.perm(f, acc, user);
        if (code === 0 && (acc !== A_WRITE || (f & T_DIRTY))) {
          this.charge_index(K_TLB_HIT);
          this._ev[E_TLB_HIT]++;
          const pa = tlb.pa_of(i, va);
          tlb.ufill(va, pa, this.mode_ctx + acc);
          return pa;
        }
        // A write through a clean entry re-walks to set D; a denied access
        // faults on the cached permissions and drops the entry (SDM 4.10.4.1).
        if (code !== 0) tlb.kill(i);
      }
      if (i < 0 || code === 0) {
        this._ev[E_TLB_MISS]++;
        const r = this.wr;
        walk(this.mem, this.pgd_pa, va, (this.cr4 & X86_CR4_PGE) !== 0, r);
        this._ev[E_WALK]++;
        this._ev[E_WALK_STEP] += r.steps;
        // Each paging-structure read costs by where its table page is.
        for (let k = 0; k < r.steps; k++) this.charge_index(K_WALK[this.cache_touch(r.table_pfn[k])]);
        if (r.faulted) {
          code = walk_error(r, acc, user, true);
        } else {
          code = this.perm(r.flags, acc, user);
          if (code === 0) {
            if (acc === A_WRITE) set_dirty(this.mem, r);
            const size = r.shift === 12 ? 4096 : r.shift === 21 ? 2097152 : 1073741824;
            const off = va % size;
            if (tlb.insert(va - off, this.cur_pcid, r.shift, r.pfn, r.flags)) this._ev[ev.HW_TLB_EVICT]++;
            const pa = r.pfn * 4096 + off;
            tlb.ufill(va, pa, this.mode_ctx + acc);
            return pa;
          }
        }
      }
      if (code === last_code) {
        if (++repeats >= MAX_FAULT_RETRIES)
          throw new MachineCheck(
            `CPU ${this.id}: #PF at ${va.toString(16)} (error_code 0x${code.toString(16)}) retried ${repeats} times without progress`);
      } else {
        last_code = code;
        repeats = 0;
      }
      if (this.raise_pf(va, code) === FAULT_FIXUP) return -1;
    }
  }

  private perm(flags: number, acc: Access, user: boolean): number {
    const cr4 = this.cr4;
    return access_error(flags, acc, user, (this.cr0 & X86_CR0_WP) !== 0, (cr4 & X86_CR4_SMEP) !== 0,
      (cr4 & X86_CR4_SMAP) !== 0, this._ac);
  }

  /* ---- memory access by virtual address ---- */

  load8(va: number): number {
    const pa = this.translate(va, ACC_READ);
    if (pa < 0) return -1;
    this.u_mem++;
    return this.mem.read8(pa);
  }

  store8(va: number, v: number): boolean {
    const pa = this.translate(va, A_WRITE);
    if (pa < 0) return false;
    this.u_mem++;
    this.mem.write8(pa, v & 0xff);
    return true;
  }

  /** 32-bit little-endian load; may span two pages. Returns -1 after a fixup. */
  load32(va: number): number {
    if ((va & 0xfff) <= 0xffc && (va & 3) === 0) {
      const pa = this.translate(va, ACC_READ);
      if (pa < 0) return -1;
      this.u_mem++;
      return this.mem.read32(pa);
    }
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const b = this.load8(va + k);
      if (b < 0) return -1;
      v += b * 2 ** (8 * k);
    }
    return v;
  }

  store32(va: number, v: number): boolean {
    if ((va & 0xfff) <= 0xffc && (va & 3) === 0) {
      const pa = this.translate(va, A_WRITE);
      if (pa < 0) return false;
      this.u_mem++;
      this.mem.write32(pa, v >>> 0);
      return true;
    }
    // Probe both pages for write first so a fault stores nothing.
    if (this.translate(va, A_WRITE) < 0 || this.translate(va + 3, A_WRITE) < 0) return false;
    for (let k = 0; k < 4; k++) this.store8(va + k, (v >>> (8 * k)) & 0xff);
    return true;
  }

  /** Instruction fetch at `va` (a call or jump there). True if it may execute. */
  fetch(va: number): boolean {
    return this.translate(va, ACC_EXEC) >= 0;
  }

  /**
   * Copy `len` bytes from `src` to `dst` (virtual), like rep movsb: page by
   * page, each side translated on this CPU. Returns the bytes NOT copied
   * (0 on success), as copy_user does after a fixup. (Page offsets are
   * taken with & 0xfff, exact for the integer addresses translate()
   * accepts, where % on an address above 2^31 is a float modulo.)
   *
   * Priced as copy_base, copy_byte per byte at the hot rate, and per line
   * read or written on a page found outside L2 the line_* cost of where it
   * was: one cache-model lookup per physical page on each side. When the
   * two sides are not equally aligned, a line can straddle two segments;
   * it counts once.
   */
  copy(dst: number, src: number, len: number): number {
    this.cp_spfn = -1;
    this.cp_dpfn = -1;
    let done = 0;
    while (done < len) {
      const s = src + done;
      const d = dst + done;
      const n = Math.min(len - done, 4096 - (s & 0xfff), 4096 - (d & 0xfff));
      const ps = this.translate(s, ACC_READ);
      if (ps < 0) break;
      const pd = this.translate(d, A_WRITE);
      if (pd < 0) break;
      this.mem.copy(pd, ps, n);
      this.copy_traffic(ps, pd, n);
      done += n;
    }
    this.charge_string_op(K_COPY_BYTE, this.c_copy_byte, done);
    this._ev[E_COPY_BYTES] += done;
    return len - done;
  }

  /*
   * The cache model's part of one copy() segment: `n` bytes from physical
   * `ps` to `pd`. Out of copy() so that copy() stays small enough to inline
   * into its callers; its state across segments is in the cp_* fields.
   */
  private copy_traffic(ps: number, pd: number, n: number): void {
    const spfn = (ps / 4096) | 0; // below 2^24: MAXPHYADDR is 36 bits
    if (spfn !== this.cp_spfn) {
      this.cp_spfn = spfn;
      this.cp_slevel = this.cache_touch(spfn);
      this.cp_sline = -1;
    }
    if (this.cp_slevel !== 0) this.cp_sline = this.count_lines(K_LINE_READ[this.cp_slevel], ps, n, this.cp_sline);
    const dpfn = (pd / 4096) | 0;
    if (dpfn !== this.cp_dpfn) {
      this.cp_dpfn = dpfn;
      this.cp_dlevel = this.cache_touch(dpfn);
      this.cp_dline = -1;
    }
    if (this.cp_dlevel !== 0) this.cp_dline = this.count_lines(K_LINE_WRITE[this.cp_dlevel], pd, n, this.cp_dline);
  }

  /*
   * Charge key `k` for the 64-byte lines of `n` bytes at physical `pa`, but
   * the first if it is `prev_line`, the last line the same side counted
   * (a line straddling two segments counts once). Returns the last line.
   */
  private count_lines(k: number, pa: number, n: number, prev_line: number): number {
    const first = Math.floor(pa / 64), last = Math.floor((pa + n - 1) / 64);
    this.charge_index(k, last - first + (first === prev_line ? 0 : 1));
    return last;
  }

  /*
   * copy_base and `done` bytes of key `k` (copy_byte or fill_byte, costing
   * `c` each), inline: charge_index() is too large to be inlined into every
   * copy's caller.
   */
  private charge_string_op(k: number, c: number, done: number): void {
    const ce = this._ce;
    ce[K_COPY_BASE]++;
    ce[k] += done;
    this._clock += this.c_copy_base + done * c;
  }

  /** rep stosb: fill `len` bytes at `dst` with `byte`. Returns bytes not filled. Priced as copy(). */
  fill(dst: number, byte: number, len: number): number {
    let done = 0;
    while (done < len) {
      const d = dst + done;
      const dof = d & 0xfff;
      const n = Math.min(len - done, 4096 - dof);
      const pd = this.translate(d, A_WRITE);
      if (pd < 0) break;
      this.mem.fill(pd, byte, n);
      const l = this.cache_touch((pd / 4096) | 0);
      if (l !== 0) this.charge_index(K_LINE_WRITE[l], lines_of(dof, n));
      done += n;
    }
    this.charge_string_op(K_FILL_BYTE, this.c_fill_byte, done);
    this._ev[E_FILL_BYTES] += done;
    return len - done;
  }

  /** Read virtual memory into a host buffer (a program reading its buffer). Returns bytes not read. */
  read_bytes(va: number, out: Uint8Array): number {
    let done = 0;
    const len = out.length;
    while (done < len) {
      const off = (va + done) & 0xfff;
      const n = Math.min(len - done, 4096 - off);
      const pa = this.translate(va + done, ACC_READ);
      if (pa < 0) break;
      this.mem.read_into(pa, out.subarray(done, done + n));
      const l = this.cache_touch((pa / 4096) | 0);
      if (l !== 0) this.charge_index(K_LINE_READ[l], lines_of(off, n));
      done += n;
    }
    this.charge_string_op(K_COPY_BYTE, this.c_copy_byte, done);
    return len - done;
  }

  /** Write a host buffer to virtual memory. Returns bytes not written. */
  write_bytes(va: number, src: Uint8Array): number {
    let done = 0;
    const len = src.length;
    while (done < len) {
      const off = (va + done) & 0xfff;
      const n = Math.min(len - done, 4096 - off);
      const pa = this.translate(va + done, A_WRITE);
      if (pa < 0) break;
      this.mem.write_from(pa, src.subarray(done, done + n));
      const l = this.cache_touch((pa / 4096) | 0);
      if (l !== 0) this.charge_index(K_LINE_WRITE[l], lines_of(off, n));
      done += n;
    }
    this.charge_string_op(K_COPY_BYTE, this.c_copy_byte, done);
    return len - done;
  }
}

export { ACC_READ, A_WRITE, ACC_EXEC, TLB_GLOBAL };
