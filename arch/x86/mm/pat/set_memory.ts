/*
 * arch/x86/mm/pat/set_memory.ts - change page attributes (CPA) of the direct map.
 *
 * Mirrors arch/x86/mm/pat/set_memory.c: split_large_page() turns a 1 GiB
 * leaf into 512 2 MiB leaves, or a 2 MiB leaf into 512 4 KiB PTEs with
 * the same translations (PAT moving from bit 12 to bit 7), so one page's
 * mapping can change; __change_page_attr() then sets and clears bits on the
 * 4 KiB PTE. set_direct_map_invalid_noflush / _default_noflush are the
 * entry points secretmem uses and ASI's direct-map management needs;
 * set_memory_np / _p go through change_page_attr_set_clr(), which first
 * calls vm_unmap_aliases() (no lazily unmapped vmap alias of a page may
 * keep its old attributes in some TLB), and flush with cpa_flush's rule
 * (range up to the ceiling, else everything). The _noflush entry points
 * skip both, as Linux's __set_pages_np/_p do.
 * Simplified: changes are always applied at 4 KiB (Linux keeps a large page
 * when the whole of it changes: should_split_large_page), no cpa_array /
 * pages-array variants, no alias processing (the kernel image alias of the
 * direct map is not kept in step), no cache-mode changes.
 *
 * ASI (Sep 2025 "mm: ASI direct map management"): set_direct_map_sensitive()
 * is CPA on asi_nonsensitive_pgd, one pageblock (one PMD entry) at a time,
 * flipping _PAGE_PRESENT; the series does it through
 * __change_page_attr_set_clr with CPA_NO_CHECK_ALIAS and
 * .on_fault = CPA_FAULT_ERROR, here it is a direct PMD update because the
 * template's tables are pre-allocated to exactly that level (no split,
 * no allocation, a missing entry is -EFAULT). Unmapping is followed by
 * flush_tlb_kernel_range() over the blocks (an IPI to every CPU, a full
 * flush past tlb_single_page_flush_ceiling, which one 2 MiB block already
 * is); mapping needs no flush (x86 caches no not-present entries).
 */
import { init_mm } from '../../../../mm/mm_struct.ts';
import { BUG } from '../../../../kernel/panic.ts';
import { __pa } from '../../include/asm/page_64_types.ts';
import { _KERNPG_TABLE, _PAGE_PRESENT, _PAGE_PSE, __PAGE_KERNEL, pgprot_large_2_4k, Pgprot } from '../../include/asm/pgtable_types.ts';
import { page_address } from '../../../../mm/mm_types.ts';
import {
  lookup_address_in_pgd, ptep_get, set_pte, pfn_pte, mk_table_entry, pud_pfn, pmd_pfn, pte_pgprot,
  Pteval, PG_LEVEL_1G, PG_LEVEL_2M, PG_LEVEL_4K,
} from '../pgtable.ts';
import { pgtable_alloc_page } from '../pgalloc.ts';
import { update_page_count, kernel_pgprot } from '../init_64.ts';
import { flush_tlb_all, flush_tlb_kernel_range } from '../tlb.ts';
import { vm_unmap_aliases } from '../../../../mm/vmap_block.ts';
import { asi_direct_map_pmd } from '../asi_direct_map.ts';
import { pmdp_get, set_pmd } from '../pgtable.ts';
import { PMD_SIZE } from '../../include/asm/pgtable_64_types.ts';
import { pageblock_nr_pages, register_set_direct_map_sensitive } from '../../../../mm/mmzone.ts';
import { EFAULT, EINVAL } from '../../../../include/uapi/asm-generic/errno.ts';

export const cpa_state = {
  /** Splits performed (Linux counts them in cpa_stats under CONFIG_CPA_STATISTICS). */
  nr_split_1g: 0,
  nr_split_2m: 0,
};

/** At every boot: no splits yet (Linux's cpa_stats_init() only creates the debugfs file). */
export function cpa_stats_init(): void {
  cpa_state.nr_split_1g = 0;
  cpa_state.nr_split_2m = 0;
}

/*
 * split_large_page(): replace the leaf at `kpte` (level 1G or 2M) by a table
 * of 512 smaller leaves mapping the same range with the same protections.
 * Returns false on -ENOMEM. Flushes all TLBs afterwards, as
 * __split_large_page() does, so no CPU mixes large and small entries.
 */
export function split_large_page(kpte: number, level: number): boolean {
  const old = ptep_get(kpte);
  const table = pgtable_alloc_page();
  if (!table) return false;
  const prot = pte_pgprot(old);
  if (level === PG_LEVEL_1G) {
    const base = pud_pfn(old);
    for (let i = 0; i < 512; i++) set_pte(table + i * 8, pfn_pte(base + i * 512, prot));
    update_page_count(PG_LEVEL_1G, -1);
    update_page_count(PG_LEVEL_2M, 512);
    cpa_state.nr_split_1g++;
  } else if (level === PG_LEVEL_2M) {
    const base = pmd_pfn(old);
    const small = pgprot_large_2_4k(prot);
    for (let i = 0; i < 512; i++) set_pte(table + i * 8, pfn_pte(base + i, small));
    update_page_count(PG_LEVEL_2M, -1);
    update_page_count(PG_LEVEL_4K, 512);
    cpa_state.nr_split_2m++;
  } else {
    BUG('split_large_page at level %d', level);
  }
  set_pte(kpte, mk_table_entry(__pa(table) / 4096, _KERNPG_TABLE));
  flush_tlb_all();
  return true;
}

/**
 * The 4 KiB PTE mapping `addr` in init_mm, splitting large leaves on the
 * way; 0 if there is no mapping at all (or on -ENOMEM while splitting).
 */
export function kernel_pte_split(addr: number): number {
  for (;;) {
    const r = lookup_address_in_pgd(init_mm().pgd, addr);
    if (r.level === PG_LEVEL_4K) return r.ptep;
    if (!r.present) return 0;
    if (r.level !== PG_LEVEL_1G && r.level !== PG_LEVEL_2M) return 0;
    if (!split_large_page(r.ptep, r.level)) return 0;
  }
}

/** __change_page_attr for one 4 KiB page: new = (old & ~clr) | set. Returns 0 or -errno. */
function change_page_attr(addr: number, set: Pgprot, clr: Pgprot): number {
  const ptep = kernel_pte_split(addr);
  if (!ptep) return -12; // -ENOMEM or unmapped
  const old = ptep_get(ptep);
  const lo = ((old.lo & ~clr.lo) | set.lo) >>> 0;
  const hi = ((old.hi & ~clr.hi) | set.hi) >>> 0;
  if ((old.lo & _PAGE_PSE) !== 0) BUG('CPA found a large leaf at 4K level, %px', addr);
  if (lo !== old.lo || hi !== old.hi) set_pte(ptep, new Pteval(lo, hi));
  return 0;
}

const NO_BITS = new Pgprot(0, 0);

/** set_direct_map_invalid_noflush(): unmap one page from the direct map, no TLB flush. */
export function set_direct_map_invalid_noflush(pfn: number): number {
  return change_page_attr(page_address(pfn), NO_BITS, new Pgprot(_PAGE_PRESENT, 0));
}

/** set_direct_map_default_noflush(): map it again with PAGE_KERNEL, no TLB flush. */
export function set_direct_map_default_noflush(pfn: number): number {
  const ptep = kernel_pte_split(page_address(pfn));
  if (!ptep) return -12;
  set_pte(ptep, pfn_pte(pfn, kernel_pgprot(__PAGE_KERNEL)));
  return 0;
}

/** cpa_flush(): the changed range on every CPU, or everything past the ceiling. */
function cpa_flush(addr: number, numpages: number): void {
  flush_tlb_kernel_range(addr, addr + numpages * 4096);
}

/**
 * change_page_attr_set_clr(): set and clear bits on [addr, addr + numpages
 * pages), then flush. Lazy vmap aliases go first (kmap_flush_unused() has
 * nothing to do without highmem).
 */
function change_page_attr_set_clr(addr: number, numpages: number, set: Pgprot, clr: Pgprot): number {
  vm_unmap_aliases();
  for (let i = 0; i < numpages; i++) {
    const r = change_page_attr(addr + i * 4096, set, clr);
    if (r) return r;
  }
  cpa_flush(addr, numpages);
  return 0;
}

/** set_memory_np(): make [addr, addr + numpages pages) not present, and flush. */
export function set_memory_np(addr: number, numpages: number): number {
  return change_page_attr_set_clr(addr, numpages, NO_BITS, new Pgprot(_PAGE_PRESENT, 0));
}

/** set_memory_p(): present again. */
export function set_memory_p(addr: number, numpages: number): number {
  return change_page_attr_set_clr(addr, numpages, new Pgprot(_PAGE_PRESENT, 0), NO_BITS);
}

/** Test-only switch (no Linux counterpart): skip the shootdown to show what it prevents. */
export const cpa_asi_test = {
  skip_flush_tlb_kernel_range: false,
};

/**
 * set_direct_map_sensitive(page, nr_pageblocks, sensitive): unmap
 * (sensitive) or map the pageblocks starting at `page` in
 * asi_nonsensitive_pgd. Returns 0, -EINVAL for a page that does not start
 * a pageblock, or -EFAULT where the template has no PMD entry (outside RAM).
 */
export function set_direct_map_sensitive(page: number, nr_pageblocks: number, sensitive: boolean): number {
  if (page % pageblock_nr_pages !== 0 || nr_pageblocks <= 0) return -EINVAL;
  const addr = page_address(page);
  for (let i = 0; i < nr_pageblocks; i++) {
    const pmdp = asi_direct_map_pmd(addr + i * PMD_SIZE);
    if (!pmdp) return -EFAULT;
    const old = pmdp_get(pmdp);
    const lo = sensitive ? (old.lo & ~_PAGE_PRESENT) >>> 0 : (old.lo | _PAGE_PRESENT) >>> 0;
    if (lo !== old.lo) set_pmd(pmdp, new Pteval(lo, old.hi));
  }
  if (sensitive && !cpa_asi_test.skip_flush_tlb_kernel_range)
    flush_tlb_kernel_range(addr, addr + nr_pageblocks * PMD_SIZE);
  return 0;
}

register_set_direct_map_sensitive(set_direct_map_sensitive);
