/*
 * include/linux/log2.ts - is_power_of_2().
 *
 * Mirrors include/linux/log2.h's is_power_of_2() for the unsigned longs
 * tskernel keeps in JS numbers: integers up to 2^63 (a power of two is
 * exact in a double at any size). Only what tskernel's users need.
 */

/** is_power_of_2(): n is 2^k for some k >= 0. An int32 takes a few instructions; larger ones go out of line. */
export function is_power_of_2(n: number): boolean {
  return (n | 0) === n ? n > 0 && (n & (n - 1)) === 0 : is_power_of_2_big(n);
}

/* Above 2^31 the bit trick no longer applies: halve down to 2^30 first. */
function is_power_of_2_big(n: number): boolean {
  if (!Number.isInteger(n) || n < 1) return false;
  while (n > 0x40000000) {
    if (n % 2 !== 0) return false;
    n /= 2;
  }
  return (n & (n - 1)) === 0;
}
