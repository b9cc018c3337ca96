/*
 * tools/testing/asi_fuzz_ctx.ts - what every part of the fuzzer shares: the
 * counts a campaign keeps, the tape of choices a program records or
 * replays (FuzzDraws), and one spawned program's context with its draw
 * helpers. Split from asi_fuzz.ts; no Linux counterpart (syzkaller's
 * prog/ package plays this role).
 */
import { RndState, prandom_u32_below } from '../../lib/prandom.ts';
import type { SyzKind } from './syz_descs.ts';

export const PAGE = 4096;
export const RW = 3;
export const ANON = 0x22;
export const MAX_ERRNO = 4095;

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
  /** TLB shootdowns sent (vmstat nr_tlb_remote_flush, summed over programs): threads on several CPUs cause them. */
  remote_flushes: number;
  /** Free nonsensitive pageblocks a sensitive allocation took (vmstat asi_pageblock_to_sensitive, summed): pressure reached ASI's direct map shootdown. */
  pageblocks_to_sensitive: number;
  /** The tapes of the program that failed first (asi_fuzz_replay, asi_fuzz_shrink take them). */
  first_tape: FuzzTape | null;
  /** Per syscall name, the invalid kinds issued (and 'valid' for an all-valid call). */
  coverage: Map<string, Set<SyzKind | 'valid'>>;
}


/** A program's choices, one list of draws per spawned program ('top', 'p0', 'p0.t0', 'p0.c1' ...). */
export type FuzzTape = Record<string, number[]>;

/**
 * Where draws come from: recorded from a prandom stream (`rnd` set) or
 * replayed from a tape (a draw past a tape's end is 0, the simplest choice,
 * as Hypothesis's choice sequences shrink). `marks` holds, per key, the
 * positions of the "another step?" draws: the shrinker deletes the spans
 * between them, one step each.
 */
export class FuzzDraws {
  readonly pos = new Map<string, number>();
  readonly marks = new Map<string, number[]>();
  constructor(readonly tape: FuzzTape, readonly rnd: RndState | null) {}
  draw(key: string, n: number, prefer: number | null = null): number {
    const i = this.pos.get(key) ?? 0;
    this.pos.set(key, i + 1);
    if (this.rnd) {
      const v = prefer ?? prandom_u32_below(this.rnd, n);
      (this.tape[key] ??= []).push(v);
      return v;
    }
    const t = this.tape[key];
    return t && i < t.length ? t[i] % n : 0;
  }
  mark(key: string): void {
    const m = this.marks.get(key) ?? [];
    m.push(this.pos.get(key) ?? 0);
    this.marks.set(key, m);
  }
}

/** One spawned program's view: its tape key, and the program-wide counts. */
export interface Ctx {
  d: FuzzDraws;
  key: string;
  /** Threads and children made so far (their keys). */
  kids: number;
  stats: FuzzStats;
  /** Results outside [-MAX_ERRNO, huge) in this program (shared by its processes). */
  bad: string[];
}

export function draw(c: Ctx, n: number): number {
  return c.d.draw(c.key, n);
}

/* A draw whose recorded value the caller may prefer (coverage guidance); a replay reads the tape as for any draw. */
export function choose(c: Ctx, n: number, prefer: number | null): number {
  return c.d.draw(c.key, n, prefer);
}

export function pick<T>(c: Ctx, a: readonly T[]): T {
  return a[draw(c, a.length)];
}

/** The context of a thread ('t') or child ('c') the program at `c` creates: its own tape. */
export function kid(c: Ctx, kind: 't' | 'c'): Ctx {
  return { d: c.d, key: `${c.key}.${kind}${c.kids++}`, kids: 0, stats: c.stats, bad: c.bad };
}

/** "Another step?": a draw the shrinker can delete with the step after it. */
export function more(c: Ctx, s: number, max: number, one_in: number): boolean {
  c.d.mark(c.key);
  return s < max && draw(c, one_in) !== 0;
}

export function note(c: Ctx, what: string, r: number): number {
  c.stats.syscalls++;
  if (!Number.isInteger(r) || r < -MAX_ERRNO) c.bad.push(`${what} returned ${r}`);
  return r;
}

