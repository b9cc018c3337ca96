/*
 * arch/x86/include/asm/processor-flags.ts - CR0, CR3, CR4 and EFLAGS bits.
 *
 * Mirrors arch/x86/include/uapi/asm/processor-flags.h and
 * asm/processor-flags.h. CR3's bit 63 (X86_CR3_PCID_NOFLUSH) cannot sit in
 * a JS number beside the PCID bits exactly, so tskernel carries it as the
 * `noflush` argument of write_cr3(); build_cr3_noflush() in arch/x86/mm/tlb
 * sets it. Every other CR3 bit keeps its position.
 */

export const X86_CR0_PE = 1 << 0;
export const X86_CR0_WP = 1 << 16;
export const X86_CR0_PG = 1 << 31;

export const X86_CR3_PWT = 1 << 3;
export const X86_CR3_PCD = 1 << 4;
export const X86_CR3_PCID_BITS = 12;
export const X86_CR3_PCID_MASK = 0xfff;
export const X86_CR3_PCID_NOFLUSH_BIT = 63;
export const X86_CR3_LAM_U57_BIT = 61;
export const X86_CR3_LAM_U48_BIT = 62;
/** PTI: bit 11 of the PCID marks the user half's PCID. */
export const X86_CR3_PTI_PCID_USER_BIT = 11;

export const X86_CR4_PSE = 1 << 4;
export const X86_CR4_PAE = 1 << 5;
export const X86_CR4_PGE = 1 << 7;
export const X86_CR4_LA57 = 1 << 12;
export const X86_CR4_PCIDE = 1 << 17;
export const X86_CR4_SMEP = 1 << 20;
export const X86_CR4_SMAP = 1 << 21;

export const X86_EFLAGS_IF = 1 << 9;
export const X86_EFLAGS_AC = 1 << 18;

/*
 * A CR3 value is a number below 2^52, so `&` (which sees only its low 32
 * bits) can pick the PCID bits out of it but not the address.
 */

/** CR3_ADDR_MASK: bits 51..12 (MAXPHYADDR further limits what is legal). */
export function cr3_addr(cr3: number): number {
  return cr3 - (cr3 & X86_CR3_PCID_MASK);
}
/** The PCID bits, X86_CR3_PCID_MASK (PWT and PCD without CR4.PCIDE). */
export function cr3_pcid(cr3: number): number {
  return cr3 & X86_CR3_PCID_MASK;
}
