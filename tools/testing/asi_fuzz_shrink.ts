/*
 * tools/testing/asi_fuzz_shrink.ts - shrink a failing fuzz program to a
 * small reproducer and print it as a vitest case.
 *
 * No Linux counterpart (syzkaller's prog/minimization.go plays this role:
 * drop calls, simplify arguments, keep what still crashes). A program is
 * its tapes (asi_fuzz.ts: one list of choices per spawned program, a
 * choice past a tape's end being 0, the simplest), so shrinking edits
 * tapes, Hypothesis-style, and keeps an edit when the replay still fails
 * the same way (failure_class(): the same oracle complaint, the same
 * mismatch, the same exception, whatever the numbers in it):
 *   1. drop a whole process (and its threads and children);
 *   2. delete steps: the spans between "another step?" draws, first the
 *      longest tail that can go (bisection), then one at a time;
 *   3. zero one choice (the first value of each pick, the shortest length,
 *      the first syscall of a table, fewer threads ...).
 * Repeated until a round changes nothing or the run budget is spent; every
 * replay boots a fresh kernel, so a round costs one small run per edit.
 */
import type { Kernel } from '../../init/main.ts';
import { FuzzDraws, new_fuzz_stats, run_program, type FuzzTape, type ProgramResult } from './asi_fuzz.ts';

export interface ShrinkOpts {
  setup?: (k: Kernel) => void;
  /** Replays allowed (each boots a kernel); 400 by default. */
  max_runs?: number;
}

export interface ShrinkResult {
  tape: FuzzTape;
  /** The shrunk program's failure (same class as the original's). */
  failure: string;
  /** Syscalls the shrunk program issues, and the original. */
  syscalls: number;
  original_syscalls: number;
  /** Replays spent. */
  runs: number;
}

/** The kind of a failure: its first 64 characters with every number as # (addresses, pids and counts vary as a program shrinks). */
export function failure_class(s: string): string {
  return s.replace(/^program \d+: /, '').replace(/-?\b[\da-f]*\d[\da-f]*\b/g, '#').slice(0, 64);
}

function copy(t: FuzzTape): FuzzTape {
  const out: FuzzTape = {};
  for (const [k, v] of Object.entries(t)) out[k] = [...v];
  return out;
}

/** The tapes with process `i` of `n` gone: the later ones move down a slot. */
function drop_proc(t: FuzzTape, i: number, n: number): FuzzTape {
  const out: FuzzTape = { top: [n - 2] };
  for (const [k, v] of Object.entries(t)) {
    const m = /^p(\d+)(\..*)?$/.exec(k);
    if (!m) {
      if (k !== 'top') out[k] = [...v]; // the boot's seed
      continue;
    }
    const j = Number(m[1]);
    if (j === i) continue;
    out[`p${j > i ? j - 1 : j}${m[2] ?? ''}`] = [...v];
  }
  return out;
}

/**
 * Drop what a replay never reads: tapes of programs that were not spawned,
 * draws past those a program made (`d`, the replay's draws), and trailing
 * zeros (a replay reads 0 past the end anyway).
 */
export function tidy_tape(t: FuzzTape, d?: FuzzDraws): FuzzTape {
  const out: FuzzTape = {};
  for (const k of Object.keys(t).sort()) {
    const v = t[k].slice(0, d ? d.pos.get(k) ?? 0 : undefined);
    while (v.length && v[v.length - 1] === 0) v.pop();
    if (v.length) out[k] = v;
  }
  return out;
}

/** Shrink the failing program `tape` (run on `cmdline`); throws if it does not fail. */
export function asi_fuzz_shrink(cmdline: string, tape: FuzzTape, opts: ShrinkOpts = {}): ShrinkResult {
  const max_runs = opts.max_runs ?? 400;
  let runs = 0;
  const replay = (t: FuzzTape): [ProgramResult, FuzzDraws] => {
    runs++;
    const d = new FuzzDraws(copy(t), null);
    return [run_program(cmdline, d, new_fuzz_stats(), { setup: opts.setup }), d];
  };
  let [r, d] = replay(tape);
  if (r.failure === null) throw new Error('asi_fuzz_shrink: the program does not fail');
  const want = failure_class(r.failure);
  const original_syscalls = r.syscalls;
  let best = tidy_tape(d.tape, d);
  let best_r = r;
  let best_d = d;
  /* Keep `cand` if it still fails the same way and is no bigger. */
  const attempt = (cand: FuzzTape): boolean => {
    if (runs >= max_runs) return false;
    const [cr, cd] = replay(cand);
    if (cr.failure === null || failure_class(cr.failure) !== want || cr.syscalls > best_r.syscalls) return false;
    [best, best_r, best_d] = [tidy_tape(cd.tape, cd), cr, cd];
    return true;
  };

  for (let changed = true; changed && runs < max_runs;) {
    changed = false;
    /* 1. fewer processes */
    for (let n = (best.top?.[0] ?? 0) % 5 + 1, i = n - 1; n > 1 && i >= 0; i--) {
      if (attempt(drop_proc(best, i, n))) { changed = true; n--; }
    }
    /* 2a. the shortest failing prefix of each tape's steps (bisection: log2(steps) replays) */
    for (const key of Object.keys(best).sort()) {
      const m = best_d.marks.get(key);
      if (!m || m.length < 3) continue;
      let [lo, hi] = [0, m.length - 1]; // deleting steps hi.. (from mark hi to the last mark) is known to still fail
      while (lo < hi && runs < max_runs) {
        const mid = (lo + hi) >> 1;
        const cand = copy(best);
        cand[key].splice(m[mid], m[m.length - 1] - m[mid]);
        if (attempt(cand)) { changed = true; break; } // marks moved: the next round bisects again
        lo = mid + 1;
      }
    }
    /* 2b. one step fewer, the last steps first (marks move after each success: re-read them) */
    for (const key of Object.keys(best).sort()) {
      for (let j = (best_d.marks.get(key)?.length ?? 0) - 2; j >= 0 && runs < max_runs; j--) {
        const m = best_d.marks.get(key);
        if (!m || j + 1 >= m.length) continue;
        const cand = copy(best);
        const t = cand[key];
        if (!t || m[j] >= t.length) continue;
        t.splice(m[j], m[j + 1] - m[j]);
        if (attempt(cand)) changed = true;
      }
    }
    /* 3. simpler choices */
    for (const key of Object.keys(best).sort()) {
      for (let i = 0; i < (best[key]?.length ?? 0) && runs < max_runs; i++) {
        if (!best[key][i]) continue;
        const cand = copy(best);
        cand[key][i] = 0;
        if (attempt(cand)) changed = true;
      }
    }
  }
  return { tape: best, failure: best_r.failure!, syscalls: best_r.syscalls, original_syscalls, runs };
}

/**
 * The reproducer as a vitest file: a replay of the shrunk tapes that
 * expects no failure (so it fails until the bug is fixed), with the
 * program's syscalls, in execution order, as its comment.
 */
export function format_fuzz_repro(cmdline: string, s: ShrinkResult, trace: readonly string[], title: string,
  setup?: { src: string; imports: readonly string[] }): string {
  const lines = [
    `/*`,
    ` * ${title}, shrunk from ${s.original_syscalls} to ${s.syscalls} syscalls in ${s.runs} replays.`,
    ` * Fails with: ${s.failure}`,
    ` * The program (pid syscall(args) = result, in execution order):`,
    ...trace.map((l) => ` *   ${l}`),
    ` */`,
    `import { describe, it, expect } from 'vitest';`,
    `import { asi_fuzz_replay } from '../../../tools/testing/asi_fuzz.ts';`,
    ...(setup?.imports ?? []),
    ``,
    `describe('asi_fuzz_repro', () => {`,
    `  it(${JSON.stringify(`${title}: ${failure_class(s.failure)}`)}, () => {`,
    `    const tape = ${JSON.stringify(s.tape)};`,
    `    const r = asi_fuzz_replay(${JSON.stringify(cmdline)}, tape${setup ? `, { setup: ${setup.src} }` : ''});`,
    `    expect(r.failure).toBe(null);`,
    `  });`,
    `});`,
  ];
  return lines.join('\n') + '\n';
}
