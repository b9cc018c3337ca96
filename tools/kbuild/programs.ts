/*
 * tools/kbuild/programs.ts - the user programs of the kbuild workload: make and cc1.
 *
 * No Linux counterpart: a kernel build's process tree in miniature, built
 * from tskernel's syscalls. make (a spawned process) lays out a source
 * tree in tmpfs (headers under /include, sources under /src, the compiler
 * image /bin/cc1), then runs the build as `make -jJ` does: up to J
 * children at a time, each fork()ed (clone with SIGCHLD) and exec'ing
 * /bin/cc1 with the source, its headers and the object as arguments;
 * make reaps them with wait4(-1) and counts the SIGCHLDs its handler
 * takes (SA_RESTART, so the wait restarts). cc1 reads its inputs through
 * read() into a heap that grows by mmap()ed chunks, as malloc's arenas do
 * (every heap page is first touched by a write: a page fault and a zeroed
 * page), spends user time per input byte (the compile itself), writes an
 * object of a quarter of its input size and exits.
 * Every size and header choice is drawn from the seeded prandom stream
 * when the tree is laid out, so the same seed builds the same tree and
 * the same schedule of work.
 */
import type { Nolibc, ExecProgram, Program } from '../include/nolibc.ts';
import { RndState, prandom_u32_below } from '../../lib/prandom.ts';
import { O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC, O_CLOEXEC } from '../../include/uapi/asm-generic/fcntl.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../include/uapi/linux/mman.ts';
import { SIGCHLD, SA_RESTART } from '../../include/uapi/asm-generic/signal.ts';
import { WEXITSTATUS, WTERMSIG } from '../include/nolibc.ts';

export interface KbuildParams {
  /** Compile jobs (translation units) in all. */
  units: number;
  /** make -j: children at a time. */
  jobs: number;
  /** Headers in /include; each unit includes `includes` of them. */
  headers: number;
  includes: number;
  /** Source and header sizes in KiB: drawn in [min, max). */
  src_kib: [number, number];
  hdr_kib: [number, number];
  /** Heap bytes cc1 touches per input byte (its ASTs and tables). */
  heap_per_byte: number;
  /**
   * User-mode cycles cc1 spends per input byte: the workload's compile
   * speed (a workload setting, like fio's think time; not fitted).
   */
  cycles_per_byte: number;
  seed: number;
}

export const DEFAULT_KBUILD: Omit<KbuildParams, 'units' | 'jobs'> = {
  headers: 32,
  includes: 6,
  src_kib: [4, 24],
  hdr_kib: [2, 12],
  // [I] estimates of cc1 -O2 on kernel C, per byte of preprocessed input: ~2 MB/s at
  // 3 GHz (1500 cycles/byte) and a peak heap ~30x the input (tens of MB for a
  // unit of ~1.5 MB); chosen from gcc's behaviour, not from any ASI result.
  heap_per_byte: 32,
  cycles_per_byte: 1500,
  seed: 1,
};

/** What make saw, for the report. */
export interface MakeLog {
  built: number;
  failed: number;
  sigchld: number;
}

/** Hooks make calls at the build's start and end (to snapshot the counters around the build alone). */
export interface MakeHooks {
  build_start(): void;
  build_end(): void;
}

const CHUNK = 256 * 1024; // malloc's arena growth step (an mmap()ed chunk)
const IO = 16 * 1024; // read()/write() size

/** A heap that grows by mmap()ed chunks; alloc() returns user addresses, each new page written once. */
class Heap {
  private chunk = 0;
  private used = CHUNK;
  chunks: number[] = [];
  constructor(private readonly u: Nolibc) {}

  *alloc(bytes: number): Generator<{ nr: number; args: readonly number[] }, number, number> {
    bytes = Math.ceil(bytes / 64) * 64;
    if (this.used + bytes > CHUNK) {
      const len = Math.max(CHUNK, Math.ceil(bytes / 4096) * 4096);
      const a = yield* this.u.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      if (a < 0) return a;
      this.chunks.push(a);
      this.chunk = a;
      this.used = 0;
    }
    const at = this.chunk + this.used;
    // First touch of each new page: malloc's memset / the compiler filling its tables.
    for (let p = Math.ceil(at / 4096) * 4096; p < at + bytes; p += 4096) this.u.poke32(p, 0x5a5a5a5a);
    this.used += bytes;
    return at;
  }
}

/* File contents: a repeated byte pattern written with write() from a user buffer. */
function* write_file(u: Nolibc, path: string, bytes: number, buf: number, mode = 0o644): Generator<{ nr: number; args: readonly number[] }, number, number> {
  const fd = yield* u.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) return fd;
  let done = 0;
  while (done < bytes) {
    const n = Math.min(IO, bytes - done);
    const w = yield* u.write(fd, buf, n);
    if (w <= 0) break;
    done += w;
  }
  yield* u.close(fd);
  return done;
}

/* Read a whole file into the heap; the bytes read, or -errno. */
function* read_file(u: Nolibc, heap: Heap, path: string): Generator<{ nr: number; args: readonly number[] }, number, number> {
  const fd = yield* u.open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  let total = 0;
  for (;;) {
    const buf = yield* heap.alloc(IO);
    if (buf < 0) return buf;
    const n = yield* u.read(fd, buf, IO);
    if (n <= 0) break;
    total += n;
  }
  yield* u.close(fd);
  return total;
}

/**
 * cc1 SRC -o OBJ -I HDR...: read the source and its headers, grow the
 * heap, compute, write the object.
 */
export function cc1(p: Pick<KbuildParams, 'heap_per_byte' | 'cycles_per_byte'>): ExecProgram {
  return function* (u: Nolibc, argv: string[]) {
    const src = argv[1];
    const obj = argv[3];
    const inputs = [src, ...argv.slice(5)];
    const heap = new Heap(u);
    let bytes = 0;
    for (const f of inputs) {
      const n = yield* read_file(u, heap, f);
      if (n < 0) return 2;
      bytes += n;
      u.compute(n * p.cycles_per_byte); // preprocess and parse
    }
    // The compiler's own data: ASTs, RTL, symbol tables.
    let left = bytes * p.heap_per_byte;
    while (left > 0) {
      const n = Math.min(left, 64 * 1024);
      if ((yield* heap.alloc(n)) < 0) return 3;
      left -= n;
    }
    const out = yield* heap.alloc(Math.max(4096, bytes >> 2));
    if (out < 0) return 3;
    const w = yield* write_file(u, obj, Math.max(4096, bytes >> 2), out);
    return w < 0 ? 4 : 0;
  };
}

/** make -jJ: lay out the tree, then build every unit with up to J cc1 children. */
export function make(p: KbuildParams, log: MakeLog, hooks: MakeHooks): Program {
  return function* (u: Nolibc) {
    const rnd = new RndState(p.seed);
    const draw = (r: [number, number]): number => (r[0] + prandom_u32_below(rnd, Math.max(1, r[1] - r[0]))) * 1024;
    const buf = yield* u.mmap(0, IO, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (buf < 0) return 1;
    u.poke(buf, new Uint8Array(IO).fill(0x23)); // "#..."
    for (const d of ['/bin', '/include', '/src', '/obj']) yield* u.mkdir(d);
    if ((yield* u.install('/bin/cc1', 'cc1')) < 0) return 1;
    for (let h = 0; h < p.headers; h++) yield* write_file(u, `/include/h${h}.h`, draw(p.hdr_kib), buf);
    const cmds: string[][] = [];
    for (let i = 0; i < p.units; i++) {
      yield* write_file(u, `/src/f${i}.c`, draw(p.src_kib), buf);
      const hdrs: string[] = [];
      for (let k = 0; k < p.includes; k++) hdrs.push(`/include/h${prandom_u32_below(rnd, p.headers)}.h`);
      cmds.push(['cc1', `/src/f${i}.c`, '-o', `/obj/f${i}.o`, '-I', ...hdrs]);
    }
    yield* u.sigaction(SIGCHLD, function* () { log.sigchld++; }, SA_RESTART);
    hooks.build_start();
    let next = 0;
    let running = 0;
    while (next < cmds.length || running > 0) {
      while (running < p.jobs && next < cmds.length) {
        const argv = cmds[next++];
        const pid = yield* u.clone(SIGCHLD, function* (c: Nolibc) {
          // The child of fork() writes before it execs (its stack frame,
          // errno, the fds it sets up): a copy-on-write fault on a page it
          // still shares with make.
          c.poke32(buf, argv.length);
          yield* c.execve('/bin/cc1', argv, ['PATH=/bin', 'KBUILD_VERBOSE=0']);
          return 127; // exec failed
        });
        if (pid < 0) return 1;
        // make records the child in its job table (struct child in job.c):
        // a write to memory fork() left shared, copied unless the child has
        // already exec'd and dropped its reference.
        u.poke32(buf + (next % (IO / 4096)) * 4096 + 8, pid);
        running++;
      }
      const [w, st] = yield* u.waitpid(-1);
      if (w < 0) return 1;
      running--;
      if (WTERMSIG(st) === 0 && WEXITSTATUS(st) === 0) log.built++; // WIFEXITED and status 0
      else log.failed++;
    }
    hooks.build_end();
    return log.failed ? 2 : 0;
  };
}
