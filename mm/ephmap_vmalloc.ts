/*
 * mm/ephmap_vmalloc.ts - the vmalloc-backed rival of the ephmap: a vmap
 * area per I/O.
 *
 * No single Linux file: what Brendan Jackman tried before the ephmap and
 * measured at "something like 10%" on 4 KiB tmpfs reads (asi.md 1.2, the
 * reply to Uladzislau Rezki): per I/O, allocate kernel virtual space, map
 * the folio's pages into it, copy, tear it down. Built from the real
 * allocator (mm/vmap_alloc.ts, mm/vmap_purge.ts), so the cost is the work
 * that code does and counts:
 *  - get: alloc_vmap_area() (the augmented free-tree walk for the lowest
 *    fit, the busy-tree insert), then vmap_pages_range() into init_mm's
 *    VMALLOC tables (a PTE table allocated when the bump crosses into a
 *    new 2 MiB);
 *  - put: find_unlink_vmap_area() (a busy-tree walk), then
 *    free_unmap_vmap_area(): vunmap_range_noflush() and
 *    free_vmap_area_noflush(), which queues the range on the lazy tree and,
 *    past lazy_max_pages(), purges: one flush_tlb_kernel_range() (a full
 *    flush on every CPU) and the merge of every lazy area back.
 * vm_map_ram()'s per-CPU vmap_blocks would avoid the tree walks for small
 * mappings; the seed's prototype used the tree, so this does too.
 * The mapping is in the global kernel address space (init_mm), so it is
 * not mm-local and no mm-wide flush applies; until the lazy purge a
 * stale translation of the freed range stays in the TLBs, which is the
 * lazy TLB design of vmalloc, not an ASI-safe one.
 * tskernel addition: /proc/vmstat nr_ephmap_vmap_alloc.
 */
import { PAGE_SIZE, PAGE_SHIFT } from '../arch/x86/include/asm/page_types.ts';
import { VMALLOC_START, VMALLOC_END } from '../arch/x86/include/asm/pgtable_64_types.ts';
import { PAGE_KERNEL, Pgprot, _PAGE_NX_HI } from '../arch/x86/include/asm/pgtable_types.ts';
import { kernel_pgprot } from '../arch/x86/mm/init_64.ts';
import { alloc_vmap_area, find_unlink_vmap_area } from './vmap_alloc.ts';
import { vmap_pages_range } from './vmap_pgtable.ts';
import { free_unmap_vmap_area, NUMA_NO_NODE } from './vmalloc.ts';
import { GFP_KERNEL, __GFP_NOWARN } from './gfp.ts';
import { BUG } from '../kernel/panic.ts';
import { vm_event_item, count_vm_event } from './vmstat.ts';
import { NR_EPHMAP_GET, NR_EPHMAP_PUT, NR_EPHMAP_GET_FAILED } from './ephmap.ts';
import type { FolioMapOps } from '../include/linux/ephmap.ts';
import { EPHMAP_CPU_REGION_SIZE } from '../include/linux/ephmap.ts';
import { trace_ephmap_get, trace_ephmap_put } from '../kernel/trace/events/ephmap.ts';

export const NR_EPHMAP_VMAP_ALLOC = vm_event_item('nr_ephmap_vmap_alloc');

/** vmap's protection: kernel, non-executable. */
function vmap_prot(): Pgprot {
  const p = kernel_pgprot(PAGE_KERNEL);
  return new Pgprot(p.lo, (p.hi | _PAGE_NX_HI) >>> 0);
}

/** Map pages [page, page + nr_pages) in a fresh vmap area; its address or 0. */
export function ephmap_vmap_get(page: number, nr_pages: number): number {
  const size = nr_pages * PAGE_SIZE;
  const va = alloc_vmap_area(size, PAGE_SIZE, VMALLOC_START, VMALLOC_END, NUMA_NO_NODE, GFP_KERNEL | __GFP_NOWARN, 0, null);
  if (typeof va === 'number') {
    count_vm_event(NR_EPHMAP_GET_FAILED);
    return 0;
  }
  count_vm_event(NR_EPHMAP_VMAP_ALLOC);
  const pages: number[] = [];
  for (let i = 0; i < nr_pages; i++) pages.push(page + i);
  const addr = va.va_start;
  if (vmap_pages_range(addr, addr + size, vmap_prot(), pages, PAGE_SHIFT) < 0) {
    ephmap_vmap_put_area(addr);
    count_vm_event(NR_EPHMAP_GET_FAILED);
    return 0;
  }
  count_vm_event(NR_EPHMAP_GET);
  if (trace_ephmap_get.enabled) trace_ephmap_get.emit({ variant: 'vmalloc', vaddr: addr, pfn: page, nr_pages });
  return addr;
}

function ephmap_vmap_put_area(addr: number): void {
  const va = find_unlink_vmap_area(addr);
  if (va === null) BUG('ephmap vmalloc: no vmap area at %px', addr);
  free_unmap_vmap_area(va);
}

/** Unmap lazily and give the area back (purged in batches). */
export function ephmap_vmap_put(addr: number, nr_pages: number): void {
  ephmap_vmap_put_area(addr);
  count_vm_event(NR_EPHMAP_PUT);
  if (trace_ephmap_put.enabled) trace_ephmap_put.emit({ variant: 'vmalloc', vaddr: addr, nr_pages });
}

export const ephmap_vmalloc_ops: FolioMapOps = {
  name: 'vmalloc',
  max_pages: EPHMAP_CPU_REGION_SIZE / PAGE_SIZE,
  get: ephmap_vmap_get,
  put: ephmap_vmap_put,
};
