/*
 * mm/msync.ts - msync(2).
 *
 * Mirrors mm/msync.c: the flags and alignment are checked first (-EINVAL
 * for unknown flags, for MS_ASYNC with MS_SYNC, for an unaligned start),
 * then every VMA over [start, start + len) is visited; a hole anywhere in
 * the range makes the result -ENOMEM, but the mapped parts are still
 * synced. MS_SYNC on a shared file mapping is vfs_fsync_range(), which
 * for tmpfs and ramfs (noop_fsync) has nothing to write: the page cache
 * is the file. MS_INVALIDATE of a locked mapping would be -EBUSY; nothing
 * is mlocked here.
 */
import type { MmStruct } from './mm_struct.ts';
import { PAGE_SIZE, PAGE_ALIGN } from '../arch/x86/include/asm/page_types.ts';
import { TASK_SIZE } from '../arch/x86/include/asm/page_64_types.ts';
import { EINVAL, ENOMEM } from '../include/uapi/asm-generic/errno.ts';
import { MS_ASYNC, MS_INVALIDATE, MS_SYNC } from '../include/uapi/linux/mman.ts';
import { find_vma } from './mmap.ts';
import { current } from '../kernel/sched/core.ts';
import { BUG } from '../kernel/panic.ts';

/** do_msync(): 0 or -errno. */
export function do_msync(mm: MmStruct, start: number, len: number, flags: number): number {
  if (!Number.isInteger(flags) || flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) return -EINVAL;
  if (!Number.isInteger(start) || start < 0 || start % PAGE_SIZE) return -EINVAL;
  if ((flags & MS_ASYNC) && (flags & MS_SYNC)) return -EINVAL;
  if (!Number.isInteger(len) || len < 0) return -ENOMEM; // a "negative" size_t wraps: end < start
  len = PAGE_ALIGN(len);
  const end = start + len;
  if (end > 2 ** 64 || (len && end <= start)) return -ENOMEM;
  if (end === start) return 0;
  if (start >= TASK_SIZE) return -ENOMEM;
  let unmapped_error = 0;
  let cur = start;
  for (;;) {
    const vma = find_vma(mm, cur);
    if (!vma) return -ENOMEM; // the rest of the range is unmapped
    if (cur < vma.vm_start) {
      // A hole: remember it, go on from the next VMA.
      if (vma.vm_start >= end) return -ENOMEM;
      unmapped_error = -ENOMEM;
      cur = vma.vm_start;
    }
    // MS_SYNC of a shared file mapping: vfs_fsync_range() is noop_fsync for tmpfs and ramfs.
    cur = vma.vm_end;
    if (cur >= end) return unmapped_error;
  }
}

/** msync(start, len, flags). */
export function sys_msync(regs: readonly number[]): number {
  const mm = current().mm;
  if (!mm) BUG('msync from a kernel thread');
  return do_msync(mm, regs[0], regs[1], regs[2]);
}
