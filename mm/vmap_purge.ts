/*
 * mm/vmap_purge.ts - lazy freeing of vmap areas and the batched purge.
 *
 * Mirrors the lazy half of mm/vmalloc.c: an unmapped area is not flushed
 * from the TLBs at once. free_vmap_area_noflush() puts it on the lazy
 * (purge) tree and counts its pages in vmap_lazy_nr; once more than
 * lazy_max_pages() = fls(num_online_cpus()) * 32 MiB are waiting, or when an
 * allocation overflows, __purge_vmap_area_lazy() issues ONE
 * flush_tlb_kernel_range() over the span of every waiting area and merges
 * them back into the free tree. Until then the range is neither reusable
 * nor (on a CPU that cached it) guaranteed to fault.
 * Modelled: vmap_lazy_nr, lazy_max_pages(), free_vmap_area_noflush(),
 * __purge_vmap_area_lazy(), purge_vmap_area_lazy(),
 * reclaim_and_purge_vmap_areas(), drain_vmap_area_work() and the two
 * tracepoints.
 * Simplified: schedule_work(&drain_vmap_work) runs the drain at once, on
 * the freeing CPU (tskernel has no workqueues), so a purge happens inside
 * the vfree() that crosses the threshold; one lazy tree (no vmap nodes,
 * no node pools to decay, no purge helper workers); no vmap_purge_lock
 * (one thread of control).
 * Left out: KASAN shadow release, the "vmap-node" shrinker.
 * tskernel adds two /proc/vmstat events with no Linux counterpart:
 * nr_vmap_purge (purges that flushed) and nr_vmap_purged_areas.
 */
import {
  vmap_state, merge_or_add_vmap_area, merge_or_add_vmap_area_augment, vmap_charge_steps, vmap_charge, K_SPIN_LOCK, K_ATOMIC_RMW,
  VMAP_ULONG_MAX, type VmapArea,
} from './vmap_area.ts';
import { list_empty, INIT_LIST_HEAD } from '../include/linux/list.ts';
import { RB_CLEAR_NODE } from '../lib/rbtree.ts';
import { WARN_ON_ONCE } from '../kernel/panic.ts';
import { pr_debug_ns } from '../kernel/printk.ts';
import { smp } from '../kernel/smp.ts';
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';
import { flush_tlb_kernel_range } from '../arch/x86/mm/tlb.ts';
import { vm_event_item, count_vm_events } from './vmstat.ts';
import { trace_free_vmap_area_noflush, trace_purge_vmap_area_lazy } from '../kernel/trace/events/vmalloc.ts';

export const NR_VMAP_PURGE = vm_event_item('nr_vmap_purge');
export const NR_VMAP_PURGED_AREAS = vm_event_item('nr_vmap_purged_areas');

/** pr_debug for this subsystem: DEBUG=mm:vmalloc. */
const dbg = pr_debug_ns('mm:vmalloc');

/** Count a vmstat event when a kernel is running (host benchmarks run the allocator without one). */
export function vmap_count_event(item: number, n: number): void {
  if (smp.machine !== null) count_vm_events(item, n);
}

/** fls(): the position of the most significant set bit, 1-based; 0 for 0. */
export function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/**
 * lazy_max_pages(): how much unflushed virtual space to gather before a
 * purge. A log scale in the CPU count, to bound purge latency on big
 * machines: 1 CPU 8192 pages (32 MiB), 2-3 CPUs 16384, 4-7 CPUs 24576.
 */
export function lazy_max_pages(): number {
  return fls(vmap_state.nr_cpus) * ((32 * 1024 * 1024) / PAGE_SIZE);
}

/** tskernel statistics for the purge (no Linux counterpart). */
export const vmap_purge_stats = {
  /** __purge_vmap_area_lazy() calls that found work and flushed. */
  nr_purges: 0,
  /** flush_tlb_kernel_range() calls issued by purges. */
  nr_flushes: 0,
  /** Areas merged back by purges. */
  nr_purged_areas: 0,
  /** The last purge's flushed span. */
  last_start: 0,
  last_end: 0,
};

/**
 * The part of vmalloc_init() that wires the purge in: the overflow path of
 * alloc_vmap_area() reaches reclaim_and_purge_vmap_areas() through vmap.
 */
export function vmap_purge_init(): void {
  vmap_purge_stats.nr_purges = 0;
  vmap_purge_stats.nr_flushes = 0;
  vmap_purge_stats.nr_purged_areas = 0;
  vmap_purge_stats.last_start = 0;
  vmap_purge_stats.last_end = 0;
  vmap_state.reclaim_and_purge_vmap_areas = reclaim_and_purge_vmap_areas;
  vmap_purge_hooks.purge_fragmented_blocks_allcpus = () => {};
}

/** Filled in by mm/vmap_block.ts at boot (it imports this file). */
export const vmap_purge_hooks = {
  purge_fragmented_blocks_allcpus: (): void => {},
};

/**
 * __purge_vmap_area_lazy(start, end): flush [start, end) widened to cover
 * every lazy area, with one flush_tlb_kernel_range(), then give the areas
 * back to the free tree. Returns true if any area was purged.
 */
export function __purge_vmap_area_lazy(start: number, end: number): boolean {
  const head = vmap_state.purge_vmap_area_list;
  let num_purged_areas = 0;
  if (!list_empty(head)) {
    // list_replace_init() under the lazy lock: take the whole lazy list; the lazy tree starts over.
    vmap_charge(K_SPIN_LOCK);
    const local: VmapArea[] = [];
    for (let va = head.list_next; va !== head; va = va.list_next) local.push(va);
    vmap_state.purge_vmap_area_root.rb_node = null;
    INIT_LIST_HEAD(head);
    start = Math.min(start, local[0].va_start);
    end = Math.max(end, local[local.length - 1].va_end);

    flush_tlb_kernel_range(start, end);
    vmap_purge_stats.nr_flushes++;
    vmap_purge_stats.last_start = start;
    vmap_purge_stats.last_end = end;

    vmap_charge(K_SPIN_LOCK); // free_vmap_area_lock around the merges back (reclaim_list_global)
    vmap_charge(K_ATOMIC_RMW); // atomic_long_sub(nr_purged_pages, &vmap_lazy_nr)
    for (let i = 0; i < local.length; i++) {
      const va = local[i];
      const nr = (va.va_end - va.va_start) / PAGE_SIZE;
      // Detached: off the lazy tree and list (whose root was just reset).
      RB_CLEAR_NODE(va);
      va.list_next = va;
      va.list_prev = va;
      if (merge_or_add_vmap_area_augment(va, vmap_state.free_vmap_area_root, vmap_state.free_vmap_area_list) === null) continue;
      vmap_state.vmap_lazy_nr -= nr;
      num_purged_areas++;
    }
    if (dbg.enabled) dbg('purge: %d areas, one flush over %s-%s', num_purged_areas, start.toString(16), end.toString(16));
    vmap_purge_stats.nr_purges++;
    vmap_purge_stats.nr_purged_areas += num_purged_areas;
    vmap_count_event(NR_VMAP_PURGE, 1);
    vmap_count_event(NR_VMAP_PURGED_AREAS, num_purged_areas);
    vmap_charge_steps();
  }
  if (trace_purge_vmap_area_lazy.enabled)
    trace_purge_vmap_area_lazy.emit({ start, end, npurged: num_purged_areas });
  return num_purged_areas > 0;
}

/** purge_vmap_area_lazy(): purge fragmented vmap_blocks, then every lazy area. */
export function purge_vmap_area_lazy(): void {
  vmap_purge_hooks.purge_fragmented_blocks_allcpus();
  __purge_vmap_area_lazy(VMAP_ULONG_MAX, 0);
}

/**
 * reclaim_and_purge_vmap_areas(): the allocation overflow path's reclaim.
 * Linux also fully decays the vmap node pools; tskernel has none.
 */
export function reclaim_and_purge_vmap_areas(): void {
  purge_vmap_area_lazy();
}

/** drain_vmap_area_work(): purge until the lazy pages are back under the threshold. */
export function drain_vmap_area_work(): void {
  do {
    __purge_vmap_area_lazy(VMAP_ULONG_MAX, 0);
  } while (vmap_state.vmap_lazy_nr > lazy_max_pages());
}

/**
 * free_vmap_area_noflush(): the area's page tables are already cleared, the
 * TLBs not yet flushed. Queue it on the lazy tree (merging with lazy
 * neighbours) and purge once too much is waiting.
 */
export function free_vmap_area_noflush(va: VmapArea): void {
  const nr_lazy_max = lazy_max_pages();
  const va_start = va.va_start;
  if (!list_empty(va)) {
    WARN_ON_ONCE(true, 'free_vmap_area_noflush: vmap_area still listed');
    return;
  }
  vmap_state.vmap_lazy_nr += (va.va_end - va.va_start) / PAGE_SIZE;
  vmap_charge(K_ATOMIC_RMW); // atomic_long_add_return(nr, &vmap_lazy_nr)
  const nr_lazy = vmap_state.vmap_lazy_nr;
  va.vm = null; // a union with subtree_max_size in Linux: the lazy tree has no use for it
  vmap_charge(K_SPIN_LOCK); // the vmap node's lazy.lock around the insert
  merge_or_add_vmap_area(va, vmap_state.purge_vmap_area_root, vmap_state.purge_vmap_area_list);
  vmap_charge_steps();
  if (trace_free_vmap_area_noflush.enabled)
    trace_free_vmap_area_noflush.emit({ va_start, nr_lazy, nr_lazy_max });
  // After this point the VA may be merged away at any time.
  if (nr_lazy > nr_lazy_max) drain_vmap_area_work(); // schedule_work(&drain_vmap_work), run at once
}
