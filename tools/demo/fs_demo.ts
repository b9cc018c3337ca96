/*
 * tools/demo/fs_demo.ts - the filesystem part of `npm start`.
 *
 * No Linux counterpart. fs_demo(k) spawns processes that write, read and
 * re-read files on tmpfs (/), ramfs (/ram) and a huge=always tmpfs
 * (/huge): a writer fills a file, two readers on different CPUs read it
 * twice (the second pass all page-cache hits), one of them through readv;
 * a process truncates and unlinks. fs_demo_counters(k) returns the
 * page-cache and copy counters to print after the run.
 */
import type { Kernel } from '../../init/main.ts';
import type { Nolibc } from '../include/nolibc.ts';
import { O_RDONLY, O_RDWR, O_CREAT, O_TRUNC, AT_FDCWD } from '../../include/uapi/linux/fcntl.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../include/uapi/linux/mman.ts';
import { do_mkdirat } from '../../fs/namei.ts';
import { do_mount } from '../../fs/namespace.ts';
import { HW_COPY_BYTES, HW_INVLPG } from '../../arch/x86/hw/events.ts';

type Sys<T = number> = Generator<{ nr: number; args: readonly number[] }, T, number>;

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const FILE_BYTES = 3 << 20; // spans two 2 MiB folios on /huge

function* say(u: Nolibc, text: string): Sys<void> {
  const s = yield* u.cstr(text, 1);
  if (s > 0) yield* u.write(1, s, text.length);
}

/** Fill `path` with a byte pattern a 64 KiB chunk at a time. */
function* writer(u: Nolibc, path: string): Sys {
  const chunk = 64 * 1024;
  const buf = yield* u.mmap(0, chunk, RW, ANON);
  if (buf < 0) return 1;
  const fd = yield* u.open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644);
  if (fd < 0) return 2;
  for (let off = 0; off < FILE_BYTES; off += chunk) {
    const b = new Uint8Array(chunk);
    for (let i = 0; i < chunk; i += 4096) b[i] = ((off + i) >>> 12) & 0xff;
    u.poke(buf, b);
    if ((yield* u.write(fd, buf, chunk)) !== chunk) return 3;
  }
  yield* u.close(fd);
  yield* say(u, `writer: ${path} ${FILE_BYTES >> 10} KiB written\n`);
  return 0;
}

/** Read `path` twice, 16 KiB preads (or readv of four 4 KiB pieces), checking one byte per page. */
function* reader(u: Nolibc, path: string, vectored: boolean): Sys {
  const buf = yield* u.mmap(0, 8 * 4096, RW, ANON);
  if (buf < 0) return 1;
  let fd = -1;
  for (let tries = 0; fd < 0 && tries < 1000; tries++) {
    fd = yield* u.open(path, O_RDONLY);
    if (fd < 0) yield* u.nanosleep(100_000);
  }
  if (fd < 0) return 2;
  const iov = buf + 6 * 4096;
  u.put_iovec(iov, [0, 1, 2, 3].map((k) => [buf + k * 4096, 4096] as const));
  let bad = 0;
  for (let pass = 0; pass < 2; pass++) {
    yield* u.lseek(fd, 0, 0);
    for (let off = 0; off < FILE_BYTES; off += 4 * 4096) {
      const n = vectored ? yield* u.readv(fd, iov, 4) : yield* u.pread64(fd, buf, 4 * 4096, off);
      if (n !== 4 * 4096) return 3;
      for (let p = 0; p < 4; p++) if (u.peek(buf + p * 4096, 1)[0] !== (((off >>> 12) + p) & 0xff)) bad++;
    }
  }
  yield* u.close(fd);
  yield* say(u, `reader: ${path} read twice${vectored ? ' with readv' : ''}, ${bad} bad pages\n`);
  return bad ? 4 : 0;
}

/** Truncate a file to a page and unlink another: their page cache goes back to the allocator. */
function* janitor(u: Nolibc, paths: string[]): Sys {
  yield* u.nanosleep(50_000_000);
  for (const p of paths) {
    const fd = yield* u.open(p, O_RDWR);
    if (fd >= 0) {
      yield* u.ftruncate(fd, 4096);
      yield* u.close(fd);
    }
  }
  const r = yield* u.unlink(paths[0]);
  yield* say(u, `janitor: truncated ${paths.join(', ')}; unlink ${paths[0]}: ${r}\n`);
  return 0;
}

/** Spawn the filesystem workload on `k` (call before k.run()). */
export function fs_demo(k: Kernel): void {
  if (do_mkdirat(AT_FDCWD, '/huge', 0o755) === 0) do_mount('tmpfs', '/huge', 'huge=always');
  const files = ['/data', '/ram/data', '/huge/data'];
  files.forEach((path, i) => {
    k.spawn(`fswriter${i}`, function* (u: Nolibc) { return yield* writer(u, path); });
    k.spawn(`fsreader${i}a`, function* (u: Nolibc) { yield* u.nanosleep(20_000_000); return yield* reader(u, path, false); });
    k.spawn(`fsreader${i}b`, function* (u: Nolibc) { yield* u.nanosleep(20_000_000); return yield* reader(u, path, true); });
  });
  k.spawn('fsjanitor', function* (u: Nolibc) { return yield* janitor(u, ['/data', '/ram/data']); });
}

/** Page-cache and copy counters for the summary, by their /proc/vmstat (or perf) names. */
export function fs_demo_counters(k: Kernel): Record<string, number> {
  const v = k.vmstat();
  const hw = (ev: number): number => k.machine.cpus.reduce((s, c) => s + c.ev[ev], 0);
  const keys = ['nr_file_pages', 'nr_shmem', 'nr_shmem_hugepages', 'thp_file_alloc', 'thp_file_fallback', 'nr_copy_to_iter',
    'nr_copy_to_iter_bytes', 'nr_copy_from_iter', 'nr_copy_from_iter_bytes', 'nr_kmap_local_map'];
  const out: Record<string, number> = {};
  for (const key of keys) out[key] = v[key] ?? 0;
  out['copy-bytes'] = hw(HW_COPY_BYTES);
  out.invlpg = hw(HW_INVLPG);
  return out;
}
