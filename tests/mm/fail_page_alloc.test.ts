/*
 * tests/mm/fail_page_alloc.test.ts - page allocator fault injection.
 *
 * Mirrors what Documentation/fault-injection/fault-injection.rst promises
 * for fail_page_alloc: which allocations the knobs select (interval,
 * probability, space, times, ignore-gfp-wait, ignore-gfp-highmem, min-order,
 * __GFP_NOFAIL), the FAULT_INJECTION report, determinism per seed=, and no
 * leaks: a failed allocation takes nothing.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import '../../init/params_owners.ts';
import { boot_mm } from './page_alloc_boot.ts';
import { alloc_pages, __free_pages, page_alloc_shutdown } from '../../mm/page_alloc.ts';
import {
  GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, __GFP_NOFAIL, __GFP_HIGHMEM, __GFP_NOWARN, __GFP_DIRECT_RECLAIM, type gfp_t,
} from '../../mm/gfp.ts';
import { fail_page_alloc } from '../../mm/fail_page_alloc.ts';
import { RndState, prandom_u32_below } from '../../lib/prandom.ts';
import { dmesg } from '../../kernel/printk.ts';
import { parse_kernel_params, format_cmdline, ParamError } from '../../kernel/params.ts';

const ALL = 'fail_page_alloc_ignore_gfp_wait=0 fail_page_alloc_min_order=0';

/** Run allocations, free the ones that worked; returns which failed ('x') or worked ('.'). */
function pattern(reqs: readonly [gfp_t, number][]): string {
  const got: [number, number][] = [];
  let s = '';
  for (const [gfp, order] of reqs) {
    const p = alloc_pages(gfp, order);
    s += p === null ? 'x' : '.';
    if (p !== null) got.push([p, order]);
  }
  for (const [p, o] of got) __free_pages(p, o);
  return s;
}

const repeat = <T>(n: number, v: T): T[] => Array.from({ length: n }, () => v);

describe('mm_fail_page_alloc', () => {
  it('with Linux defaults, fails only atomic allocations of order >= 1, never __GFP_NOFAIL or highmem', () => {
    boot_mm({ cmdline: 'fail_page_alloc=1,100,0,-1' });
    expect(pattern([
      [GFP_KERNEL, 1],                    // may reclaim: ignore-gfp-wait
      [GFP_ATOMIC, 0],                    // below min-order 1
      [GFP_ATOMIC, 1],
      [GFP_NOWAIT, 3],
      [GFP_ATOMIC | __GFP_NOFAIL, 2],
      [GFP_ATOMIC | __GFP_HIGHMEM, 2],    // ignore-gfp-highmem
      [GFP_ATOMIC, 10],
    ])).toBe('..xx..x');
    expect(fail_page_alloc.nr_failed).toBe(3);
    expect(dmesg()).toMatch(/FAULT_INJECTION: forcing a failure\.\nname fail_page_alloc, interval 1, probability 100, space 0, times -1/);
    expect(dmesg()).not.toMatch(/page allocation failure/);   // injected failures are not warn_alloc'ed
    expect(page_alloc_shutdown()).toMatchObject({ leaked: [], fully_merged: true });
  });

  it('is off without fail_page_alloc=', () => {
    boot_mm({ cmdline: ALL });
    expect(pattern(repeat(20, [GFP_ATOMIC, 1] as [gfp_t, number]))).toBe('.'.repeat(20));
  });

  it('interval N fails every Nth eligible call', () => {
    boot_mm({ cmdline: `fail_page_alloc=3,100,0,-1 ${ALL}` });
    expect(pattern(repeat(12, [GFP_KERNEL, 0] as [gfp_t, number]))).toBe('..x..x..x..x');
  });

  it('times limits the failures; calls the knobs exclude do not use them up', () => {
    boot_mm({ cmdline: 'fail_page_alloc=1,100,0,2' });
    expect(pattern([[GFP_KERNEL, 1], [GFP_ATOMIC, 0], [GFP_ATOMIC, 1], [GFP_KERNEL, 2], [GFP_ATOMIC, 2],
      [GFP_ATOMIC, 1], [GFP_ATOMIC, 3]])).toBe('..x.x..');
    expect(fail_page_alloc.attr.times).toBe(0);
  });

  it('space lets the first pages through (1 << order per call) before failing', () => {
    boot_mm({ cmdline: `fail_page_alloc=1,100,10,-1 ${ALL}` });
    // order-1 calls take 2 units each: 10 -> 8 -> 6 -> 4 -> 2, then 2 > 2 fails.
    expect(pattern(repeat(7, [GFP_KERNEL, 1] as [gfp_t, number]))).toBe('....xxx');
    boot_mm({ cmdline: `fail_page_alloc=1,100,10,-1 ${ALL}` });
    expect(pattern([[GFP_KERNEL, 3], [GFP_KERNEL, 3], [GFP_KERNEL, 0], [GFP_KERNEL, 0]])).toBe('.x.x');
  });

  it('probability below 100 fails the calls the seeded PRNG picks, the same on every run', () => {
    const run = (seed: number): string => {
      boot_mm({ mem: 32 << 20, cmdline: `fail_page_alloc=1,30,0,-1 ${ALL} seed=${seed}` });
      return pattern(repeat(200, [GFP_KERNEL, 0] as [gfp_t, number]));
    };
    const a = run(5);
    expect(run(5)).toBe(a);
    expect(run(6)).not.toBe(a);
    // Exactly get_random_u32_below(100) < probability, one draw per call that got that far.
    const rnd = new RndState(5);
    let ref = '';
    for (let i = 0; i < 200; i++) ref += prandom_u32_below(rnd, 100) < 30 ? 'x' : '.';
    expect(a).toBe(ref);
    const n = [...a].filter((c) => c === 'x').length;
    expect(n).toBeGreaterThan(35);
    expect(n).toBeLessThan(85);
  });

  it('prints nothing under __GFP_NOWARN or with verbose 0', () => {
    boot_mm({ cmdline: `fail_page_alloc=1,100,0,-1 ${ALL}` });
    expect(pattern([[GFP_KERNEL | __GFP_NOWARN, 0]])).toBe('x');
    expect(dmesg()).not.toMatch(/FAULT_INJECTION/);
    boot_mm({ cmdline: `fail_page_alloc=1,100,0,-1 ${ALL} fail_page_alloc_verbose=0` });
    expect(pattern([[GFP_KERNEL, 0]])).toBe('x');
    expect(dmesg()).not.toMatch(/FAULT_INJECTION/);
  });

  it('rate-limits the report to 10 per 5 s of CPU clock', () => {
    boot_mm({ cmdline: `fail_page_alloc=1,100,0,-1 ${ALL}` });
    pattern(repeat(15, [GFP_KERNEL, 0] as [gfp_t, number]));
    expect(dmesg().match(/FAULT_INJECTION/g)?.length).toBe(10);
  });

  it('takes its knobs as boot parameters (debugfs spelling too) and refuses bad ones', () => {
    const p = parse_kernel_params('fail_page_alloc=2,50,0,-1 fail_page_alloc_ignore-gfp-wait=0 fail-page-alloc-min-order=3',
      { host_totalmem: 2 ** 36 });
    expect([p.fail_page_alloc_ignore_gfp_wait, p.fail_page_alloc_ignore_gfp_highmem, p.fail_page_alloc_min_order,
      p.fail_page_alloc_verbose]).toEqual([false, true, 3, 2]);
    expect(format_cmdline(p)).toMatch(/fail_page_alloc_ignore_gfp_wait=0 fail_page_alloc_min_order=3/);
    expect(() => parse_kernel_params('fail_page_alloc_min_order=12')).toThrow(ParamError);
    expect(() => parse_kernel_params('fail_page_alloc_ignore_gfp_highmem=yes')).toThrow(/fail_page_alloc_ignore_gfp_highmem/);
  });

  it('agrees with a reference should_fail_ex over random settings and calls, and leaks nothing', () => {
    const req = fc.tuple(fc.constantFrom(GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_KERNEL | __GFP_NOFAIL, GFP_ATOMIC | __GFP_HIGHMEM),
      fc.integer({ min: 0, max: 4 }));
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 4 }), fc.constantFrom(0, 10, 50, 100), fc.integer({ min: 0, max: 24 }),
      fc.integer({ min: -1, max: 4 }), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 2 }), fc.nat(1000),
      fc.array(req, { maxLength: 40 }),
      (interval, probability, space, times, wait, highmem, min_order, seed, reqs) => {
        boot_mm({ mem: 32 << 20, cmdline: `fail_page_alloc=${interval},${probability},${space},${times} ` +
          `fail_page_alloc_ignore_gfp_wait=${+wait} fail_page_alloc_ignore_gfp_highmem=${+highmem} ` +
          `fail_page_alloc_min_order=${min_order} seed=${seed}` });
        // lib/fault-inject.c should_fail_ex, restated.
        const rnd = new RndState(seed);
        let sp = space;
        let t = times;
        let count = 0;
        let ref = '';
        for (const [gfp, order] of reqs) {
          let fail = !(order < min_order || gfp & __GFP_NOFAIL || (highmem && gfp & __GFP_HIGHMEM) ||
            (wait && gfp & __GFP_DIRECT_RECLAIM) || probability === 0 || t === 0);
          if (fail && sp > 1 << order) { sp -= 1 << order; fail = false; }
          if (fail && interval > 1 && ++count % interval) fail = false;
          if (fail && probability <= prandom_u32_below(rnd, 100)) fail = false;
          if (fail && t !== -1) t--;
          ref += fail ? 'x' : '.';
        }
        expect(pattern(reqs)).toBe(ref);
        const r = page_alloc_shutdown();
        expect(r.leaked).toEqual([]);
        expect(r.fully_merged).toBe(true);
      }), { numRuns: 80 });
  });
});
