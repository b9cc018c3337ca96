/*
 * tests/fs/proc/helpers.ts - reading and writing pseudo-files from a simulated process.
 *
 * No Linux counterpart: what cat and echo do, as generator helpers for the
 * procfs and tracefs suites. Text crosses the MMU through the process's
 * buffer (u.peek/u.poke).
 */
import type { Nolibc } from '../../../tools/include/nolibc.ts';
import type { Sys } from '../../../tools/include/nolibc.ts';
import { O_RDONLY } from '../../../include/uapi/asm-generic/fcntl.ts';

export const BUF_BYTES = 65536;

/** The text of `n` bytes at user address `buf`. */
export function peek_str(u: Nolibc, buf: number, n: number): string {
  return Buffer.from(u.peek(buf, n)).toString('latin1');
}

/** read() until 0 in `chunk`-byte reads; the text, or the first -errno. */
export function* read_fd(u: Nolibc, fd: number, buf: number, chunk = 4096): Sys<string | number> {
  let s = '';
  for (;;) {
    const n = yield* u.read(fd, buf, chunk);
    if (n < 0) return n;
    if (n === 0) return s;
    s += peek_str(u, buf, n);
  }
}

/** cat PATH: open, read all, close; the text or -errno. */
export function* cat(u: Nolibc, path: string, buf: number, chunk = 4096): Sys<string | number> {
  const fd = yield* u.open(path, O_RDONLY);
  if (fd < 0) return fd;
  const s = yield* read_fd(u, fd, buf, chunk);
  yield* u.close(fd);
  return s;
}

/** One write() of `s` from `buf`: its result. */
export function* write_str(u: Nolibc, fd: number, buf: number, s: string): Sys {
  u.poke(buf, new Uint8Array(Buffer.from(s, 'latin1')));
  return yield* u.write(fd, buf, s.length);
}
