/*
 * mm/memory.ts - user page tables: faults, zapping, protection changes.
 *
 * Mirrors mm/memory.c (handle_mm_fault, do_anonymous_page, zap_pte_range,
 * free_pgtables) and mm/mprotect.c's change_pte_range for private
 * anonymous memory. Demand-zero pages come from GFP_HIGHUSER_MOVABLE with
 * __GFP_ZERO, so they are cleared through the direct map on the faulting
 * CPU. Under PTI every user PGD entry is mirrored into the user half of
 * the PGD pair (pti_set_user_pgtbl).
 * Simplified: no zero page for read faults (every fault allocates), no
 * copy-on-write (no fork without CLONE_VM shares pages), no THP, no swap,
 * no page-table locks.
 */
import type { MmStruct } from './mm_struct.ts';
import type { MmLayout, VmAreaStruct } from '../include/linux/mm_types.ts';
import { VM_WRITE, VM_EXEC, VM_READ } from '../include/linux/mm.ts';
import { alloc_pages, __free_pages } from './page_alloc.ts';
import { GFP_HIGHUSER_MOVABLE, __GFP_ZERO } from './gfp.ts';
import { vm_event_item, count_vm_event } from './vmstat.ts';
import {
  pgd_offset, p4d_offset, pud_offset, pmd_offset, pte_offset_kernel, ptep_get, set_pte, pte_clear, pfn_pte,
  pgdp_get, pudp_get, pmdp_get, pgd_present, pud_present, pmd_present, pte_present, pte_none, pte_pfn, Pteval,
  pgd_pfn, pud_pfn, pmd_pfn, set_pgd,
} from '../arch/x86/mm/pgtable.ts';
import { pud_alloc, pmd_alloc, pte_alloc_kernel, pgtable_free_page } from '../arch/x86/mm/pgalloc.ts';
import { flush_tlb_mm_range } from '../arch/x86/mm/tlb.ts';
import { _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_NX_HI, _PAGE_PROTNONE, Pgprot } from '../arch/x86/include/asm/pgtable_types.ts';
import { __va } from '../arch/x86/include/asm/page_64_types.ts';
import { PGDIR_SIZE, PUD_SIZE, PMD_SIZE } from '../arch/x86/include/asm/pgtable_64_types.ts';
import { this_cpu } from '../kernel/smp.ts';
import { pti_state } from '../arch/x86/mm/pti.ts';
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';

/* Cost-key indices as module locals: an imported binding is a getter under the TS loaders. */
const K_PTE_UPDATE = COST_KEY_INDEX.pte_update, K_FAULT_WORK = COST_KEY_INDEX.fault_work;
import { asi_clone_user_pgtbl } from './asi.ts';
import { ksym, kernel_ip_enter, kernel_ip_exit } from '../include/linux/instruction_pointer.ts';

/* The page-table walk of an unmap, as a #PF site (include/linux/instruction_pointer.ts). */
const SYM_ZAP_PTE_RANGE = ksym('zap_pte_range');

export const PGFAULT = vm_event_item('pgfault');

/* VM_FAULT_* (include/linux/mm_types.h) */
export const VM_FAULT_OOM = 0x000001;
export const VM_FAULT_SIGSEGV = 0x000040;
export const VM_FAULT_NOPAGE = 0x000100;
export const VM_FAULT_DONE = 0;

/** vm_get_page_prot(): the PTE protection for vm_flags (x86 protection_map). */
export function vm_get_page_prot(vm_flags: number): Pgprot {
  if (!(vm_flags & (VM_READ | VM_WRITE | VM_EXEC))) return new Pgprot(_PAGE_PROTNONE | _PAGE_ACCESSED, 0);
  let lo = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
  if (vm_flags & VM_WRITE) lo |= _PAGE_RW;
  return new Pgprot(lo >>> 0, vm_flags & VM_EXEC ? 0 : _PAGE_NX_HI);
}

function layout_of(mm: MmStruct): MmLayout {
  return mm.layout as MmLayout;
}

/** pti_set_user_pgtbl(): mirror a user PGD entry into the user PGD of a PTI pair. */
function pti_sync_pgd(mm: MmStruct, pgdp: number): void {
  asi_clone_user_pgtbl(mm, pgdp);
  if (!pti_state.enabled) return;
  set_pgd(pgdp + 4096, pgdp_get(pgdp));
}

/** The PTE slot for addr, allocating tables; 0 on -ENOMEM. */
function user_pte_alloc(mm: MmStruct, addr: number): number {
  const pgdp = pgd_offset(mm, addr);
  const had = pgd_present(pgdp_get(pgdp));
  const pudp = pud_alloc(mm, p4d_offset(pgdp, addr), addr);
  if (!pudp) return 0;
  if (!had) {
    layout_of(mm).nr_ptes++;
    pti_sync_pgd(mm, pgdp);
  }
  const had_pmd = pud_present(pudp_get(pudp));
  const pmdp = pmd_alloc(mm, pudp, addr);
  if (!pmdp) return 0;
  if (!had_pmd) layout_of(mm).nr_ptes++;
  const had_pte = pmd_present(pmdp_get(pmdp));
  const ptep = pte_alloc_kernel(pmdp, addr);
  if (!ptep) return 0;
  if (!had_pte) layout_of(mm).nr_ptes++;
  return ptep;
}

/** do_anonymous_page(): a zeroed page mapped at addr. */
function do_anonymous_page(mm: MmStruct, vma: VmAreaStruct, ptep: number, _addr: number): number {
  const pfn = alloc_pages(GFP_HIGHUSER_MOVABLE | __GFP_ZERO, 0);
  if (pfn === null) return VM_FAULT_OOM;
  set_pte(ptep, pfn_pte(pfn, vm_get_page_prot(vma.vm_flags)));
  this_cpu().charge_one(K_PTE_UPDATE);
  layout_of(mm).anon_rss++;
  return VM_FAULT_DONE;
}

/**
 * handle_mm_fault(): resolve a fault at addr in vma. `write` says the
 * access was a write. Returns 0 or VM_FAULT_* bits.
 */
export function handle_mm_fault(mm: MmStruct, vma: VmAreaStruct, addr: number, write: boolean): number {
  count_vm_event(PGFAULT);
  this_cpu().charge_one(K_FAULT_WORK);
  const page = addr - (addr % 4096);
  const ptep = user_pte_alloc(mm, page);
  if (!ptep) return VM_FAULT_OOM;
  const pte = ptep_get(ptep);
  if (pte_none(pte)) return do_anonymous_page(mm, vma, ptep, page);
  if (!(pte.lo & _PAGE_PRESENT)) return VM_FAULT_SIGSEGV; // PROT_NONE
  if (write && !(pte.lo & _PAGE_RW)) {
    if (!(vma.vm_flags & VM_WRITE)) return VM_FAULT_SIGSEGV;
    set_pte(ptep, new Pteval((pte.lo | _PAGE_RW | _PAGE_DIRTY) >>> 0, pte.hi));
  }
  return VM_FAULT_NOPAGE; // already mapped: a stale or spurious fault, retry
}

/**
 * struct mmu_gather: pages and page tables unmapped but not yet freed. They
 * may only go back to the allocator after the TLB flush, or another CPU
 * could still reach them through a stale entry.
 */
export class MmuGather {
  readonly pages: number[] = [];
  readonly tables: number[] = [];
  start = Infinity;
  end = 0;
  constructor(readonly mm: MmStruct) {}
  get freed_tables(): boolean {
    return this.tables.length > 0;
  }
}

/** tlb_finish_mmu(): flush the gathered range, then free what was gathered. */
export function tlb_finish_mmu(tlb: MmuGather): void {
  if (tlb.end > tlb.start) flush_tlb_mm_range(tlb.mm, tlb.start, tlb.end, 12, tlb.freed_tables);
  for (const pfn of tlb.pages) __free_pages(pfn, 0);
  for (const t of tlb.tables) pgtable_free_page(t);
  tlb.pages.length = 0;
  tlb.tables.length = 0;
}

/** zap_page_range(): unmap every page in [start, end) into the gather. */
export function zap_page_range(tlb: MmuGather, start: number, end: number): void {
  const mm = tlb.mm;
  const l = layout_of(mm);
  const ip = kernel_ip_enter(SYM_ZAP_PTE_RANGE);
  walk_ptes(mm, start, end, (ptep) => {
    const v = ptep_get(ptep);
    if (pte_none(v)) return;
    pte_clear(ptep);
    tlb.pages.push(pte_pfn(v));
    l.anon_rss--;
  });
  kernel_ip_exit(ip);
  tlb.start = Math.min(tlb.start, start);
  tlb.end = Math.max(tlb.end, end);
}

/** change_protection(): rewrite present PTEs in [start, end) for vm_flags. Returns PTEs changed. */
export function change_protection(mm: MmStruct, start: number, end: number, vm_flags: number): number {
  const prot = vm_get_page_prot(vm_flags);
  let n = 0;
  walk_ptes(mm, start, end, (ptep) => {
    const v = ptep_get(ptep);
    if (!pte_present(v)) return;
    const keep = v.lo & (_PAGE_DIRTY | _PAGE_ACCESSED);
    const nv = pfn_pte(pte_pfn(v), prot);
    set_pte(ptep, new Pteval((nv.lo | keep) >>> 0, nv.hi));
    n++;
  });
  return n;
}

/* Visit each existing PTE slot in [start, end). */
function walk_ptes(mm: MmStruct, start: number, end: number, fn: (ptep: number) => void): void {
  for (let a = start; a < end;) {
    const pgdp = pgd_offset(mm, a);
    if (!pgd_present(pgdp_get(pgdp))) { a = next_boundary(a, PGDIR_SIZE); continue; }
    const pudp = pud_offset(p4d_offset(pgdp, a), a);
    if (!pud_present(pudp_get(pudp))) { a = next_boundary(a, PUD_SIZE); continue; }
    const pmdp = pmd_offset(pudp, a);
    if (!pmd_present(pmdp_get(pmdp))) { a = next_boundary(a, PMD_SIZE); continue; }
    const stop = Math.min(end, next_boundary(a, PMD_SIZE));
    for (; a < stop; a += 4096) fn(pte_offset_kernel(pmdp, a));
  }
}

function next_boundary(a: number, size: number): number {
  return a - (a % size) + size;
}

function covered(l: MmLayout, lo: number, hi: number): boolean {
  for (const v of l.vmas) if (v.vm_start < hi && v.vm_end > lo) return true;
  return false;
}

/*
 * free_pgtables(): unhook the page tables under [start, end) whose whole
 * span no VMA uses any more, gathering them for tlb_finish_mmu(). Returns
 * true if any was (the flush must then reach lazy CPUs too).
 */
export function free_pgtables(tlb: MmuGather, start: number, end: number, l: MmLayout): boolean {
  const mm = tlb.mm;
  let freed = false;
  const free_table = (entryp: number, pfn: number): void => {
    pte_clear(entryp);
    tlb.tables.push(__va(pfn * 4096));
    l.nr_ptes--;
    freed = true;
  };
  const g0 = start - (start % PGDIR_SIZE);
  for (let g = g0; g < end && g < 2 ** 47; g += PGDIR_SIZE) {
    const pgdp = pgd_offset(mm, g);
    const pgd = pgdp_get(pgdp);
    if (!pgd_present(pgd)) continue;
    const pud_table = __va(pgd_pfn(pgd) * 4096);
    for (let i = 0; i < 512; i++) {
      const u = g + i * PUD_SIZE;
      if (u + PUD_SIZE <= start || u >= end) continue;
      const pudp = pud_table + i * 8;
      const pud = pudp_get(pudp);
      if (!pud_present(pud)) continue;
      const pmd_table = __va(pud_pfn(pud) * 4096);
      for (let j = 0; j < 512; j++) {
        const m = u + j * PMD_SIZE;
        if (m + PMD_SIZE <= start || m >= end) continue;
        const pmdp = pmd_table + j * 8;
        const pmd = pmdp_get(pmdp);
        if (!pmd_present(pmd) || covered(l, m, m + PMD_SIZE)) continue;
        free_table(pmdp, pmd_pfn(pmd));
      }
      if (!covered(l, u, u + PUD_SIZE) && table_empty(pmd_table)) free_table(pudp, pud_pfn(pud));
    }
    if (!covered(l, g, g + PGDIR_SIZE) && table_empty(pud_table)) {
      free_table(pgdp, pgd_pfn(pgd));
      if (pti_state.enabled) pte_clear(pgdp + 4096);
      asi_clone_user_pgtbl(mm, pgdp);
    }
  }
  return freed;
}

function table_empty(table: number): boolean {
  for (let i = 0; i < 512; i++) if (!pte_none(ptep_get(table + i * 8))) return false;
  return true;
}
