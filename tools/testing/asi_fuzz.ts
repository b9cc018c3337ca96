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
 * exits). After each program: no host exception and no BUG, every syscall
 * result a count or a negative errno in Linux's range, the oracle clean,
 * and no page leaked at shutdown. Not yet: a reference model of the file
 * contents, fault injection, shrinking.
 *
 * CLI: npx tsx tools/testing/asi_fuzz.ts [--seed N] [--runs K] [--cmdline "..."]
 * Last line: programs P, syscalls S, faults injected F, oracle checks O,
 * violations V, mismatches M, leaks L.
 */
import { start_kernel } from '../../init/main.ts';
import type { Kernel } from '../../init/main.ts';
import type { Nolibc } from '../include/nolibc.ts';
import { RndState, prandom_u32_below } from '../../lib/prandom.ts';
import { O_RDWR, O_CREAT } from '../../include/uapi/asm-generic/fcntl.ts';
import { MAP_FIXED } from '../../include/uapi/asm-generic/mman-common.ts';
import { asi_oracle, asi_oracle_install, format_asi_violation } from './asi_oracle.ts';

type Sys = Generator<{ nr: number; args: readonly number[] }, number, number>;

const RW = 3;
const ANON = 0x22;
const MAX_ERRNO = 4095;

export interface FuzzStats {
  programs: number;
  syscalls: number;
  faults: number;
  checks: number;
  violations: number;
  mismatches: number;
  leaks: number;
  exceptions: number;
  /** The first failure, as text, with its program number. */
  first: string | null;
  /** Program number (0-based) of the first oracle violation, or -1. */
  first_violation: number;
}

export interface FuzzOpts {
  seed?: number;
  runs?: number;
  cmdline?: string;
  /** Called after each boot, before the program runs (tests set seeded bugs here). */
  setup?: (k: Kernel) => void;
  /** Stop at the first oracle violation. */
  stop_on_violation?: boolean;
}

/* Argument pools: valid-looking and invalid values of each kind. */
const BAD_PTRS = [0, 0x888000000000, 0x800000000000, 2 ** 47 - 4096, 0x1000]; // null, kernel (direct map), non-canonical, top of user, unmapped
const LENS = [0, 1, 100, 4096, 4097, 3 * 4096, 2 ** 31, 2 ** 40];
const OFFS = [0, 1, 4096, 8191, 65536, -1, 2 ** 40];

interface Ctx {
  rnd: RndState;
  stats: FuzzStats;
  /** Results outside [-MAX_ERRNO, huge) in this program. */
  bad: string[];
}

function pick<T>(c: Ctx, a: readonly T[]): T {
  return a[prandom_u32_below(c.rnd, a.length)];
}

function note(c: Ctx, what: string, r: number): number {
  c.stats.syscalls++;
  if (!Number.isInteger(r) || r < -MAX_ERRNO) c.bad.push(`${what} returned ${r}`);
  return r;
}

/* One process's steps; `depth` > 0 for a forked child. */
function program(c: Ctx, steps: number, depth: number) {
  return function* (u: Nolibc): Sys {
    const fds: number[] = [];
    const maps: [number, number][] = [];
    const buf = note(c, 'mmap', yield* u.mmap(0, 4 * 4096, RW, ANON));
    if (buf < 0) return 1;
    u.poke32(buf, 0x5a5a5a5a);
    const ptr = (): number => (prandom_u32_below(c.rnd, 4) === 0 ? pick(c, BAD_PTRS) : buf + prandom_u32_below(c.rnd, 3) * 4096);
    const fd = (): number => (fds.length && prandom_u32_below(c.rnd, 5) ? pick(c, fds) : pick(c, [-1, 1000, 3, 4, 0]));
    for (let s = 0; s < steps; s++) {
      switch (prandom_u32_below(c.rnd, 12)) {
        case 0: {
          const r = note(c, 'open', yield* u.open(`/f${prandom_u32_below(c.rnd, 4)}`, pick(c, [O_RDWR | O_CREAT, O_RDWR, 0o777777]), 0o644));
          if (r >= 0) fds.push(r);
          break;
        }
        case 1: {
          const f = fd();
          if (note(c, 'close', yield* u.close(f)) === 0) fds.splice(fds.indexOf(f), 1);
          break;
        }
        case 2: case 3:
          note(c, 'pread64', yield* u.pread64(fd(), ptr(), pick(c, LENS) % (prandom_u32_below(c.rnd, 2) ? 8192 : 2 ** 41), pick(c, OFFS)));
          break;
        case 4: case 5:
          note(c, 'pwrite64', yield* u.pwrite64(fd(), ptr(), pick(c, LENS) % (prandom_u32_below(c.rnd, 2) ? 8192 : 2 ** 41), pick(c, OFFS)));
          break;
        case 6: {
          const len = pick(c, [4096, 8192, 12288, 5000, 0, 2 ** 40]);
          const fixed = prandom_u32_below(c.rnd, 4) === 0;
          const at = fixed ? pick(c, [0x10000000000, 0x20000000000, 0x400000]) : 0;
          const a = note(c, 'mmap', yield* u.mmap(at, len, RW, ANON | (fixed ? MAP_FIXED : 0)));
          if (a >= 0 && a < 2 ** 47) {
            maps.push([a, len]);
            u.poke32(a, s);
          }
          break;
        }
        case 7: {
          if (maps.length && prandom_u32_below(c.rnd, 4)) {
            const [a, len] = maps.splice(prandom_u32_below(c.rnd, maps.length), 1)[0];
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
          note(c, 'unlink', yield* u.unlink(`/f${prandom_u32_below(c.rnd, 4)}`));
          break;
        case 10: {
          if (depth > 0) break;
          const pid = note(c, 'clone', yield* u.clone(0, program(c, 4, depth + 1)));
          if (pid > 0) {
            const [w] = yield* u.waitpid(pid);
            note(c, 'wait4', w);
          }
          break;
        }
        default:
          if (prandom_u32_below(c.rnd, 2)) u.compute(pick(c, [1000, 100000, 3000000]));
          note(c, 'sched_yield', yield* u.sched_yield());
      }
    }
    return 0;
  };
}

/** Run `runs` programs from `seed`; returns the counts. */
export function asi_fuzz(opts: FuzzOpts = {}): FuzzStats {
  const stats: FuzzStats = {
    programs: 0, syscalls: 0, faults: 0, checks: 0, violations: 0, mismatches: 0, leaks: 0, exceptions: 0,
    first: null, first_violation: -1,
  };
  const rnd = new RndState(opts.seed ?? 1);
  const cmdline = opts.cmdline ?? 'mem=64M cpus=2 asi=on';
  for (let p = 0; p < (opts.runs ?? 100); p++) {
    const c: Ctx = { rnd, stats, bad: [] };
    const fail = (what: string): void => { if (stats.first === null) stats.first = `program ${p}: ${what}`; };
    let k: Kernel | null = null;
    try {
      k = start_kernel(cmdline);
      asi_oracle_install(k, { force: true });
      opts.setup?.(k);
      const nproc = 2 + prandom_u32_below(rnd, 4);
      for (let i = 0; i < nproc; i++) k.spawn(`fz${i}`, program(c, 6 + prandom_u32_below(rnd, 20), 0));
      const r = k.run();
      if (r.reason !== 'done') throw new Error(`run ended: ${r.reason}`);
    } catch (e) {
      stats.exceptions++;
      fail(`host exception: ${(e as Error).message.split('\n')[0]}`);
    }
    stats.programs++;
    stats.checks += asi_oracle.checks;
    if (asi_oracle.nr_violations) {
      stats.violations += asi_oracle.nr_violations;
      if (stats.first_violation < 0) stats.first_violation = p;
      fail(`oracle: ${format_asi_violation(asi_oracle.violations[0])}`);
    }
    if (c.bad.length) {
      stats.mismatches += c.bad.length;
      fail(c.bad[0]);
    }
    if (k) {
      try {
        const leaked = k.shutdown().leaked.length;
        stats.leaks += leaked;
        if (leaked) fail(`${leaked} page(s) leaked`);
      } catch (e) {
        stats.leaks++;
        fail(`shutdown: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    if (opts.stop_on_violation && stats.first_violation >= 0) break;
  }
  return stats;
}

export function format_fuzz_stats(s: FuzzStats): string {
  return `programs ${s.programs}, syscalls ${s.syscalls}, faults injected ${s.faults}, oracle checks ${s.checks}, ` +
    `violations ${s.violations}, mismatches ${s.mismatches}, leaks ${s.leaks}`;
}

function main(argv: readonly string[]): number {
  let seed = 1;
  let runs = 100;
  let cmdline = 'mem=64M cpus=2 asi=on';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seed') seed = Number(argv[++i]);
    else if (a === '--runs') runs = Number(argv[++i]);
    else if (a === '--cmdline') cmdline = argv[++i];
    else {
      process.stderr.write(`asi_fuzz: unknown argument '${a}'\n`);
      return 2;
    }
  }
  const t0 = performance.now();
  const s = asi_fuzz({ seed, runs, cmdline });
  if (s.first) process.stdout.write(`first failure: ${s.first}\n`);
  process.stdout.write(`host time ${((performance.now() - t0) / 1000).toFixed(1)} s, host exceptions ${s.exceptions}\n`);
  process.stdout.write(`${format_fuzz_stats(s)}\n`);
  return s.first ? 1 : 0;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) process.exitCode = main(process.argv.slice(2));
