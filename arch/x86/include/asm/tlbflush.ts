/*
 * arch/x86/include/asm/tlbflush.ts - cpu_tlbstate and building CR3 values.
 *
 * Mirrors the declarations of arch/x86/include/asm/tlbflush.h (struct
 * tlb_state, struct tlb_context, TLB_NR_DYN_ASIDS, TLB_FLUSH_ALL) and the
 * CR3 helpers of arch/x86/mm/tlb.c (kern_pcid, user_pcid, build_cr3, and
 * the ASI branch's asi_pcid and build_cr3_pcid). They sit here, below
 * arch/x86/mm/tlb.ts, so that ASI's enter and exit (arch/x86/mm/asi.ts)
 * can build CR3 values without importing the flush code, which calls
 * back into ASI through tlb_asi. tlb.ts re-exports everything.
 */
import { smp_processor_id } from '../../../../kernel/smp.ts';
import { BUG_ON } from '../../../../kernel/panic.ts';
import type { MmStruct } from '../../../../mm/mm_struct.ts';
import type { AsiExitReason } from '../../../../include/linux/asi.ts';
import { X86_CR3_PTI_PCID_USER_BIT, X86_CR3_PCID_BITS } from './processor-flags.ts';
import { PAGE_SHIFT } from './page_types.ts';
import { __pa } from './page_64_types.ts';

/** tlb_single_page_flush_ceiling (arch/x86/mm/tlb.c): 33 pages. */
export const DEFAULT_TLB_SINGLE_PAGE_FLUSH_CEILING = 33;

export const TLB_FLUSH_ALL = -1;
export const TLB_NR_DYN_ASIDS = 6;
export const TLB_GENERATION_INVALID = 0;
/* PTI's CR3 bits (arch/x86/entry/calling.h): the user PCID, and the user PGD half of the pair. */
export const PTI_USER_PCID_MASK = 1 << X86_CR3_PTI_PCID_USER_BIT;
export const PTI_USER_PGTABLE_MASK = 1 << PAGE_SHIFT;
export const PTI_USER_PGTABLE_AND_PCID_MASK = PTI_USER_PCID_MASK | PTI_USER_PGTABLE_MASK;

export class TlbContext {
  ctx_id = 0;
  tlb_gen = 0;
}

/** struct tlb_state + tlb_state_shared for one CPU. */
export class TlbState {
  /** What CR3 points at; null is LOADED_MM_SWITCHING. */
  loaded_mm: MmStruct | null = null;
  loaded_mm_asid = 0;
  next_asid = 1;
  invalidate_other = false;
  user_pcid_flush_mask = 0;
  readonly ctxs: TlbContext[] = Array.from({ length: TLB_NR_DYN_ASIDS }, () => new TlbContext());
  /** cpu_tlbstate_shared.is_lazy. */
  is_lazy = false;
  /** last_user_mm, for cond_mitigation. */
  last_user_mm: MmStruct | null = null;
  /**
   * No Linux counterpart (the branch always flushes on a transition): with
   * asi_cr3_noflush, a flush of this CPU's current PCID left the ASID's
   * other PCID (restricted or unrestricted) stale, so the next ASI
   * transition must flush after all.
   */
  asi_flush_pending = false;
}

export const tlb_state = {
  /** tlb_single_page_flush_ceiling: above this many pages, flush everything. */
  tlb_single_page_flush_ceiling: DEFAULT_TLB_SINGLE_PAGE_FLUSH_CEILING,
  /** X86_FEATURE_PCID as the kernel uses it (off with nopcid). */
  pcid: true,
  /** X86_FEATURE_PTI. */
  pti: false,
  /** spectre_v2_user=on: IBPB on every switch to another user mm. */
  switch_mm_always_ibpb: false,
  cpu_tlbstate: [] as TlbState[],
  /** Test hook (no Linux counterpart): drop the shootdown IPIs to show what they prevent. */
  suppress_flush_ipis: false,
};

/*
 * ASI's entry points into this file (no Linux counterpart as an object:
 * tlb.c calls asi.c directly). arch/x86/mm/asi.ts imports this file, so it
 * hands its functions over at boot (asi_init_tlb()) instead of being
 * imported back: no import cycle.
 */
export const tlb_asi = {
  /** X86_FEATURE_ASI. */
  enabled: false,
  /** asi_exit(reason): leave the restricted address space, if in one. */
  exit: (_reason: AsiExitReason): void => {},
  /** True if this CPU runs on a restricted CR3 (curr_asi != NULL). */
  restricted: (): boolean => false,
  /** asi_handle_switch_mm(): taints become another mm's on a switch to a different mm. */
  handle_switch_mm: (): void => {},
  /**
   * asi_cr3_noflush (no Linux counterpart: the branch always flushes): the
   * what-if lab's switch for ASI transitions that keep the TLB (CR3 bit 63).
   * Default off, as the prototype.
   */
  cr3_noflush: false,
};

/* X86_CR3_ASI_PCID_BITS: the ASI class bits of the PCID (arch/x86/include/asm/tlbflush.h in the branch). */
export const X86_CR3_ASI_PCID_BITS = 2;
/** ASI_CONSUMED_PCID_BITS / PTI_CONSUMED_PCID_BITS. */
export const ASI_CONSUMED_PCID_BITS = X86_CR3_ASI_PCID_BITS;
export const PTI_CONSUMED_PCID_BITS = 1;

/**
 * X86_CR3_ASI_PCID_BITS_SHIFT: the two highest PCID bits left after PTI's
 * user bit: bits 10-11 without PTI, 9-10 with it.
 */
export function x86_cr3_asi_pcid_bits_shift(): number {
  const end_bit = tlb_state.pti ? X86_CR3_PTI_PCID_USER_BIT - 1 : X86_CR3_PCID_BITS - 1;
  return end_bit - X86_CR3_ASI_PCID_BITS + 1;
}

/** CR3_AVAIL_PCID_BITS: 12 less what PTI and ASI consume (a build-time constant in Linux). */
export function cr3_avail_pcid_bits(): number {
  return X86_CR3_PCID_BITS - (tlb_state.pti ? PTI_CONSUMED_PCID_BITS : 0) - (tlb_asi.enabled ? ASI_CONSUMED_PCID_BITS : 0);
}

/** MAX_ASID_AVAILABLE: ASIDs that fit in CR3_AVAIL_PCID_BITS (PCID 0 and the top one reserved). */
export function max_asid_available(): number {
  return (1 << cr3_avail_pcid_bits()) - 2;
}

export function this_tlbstate(): TlbState {
  return tlb_state.cpu_tlbstate[smp_processor_id()];
}

/* ---- CR3 ---- */

export function kern_pcid(asid: number): number {
  return asid + 1;
}

export function user_pcid(asid: number): number {
  return kern_pcid(asid) | PTI_USER_PCID_MASK;
}

/** build_cr3(): PGD physical address | kern_pcid(asid) (0 without PCID). */
export function build_cr3(pgd: number, asid: number): number {
  if (!tlb_state.pcid) {
    BUG_ON(asid !== 0, 'build_cr3 without PCID needs asid 0');
    return __pa(pgd);
  }
  return __pa(pgd) + kern_pcid(asid);
}

/**
 * asi_pcid(): the PCID of a restricted address space of class `class_id`
 * on ASID `asid`: kern_pcid(asid) with class_id + 1 in the ASI bits (0
 * there is the unrestricted space). 0 without PCID.
 */
export function asi_pcid(class_id: number, asid: number): number {
  if (!tlb_state.pcid) return 0;
  return kern_pcid(asid) | ((class_id + 1) << x86_cr3_asi_pcid_bits_shift());
}

/** build_cr3_pcid(): PGD physical address | pcid (CR3's bit 63 is write_cr3()'s noflush argument). */
export function build_cr3_pcid(pgd: number, pcid: number): number {
  return __pa(pgd) + (tlb_state.pcid ? pcid : 0);
}

