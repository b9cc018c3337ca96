import { describe, it, expect } from 'vitest';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE } from '../../include/uapi/linux/mman.ts';
import { EINVAL, EPERM } from '../../include/uapi/asm-generic/errno.ts';
import { run_prog as run_prog_on, type RecProgram } from '../kernel/run_prog.ts';

const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const RW = PROT_READ | PROT_WRITE;

/** Run one program on a small kernel; what it recorded, its exit status and the pages it leaked. */
const run_prog = (prog: RecProgram): Record<string, number> => run_prog_on('mem=32M cpus=1', prog);

describe('mm_mmap_bad_range', () => {
  it('munmap_negative_start: -EINVAL, and the mappings (and their pages) stay', () => {
    const rec = run_prog(function* (u, rec) {
      const b = yield* u.mmap(0, 4 * 4096, RW, ANON);
      for (let i = 0; i < 4; i++) u.poke32(b + i * 4096, i + 1);
      rec.neg = yield* u.munmap(-4096, 2 ** 47);
      rec.neg_small = yield* u.munmap(-8192, 4096);
      rec.zero_len = yield* u.munmap(b, 0);
      rec.kernel = yield* u.munmap(2 ** 47, 4096);
      rec.still = u.peek32(b + 3 * 4096); // would segfault had the mapping gone
      return 0;
    });
    expect(rec).toEqual({ neg: -EINVAL, neg_small: -EINVAL, zero_len: -EINVAL, kernel: -EINVAL, still: 4, exit: 0, leaked: 0 });
  });

  it('mmap_fixed_below_mmap_min_addr: page 0 cannot be mapped (-EPERM)', () => {
    const rec = run_prog(function* (u, rec) {
      rec.page0 = yield* u.mmap(0, 4096, RW, ANON | MAP_FIXED);
      rec.below = yield* u.mmap(0x1000, 4096, RW, ANON | MAP_FIXED_NOREPLACE);
      rec.straddle_ok = (yield* u.mmap(65536, 4096, RW, ANON | MAP_FIXED)) === 65536 ? 1 : 0;
      return 0;
    });
    expect(rec).toEqual({ page0: -EPERM, below: -EPERM, straddle_ok: 1, exit: 0, leaked: 0 });
  });
});
