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
 * a CPU waiting idle and for IPI timing (smp.ts).
 *
 * Cpu is built in three layers, one file each: the clock, cost charging and
 * idle time (cpu_clock.ts); memory access, translation and fault delivery
 * (cpu_access.ts); and here, the instructions that change the CPU's state.
 *
 * Simplified: no segmentation, no interrupts flag, CPL is 0 or 3, changed
 * only by SYSCALL/SYSRET and by exception delivery and its IRET; EFER.NXE
 * is always on.
 */
import { TLB_GLOBAL, type TlbConfig } from './tlb.ts';
import type { PhysMem } from './physmem.ts';
import { type CostProfile, COST_KEY_INDEX } from './costs.ts';
import * as ev from './events.ts';
import { ACC_EXEC, ACC_READ, ACC_WRITE } from './mmu.ts';
import { CpuAccess, MODE_AC, MODE_USER, VA_LIMIT } from './cpu_access.ts';
import {
  X86_CR3_PCD, X86_CR3_PWT, X86_CR4_PCIDE, X86_CR4_PGE, X86_CR4_SMAP, X86_CR4_SMEP,
} from '../include/asm/processor-flags.ts';
import { MAXPHYADDR } from '../include/asm/pgtable_types.ts';
import { X86_TRAP_GP, X86_TRAP_UD } from '../include/asm/trap_pf.ts';
import type { Machine } from './smp.ts';
import {
  INVPCID_TYPE_INDIV_ADDR, INVPCID_TYPE_SINGLE_CTXT, INVPCID_TYPE_ALL_INCL_GLOBAL, INVPCID_TYPE_ALL_NON_GLOBAL,
} from '../include/asm/invpcid.ts';

export { FAULT_RETRY, FAULT_FIXUP, type FaultResult, GeneralProtection } from './cpu_access.ts';

/** CPUID bits the machine can be built with or without. */
export interface CpuFeatures {
  pcid: boolean;
  invpcid: boolean;
  pge: boolean;
  smep: boolean;
  smap: boolean;
}

export const ALL_FEATURES: Readonly<CpuFeatures> = { pcid: true, invpcid: true, pge: true, smep: true, smap: true };


const A_WRITE = ACC_WRITE;
const E_SYSCALL = ev.HW_SYSCALL, E_SYSRET = ev.HW_SYSRET;
/* Cost-key indices (costs.ts) as module locals (imported bindings are getters under the TS loaders). */
const KEY = COST_KEY_INDEX;
const K_SYSCALL = KEY.syscall, K_SYSRET = KEY.sysret;
const K_CR3_WRITE = KEY.cr3_write, K_CR4_WRITE = KEY.cr4_write, K_INVLPG = KEY.invlpg;
const K_INVPCID_ADDR = KEY.invpcid_addr, K_INVPCID_CTX = KEY.invpcid_ctx, K_INVPCID_ALL = KEY.invpcid_all;
const K_INVPCID_NONGLOBAL = KEY.invpcid_nonglobal;
const K_IBPB = KEY.ibpb, K_L1D_FLUSH = KEY.l1d_flush, K_VERW = KEY.verw, K_RSB_FILL = KEY.rsb_fill;
const K_STAC = KEY.stac, K_CLAC = KEY.clac;
const PHYS_LIMIT = 2 ** MAXPHYADDR;

export class Cpu extends CpuAccess {
  constructor(
    id: number,
    machine: Machine,
    mem: PhysMem,
    costs: CostProfile,
    readonly features: CpuFeatures,
    tlb_config: Partial<TlbConfig> = {},
  ) {
    super(id, machine, mem, costs, tlb_config);
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
    this.charge_one(K_STAC);
    this._ac = true;
    this.mode_ctx |= MODE_AC;
  }

  clac(): void {
    this.charge_one(K_CLAC);
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
}

export { ACC_READ, A_WRITE, ACC_EXEC, TLB_GLOBAL };
