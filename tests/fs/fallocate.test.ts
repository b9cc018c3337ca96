/*
 * tests/fs/fallocate.test.ts - fallocate(2): vfs_fallocate()'s checks and tmpfs's ->fallocate.
 *
 * KUnit-style suite fs_fallocate. Mode 0 gives every page of the range a
 * folio and grows the file; the new folios read as zeros and are not
 * cleared until written; KEEP_SIZE leaves i_size; PUNCH_HOLE|KEEP_SIZE
 * frees; bad modes, descriptors and filesystems get Linux's errors.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel, run_one, pattern, RW, ANON } from './helpers.ts';
import { O_RDONLY, O_RDWR, O_CREAT } from '../../include/uapi/linux/fcntl.ts';
import { SEEK_END } from '../../include/uapi/linux/fs.ts';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../../include/uapi/linux/falloc.ts';
import { EBADF, EINVAL, EOPNOTSUPP, ENOSPC } from '../../include/uapi/asm-generic/errno.ts';
import { HW_FILL_BYTES } from '../../arch/x86/hw/events.ts';
import { do_mount } from '../../fs/namespace.ts';
import { do_mkdirat } from '../../fs/namei.ts';
import { AT_FDCWD } from '../../include/uapi/linux/fcntl.ts';
import type { Kernel } from '../../init/main.ts';

const PAGE = 4096;

function fills(k: Kernel): number {
  return k.machine.cpus.reduce((s, c) => s + c.ev[HW_FILL_BYTES], 0);
}

describe('fs_fallocate', () => {
  it('mode 0 on tmpfs: one folio per page, the file grows, the pages read as zeros without being cleared', () => {
    /*
     *  page   0   1   2   3
     *  after  F   F   F   F    fallocate(0, 4 pages): four !uptodate folios, i_size = 4 pages
     *  then   F   W   F   F    a write to page 1: uptodate, the others still read as zeros
     */
    const k = start_kernel('mem=32M cpus=1 debug_vm');
    const d: Record<string, number> = {};
    const status = run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 2 * PAGE, RW, ANON);
      const fd = yield* u.open('/f', O_RDWR | O_CREAT);
      const v0 = k.vmstat();
      const f0 = fills(k);
      d.r = yield* u.fallocate(fd, 0, 0, 4 * PAGE);
      const v1 = k.vmstat();
      d.pages = v1.nr_shmem - v0.nr_shmem;
      d.fill_bytes = fills(k) - f0;
      d.size = yield* u.lseek(fd, 0, SEEK_END);
      u.poke(buf, pattern(PAGE, 3));
      d.w = yield* u.pwrite64(fd, buf, PAGE, PAGE);
      d.more_pages = k.vmstat().nr_shmem - v1.nr_shmem;
      d.r1 = yield* u.pread64(fd, buf + PAGE, PAGE, PAGE);
      d.data = u.peek(buf + PAGE, PAGE).every((x, i) => x === pattern(PAGE, 3)[i]) ? 1 : 0;
      u.poke(buf + PAGE, new Uint8Array(PAGE).fill(0xff));
      d.r2 = yield* u.pread64(fd, buf + PAGE, PAGE, 2 * PAGE);
      d.zeros = u.peek(buf + PAGE, PAGE).every((x) => x === 0) ? 1 : 0;
      return 0;
    });
    expect(status).toBe(0);
    expect(d).toEqual({ r: 0, pages: 4, fill_bytes: 0, size: 4 * PAGE, w: PAGE, more_pages: 0, r1: PAGE, data: 1, r2: PAGE, zeros: 1 });
    k.shutdown();
  });

  it('KEEP_SIZE allocates without growing; PUNCH_HOLE|KEEP_SIZE frees the range', () => {
    const k = start_kernel('mem=32M cpus=1 debug_vm');
    const d: Record<string, number> = {};
    const status = run_one(k, function* (u) {
      const fd = yield* u.open('/g', O_RDWR | O_CREAT);
      const v0 = k.vmstat().nr_shmem;
      d.keep = yield* u.fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 3 * PAGE);
      d.size = yield* u.lseek(fd, 0, SEEK_END);
      d.pages = k.vmstat().nr_shmem - v0;
      d.punch = yield* u.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 3 * PAGE);
      d.left = k.vmstat().nr_shmem - v0;
      return 0;
    });
    expect(status).toBe(0);
    expect(d).toEqual({ keep: 0, size: 0, pages: 3, punch: 0, left: 0 });
    k.shutdown();
  });

  it('refuses what Linux refuses: empty ranges, unknown modes, read-only files, ramfs, a full tmpfs', () => {
    const k = start_kernel('mem=32M cpus=1 debug_vm');
    expect(do_mkdirat(AT_FDCWD, '/small', 0o755)).toBe(0);
    expect(do_mount('tmpfs', '/small', 'size=16k')).toBe(0);
    const d: Record<string, number> = {};
    const status = run_one(k, function* (u) {
      const fd = yield* u.open('/h', O_RDWR | O_CREAT);
      d.len0 = yield* u.fallocate(fd, 0, 0, 0);
      d.neg = yield* u.fallocate(fd, 0, -PAGE, PAGE);
      d.mode = yield* u.fallocate(fd, 0x10, 0, PAGE);
      d.punch_grow = yield* u.fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, PAGE);
      d.badfd = yield* u.fallocate(99, 0, 0, PAGE);
      const ro = yield* u.open('/h', O_RDONLY);
      d.rdonly = yield* u.fallocate(ro, 0, 0, PAGE);
      const rf = yield* u.open('/ram/r', O_RDWR | O_CREAT);
      d.ramfs = yield* u.fallocate(rf, 0, 0, PAGE);
      const sf = yield* u.open('/small/s', O_RDWR | O_CREAT);
      d.full = yield* u.fallocate(sf, 0, 0, 8 * PAGE);
      return 0;
    });
    expect(status).toBe(0);
    expect(d).toEqual({
      len0: -EINVAL, neg: -EINVAL, mode: -EOPNOTSUPP, punch_grow: -EOPNOTSUPP, badfd: -EBADF, rdonly: -EBADF,
      ramfs: -EOPNOTSUPP, full: -ENOSPC,
    });
    k.shutdown();
  });
});
