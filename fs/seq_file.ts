/*
 * fs/seq_file.ts - files whose content is generated record by record as
 * they are read (/proc, tracefs).
 *
 * Mirrors fs/seq_file.c: seq_open() hangs a struct seq_file on the file;
 * seq_read_iter() fills m->buf (one page, doubled while one record does
 * not fit) with as many whole records as the reader asked for, calling
 * ->start/->show/->next/->stop, copies it out with copy_to_iter() and
 * keeps what the reader did not take for the next read. A read at an
 * offset other than where the last one ended (pread, lseek) regenerates
 * from the first record and skips to it (traverse()). single_open() is a
 * seq_file of exactly one record, the whole text shown at once.
 * seq_lseek() supports SEEK_SET and SEEK_CUR only, as Linux's does.
 * m->buf is kernel memory (__get_free_pages, GFP_KERNEL_ACCOUNT, as
 * seq_buf_alloc()'s kvmalloc for the sizes /proc uses); records are
 * formatted as host strings and written into it before the copy, so the
 * bytes cross the MMU as in Linux.
 * Simplified: no m->lock (a syscall runs to completion on its CPU), no
 * seq_escape/seq_path helpers, text is Latin-1 (one byte per character),
 * an item is an object and an error is a negative errno.
 */
import type { File, Inode, Kiocb } from '../include/linux/fs.ts';
import { FMODE_PWRITE } from '../include/linux/fs.ts';
import type { IovIter } from '../include/linux/uio.ts';
import { copy_to_iter, iov_iter_count } from '../lib/iov_iter.ts';
import { Loff } from './read_write.ts';
import { SEEK_SET, SEEK_CUR } from '../include/uapi/linux/fs.ts';
import { __get_free_pages, free_pages } from '../mm/page_alloc.ts';
import { GFP_KERNEL_ACCOUNT } from '../mm/gfp.ts';
import { this_cpu } from '../kernel/smp.ts';
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import { EAGAIN, EFAULT, EINVAL, ENOMEM } from '../include/uapi/asm-generic/errno.ts';

const K_KMEM_CACHE_ALLOC = COST_KEY_INDEX.kmem_cache_alloc, K_KMEM_CACHE_FREE = COST_KEY_INDEX.kmem_cache_free;
const PAGE_SIZE = 4096;

/** What ->start/->next return: a record, null at the end, or a negative errno (ERR_PTR). */
export type SeqItem<T> = T | null | number;

/** struct seq_operations. ->next must advance pos.v (Linux warns and does it when one forgets). */
export interface SeqOperations<T extends object = object> {
  start(m: SeqFile<T>, pos: Loff): SeqItem<T>;
  next(m: SeqFile<T>, v: T, pos: Loff): SeqItem<T>;
  stop(m: SeqFile<T>, v: SeqItem<T>): void;
  /** 0 shown, SEQ_SKIP to drop what it printed, or -errno. */
  show(m: SeqFile<T>, v: T): number;
}

/** SEQ_SKIP: ->show's "skip this record". */
export const SEQ_SKIP = 1;

/** struct seq_file. */
export class SeqFile<T extends object = object> {
  /** m->buf: kernel address of the buffer (0 until the first read), and its size in bytes. */
  buf = 0;
  size = 0;
  /** The text of m->buf[0, count): what ->show printed since the buffer was last emptied. */
  text = '';
  /** m->from: where the unread part of the buffer starts. */
  from = 0;
  /** m->count: unread bytes in the buffer (from `from`). */
  count = 0;
  /** m->index: the record the next ->start begins at. */
  index = 0;
  /** m->read_pos: the file offset the buffer's unread part begins at. */
  read_pos = 0;
  /** Whether `text` has been written into m->buf since it last changed. */
  written = false;
  /** m->private: the file's data (single_open's, a snapshot, a task). */
  private: unknown = null;
  constructor(readonly op: SeqOperations<T>, readonly file: File) {}
}

function IS_ERR(v: unknown): v is number {
  return typeof v === 'number';
}

/** seq_has_overflowed(): the last print did not fit m->buf. */
export function seq_has_overflowed(m: SeqFile<object>): boolean {
  return m.text.length >= m.size;
}

/** seq_printf() / seq_puts(): append text; an overflow is noticed by the caller (seq_has_overflowed). */
export function seq_puts(m: SeqFile<object>, s: string): void {
  if (m.text.length >= m.size) return; // already overflowed: seq_set_overflow() kept count == size
  m.text += s;
  m.written = false;
}
export const seq_printf = seq_puts;

/** seq_putc(). */
export function seq_putc(m: SeqFile<object>, c: string): void {
  seq_puts(m, c);
}

/* m->count is the text after `from`; the text is what the buffer holds. */
function seq_set_count(m: SeqFile<object>, count: number): void {
  m.text = m.text.slice(0, m.from + count);
  m.count = count;
  m.written = false;
}

/** seq_buf_alloc(): a buffer of m.size bytes (a power-of-two number of pages), or false. */
function seq_buf_alloc(m: SeqFile<object>, size: number): boolean {
  const order = Math.max(0, Math.ceil(Math.log2(size / PAGE_SIZE)));
  const buf = __get_free_pages(GFP_KERNEL_ACCOUNT, order);
  if (!buf) return false;
  m.buf = buf;
  m.size = PAGE_SIZE << order;
  m.written = false;
  return true;
}

function seq_buf_free(m: SeqFile<object>): void {
  if (m.buf) free_pages(m.buf, Math.log2(m.size / PAGE_SIZE));
  m.buf = 0;
}

/** Double the buffer after an overflow: -ENOMEM if that fails. */
function seq_buf_grow(m: SeqFile<object>): number {
  const size = m.size * 2;
  seq_buf_free(m);
  m.text = '';
  m.from = 0;
  m.count = 0;
  return seq_buf_alloc(m, size) ? 0 : -ENOMEM;
}

/* Write what ->show printed into m->buf, as vsnprintf() would have. */
function seq_buf_write(m: SeqFile<object>): void {
  if (m.written) return;
  const s = m.text;
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i) & 0xff;
  this_cpu().write_bytes(m.buf, bytes);
  m.written = true;
}

/** copy_to_iter() from the unread part of m->buf: the bytes copied. */
function seq_copy_out(m: SeqFile<object>, iter: IovIter): number {
  seq_buf_write(m);
  const n = copy_to_iter(m.buf + m.from, Math.min(m.count, iov_iter_count(iter)), iter);
  m.count -= n;
  m.from += n;
  return n;
}

/**
 * traverse(): regenerate from the first record and stop at `offset`, the
 * part of the record it falls in left unread in the buffer. 0, -EAGAIN
 * when the buffer had to grow (call again), or -errno.
 */
function traverse<T extends object>(m: SeqFile<T>, offset: number): number {
  let pos = 0;
  let error = 0;
  m.index = 0;
  m.text = '';
  m.count = 0;
  m.from = 0;
  if (!offset) return 0;
  if (!m.buf && !seq_buf_alloc(m, PAGE_SIZE)) return -ENOMEM;
  const ipos = new Loff(m.index);
  let p = m.op.start(m, ipos);
  while (p !== null) {
    if (IS_ERR(p)) {
      error = p;
      break;
    }
    m.text = '';
    error = m.op.show(m, p);
    if (error < 0) break;
    if (error) {
      error = 0;
      m.text = '';
    }
    if (seq_has_overflowed(m)) {
      m.op.stop(m, p);
      m.index = ipos.v;
      return seq_buf_grow(m) || -EAGAIN;
    }
    const len = m.text.length;
    p = next_record(m, p, ipos);
    if (pos + len > offset) {
      m.from = offset - pos;
      m.count = len - m.from;
      break;
    }
    pos += len;
    m.text = '';
    if (pos === offset) break;
  }
  m.index = ipos.v;
  m.op.stop(m, p);
  if (m.text === '') m.count = 0;
  m.written = false;
  return error;
}

/* ->next, advancing the index if ->next forgot (Linux: "buggy .next function"). */
function next_record<T extends object>(m: SeqFile<T>, p: T, ipos: Loff): SeqItem<T> {
  const before = ipos.v;
  const r = m.op.next(m, p, ipos);
  if (ipos.v === before) ipos.v++;
  return r;
}

/** seq_read_iter(): the ->read_iter of every seq_file. */
export function seq_read_iter(iocb: Kiocb, iter: IovIter): number {
  const m = iocb.ki_filp.private_data as SeqFile<object>;
  if (!iov_iter_count(iter)) return 0;
  let copied = 0;
  let err = 0;
  // A read from offset 0 starts over: the records may have changed since.
  if (iocb.ki_pos === 0) {
    m.index = 0;
    m.count = 0;
    m.from = 0;
    m.text = '';
  }
  // Don't assume ki_pos is where we left it.
  if (iocb.ki_pos !== m.read_pos) {
    while ((err = traverse(m, iocb.ki_pos)) === -EAGAIN);
    if (err) {
      m.read_pos = 0;
      m.index = 0;
      m.count = 0;
      return err;
    }
    m.read_pos = iocb.ki_pos;
  }
  if (!m.buf && !seq_buf_alloc(m, PAGE_SIZE)) return -ENOMEM;
  // What the last read left in the buffer goes first.
  if (m.count) {
    copied += seq_copy_out(m, iter);
    if (m.count) return seq_read_done(iocb, m, copied, err);
  }
  // At least one non-empty record in the buffer.
  m.from = 0;
  m.text = '';
  const ipos = new Loff(m.index);
  let p = m.op.start(m, ipos);
  for (;;) {
    if (p === null || IS_ERR(p)) {
      if (IS_ERR(p)) err = p;
      m.index = ipos.v;
      m.op.stop(m, p);
      m.count = 0;
      return seq_read_done(iocb, m, copied, err);
    }
    err = m.op.show(m, p);
    if (err < 0) {
      m.index = ipos.v;
      m.op.stop(m, p);
      m.count = 0;
      m.text = '';
      return seq_read_done(iocb, m, copied, err);
    }
    if (err) m.text = '';
    if (!m.text.length) {
      p = next_record(m, p, ipos);
      continue;
    }
    if (!seq_has_overflowed(m)) break; // got it
    m.op.stop(m, p);
    const gerr = seq_buf_grow(m);
    if (gerr) {
      m.index = ipos.v;
      return seq_read_done(iocb, m, copied, gerr);
    }
    p = m.op.start(m, ipos);
  }
  // Fill: one record is in; fit more if the reader wants more, advancing once per record shown.
  for (;;) {
    const offs = m.text.length;
    p = next_record(m, p as object, ipos);
    if (p === null || IS_ERR(p)) break;
    if (m.text.length >= iov_iter_count(iter)) break;
    const r = m.op.show(m, p);
    if (r > 0) {
      m.text = m.text.slice(0, offs); // ->show() said skip it
    } else if (r || seq_has_overflowed(m)) {
      m.text = m.text.slice(0, offs);
      break;
    }
  }
  m.index = ipos.v;
  m.op.stop(m, p);
  seq_set_count(m, m.text.length);
  copied += seq_copy_out(m, iter);
  return seq_read_done(iocb, m, copied, err);
}

function seq_read_done(iocb: Kiocb, m: SeqFile<object>, copied: number, err: number): number {
  if (!copied) return m.count ? -EFAULT : err;
  iocb.ki_pos += copied;
  m.read_pos += copied;
  return copied;
}

/** seq_lseek(): SEEK_SET and SEEK_CUR; the position is where the next read regenerates from. */
export function seq_lseek(file: File, offset: number, whence: number): number {
  const m = file.private_data as SeqFile<object>;
  if (!Number.isInteger(offset)) return -EINVAL;
  if (whence === SEEK_CUR) offset += file.f_pos;
  else if (whence !== SEEK_SET) return -EINVAL;
  if (offset < 0 || offset >= 2 ** 63) return -EINVAL;
  if (offset === m.read_pos) {
    file.f_pos = offset;
    return offset;
  }
  let err: number;
  while ((err = traverse(m, offset)) === -EAGAIN);
  if (err) {
    file.f_pos = 0;
    m.read_pos = 0;
    m.index = 0;
    m.count = 0;
    return err;
  }
  m.read_pos = offset;
  file.f_pos = offset;
  return offset;
}

/**
 * seq_open(): hang a seq_file on `file` (kmalloc'd: charged), and take
 * pwrite away, as Linux does for every seq_file.
 */
export function seq_open<T extends object>(file: File, op: SeqOperations<T>): SeqFile<T> {
  const m = new SeqFile<T>(op, file);
  this_cpu().charge_index(K_KMEM_CACHE_ALLOC);
  file.private_data = m;
  file.f_mode &= ~FMODE_PWRITE;
  return m;
}

/** seq_release(): free the buffer and the seq_file. */
export function seq_release(_inode: Inode | null, file: File): void {
  const m = file.private_data as SeqFile<object> | null;
  if (!m) return;
  seq_buf_free(m);
  this_cpu().charge_index(K_KMEM_CACHE_FREE);
  file.private_data = null;
}

/** The one record of a single_open() file (SEQ_START_TOKEN). */
const SEQ_START_TOKEN: object = Object.freeze({});

function single_start(_m: SeqFile<object>, pos: Loff): SeqItem<object> {
  return pos.v === 0 ? SEQ_START_TOKEN : null;
}
function single_next(_m: SeqFile<object>, _v: object, pos: Loff): SeqItem<object> {
  pos.v++;
  return null;
}
function single_stop(): void {}

/**
 * single_open(): a seq_file whose whole text is one ->show (/proc/meminfo,
 * /proc/cmdline, /proc/<pid>/status). `data` becomes m.private.
 */
export function single_open(file: File, show: (m: SeqFile<object>, data: unknown) => number, data: unknown = null): number {
  const op: SeqOperations<object> = {
    start: single_start,
    next: single_next,
    stop: single_stop,
    show: (m) => show(m, m.private),
  };
  this_cpu().charge_index(K_KMEM_CACHE_ALLOC); // the seq_operations single_open kmallocs
  const m = seq_open(file, op);
  m.private = data;
  return 0;
}

/** single_release(): seq_release plus the seq_operations. */
export function single_release(inode: Inode | null, file: File): void {
  if (file.private_data) this_cpu().charge_index(K_KMEM_CACHE_FREE);
  seq_release(inode, file);
}
