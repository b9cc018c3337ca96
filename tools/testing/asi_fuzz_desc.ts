/*
 * tools/testing/asi_fuzz_desc.ts - the fuzzer's table-driven step: a row
 * of syscall_64_tbl with arguments drawn from its description in
 * syz_descs.ts, valid or of one invalid kind, and the per-process
 * addresses those arguments point into. Split from asi_fuzz.ts; syzkaller's
 * prog/generation.go plays this role.
 */
import type { Nolibc } from '../include/nolibc.ts';
import { syscall_64_tbl } from '../../arch/x86/entry/syscall_64.ts';
import { syz_descs, syz_arg_kinds } from './syz_descs.ts';
import type { SyzDesc, SyzKind } from './syz_descs.ts';
import type { Program } from '../include/nolibc.ts';
import { prandom_u32_below } from '../../lib/prandom.ts';
import { PAGE, RW, ANON, type Ctx, draw, choose, pick, kid, note } from './asi_fuzz_ctx.ts';

/*
 * The paths a 'path' argument takes: the program's own files and
 * directories, and the pseudo-files a kernel developer reads (procfs and
 * tracefs). trace_pipe is left out: a blocking read of it waits for an
 * event that may never come, as on Linux.
 */
export const FUZZ_PATHS: readonly string[] = [
  '/f0', '/f1', '/d0', '/d0/f2', '', '/',
  '/proc', '/proc/vmstat', '/proc/meminfo', '/proc/self/status', '/proc/self/maps', '/proc/nosuch',
  '/sys/kernel/tracing/set_event', '/sys/kernel/tracing/events/asi/enable', '/sys/kernel/tracing/trace',
];

/** A program for a fork child of a table-driven clone (asi_fuzz.ts's program()). */
export type ProgramFactory = (c: Ctx, mean: number, depth: number) => Program;
/* ---- the table-driven step: a row of syscall_64_tbl with arguments from its description ---- */

/** The addresses a process's table-driven calls use. */
export interface DescEnv {
  /** Pages 0-1: scratch (the overlong path); page 2: non-NUL to the guard (the unterminated path). */
  area: number;
  /** The unmapped page just above `area`'s three. */
  guard: number;
  /** A read-only page holding a valid timespec (offset 0) and two iovecs into `area` (offset 64). */
  ro: number;
  /** Two pages munmap and mprotect may take away (nothing else touches them). */
  spare: number;
  buf: number;
  fds: number[];
}

export const KERNEL_PTR = 0x888000000000 + 0x1000; // the direct map (ffff888000001000)
export const NONCANONICAL_PTR = 2 ** 48 + 0x1000; // bits 63..48 set without bit 47: not a 48-bit address
/* The rows that end a program (rt_sigreturn without a frame is SIGSEGV) are issued last, below. */
export const DESC_ROWS = syscall_64_tbl.filter(([, name]) => name !== 'exit' && name !== 'exit_group' && name !== 'rt_sigreturn');

export function nr_of(name: string): number {
  const row = syscall_64_tbl.find(([, n]) => n === name);
  if (!row) throw new Error(`asi_fuzz: no syscall '${name}'`);
  return row[0];
}

export function cover(c: Ctx, name: string, kind: SyzKind | 'valid'): void {
  let s = c.stats.coverage.get(name);
  if (!s) c.stats.coverage.set(name, (s = new Set()));
  s.add(kind);
}

export function* desc_env(c: Ctx, u: Nolibc, buf: number, fds: number[]): Generator<{ nr: number; args: readonly number[] }, DescEnv | null, number> {
  const area = note(c, 'mmap', yield* u.mmap(0, 4 * PAGE, RW, ANON));
  if (area < 0) return null;
  note(c, 'munmap', yield* u.munmap(area + 3 * PAGE, PAGE));
  u.poke(area + 2 * PAGE, new Uint8Array(PAGE).fill(0x61));
  const ro = note(c, 'mmap', yield* u.mmap(0, PAGE, RW, ANON));
  if (ro < 0) return null;
  u.poke32(ro, 0); u.poke32(ro + 4, 0); u.poke32(ro + 8, 1000); u.poke32(ro + 12, 0); // { 0 s, 1000 ns }
  u.put_iovec(ro + 64, [[area, 100], [area + PAGE, 5000]]);
  note(c, 'mprotect', yield* u.mprotect(ro, PAGE, 1));
  const spare = note(c, 'mmap', yield* u.mmap(0, 2 * PAGE, RW, ANON));
  if (spare < 0) return null;
  return { area, guard: area + 3 * PAGE, ro, spare, buf, fds };
}

export function bad_ptr(e: DescEnv, k: SyzKind): number {
  switch (k) {
    case 'null_ptr': return 0;
    case 'kernel_ptr': return KERNEL_PTR;
    case 'noncanonical_ptr': return NONCANONICAL_PTR;
    case 'unmapped_ptr': return e.guard;
    case 'readonly_ptr': return e.ro;
    default: return e.guard;
  }
}

/* The (row, argument index, kind) triples this run has not issued yet. */
export function uncovered(c: Ctx, depth: number): [(typeof DESC_ROWS)[number], number, SyzKind][] {
  const out: [(typeof DESC_ROWS)[number], number, SyzKind][] = [];
  for (const row of DESC_ROWS) {
    const d = syz_descs[row[1]];
    if (!d || (row[1] === 'clone' && depth > 0)) continue;
    const got = c.stats.coverage.get(row[1]);
    d.args.forEach((a, i) => { for (const k of syz_arg_kinds(a)) if (!got?.has(k)) out.push([row, i, k]); });
  }
  return out;
}

/* One call of a random table row (but exit and exit_group, which end a program). */
export function* desc_step(c: Ctx, u: Nolibc, e: DescEnv, depth: number, program: ProgramFactory): Generator<{ nr: number; args: readonly number[] }, void, number> {
  /*
   * Three times in four, a (row, argument, kind) not issued yet in this run: a
   * little coverage guidance, so a short run reaches every kind. Guidance
   * only biases what a recording writes on the tape (choose()): a replay
   * reads the same row and kind back whatever ran before it.
   */
  let want: [(typeof DESC_ROWS)[number], number, SyzKind] | null = null;
  if (draw(c, 4) !== 0 && c.d.rnd) {
    const todo = uncovered(c, depth);
    if (todo.length) want = todo[prandom_u32_below(c.d.rnd, todo.length)];
  }
  const [nr, name] = DESC_ROWS[choose(c, DESC_ROWS.length, want ? DESC_ROWS.indexOf(want[0]) : null)];
  const d: SyzDesc | undefined = syz_descs[name];
  if (!d) {
    c.bad.push(`${name}: no fuzz description`);
    return;
  }
  if (name === 'clone' && depth > 0) return;
  const cands: [number, SyzKind][] = [];
  d.args.forEach((a, i) => { for (const k of syz_arg_kinds(a)) cands.push([i, k]); });
  const wi = want ? cands.findIndex(([i, k]) => i === want[1] && k === want[2]) : -1;
  const [bad_i, kind]: [number, SyzKind | null] =
    cands.length && choose(c, 3, wi >= 0 ? 1 : null) ? cands[choose(c, cands.length, wi >= 0 ? wi : null)] : [-1, null];
  const vec = name === 'readv' || name === 'writev';
  const args: number[] = [];
  let fi = 0;
  for (let i = 0; i < d.args.length; i++) {
    const a = d.args[i];
    const k = i === bad_i ? kind : null;
    switch (a) {
      case 'fd':
        if (k === 'negative_fd') args.push(pick(c, [-1, -2, -(2 ** 31)]));
        else if (k === 'closed_fd') args.push(pick(c, [1000, 63, 4095]));
        else if (name === 'mmap') args.push(e.fds.length && draw(c, 2) ? pick(c, e.fds) : -1);
        else if (name === 'openat' && draw(c, 2)) args.push(-100); // AT_FDCWD
        else args.push(e.fds.length ? pick(c, e.fds) : pick(c, [0, 1, 2]));
        break;
      case 'ptr_in': case 'ptr_out':
        if (k) args.push(bad_ptr(e, k));
        else if (name === 'mmap') args.push(0);
        else if (name === 'munmap' || name === 'mprotect' || name === 'msync') args.push(e.spare + pick(c, [0, PAGE]));
        else if (name === 'nanosleep') args.push(a === 'ptr_in' ? e.ro : e.buf);
        else if (a === 'ptr_in' && draw(c, 2)) args.push(e.ro + pick(c, [0, 100]));
        else args.push(e.buf + pick(c, [0, 100, PAGE, 2 * PAGE]));
        break;
      case 'iov_in': case 'iov_out':
        args.push(k ? bad_ptr(e, k) : e.ro + 64);
        break;
      case 'len':
        if (k === 'huge_len') args.push(pick(c, [2 ** 31, 2 ** 40, 2 ** 53 - 1]));
        else args.push(vec ? pick(c, [0, 1, 2]) : pick(c, [0, 1, 100, PAGE, 5000, 2 * PAGE]));
        break;
      case 'off':
        args.push(pick(c, [0, 100, PAGE, 2 ** 32, -1]));
        break;
      case 'flags':
        args.push(k === 'bad_flags' ? pick(c, d.bad_flags?.[fi] ?? [-1]) : pick(c, d.flags?.[fi] ?? [0]));
        fi++;
        break;
      case 'path':
        if (k === 'long_path') {
          u.poke_str(e.area, '/' + 'a'.repeat(5000));
          args.push(e.area);
        } else if (k === 'unterminated_path') args.push(e.area + 2 * PAGE);
        else if (k) args.push(bad_ptr(e, k));
        else {
          const p = yield* u.cstr(pick(c, FUZZ_PATHS));
          args.push(p);
        }
        break;
      case 'pid':
        args.push(pick(c, [-1, 1, 99999, -(2 ** 31)]));
        break;
      case 'int':
        args.push(pick(c, [0, 0o644, -1, 2 ** 31]));
        break;
    }
  }
  cover(c, name, kind ?? 'valid');
  if (name === 'clone') {
    const pid = note(c, 'clone', yield* u.clone(args[0], program(kid(c, 'c'), 3, depth + 1)));
    if (pid > 0) note(c, 'wait4', (yield* u.waitpid(pid))[0]);
    return;
  }
  if (name === 'wait4' && args[0] === -1 && args[2] === 0) args[2] = 1; // WNOHANG: a sibling's fork child is not ours to wait for, but no hangs
  const r = note(c, name, yield* u.syscall(nr, ...args));
  if (name === 'close' && r === 0) {
    const at = e.fds.indexOf(args[0]);
    if (at >= 0) e.fds.splice(at, 1);
  } else if ((name === 'open' || name === 'openat') && r >= 0) e.fds.push(r);
}

/*
 * The defects issue 17 (item 5) found by hand, so the fuzzer would have
 * found them: each case checks Linux's answer, a different one counts as a
 * mismatch. munmap() at a negative start (-EINVAL, not a walk of the
 * kernel half), MAP_FIXED below mmap_min_addr (-EPERM), lseek() on a
 * directory at >= 2^63 (-EINVAL), and a user access to a non-canonical,
 * negative or kernel-half address (SIGSEGV, exit 139, never a BUG).
 */
