/*
 * tests/tools/ephmap_cost.test.ts - tools/perf/ephmap_cost: each variant's
 * extra cost per 4 KiB read comes from its counted events.
 */
import { describe, it, expect } from 'vitest';
import { ephmap_cost } from '../../../tools/perf/ephmap_cost.ts';

describe('tools_ephmap_cost', () => {
  it('prices each variant by its events: one INVLPG per read for percpu and kmap, a vmap area for vmalloc, none for mermap', () => {
    const base = ephmap_cost('physmap', 4, 256);
    const percpu = ephmap_cost('percpu', 4, 256);
    const vmalloc = ephmap_cost('vmalloc', 4, 256);
    const kmap = ephmap_cost('kmap', 4, 256);
    const mermap = ephmap_cost('mermap', 4, 256);
    expect(base.events.nr_ephmap_get).toBe(0);
    expect(percpu.events).toMatchObject({ nr_ephmap_get: 1, nr_tlb_local_flush_one: 1, nr_ephmap_fallback: 0 });
    expect(percpu.keys.get('invlpg')?.count).toBe(1);
    expect(percpu.keys.get('pte_update')?.count).toBe(2); // set at get, clear at put
    expect(kmap.events).toMatchObject({ nr_ephmap_get: 1, nr_tlb_local_flush_one: 1, nr_kmap_local_map: 1 });
    expect(vmalloc.events).toMatchObject({ nr_ephmap_get: 1, nr_ephmap_vmap_alloc: 1, nr_tlb_local_flush_one: 0 });
    expect(vmalloc.keys.get('invlpg')).toBeUndefined(); // lazy: no flush until a purge
    expect(mermap.events).toMatchObject({ nr_ephmap_get: 1, nr_tlb_local_flush_one: 0 });
    // Every variant costs more than the physmap copy, and the mermap (no flush per read) least of them.
    for (const v of [percpu, vmalloc, kmap, mermap]) expect(v.cycles).toBeGreaterThan(base.cycles);
    for (const v of [percpu, vmalloc, kmap]) expect(mermap.cycles).toBeLessThan(v.cycles);
    // Deterministic.
    expect(ephmap_cost('percpu', 4, 256).cycles).toBe(percpu.cycles);
  });
});
