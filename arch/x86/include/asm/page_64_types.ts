/*
 * arch/x86/include/asm/page_64_types.ts - the kernel half of the 4-level map.
 *
 * Mirrors arch/x86/include/asm/page_64_types.h and the 4-level table of
 * Documentation/arch/x86/x86_64/mm.rst. Addresses are stored as 48-bit
 * numbers (asm/page.ts): ffffffff80000000 is 0xffff80000000.
 * Simplified: no KASLR (CONFIG_RANDOMIZE_BASE and _MEMORY off), so the bases
 * are the fixed defaults and KERNEL_IMAGE_SIZE is 512 MiB; 4-level paging
 * only (no LA57).
 */

/** __PAGE_OFFSET_BASE_L4: the direct map of all RAM (page_offset_base). */
export const __PAGE_OFFSET_BASE_L4 = 0x888000000000;
export const PAGE_OFFSET = __PAGE_OFFSET_BASE_L4;
/** The direct map spans 64 TB (MAX_PHYSMEM_BITS = 46). */
export const MAX_PHYSMEM_BITS = 46;
export const DIRECT_MAP_SIZE = 2 ** MAX_PHYSMEM_BITS;

export const __START_KERNEL_map = 0xffff80000000;
/** Without KASLR (CONFIG_RANDOMIZE_BASE=n) the image is 512 MiB. */
export const KERNEL_IMAGE_SIZE = 512 * 1024 * 1024;
/**
 * __PHYSICAL_START: CONFIG_PHYSICAL_START=0x200000 (2 MiB, one
 * CONFIG_PHYSICAL_ALIGN), a legal setting that lets a 16 MiB machine boot;
 * the distribution default is 16 MiB.
 */
export const __PHYSICAL_START = 0x200000;
/**
 * Bytes of the kernel image (text, data, bss) reserved at __PHYSICAL_START.
 * No Linux constant: an estimate of a small configuration's _end - _text.
 */
export const KERNEL_IMAGE_BYTES = 4 * 2 ** 20;
export const __START_KERNEL = __START_KERNEL_map + __PHYSICAL_START;

/** TASK_SIZE_MAX: (1 << 47) - PAGE_SIZE, the last user page is a guard. */
export const TASK_SIZE_MAX = 2 ** 47 - 4096;
export const TASK_SIZE = TASK_SIZE_MAX;
/** DEFAULT_MAP_WINDOW: where top-down mmap starts. */
export const DEFAULT_MAP_WINDOW = 2 ** 47 - 4096;

/** __pa() of a direct-map address; the caller guarantees it is one. */
export function __pa(va: number): number {
  return va - PAGE_OFFSET;
}

/** __va(): the direct-map address of a physical address. */
export function __va(pa: number): number {
  return pa + PAGE_OFFSET;
}
