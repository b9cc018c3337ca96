/*
 * arch/x86/mm/asi_direct_map.ts - asi_nonsensitive_pgd, ASI's restricted
 * kernel page-table template, and its copy of the direct map.
 *
 * Mirrors the Sep 2025 series "mm: ASI direct map management" (Brendan
 * Jackman): "x86/mm/asi: set up asi_nonsensitive_pgd" (arch/x86/mm/asi.c)
 * and "x86/mm: factor out phys_pgd_init()" (init_64.c). The template's
 * direct map is pre-allocated down to pageblock (2 MiB PMD) granularity so
 * that changing a pageblock's sensitivity never allocates a page table;
 * the rest of the kernel half (LDT range, vmalloc to the top) is shared
 * with init_mm by cloning PGD entries (asi_global_init() in asi.ts).
 *
 * Work in progress: the PGD page is allocated; the restricted direct map
 * and set_direct_map_sensitive() land with the page allocator's
 * sensitivity (issue 14).
 */
import { pgtable_alloc_page } from './pgalloc.ts';
import { BUG } from '../../../kernel/panic.ts';

export const asi_nonsensitive = {
  /** Direct-map address of asi_nonsensitive_pgd's PGD page; 0 when ASI is off. */
  pgd: 0,
};

/**
 * asi_nonsensitive_pgd_init(): called by init_mem_mapping() when ASI is on,
 * after init_mm's direct map is built (tables come from memblock).
 */
export function asi_nonsensitive_pgd_init(): void {
  const pgd = pgtable_alloc_page();
  if (!pgd) BUG('asi_nonsensitive_pgd_init: out of memory for the restricted PGD');
  asi_nonsensitive.pgd = pgd;
}

/** With ASI off (every boot starts here). */
export function asi_nonsensitive_pgd_reset(): void {
  asi_nonsensitive.pgd = 0;
}
