/*
 * tests/mm/page_alloc_asi_property.test.ts - random allocation sequences with asi=on.
 *
 * fast-check sequences of allocations of every GFP kind (sensitive:
 * GFP_USER, GFP_HIGHUSER, GFP_HIGHUSER_MOVABLE; nonsensitive: the rest),
 * orders 0..10, with and without __GFP_ZERO, frees, drains, fills to
 * exhaustion, churns (a fill freed again) and scribbles (a marker written into every page of an
 * allocation), on a 16 or 32 MiB machine booted with asi=on. After every
 * step:
 *  - the allocator's invariant checker (free blocks on their pageblock's
 *    freetype's lists, pcp pages in their sensitivity's half, no merge
 *    across sensitivity);
 *  - walking asi_nonsensitive_pgd's direct-map range finds no PRESENT
 *    mapping of a sensitive pageblock, and every nonsensitive pageblock is
 *    mapped (asi_direct_map_violations);
 *  - no pageblock holds pages of both sensitivities: every live allocation
 *    lies in pageblocks of the sensitivity its gfp asked for;
 *  - a page scribbled while sensitive reads zero once its pageblock has
 *    become nonsensitive (__rmqueue_asi zeroes before mapping);
 *  - __GFP_ZERO allocations read zero.
 * A seeded bug (__rmqueue_asi skipping set_direct_map_sensitive) must make
 * the same property fail.
 */
import { describe, it, expect, afterEach } from 'vitest';
import fc from 'fast-check';
import { start_kernel, type Kernel } from '../../init/main.ts';
import { printk_state } from '../../kernel/printk.ts';
import { alloc_pages, __free_pages, drain_all_pages, drain_local_pages, page_alloc_asi_test } from '../../mm/page_alloc.ts';
import {
  GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_NOIO, GFP_NOFS, GFP_KERNEL_ACCOUNT, GFP_USER, GFP_HIGHUSER,
  GFP_HIGHUSER_MOVABLE, __GFP_RECLAIMABLE, __GFP_MOVABLE, __GFP_NOWARN, __GFP_ZERO, __GFP_COMP, __GFP_SENSITIVE,
} from '../../mm/gfp.ts';
import { get_pageblock_sensitive, pageblock_nr_pages } from '../../mm/mmzone.ts';
import { page_alloc_invariant_violations } from '../../mm/page_alloc_debug.ts';
import { mem_map, page_address } from '../../mm/mm_types.ts';
import { vm_debug } from '../../mm/debug.ts';
import { asi_direct_map_violations } from '../../arch/x86/mm/asi_direct_map.ts';
import { this_cpu } from '../../kernel/smp.ts';
import { all_vmstat } from '../../mm/vmstat.ts';

type Cmd =
  | { op: 'alloc' | 'fill' | 'churn'; order: number; gfp: number; cpu: number }
  | { op: 'free'; idx: number; cpu: number }
  | { op: 'scribble'; idx: number }
  | { op: 'drain'; cpu: number; all: boolean };

/** Every GFP kind: the sensitive ones (GFP_USER and up) and the nonsensitive rest. */
const GFPS = [GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_NOIO, GFP_NOFS, GFP_KERNEL_ACCOUNT, GFP_USER, GFP_HIGHUSER,
  GFP_HIGHUSER_MOVABLE, GFP_KERNEL | __GFP_RECLAIMABLE, GFP_KERNEL | __GFP_COMP, GFP_HIGHUSER_MOVABLE | __GFP_COMP,
  GFP_ATOMIC | __GFP_MOVABLE, GFP_USER | __GFP_RECLAIMABLE];

const gfp_arb = fc.tuple(fc.constantFrom(...GFPS), fc.boolean()).map(([g, z]) => g | __GFP_NOWARN | (z ? __GFP_ZERO : 0));

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({
    op: fc.constant('alloc' as const),
    order: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 2, arbitrary: fc.integer({ min: 4, max: 10 }) }),
    gfp: gfp_arb,
    cpu: fc.integer({ min: 0, max: 1 }),
  }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('free' as const), idx: fc.nat(), cpu: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('scribble' as const), idx: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drain' as const), cpu: fc.integer({ min: 0, max: 1 }), all: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({
    op: fc.constantFrom('fill' as const, 'churn' as const),
    order: fc.integer({ min: 0, max: 10 }),
    gfp: gfp_arb,
    cpu: fc.integer({ min: 0, max: 1 }),
  }) },
);

const MARK = 0x5e45e45e;

let k: Kernel | null = null;
afterEach(() => {
  page_alloc_asi_test.skip_set_direct_map = false;
  k = null;
});

/** Run one sequence on a fresh asi=on kernel; throws (an expect) at the first broken invariant. */
const flips = { to_nonsensitive: 0, to_sensitive: 0 };

/**
 * Half the runs start by churning GFP_KERNEL memory: most of RAM is then
 * free and nonsensitive, so sensitive allocations must convert it back.
 */
const PRELUDE: Cmd = { op: 'churn', order: 0, gfp: GFP_KERNEL | __GFP_NOWARN, cpu: 0 };

function run(cmds: Cmd[], mib: number, seeded_bug: boolean): void {
  printk_state.console_loglevel = 0;
  page_alloc_asi_test.skip_set_direct_map = false; // a failed (shrinking) run may have left it set
  k = start_kernel(`mem=${mib}M cpus=2 asi=on`);
  vm_debug.debug_vm = false; // the checks run once per step below, not once per allocation
  page_alloc_asi_test.skip_set_direct_map = seeded_bug;
  const m = k.machine;
  const live: { pfn: number; order: number; sensitive: boolean }[] = [];
  // pfns whose first word holds MARK, written while their pageblock was sensitive.
  const sensitive_marks = new Set<number>();
  const word = (pfn: number): number => {
    m.current = 0;
    return this_cpu().load32(page_address(pfn));
  };
  const check_marks = (what: string): void => {
    for (const p of sensitive_marks) {
      if (get_pageblock_sensitive(p)) continue;
      expect(word(p), `${what}: pfn ${p} written while sensitive, its pageblock is now nonsensitive`).toBe(0);
      sensitive_marks.delete(p);
    }
  };
  const check = (what: string): void => {
    m.current = 0;
    const errs = [...page_alloc_invariant_violations(), ...asi_direct_map_violations()];
    if (errs.length) throw new Error(`${what}:\n${errs.join('\n')}`);
    for (const a of live) {
      for (let p = a.pfn; p < a.pfn + (1 << a.order); p += pageblock_nr_pages)
        expect(get_pageblock_sensitive(p), `${what}: pfn ${a.pfn} order ${a.order} sensitive=${a.sensitive}`).toBe(a.sensitive);
    }
    check_marks(what);
  };
  const alloc = (c: { order: number; gfp: number; cpu: number }): boolean => {
    m.current = c.cpu;
    const pfn = alloc_pages(c.gfp, c.order);
    if (pfn === null) return false;
    const a = { pfn, order: c.order, sensitive: (c.gfp & __GFP_SENSITIVE) !== 0 };
    live.push(a);
    // A block converted by this very allocation must have been zeroed before it was handed out.
    check_marks(`alloc ${JSON.stringify(c)}`);
    for (let p = pfn; p < pfn + (1 << c.order); p++) sensitive_marks.delete(p);
    if (c.gfp & __GFP_ZERO) for (let p = pfn; p < pfn + (1 << c.order); p += 7) expect(word(p)).toBe(0);
    return true;
  };
  check('boot');
  cmds.forEach((c, step) => {
    const what = `step ${step} ${JSON.stringify(c)}`;
    if (c.op === 'alloc') {
      alloc(c);
    } else if (c.op === 'fill' || c.op === 'churn') {
      // A fill leaves memory exhausted; a churn frees what it took, leaving
      // it free in the fill's sensitivity for the other one to convert back.
      const first = live.length;
      for (let i = 0; i <= mem_map.max_pfn >> c.order && alloc(c); i++);
      if (c.op === 'churn') {
        m.current = c.cpu;
        for (const a of live.splice(first)) __free_pages(a.pfn, a.order);
        drain_all_pages(null);
      }
    } else if (c.op === 'free' && live.length) {
      const [a] = live.splice(c.idx % live.length, 1);
      m.current = c.cpu;
      __free_pages(a.pfn, a.order);
    } else if (c.op === 'scribble' && live.length) {
      const a = live[c.idx % live.length];
      m.current = 0;
      for (let p = a.pfn; p < a.pfn + (1 << a.order); p++) {
        this_cpu().store32(page_address(p), MARK);
        if (a.sensitive) sensitive_marks.add(p);
      }
    } else if (c.op === 'drain') {
      m.current = c.cpu;
      if (c.all) drain_all_pages(null);
      else drain_local_pages(null);
    }
    check(what);
  });
  m.current = 0;
  for (const a of live.splice(0)) __free_pages(a.pfn, a.order);
  check('all freed');
  page_alloc_asi_test.skip_set_direct_map = false;
  const v = all_vmstat();
  flips.to_nonsensitive += v.asi_pageblock_to_nonsensitive;
  flips.to_sensitive += v.asi_pageblock_to_sensitive;
  expect(k.shutdown().leaked).toEqual([]);
  k = null;
}

describe('mm_page_alloc_asi_property', () => {
  it('random alloc/free/zero sequences with asi=on keep the restricted direct map equal to the pageblock sensitivities', () => {
    fc.assert(fc.property(fc.array(cmd, { minLength: 1, maxLength: 60 }), fc.constantFrom(16, 32), fc.boolean(),
      (cmds, mib, prelude) => run(prelude ? [PRELUDE, ...cmds] : cmds, mib, false)), { numRuns: 40, seed: 14 });
    // The sequences did convert pageblocks both ways, many times.
    expect(flips.to_nonsensitive).toBeGreaterThan(100);
    expect(flips.to_sensitive).toBeGreaterThan(5);
  });

  it('seeded bug: __rmqueue_asi skipping set_direct_map_sensitive is caught', () => {
    const r = fc.check(fc.property(fc.array(cmd, { minLength: 1, maxLength: 60 }), fc.constantFrom(16, 32),
      (cmds, mib) => run(cmds, mib, true)), { numRuns: 40, seed: 14 });
    expect(r.failed).toBe(true);
    expect(String(r.errorInstance)).toMatch(/pageblock .* (is not mapped|is PRESENT)/);
  });
});
