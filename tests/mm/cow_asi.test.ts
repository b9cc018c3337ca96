/*
 * tests/mm/cow_asi.test.ts - copy-on-write and zero-filling meet ASI.
 *
 * The seed names two of the compile's remaining exits: zeroing sensitive
 * pages in anonymous faults and copy-on-write of user pages (asi.md 1.1,
 * 2.3). Both must come out of the mechanism: a user page is sensitive
 * (GFP_HIGHUSER_MOVABLE has __GFP_SENSITIVE), so the restricted address
 * space does not map it, and the kernel's copy or clear through the
 * physmap faults, asi_exit()s and is attributed to the site that touched
 * it (asi:asi_exit_pf, k.asi_exit_sites()). Nothing here counts an exit by
 * hand: the sites are read back from the #PF handler's histogram.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel, type Kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { RW, ANON } from '../fs/helpers.ts';

type Sys = Generator<{ nr: number; args: readonly number[] }, number, number>;

function site_delta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = (b[key] ?? 0) - (a[key] ?? 0);
    if (d) out[key] = d;
  }
  return out;
}

interface Steps { cow: Record<string, number>; zero_fill: Record<string, number>; first_touch: Record<string, number>; ephmap_gets: number; cow_value: number }

/* Child of a fork: one CoW write, one write after a zero-page read, one first touch; the exit sites of each. */
function run_steps(k: Kernel): Steps {
  const out: Partial<Steps> = {};
  k.spawn('parent', function* (u: Nolibc): Sys {
    const b = yield* u.mmap(0, 4 * 4096, RW, ANON);
    u.poke32(b, 41);
    const pid = yield* u.clone(0, function* (c: Nolibc): Sys {
      const fresh = yield* c.mmap(0, 2 * 4096, RW, ANON);
      c.poke32(fresh + 4096, 1); // page tables in place, so the steps below allocate only their page
      c.peek32(b + 4096); // a zero page in the inherited mapping
      yield* c.getpid(); // back in the restricted address space
      let s0 = k.asi_exit_sites();
      const e0 = k.vmstat().nr_ephmap_get ?? 0;
      c.poke32(b, 42); // copy-on-write of the parent's page
      out.ephmap_gets = (k.vmstat().nr_ephmap_get ?? 0) - e0;
      let s1 = k.asi_exit_sites();
      out.cow = site_delta(s0, s1);
      out.cow_value = c.peek32(b);
      yield* c.getpid();
      s0 = k.asi_exit_sites();
      c.poke32(b + 4096, 7); // the zero page replaced by a zeroed page
      s1 = k.asi_exit_sites();
      out.zero_fill = site_delta(s0, s1);
      yield* c.getpid();
      s0 = k.asi_exit_sites();
      c.poke32(fresh, 7); // a first touch: do_anonymous_page's zeroed page
      out.first_touch = site_delta(s0, k.asi_exit_sites());
      return 0;
    });
    const [, st] = yield* u.waitpid(pid);
    child_status = st;
    return 0;
  });
  let child_status = -1;
  const r = k.run();
  expect(r.exited.map((e) => e.status)).toEqual([0]);
  expect(child_status).toBe(0);
  return out as Steps;
}

describe('mm_cow_asi', () => {
  it('asi=on setcpuid=retbleed: a CoW fault exits at wp_page_copy, zero-filling at clear_page_erms, one exit each', () => {
    const k = start_kernel('mem=64M cpus=2 asi=on setcpuid=retbleed trace_event=asi:asi_exit_pf');
    const v0 = k.vmstat();
    const s = run_steps(k);
    expect(s.cow_value).toBe(42);
    // The percpu ephmap holds one mapping per mm and CPU: the second get fails, the copy goes through the physmap.
    expect(s.cow).toEqual({ wp_page_copy: 1 });
    expect(s.ephmap_gets).toBe(1);
    expect(s.zero_fill).toEqual({ clear_page_erms: 1 });
    expect(s.first_touch).toEqual({ clear_page_erms: 1 });
    const v1 = k.vmstat();
    expect(v1.nr_ephmap_fallback - v0.nr_ephmap_fallback).toBeGreaterThanOrEqual(1);
    const lines = k.trace().split('\n').filter((l) => l.includes('asi_exit_pf:'));
    expect(lines.some((l) => /ip=wp_page_copy error_code=0x0, user_mode=0$/.test(l))).toBe(true); // the read of the source page
    expect(lines.some((l) => /ip=clear_page_erms error_code=0x2, user_mode=0$/.test(l))).toBe(true); // the write of the clear
    expect(k.asi_exit_sites().wp_page_copy).toBeGreaterThanOrEqual(1);
    k.shutdown();
  });

  it('ephmap=kmap can map both pages at once: the CoW copy goes through it and does not exit', () => {
    const k = start_kernel('mem=64M cpus=2 asi=on setcpuid=retbleed ephmap=kmap');
    const s = run_steps(k);
    expect(s.cow_value).toBe(42);
    expect(s.cow).toEqual({});
    expect(s.ephmap_gets).toBe(2);
    expect(s.zero_fill).toEqual({ clear_page_erms: 1 }); // the allocator's clear still goes through the physmap
    k.shutdown();
  });

  it('ephmap=mermap: its put flushes lazily and the source page is lost at once, so the CoW copy takes the physmap and exits', () => {
    const k = start_kernel('mem=64M cpus=2 asi=on setcpuid=retbleed ephmap=mermap');
    const s = run_steps(k);
    expect(s.cow_value).toBe(42);
    expect(s.cow).toEqual({ wp_page_copy: 1 });
    expect(s.ephmap_gets).toBe(0);
    k.shutdown();
  });

  it('asi=off: the same steps, no exits anywhere', () => {
    const k = start_kernel('mem=64M cpus=2 asi=off');
    const s = run_steps(k);
    expect(s).toMatchObject({ cow: {}, zero_fill: {}, first_touch: {}, ephmap_gets: 0, cow_value: 42 });
    expect(k.asi_exit_sites()).toEqual({});
    k.shutdown();
  });
});
