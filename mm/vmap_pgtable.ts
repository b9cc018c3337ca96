/*
 * mm/vmap_pgtable.ts - mapping and unmapping vmalloc space in init_mm.
 *
 * Mirrors the "Page table manipulation functions" at the top of
 * mm/vmalloc.c (vmap_pages_range() and its per-level helpers,
 * vunmap_range_noflush(), vunmap_range(), vmalloc_to_page()) and
 * arch/x86/mm/init_64.c's preallocate_vmalloc_pages(): at boot every PGD
 * entry covering VMALLOC_START..VMALLOC_END gets its PUD page, so the
 * kernel half of the PGD never changes afterwards and every mm that copied
 * it (pgd_alloc's clone of KERNEL_PGD_BOUNDARY..PTRS_PER_PGD) sees new
 * vmalloc mappings without arch_sync_kernel_mappings().
 * Entry pointers are direct-map addresses and entries are read and written
 * through the MMU on the current CPU (arch/x86/mm/pgtable.ts); each PTE
 * written or cleared also charges the pte_update step cost.
 * Simplified: 4 KiB pages only (no huge vmap, so vmap_try_huge_pmd/pud and
 * the VM_ALLOW_HUGE_VMAP paths are left out); no pgtbl_mod_mask tracking
 * (nothing to sync, the upper levels are preallocated).
 * Freeing: like Linux, vunmap leaves emptied PTE and PMD tables in place
 * for the next mapping. Linux never frees them (nor the preallocated PUD
 * pages); tskernel's vmalloc_free_pgtables(), called by vmalloc_shutdown(),
 * gives every table under the VMALLOC range back so that shutdown's leak
 * check sees only real leaks.
 */
import { init_mm } from './mm_struct.ts';
import { this_cpu } from '../kernel/smp.ts';
import { BUG, WARN, WARN_ON_ONCE } from '../kernel/panic.ts';
import {
  pgd_offset, p4d_offset, pud_offset, pmd_offset, pte_offset_kernel, ptep_get, pgdp_get, pudp_get, pmdp_get,
  set_pte, pte_clear, pgd_clear, pud_clear, pmd_clear, pfn_pte, pte_none, pte_present, pte_pfn, pud_pfn, pmd_pfn,
  pgd_pfn, pgd_none, pud_none, pmd_none, pud_leaf, pmd_leaf,
} from '../arch/x86/mm/pgtable.ts';
import { pud_alloc, pmd_alloc, pte_alloc_kernel, pgtable_free_page } from '../arch/x86/mm/pgalloc.ts';
import { flush_tlb_kernel_range } from '../arch/x86/mm/tlb.ts';
import type { Pgprot } from '../arch/x86/include/asm/pgtable_types.ts';
import { PAGE_SIZE, PAGE_SHIFT } from '../arch/x86/include/asm/page_types.ts';
import { __va } from '../arch/x86/include/asm/page_64_types.ts';
import {
  VMALLOC_START, VMALLOC_END, PGDIR_SIZE, PUD_SIZE, PMD_SIZE, MODULES_VADDR, MODULES_END,
} from '../arch/x86/include/asm/pgtable_64_types.ts';
import { pfn_valid } from './mm_types.ts';
import { PageReserved } from './page_flags.ts';
import { EBUSY, EINVAL, ENOMEM } from '../include/uapi/asm-generic/errno.ts';

export function is_vmalloc_addr(addr: number): boolean {
  return addr >= VMALLOC_START && addr < VMALLOC_END;
}

export function is_vmalloc_or_module_addr(addr: number): boolean {
  if (addr >= MODULES_VADDR && addr < MODULES_END) return true;
  return is_vmalloc_addr(addr);
}

/* pgd_addr_end() and friends: the next boundary of the level, or end. */
function level_addr_end(addr: number, end: number, size: number): number {
  const b = (Math.floor(addr / size) + 1) * size;
  return b < end ? b : end;
}

/** Cost of one PTE written or cleared by kernel code, as mm/memory.ts charges it. */
function charge_pte_updates(n: number): void {
  const cpu = this_cpu();
  cpu.charge('pte_update', n);
}

/**
 * vmap_pages_range_noflush(): map pages[i] at addr + i * PAGE_SIZE with
 * `prot`, allocating PMD and PTE tables as needed. 0, or -ENOMEM (no
 * table page), -EBUSY (a PTE already present: WARN), -EINVAL (bad pfn).
 */
export function vmap_pages_range_noflush(
  addr: number, end: number, prot: Pgprot, pages: readonly number[], page_shift: number,
): number {
  if (page_shift !== PAGE_SHIFT) WARN(true, 'vmap: page_shift %d: huge vmap is not modelled', page_shift);
  if (addr >= end) BUG('vmap_pages_range_noflush: %px >= %px', addr, end);
  const mm = init_mm();
  let nr = 0;
  let a = addr;
  let err = 0;
  while (a < end) {
    const next = level_addr_end(a, end, PMD_SIZE);
    const p4dp = p4d_offset(pgd_offset(mm, a), a);
    const pudp = pud_alloc(mm, p4dp, a);
    if (!pudp) { err = -ENOMEM; break; }
    const pmdp = pmd_alloc(mm, pudp, a);
    if (!pmdp) { err = -ENOMEM; break; }
    let ptep = pte_alloc_kernel(pmdp, a);
    if (!ptep) { err = -ENOMEM; break; }
    const start_nr = nr;
    for (; a < next; a += PAGE_SIZE, ptep += 8) {
      const page = pages[nr];
      if (!pte_none(ptep_get(ptep))) {
        WARN(true, 'vmap: PTE for %px already present', a);
        err = -EBUSY;
        break;
      }
      if (page === undefined || page === null) {
        WARN(true, 'vmap: no page for %px', a);
        err = -ENOMEM;
        break;
      }
      if (!pfn_valid(page)) {
        WARN(true, 'vmap: pfn %d is not valid', page);
        err = -EINVAL;
        break;
      }
      set_pte(ptep, pfn_pte(page, prot));
      nr++;
    }
    charge_pte_updates(nr - start_nr);
    if (err) break;
  }
  return err;
}

/** vmap_pages_range(): the same, then flush_cache_vmap() (a no-op on x86). */
export function vmap_pages_range(
  addr: number, end: number, prot: Pgprot, pages: readonly number[], page_shift: number,
): number {
  return vmap_pages_range_noflush(addr, end, prot, pages, page_shift);
}

/**
 * vunmap_range_noflush(): clear every PTE in [start, end). No TLB flush:
 * the caller flushes (vunmap_range) or defers it (the lazy purge).
 * Empty tables stay, as in Linux.
 */
export function vunmap_range_noflush(start: number, end: number): void {
  if (start >= end) BUG('vunmap_range_noflush: %px >= %px', start, end);
  const mm = init_mm();
  let a = start;
  let cleared = 0;
  while (a < end) {
    const pgdp = pgd_offset(mm, a);
    if (pgd_none(pgdp_get(pgdp))) {
      a = level_addr_end(a, end, PGDIR_SIZE);
      continue;
    }
    const pudp = pud_offset(p4d_offset(pgdp, a), a);
    const pud = pudp_get(pudp);
    if (pud_none(pud)) {
      a = level_addr_end(a, end, PUD_SIZE);
      continue;
    }
    if (pud_leaf(pud)) BUG('vunmap: huge PUD at %px (huge vmap is not modelled)', a);
    const pmdp = pmd_offset(pudp, a);
    const pmd = pmdp_get(pmdp);
    const next = level_addr_end(a, end, PMD_SIZE);
    if (pmd_none(pmd)) {
      a = next;
      continue;
    }
    if (pmd_leaf(pmd)) BUG('vunmap: huge PMD at %px (huge vmap is not modelled)', a);
    let ptep = pte_offset_kernel(pmdp, a);
    for (; a < next; a += PAGE_SIZE, ptep += 8) {
      const ptent = ptep_get(ptep);
      if (pte_none(ptent)) continue;
      pte_clear(ptep); // ptep_get_and_clear()
      cleared++;
      if (!pte_present(ptent)) WARN_ON_ONCE(true, 'vunmap_pte_range: non-present PTE');
    }
  }
  charge_pte_updates(cleared);
}

/** vunmap_range(): clear the PTEs and flush the TLBs now. */
export function vunmap_range(addr: number, end: number): void {
  vunmap_range_noflush(addr, end);
  flush_tlb_kernel_range(addr, end);
}

/**
 * vmalloc_to_page(): walk init_mm's tables to the page mapped at addr; its
 * pfn, or null when nothing is mapped there.
 */
export function vmalloc_to_page(addr: number): number | null {
  if (!is_vmalloc_or_module_addr(addr)) WARN_ON_ONCE(true, 'vmalloc_to_page: not a vmalloc or module address');
  const pgdp = pgd_offset(init_mm(), addr);
  if (pgd_none(pgdp_get(pgdp))) return null;
  const pudp = pud_offset(p4d_offset(pgdp, addr), addr);
  const pud = pudp_get(pudp);
  if (pud_none(pud)) return null;
  if (pud_leaf(pud)) return pud_pfn(pud) + Math.floor((addr % PUD_SIZE) / PAGE_SIZE);
  const pmdp = pmd_offset(pudp, addr);
  const pmd = pmdp_get(pmdp);
  if (pmd_none(pmd)) return null;
  if (pmd_leaf(pmd)) return pmd_pfn(pmd) + Math.floor((addr % PMD_SIZE) / PAGE_SIZE);
  const pte = ptep_get(pte_offset_kernel(pmdp, addr));
  return pte_present(pte) ? pte_pfn(pte) : null;
}

/** vmalloc_to_pfn(). */
export function vmalloc_to_pfn(addr: number): number | null {
  return vmalloc_to_page(addr);
}

/**
 * preallocate_vmalloc_pages() (arch/x86/mm/init_64.c): give each PGD entry
 * of the VMALLOC range its PUD page now, so the top level never changes.
 * Returns the number of PUD pages allocated.
 */
export function preallocate_vmalloc_pages(): number {
  const mm = init_mm();
  let n = 0;
  for (let addr = VMALLOC_START; addr <= VMALLOC_END; addr = (Math.floor(addr / PGDIR_SIZE) + 1) * PGDIR_SIZE) {
    const pgdp = pgd_offset(mm, addr);
    const had = !pgd_none(pgdp_get(pgdp));
    const pudp = pud_alloc(mm, p4d_offset(pgdp, addr), addr);
    if (!pudp) BUG('Failed to pre-allocate pud pages for vmalloc area');
    if (!had) n++;
  }
  return n;
}

/**
 * vmalloc_free_pgtables() (no Linux counterpart: Linux keeps them): free
 * every PTE, PMD and PUD table under the VMALLOC range that came from the
 * buddy allocator and clear the entries pointing at them. For shutdown
 * only; any vmalloc area still mapped loses its mapping (its pages remain
 * and are reported as leaked). Returns the number of tables freed.
 */
export function vmalloc_free_pgtables(): number {
  const mm = init_mm();
  let freed = 0;
  const release = (entryp: number, table_pfn: number, clear: (p: number) => void): void => {
    if (PageReserved(table_pfn)) return; // from memblock at boot: stays, as shutdown expects
    clear(entryp);
    pgtable_free_page(__va(table_pfn * PAGE_SIZE));
    freed++;
  };
  for (let addr = VMALLOC_START; addr <= VMALLOC_END; addr = (Math.floor(addr / PGDIR_SIZE) + 1) * PGDIR_SIZE) {
    const pgdp = pgd_offset(mm, addr);
    const pgd = pgdp_get(pgdp);
    if (pgd_none(pgd)) continue;
    const pud_table = __va(pgd_pfn(pgd) * PAGE_SIZE);
    for (let i = 0; i < 512; i++) {
      const pudp = pud_table + i * 8;
      const pud = pudp_get(pudp);
      if (pud_none(pud) || pud_leaf(pud)) continue;
      const pmd_table = __va(pud_pfn(pud) * PAGE_SIZE);
      for (let j = 0; j < 512; j++) {
        const pmdp = pmd_table + j * 8;
        const pmd = pmdp_get(pmdp);
        if (pmd_none(pmd) || pmd_leaf(pmd)) continue;
        release(pmdp, pmd_pfn(pmd), pmd_clear);
      }
      release(pudp, pud_pfn(pud), pud_clear);
    }
    release(pgdp, pgd_pfn(pgd), pgd_clear);
  }
  return freed;
}
