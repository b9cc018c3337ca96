/*
 * arch/x86/include/asm/page.ts - canonical addresses and their printing.
 *
 * Mirrors arch/x86/include/asm/page.h (__canonical_address,
 * __is_canonical_address). tskernel keeps virtual addresses as the 48 bits
 * the walker uses, as plain numbers in [0, 2^48) (DESIGN.md section 5): the
 * direct map base ffff888000000000 is stored as 0x888000000000. Sign
 * extension exists only here, when printing and parsing.
 */

export const __VIRTUAL_MASK_SHIFT = 47;
export const VA_BITS = 48;
export const VA_SPACE = 2 ** VA_BITS;
const KERNEL_HALF = 2 ** __VIRTUAL_MASK_SHIFT;

/** %px: 16 hex digits, sign-extended from bit 47 as the CPU sees it. */
export function format_va(va: number): string {
  if (!Number.isInteger(va) || va < 0 || va >= VA_SPACE) return `<bad va ${va}>`;
  const low = va.toString(16).padStart(12, '0');
  return (va >= KERNEL_HALF ? 'ffff' : '0000') + low;
}

/**
 * Parse a 64-bit address written in hex ("ffff888000000000", "0x7fff...",
 * with or without leading zeros) into the stored 48-bit form. A
 * non-canonical address (bits 63..47 not all equal) is an error, as it is a
 * #GP on hardware.
 */
export function parse_va(text: string): number {
  const hex = text.trim().toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{1,16}$/.test(hex)) throw new RangeError(`parse_va: not a hex address: '${text}'`);
  const full = hex.padStart(16, '0');
  const top = full.slice(0, 4);
  const low = parseInt(full.slice(4), 16);
  const bit47 = low >= KERNEL_HALF;
  if ((top === 'ffff' && bit47) || (top === '0000' && !bit47)) return low;
  throw new RangeError(`parse_va: non-canonical address ${full}`);
}

/** __is_canonical_address for a 64-bit value given as hex text. */
export function __is_canonical_address(text: string): boolean {
  try {
    parse_va(text);
    return true;
  } catch {
    return false;
  }
}
