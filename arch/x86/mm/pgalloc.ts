/*
 * arch/x86/mm/pgalloc.ts - allocating and populating page-table pages.
 *
 * Mirrors arch/x86/include/asm/pgalloc.h (pud/pmd/pte populate) and the
 * generic __pud_alloc / __pmd_alloc / __pte_alloc_kernel of mm/memory.c.
 * During early boot, as in Linux's alloc_low_pages(), table pages come from
 * memblock and are cleared by physical address (head_64.S's early mapping
 * in Linux); once the buddy allocator is up they are GFP_PGTABLE_KERNEL
 * pages, zeroed through the direct map by __GFP_ZERO.
 * Simplified: no page-table page accounting (NR_PAGETABLE) yet, no locks.
 */
import { machine, this_cpu } from '../../../kernel/smp.ts';
import { BUG } from '../../../kernel/panic.ts';
import { __va, __pa } from '../include/asm/page_64_types.ts';
import { _PAGE_TABLE } from '../include/asm/pgtable_types.ts';
import { alloc_pages, __free_pages } from '../../../mm/page_alloc.ts';
import { memblock_phys_alloc } from '../../../mm/memblock.ts';
import { should_failslab } from '../../../mm/failslab.ts';
import { GFP_KERNEL, __GFP_ZERO } from '../../../mm/gfp.ts';
import {
  pgtable_state, pgdp_get, pudp_get, pmdp_get, pgd_none, pud_none, pmd_none, set_pgd, ptep_get_lo,
  mk_table_entry, pud_offset, pmd_offset, pte_offset_kernel, type HasPgd,
} from './pgtable.ts';
import { COST_KEY_INDEX } from '../hw/costs.ts';

/* Cost-key indices as module locals: an imported binding is a getter under the TS loaders. */
const K_PTE_ALLOC = COST_KEY_INDEX.pte_alloc;

/** GFP_PGTABLE_KERNEL (asm-generic/pgalloc.h). */
export const GFP_PGTABLE_KERNEL = GFP_KERNEL | __GFP_ZERO;

export const pgalloc_state = {
  /** Table pages taken from memblock at boot (never freed, as in Linux). */
  early_pages: 0,
  /** Table pages from the buddy allocator, live. */
  nr_pagetable: 0,
};

/** At every boot, before the first table is allocated: no table pages yet. */
export function pgalloc_init(): void {
  pgalloc_state.early_pages = 0;
  pgalloc_state.nr_pagetable = 0;
}

/**
 * A zeroed page for a page table: its direct-map address, or 0 when memory
 * is exhausted (the caller returns -ENOMEM).
 */
export function pgtable_alloc_page(): number {
  if (pgtable_state.early) {
    const pa = memblock_phys_alloc(4096, 4096);
    if (!pa) BUG('alloc_low_pages: ran out of memory for early page tables');
    machine().mem.fill(pa, 0, 4096);
    pgalloc_state.early_pages++;
    return __va(pa);
  }
  if (should_failslab('pgtable', GFP_PGTABLE_KERNEL)) return 0; // failslab's knob on table pages too (see mm/failslab.ts)
  const pfn = alloc_pages(GFP_PGTABLE_KERNEL, 0);
  if (pfn === null) return 0;
  // The table page's constructor and accounting (pagetable_*_ctor, NR_PAGETABLE).
  this_cpu().charge_one(K_PTE_ALLOC);
  pgalloc_state.nr_pagetable++;
  return __va(pfn * 4096);
}

/** Free a table page taken from the buddy allocator (pte_free_kernel, pmd_free, ...). */
export function pgtable_free_page(table: number): void {
  if (pgtable_state.early) BUG('freeing page table %px during early boot', table);
  pgalloc_state.nr_pagetable--;
  __free_pages(__pa(table) / 4096, 0);
}

/** p4d_populate / pud_populate / pmd_populate_kernel: point an entry at a table. */
export function populate(entryp: number, table: number, flags = _PAGE_TABLE): void {
  set_pgd(entryp, mk_table_entry(__pa(table) / 4096, flags));
}

/** __pud_alloc: the PUD entry for `addr`, allocating the PUD table if needed; 0 on -ENOMEM. */
export function pud_alloc(_mm: HasPgd, p4dp: number, addr: number): number {
  if (pgd_none(pgdp_get(p4dp))) {
    const t = pgtable_alloc_page();
    if (!t) return 0;
    populate(p4dp, t);
  }
  return pud_offset(p4dp, addr);
}

export function pmd_alloc(_mm: HasPgd, pudp: number, addr: number): number {
  if (pud_none(pudp_get(pudp))) {
    const t = pgtable_alloc_page();
    if (!t) return 0;
    populate(pudp, t);
  }
  return pmd_offset(pudp, addr);
}

/** pte_alloc_kernel: the PTE for `addr` under a kernel PMD entry; 0 on -ENOMEM. */
export function pte_alloc_kernel(pmdp: number, addr: number): number {
  if (pmd_none(pmdp_get(pmdp))) {
    const t = pgtable_alloc_page();
    if (!t) return 0;
    populate(pmdp, t);
  }
  return pte_offset_kernel(pmdp, addr);
}


/**
 * pgd_alloc(): a PGD for a new mm with init_mm's kernel half copied in
 * (clone_pgd_range over KERNEL_PGD_BOUNDARY..PTRS_PER_PGD). Under PTI an
 * 8 KiB pair (order 1). Returns the kernel PGD's address or 0.
 */
export function pgd_alloc(kernel_pgd: number, pti: boolean): number {
  const order = pti ? 1 : 0;
  const pfn = alloc_pages(GFP_PGTABLE_KERNEL, order);
  if (pfn === null) return 0;
  pgalloc_state.nr_pagetable += 1 << order;
  const pgd = __va(pfn * 4096);
  for (let i = 256; i < 512; i++) {
    const lo = ptep_get_lo(kernel_pgd + i * 8);
    if (lo) set_pgd(pgd + i * 8, pgdp_get(kernel_pgd + i * 8));
  }
  return pgd;
}

/** pgd_free(). */
export function pgd_free(pgd: number, pti: boolean): void {
  const order = pti ? 1 : 0;
  pgalloc_state.nr_pagetable -= 1 << order;
  __free_pages(__pa(pgd) / 4096, order);
}
