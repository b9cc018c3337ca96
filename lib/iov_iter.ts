/*
 * lib/iov_iter.ts - struct iov_iter: copying between pages and user or kernel buffers.
 *
 * Mirrors lib/iov_iter.c and include/linux/iov_iter.h
 * (iterate_and_advance with the ubuf/iovec/kvec steps): an iterator walks a
 * list of buffers with a byte count; the copy helpers move data between a
 * page and the iterator and advance it by what was copied.
 *
 * Every byte crosses the MMU (DESIGN.md section 2): copy_page_to_iter()
 * maps each 4 KiB subpage with kmap_local_page() (the direct-map address on
 * x86-64, a fixmap slot with kmap_local=force_map) and copies from that
 * kernel address to the user address with copy_to_user(), i.e. rep movsb
 * under STAC/CLAC on the current CPU, both sides translated by its TLB and
 * page walker. A fault the mm cannot resolve ends the copy short through the
 * exception table; the helpers return the bytes that were copied.
 *
 * Modelled: ITER_UBUF (read/write), ITER_IOVEC (readv/writev, the array
 * read from user memory with get_user as copy_iovec_from_user does),
 * ITER_KVEC (kernel buffers), advance, revert, truncate, reexpand,
 * copy_page_to_iter, copy_page_from_iter, copy_folio_to_iter,
 * copy_folio_from_iter_atomic, iov_iter_zero.
 * Counted (no Linux counters): nr_copy_to_iter / nr_copy_from_iter, one per
 * mapped copy that moved bytes, and the bytes, so a test can see each page
 * copy.
 * Left out: BVEC, FOLIOQ, XARRAY and DISCARD iterators, should_fail_usercopy,
 * pagefault_disable() in the _atomic copy (a fault is handled in place).
 */
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import { kmap_local_page, kmap_local_folio, kunmap_local, highmem_state } from '../mm/highmem.ts';
import { copy_to_user, copy_from_user, clear_user, access_ok, get_user_u32, get_user_u64 } from '../arch/x86/lib/usercopy_64.ts';
import { this_cpu } from '../kernel/smp.ts';
import { BUG, WARN_ON_ONCE } from '../kernel/panic.ts';
import { vm_event_item, vmstat } from '../mm/vmstat.ts';
import { EFAULT, EINVAL } from '../include/uapi/asm-generic/errno.ts';
import type { Folio } from '../include/linux/pagemap.ts';
import { MAX_RW_COUNT } from '../include/linux/fs.ts';
import { ksym, kernel_ip_enter, kernel_ip_exit } from '../include/linux/instruction_pointer.ts';
import {
  IovIter, type Iovec, NO_SEGS, ITER_UBUF, ITER_IOVEC, ITER_KVEC, ITER_SOURCE, ITER_DEST, UIO_MAXIOV,
} from '../include/linux/uio.ts';

/* Cost-key indices as module locals: an imported binding is a getter under the TS loaders. */
const K_IOV_ITER_INIT = COST_KEY_INDEX.iov_iter_init, K_COPY_PAGE_ITER = COST_KEY_INDEX.copy_page_iter;

export const NR_COPY_TO_ITER = vm_event_item('nr_copy_to_iter');
export const NR_COPY_TO_ITER_BYTES = vm_event_item('nr_copy_to_iter_bytes');
export const NR_COPY_FROM_ITER = vm_event_item('nr_copy_from_iter');
export const NR_COPY_FROM_ITER_BYTES = vm_event_item('nr_copy_from_iter_bytes');

function iter_init(i: IovIter, type: number, direction: number, count: number): void {
  if (direction !== ITER_SOURCE && direction !== ITER_DEST) iter_bad_direction(direction);
  i.iter_type = type;
  i.data_source = direction === ITER_SOURCE;
  i.nofault = false;
  i.iov_offset = 0;
  i.count = count;
}

function iter_bad_direction(direction: number): never {
  BUG('iov_iter: bad direction %d', direction);
}

/** iov_iter_ubuf(): one user buffer. */
export function iov_iter_ubuf(i: IovIter, direction: number, buf: number, count: number): void {
  this_cpu().charge_one(K_IOV_ITER_INIT);
  iter_init(i, ITER_UBUF, direction, count);
  i.ubuf = buf;
  i.__iov = NO_SEGS;
  i.seg = 0;
  i.nr_segs = 1;
}

/** iov_iter_init(): an array of user iovecs. */
export function iov_iter_init(i: IovIter, direction: number, iov: Iovec[], nr_segs: number, count: number): void {
  this_cpu().charge_one(K_IOV_ITER_INIT);
  iter_init(i, ITER_IOVEC, direction, count);
  i.__iov = iov;
  i.seg = 0;
  i.nr_segs = nr_segs;
}

/** iov_iter_kvec(): an array of kernel buffers. */
export function iov_iter_kvec(i: IovIter, direction: number, kvec: Iovec[], nr_segs: number, count: number): void {
  iter_init(i, ITER_KVEC, direction, count);
  i.__iov = kvec;
  i.seg = 0;
  i.nr_segs = nr_segs;
}

export function iov_iter_count(i: IovIter): number {
  return i.count;
}
/** user_backed_iter(): UBUF or IOVEC. */
export function user_backed_iter(i: IovIter): boolean {
  return i.iter_type === ITER_UBUF || i.iter_type === ITER_IOVEC;
}

/** iov_iter_truncate(): cap the count. */
export function iov_iter_truncate(i: IovIter, count: number): void {
  if (i.count > count) i.count = count;
}
/** iov_iter_reexpand(): undo a truncate. */
export function iov_iter_reexpand(i: IovIter, count: number): void {
  i.count = count;
}

/**
 * import_ubuf(): a single user buffer for read(2)/write(2); -EFAULT if it
 * is not in user space.
 */
export function import_ubuf(direction: number, buf: number, len: number, i: IovIter): number {
  if (len > MAX_RW_COUNT) len = MAX_RW_COUNT;
  if (!access_ok(buf, len)) return -EFAULT;
  iov_iter_ubuf(i, direction, buf, len);
  return 0;
}

/**
 * import_iovec(): read nr_segs struct iovec {iov_base, iov_len} (16 bytes
 * each) from user memory, check them and build an ITER_IOVEC. Returns the
 * total length (capped at MAX_RW_COUNT) or -errno: EINVAL for too many
 * segments or a negative length, EFAULT for an unreadable array or a
 * segment outside user space.
 */
export function import_iovec(direction: number, uvec: number, nr_segs: number, i: IovIter): number {
  if (!Number.isInteger(nr_segs) || nr_segs < 0 || nr_segs > UIO_MAXIOV) return -EINVAL;
  const iov: Iovec[] = [];
  for (let s = 0; s < nr_segs; s++) {
    const base = get_user_u64(uvec + s * 16);
    if (base < 0) return -EFAULT;
    const len = get_user_u64(uvec + s * 16 + 8);
    if (len < 0) return -EFAULT;
    if (len >= 2 ** 63) return -EINVAL; // (ssize_t)len < 0
    iov.push({ iov_base: base, iov_len: len });
  }
  let total = 0;
  for (const v of iov) {
    if (!access_ok(v.iov_base, v.iov_len)) return -EFAULT;
    if (v.iov_len > MAX_RW_COUNT - total) v.iov_len = MAX_RW_COUNT - total;
    total += v.iov_len;
  }
  iov_iter_init(i, direction, iov, nr_segs, total);
  return total;
}

/**
 * fault_in_readable() (mm/gup.c): touch one byte of every page of a user
 * range with get_user, so the #PF handler brings it in. Returns the bytes
 * NOT made readable (from the first page that cannot be).
 */
export function fault_in_readable(uaddr: number, size: number): number {
  if (size <= 0) return 0;
  if (!access_ok(uaddr, size)) return size;
  const end = uaddr + size;
  for (let a = uaddr; a < end; a = a - (a % 4096) + 4096) {
    // __get_user of the byte: the aligned word holding it never crosses a page
    if (get_user_u32(a - (a % 4)) < 0) return end - a;
  }
  return 0;
}

/**
 * fault_in_iov_iter_readable(): fault in the first `size` bytes of a
 * user-backed iterator. Returns the bytes not faulted in (0 for kernel
 * iterators).
 */
export function fault_in_iov_iter_readable(i: IovIter, size: number): number {
  if (size > i.count) size = i.count;
  if (i.iter_type === ITER_UBUF) return fault_in_readable(i.ubuf + i.iov_offset, size);
  if (i.iter_type !== ITER_IOVEC) return 0;
  let skip = i.iov_offset;
  let left = size;
  for (let s = i.seg; s < i.seg + i.nr_segs && left > 0; s++) {
    const seg = i.__iov[s];
    const len = Math.min(left, seg.iov_len - skip);
    if (len > 0) {
      const ret = fault_in_readable(seg.iov_base + skip, len);
      left -= len - ret;
      if (ret) break;
    }
    skip = 0;
  }
  return left;
}

/** iov_iter_advance(): skip `size` bytes. */
export function iov_iter_advance(i: IovIter, size: number): void {
  if (size > i.count) size = i.count;
  if (size <= 0) return;
  i.count -= size;
  if (i.iter_type === ITER_UBUF) {
    i.iov_offset += size;
    return;
  }
  // iov_iter_iovec_advance(): whole segments are stepped over.
  size += i.iov_offset;
  let s = i.seg;
  const end = i.seg + i.nr_segs;
  for (; s < end; s++) {
    if (size < i.__iov[s].iov_len) break;
    size -= i.__iov[s].iov_len;
  }
  i.iov_offset = size;
  i.nr_segs -= s - i.seg;
  i.seg = s;
}

/** iov_iter_revert(): go back `unroll` bytes (after a short write_end). */
export function iov_iter_revert(i: IovIter, unroll: number): void {
  if (unroll <= 0) return;
  i.count += unroll;
  if (unroll <= i.iov_offset) {
    i.iov_offset -= unroll;
    return;
  }
  if (i.iter_type === ITER_UBUF) BUG('iov_iter_revert: %d bytes before the start of the buffer', unroll - i.iov_offset);
  unroll -= i.iov_offset;
  for (;;) {
    if (i.seg === 0) BUG('iov_iter_revert: before the first segment');
    const n = i.__iov[--i.seg].iov_len;
    i.nr_segs++;
    if (unroll <= n) {
      i.iov_offset = n - unroll;
      return;
    }
    unroll -= n;
  }
}

/* ---- iterate_and_advance ---- */

/*
 * One step copies `len` bytes between the iterator's address `base` and the
 * kernel address `kaddr`; it returns the bytes NOT copied, as
 * copy_to_user_iter / memcpy_to_iter do.
 */
const STEP_TO = 0;
const STEP_FROM = 1;
const STEP_ZERO = 2;

/** copy_to_user_iter() / copy_from_user_iter() / zero_to_user_iter(): user memory under STAC. */
function step_user(kind: number, base: number, kaddr: number, len: number): number {
  if (kind === STEP_TO) return copy_to_user(base, kaddr, len);
  if (kind === STEP_FROM) return copy_from_user(kaddr, base, len);
  return clear_user(base, len);
}

/** memcpy_to_iter() / memcpy_from_iter() / zero_to_iter(): ITER_KVEC; a fault here is a kernel bug (oops). */
function step_kernel(kind: number, base: number, kaddr: number, len: number): number {
  const cpu = this_cpu();
  if (kind === STEP_TO) return cpu.copy(base, kaddr, len);
  if (kind === STEP_FROM) return cpu.copy(kaddr, base, len);
  return cpu.fill(base, 0, len);
}

/*
 * iterate_and_advance(): the UBUF case inline, the segment arrays out of
 * line, as iov_iter.h splits iterate_ubuf() from iterate_iovec() and
 * iterate_kvec(): the common single-buffer read stays small enough for the
 * JIT to inline into its callers.
 */
function iterate_and_advance(i: IovIter, len: number, kaddr: number, kind: number): number {
  if (i.count < len) len = i.count;
  if (len <= 0) return 0;
  if (i.iter_type === ITER_UBUF) {
    const remain = step_user(kind, i.ubuf + i.iov_offset, kaddr, len);
    const progress = len - remain;
    i.iov_offset += progress;
    i.count -= progress;
    return progress;
  }
  return iterate_segments(i, len, kaddr, kind);
}

/** iterate_iovec() / iterate_kvec(): walk the segment array from the current one. */
function iterate_segments(i: IovIter, len: number, kaddr: number, kind: number): number {
  if (i.iter_type !== ITER_IOVEC && i.iter_type !== ITER_KVEC) BUG('iov_iter: type %d not supported', i.iter_type);
  const user = i.iter_type === ITER_IOVEC;
  let progress = 0;
  let skip = i.iov_offset;
  let s = i.seg;
  const end = i.seg + i.nr_segs;
  while (s < end) {
    const seg = i.__iov[s];
    const part = Math.min(len, seg.iov_len - skip);
    if (part > 0) {
      const remain = user ? step_user(kind, seg.iov_base + skip, kaddr + progress, part)
        : step_kernel(kind, seg.iov_base + skip, kaddr + progress, part);
      const consumed = part - remain;
      progress += consumed;
      skip += consumed;
      len -= consumed;
      if (skip < seg.iov_len) break;
    }
    s++;
    skip = 0;
    if (!len) break;
  }
  i.nr_segs -= s - i.seg;
  i.seg = s;
  i.iov_offset = skip;
  i.count -= progress;
  return progress;
}

/** _copy_to_iter(): from kernel address `addr` into the iterator. Returns bytes copied. */
export function _copy_to_iter(addr: number, bytes: number, i: IovIter): number {
  if (WARN_ON_ONCE(i.data_source, 'copy to a source iov_iter')) return 0;
  return iterate_and_advance(i, bytes, addr, STEP_TO);
}

/** _copy_from_iter(): from the iterator into kernel address `addr`. Returns bytes copied. */
export function _copy_from_iter(addr: number, bytes: number, i: IovIter): number {
  if (WARN_ON_ONCE(!i.data_source, 'copy from a destination iov_iter')) return 0;
  return iterate_and_advance(i, bytes, addr, STEP_FROM);
}

/**
 * copy_to_iter() / copy_from_iter() (include/linux/uio.h): the kernel
 * address is already mapped by the caller, e.g. an ephmap or mermap slot
 * covering a whole folio, as ASI's shmem read path does (asi.md 4.9.5).
 */
export function copy_to_iter(addr: number, bytes: number, i: IovIter): number {
  return _copy_to_iter(addr, bytes, i);
}
export function copy_from_iter(addr: number, bytes: number, i: IovIter): number {
  return _copy_from_iter(addr, bytes, i);
}

/** iov_iter_zero(): write `bytes` zeros into the iterator (clear_user for user buffers). */
export function iov_iter_zero(bytes: number, i: IovIter): number {
  return iterate_and_advance(i, bytes, 0, STEP_ZERO);
}

/** page_copy_sane(): the range lies within the (compound) page. */
function page_copy_sane(offset: number, bytes: number, max: number): boolean {
  return (offset >= 0 && bytes >= 0 && offset + bytes <= max) || page_copy_insane();
}

function page_copy_insane(): false {
  WARN_ON_ONCE(true, 'page_copy_sane');
  return false;
}

/** count_vm_event() of a copy and its bytes, on CPU `cpu` (this one: the caller has it at hand). */
function count_copy(cpu: number, item: number, bytes_item: number, n: number): void {
  const ev = vmstat.events[cpu];
  ev[item]++;
  ev[bytes_item] += n;
}

/** The iterator goes the way the copy does (a WARN and no copy otherwise). */
function iter_direction_ok(i: IovIter, step: number): boolean {
  return i.data_source === (step === STEP_FROM) || iter_direction_bad(step);
}

function iter_direction_bad(step: number): false {
  WARN_ON_ONCE(true, step === STEP_TO ? 'copy_page_to_iter to a source' : 'copy_page_from_iter from a destination');
  return false;
}

/*
 * Copy between `page` (+offset, possibly beyond the first subpage of a
 * large folio) and the iterator, one 4 KiB subpage at a time, each through
 * kmap_local_page(). Stops at a short copy. `step` is STEP_TO (page to
 * iterator) or STEP_FROM.
 */
const SYM_COPY_PAGE_TO_ITER = ksym('copy_page_to_iter');
const SYM_COPY_PAGE_FROM_ITER = ksym('copy_page_from_iter');
const SYM_COPY_FOLIO_FROM_ITER_ATOMIC = ksym('copy_folio_from_iter_atomic');

function copy_page_iter(page: number, offset: number, bytes: number, i: IovIter, max: number, step: number): number {
  if (!page_copy_sane(offset, bytes, max) || !iter_direction_ok(i, step)) return 0;
  const ip = kernel_ip_enter(step === STEP_TO ? SYM_COPY_PAGE_TO_ITER : SYM_COPY_PAGE_FROM_ITER);
  const item = step === STEP_TO ? NR_COPY_TO_ITER : NR_COPY_FROM_ITER;
  const bytes_item = step === STEP_TO ? NR_COPY_TO_ITER_BYTES : NR_COPY_FROM_ITER_BYTES;
  let res = 0;
  // page_copy_sane() bounds offset by the folio size (at most 2 MiB): integer ops are exact.
  page += offset >>> 12;
  offset &= 4095;
  const cpu = this_cpu();
  for (;;) {
    cpu.charge_one(K_COPY_PAGE_ITER);
    const kaddr = kmap_local_page(page);
    const n = iterate_and_advance(i, bytes < 4096 - offset ? bytes : 4096 - offset, kaddr + offset, step);
    kunmap_local(kaddr);
    if (n) count_copy(cpu.id, item, bytes_item, n);
    res += n;
    bytes -= n;
    if (!bytes || !n) break;
    offset += n;
    if (offset === 4096) {
      page++;
      offset = 0;
    }
  }
  kernel_ip_exit(ip);
  return res;
}

/** copy_page_to_iter(): from the page to the iterator's buffers. */
export function copy_page_to_iter(page: number, offset: number, bytes: number, i: IovIter, max = 4096): number {
  return copy_page_iter(page, offset, bytes, i, max, STEP_TO);
}

/** copy_page_from_iter(): the reverse. */
export function copy_page_from_iter(page: number, offset: number, bytes: number, i: IovIter, max = 4096): number {
  return copy_page_iter(page, offset, bytes, i, max, STEP_FROM);
}

/**
 * copy_folio_to_iter(): copy_page_to_iter(&folio->page, ...), with that
 * wrapper expanded: every page-cache read comes through here, and each
 * wrapper level costs its bytecode in the JIT's inlining budget.
 */
export function copy_folio_to_iter(folio: Folio, offset: number, bytes: number, i: IovIter): number {
  return copy_page_iter(folio.page, offset, bytes, i, 4096 << folio.order, STEP_TO);
}

/**
 * copy_folio_from_iter_atomic(): the write path's copy into a folio. The
 * folio is contiguous in the direct map, so one kmap_local_folio() covers
 * the whole range, except where a mapping covers only one page
 * (folio_test_partial_kmap: highmem in Linux, force_map here), which goes
 * page by page.
 */
export function copy_folio_from_iter_atomic(folio: Folio, offset: number, bytes: number, i: IovIter): number {
  if (!page_copy_sane(offset, bytes, 4096 << folio.order)) return 0;
  if (WARN_ON_ONCE(!i.data_source, 'copy_folio_from_iter_atomic from a destination')) return 0;
  const partial_kmap = highmem_state.force_map && folio.order > 0;
  const ip = kernel_ip_enter(SYM_COPY_FOLIO_FROM_ITER_ATOMIC);
  let copied = 0;
  let n = 0;
  const cpu = this_cpu();
  do {
    cpu.charge_one(K_COPY_PAGE_ITER);
    const to = kmap_local_folio(folio, offset);
    n = bytes - copied;
    if (partial_kmap && n > 4096 - (offset % 4096)) n = 4096 - (offset % 4096);
    n = iterate_and_advance(i, n, to, STEP_FROM);
    kunmap_local(to);
    if (n) count_copy(cpu.id, NR_COPY_FROM_ITER, NR_COPY_FROM_ITER_BYTES, n);
    copied += n;
    offset += n;
  } while (copied !== bytes && n > 0);
  kernel_ip_exit(ip);
  return copied;
}
