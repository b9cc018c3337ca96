/*
 * tools/testing/asi_fuzz.ts - a small syzkaller-style fuzzer with the ASI
 * isolation oracle on (a first slice of issue 17's item 3).
 *
 * No Linux counterpart (syzkaller's shape: random programs of syscalls,
 * valid and invalid arguments, several processes on several CPUs, checks
 * after each). Each program boots a fresh kernel (`cmdline`, asi=on by
 * default), spawns 2-5 processes whose steps are drawn from a seeded
 * prandom stream: open/close (fresh and reused names, closed and negative
 * fds), pread/pwrite (bad pointers: 0, kernel, non-canonical, unmapped;
 * huge lengths; negative offsets), mmap/munmap (odd sizes, MAP_FIXED in
 * other PGD slots), ftruncate, unlink, fork with a child that does a few
 * steps, sched_yield and user computation (so slices expire at syscall
 * exits), and calls of any row of the syscall table with arguments drawn
 * from its description in syz_descs.ts (one argument invalid two times in
 * three, half the time a (syscall, kind) pair not issued yet in the run, so
 * 21 programs of seed 1 reach every kind of every row), and the defects item 5
 * found by hand, each checked against Linux's answer, and threads:
 * clone(CLONE_VM|CLONE_THREAD|CLONE_SIGHAND[|CLONE_FS|CLONE_FILES]) or a
 * bare CLONE_VM child sharing the mm, racing munmap/mmap(MAP_FIXED)/
 * mprotect of a shared region against pread/pwrite into it from the other
 * CPU (the shootdown paths, ASI with several CPUs on one mm), and
 * exit_group() from one thread while its siblings run, and memory
 * pressure (asi_fuzz_pressure.ts: page tables built and freed, sensitive
 * fills, a fork child's fill racing its parent's page-table churn; one
 * top-level process in 16 starts with that race, sized for mem=16M to run
 * out of both nonsensitive and sensitive free memory). After each
 * program: no host exception and no BUG, every syscall result a count or
 * a negative errno in Linux's range, the oracle clean, the tmpfs tree
 * equal to the reference model its syscalls fed (asi_fuzz_fs.ts), and no
 * page leaked at shutdown.
 *
 * Every choice a program makes is a draw from a tape, one per spawned
 * program (key 'p0', its threads 'p0.t0', its children 'p0.c1'); a run
 * records the tapes from the seeded prandom stream, a replay reads them
 * back. A failing program is shrunk by editing its tapes (dropping
 * processes, deleting steps, zeroing choices: asi_fuzz_shrink.ts) while it
 * still fails the same way, and printed as a vitest case.
 *
 * CLI: npm run fuzz -- [--seed N] [--runs K] [--cmdline "..."] [--no-shrink]
 *      [--progress N] (the counts so far on stderr every N programs)
 * Last line: programs P, syscalls S, faults injected F, oracle checks O,
 * violations V, mismatches M, leaks L.
 */
import { start_kernel } from '../../init/main.ts';
import type { Kernel } from '../../init/main.ts';
import { WTERMSIG } from '../include/nolibc.ts';
import type { Nolibc } from '../include/nolibc.ts';
import { RndState } from '../../lib/prandom.ts';
import { O_RDWR, O_CREAT, O_DIRECTORY } from '../../include/uapi/asm-generic/fcntl.ts';
import { EINVAL, EPERM } from '../../include/uapi/asm-generic/errno.ts';
import { SIGSEGV } from '../../kernel/signal.ts';
import { MAP_FIXED } from '../../include/uapi/asm-generic/mman-common.ts';
import { fail_page_alloc } from '../../mm/fail_page_alloc.ts';
import { failslab_nr_failed } from '../../mm/failslab.ts';
import { asi_oracle, asi_oracle_install, format_asi_violation } from './asi_oracle.ts';
import { syscall_64_tbl, syscall_64_state } from '../../arch/x86/entry/syscall_64.ts';
import { current } from '../../kernel/sched/core.ts';
import { CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND, CLONE_THREAD } from '../../include/uapi/linux/sched.ts';
import { fs_shadow_install, fs_shadow_compare, type FsShadow } from './asi_fuzz_fs.ts';
import { syz_descs } from './syz_descs.ts';
import { type FuzzStats, type FuzzTape, FuzzDraws, type Ctx, PAGE, RW, ANON, draw, choose, pick, kid, more, note } from './asi_fuzz_ctx.ts';
import { type DescEnv, nr_of, cover, desc_env, desc_step } from './asi_fuzz_desc.ts';
import { pressure_step } from './asi_fuzz_pressure.ts';

export { FuzzDraws, type FuzzStats, type FuzzTape };


type Sys = Generator<{ nr: number; args: readonly number[] }, number, number>;

export interface FuzzOpts {
  seed?: number;
  runs?: number;
  cmdline?: string;
  /** Called after each boot, before the program runs (tests set seeded bugs here). */
  setup?: (k: Kernel) => void;
  /** Stop at the first oracle violation. */
  stop_on_violation?: boolean;
  /** Called every `progress_every` programs with the counts so far (a long campaign's progress). */
  progress?: (s: FuzzStats) => void;
  progress_every?: number;
}

/* Argument pools: valid-looking and invalid values of each kind. */
const BAD_PTRS = [0, 0x888000000000, 0x800000000000, 2 ** 47 - 4096, 0x1000]; // null, kernel (direct map), non-canonical, top of user, unmapped
const LENS = [0, 1, 100, 4096, 4097, 3 * 4096, 2 ** 31, 2 ** 40];
const OFFS = [0, 1, 4096, 8191, 65536, -1, 2 ** 40];

const DEFECT_CASES = ['munmap', 'mmap_fixed_low', 'lseek_dir', 'user_access'];

function* defect_step(c: Ctx, u: Nolibc, depth: number): Generator<{ nr: number; args: readonly number[] }, void, number> {
  const expect = (what: string, r: number, want: number): void => {
    cover(c, `defect:${what.split('(')[0]}`, 'valid');
    if (r !== want) c.bad.push(`${what} returned ${r}, Linux: ${want}`);
  };
  const ncases = depth > 0 ? 3 : 4;
  const todo = DEFECT_CASES.slice(0, ncases).map((n, i) => (c.stats.coverage.has(`defect:${n}`) ? -1 : i)).filter((i) => i >= 0);
  const guided = draw(c, 2) !== 0;
  switch (choose(c, ncases, guided && todo.length ? todo[0] : null)) {
    case 0: {
      const at = pick(c, [-4096, -(2 ** 47), -1, -(2 ** 63)]);
      const len = pick(c, [4096, 2 ** 47]);
      expect(`munmap(${at}, ${len})`, note(c, 'munmap', yield* u.munmap(at, len)), -EINVAL);
      break;
    }
    case 1: {
      const at = pick(c, [0, 0x1000, 0xf000, 0x8000]);
      expect(`mmap_fixed_low(${at})`, note(c, 'mmap', yield* u.mmap(at, 4096, RW, ANON | MAP_FIXED)), -EPERM);
      break;
    }
    case 2: {
      const dir = `/dz${draw(c, 2)}`;
      note(c, 'mkdir', yield* u.mkdir(dir));
      const fd = note(c, 'open', yield* u.open(dir, O_DIRECTORY));
      if (fd < 0) break;
      const off = pick(c, [2 ** 63, 2 ** 64, 2 ** 63 + 2 ** 12]);
      const whence = pick(c, [0, 1]);
      expect(`lseek_dir(${fd}, ${off}, ${whence})`, note(c, 'lseek', yield* u.lseek(fd, off, whence)), -EINVAL);
      note(c, 'close', yield* u.close(fd));
      break;
    }
    default: {
      const addr = pick(c, [2 ** 48 + 4096, -4096, 2 ** 63, 0x800000000000, 0x888000000000]);
      const write = draw(c, 2) === 1;
      const pid = note(c, 'clone', yield* u.clone(0, function* (v: Nolibc) {
        if (write) v.poke32(addr, 1);
        else v.peek32(addr);
        return 0;
      }));
      if (pid <= 0) break;
      const [w, status] = yield* u.waitpid(pid);
      note(c, 'wait4', w);
      if (w !== pid) break; // wait4 itself failed (-ENOMEM under fault injection): no status to check
      expect(`user_access(${addr}, ${write ? 'write' : 'read'}) signal (status ${status})`, WTERMSIG(status), SIGSEGV);
    }
  }
}

/* ---- threads: several CPUs on one mm ---- */

/* pthread_create()'s flags, a thread with its own fd table and fs, and a child sharing only the mm. */
const THREAD_FLAGS = [
  CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD,
  CLONE_VM | CLONE_SIGHAND | CLONE_THREAD,
  CLONE_VM,
];

/*
 * Steps racing on the shared region `sh` (4 pages): the kernel copying
 * into and out of it (pread/pwrite/read/write) on one CPU while another
 * CPU unmaps, remaps or write-protects it (the zap's shootdown IPIs reach
 * the CPU running the sibling), user stores into it (a SIGSEGV takes the
 * whole group), and table-driven calls.
 */
function* race_steps(c: Ctx, u: Nolibc, e: DescEnv, sh: number, mean: number): Generator<{ nr: number; args: readonly number[] }, void, number> {
  const fd = (): number => (e.fds.length && draw(c, 6) ? pick(c, e.fds) : -1);
  for (let s = 0; more(c, s, 4 * mean, mean + 1); s++) {
    const at = sh + draw(c, 4) * PAGE + pick(c, [0, 0, 100]);
    const len = pick(c, [100, PAGE, 2 * PAGE, 5000]);
    switch (draw(c, 10)) {
      case 0: note(c, 'pread64', yield* u.pread64(fd(), at, len, pick(c, [0, 100, PAGE]))); break;
      case 1: note(c, 'pwrite64', yield* u.pwrite64(fd(), at, len, pick(c, [0, 100, PAGE]))); break;
      case 2: note(c, 'read', yield* u.read(fd(), at, len)); break;
      case 3: note(c, 'write', yield* u.write(fd(), at, len)); break;
      case 4: note(c, 'munmap', yield* u.munmap(at - (at % PAGE), pick(c, [PAGE, 2 * PAGE]))); break;
      case 5: note(c, 'mmap', yield* u.mmap(at - (at % PAGE), pick(c, [PAGE, 2 * PAGE]), RW, ANON | MAP_FIXED)); break;
      case 6: note(c, 'mprotect', yield* u.mprotect(at - (at % PAGE), PAGE, pick(c, [1, 3, 3, 0]))); break;
      case 7:
        if (draw(c, 4) === 0) u.poke32(at - (at % 4), s); // the region may be gone: SIGSEGV for the group, as on Linux
        else u.compute(pick(c, [1000, 50000]));
        note(c, 'sched_yield', yield* u.sched_yield());
        break;
      default: yield* desc_step(c, u, e, 1, program);
    }
  }
}

/* A thread (or CLONE_VM child): races, then counts itself done in `done_at`, or ends the group. */
function thread_program(c: Ctx, e: DescEnv, sh: number, done_at: number) {
  return function* (u: Nolibc): Sys {
    yield* race_steps(c, u, e, sh, 4);
    if (draw(c, 6) === 0) {
      cover(c, 'exit_group', 'valid');
      c.stats.syscalls++;
      yield* u.syscall(nr_of('exit_group'), 0); // while the siblings run
    }
    u.poke32(done_at, u.peek32(done_at) + 1);
    return 0;
  };
}

function* threads_step(c: Ctx, u: Nolibc, e: DescEnv, buf: number): Generator<{ nr: number; args: readonly number[] }, void, number> {
  const sh = note(c, 'mmap', yield* u.mmap(0, 4 * PAGE, RW, ANON));
  if (sh < 0) return;
  const f = note(c, 'open', yield* u.open(`/f${draw(c, 4)}`, O_RDWR | O_CREAT, 0o644)); // a file the threads share
  if (f >= 0) e.fds.push(f);
  u.poke32(sh, 1);
  u.poke32(sh + 2 * PAGE, 2);
  const flags = pick(c, THREAD_FLAGS);
  const done_at = buf + 8;
  u.poke32(done_at, 0);
  const kids: number[] = [];
  for (let i = 0, n = 1 + draw(c, 3); i < n; i++) {
    const te = flags & CLONE_FILES ? e : { ...e, fds: [...e.fds] };
    const tid = note(c, 'clone', yield* u.clone(flags, thread_program(kid(c, 't'), te, sh, done_at)));
    cover(c, `clone:${flags & CLONE_THREAD ? (flags & CLONE_FILES ? 'thread' : 'thread_own_files') : 'vm'}`, 'valid');
    if (tid > 0) kids.push(tid);
  }
  yield* race_steps(c, u, e, sh, 3);
  if (draw(c, 6) === 0) {
    cover(c, 'exit_group', 'valid');
    c.stats.syscalls++;
    yield* u.syscall(nr_of('exit_group'), 0); // while the threads run on the other CPUs
    return;
  }
  if (!(flags & CLONE_THREAD)) {
    for (const pid of kids) note(c, 'wait4', (yield* u.waitpid(pid))[0]);
    return;
  }
  /* Threads are not waited for (no futex here): poll the count, bounded; main's return ends the group anyway. */
  for (let i = 0; i < 400 && u.peek32(done_at) < kids.length; i++) note(c, 'sched_yield', yield* u.sched_yield());
}

/* One process's steps (about `mean` of them); `depth` > 0 for a forked child. */
function program(c: Ctx, mean: number, depth: number) {
  return function* (u: Nolibc): Sys {
    const fds: number[] = [];
    const maps: [number, number][] = [];
    const buf = note(c, 'mmap', yield* u.mmap(0, 4 * 4096, RW, ANON));
    if (buf < 0) return 1;
    u.poke32(buf, 0x5a5a5a5a);
    const env = yield* desc_env(c, u, buf, fds);
    if (env === null) return 1;
    /* A pressure phase first, one process in 16: big page-table churn raced against a sensitive fill. */
    if (depth === 0 && draw(c, 16) === 15) yield* pressure_step(c, u, fds, depth, true);
    if (draw(c, 2)) { // a file to work on from the start: most steps then reach the page cache (and the fs model)
      const r = note(c, 'open', yield* u.open(`/f${draw(c, 4)}`, O_RDWR | O_CREAT, 0o644));
      if (r >= 0) fds.push(r);
    }
    const ptr = (): number => (draw(c, 4) === 0 ? pick(c, BAD_PTRS) : buf + draw(c, 3) * 4096);
    const fd = (): number => (fds.length && draw(c, 5) ? pick(c, fds) : pick(c, [-1, 1000, 3, 4, 0]));
    for (let s = 0; more(c, s, 4 * mean, mean + 1); s++) {
      switch (draw(c, 16)) {
        case 0: {
          const r = note(c, 'open', yield* u.open(`/f${draw(c, 4)}`, pick(c, [O_RDWR | O_CREAT, O_RDWR, 0o777777]), 0o644));
          if (r >= 0) fds.push(r);
          break;
        }
        case 1: {
          const f = fd();
          if (note(c, 'close', yield* u.close(f)) === 0) fds.splice(fds.indexOf(f), 1);
          break;
        }
        case 2: case 3:
          note(c, 'pread64', yield* u.pread64(fd(), ptr(), pick(c, LENS) % (draw(c, 2) ? 8192 : 2 ** 41), pick(c, OFFS)));
          break;
        case 4: case 5:
          note(c, 'pwrite64', yield* u.pwrite64(fd(), ptr(), pick(c, LENS) % (draw(c, 2) ? 8192 : 2 ** 41), pick(c, OFFS)));
          break;
        case 6: {
          const len = pick(c, [4096, 8192, 12288, 5000, 0, 2 ** 40]);
          const fixed = draw(c, 4) === 0;
          const at = fixed ? pick(c, [0x10000000000, 0x20000000000, 0x400000]) : 0;
          const a = note(c, 'mmap', yield* u.mmap(at, len, RW, ANON | (fixed ? MAP_FIXED : 0)));
          if (a >= 0 && a < 2 ** 47) {
            maps.push([a, len]);
            u.poke32(a, s);
          }
          break;
        }
        case 7: {
          if (maps.length && draw(c, 4)) {
            const [a, len] = maps.splice(draw(c, maps.length), 1)[0];
            note(c, 'munmap', yield* u.munmap(a, len));
          } else {
            note(c, 'munmap', yield* u.munmap(pick(c, BAD_PTRS), pick(c, [0, 4096, 4097])));
          }
          break;
        }
        case 8:
          note(c, 'ftruncate', yield* u.ftruncate(fd(), pick(c, [0, 100, 4096, 3 * 4096, -1])));
          break;
        case 9:
          note(c, 'unlink', yield* u.unlink(`/f${draw(c, 4)}`));
          break;
        case 10: {
          if (depth > 0) break;
          const pid = note(c, 'clone', yield* u.clone(0, program(kid(c, 'c'), 4, depth + 1)));
          if (pid > 0) {
            const [w] = yield* u.waitpid(pid);
            note(c, 'wait4', w);
          }
          break;
        }
        case 11: case 12: case 13:
          if (draw(c, 8)) yield* desc_step(c, u, env, depth, program);
          else yield* defect_step(c, u, depth);
          break;
        case 14:
          if (depth === 0) yield* threads_step(c, u, env, buf);
          break;
        default:
          if (draw(c, 8) === 7) { // (a replay past the tape's end, the shrinker's zero, takes the plain step)
            yield* pressure_step(c, u, fds, depth);
            break;
          }
          if (draw(c, 2)) u.compute(pick(c, [1000, 100000, 3000000]));
          note(c, 'sched_yield', yield* u.sched_yield());
      }
    }
    /* The table's exit rows end some programs (the code is any int; exit_group takes any threads left). */
    const how = draw(c, 4);
    if (how < 3) {
      const name = how === 0 ? 'exit' : how === 1 ? 'exit_group' : 'rt_sigreturn';
      cover(c, name, 'valid');
      c.stats.syscalls++;
      if (name === 'rt_sigreturn') yield* u.syscall(nr_of(name)); // no frame: SIGSEGV ends the program
      else yield* u.syscall(nr_of(name), pick(c, [0, 1, 255, 256, -1, 2 ** 31]));
    }
    return 0;
  };
}

/** What one program did. */
export interface ProgramResult {
  /** The first failure, or null. */
  failure: string | null;
  /** Oracle violations (stop_on_violation and the shrinker read it). */
  violations: number;
  /** Syscalls issued (the reproducer's size). */
  syscalls: number;
}

export interface ProgramOpts {
  setup?: (k: Kernel) => void;
  /** Called with each syscall the program issues, in execution order (the reproducer's trace). */
  trace?: (line: string) => void;
}

/* Every slot of the boot's table logs `pid name(args) = ret` (the reproducer's comment). */
function trace_syscalls(out: (line: string) => void): void {
  const table = syscall_64_state.sys_call_table;
  for (const [nr, name] of syscall_64_tbl) {
    const real = table[nr];
    table[nr] = (a) => {
      const pid = current().pid;
      const args = syz_descs[name]?.args.length ?? a.length;
      const ret = real(a);
      out(`pid ${pid} ${name}(${a.slice(0, args).join(', ')}) = ${ret}`);
      return ret;
    };
  }
}

/**
 * Boot `cmdline`, run one program drawn from `d`, check it; counts go into
 * `stats` (a fresh one when replaying). `p` numbers the program in reports.
 */
export function run_program(cmdline: string, d: FuzzDraws, stats: FuzzStats, opts: ProgramOpts = {}, p = 0): ProgramResult {
  const c: Ctx = { d, key: 'top', kids: 0, stats, bad: [] };
  const syscalls0 = stats.syscalls;
  let first: string | null = null;
  const fail = (what: string): void => {
    if (first === null) first = what;
    if (stats.first === null) stats.first = `program ${p}: ${what}`;
  };
  let k: Kernel | null = null;
  let violations = 0;
  let ran = false;
  let fsm: FsShadow | null = null;
  /* Each program boots with its own seed= (unless the command line fixes one): fault injection's decisions differ from program to program. */
  const seed = d.draw('seed', 2 ** 30);
  try {
    k = start_kernel(/(^|\s)seed=/.test(cmdline) ? cmdline : `${cmdline} seed=${seed}`);
    asi_oracle_install(k, { force: true });
    opts.setup?.(k); // before the fs model's wrappers: a stub a test puts in a slot is the kernel the model checks
    fsm = fs_shadow_install(k);
    if (opts.trace) trace_syscalls(opts.trace);
    for (let i = 0, n = 1 + draw(c, 5); i < n; i++) {
      // kernel_clone() may fail like fork() under fault injection: that process is simply not there.
      try {
        k.spawn(`fz${i}`, program({ d, key: `p${i}`, kids: 0, stats, bad: c.bad }, 15, 0));
      } catch (e) {
        if (!/^spawn\(fz\d+\): -12$/.test((e as Error).message)) throw e;
      }
    }
    const r = k.run();
    if (r.reason !== 'done') throw new Error(`run ended: ${r.reason}`);
    ran = true;
  } catch (e) {
    stats.exceptions++;
    fail(`host exception: ${(e as Error).message.split('\n')[0]}`);
  }
  stats.programs++;
  stats.checks += asi_oracle.checks;
  if (k) stats.faults += fail_page_alloc.nr_failed + failslab_nr_failed(); // --cmdline "fail_page_alloc=... failslab=..."

  if (asi_oracle.nr_violations) {
    violations = asi_oracle.nr_violations;
    stats.violations += violations;
    if (stats.first_violation < 0) stats.first_violation = p;
    fail(`oracle: ${format_asi_violation(asi_oracle.violations[0])}`);
  }
  if (k && fsm && ran) c.bad.push(...fsm.bad, ...fs_shadow_compare(k, fsm));
  if (c.bad.length) {
    stats.mismatches += c.bad.length;
    fail(c.bad[0]);
  }
  if (k) {
    try {
      const vm = k.vmstat();
      stats.remote_flushes += vm.nr_tlb_remote_flush ?? 0;
      stats.pageblocks_to_sensitive += vm.asi_pageblock_to_sensitive ?? 0;
      const leaked = k.shutdown().leaked.length;
      stats.leaks += leaked;
      if (leaked) fail(`${leaked} page(s) leaked`);
    } catch (e) {
      stats.leaks++;
      fail(`shutdown: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return { failure: first, violations, syscalls: stats.syscalls - syscalls0 };
}

export function new_fuzz_stats(): FuzzStats {
  return {
    programs: 0, syscalls: 0, faults: 0, checks: 0, violations: 0, mismatches: 0, leaks: 0, exceptions: 0,
    remote_flushes: 0, pageblocks_to_sensitive: 0, first: null, first_violation: -1, first_tape: null, coverage: new Map(),
  };
}

/** Run `runs` programs from `seed`; returns the counts. */
export function asi_fuzz(opts: FuzzOpts = {}): FuzzStats {
  const stats = new_fuzz_stats();
  const rnd = new RndState(opts.seed ?? 1);
  const cmdline = opts.cmdline ?? 'mem=64M cpus=2 asi=on';
  for (let p = 0; p < (opts.runs ?? 100); p++) {
    const tape: FuzzTape = {};
    const r = run_program(cmdline, new FuzzDraws(tape, rnd), stats, { setup: opts.setup }, p);
    if (r.failure !== null && stats.first_tape === null) stats.first_tape = tape;
    if (opts.stop_on_violation && stats.first_violation >= 0) break;
    if (opts.progress && (p + 1) % (opts.progress_every ?? 1000) === 0) opts.progress(stats);
  }
  return stats;
}

/** Replay one program from its tape (a reproducer's body). */
export function asi_fuzz_replay(cmdline: string, tape: FuzzTape, opts: ProgramOpts = {}): ProgramResult {
  return run_program(cmdline, new FuzzDraws(tape, null), new_fuzz_stats(), opts);
}

export function format_fuzz_stats(s: FuzzStats): string {
  return `programs ${s.programs}, syscalls ${s.syscalls}, faults injected ${s.faults}, oracle checks ${s.checks}, ` +
    `violations ${s.violations}, mismatches ${s.mismatches}, leaks ${s.leaks}`;
}

async function main(argv: readonly string[]): Promise<number> {
  let seed = 1;
  let runs = 100;
  let cmdline = 'mem=64M cpus=2 asi=on';
  let shrink = true;
  let progress = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-shrink') shrink = false;
    else if (a === '--progress') progress = Number(argv[++i]);
    else if (a === '--seed') seed = Number(argv[++i]);
    else if (a === '--runs') runs = Number(argv[++i]);
    else if (a === '--cmdline') cmdline = argv[++i];
    else {
      process.stderr.write(`asi_fuzz: unknown argument '${a}'\n`);
      return 2;
    }
  }
  const t0 = performance.now();
  const s = asi_fuzz({
    seed, runs, cmdline, progress_every: progress,
    progress: progress ? (st) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${format_fuzz_stats(st)}\n`) : undefined,
  });
  if (s.first) process.stdout.write(`first failure: ${s.first}\n`);
  process.stdout.write(`host time ${((performance.now() - t0) / 1000).toFixed(1)} s, host exceptions ${s.exceptions}\n`);
  if (s.first && s.first_tape && shrink) {
    // Loaded here: asi_fuzz_shrink.ts imports this file (no import cycle at load time).
    const { asi_fuzz_shrink, format_fuzz_repro } = await import('./asi_fuzz_shrink.ts');
    const r = asi_fuzz_shrink(cmdline, s.first_tape);
    const trace: string[] = [];
    asi_fuzz_replay(cmdline, r.tape, { trace: (l) => trace.push(l) });
    process.stdout.write(`shrunk reproducer (a vitest case):\n${format_fuzz_repro(cmdline, r, trace, `seed ${seed}, ${s.first.split(':')[0]}`)}`);
  }
  process.stdout.write(`${format_fuzz_stats(s)}\n`);
  return s.first ? 1 : 0;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) void main(process.argv.slice(2)).then((rc) => { process.exitCode = rc; });
