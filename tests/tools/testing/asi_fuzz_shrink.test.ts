/*
 * tests/tools/testing/asi_fuzz_shrink.test.ts - a failing fuzz program
 * shrinks to a small reproducer that still fails the same way (KUnit-style
 * suite asi_fuzz_shrink). The failure is a seeded bug: ephmap_put()
 * without its flush, which the oracle reports.
 */
import { describe, it, expect } from 'vitest';
import { asi_fuzz, asi_fuzz_replay } from '../../../tools/testing/asi_fuzz.ts';
import { asi_fuzz_shrink, failure_class, format_fuzz_repro, tidy_tape } from '../../../tools/testing/asi_fuzz_shrink.ts';
import { ephmap_state } from '../../../mm/ephmap.ts';

const CMDLINE = 'mem=64M cpus=2 asi=on';
const skip_put_flush = (): void => { ephmap_state.test_skip_put_flush = true; };

describe('asi_fuzz_shrink', () => {
  it('seed 1 with ephmap_put() unflushed: the first failing program shrinks to a small one that still fails the same way', () => {
    const s = asi_fuzz({ seed: 1, runs: 10, stop_on_violation: true, setup: skip_put_flush });
    expect(s.first_tape).not.toBe(null);
    // A budget of 30 replays keeps the test a few seconds long; the CLI spends up to 400.
    const r = asi_fuzz_shrink(CMDLINE, s.first_tape!, { setup: skip_put_flush, max_runs: 30 });
    expect(r.runs).toBeLessThanOrEqual(30);
    expect(r.syscalls).toBeLessThanOrEqual(60);
    expect(r.syscalls).toBeLessThan(r.original_syscalls);
    expect(failure_class(r.failure)).toBe(failure_class(s.first!));
    expect(failure_class(r.failure)).toMatch(/^oracle: cpu #: ephmap slot translation outlived its put/);

    // The reproducer, as printed: its tape replays to the same failure, and the real kernel passes it.
    const trace: string[] = [];
    const again = asi_fuzz_replay(CMDLINE, r.tape, { setup: skip_put_flush, trace: (l) => trace.push(l) });
    expect(again.failure && failure_class(again.failure)).toBe(failure_class(r.failure));
    const text = format_fuzz_repro(CMDLINE, r, trace, 'seed 1 program 0', {
      src: '() => { ephmap_state.test_skip_put_flush = true; }',
      imports: ["import { ephmap_state } from '../../../mm/ephmap.ts';"],
    });
    expect(text).toMatch(/describe\('asi_fuzz_repro'/);
    expect(trace.length).toBeLessThanOrEqual(r.syscalls + 10); // the trace adds the few calls the count leaves out (cstr, polls)
    const tape = JSON.parse(/const tape = (.*);/.exec(text)![1]) as Record<string, number[]>;
    expect(tape).toEqual(r.tape);
    expect(asi_fuzz_replay(CMDLINE, tape, { setup: skip_put_flush }).failure).not.toBe(null);
    expect(asi_fuzz_replay(CMDLINE, tape).failure).toBe(null);
  }, 120_000);

  it('failure_class ignores the numbers, tidy_tape drops zeros a replay reads anyway', () => {
    expect(failure_class('program 3: oracle: cpu 1: va 880040200000 -> pfn 1605')).toBe(failure_class('program 0: oracle: cpu 0: va 880040000000 -> pfn 12'));
    expect(failure_class('fs: /f0 size 8192, model 12288')).not.toBe(failure_class('fs: /f0 byte 3 is 0, model 1'));
    expect(tidy_tape({ top: [0, 0], p0: [1, 0, 2, 0, 0], p1: [] })).toEqual({ p0: [1, 0, 2] });
  });
});
