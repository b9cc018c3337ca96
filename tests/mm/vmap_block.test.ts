/*
 * tests/mm/vmap_block.test.ts - vm_unmap_aliases() and the vmap_block dirty range.
 *
 * Mirrors what mm/vmalloc.c's _vm_unmap_aliases() promises: the dirty pages
 * of every vmap_block, [dirty_min, dirty_max), are flushed with one
 * flush_tlb_kernel_range() over their union, then the range is reset so the
 * next call does not flush them again. The block test is Linux's
 * `vb->dirty_max && vb->dirty != VMAP_BBMAP_BITS`: `dirty` only ever grows,
 * so testing it would count a flushed block as dirty forever.
 * Flushes are observed through the per-CPU TLB counters: a page-by-page
 * kernel flush counts nr_tlb_local_flush_one per page on every CPU, a
 * full one nr_tlb_remote_flush_received on every CPU.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { start_kernel, type Kernel } from '../../init/main.ts';
import { vm_map_ram, vm_unmap_ram, vm_unmap_aliases, NUMA_NO_NODE } from '../../mm/vmalloc.ts';
import { vmap_block_state, VMAP_BBMAP_BITS, VMAP_BLOCK_SIZE, type VmapBlock } from '../../mm/vmap_block.ts';
import { vm_event_per_cpu } from '../../mm/vmstat.ts';
import { alloc_pages, __free_pages } from '../../mm/page_alloc.ts';
import { GFP_KERNEL } from '../../mm/gfp.ts';
import { get_kernel_nofault, EFAULT } from '../../mm/maccess.ts';
import { PAGE_SIZE } from '../../arch/x86/include/asm/page_types.ts';

const P = PAGE_SIZE;

let k: Kernel | null = null;
afterEach(() => {
  k?.shutdown();
  k = null;
});

/** Per-CPU [local_flush_one, remote_flush_received] since `from`. */
function flushes(from: number[][] | null = null): number[][] {
  const now = [vm_event_per_cpu('nr_tlb_local_flush_one'), vm_event_per_cpu('nr_tlb_remote_flush_received')];
  return from ? now.map((row, i) => row.map((v, c) => v - from[i][c])) : now;
}

function block_of(addr: number): VmapBlock {
  for (const q of vmap_block_state.vmap_block_queue)
    for (const vb of q.vmap_blocks.values()) if (vb.va.va_start <= addr && addr < vb.va.va_end) return vb;
  throw new Error(`no vmap_block holds ${addr.toString(16)}`);
}

/** Read `addr` on CPU `cpu` (caching its translation there). */
function read_on(kk: Kernel, cpu: number, addr: number): number {
  const saved = kk.machine.current;
  kk.machine.current = cpu;
  const v = get_kernel_nofault(addr);
  kk.machine.current = saved;
  return v;
}

describe('mm_vmap_block', () => {
  it('vm_unmap_aliases flushes exactly [dirty_min, dirty_max) of a block, then resets it', () => {
    /*
     *  page of the block  0 1 2 3 4 ...
     *  mapped             a b c d
     *  after vm_unmap_ram a . . d      dirty = 2, [dirty_min, dirty_max) = [1, 3)
     *  vm_unmap_aliases   one flush of pages 1..2 on each CPU
     */
    k = start_kernel('mem=64M cpus=2');
    const pfn = alloc_pages(GFP_KERNEL, 0) as number;
    const m = [0, 1, 2, 3].map(() => vm_map_ram([pfn], 1, NUMA_NO_NODE) as number);
    expect(m[1]).toBe(m[0] + P);
    const vb = block_of(m[0]);
    vm_unmap_ram(m[1], 1);
    vm_unmap_ram(m[2], 1);
    expect([vb.dirty, vb.dirty_min, vb.dirty_max]).toEqual([2, 1, 3]);
    const f0 = flushes();
    vm_unmap_aliases();
    expect(flushes(f0)).toEqual([[2, 2], [0, 0]]); // two INVLPGs per CPU, no full flush
    expect([vb.dirty, vb.dirty_min, vb.dirty_max]).toEqual([2, VMAP_BBMAP_BITS, 0]);
    // Nothing dirty since: nothing to flush.
    const f1 = flushes();
    vm_unmap_aliases();
    expect(flushes(f1)).toEqual([[0, 0], [0, 0]]);
    vm_unmap_ram(m[0], 1);
    vm_unmap_ram(m[3], 1);
    __free_pages(pfn, 0);
  });

  it('a block flushed before is not flushed again (dirty_max, not dirty): only the new dirty page is', () => {
    /*
     *  VMALLOC:  [ block B (CPU 1) ][ block A (CPU 0) ]
     *  (each block keeps one live mapping, so neither is purged as fragmented)
     *  1. a page of A dirty, vm_unmap_aliases: flushed, A's range reset (A.dirty stays 1)
     *  2. a page of B dirty, vm_unmap_aliases: B's one page only.
     *  Testing `dirty` instead would take A's reset range [A end, A start) into
     *  the union: [B start, A start), a block's worth of pages, a full flush.
     */
    k = start_kernel('mem=64M cpus=2');
    const pfn = alloc_pages(GFP_KERNEL, 0) as number;
    k.machine.current = 1;
    const b = vm_map_ram([pfn], 1, NUMA_NO_NODE) as number;
    const b_live = vm_map_ram([pfn], 1, NUMA_NO_NODE) as number;
    k.machine.current = 0;
    // A live mapping keeps each block from being purged as fragmented.
    const a_live = vm_map_ram([pfn], 1, NUMA_NO_NODE) as number;
    const a = vm_map_ram([pfn], 1, NUMA_NO_NODE) as number;
    expect(Math.floor(a / VMAP_BLOCK_SIZE)).toBe(Math.floor(b / VMAP_BLOCK_SIZE) + 1);
    vm_unmap_ram(a, 1);
    let f = flushes();
    vm_unmap_aliases();
    expect(flushes(f)).toEqual([[1, 1], [0, 0]]);
    expect(block_of(a).dirty).toBe(1);

    expect(read_on(k, 1, b)).toBe(0); // CPU 1 caches b's translation
    vm_unmap_ram(b, 1);
    expect(read_on(k, 1, b)).toBe(0); // unmapped, not flushed yet
    f = flushes();
    vm_unmap_aliases();
    expect(flushes(f)).toEqual([[1, 1], [0, 0]]);
    expect(read_on(k, 1, b)).toBe(-EFAULT);
    vm_unmap_ram(a_live, 1);
    vm_unmap_ram(b_live, 1);
    __free_pages(pfn, 0);
  });
});
