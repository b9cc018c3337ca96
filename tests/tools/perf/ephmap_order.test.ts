/*
 * tests/tools/perf/ephmap_order.test.ts - issue 15's ordering, from counted
 * events (KUnit-style suite tools_ephmap_order).
 *
 * The seed's job shape (4 KiB preads of a cached tmpfs file, one job) with
 * asi=on setcpuid=retbleed: modelled cycles per read must come out
 * asi=off < ephmap=percpu < ephmap=vmalloc < ephmap=off, and each step of
 * the order must be made of the events that explain it (Documentation/
 * ephmap.md): an INVLPG for percpu, the KVA allocator's locks, slab
 * objects and atomic for vmalloc, an exit with its IBPB for off.
 */
import { describe, it, expect } from 'vitest';
import { pread_cost, type PreadCost } from '../../../tools/perf/pread_cost.ts';

function hot(extra: string): PreadCost {
  return pread_cost(4, 128, extra)[0];
}

function count(r: PreadCost, key: string): number {
  return r.rows.find((x) => x.key === key)?.count ?? 0;
}

describe('tools_ephmap_order', () => {
  it('asi=off < ephmap=percpu < ephmap=vmalloc < ephmap=off, each by its events', () => {
    const asi = 'asi=on setcpuid=retbleed';
    const off = hot('asi=off');
    const percpu = hot(`${asi} ephmap=percpu`);
    const vmalloc = hot(`${asi} ephmap=vmalloc`);
    const exits = hot(`${asi} ephmap=off`);
    expect(off.cycles).toBeLessThan(percpu.cycles);
    expect(percpu.cycles).toBeLessThan(vmalloc.cycles);
    expect(vmalloc.cycles).toBeLessThan(exits.cycles);
    // percpu: one INVLPG, two PTE writes, no exit.
    expect([count(percpu, 'invlpg'), count(percpu, 'pte_update'), count(percpu, 'ibpb')]).toEqual([1, 2, 0]);
    expect([count(percpu, 'migrate_disable'), count(percpu, 'migrate_enable')]).toEqual([1, 1]);
    // vmalloc: no INVLPG, but four lock pairs, a vmap_area allocated and one freed, the lazy-count atomic.
    expect(count(vmalloc, 'invlpg')).toBe(0);
    expect([count(vmalloc, 'spin_lock'), count(vmalloc, 'kmem_cache_alloc'), count(vmalloc, 'kmem_cache_free'),
      count(vmalloc, 'atomic_rmw')]).toEqual([4, 1, 1, 1]);
    expect(count(vmalloc, 'load_l2')).toBeGreaterThan(0);
    // off: one exit per read (the #PF, an IBPB, an RSB fill).
    expect([count(exits, 'exception'), count(exits, 'ibpb'), count(exits, 'rsb_fill')]).toEqual([1, 1, 1]);
    expect(count(off, 'ibpb') + count(off, 'invlpg') + count(off, 'spin_lock')).toBe(0);
  });
});
