/*
 * include/uapi/linux/mman.ts - the mapping types, and the mman-common flags.
 *
 * Mirrors include/uapi/linux/mman.h, which includes asm/mman.h and so
 * asm-generic/mman-common.h: this is the one mmap header user programs
 * import.
 */
export * from '../asm-generic/mman-common.ts';

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;

/* msync() flags (asm-generic/mman-common.h) */
export const MS_ASYNC = 1;
export const MS_INVALIDATE = 2;
export const MS_SYNC = 4;
