/*
 * mm/mmu_gather.ts - batching the TLB flush of a page-table change.
 *
 * Mirrors mm/mmu_gather.c and include/asm-generic/tlb.h: an unmap clears
 * PTEs into a struct mmu_gather, which remembers the range touched
 * (__tlb_adjust_range), the pages whose mapping went away
 * (__tlb_remove_page) and the page tables unhooked (freed_tables). The
 * pages may only go back to the allocator after the TLB flush, or another
 * CPU could still reach them through a stale entry: tlb_flush_mmu() does
 * the flush (tlb_flush_mmu_tlbonly: one flush_tlb_mm_range over the
 * gathered range) and then drops the page references
 * (tlb_flush_mmu_free). tlb_gather_mmu() / tlb_finish_mmu() bracket the
 * batch with inc_tlb_flush_pending() / dec_tlb_flush_pending(), so a fault
 * in the window can tell (mm_tlb_flush_pending) that the page tables are
 * ahead of some TLB.
 * Simplified: the batch is an array (Linux's is pages of
 * struct encoded_page pointers, flushed early when full: here it never
 * fills); no RCU table freeing (the flush runs before the tables are
 * freed, which is what x86 needs); no delayed rmap.
 */
import type { MmStruct } from './mm_struct.ts';
import { put_page } from './page_alloc.ts';
import { pgtable_free_page } from '../arch/x86/mm/pgalloc.ts';
import { flush_tlb_mm_range } from '../arch/x86/mm/tlb.ts';
import { TLB_FLUSH_ALL } from '../arch/x86/include/asm/tlbflush.ts';
import { PAGE_SHIFT } from '../arch/x86/include/asm/page_types.ts';
import { BUG } from '../kernel/panic.ts';

/** struct mmu_gather. */
export class MmuGather {
  /** Pages whose last PTE in this batch is gone: one reference each to drop after the flush. */
  readonly pages: number[] = [];
  /** Page-table pages unhooked (kernel addresses), freed after the flush. */
  readonly tables: number[] = [];
  /** The gathered range [start, end); start > end while empty (__tlb_reset_range). */
  start = Infinity;
  end = 0;
  /** fullmm: the whole address space goes (exit_mmap); the flush covers all of it. */
  fullmm = false;
  constructor(readonly mm: MmStruct) {}
  /** freed_tables: page tables were freed, so lazy CPUs must drop the mm too. */
  get freed_tables(): boolean {
    return this.tables.length > 0;
  }
}

/** inc_tlb_flush_pending(): a page-table change whose flush is still to come. */
export function inc_tlb_flush_pending(mm: MmStruct): void {
  mm.tlb_flush_pending++;
}

/** dec_tlb_flush_pending(): that flush is done. */
export function dec_tlb_flush_pending(mm: MmStruct): void {
  if (--mm.tlb_flush_pending < 0) BUG('tlb_flush_pending of mm %s went negative', mm.name);
}

/** mm_tlb_flush_pending(): some CPU may still translate through PTEs already changed. */
export function mm_tlb_flush_pending(mm: MmStruct): boolean {
  return mm.tlb_flush_pending > 0;
}

/** flush_tlb_mm() (asm/tlbflush.h): every user translation of `mm`, on every CPU that may hold one. */
export function flush_tlb_mm(mm: MmStruct): void {
  flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL, PAGE_SHIFT, false);
}

/** tlb_gather_mmu(): start a batch on `mm`. */
export function tlb_gather_mmu(mm: MmStruct): MmuGather {
  inc_tlb_flush_pending(mm);
  return new MmuGather(mm);
}

/** tlb_gather_mmu_fullmm(): start a batch that tears the whole address space down. */
export function tlb_gather_mmu_fullmm(mm: MmStruct): MmuGather {
  const tlb = tlb_gather_mmu(mm);
  tlb.fullmm = true;
  return tlb;
}

/** __tlb_adjust_range(): widen the range to flush by [address, address + range_size). */
export function __tlb_adjust_range(tlb: MmuGather, address: number, range_size: number): void {
  if (address < tlb.start) tlb.start = address;
  if (address + range_size > tlb.end) tlb.end = address + range_size;
}

/** tlb_remove_tlb_entry(): a PTE at `address` was cleared or downgraded. */
export function tlb_remove_tlb_entry(tlb: MmuGather, address: number): void {
  __tlb_adjust_range(tlb, address, 1 << PAGE_SHIFT);
}

/** __tlb_remove_page(): drop this reference to `page` once the TLB is flushed. */
export function __tlb_remove_page(tlb: MmuGather, page: number): void {
  tlb.pages.push(page);
}

/** tlb_remove_table(): a page-table page (kernel address) to free after the flush. */
export function tlb_remove_table(tlb: MmuGather, table: number): void {
  tlb.tables.push(table);
}

/* tlb_flush_mmu_tlbonly(): the flush, if anything was gathered. */
function tlb_flush_mmu_tlbonly(tlb: MmuGather): void {
  if (tlb.fullmm) flush_tlb_mm_range(tlb.mm, 0, TLB_FLUSH_ALL, PAGE_SHIFT, tlb.freed_tables);
  else if (tlb.end > tlb.start) flush_tlb_mm_range(tlb.mm, tlb.start, tlb.end, PAGE_SHIFT, tlb.freed_tables);
  tlb.start = Infinity; // __tlb_reset_range()
  tlb.end = 0;
}

/* tlb_flush_mmu_free(): only now may the pages and tables be reused. */
function tlb_flush_mmu_free(tlb: MmuGather): void {
  for (const page of tlb.pages) put_page(page);
  for (const t of tlb.tables) pgtable_free_page(t);
  tlb.pages.length = 0;
  tlb.tables.length = 0;
}

/** tlb_flush_mmu(): flush what was gathered, then free it. */
export function tlb_flush_mmu(tlb: MmuGather): void {
  tlb_flush_mmu_tlbonly(tlb);
  tlb_flush_mmu_free(tlb);
}

/** tlb_finish_mmu(): end the batch: flush, free, and the flush is no longer pending. */
export function tlb_finish_mmu(tlb: MmuGather): void {
  tlb_flush_mmu(tlb);
  dec_tlb_flush_pending(tlb.mm);
}
