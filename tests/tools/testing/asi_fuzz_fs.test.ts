/*
 * tests/tools/testing/asi_fuzz_fs.test.ts - the fuzzer's fs reference
 * model (KUnit-style suite asi_fuzz_fs): the real kernel agrees with it,
 * and a file syscall brought back broken (a stub in its sys_call_table
 * slot, beneath the model's wrapper) is counted in 'mismatches'.
 */
import { describe, it, expect } from 'vitest';
import { asi_fuzz } from '../../../tools/testing/asi_fuzz.ts';
import { kunit_activate_syscall_stub } from '../../fs/helpers.ts';
import { __NR_ftruncate, __NR_pwrite64, __NR_unlink, __NR_read } from '../../../arch/x86/include/uapi/asm/unistd_64.ts';

describe('asi_fuzz_fs', () => {
  it('seed 5, 5 programs with threads: the tmpfs tree equals the model after each (0 mismatches)', () => {
    const s = asi_fuzz({ seed: 5, runs: 5 });
    expect(s.first).toBe(null);
    expect(s.mismatches).toBe(0);
  });

  it('an ftruncate() that returns 0 without truncating is a size mismatch', () => {
    const s = asi_fuzz({ seed: 2, runs: 10, setup: () => { kunit_activate_syscall_stub(__NR_ftruncate, () => 0); } });
    expect(s.mismatches).toBeGreaterThan(0);
    expect(s.first).toMatch(/fs: \/f\d size \d+, model -?\d+|the model has \d+ bytes there|byte \d+ is \d+, the model's \d+/);
  });

  it('a pwrite64() that lands one byte off is a content mismatch (a read, or the final tree)', () => {
    const s = asi_fuzz({
      seed: 2, runs: 10,
      setup: () => {
        const pwrite = kunit_activate_syscall_stub(__NR_pwrite64, (a) => pwrite([a[0], a[1], a[2], a[3] + 1]));
      },
    });
    expect(s.mismatches).toBeGreaterThan(0);
    expect(s.first).toMatch(/byte \d+ is \d+, (the )?model('s)? \d+|size \d+, model \d+|returned \d+, the model has \d+ bytes there/);
  });

  it('an unlink() that reports success but leaves the name is seen in the final tree', () => {
    const s = asi_fuzz({ seed: 2, runs: 10, setup: () => { kunit_activate_syscall_stub(__NR_unlink, () => 0); } });
    expect(s.mismatches).toBeGreaterThan(0);
  });

  it('a read() that returns stale bytes is caught at the read', () => {
    const s = asi_fuzz({
      seed: 2, runs: 10,
      setup: () => {
        const read = kunit_activate_syscall_stub(__NR_read, (a) => {
          const r = read(a);
          return r > 0 ? read([a[0], a[1], a[2]]) : r; // a second read: the bytes after the ones asked for
        });
      },
    });
    expect(s.mismatches).toBeGreaterThan(0);
  });
});
