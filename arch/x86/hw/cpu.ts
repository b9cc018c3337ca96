/*
 * arch/x86/hw/cpu.ts - one logical CPU: control registers, mode, clock.
 *
 * Hardware, no Linux counterpart. The kernel reaches a CPU only through
 * instruction-like methods: MOV to/from CR0/CR3/CR4, INVLPG, INVPCID,
 * STAC/CLAC, the mitigation instructions (IBPB via its MSR write, L1D flush,
 * VERW, the RSB-filling call sequence), SYSCALL/SYSRET, and memory access by
 * virtual address (load, store, copy, fill, translate). Every one charges its
 * cost from the profile to this CPU's cycle clock and bumps a counter.
 *
 * A translation that fails raises #PF through the machine's trap table with
 * the error code and CR2. If the handler returns FAULT_RETRY the access is
 * retried, as the faulting instruction restarts on hardware; FAULT_FIXUP
 * abandons it the way an exception-table fixup does (copies report the bytes
 * left, loads return -1). The same fault coming back without progress is a
 * machine-level BUG rather than a hang.
 *
 * Simplified: no segmentation, no interrupts flag, CPL is 0 or 3, one
 * privilege transition model (SYSCALL/SYSRET); EFER.NXE is always on.
 */
import { Tlb, TLB_DIRTY, TLB_GLOBAL, type TlbConfig } from './tlb.ts';
import type { PhysMem } from './physmem.ts';
import { MachineCheck } from './physmem.ts';
import type { CostProfile } from './costs.ts';
import * as ev from './events.ts';
import { ACC_EXEC, ACC_READ, ACC_WRITE, type Access, WalkResult, access_error, set_dirty, walk, walk_error } from './mmu.ts';
import {
  X86_CR0_WP, X86_CR0_PG, X86_CR0_PE, X86_CR3_PCD, X86_CR3_PWT, X86_CR4_PAE, X86_CR4_PCIDE, X86_CR4_PGE,
  X86_CR4_SMAP, X86_CR4_SMEP,
} from '../include/asm/processor-flags.ts';
import { MAXPHYADDR } from '../include/asm/pgtable_types.ts';
import { X86_TRAP_GP, X86_TRAP_PF, X86_TRAP_UD } from '../include/asm/trap_pf.ts';
import type { Machine } from './smp.ts';

export const FAULT_RETRY = 0;
export const FAULT_FIXUP = 1;
export type FaultResult = typeof FAULT_RETRY | typeof FAULT_FIXUP;

/** INVPCID descriptor types (asm/invpcid.h). */
export const INVPCID_TYPE_INDIV_ADDR = 0;
export const INVPCID_TYPE_SINGLE_CTXT = 1;
export const INVPCID_TYPE_ALL_INCL_GLOBAL = 2;
export const INVPCID_TYPE_ALL_NON_GLOBAL = 3;

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
const U_MASK = Tlb.U_ENTRIES - 1, U_GEN = Tlb.U_GEN;
const A_READ = ACC_READ, A_WRITE = ACC_WRITE;
const T_DIRTY = TLB_DIRTY;

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

  constructor(
    readonly id: number,
    readonly machine: Machine,
    readonly mem: PhysMem,
    readonly costs: CostProfile,
    readonly features: CpuFeatures,
    tlb_config: Partial<TlbConfig> = {},
  ) {
    this.tlb = new Tlb(tlb_config);
    this.c_tlb_hit = costs.tlb_hit;
    this.u_ent = this.tlb.u_ent;
    this.update_mode();
    this.update_paging_controls();
  }

  get cpl(): number {
    return this._cpl;
  }
  /** Set CPL directly (tests, and the kernel's first entry to user mode). */
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

  /** Cycle clock. */
  get clock(): number {
    return this._clock + this.u_hits * this.c_tlb_hit;
  }
  set clock(v: number) {
    this.fold_hits();
    this._clock = v;
  }

  private fold_hits(): void {
    const h = this.u_hits;
    if (h === 0) return;
    this.u_hits = 0;
    this._ev[E_TLB_HIT] += h;
    this._clock += h * this.c_tlb_hit;
  }

  charge(cycles: number): void {
    this._clock += cycles;
  }

  count(event: number, n = 1): void {
    this._ev[event] += n;
  }

  /* ---- faults ---- */

  private raise_gp(vector: number, reason: string): false {
    this._ev[ev.HW_GP]++;
    this._clock += this.costs.exception;
    const h = this.machine.trap_table[vector];
    if (h && h(this, 0, 0, reason) === FAULT_FIXUP) return false;
    throw new GeneralProtection(vector, `CPU ${this.id}: ${vector === X86_TRAP_UD ? '#UD' : '#GP'}: ${reason}`);
  }

  private raise_pf(va: number, code: number): FaultResult {
    this.cr2 = va;
    this._ev[ev.HW_PAGE_FAULT]++;
    this._clock += this.costs.exception;
    const h = this.machine.trap_table[X86_TRAP_PF];
    if (!h)
      throw new MachineCheck(`CPU ${this.id}: #PF at ${va.toString(16)} error_code 0x${code.toString(16)} with no handler`);
    return h(this, code, va, '');
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
    this._clock += this.costs.cr3_write;
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
    this._clock += this.costs.cr4_write;
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
    this._clock += this.costs.invlpg;
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
    const c = this.costs;
    switch (type) {
      case INVPCID_TYPE_INDIV_ADDR:
        if (!Number.isInteger(addr) || addr < 0 || addr >= VA_LIMIT)
          return this.raise_gp(X86_TRAP_GP, `INVPCID type 0 with non-canonical address ${addr}`);
        this._clock += c.invpcid_addr;
        this._ev[ev.HW_INVPCID_ADDR]++;
        this.tlb.flush_addr_pcid(addr, pcid);
        return true;
      case INVPCID_TYPE_SINGLE_CTXT:
        this._clock += c.invpcid_ctx;
        this._ev[ev.HW_INVPCID_CTX]++;
        this.tlb.flush_pcid(pcid);
        return true;
      case INVPCID_TYPE_ALL_INCL_GLOBAL:
        this._clock += c.invpcid_all;
        this._ev[ev.HW_INVPCID_ALL]++;
        this._ev[ev.HW_TLB_FLUSH_ALL]++;
        this.tlb.flush_all();
        return true;
      case INVPCID_TYPE_ALL_NON_GLOBAL:
        this._clock += c.invpcid_nonglobal;
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
    this._clock += this.costs.ibpb;
    this._ev[ev.HW_IBPB]++;
  }

  /** WRMSR IA32_FLUSH_CMD.L1D_FLUSH. */
  l1d_flush(): void {
    this._clock += this.costs.l1d_flush;
    this._ev[ev.HW_L1D_FLUSH]++;
  }

  /** VERW with a selector: clears CPU buffers (MDS mitigation). */
  verw(): void {
    this._clock += this.costs.verw;
    this._ev[ev.HW_VERW]++;
  }

  /** The 32-entry RSB-stuffing call sequence (__FILL_RETURN_BUFFER). */
  rsb_fill(): void {
    this._clock += this.costs.rsb_fill;
    this._ev[ev.HW_RSB_FILL]++;
  }

  /** SYSCALL: enter CPL 0. */
  syscall(): void {
    this._cpl = 0;
    this._ac = false;
    this.mode_ctx = 0;
    this._clock += this.costs.syscall;
    this._ev[ev.HW_SYSCALL]++;
  }

  /** SYSRET: return to CPL 3. */
  sysret(): void {
    this._cpl = 3;
    this._ac = false;
    this.mode_ctx = MODE_USER;
    this._clock += this.costs.sysret;
    this._ev[ev.HW_SYSRET]++;
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
          this._clock += this.costs.tlb_hit;
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
        this._clock += r.steps * this.costs.walk_step;
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
    this._clock += this.costs.mem_access;
    return this.mem.read8(pa);
  }

  store8(va: number, v: number): boolean {
    const pa = this.translate(va, A_WRITE);
    if (pa < 0) return false;
    this._clock += this.costs.mem_access;
    this.mem.write8(pa, v & 0xff);
    return true;
  }

  /** 32-bit little-endian load; may span two pages. Returns -1 after a fixup. */
  load32(va: number): number {
    if ((va & 0xfff) <= 0xffc && (va & 3) === 0) {
      const pa = this.translate(va, ACC_READ);
      if (pa < 0) return -1;
      this._clock += this.costs.mem_access;
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
      this._clock += this.costs.mem_access;
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
   */
  copy(dst: number, src: number, len: number): number {
    this._clock += this.costs.copy_base;
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
      done += n;
    }
    this._clock += done * this.costs.copy_byte;
    this._ev[ev.HW_COPY_BYTES] += done;
    return len - done;
  }

  /** rep stosb: fill `len` bytes at `dst` with `byte`. Returns bytes not filled. */
  fill(dst: number, byte: number, len: number): number {
    this._clock += this.costs.copy_base;
    let done = 0;
    while (done < len) {
      const d = dst + done;
      const n = Math.min(len - done, 4096 - (d & 0xfff));
      const pd = this.translate(d, A_WRITE);
      if (pd < 0) break;
      this.mem.fill(pd, byte, n);
      done += n;
    }
    this._clock += done * this.costs.fill_byte;
    this._ev[ev.HW_FILL_BYTES] += done;
    return len - done;
  }

  /** Read virtual memory into a host buffer (a program reading its buffer). Returns bytes not read. */
  read_bytes(va: number, out: Uint8Array): number {
    let done = 0;
    const len = out.length;
    while (done < len) {
      const n = Math.min(len - done, 4096 - ((va + done) & 0xfff));
      const pa = this.translate(va + done, ACC_READ);
      if (pa < 0) break;
      this.mem.read_into(pa, out.subarray(done, done + n));
      done += n;
    }
    this._clock += this.costs.copy_base + done * this.costs.copy_byte;
    return len - done;
  }

  /** Write a host buffer to virtual memory. Returns bytes not written. */
  write_bytes(va: number, src: Uint8Array): number {
    let done = 0;
    const len = src.length;
    while (done < len) {
      const n = Math.min(len - done, 4096 - ((va + done) & 0xfff));
      const pa = this.translate(va + done, A_WRITE);
      if (pa < 0) break;
      this.mem.write_from(pa, src.subarray(done, done + n));
      done += n;
    }
    this._clock += this.costs.copy_base + done * this.costs.copy_byte;
    return len - done;
  }
}

export { ACC_READ, A_WRITE, ACC_EXEC, TLB_GLOBAL };
