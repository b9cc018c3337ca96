import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { PROT_READ, PROT_WRITE, PROT_EXEC, MAP_PRIVATE, MAP_ANONYMOUS, MAP_SHARED, MAP_FIXED } from '../../include/uapi/linux/mman.ts';
import { EFAULT, ENOSYS, EINVAL, EBADF, ENOMEM, ECHILD } from '../../include/uapi/asm-generic/errno.ts';
import { __NR_nanosleep, __NR_wait4 } from '../../arch/x86/include/uapi/asm/unistd_64.ts';
import { drain_all_pages } from '../../mm/page_alloc.ts';
import { run_prog } from './run_prog.ts';

const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const RW = PROT_READ | PROT_WRITE;


describe('kernel_syscalls_bad_input', () => {
  it('unknown syscall numbers and garbage arguments: -ENOSYS / -errno, never a host exception', () => {
    const rec = run_prog('mem=32M cpus=1', function* (u, rec) {
      rec.unknown = yield* u.syscall(999);
      rec.negative = yield* u.syscall(-5);
      rec.huge = yield* u.syscall(2 ** 40);
      rec.nan = yield { nr: Number.NaN, args: [] };
      rec.badargs = yield* u.syscall(__NR_nanosleep, Number.NaN, -1);
      return 0;
    });
    expect([rec.unknown, rec.negative, rec.huge, rec.nan]).toEqual([-ENOSYS, -ENOSYS, -ENOSYS, -ENOSYS]);
    expect(rec.badargs).toBe(-EFAULT);
    expect(rec.exit).toBe(0);
  });

  it('bad pointers: -EFAULT', () => {
    const rec = run_prog('mem=32M cpus=1', function* (u, rec) {
      rec.sleep_null = yield* u.syscall(__NR_nanosleep, 0, 0);
      rec.sleep_kernel = yield* u.syscall(__NR_nanosleep, 0xffff88800000, 0);
      rec.write_bad = yield* u.write(1, 0x1234000, 10);
      const b = yield* u.mmap(0, 4096, RW, ANON);
      rec.write_partial = yield* u.write(1, b + 4096 - 4, 10); // 4 bytes, then a hole
      yield* u.clone(0, function* () { return 0; });
      rec.wait_bad_status = yield* u.syscall(__NR_wait4, -1, 0x10, 0, 0);
      return 0;
    });
    expect(rec.sleep_null).toBe(-EFAULT);
    expect(rec.sleep_kernel).toBe(-EFAULT);
    expect(rec.write_bad).toBe(-EFAULT);
    expect(rec.write_partial).toBe(4);
    expect(rec.wait_bad_status).toBe(-EFAULT);
    expect(rec.leaked).toBe(0);
  });

  it('bad mmap flags, lengths and alignments: -EINVAL; a file mapping of a closed fd -EBADF; too big -ENOMEM', () => {
    const rec = run_prog('mem=32M cpus=1', function* (u, rec) {
      rec.len0 = yield* u.mmap(0, 0, RW, ANON);
      rec.neglen = yield* u.mmap(0, -4096, RW, ANON);
      rec.noflags = yield* u.mmap(0, 4096, RW, MAP_ANONYMOUS);
      rec.badprot = yield* u.mmap(0, 4096, 0x80, ANON);
      rec.fixed_unaligned = yield* u.mmap(0x10000123, 4096, RW, ANON | MAP_FIXED);
      rec.file = yield* u.mmap(0, 4096, RW, MAP_PRIVATE, 3, 0);
      rec.shared = yield* u.mmap(0, 4096, RW, MAP_SHARED | MAP_ANONYMOUS);
      rec.toobig = yield* u.mmap(0, 2 ** 47, RW, ANON);
      rec.munmap_unaligned = yield* u.munmap(0x10000123, 4096);
      rec.munmap_zero = yield* u.munmap(0x10000000, 0);
      rec.mprotect_unmapped = yield* u.mprotect(0x10000000, 4096, PROT_READ);
      rec.mprotect_badprot = yield* u.mprotect(0x10000000, 4096, 0x100);
      return 0;
    });
    expect([rec.len0, rec.neglen, rec.noflags, rec.badprot, rec.fixed_unaligned]).toEqual([-EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL]);
    expect(rec.file).toBe(-EBADF); // fd 3 is not open: ksys_mmap_pgoff()'s fget() fails (was -ENODEV before file mappings)
    expect(rec.shared).toBe(-EINVAL);
    expect(rec.toobig).toBe(-ENOMEM);
    expect([rec.munmap_unaligned, rec.munmap_zero]).toEqual([-EINVAL, -EINVAL]);
    expect(rec.mprotect_unmapped).toBe(-ENOMEM);
    expect(rec.mprotect_badprot).toBe(-EINVAL);
    expect(rec.leaked).toBe(0);
  });

  it('bad fds: -EBADF; wait4 without children: -ECHILD', () => {
    const rec = run_prog('mem=32M cpus=1', function* (u, rec) {
      rec.close = yield* u.close(42);
      rec.close_neg = yield* u.close(-1);
      rec.read = yield* u.read(7, 0, 1);
      rec.write_stdin = yield* u.write(0, 0, 1);
      const [w] = yield* u.waitpid(-1);
      rec.wait = w;
      rec.close_ok = yield* u.close(2);
      rec.close_again = yield* u.close(2);
      return 0;
    });
    expect([rec.close, rec.close_neg, rec.read, rec.write_stdin]).toEqual([-EBADF, -EBADF, -EBADF, -EBADF]);
    expect(rec.wait).toBe(-ECHILD);
    expect([rec.close_ok, rec.close_again]).toEqual([0, -EBADF]);
  });

  it('out of memory: the faulting process is killed, nothing leaks', () => {
    const k = start_kernel('mem=32M cpus=1');
    drain_all_pages();
    const free0 = k.vmstat().nr_free_pages;
    k.spawn('hog', function* (u: Nolibc) {
      const len = 64 * 2 ** 20; // more than RAM
      const b = yield* u.mmap(0, len, RW, ANON);
      for (let off = 0; off < len; off += 4096) u.poke32(b + off, 1);
      return 0;
    });
    const r = k.run();
    expect(r.exited[0].status).toBe(128 + 9);
    expect(k.dmesg()).toMatch(/Out of memory: Killed process \d+ \(hog\)/);
    drain_all_pages();
    expect(k.vmstat().nr_free_pages).toBe(free0);
    k.shutdown();
  });

  it('PROT_NONE and write to read-only segfault; mprotect upgrades take effect', () => {
    const k = start_kernel('mem=32M cpus=1');
    const st: Record<string, number> = {};
    k.spawn('ro', function* (u: Nolibc) {
      const b = yield* u.mmap(0, 4096, PROT_READ, ANON);
      st.read = u.peek32(b);
      st.up = yield* u.mprotect(b, 4096, RW);
      u.poke32(b, 9);
      st.down = yield* u.mprotect(b, 4096, PROT_READ | PROT_EXEC);
      st.still = u.peek32(b);
      u.poke32(b, 10); // segfault
      return 0;
    });
    const r = k.run();
    expect(st).toEqual({ read: 0, up: 0, down: 0, still: 9 });
    expect(r.exited[0].status).toBe(139);
    k.shutdown();
  });
});
