/*
 * arch/x86/include/asm/page_types.ts - page size and shift.
 *
 * Mirrors arch/x86/include/asm/page_types.h. PAGE_MASK is not the
 * ~(PAGE_SIZE-1) of C because addresses here exceed 32 bits: use
 * PAGE_ALIGN_DOWN / PAGE_ALIGN, which are exact on numbers below 2^53.
 */

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PMD_PAGE_SIZE = 1 << 21;
export const PUD_PAGE_SIZE = 1 << 30;

/** Round down to a page boundary; exact for any address below 2^53. */
export function PAGE_ALIGN_DOWN(addr: number): number {
  return addr - (addr % PAGE_SIZE);
}

/** PAGE_ALIGN: round up to a page boundary. */
export function PAGE_ALIGN(addr: number): number {
  const r = addr % PAGE_SIZE;
  return r === 0 ? addr : addr + (PAGE_SIZE - r);
}

export function PAGE_ALIGNED(addr: number): boolean {
  return addr % PAGE_SIZE === 0;
}

/** IS_ALIGNED for any power-of-two `a`, on numbers that exceed 32 bits. */
export function IS_ALIGNED(x: number, a: number): boolean {
  return x % a === 0;
}

export function ALIGN(x: number, a: number): number {
  const r = x % a;
  return r === 0 ? x : x + (a - r);
}

export function ALIGN_DOWN(x: number, a: number): number {
  return x - (x % a);
}
