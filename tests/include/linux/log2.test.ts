/*
 * tests/include/linux/log2.test.ts - is_power_of_2() on JS numbers.
 */
import { describe, expect, it } from 'vitest';
import { is_power_of_2 } from '../../../include/linux/log2.ts';

describe('include_linux_log2', () => {
  it('is_power_of_2 on both sides of the int32 fast path, up to 2^63', () => {
    for (const n of [1, 2, 4096, 2 ** 30, 2 ** 31, 2 ** 32, 2 ** 52, 2 ** 63]) expect(is_power_of_2(n)).toBe(true);
    for (const n of [0, -0, 3, 3 * 4096, -4, -(2 ** 31), 0.5, 2 ** 31 + 2, 2 ** 32 + 2 ** 31, 2 ** 31 + 0.5,
      2 ** 63 + 2 ** 40, Infinity, -Infinity, NaN])
      expect(is_power_of_2(n)).toBe(false);
  });
});
