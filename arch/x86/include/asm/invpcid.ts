/*
 * arch/x86/include/asm/invpcid.ts - INVPCID descriptor types.
 *
 * Mirrors the type constants of arch/x86/include/asm/invpcid.h: what the
 * INVPCID instruction (Cpu.invpcid in arch/x86/hw/cpu.ts) invalidates.
 * Linux's invpcid_flush_*() wrappers are left out: arch/x86/mm/tlb.ts
 * issues the instruction with the type directly.
 */
/** One address in one PCID (global translations excluded). */
export const INVPCID_TYPE_INDIV_ADDR = 0;
/** Everything in one PCID except global translations. */
export const INVPCID_TYPE_SINGLE_CTXT = 1;
/** Every PCID, global translations included. */
export const INVPCID_TYPE_ALL_INCL_GLOBAL = 2;
/** Every PCID, global translations kept. */
export const INVPCID_TYPE_ALL_NON_GLOBAL = 3;
