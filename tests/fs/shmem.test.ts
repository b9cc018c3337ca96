/*
 * tests/fs/shmem.test.ts - tmpfs: the cached read path, holes, huge folios, truncation, ENOSPC, ENOMEM.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel, run_one, pattern, free_pages_now, RW, ANON } from './helpers.ts';
import { O_RDONLY, O_RDWR, O_CREAT } from '../../include/uapi/linux/fcntl.ts';
import { do_mount } from '../../fs/namespace.ts';
import { kern_path } from '../../fs/namei.ts';
import { xa_load } from '../../lib/xarray.ts';
import { page_address } from '../../mm/mm_types.ts';
import { HW_COPY_BYTES, HW_PAGE_FAULT } from '../../arch/x86/hw/events.ts';
import { ENOSPC, ENOMEM } from '../../include/uapi/asm-generic/errno.ts';
import type { Kernel } from '../../init/main.ts';

function hw(k: Kernel, ev: number): number {
  return k.machine.cpus.reduce((s, c) => s + c.ev[ev], 0);
}
function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

describe('fs_shmem', () => {
  it('read() of a cached page: exactly one page-sized copy from the page to the user buffer, no allocation', () => {
    const k = start_kernel('mem=32M cpus=2 debug_vm');
    const d: Record<string, number> = {};
    let pfn = -1;
    const status = run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 4 * 4096, RW, ANON);
      u.poke(buf, pattern(3 * 4096, 1));
      const fd = yield* u.open('/cached', O_RDWR | O_CREAT);
      if ((yield* u.write(fd, buf, 3 * 4096)) !== 3 * 4096) return 1;
      const dst = buf + 3 * 4096;
      u.poke32(dst, 0); // the destination is faulted in beforehand
      yield* u.lseek(fd, 4096, 0);
      const v0 = k.vmstat(), c0 = hw(k, HW_COPY_BYTES), f0 = hw(k, HW_PAGE_FAULT);
      const n = yield* u.read(fd, dst, 4096);
      const v1 = k.vmstat();
      d.n = n;
      d.copies = v1.nr_copy_to_iter - v0.nr_copy_to_iter;
      d.copy_bytes = v1.nr_copy_to_iter_bytes - v0.nr_copy_to_iter_bytes;
      d.mmu_copy_bytes = hw(k, HW_COPY_BYTES) - c0;
      d.page_faults = hw(k, HW_PAGE_FAULT) - f0;
      d.pgalloc = v1.pgalloc_normal - v0.pgalloc_normal;
      d.pgfree = v1.pgfree - v0.pgfree;
      d.same = same(u.peek(dst, 4096), pattern(3 * 4096, 1).subarray(4096, 8192)) ? 1 : 0;
      const p = kern_path('/cached');
      if (typeof p !== 'number' && p.dentry.d_inode) pfn = xa_load(p.dentry.d_inode.i_mapping.i_pages, 1)?.page ?? -1;
      return 0;
    });
    expect(status).toBe(0);
    expect(d).toEqual({ n: 4096, copies: 1, copy_bytes: 4096, mmu_copy_bytes: 4096, page_faults: 0, pgalloc: 0, pgfree: 0, same: 1 });
    // The bytes came from the page cache's page, reached through its direct-map address.
    const kbuf = new Uint8Array(4096);
    k.machine.mem.read_into(page_address(pfn) - 0x888000000000, kbuf);
    expect(same(kbuf, pattern(3 * 4096, 1).subarray(4096, 8192))).toBe(true);
    k.shutdown();
  });

  it('holes read as zeros from ZERO_PAGE without allocating; pages are GFP_HIGHUSER_MOVABLE page cache', () => {
    const k = start_kernel('mem=32M cpus=1 debug_vm');
    const d: Record<string, number> = {};
    run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 8 * 4096, RW, ANON);
      u.poke(buf, pattern(100, 2));
      const fd = yield* u.open('/holes', O_RDWR | O_CREAT);
      yield* u.pwrite64(fd, buf, 100, 3 * 4096 + 50); // pages 0..2 are holes
      for (let i = 0; i < 4; i++) u.poke32(buf + 4096 + i * 4096, 0xffffffff);
      const v0 = k.vmstat();
      d.n = yield* u.pread64(fd, buf + 4096, 4 * 4096, 0);
      const v1 = k.vmstat();
      const got = u.peek(buf + 4096, 3 * 4096 + 150);
      d.zeros = got.subarray(0, 3 * 4096 + 50).every((b) => b === 0) ? 1 : 0;
      d.data = same(got.subarray(3 * 4096 + 50), pattern(100, 2)) ? 1 : 0;
      d.pgalloc = v1.pgalloc_normal - v0.pgalloc_normal;
      d.copies = v1.nr_copy_to_iter - v0.nr_copy_to_iter;
      d.file_pages = v1.nr_file_pages;
      d.shmem = v1.nr_shmem;
      yield* u.fstat(fd, buf);
      d.blocks = u.peek64(buf + 64);
      return 0;
    });
    expect(d).toEqual({ n: 3 * 4096 + 150, zeros: 1, data: 1, pgalloc: 0, copies: 4, file_pages: 1, shmem: 1, blocks: 8 });
    k.shutdown();
  });

  it('reads at positions past 2^31 and 2^32 find the right page and offset (a sparse file)', () => {
    /*
     *  file offset:  2^31-50 | 2^31+50        2^32+5*4096-100 | +200
     *                 [ A: 100 bytes ]         [ B: 300 bytes, crosses a page ]
     *  everything else is a hole
     */
    const k = start_kernel('mem=32M cpus=1 debug_vm');
    const A = 2 ** 31 - 50, B = 2 ** 32 + 5 * 4096 - 100;
    const d: Record<string, number> = {};
    run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 4 * 4096, RW, ANON);
      const fd = yield* u.open('/sparse', O_RDWR | O_CREAT);
      u.poke(buf, pattern(100, 5));
      d.wa = yield* u.pwrite64(fd, buf, 100, A);
      u.poke(buf, pattern(300, 6));
      d.wb = yield* u.pwrite64(fd, buf, 300, B);
      u.poke(buf, new Uint8Array(4096).fill(0xee));
      d.ra = yield* u.pread64(fd, buf, 200, A - 50);
      const a = u.peek(buf, 200);
      d.a = a.subarray(0, 50).every((x) => x === 0) && same(a.subarray(50, 150), pattern(100, 5))
        && a.subarray(150).every((x) => x === 0) ? 1 : 0;
      d.rb = yield* u.pread64(fd, buf, 4096, B - 1);
      const b = u.peek(buf, 302);
      d.b = b[0] === 0 && same(b.subarray(1, 301), pattern(300, 6)) ? 1 : 0;
      return 0;
    });
    // The read at B - 1 stops at EOF: B + 300.
    expect(d).toEqual({ wa: 100, wb: 300, ra: 200, a: 1, rb: 301, b: 1 });
    k.shutdown();
  });

  it('huge=always caches 2 MiB folios and reads them a page at a time; truncation keeps a straddling folio zeroed', () => {
    /*
     *  file:  [ folio 0: 0..2M (order 9) ][ folio 1: 2M..4M (order 9) ]
     *  write 3 MiB; read 2 MiB from 1 MiB; truncate to 1M+10; grow to 3M
     */
    const k = start_kernel('mem=64M cpus=2 debug_vm');
    const free0 = free_pages_now(k);
    expect(do_mount('tmpfs', '/ram', 'huge=always')).toBe(0); // over ramfs: the new mount wins
    const d: Record<string, number> = {};
    const M = 1 << 20;
    const data = pattern(3 * M, 3);
    const status = run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 3 * M, RW, ANON);
      u.poke(buf, data);
      const fd = yield* u.open('/ram/h', O_RDWR | O_CREAT);
      d.w = yield* u.write(fd, buf, 3 * M);
      let v = k.vmstat();
      d.thp = v.thp_file_alloc;
      d.huge_pages = v.nr_shmem_hugepages;
      d.file_pages = v.nr_file_pages;
      const c0 = v.nr_copy_to_iter;
      d.r = yield* u.pread64(fd, buf, 2 * M, M);
      v = k.vmstat();
      d.copies = v.nr_copy_to_iter - c0;
      d.same = same(u.peek(buf, 2 * M), data.subarray(M, 3 * M)) ? 1 : 0;
      d.trunc = yield* u.ftruncate(fd, M + 10);
      v = k.vmstat();
      d.after_trunc = v.nr_file_pages;
      d.grow = yield* u.ftruncate(fd, 3 * M);
      d.r2 = yield* u.pread64(fd, buf, 3 * M, 0);
      const got = u.peek(buf, 3 * M);
      d.kept = same(got.subarray(0, M + 10), data.subarray(0, M + 10)) ? 1 : 0;
      d.zeroed = got.subarray(M + 10).every((b) => b === 0) ? 1 : 0;
      yield* u.close(fd);
      d.unlink = yield* u.unlink('/ram/h');
      d.end_pages = k.vmstat().nr_file_pages;
      return 0;
    });
    expect(status).toBe(0);
    expect(d).toEqual({
      w: 3 * M, thp: 2, huge_pages: 1024, file_pages: 1024, r: 2 * M, copies: 512, same: 1, trunc: 0, after_trunc: 512,
      grow: 0, r2: 3 * M, kept: 1, zeroed: 1, unlink: 0, end_pages: 0,
    });
    expect(free_pages_now(k)).toBe(free0);
    k.shutdown();
  });

  it('huge=always falls back to small folios when the extent does not fit the mount', () => {
    const k = start_kernel('mem=32M cpus=1');
    expect(do_mount('tmpfs', '/ram', 'huge=always,size=1M')).toBe(0);
    const d: Record<string, number> = {};
    run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 4 * 4096, RW, ANON);
      u.poke(buf, pattern(3 * 4096, 4));
      const fd = yield* u.open('/ram/small', O_RDWR | O_CREAT);
      d.w = yield* u.write(fd, buf, 3 * 4096);
      d.r = yield* u.pread64(fd, buf + 4096, 8192, 4096);
      d.same = same(u.peek(buf + 4096, 8192), pattern(3 * 4096, 4).subarray(4096)) ? 1 : 0;
      const v = k.vmstat();
      d.thp = v.thp_file_alloc;
      d.file_pages = v.nr_file_pages;
      return 0;
    });
    expect(d).toEqual({ w: 3 * 4096, r: 8192, same: 1, thp: 0, file_pages: 3 });
    k.shutdown();
  });

  it('size= and nr_inodes=: ENOSPC, with a short write at the limit and nothing half-written', () => {
    const k = start_kernel('mem=32M cpus=1 debug_vm');
    expect(do_mount('tmpfs', '/ram', 'size=16k,nr_inodes=3')).toBe(0);
    const d: Record<string, number> = {};
    run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 8 * 4096, RW, ANON);
      const data = pattern(5 * 4096, 5);
      u.poke(buf, data);
      const fd = yield* u.open('/ram/a', O_RDWR | O_CREAT);
      d.short = yield* u.write(fd, buf, 5 * 4096);
      d.full = yield* u.write(fd, buf, 1);
      d.pfull = yield* u.pwrite64(fd, buf, 10, 100 * 4096);
      yield* u.fstat(fd, buf + 6 * 4096);
      d.size = u.peek64(buf + 6 * 4096 + 48);
      d.r = yield* u.pread64(fd, buf + 4 * 4096, 4 * 4096, 0);
      d.same = same(u.peek(buf + 4 * 4096, 4 * 4096), data.subarray(0, 4 * 4096)) ? 1 : 0;
      const fd2 = yield* u.open('/ram/b', O_RDWR | O_CREAT);
      const pages0 = k.vmstat().nr_file_pages;
      d.b_write = yield* u.pwrite64(fd2, buf, 100, 5000);
      d.b_pages = k.vmstat().nr_file_pages - pages0;
      yield* u.fstat(fd2, buf + 6 * 4096);
      d.b_size = u.peek64(buf + 6 * 4096 + 48);
      d.inodes = yield* u.open('/ram/c', O_RDWR | O_CREAT);
      d.trunc = yield* u.ftruncate(fd, 4096);
      d.after = yield* u.pwrite64(fd2, buf, 100, 5000);
      return 0;
    });
    expect(d).toEqual({
      short: 4 * 4096, full: -ENOSPC, pfull: -ENOSPC, size: 4 * 4096, r: 4 * 4096, same: 1, b_write: -ENOSPC, b_pages: 0,
      b_size: 0, inodes: -ENOSPC, trunc: 0, after: 100,
    });
    k.shutdown();
  });

  it('running out of memory: ENOMEM after a short write, the file stays consistent, unlink gives everything back', () => {
    const k = start_kernel('mem=32M cpus=1');
    expect(do_mount('tmpfs', '/ram', 'size=100%')).toBe(0);
    const d: Record<string, number> = {};
    let free0 = 0;
    const M = 1 << 20;
    run_one(k, function* (u) {
      const buf = yield* u.mmap(0, M, RW, ANON);
      u.poke(buf, pattern(M, 6));
      const fd = yield* u.open('/ram/big', O_RDWR | O_CREAT); // (nolibc's path page faults in here)
      free0 = free_pages_now(k);
      let total = 0;
      let last = 0;
      for (let i = 0; i < 64; i++) {
        last = yield* u.write(fd, buf, M);
        if (last < M) break;
        total += last;
      }
      d.short_ok = last > 0 && last < M ? 1 : 0;
      if (last > 0) total += last;
      d.enomem = yield* u.write(fd, buf, M);
      yield* u.fstat(fd, buf);
      d.size_matches = u.peek64(buf + 48) === total ? 1 : 0;
      yield* u.pread64(fd, buf, 4096, total - 4096);
      const tail = (total - 4096) % M;
      d.tail_ok = same(u.peek(buf, 4096), pattern(M, 6).subarray(tail, tail + 4096)) ? 1 : 0;
      yield* u.close(fd);
      d.unlink = yield* u.unlink('/ram/big');
      d.back = free_pages_now(k) === free0 ? 1 : 0;
      const again = yield* u.open('/ram/small', O_RDWR | O_CREAT);
      u.poke(buf, pattern(4096, 7));
      d.again = yield* u.write(again, buf, 4096);
      return 0;
    });
    expect(d).toEqual({ short_ok: 1, enomem: -ENOMEM, size_matches: 1, tail_ok: 1, unlink: 0, back: 1, again: 4096 });
    k.shutdown();
  });

  it('two processes on two CPUs share one file\'s page cache', () => {
    const k = start_kernel('mem=32M cpus=2 debug_vm');
    const seen: number[] = [];
    const cpus = new Set<number>();
    k.spawn('writer', function* (u) {
      const buf = yield* u.mmap(0, 4 * 4096, RW, ANON);
      const fd = yield* u.open('/shared', O_RDWR | O_CREAT);
      for (let r = 1; r <= 20; r++) {
        u.poke(buf, pattern(2 * 4096, r));
        yield* u.pwrite64(fd, buf, 2 * 4096, 0);
        cpus.add(k.machine.current);
        yield* u.sched_yield();
      }
      return 0;
    });
    k.spawn('reader', function* (u) {
      const buf = yield* u.mmap(0, 4 * 4096, RW, ANON);
      let fd = -1;
      while (fd < 0) {
        fd = yield* u.open('/shared', O_RDONLY);
        if (fd < 0) yield* u.sched_yield();
      }
      for (let r = 0; r < 40; r++) {
        const n = yield* u.pread64(fd, buf, 2 * 4096, 0);
        cpus.add(k.machine.current);
        if (n === 2 * 4096) {
          const got = u.peek(buf, 2 * 4096);
          let which = 0;
          for (let s = 1; s <= 20; s++) if (same(got, pattern(2 * 4096, s))) which = s;
          seen.push(which);
        }
        yield* u.sched_yield();
      }
      return 0;
    });
    const res = k.run();
    expect(res.exited.every((e) => e.status === 0)).toBe(true);
    expect(cpus.size).toBe(2);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s > 0)).toBe(true); // every read saw one whole write, never a torn mix
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
    expect(k.vmstat().nr_file_pages).toBe(2);
    k.shutdown();
  });
});
