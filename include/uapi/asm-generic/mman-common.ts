/*
 * include/uapi/asm-generic/mman-common.ts - mmap() and mprotect() flags.
 *
 * Mirrors include/uapi/asm-generic/mman-common.h (the x86 asm/mman.h adds
 * nothing tskernel uses). User programs import these through
 * include/uapi/linux/mman.ts, as C programs get them from <sys/mman.h>.
 */
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;

/* 0x01 - 0x03 are the mapping types of uapi/linux/mman.h (MAP_SHARED, MAP_PRIVATE). */
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_POPULATE = 0x8000;
export const MAP_FIXED_NOREPLACE = 0x100000;
