/*
 * arch/x86/include/asm/irq_vectors.ts - interrupt vector numbers.
 *
 * Mirrors arch/x86/include/asm/irq_vectors.h for the vectors the machine
 * delivers: exceptions take 0..31 (asm/trapnr.h, in trap_pf.ts), the
 * system vectors sit at the top of the 256-entry IDT.
 */

/** IDT entries. */
export const NR_VECTORS = 256;
/** The local APIC timer (TSC-deadline mode here). */
export const LOCAL_TIMER_VECTOR = 0xec;
