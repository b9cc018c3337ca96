/*
 * arch/x86/hw/cpu_access.ts - a CPU's memory access by virtual address.
 *
 * Hardware, no Linux counterpart: the middle of Cpu (cpu.ts), between its
 * clock (cpu_clock.ts) and its instructions. Loads, stores, copies (rep
 * movsb), fills (rep stosb) and instruction fetches translate through the
 * TLB and, on a miss, the page walker (mmu.ts), under the CR3, CR0.WP,
 * CR4.SMEP/SMAP, CPL and EFLAGS.AC that this class keeps; cpu.ts's
 * instructions change them. Copies, fills and page walks are priced by
 * where the cache model (cache.ts) finds the physical pages they touch:
 * this CPU's L2, the shared LLC, or DRAM.
 *
 * A translation that fails raises #PF through the machine's trap table with
 * the error code and CR2. If the handler returns FAULT_RETRY the access is
 * retried, as the faulting instruction restarts on hardware; FAULT_FIXUP
 * abandons it the way an exception-table fixup does (copies report the bytes
 * left, loads return -1). The same fault coming back without progress is a
 * machine-level BUG rather than a hang.
 */
import { Tlb, TLB_DIRTY, type TlbConfig } from './tlb.ts';
import type { PhysMem } from './physmem.ts';
import { MachineCheck } from './physmem.ts';
import { type CostProfile, COST_KEY_INDEX } from './costs.ts';
import { CpuClock } from './cpu_clock.ts';
import { CACHE_L2 } from './cache.ts';
import * as ev from './events.ts';
import { ACC_EXEC, ACC_READ, ACC_WRITE, type Access, WalkResult, access_error, set_dirty, walk, walk_error } from './mmu.ts';
import { X86_CR0_WP, X86_CR0_PG, X86_CR0_PE, X86_CR4_PAE, X86_CR4_PGE, X86_CR4_SMAP, X86_CR4_SMEP } from '../include/asm/processor-flags.ts';
import { X86_TRAP_GP, X86_TRAP_PF, X86_TRAP_UD } from '../include/asm/trap_pf.ts';
import type { Machine, TrapHandler } from './smp.ts';
import type { Cpu } from './cpu.ts';

export const FAULT_RETRY = 0;
export const FAULT_FIXUP = 1;
export type FaultResult = typeof FAULT_RETRY | typeof FAULT_FIXUP;

/** A #GP or #UD nobody handled: the kernel did something the CPU refuses. */
export class GeneralProtection extends Error {
  constructor(readonly vector: number, message: string) {
    super(message);
    this.name = vector === X86_TRAP_UD ? 'InvalidOpcode' : 'GeneralProtection';
  }
}

export const VA_LIMIT = 2 ** 48;
/* Hot-path constants as module locals (imported bindings are getters under the TS loaders). */
const E_TLB_HIT = ev.HW_TLB_HIT, E_TLB_MISS = ev.HW_TLB_MISS, E_WALK = ev.HW_WALK, E_WALK_STEP = ev.HW_WALK_STEP;
const E_COPY_BYTES = ev.HW_COPY_BYTES, E_FILL_BYTES = ev.HW_FILL_BYTES;
const U_MASK = Tlb.U_ENTRIES - 1, U_GEN = Tlb.U_GEN;
const A_READ = ACC_READ, A_WRITE = ACC_WRITE;
const T_DIRTY = TLB_DIRTY;
const CR4_PGE = X86_CR4_PGE;
/* Cost-key indices (costs.ts) as module locals, for the same reason. */
const KEY = COST_KEY_INDEX;
const K_TLB_HIT = KEY.tlb_hit, K_EXCEPTION = KEY.exception;
const K_COPY_BYTE = KEY.copy_byte, K_FILL_BYTE = KEY.fill_byte;
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
/** Identical faults in a row, with the handler asking to retry, before we call it a livelock. */
const MAX_FAULT_RETRIES = 4;

/* mode_ctx bits: the front-cache context less the access kind (0..2). */
export const MODE_AC = 4;
export const MODE_USER = 8;

/** Cpu's memory access layer: never built on its own (see cpu.ts). */
export abstract class CpuAccess extends CpuClock {
  readonly tlb: Tlb;
  /* copy()'s cache-model state across its segments: the page last looked up on each side, where it was, its last line. */
  protected cp_spfn = -1;
  protected cp_slevel = 0;
  protected cp_sline = -1;
  protected cp_dpfn = -1;
  protected cp_dlevel = 0;
  protected cp_dline = -1;
  cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP;
  /** CR3 without bit 63 (it always reads as 0). */
  protected cr3 = 0;
  cr4 = X86_CR4_PAE;
  cr2 = 0;
  /** Current privilege level: 0 kernel, 3 user. */
  protected _cpl = 0;
  /** EFLAGS.AC, set by STAC, cleared by CLAC. */
  protected _ac = false;
  /* The TLB's front-cache arrays, held here to save a load on the hot path. */
  protected readonly u_ent: Float64Array;
  /*
   * The host backing of each front-cache entry, beside the TLB's key and PA
   * (same slot index): the page's own views (physmem.ts page8/page32), as
   * bytes and as words, so that a load or store that hits is one compare
   * and one typed-array access at the page offset. A view of the page
   * rather than of its 64 KiB chunk saves adding the page's offset in the
   * chunk from a third array on every hit (measured: load32 at 4.3x a raw
   * read instead of 5x). A slot's views are taken on the second access
   * through its entry (see the *_slow paths), not when the entry is made,
   * and a chunk not yet allocated has none (the access then goes through
   * physmem, which reads zeros or allocates). Invariant: each is undefined or the
   * view of the page at the slot's PA (u_ent[2i + 1]); making an entry
   * (translate_slow) clears them.
   */
  // Array.from, not new Array(n).fill(): a packed array, whose loads need no hole check (V8 elements kinds).
  protected readonly u_b8: (Uint8Array | undefined)[] = Array.from({ length: Tlb.U_ENTRIES }, () => undefined);
  protected readonly u_b32: (Uint32Array | undefined)[] = Array.from({ length: Tlb.U_ENTRIES }, () => undefined);
  /** Front-cache entries made so far (translate_slow): the slow paths' test for a second access. */
  protected u_fills = 0;
  /** 8 * user + 4 * ac (MODE_*): the front-cache context of this CPU's mode, less the access kind. */
  protected mode_ctx = 0;
  /** CR0.WP, CR4.SMEP and CR4.SMAP as the front cache's entries were made under. */
  protected paging_cfg = 0;
  /** Cached from CR3/CR4 for the hot path. */
  protected cur_pcid = 0;
  protected pgd_pa = 0;
  protected readonly wr = new WalkResult();

  constructor(id: number, machine: Machine, readonly mem: PhysMem, costs: CostProfile, tlb_config: Partial<TlbConfig>) {
    super(id, machine, costs);
    this.tlb = new Tlb(tlb_config);
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
  /**
   * The CPL the exception being handled interrupted: the RPL of the CS the
   * CPU pushed in its frame (regs->cs & 3), which user_mode(regs) tests.
   */
  get regs_cpl(): number {
    return this._regs_cpl;
  }
  protected _regs_cpl = 0;

  get ac(): boolean {
    return this._ac;
  }

  /*
   * Keep mode_ctx in step with CPL and EFLAGS.AC. SYSCALL and SYSRET, which
   * run on every syscall, set it outright, and STAC and CLAC, on every user
   * copy, flip the AC bit: STAC and CLAC are then small enough for V8 to
   * inline without charging their callers' inlining budget.
   */
  protected update_mode(): void {
    this.mode_ctx = (this._cpl === 3 ? MODE_USER : 0) | (this._ac ? MODE_AC : 0);
  }

  /** Empty the front cache when CR0.WP, CR4.SMEP or CR4.SMAP change. */
  protected update_paging_controls(): void {
    let cfg = 0;
    if (this.cr0 & X86_CR0_WP) cfg |= CFG_WP;
    if (this.cr4 & X86_CR4_SMEP) cfg |= CFG_SMEP;
    if (this.cr4 & X86_CR4_SMAP) cfg |= CFG_SMAP;
    if (cfg !== this.paging_cfg) {
      this.paging_cfg = cfg;
      this.tlb.pcid_switched();
    }
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
  protected deliver(h: TrapHandler, code: number, cr2: number, reason: string): FaultResult {
    const cpl = this._cpl;
    const ac = this._ac;
    const outer_regs_cpl = this._regs_cpl;
    this._regs_cpl = cpl;
    if (cpl !== 0) {
      this._cpl = 0;
      this.update_mode();
    }
    // Every CpuAccess is a Cpu (cpu.ts): this class is its middle layer.
    const r = h(this as unknown as Cpu, code, cr2, reason);
    this._regs_cpl = outer_regs_cpl;
    this._cpl = cpl;
    this._ac = ac;
    this.update_mode();
    return r;
  }

  protected raise_gp(vector: number, reason: string): false {
    this._ev[ev.HW_GP]++;
    this.charge_index(K_EXCEPTION);
    const h = this.machine.trap_table[vector];
    if (h && this.deliver(h, 0, 0, reason) === FAULT_FIXUP) return false;
    throw new GeneralProtection(vector, `CPU ${this.id}: ${vector === X86_TRAP_UD ? '#UD' : '#GP'}: ${reason}`);
  }

  protected raise_pf(va: number, code: number): FaultResult {
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

  protected translate_slow(va: number, acc: Access): number {
    this.fold_hits();
    if (!(va >= 0 && va < VA_LIMIT) || va % 1 !== 0) {
      this.raise_gp(X86_TRAP_GP, `non-canonical or invalid address ${va}`);
      return -1;
    }
    const tlb = this.tlb;
    const user = this._cpl === 3;
    const pge = (this.cr4 & CR4_PGE) !== 0;
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
          this.ubacking(va);
          return pa;
        }
        // A write through a clean entry re-walks to set D; a denied access
        // faults on the cached permissions and drops the entry (SDM 4.10.4.1).
        if (code !== 0) tlb.kill(i);
      }
      if (i < 0 || code === 0) {
        this._ev[E_TLB_MISS]++;
        const r = this.wr;
        walk(this.mem, this.pgd_pa, va, pge, r);
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
            // The offset in the page from the low u32 (exact: a page is at most 2^30), not a float modulo.
            const off = (va >>> 0) & (r.shift === 12 ? 0xfff : r.shift === 21 ? 0x1fffff : 0x3fffffff);
            if (tlb.insert(va - off, this.cur_pcid, r.shift, r.pfn, r.flags)) this._ev[ev.HW_TLB_EVICT]++;
            const pa = r.pfn * 4096 + off;
            tlb.ufill(va, pa, this.mode_ctx + acc);
            this.ubacking(va);
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

  /* The front-cache slot of `va` now holds another translation: forget its page views. */
  protected ubacking(va: number): void {
    const u = (va >>> 12) & U_MASK;
    this.u_fills++;
    this.u_b8[u] = undefined;
    this.u_b32[u] = undefined;
  }

  protected perm(flags: number, acc: Access, user: boolean): number {
    const cr4 = this.cr4;
    return access_error(flags, acc, user, (this.cr0 & X86_CR0_WP) !== 0, (cr4 & X86_CR4_SMEP) !== 0,
      (cr4 & X86_CR4_SMAP) !== 0, this._ac);
  }

  /* ---- memory access by virtual address ---- */

  /*
   * Loads and stores: on a front-cache hit with the chunk allocated, the
   * access is the key compare and one typed-array access (the counting is
   * folded later, cpu_clock.ts); anything else takes the *_slow path,
   * which translates (counting the hit or walking) and goes through
   * physmem. Kept this small so that V8 inlines them into their callers.
   */

  load8(va: number): number {
    const u = (va >>> 12) & U_MASK;
    const off = va & 0xfff;
    const e = this.u_ent;
    const b = this.u_b8[u];
    if (e[u << 1] === va - off + e[U_GEN] + this.mode_ctx && b !== undefined) { // ACC_READ is 0
      this.u_ld++;
      return b[off];
    }
    return this.load8_slow(va);
  }

  /*
   * The *_slow paths: translate, then access the page. If the translation
   * was already in the front cache (a second access to the page: no entry
   * made in between, u_fills unchanged), through the slot's view, taken
   * from physmem if the slot has none yet, so that the next accesses hit.
   * Otherwise, or without a view (an unallocated chunk, an address beyond
   * RAM), physmem does the access: it reads zeros, allocates on a store,
   * or raises the machine check. Taking a view on an entry's first use
   * would cost a workload that misses the TLB on every access (one access
   * per walk) a cold host lookup each time, for a view never used again.
   */
  protected load8_slow(va: number): number {
    const fills = this.u_fills;
    const pa = this.translate(va, ACC_READ);
    if (pa < 0) return -1;
    this.u_mem++;
    if (fills === this.u_fills) {
      const u = (va >>> 12) & U_MASK;
      const b = this.u_b8[u] ?? (this.u_b8[u] = this.mem.page8(pa));
      if (b !== undefined) return b[va & 0xfff];
    }
    return this.mem.read8(pa);
  }

  store8(va: number, v: number): boolean {
    const u = (va >>> 12) & U_MASK;
    const off = va & 0xfff;
    const e = this.u_ent;
    const b = this.u_b8[u];
    if (e[u << 1] === va - off + e[U_GEN] + this.mode_ctx + A_WRITE && b !== undefined) {
      this.u_ld++;
      b[off] = v & 0xff;
      return true;
    }
    return this.store8_slow(va, v);
  }

  protected store8_slow(va: number, v: number): boolean {
    const fills = this.u_fills;
    const pa = this.translate(va, A_WRITE);
    if (pa < 0) return false;
    this.u_mem++;
    this.mem.write8(pa, v & 0xff);
    const u = (va >>> 12) & U_MASK;
    if (fills === this.u_fills && this.u_b8[u] === undefined) this.u_b8[u] = this.mem.page8(pa);
    return true;
  }

  /** 32-bit little-endian load; may span two pages. Returns -1 after a fixup. */
  load32(va: number): number {
    const u = (va >>> 12) & U_MASK;
    const off = va & 0xfff;
    const e = this.u_ent;
    const w = this.u_b32[u];
    // An aligned word never spans pages; the key's low 12 bits are zero in va - off.
    if (e[u << 1] === va - off + e[U_GEN] + this.mode_ctx && w !== undefined && (off & 3) === 0) {
      this.u_ld++;
      return w[off >>> 2];
    }
    return this.load32_slow(va);
  }

  protected load32_slow(va: number): number {
    if ((va & 0xfff) <= 0xffc && (va & 3) === 0) {
      const fills = this.u_fills;
      const pa = this.translate(va, ACC_READ);
      if (pa < 0) return -1;
      this.u_mem++;
      if (fills === this.u_fills) {
        const u = (va >>> 12) & U_MASK;
        const w = this.u_b32[u] ?? (this.u_b32[u] = this.mem.page32(pa));
        if (w !== undefined) return w[(va & 0xfff) >>> 2];
      }
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
    const u = (va >>> 12) & U_MASK;
    const off = va & 0xfff;
    const e = this.u_ent;
    const w = this.u_b32[u];
    if (e[u << 1] === va - off + e[U_GEN] + this.mode_ctx + A_WRITE && w !== undefined && (off & 3) === 0) {
      this.u_ld++;
      w[off >>> 2] = v >>> 0;
      return true;
    }
    return this.store32_slow(va, v);
  }

  protected store32_slow(va: number, v: number): boolean {
    if ((va & 0xfff) <= 0xffc && (va & 3) === 0) {
      const fills = this.u_fills;
      const pa = this.translate(va, A_WRITE);
      if (pa < 0) return false;
      this.u_mem++;
      this.mem.write32(pa, v >>> 0);
      const u = (va >>> 12) & U_MASK;
      if (fills === this.u_fills && this.u_b32[u] === undefined) this.u_b32[u] = this.mem.page32(pa);
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
   *
   * Host cost: one translation per page on each side; a whole page whose
   * translations left their chunks in the front cache (a hit, or a miss
   * just filled) is copied chunk to chunk without physmem's lookups.
   */
  copy(dst: number, src: number, len: number): number {
    this.cp_spfn = -1;
    this.cp_dpfn = -1;
    if (len === 4096 && ((src | dst) & 0xfff) === 0 && this.copy_page_hit(dst, src)) return 0;
    let done = 0;
    while (done < len) {
      const s = src + done;
      const d = dst + done;
      const n = Math.min(len - done, 4096 - (s & 0xfff), 4096 - (d & 0xfff));
      const ps = this.translate(s, ACC_READ);
      if (ps < 0) break;
      const pd = this.translate(d, A_WRITE);
      if (pd < 0) break;
      if (n !== 4096 || !this.copy_page_slots(d, s, pd, ps)) this.mem.copy(pd, ps, n);
      this.copy_traffic(ps, pd, n);
      done += n;
    }
    this.charge_string_op(K_COPY_BYTE, this.c_copy_byte, done);
    this._ev[E_COPY_BYTES] += done;
    return len - done;
  }

  /*
   * copy() of one whole, page-aligned page whose both sides hit the front
   * cache with their page views taken: view to view, no translation call
   * and no physmem lookup. Counts and charges exactly what the general
   * loop would (two TLB hits, the cache model's lookups, the string op).
   * False, having done nothing, when it does not apply.
   */
  protected copy_page_hit(dst: number, src: number): boolean {
    const su = (src >>> 12) & U_MASK;
    const du = (dst >>> 12) & U_MASK;
    const e = this.u_ent;
    const g = e[U_GEN] + this.mode_ctx;
    if (e[su << 1] !== src + g || e[du << 1] !== dst + g + A_WRITE) return false;
    const sb = this.u_b8[su];
    const db = this.u_b8[du];
    if (sb === undefined || db === undefined) return false;
    this.u_hits += 2;
    db.set(sb); // two pages: distinct, or the same one (a no-op); set() is a memmove either way
    this.copy_traffic(e[(su << 1) + 1], e[(du << 1) + 1], 4096);
    this.charge_string_op(K_COPY_BYTE, this.c_copy_byte, 4096);
    this._ev[E_COPY_BYTES] += 4096;
    return true;
  }

  /*
   * The byte copy of one whole page from physical `ps` to `pd` that copy()
   * has just translated from `s` and `d`, view to view through their
   * front-cache slots (taking the views the slots lack): no chunk lookup
   * beyond the views'. A slot is used only if it still holds that page (a
   * fault taken while translating the destination may have refilled it).
   * False, having copied nothing, when a side has no view (an unallocated
   * chunk: physmem.copy() reads zeros or allocates).
   */
  protected copy_page_slots(d: number, s: number, pd: number, ps: number): boolean {
    const su = (s >>> 12) & U_MASK;
    const du = (d >>> 12) & U_MASK;
    const e = this.u_ent;
    if (e[(su << 1) + 1] !== ps || e[(du << 1) + 1] !== pd) return false;
    const mem = this.mem;
    const sb = this.u_b8[su] ?? (this.u_b8[su] = mem.page8(ps));
    const db = this.u_b8[du] ?? (this.u_b8[du] = mem.page8(pd));
    if (sb === undefined || db === undefined) return false;
    db.set(sb);
    return true;
  }

  /*
   * The cache model's part of one copy() segment: `n` bytes from physical
   * `ps` to `pd`. Out of copy() so that copy() stays small enough to inline
   * into its callers; its state across segments is in the cp_* fields.
   */
  protected copy_traffic(ps: number, pd: number, n: number): void {
    const spfn = (ps / 4096) | 0; // below 2^24: MAXPHYADDR is 36 bits
    if (spfn !== this.cp_spfn) {
      this.cp_spfn = spfn;
      this.cp_slevel = this.l2.touch(spfn) ? CACHE_L2 : this.cache_touch_beyond_l2(spfn);
      this.cp_sline = -1;
    }
    if (this.cp_slevel !== 0) this.cp_sline = this.count_lines(K_LINE_READ[this.cp_slevel], ps, n, this.cp_sline);
    const dpfn = (pd / 4096) | 0;
    if (dpfn !== this.cp_dpfn) {
      this.cp_dpfn = dpfn;
      this.cp_dlevel = this.l2.touch(dpfn) ? CACHE_L2 : this.cache_touch_beyond_l2(dpfn);
      this.cp_dline = -1;
    }
    if (this.cp_dlevel !== 0) this.cp_dline = this.count_lines(K_LINE_WRITE[this.cp_dlevel], pd, n, this.cp_dline);
  }

  /*
   * Charge key `k` for the 64-byte lines of `n` bytes at physical `pa`, but
   * the first if it is `prev_line`, the last line the same side counted
   * (a line straddling two segments counts once). Returns the last line.
   */
  protected count_lines(k: number, pa: number, n: number, prev_line: number): number {
    const first = Math.floor(pa / 64), last = Math.floor((pa + n - 1) / 64);
    this.charge_index(k, last - first + (first === prev_line ? 0 : 1));
    return last;
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
