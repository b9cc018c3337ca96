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

/*
 * IS_ALIGNED / ALIGN for a power-of-two `a` up to 2^63, on numbers that
 * exceed 32 bits: dividing and multiplying by a power of two is exact, and
 * avoids `%`, which V8 compiles to a C call for doubles beyond 2^31.
 */
export function IS_ALIGNED(x: number, a: number): boolean {
  return a <= 1 || Math.floor(x / a) * a === x;
}

export function ALIGN(x: number, a: number): number {
  return a <= 1 ? x : Math.ceil(x / a) * a;
}

