/*
 * tests/tools/testing/asi_fuzz_defects.test.ts - the fuzzer issues the
 * defects issue 17 found by hand (item 5) and would report each if it came
 * back (KUnit-style suite asi_fuzz_defects). A defect is brought back with
 * a static stub of its sys_call_table slot after boot
 * (kunit_activate_syscall_stub, tests/fs/helpers.ts).
 */
import { describe, it, expect } from 'vitest';
import { asi_fuzz } from '../../../tools/testing/asi_fuzz.ts';
import { kunit_activate_syscall_stub } from '../../fs/helpers.ts';
import { __NR_munmap, __NR_mmap, __NR_lseek } from '../../../arch/x86/include/uapi/asm/unistd_64.ts';

const DEFECTS = ['defect:munmap', 'defect:mmap_fixed_low', 'defect:lseek_dir', 'defect:user_access'];

describe('asi_fuzz_defects', () => {
  it('seed 1, 20 programs: every known-defect case is issued, and the fixed kernel answers each as Linux does', () => {
    const s = asi_fuzz({ seed: 1, runs: 20 });
    expect(s.first).toBe(null);
    expect(DEFECTS.filter((d) => !s.coverage.has(d))).toEqual([]);
  });

  it('munmap() at a negative start returning 0 again is reported as a mismatch', () => {
    const s = asi_fuzz({
      seed: 1, runs: 20,
      setup: () => {
        const munmap = kunit_activate_syscall_stub(__NR_munmap, (r) => (r[0] < 0 ? 0 : munmap(r)));
      },
    });
    expect(s.mismatches).toBeGreaterThan(0);
    expect(s.first).toMatch(/munmap\(-\d+, \d+\) returned 0, Linux: -22/);
  });

  it('MAP_FIXED below mmap_min_addr and lseek() on a directory at >= 2^63 succeeding again are reported', () => {
    const s = asi_fuzz({
      seed: 1, runs: 20,
      setup: () => {
        const mmap = kunit_activate_syscall_stub(__NR_mmap, (r) => ((r[3] & 0x10) && r[0] < 65536 ? r[0] : mmap(r)));
        const lseek = kunit_activate_syscall_stub(__NR_lseek, (r) => (r[1] >= 2 ** 63 ? 0 : lseek(r)));
      },
    });
    expect(s.mismatches).toBeGreaterThanOrEqual(2);
    expect(s.exceptions).toBe(0);
  });
});
