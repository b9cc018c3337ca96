/*
 * mm/mermap.ts - the mermap: a few mm-local mappings per CPU, bump
 * allocated, flushed lazily.
 *
 * Mirrors mm/mermap.c of the later ASI work ("x86/mm: introduce the
 * mermap", the ALLOC_UNMAPPED series; asi.md 4.9.6), the ephmap's
 * successor:
 *  - struct mermap_cpu per (mm, CPU): next_addr, the bump pointer, and
 *    allocs[MERMAP_NR_ALLOCS] of { in_use, base, end };
 *  - mermap_get(page, size): a free alloc slot and room at the bump
 *    pointer; when the request does not fit, one local full flush
 *    (arch_mermap_flush_tlb() = __flush_tlb_all(), never an IPI) makes the
 *    space of every put mapping reusable and the pointer restarts after the
 *    highest mapping still in use; fails if all slots are busy or it still
 *    does not fit;
 *  - mermap_put(): clear the PTEs, no flush: the space is "TLB-flush
 *    pending" until the next wrap, so stale entries pile up on this CPU
 *    (harmless for correctness, since the space is not reused before the
 *    flush; for cross-CPU safety the mm is marked for the mm-wide flush);
 *  - mermap_get_reserved(page): the last page of each CPU region, one page,
 *    always succeeds; its put flushes that page at once.
 * The region lives in the mm-local PGD slot after the ephmap
 * (MERMAP_BASE_ADDR); its page tables are built by ephmap_setup() at mm
 * creation (mermap_mm_init() does it lazily in the series).
 * Simplified: unmapped PTEs are cleared, not set to the series' PAGE_NONE
 * sentinel (tskernel has no apply_to_existing_page_range() to satisfy).
 * tskernel addition: /proc/vmstat nr_mermap_flush, the lazy flushes.
 */
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';
import { __flush_tlb_all, NR_TLB_LOCAL_FLUSH_ALL } from '../arch/x86/mm/tlb.ts';
import { current } from '../kernel/sched/core.ts';
import { smp_processor_id } from '../kernel/smp.ts';
import { BUG } from '../kernel/panic.ts';
import { vm_event_item, count_vm_event } from './vmstat.ts';
import type { MmStruct } from './mm_struct.ts';
import {
  ephmap_mm, ephmap_mark_stale, ephmap_flush_local, ephmap_state, mm_local_map, mm_local_unmap,
  NR_EPHMAP_GET, NR_EPHMAP_PUT, NR_EPHMAP_GET_FAILED,
} from './ephmap.ts';
import { MERMAP_BASE_ADDR, MERMAP_CPU_REGION_SIZE, MERMAP_NR_ALLOCS, type FolioMapOps } from '../include/linux/ephmap.ts';
import { trace_ephmap_get, trace_ephmap_put } from '../kernel/trace/events/ephmap.ts';

export const NR_MERMAP_FLUSH = vm_event_item('nr_mermap_flush');

/** struct mermap_alloc. */
export class MermapAlloc {
  in_use = false;
  base = 0;
  end = 0;
}

/** struct mermap_cpu: offsets are from the CPU region's base. */
export class MermapCpu {
  next_addr = 0;
  readonly allocs: MermapAlloc[] = Array.from({ length: MERMAP_NR_ALLOCS }, () => new MermapAlloc());
  /** The reserved last page is mapped. */
  reserved_in_use = false;
  /** tlb_flushes (the series keeps it for KUnit). */
  tlb_flushes = 0;
}

const mermaps = { by_mm: new WeakMap<MmStruct, MermapCpu[]>() };

/** CPU `cpu`'s region base. */
export function mermap_cpu_base(cpu: number): number {
  return MERMAP_BASE_ADDR + cpu * MERMAP_CPU_REGION_SIZE;
}

/** The bump area: the region less its reserved last page. */
const MERMAP_BUMP_SIZE = MERMAP_CPU_REGION_SIZE - PAGE_SIZE;

/** mermap_ready(): a task with an mm whose region is built; its per-CPU state, made on first use. */
function mermap_cpu(mm: MmStruct | null): MermapCpu | null {
  if (mm === null || ephmap_mm(mm) === null || ephmap_state.mode !== 'mermap') return null;
  let v = mermaps.by_mm.get(mm);
  if (v === undefined) {
    v = Array.from({ length: ephmap_mm(mm)!.in_use.length }, () => new MermapCpu());
    mermaps.by_mm.set(mm, v);
  }
  return v[smp_processor_id()];
}

/** arch_mermap_flush_tlb(): everything on this CPU; the put space becomes reusable. */
function mermap_flush(mc: MermapCpu): void {
  mc.tlb_flushes++;
  count_vm_event(NR_MERMAP_FLUSH);
  if (ephmap_state.test_skip_put_flush) return;
  count_vm_event(NR_TLB_LOCAL_FLUSH_ALL);
  __flush_tlb_all();
}

/**
 * mermap_get(): map `nr_pages` contiguous pages from `page` for current on
 * this CPU (migration disabled by the caller). The address, or 0.
 */
export function mermap_get(page: number, nr_pages: number): number {
  const p = current();
  if (p.migration_disabled <= 0) BUG('mermap_get() with migration enabled in %s', p.comm);
  const mm = p.mm;
  const mc = mermap_cpu(mm);
  const size = nr_pages * PAGE_SIZE;
  let slot: MermapAlloc | null = null;
  if (mc !== null && size <= MERMAP_BUMP_SIZE) for (const a of mc.allocs) if (!a.in_use) { slot = a; break; }
  if (mm === null || mc === null || slot === null) {
    count_vm_event(NR_EPHMAP_GET_FAILED);
    return 0;
  }
  if (mc.next_addr + size > MERMAP_BUMP_SIZE) {
    // Wrap: flush, then restart after the highest mapping still live.
    mermap_flush(mc);
    let new_next = 0;
    for (const a of mc.allocs) if (a.in_use && a.end > new_next) new_next = a.end;
    mc.next_addr = new_next;
    if (mc.next_addr + size > MERMAP_BUMP_SIZE) {
      count_vm_event(NR_EPHMAP_GET_FAILED);
      return 0;
    }
  }
  slot.in_use = true;
  slot.base = mc.next_addr;
  slot.end = mc.next_addr + size;
  mc.next_addr = slot.end;
  const va = mermap_cpu_base(smp_processor_id()) + slot.base;
  mm_local_map(mm, va, page, nr_pages);
  ephmap_mark_stale(mm, ephmap_mm(mm)!);
  count_vm_event(NR_EPHMAP_GET);
  if (trace_ephmap_get.enabled) trace_ephmap_get.emit({ variant: 'mermap', vaddr: va, pfn: page, nr_pages });
  return va;
}

/** mermap_get_reserved(): the CPU's reserved last page; one page, never fails while the mm has a region. */
export function mermap_get_reserved(page: number): number {
  const p = current();
  if (p.migration_disabled <= 0) BUG('mermap_get_reserved() with migration enabled in %s', p.comm);
  const mm = p.mm;
  const mc = mermap_cpu(mm);
  if (mm === null || mc === null) return 0;
  if (mc.reserved_in_use) BUG('mermap: reserved page of CPU %d already mapped', smp_processor_id());
  mc.reserved_in_use = true;
  const va = mermap_cpu_base(smp_processor_id()) + MERMAP_BUMP_SIZE;
  mm_local_map(mm, va, page, 1);
  ephmap_mark_stale(mm, ephmap_mm(mm)!);
  count_vm_event(NR_EPHMAP_GET);
  if (trace_ephmap_get.enabled) trace_ephmap_get.emit({ variant: 'mermap', vaddr: va, pfn: page, nr_pages: 1 });
  return va;
}

/** mermap_put(): clear the mapping; the reserved page is flushed at once, the bump space lazily. */
export function mermap_put(vaddr: number, nr_pages: number): void {
  const mm = current().mm;
  const mc = mermap_cpu(mm);
  const base = mermap_cpu_base(smp_processor_id());
  if (mm === null || mc === null || vaddr < base || vaddr >= base + MERMAP_CPU_REGION_SIZE)
    BUG('mermap_put(%px): not in this CPU\'s mermap', vaddr);
  if (vaddr === base + MERMAP_BUMP_SIZE) {
    if (!mc.reserved_in_use) BUG('mermap_put(%px): reserved page not mapped', vaddr);
    mm_local_unmap(mm, vaddr, 1);
    ephmap_flush_local(vaddr, 1);
    mc.reserved_in_use = false;
  } else {
    let slot: MermapAlloc | null = null;
    for (const a of mc.allocs) if (a.in_use && base + a.base === vaddr) slot = a;
    if (slot === null || slot.end - slot.base !== nr_pages * PAGE_SIZE) BUG('mermap_put(%px): no such mapping', vaddr);
    mm_local_unmap(mm, vaddr, nr_pages);
    slot.in_use = false;
  }
  count_vm_event(NR_EPHMAP_PUT);
  if (trace_ephmap_put.enabled) trace_ephmap_put.emit({ variant: 'mermap', vaddr, nr_pages });
}

/** The mermap as a folio_map_ops: a single page that finds no room takes the reserved page. */
export const mermap_ops: FolioMapOps = {
  name: 'mermap',
  max_pages: MERMAP_BUMP_SIZE / PAGE_SIZE,
  get: (page, nr_pages) => {
    const va = mermap_get(page, nr_pages);
    if (va || nr_pages !== 1) return va;
    const mc = mermap_cpu(current().mm);
    return mc !== null && !mc.reserved_in_use ? mermap_get_reserved(page) : 0;
  },
  put: mermap_put,
};

/** For tests: this CPU's mermap state of `mm`. */
export function mermap_cpu_state(mm: MmStruct, cpu: number): MermapCpu | null {
  return mermaps.by_mm.get(mm)?.[cpu] ?? null;
}
