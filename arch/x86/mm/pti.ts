/*
 * arch/x86/mm/pti.ts - page-table isolation: the user half of a PGD pair.
 *
 * Mirrors arch/x86/mm/pti.c in what the TLB and CR3 see: with pti=on each
 * mm's PGD is an 8 KiB pair, kernel PGD at pgd and user PGD at
 * pgd + PAGE_SIZE (PTI_USER_PGTABLE_BIT = 12); user PGD entries are
 * mirrored into the user PGD as they are set (pti_set_user_pgtbl); kernel
 * mappings lose _PAGE_GLOBAL (__default_kernel_pte_mask); the entry code
 * switches CR3 on every kernel entry and exit (arch/x86/mm/tlb.ts,
 * switch_to_kernel_cr3 / switch_to_user_cr3).
 * Simplified: the user PGD's kernel half maps nothing (tskernel's entry
 * code executes no instructions from memory, so cpu_entry_area, the entry
 * text and espfix need no user mapping).
 */

export const pti_state = {
  /** X86_FEATURE_PTI: pti=on. */
  enabled: false,
};

export function pti_init(on: boolean): void {
  pti_state.enabled = on;
}

/** kernel_to_user_pgdp(). */
export function kernel_to_user_pgdp(pgd: number): number {
  return pgd + 4096;
}
