/*
 * arch/x86/include/asm/fixmap.ts - compile-time fixed kernel virtual addresses.
 *
 * Mirrors arch/x86/include/asm/fixmap.h for x86-64 with
 * CONFIG_X86_VSYSCALL_EMULATION, CONFIG_X86_LOCAL_APIC, CONFIG_X86_IO_APIC
 * and CONFIG_KMAP_LOCAL (here: kmap_local=force_map). Index x maps to
 * __fix_to_virt(x) = FIXADDR_TOP - (x << PAGE_SHIFT): the fixmap grows
 * downward from FIXADDR_TOP, so FIX_KMAP_BEGIN is the highest kmap slot.
 *
 *   FIXADDR_TOP ffffffffff7ff000 -+- VSYSCALL_PAGE (511) at VSYSCALL_ADDR
 *                                 |  FIX_DBGP_BASE, FIX_EARLYCON_MEM_BASE, FIX_APIC_BASE
 *                                 |  FIX_IO_APIC_BASE_0 .. +MAX_IO_APICS-1
 *                                 +- FIX_KMAP_BEGIN: CPU 0 slot 0, slot 1, ... CPU 1 slot 0 ...
 *                                 +- FIX_KMAP_END = FIX_KMAP_BEGIN + KM_MAX_IDX * NR_CPUS - 1
 *
 * Simplified: only the entries before FIX_KMAP_END, which fix its position;
 * nothing but kmap_local uses the fixmap.
 */
import { FIXADDR_TOP, VSYSCALL_ADDR } from './pgtable_64_types.ts';
import { PAGE_SHIFT } from './page_types.ts';
import { NR_CPUS } from '../../../../include/linux/threads.ts';

/** KM_MAX_IDX (asm-generic/kmap_size.h) without CONFIG_DEBUG_KMAP_LOCAL. */
export const KM_MAX_IDX = 16;
/** MAX_IO_APICS (asm/apicdef.h) on x86-64. */
export const MAX_IO_APICS = 128;

/* enum fixed_addresses */
export const VSYSCALL_PAGE = (FIXADDR_TOP - VSYSCALL_ADDR) >>> PAGE_SHIFT;
export const FIX_DBGP_BASE = VSYSCALL_PAGE + 1;
export const FIX_EARLYCON_MEM_BASE = FIX_DBGP_BASE + 1;
export const FIX_APIC_BASE = FIX_EARLYCON_MEM_BASE + 1;
export const FIX_IO_APIC_BASE_0 = FIX_APIC_BASE + 1;
export const FIX_IO_APIC_BASE_END = FIX_IO_APIC_BASE_0 + MAX_IO_APICS - 1;
export const FIX_KMAP_BEGIN = FIX_IO_APIC_BASE_END + 1;
export const FIX_KMAP_END = FIX_KMAP_BEGIN + KM_MAX_IDX * NR_CPUS - 1;

/** __fix_to_virt(x). */
export function __fix_to_virt(x: number): number {
  return FIXADDR_TOP - x * 4096;
}

/** __virt_to_fix(x). */
export function __virt_to_fix(x: number): number {
  return Math.floor((FIXADDR_TOP - (x - (x % 4096))) / 4096);
}
