/*
 * include/linux/uio.ts - struct iov_iter and struct iovec.
 *
 * Mirrors the structures and constants of include/linux/uio.h (and the
 * uapi struct iovec): what an iterator over user or kernel buffers is.
 * What it does (iov_iter_ubuf, copy_page_to_iter, ...) is lib/iov_iter.ts.
 */

/* enum iter_type */
export const ITER_UBUF = 0;
export const ITER_IOVEC = 1;
export const ITER_BVEC = 2;
export const ITER_KVEC = 3;
export const ITER_FOLIOQ = 4;
export const ITER_XARRAY = 5;
export const ITER_DISCARD = 6;

/** ITER_SOURCE: the iterator is read from (write(2)); ITER_DEST: written to (read(2)). */
export const ITER_SOURCE = 1;
export const ITER_DEST = 0;

export const UIO_FASTIOV = 8;
export const UIO_MAXIOV = 1024;

/** struct iovec / struct kvec. */
export interface Iovec {
  iov_base: number;
  iov_len: number;
}

/** The segment array of an iterator with none (ITER_UBUF). */
export const NO_SEGS: readonly Iovec[] = [];

/** struct iov_iter. */
export class IovIter {
  iter_type = ITER_UBUF;
  nofault = false;
  /** data_source: true for ITER_SOURCE. */
  data_source = false;
  /** Offset into the current segment (ITER_UBUF: into the buffer). */
  iov_offset = 0;
  /** Bytes left. */
  count = 0;
  /** ITER_UBUF: the user buffer (__ubuf_iovec.iov_base). */
  ubuf = 0;
  /** ITER_IOVEC / ITER_KVEC: the segment array. */
  __iov: readonly Iovec[] = NO_SEGS;
  /** The current segment's index in __iov (Linux advances the __iov pointer itself). */
  seg = 0;
  /** Segments left from `seg`. */
  nr_segs = 0;
}
