/*
 * tests/lib/iov_iter.test.ts - KUnit-style tests of lib/iov_iter.ts, run in a task's syscall.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { start_kernel, in_kernel, pattern } from '../fs/helpers.ts';
import {
  iov_iter_ubuf, iov_iter_init, iov_iter_kvec, iov_iter_advance, iov_iter_revert, iov_iter_count, copy_page_to_iter,
  copy_page_from_iter, iov_iter_zero, import_iovec, _copy_to_iter, NR_COPY_TO_ITER,
} from '../../lib/iov_iter.ts';
import { IovIter, ITER_DEST, ITER_SOURCE, ITER_IOVEC, type Iovec } from '../../include/linux/uio.ts';
import { MAX_RW_COUNT } from '../../include/linux/fs.ts';
import { alloc_pages, __free_pages } from '../../mm/page_alloc.ts';
import { GFP_KERNEL, __GFP_COMP } from '../../mm/gfp.ts';
import { page_address } from '../../mm/mm_types.ts';
import { this_cpu } from '../../kernel/smp.ts';
import { current } from '../../kernel/sched/core.ts';
import { sys_munmap_mm } from '../../mm/mmap.ts';
import { put_user_u64 } from '../../arch/x86/lib/usercopy_64.ts';
import { sum_vm_event } from '../../mm/vmstat.ts';
import { EFAULT, EINVAL } from '../../include/uapi/asm-generic/errno.ts';

/** Read user memory from the kernel (under STAC, as a uaccess would). */
function uread(addr: number, len: number): Uint8Array {
  const cpu = this_cpu();
  const out = new Uint8Array(len);
  cpu.stac();
  cpu.read_bytes(addr, out);
  cpu.clac();
  return out;
}
function uwrite(addr: number, data: Uint8Array): void {
  const cpu = this_cpu();
  cpu.stac();
  cpu.write_bytes(addr, data);
  cpu.clac();
}
function kread(addr: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  this_cpu().read_bytes(addr, out);
  return out;
}
/** A kernel page holding `data`. */
function page_with(data: Uint8Array, order = 0): number {
  const pfn = alloc_pages(order ? GFP_KERNEL | __GFP_COMP : GFP_KERNEL, order);
  if (pfn === null) throw new Error('no memory');
  this_cpu().write_bytes(page_address(pfn), data);
  return pfn;
}

describe('lib_iov_iter', () => {
  it('ITER_UBUF: copy_page_to_iter copies through the MMU and advances', () => {
    const k = start_kernel('mem=32M cpus=1 debug_vm');
    const r = in_kernel(k, (ubuf) => {
      const data = pattern(4096, 1);
      const pfn = page_with(data);
      const i = new IovIter();
      iov_iter_ubuf(i, ITER_DEST, ubuf + 100, 1000);
      const n = copy_page_to_iter(pfn, 50, 600, i);
      const got = uread(ubuf + 100, 600);
      __free_pages(pfn, 0);
      return { n, count: iov_iter_count(i), off: i.iov_offset, same: got.every((b, j) => b === data[50 + j]) };
    });
    expect(r).toEqual({ n: 600, count: 400, off: 600, same: true });
    k.shutdown();
  });

  it('ITER_IOVEC: a copy spreads over segments, skipping empty ones; revert undoes advance', () => {
    /*
     *  segments:  [A: 10 bytes] [B: 0] [C: 4000] [D: 100]
     *  copy 4050: A full, C full, D gets 40
     */
    const k = start_kernel('mem=32M cpus=1');
    const r = in_kernel(k, (ubuf) => {
      const data = pattern(4096, 2);
      const pfn = page_with(data);
      const segs: Iovec[] = [
        { iov_base: ubuf, iov_len: 10 }, { iov_base: ubuf + 20, iov_len: 0 },
        { iov_base: ubuf + 4096, iov_len: 4000 }, { iov_base: ubuf + 9000, iov_len: 100 },
      ];
      const i = new IovIter();
      iov_iter_init(i, ITER_DEST, segs, 4, 4110);
      const n = copy_page_to_iter(pfn, 0, 4050, i);
      const a = uread(ubuf, 10), c = uread(ubuf + 4096, 4000), d = uread(ubuf + 9000, 40);
      const ok = a.every((b, j) => b === data[j]) && c.every((b, j) => b === data[10 + j]) && d.every((b, j) => b === data[4010 + j]);
      const after = { seg: i.seg, off: i.iov_offset, count: i.count, nr_segs: i.nr_segs };
      iov_iter_revert(i, 4045);
      const back = { seg: i.seg, off: i.iov_offset, count: i.count };
      __free_pages(pfn, 0);
      return { n, ok, after, back };
    });
    expect(r.n).toBe(4050);
    expect(r.ok).toBe(true);
    expect(r.after).toEqual({ seg: 3, off: 40, count: 60, nr_segs: 1 });
    expect(r.back).toEqual({ seg: 0, off: 5, count: 4105 });
    k.shutdown();
  });

  it('ITER_KVEC and iov_iter_zero; copy_page_from_iter reads a user buffer into a page', () => {
    const k = start_kernel('mem=32M cpus=1');
    const r = in_kernel(k, (ubuf) => {
      const data = pattern(4096, 3);
      const src = page_with(data);
      const dst = page_with(new Uint8Array(4096).fill(0xee));
      const i = new IovIter();
      iov_iter_kvec(i, ITER_DEST, [{ iov_base: page_address(dst) + 8, iov_len: 100 }], 1, 100);
      const n = copy_page_to_iter(src, 0, 100, i);
      const kv = kread(page_address(dst), 110);
      const z = new IovIter();
      iov_iter_kvec(z, ITER_DEST, [{ iov_base: page_address(dst), iov_len: 4 }], 1, 4);
      const nz = iov_iter_zero(4, z);
      const zeroed = kread(page_address(dst), 8);
      uwrite(ubuf, pattern(300, 4));
      const s = new IovIter();
      iov_iter_ubuf(s, ITER_SOURCE, ubuf, 300);
      const nf = copy_page_from_iter(dst, 3000, 300, s);
      const back = kread(page_address(dst) + 3000, 300);
      const wrong_way = copy_page_to_iter(src, 0, 10, s); // a source iterator: WARN, nothing copied
      __free_pages(src, 0);
      __free_pages(dst, 0);
      return {
        n, kv_ok: kv[7] === 0xee && kv.slice(8, 108).every((b, j) => b === data[j]) && kv[108] === 0xee,
        nz, zeroed: Array.from(zeroed), nf, back_ok: back.every((b, j) => b === pattern(300, 4)[j]), wrong_way,
      };
    });
    expect(r).toEqual({ n: 100, kv_ok: true, nz: 4, zeroed: [0, 0, 0, 0, 0xee, 0xee, 0xee, 0xee], nf: 300, back_ok: true, wrong_way: 0 });
    k.shutdown();
  });

  it('a copy that runs into an unmapped user page stops there and reports the bytes copied', () => {
    /*
     *  ubuf:  page 0 mapped | page 1 unmapped | ...
     *         copy 300 bytes starting 100 before the hole: 100 land, 200 do not
     */
    const k = start_kernel('mem=32M cpus=1');
    const r = in_kernel(k, (ubuf) => {
      const data = pattern(4096, 5);
      const pfn = page_with(data);
      const mm = current().mm;
      if (!mm) throw new Error('no mm');
      sys_munmap_mm(mm, ubuf + 4096, 4096);
      const i = new IovIter();
      iov_iter_ubuf(i, ITER_DEST, ubuf + 4096 - 100, 300);
      const before = sum_vm_event(NR_COPY_TO_ITER);
      const n = copy_page_to_iter(pfn, 0, 300, i);
      const copies = sum_vm_event(NR_COPY_TO_ITER) - before;
      const got = uread(ubuf + 4096 - 100, 100);
      __free_pages(pfn, 0);
      return { n, count: i.count, copies, ok: got.every((b, j) => b === data[j]) };
    });
    expect(r).toEqual({ n: 100, count: 200, copies: 1, ok: true });
    k.shutdown();
  });

  it('copy_page_to_iter maps one subpage at a time inside a large folio', () => {
    const k = start_kernel('mem=32M cpus=1');
    const r = in_kernel(k, (ubuf) => {
      const data = pattern(8192, 6);
      const pfn = page_with(data, 1);
      const i = new IovIter();
      iov_iter_ubuf(i, ITER_DEST, ubuf, 8192);
      const before = sum_vm_event(NR_COPY_TO_ITER);
      const n = copy_page_to_iter(pfn, 4000, 4192, i, 8192);
      const copies = sum_vm_event(NR_COPY_TO_ITER) - before;
      const got = uread(ubuf, 4192);
      const beyond = copy_page_to_iter(pfn, 8000, 500, i, 8192); // past the folio: page_copy_sane refuses
      __free_pages(pfn, 1);
      return { n, copies, ok: got.every((b, j) => b === data[4000 + j]), beyond };
    });
    expect(r).toEqual({ n: 4192, copies: 2, ok: true, beyond: 0 });
    k.shutdown();
  });

  it('import_iovec: EINVAL for too many segments or a negative length, EFAULT for bad memory; the total is capped', () => {
    const k = start_kernel('mem=32M cpus=1');
    const r = in_kernel(k, (ubuf) => {
      const put = (k2: number, base: number, len: number): void => {
        put_user_u64(ubuf + k2 * 16, base);
        put_user_u64(ubuf + k2 * 16 + 8, len);
      };
      const i = new IovIter();
      const too_many = import_iovec(ITER_DEST, ubuf, 1025, i);
      put(0, ubuf + 8192, 2 ** 63); // (ssize_t)len < 0
      const negative = import_iovec(ITER_DEST, ubuf, 1, i);
      const bad_array = import_iovec(ITER_DEST, 0x1000, 1, i);
      put(0, 0xffff88800000, 10);
      const kernel_base = import_iovec(ITER_DEST, ubuf, 1, i);
      put(0, 0x10000000, MAX_RW_COUNT); // access_ok only bounds the range; nothing is touched yet
      put(1, 0x10000000, 5000);
      const capped = import_iovec(ITER_DEST, ubuf, 2, i);
      const zero = import_iovec(ITER_DEST, ubuf, 0, i);
      return { too_many, negative, bad_array, kernel_base, capped, type: i.iter_type, zero };
    });
    expect(r).toEqual({ too_many: -EINVAL, negative: -EINVAL, bad_array: -EFAULT, kernel_base: -EFAULT, capped: MAX_RW_COUNT, type: ITER_IOVEC, zero: 0 });
    k.shutdown();
  });

  it('advance and revert agree with a byte-offset model (property)', () => {
    const k = start_kernel('mem=32M cpus=1');
    const failures = in_kernel(k, (ubuf) => {
      let bad = 0;
      fc.assert(fc.property(
        fc.array(fc.nat(50), { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat(80)), { maxLength: 20 }),
        (lens, ops) => {
          const segs: Iovec[] = lens.map((len, s) => ({ iov_base: ubuf + s * 64, iov_len: len }));
          const total = lens.reduce((a, b) => a + b, 0);
          const i = new IovIter();
          iov_iter_init(i, ITER_DEST, segs, segs.length, total);
          let pos = 0;
          for (const [fwd, n] of ops) {
            if (fwd) {
              const step = Math.min(n, total - pos);
              iov_iter_advance(i, n);
              pos += step;
            } else {
              const step = Math.min(n, pos);
              iov_iter_revert(i, step);
              pos -= step;
            }
            // The iterator's position as a byte offset: the sum of the skipped segments plus iov_offset.
            let at = i.iov_offset;
            for (let s = 0; s < i.seg; s++) at += segs[s].iov_len;
            if (i.count !== total - pos || (i.count > 0 && at !== pos)) {
              bad++;
              return false;
            }
          }
          return true;
        }), { numRuns: 300 });
      const z = new IovIter();
      iov_iter_ubuf(z, ITER_DEST, ubuf, 8);
      void _copy_to_iter;
      return bad;
    });
    expect(failures).toBe(0);
    k.shutdown();
  });
});
