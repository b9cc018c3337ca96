/*
 * tests/tools/testing/asi_fuzz_fs.test.ts - the fuzzer's fs reference
 * model (KUnit-style suite asi_fuzz_fs): the real kernel agrees with it,
 * and a file syscall brought back broken (a stub in its sys_call_table
 * slot, beneath the model's wrapper) is counted in 'mismatches'.
 */
import { describe, it, expect } from 'vitest';
import { asi_fuzz, asi_fuzz_replay } from '../../../tools/testing/asi_fuzz.ts';
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

  /*
   * Seed 1: threaded programs interleave by the modelled cycles and the
   * fuzzer's draws, so which reads see a shifted byte follows both; seed 2's
   * first ten programs stopped reading one back when the read path's
   * kernel-step factor (issue 13) and the pressure steps came in.
   */
  it('a read() that returns stale bytes is caught at the read', () => {
    const s = asi_fuzz({
      seed: 1, runs: 10,
      setup: () => {
        const read = kunit_activate_syscall_stub(__NR_read, (a) => {
          const r = read(a);
          return r > 0 ? read([a[0], a[1], a[2]]) : r; // a second read: the bytes after the ones asked for
        });
      },
    });
    expect(s.mismatches).toBeGreaterThan(0);
  });

  /*
   * Found by `npm run fuzz -- --seed 1 --runs 10000 --cmdline "mem=64M cpus=2 asi=off"`
   * (program 9645, shrunk to 35 syscalls): a pread of a file into a buffer
   * whose tail is a MAP_SHARED mapping of that same file stores into the
   * file with no write() the model saw. The kernel was right; the model
   * now takes a shared-mapped file's bytes from the kernel before each call.
   */
  it('a pread into a MAP_SHARED mapping of the same file is no mismatch', () => {
    const tape = {
      p0: [1, 0, 10, 12, 4, 0, 1, 0, 0, 0, 0, 5, 11, 10, 11, 13, 4, 0, 6, 0, 5, 1, 4, 1, 0, 0, 13, 10, 1, 14, 0, 0, 1, 0, 1],
      'p0.t2': [3, 0, 0, 0, 0, 3, 0, 0, 0, 2],
      'p0.t3': [3, 0, 0, 0, 7, 1, 1, 4, 3, 0, 3, 0, 4],
    };
    expect(asi_fuzz_replay('mem=64M cpus=2 asi=off', tape).failure).toBe(null);
  });
});
