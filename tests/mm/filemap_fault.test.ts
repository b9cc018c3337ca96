/*
 * tests/mm/filemap_fault.test.ts - file-backed mmap of tmpfs and ramfs
 * files (mm/filemap_fault.ts, fs/shmem.ts shmem_fault, mm/memory.ts
 * do_fault, fs/truncate.ts unmap_mapping_range, mm/msync.ts), with the
 * errnos Linux gives for bad input.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { RW, ANON } from '../fs/helpers.ts';
import { user_pte } from './cow_helpers.ts';
import { O_RDWR, O_CREAT, O_RDONLY, O_WRONLY } from '../../include/uapi/linux/fcntl.ts';
import { MAP_SHARED, MAP_PRIVATE, PROT_READ, MS_ASYNC, MS_SYNC, MS_INVALIDATE } from '../../include/uapi/linux/mman.ts';
import { EINVAL, ENOMEM, ENODEV, EACCES, EBADF } from '../../include/uapi/asm-generic/errno.ts';
import { current } from '../../kernel/sched/core.ts';
import { page_ref_count } from '../../mm/mm_types.ts';

type Sys = Generator<{ nr: number; args: readonly number[] }, number, number>;
const P = 4096;

/* A file of `pages` pages at `path`, page i holding i + 1 in its first word; its fd. */
function* make_file(u: Nolibc, buf: number, path: string, pages: number, flags = O_RDWR | O_CREAT): Sys {
  const fd = yield* u.open(path, flags);
  for (let i = 0; i < pages; i++) {
    u.poke32(buf, i + 1);
    yield* u.pwrite64(fd, buf, P, i * P);
  }
  return fd;
}

describe('mm_filemap_fault', () => {
  for (const path of ['/f', '/ram/f']) {
    it(`${path}: a MAP_SHARED mapping and read()/write() see each other's bytes, through the same page`, () => {
      const k = start_kernel('mem=32M cpus=1 debug_vm');
      const r: Record<string, unknown> = {};
      k.spawn('t', function* (u: Nolibc): Sys {
        const buf = yield* u.mmap(0, P, RW, ANON);
        const fd = yield* make_file(u, buf, path, 3);
        const m = yield* u.mmap(0, 3 * P, RW, MAP_SHARED, fd, 0);
        r.mapped = [u.peek32(m), u.peek32(m + P), u.peek32(m + 2 * P)];
        u.poke32(m + P + 8, 0xabc);
        yield* u.pread64(fd, buf, 16, P);
        r.read_sees = u.peek32(buf + 8);
        u.poke32(buf, 0x55);
        yield* u.pwrite64(fd, buf, 4, 2 * P + 12);
        r.map_sees = u.peek32(m + 2 * P + 12);
        r.pte = user_pte(m + P);
        const v0 = k.vmstat();
        yield* u.munmap(m, 3 * P);
        r.cow = k.vmstat().nr_cow_copy - v0.nr_cow_copy;
        r.after_munmap_ref = page_ref_count((r.pte as { pfn: number }).pfn); // the page cache's own reference
        r.file_rss = (current().mm!.layout as { file_rss: number }).file_rss;
        return 0;
      });
      k.run();
      expect(r.mapped).toEqual([1, 2, 3]);
      expect(r.read_sees).toBe(0xabc);
      expect(r.map_sees).toBe(0x55);
      expect(r.pte).toMatchObject({ writable: true, ref: 2, map: 1 }); // page cache + this mapping
      expect(r.cow).toBe(0);
      expect(r.after_munmap_ref).toBe(1);
      expect(r.file_rss).toBe(0);
      k.shutdown();
    });
  }

  it('MAP_PRIVATE: a write copies the page (do_cow_fault, or wp_page_copy after a read); the file and other mappings keep theirs', () => {
    const k = start_kernel('mem=32M cpus=1 debug_vm');
    const r: Record<string, unknown> = {};
    k.spawn('t', function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, P, RW, ANON);
      const fd = yield* make_file(u, buf, '/p', 3);
      const m = yield* u.mmap(0, 3 * P, RW, MAP_PRIVATE, fd, 0);
      const v0 = k.vmstat();
      u.poke32(m, 100); // first access a write: do_cow_fault
      const v1 = k.vmstat();
      r.first_write = [v1.pgfault - v0.pgfault, v1.nr_cow_copy - v0.nr_cow_copy];
      r.read_then = u.peek32(m + P); // maps the page-cache page read-only
      r.ro_pte = user_pte(m + P);
      const v2 = k.vmstat();
      u.poke32(m + P, 200); // wp_page_copy of a page-cache page
      const v3 = k.vmstat();
      r.second_write = [v3.pgfault - v2.pgfault, v3.nr_cow_copy - v2.nr_cow_copy];
      yield* u.pread64(fd, buf, 4, 0);
      r.file0 = u.peek32(buf);
      yield* u.pread64(fd, buf, 4, P);
      r.file1 = u.peek32(buf);
      // A page this mapping never wrote follows the file; a copied one does not.
      u.poke32(buf, 333);
      yield* u.pwrite64(fd, buf, 4, 2 * P);
      yield* u.pwrite64(fd, buf, 4, 0);
      r.after_file_write = [u.peek32(m), u.peek32(m + 2 * P)];
      r.anon = (current().mm!.layout as { anon_rss: number }).anon_rss;
      return 0;
    });
    k.run();
    expect(r.first_write).toEqual([1, 1]);
    expect(r.read_then).toBe(2);
    expect(r.ro_pte).toMatchObject({ writable: false, ref: 2, map: 1 });
    expect(r.second_write).toEqual([1, 1]);
    expect([r.file0, r.file1]).toEqual([1, 2]);
    expect(r.after_file_write).toEqual([100, 333]);
    expect(r.anon).toBe(4); // buf, nolibc's scratch page for paths, the two private copies
    k.shutdown();
  });

  it('a shared file mapping stays shared across fork: the child writes, the parent sees it, nothing is copied', () => {
    const k = start_kernel('mem=32M cpus=2');
    const r: Record<string, number> = {};
    k.spawn('t', function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, P, RW, ANON);
      const fd = yield* make_file(u, buf, '/s', 1);
      const m = yield* u.mmap(0, P, RW, MAP_SHARED, fd, 0);
      u.poke32(m, 5);
      const v0 = k.vmstat();
      const pid = yield* u.clone(0, function* (c: Nolibc): Sys {
        c.poke32(m, 6);
        return 0;
      });
      yield* u.waitpid(pid);
      r.parent_sees = u.peek32(m);
      r.copies = k.vmstat().nr_cow_copy - v0.nr_cow_copy;
      return 0;
    });
    k.run();
    expect(r).toEqual({ parent_sees: 6, copies: 0 });
    k.shutdown();
  });

  it('truncate unmaps beyond the new EOF, private copies too, one gather and flush per VMA (zap_page_range_single): a later access there is SIGBUS', () => {
    /*
     *  file  [1][2][3]      mapped shared at m, privately at q (page 2 copied)
     *  ftruncate(fd, 4096)  file [1]; m[1], m[2], q[2] unmapped; m[0] stays
     *  m[0] reads 1; touching m[P] is SIGBUS (135); so is q[2*P]
     */
    const k = start_kernel('mem=32M cpus=1 debug_vm');
    const r: Record<string, number> = {};
    let m = 0, q = 0;
    k.spawn('t', function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, P, RW, ANON);
      const fd = yield* make_file(u, buf, '/t', 3);
      m = yield* u.mmap(0, 3 * P, RW, MAP_SHARED, fd, 0);
      q = yield* u.mmap(0, 3 * P, RW, MAP_PRIVATE, fd, 0);
      for (let i = 0; i < 3; i++) u.peek32(m + i * P);
      u.poke32(q + 2 * P, 9);
      const gen0 = current().mm!.context.tlb_gen;
      r.trunc = yield* u.ftruncate(fd, P);
      r.flushes = current().mm!.context.tlb_gen - gen0;
      r.m1_mapped = user_pte(m + P) ? 1 : 0;
      r.q2_mapped = user_pte(q + 2 * P) ? 1 : 0;
      r.m0 = u.peek32(m);
      const child = (addr: number) => function* (c: Nolibc): Sys {
        c.peek32(addr);
        return 0;
      };
      const [, st1] = yield* u.waitpid(yield* u.clone(0, child(m + P)));
      const [, st2] = yield* u.waitpid(yield* u.clone(0, child(q + 2 * P)));
      r.sigbus_shared = st1;
      r.sigbus_private = st2;
      return 0;
    });
    k.run();
    // 135 is what the shell reports for a SIGBUS death; the wait status word holds the signal number.
    expect(r).toEqual({ trunc: 0, flushes: 2, m1_mapped: 0, q2_mapped: 0, m0: 1, sigbus_shared: 7, sigbus_private: 7 });
    k.shutdown();
  });

  it('a mapping longer than the file: the page beyond EOF is SIGBUS, the partial last page reads zeros past EOF', () => {
    const k = start_kernel('mem=32M cpus=1');
    k.spawn('t', function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, P, RW, ANON);
      const fd = yield* u.open('/short', O_RDWR | O_CREAT);
      u.poke32(buf, 0x1234);
      yield* u.pwrite64(fd, buf, 100, 0);
      const m = yield* u.mmap(0, 2 * P, PROT_READ, MAP_SHARED, fd, 0);
      if (u.peek32(m) !== 0x1234 || u.peek32(m + 200) !== 0) return 1;
      u.peek32(m + P); // SIGBUS
      return 2;
    });
    const res = k.run();
    expect(res.exited[0].status).toBe(128 + 7);
    k.shutdown();
  });

  it('msync: -EINVAL for bad flags and an unaligned start, -ENOMEM for unmapped parts, 0 otherwise (a no-op for tmpfs)', () => {
    const k = start_kernel('mem=32M cpus=1');
    const r: Record<string, number> = {};
    k.spawn('t', function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, P, RW, ANON);
      const fd = yield* make_file(u, buf, '/m', 4);
      const m = yield* u.mmap(0, 4 * P, RW, MAP_SHARED, fd, 0);
      yield* u.munmap(m + P, P); // a hole at page 1
      r.sync = yield* u.msync(m, P, MS_SYNC);
      r.async = yield* u.msync(m + 2 * P, 2 * P, MS_ASYNC | MS_INVALIDATE);
      r.zero_len = yield* u.msync(m, 0, MS_SYNC);
      r.unaligned_len = yield* u.msync(m, 100, 0);
      r.both = yield* u.msync(m, P, MS_ASYNC | MS_SYNC);
      r.bad_flag = yield* u.msync(m, P, 8);
      r.unaligned = yield* u.msync(m + 1, P, MS_SYNC);
      r.hole = yield* u.msync(m, 4 * P, MS_SYNC);
      r.unmapped = yield* u.msync(m + P, P, MS_SYNC);
      r.anon = yield* u.msync(buf, P, MS_SYNC);
      r.beyond = yield* u.msync(2 ** 47 - P, P, MS_SYNC);
      return 0;
    });
    k.run();
    expect(r).toEqual({
      sync: 0, async: 0, zero_len: 0, unaligned_len: 0, both: -EINVAL, bad_flag: -EINVAL, unaligned: -EINVAL,
      hole: -ENOMEM, unmapped: -ENOMEM, anon: 0, beyond: -ENOMEM,
    });
    k.shutdown();
  });

  it('mmap of a file: -ENODEV if it cannot be mapped, -EACCES against its open mode, -EBADF for a bad fd', () => {
    const k = start_kernel('mem=32M cpus=1');
    const r: Record<string, number> = {};
    k.spawn('t', function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, P, RW, ANON);
      const fd = yield* make_file(u, buf, '/e', 1);
      const ro = yield* u.open('/e', O_RDONLY);
      const wo = yield* u.open('/e', O_WRONLY);
      const dir = yield* u.open('/', O_RDONLY);
      r.dir = yield* u.mmap(0, P, PROT_READ, MAP_SHARED, dir, 0);
      r.shared_write_ro = yield* u.mmap(0, P, RW, MAP_SHARED, ro, 0);
      r.write_only = yield* u.mmap(0, P, PROT_READ, MAP_SHARED, wo, 0);
      r.bad_fd = yield* u.mmap(0, P, PROT_READ, MAP_SHARED, 77, 0);
      r.unaligned_off = yield* u.mmap(0, P, PROT_READ, MAP_SHARED, fd, 100);
      const priv = yield* u.mmap(0, P, RW, MAP_PRIVATE, ro, 0); // a private writable mapping of a read-only fd is fine
      r.private_ro_ok = priv > 0 ? 1 : 0;
      u.poke32(priv, 3);
      const shared_ro = yield* u.mmap(0, P, PROT_READ, MAP_SHARED, ro, 0);
      r.shared_ro_ok = shared_ro > 0 ? 1 : 0;
      r.mprotect_write = yield* u.mprotect(shared_ro, P, RW); // no VM_MAYWRITE
      r.mprotect_read = yield* u.mprotect(shared_ro, P, PROT_READ);
      yield* u.close(ro);
      r.after_close = u.peek32(shared_ro); // the VMA holds its own file reference
      return 0;
    });
    k.run();
    expect(r).toEqual({
      dir: -ENODEV, shared_write_ro: -EACCES, write_only: -EACCES, bad_fd: -EBADF, unaligned_off: -EINVAL,
      private_ro_ok: 1, shared_ro_ok: 1, mprotect_write: -EACCES, mprotect_read: 0, after_close: 1,
    });
    k.shutdown();
  });

  it('an unlinked, closed file lives while mapped; munmap drops the last reference and its pages go', () => {
    const k = start_kernel('mem=32M cpus=1 debug_vm');
    const r: Record<string, number> = {};
    k.spawn('t', function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, P, RW, ANON);
      const fd = yield* make_file(u, buf, '/gone', 8);
      const m = yield* u.mmap(0, 8 * P, RW, MAP_SHARED, fd, 0);
      yield* u.close(fd);
      yield* u.unlink('/gone');
      u.poke32(m + 7 * P, 77);
      r.still = u.peek32(m + 7 * P);
      const f0 = k.vmstat().nr_file_pages;
      yield* u.munmap(m, 8 * P);
      r.freed = f0 - k.vmstat().nr_file_pages;
      return 0;
    });
    k.run();
    expect(r).toEqual({ still: 77, freed: 8 });
    k.shutdown();
  });
});
