/*
 * tests/fs/ramfs.test.ts - ramfs on the generic page cache (filemap_read, generic_perform_write).
 */
import { describe, it, expect } from 'vitest';
import { start_kernel, run_one, pattern, free_pages_now, RW, ANON } from './helpers.ts';
import { O_RDWR, O_CREAT } from '../../include/uapi/linux/fcntl.ts';
import { ENOMEM } from '../../include/uapi/asm-generic/errno.ts';

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

describe('fs_ramfs', () => {
  it('filemap_read copies a 40-page read in folio batches, a page at a time', () => {
    const k = start_kernel('mem=32M cpus=1 debug_vm');
    const d: Record<string, number> = {};
    run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 80 * 4096, RW, ANON);
      const data = pattern(40 * 4096, 1);
      u.poke(buf, data);
      const fd = yield* u.open('/ram/f', O_RDWR | O_CREAT);
      d.w = yield* u.write(fd, buf, 40 * 4096);
      for (let i = 0; i < 40; i++) u.poke32(buf + 40 * 4096 + i * 4096, 0);
      const v0 = k.vmstat();
      d.r = yield* u.pread64(fd, buf + 40 * 4096 + 100, 40 * 4096 - 200, 100);
      const v1 = k.vmstat();
      d.copies = v1.nr_copy_to_iter - v0.nr_copy_to_iter;
      d.pgalloc = v1.pgalloc_normal - v0.pgalloc_normal;
      d.same = same(u.peek(buf + 40 * 4096 + 100, 40 * 4096 - 200), data.subarray(100, 40 * 4096 - 100)) ? 1 : 0;
      d.file_pages = v1.nr_file_pages;
      d.shmem = v1.nr_shmem;
      return 0;
    });
    expect(d).toEqual({ w: 40 * 4096, r: 40 * 4096 - 200, copies: 40, pgalloc: 0, same: 1, file_pages: 40, shmem: 0 });
    k.shutdown();
  });

  it('a hole in a ramfs file becomes a zeroed page when read (filemap_create_folio + simple_read_folio)', () => {
    const k = start_kernel('mem=32M cpus=1');
    const d: Record<string, number> = {};
    run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 8 * 4096, RW, ANON);
      u.poke(buf, pattern(10, 2));
      const fd = yield* u.open('/ram/holes', O_RDWR | O_CREAT);
      d.w = yield* u.pwrite64(fd, buf, 10, 3 * 4096);
      d.before = k.vmstat().nr_file_pages;
      for (let i = 0; i < 4; i++) u.poke32(buf + 4096 + i * 4096, 0x01010101);
      d.r = yield* u.pread64(fd, buf + 4096, 4 * 4096, 0);
      d.after = k.vmstat().nr_file_pages;
      const got = u.peek(buf + 4096, 3 * 4096 + 10);
      d.zeros = got.subarray(0, 3 * 4096).every((b) => b === 0) ? 1 : 0;
      d.data = same(got.subarray(3 * 4096), pattern(10, 2)) ? 1 : 0;
      d.shrink = yield* u.ftruncate(fd, 100);
      d.shrunk = k.vmstat().nr_file_pages;
      d.grow = yield* u.ftruncate(fd, 8192);
      d.r2 = yield* u.pread64(fd, buf + 4096, 8192, 0);
      d.tail_zero = u.peek(buf + 4096 + 100, 8092).every((b) => b === 0) ? 1 : 0;
      return 0;
    });
    expect(d).toEqual({ w: 10, before: 1, r: 3 * 4096 + 10, after: 4, zeros: 1, data: 1, shrink: 0, shrunk: 1, grow: 0, r2: 8192, tail_zero: 1 });
    k.shutdown();
  });

  it('ramfs has no size limit: a full machine gives a short write, then ENOMEM; unlink returns every page', () => {
    const k = start_kernel('mem=32M cpus=1');
    const d: Record<string, number> = {};
    const M = 1 << 20;
    run_one(k, function* (u) {
      const buf = yield* u.mmap(0, M, RW, ANON);
      u.poke(buf, pattern(M, 3));
      const fd = yield* u.open('/ram/big', O_RDWR | O_CREAT);
      const free0 = free_pages_now(k);
      let total = 0;
      let last = 0;
      for (let i = 0; i < 64 && (last = yield* u.write(fd, buf, M)) === M; i++) total += M;
      d.short = last > 0 && last < M ? 1 : 0;
      total += Math.max(last, 0);
      d.enomem = yield* u.write(fd, buf, 4096);
      yield* u.fstat(fd, buf);
      d.size_ok = u.peek64(buf + 48) === total ? 1 : 0;
      d.pages_ok = k.vmstat().nr_file_pages === total / 4096 ? 1 : 0;
      yield* u.close(fd);
      d.unlink = yield* u.unlink('/ram/big');
      d.back = free_pages_now(k) === free0 ? 1 : 0;
      return 0;
    });
    expect(d).toEqual({ short: 1, enomem: -ENOMEM, size_ok: 1, pages_ok: 1, unlink: 0, back: 1 });
    k.shutdown();
  });
});
