/*
 * mm/mm_struct.ts - struct mm_struct and init_mm.
 *
 * Mirrors struct mm_struct of include/linux/mm_types.h (kept apart from
 * mm_types.ts, which holds struct page's arrays) with the x86 mm_context_t
 * of arch/x86/include/asm/mmu.h, and mm/init-mm.c's init_mm. The VMA tree
 * and the rest of a process's address space are in mm/mmap.ts's MmLayout,
 * hung off `layout` so this file stays free of mm/ imports.
 */
import { MAX_CPUS } from '../arch/x86/hw/smp.ts';
import { ASI_MAX_NUM_CLASSES, type Asi } from '../include/linux/asi.ts';

/** mm_context_t (arch/x86/include/asm/mmu.h). */
export class MmContext {
  /** Unique, never reused; init_mm has 1 (last_mm_ctx_id starts at 1). */
  ctx_id = 0;
  /** Bumped by inc_mm_tlb_gen() after every page-table change that needs a flush. */
  tlb_gen = 0;
}

export class MmStruct {
  /**
   * Kernel virtual (direct-map) address of the PGD page; 0 until allocated.
   * Under PTI it is the kernel half of an 8 KiB pair; the user PGD is at
   * pgd + PAGE_SIZE (kernel_to_user_pgdp).
   */
  pgd = 0;
  readonly context = new MmContext();
  /** mm_users: threads using the address space; mm_count: references to the struct. */
  mm_users = 1;
  mm_count = 1;
  /** mm_cpumask(): CPUs that may hold TLB entries for this mm (trimmed lazily). */
  readonly cpumask = new Uint8Array(MAX_CPUS);
  /** mm->context.next_trim_cpumask, in simulated ns (jiffies + HZ in Linux). */
  next_trim_cpumask_ns = 0;
  /**
   * tlb_flush_pending: page-table changes whose TLB flush has not been
   * done yet (inc_tlb_flush_pending / dec_tlb_flush_pending,
   * mm/mmu_gather.ts); mm_tlb_flush_pending() tells a fault it may be
   * racing a stale entry.
   */
  tlb_flush_pending = 0;
  /** The process address space (VMAs, counters); null for init_mm. */
  layout: unknown = null;
  /**
   * mm->asi[ASI_MAX_NUM_CLASSES]: this mm's restricted address spaces, one
   * per class, made by asi_init() (mm/asi.ts); null where none is.
   */
  readonly asi: (Asi | null)[] = new Array<Asi | null>(ASI_MAX_NUM_CLASSES).fill(null);
  constructor(readonly name: string) {}
}

/** init_mm: the kernel's own address space; its PGD's upper half is every mm's. */
export const mm_state = {
  init_mm: new MmStruct('init_mm'),
  /** last_mm_ctx_id (arch/x86/mm/tlb.c). */
  last_mm_ctx_id: 1,
};

export function init_mm(): MmStruct {
  return mm_state.init_mm;
}

export function init_mm_init(): void {
  const mm = new MmStruct('init_mm');
  mm.context.ctx_id = 1;
  mm_state.init_mm = mm;
  mm_state.last_mm_ctx_id = 1;
}

/** init_new_context(): a fresh ctx_id, tlb_gen 0. */
export function init_new_context(mm: MmStruct): void {
  mm.context.ctx_id = ++mm_state.last_mm_ctx_id;
  mm.context.tlb_gen = 0;
}

/** mm_cpumask as a sorted list of CPU numbers. */
export function mm_cpumask_cpus(mm: MmStruct, nr_cpus: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < nr_cpus; c++) if (mm.cpumask[c]) out.push(c);
  return out;
}
