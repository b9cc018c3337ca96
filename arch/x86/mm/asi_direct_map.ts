/*
 * arch/x86/mm/asi_direct_map.ts - asi_nonsensitive_pgd, ASI's restricted
 * kernel page-table template, and its copy of the direct map.
 *
 * Mirrors the Sep 2025 series "mm: ASI direct map management" (Brendan
 * Jackman): "x86/mm/asi: set up asi_nonsensitive_pgd" (arch/x86/mm/asi.c)
 * and the direct-map half of preallocate_sub_pgd_pages(). The template's
 * direct map covers all RAM at PAGE_OFFSET like init_mm's, but never with
 * leaves larger than a pageblock: where init_mm has a 1 GiB leaf the
 * template has a PMD table of 2 MiB leaves (synthesised, as asi_map() did),
 * and a RAM tail shorter than 2 MiB gets a PTE table under its PMD. Every
 * table is allocated here, at boot, from memblock (like Linux's boot page
 * tables), so changing a pageblock's sensitivity never allocates: it only
 * sets or clears _PAGE_PRESENT in the pageblock's PMD entry
 * (set_direct_map_sensitive, arch/x86/mm/pat/set_memory.ts). All memory
 * starts sensitive, so every PMD starts not present (with its frame and
 * protections filled in, ready to be switched on).
 *
 * Ownership: the direct-map PGD entries of asi_nonsensitive_pgd are built
 * here; every other kernel PGD entry (LDT range, vmalloc to the top) is
 * shared with init_mm by asi_global_init() in asi.ts.
 *
 * Simplified against the series: init_64.c's phys_pgd_init() is not
 * factored out and shared (the template's direct map has different leaf
 * sizes and starts not present, so it has its own loop over the same
 * pgalloc primitives); "x86/mm/pat: mirror direct map changes to ASI" is
 * not modelled (nothing in tskernel changes direct-map attributes of
 * nonsensitive memory; CPA on init_mm leaves the template alone).
 */
import { pgtable_alloc_page, pgtable_free_page, pud_alloc, pmd_alloc, pte_alloc_kernel } from './pgalloc.ts';
import {
  pgd_offset_pgd, pgdp_get, pudp_get, pmdp_get, ptep_get, set_pmd, set_pte, pfn_pte, pud_offset, pmd_offset,
  pte_offset_kernel, pgd_present, pud_present, pmd_none, pte_pfn, pmd_pfn, pud_pfn, pte_clear, Pteval,
} from './pgtable.ts';
import { PAGE_OFFSET, __va } from '../include/asm/page_64_types.ts';
import { PMD_SIZE, PUD_SIZE, PGDIR_SIZE, pgd_index } from '../include/asm/pgtable_64_types.ts';
import { _PAGE_PRESENT, _PAGE_PSE, type Pgprot } from '../include/asm/pgtable_types.ts';
import { BUG } from '../../../kernel/panic.ts';
import { PageReserved } from '../../../mm/page_flags.ts';
import { page_alloc_asi_init, get_pageblock_sensitive, pageblock_nr_pages } from '../../../mm/mmzone.ts';
import { mem_map } from '../../../mm/mm_types.ts';

export const asi_nonsensitive = {
  /** Direct-map address of asi_nonsensitive_pgd's PGD page; 0 when ASI is off. */
  pgd: 0,
  /** Bytes of RAM its direct map covers (all of it). */
  mapped_bytes: 0,
};

/** A HasPgd for the pgalloc helpers. */
function template(): { pgd: number } {
  return { pgd: asi_nonsensitive.pgd };
}

function must(ptr: number, what: string): number {
  if (!ptr) BUG('asi_nonsensitive_pgd_init: out of memory for the restricted %s', what);
  return ptr;
}

function without_present(v: Pteval): Pteval {
  return new Pteval((v.lo & ~_PAGE_PRESENT) >>> 0, v.hi);
}

/**
 * asi_nonsensitive_pgd_init(): called by init_mem_mapping() when ASI is on,
 * after init_mm's direct map is built (tables come from memblock). Maps
 * physical [0, ram_bytes) at PAGE_OFFSET with `prot_large` 2 MiB leaves
 * (`prot_4k` pages for a short tail), all not present; then the allocator's
 * sensitivity is switched on.
 */
export function asi_nonsensitive_pgd_init(ram_bytes: number, prot_large: Pgprot, prot_4k: Pgprot): void {
  const pgd = must(pgtable_alloc_page(), 'PGD');
  asi_nonsensitive.pgd = pgd;
  asi_nonsensitive.mapped_bytes = ram_bytes;
  const mm = template();
  for (let pa = 0; pa < ram_bytes; pa += PMD_SIZE) {
    const va = PAGE_OFFSET + pa;
    const pudp = must(pud_alloc(mm, pgd_offset_pgd(pgd, va), va), 'PUD');
    const pmdp = must(pmd_alloc(mm, pudp, va), 'PMD');
    if (ram_bytes - pa >= PMD_SIZE) {
      set_pmd(pmdp, without_present(pfn_pte(pa / 4096, prot_large)));
      continue;
    }
    // A tail shorter than a pageblock: 4 KiB pages, switched on and off as one through the PMD.
    for (let q = pa; q < ram_bytes; q += 4096) set_pte(must(pte_alloc_kernel(pmdp, PAGE_OFFSET + q), 'PTE'), pfn_pte(q / 4096, prot_4k));
    set_pmd(pmdp, without_present(pmdp_get(pmdp)));
  }
  page_alloc_asi_init(true);
}

/** With ASI off (every boot starts here): no template, the allocator ignores sensitivity. */
export function asi_nonsensitive_pgd_reset(): void {
  asi_nonsensitive.pgd = 0;
  asi_nonsensitive.mapped_bytes = 0;
  page_alloc_asi_init(false);
}

/**
 * The PMD entry of asi_nonsensitive_pgd that maps direct-map address
 * `addr` (a leaf, or the table of a short tail); 0 if the template has
 * none there (outside RAM, or ASI off). The tables above it are always
 * present: only PMD entries are ever switched.
 */
export function asi_direct_map_pmd(addr: number): number {
  if (!asi_nonsensitive.pgd || addr < PAGE_OFFSET || addr >= PAGE_OFFSET + asi_nonsensitive.mapped_bytes) return 0;
  const pgdp = pgd_offset_pgd(asi_nonsensitive.pgd, addr);
  if (!pgd_present(pgdp_get(pgdp))) return 0;
  const pudp = pud_offset(pgdp, addr);
  if (!pud_present(pudp_get(pudp))) return 0;
  const pmdp = pmd_offset(pudp, addr);
  return pmd_none(pmdp_get(pmdp)) ? 0 : pmdp;
}

/** The PGD indices of the template's direct map. */
function direct_map_pgd_range(): [number, number] {
  const end = PAGE_OFFSET + Math.max(asi_nonsensitive.mapped_bytes, 1) - 1;
  return [pgd_index(PAGE_OFFSET), pgd_index(end) + 1];
}

/*
 * asi_free_direct_map_pgtables() (no Linux counterpart: Linux never tears
 * down asi_nonsensitive_pgd): at shutdown, free the template's direct-map
 * tables that came from the buddy allocator. Tables from memblock are
 * reserved and stay, as init_mm's boot tables do; with every table
 * allocated at boot there are normally none. Only the direct-map PGD
 * entries are visited: the others share init_mm's tables, which
 * free_kernel_pgtables() frees. Returns the pages freed.
 */
export function asi_free_direct_map_pgtables(): number {
  if (!asi_nonsensitive.pgd) return 0;
  let freed = 0;
  const put = (ep: number, table: number): void => {
    if (PageReserved((table - PAGE_OFFSET) / 4096)) return;
    pte_clear(ep);
    pgtable_free_page(table);
    freed++;
  };
  const [from, to] = direct_map_pgd_range();
  for (let i = from; i < to; i++) {
    const pgdp = asi_nonsensitive.pgd + i * 8;
    const pgde = pgdp_get(pgdp);
    if (!pgd_present(pgde)) continue;
    const pud = __va(pte_pfn(pgde) * 4096);
    for (let j = 0; j < 512; j++) {
      const pude = pudp_get(pud + j * 8);
      if (!(pude.lo & _PAGE_PRESENT) || pude.lo & _PAGE_PSE) continue;
      const pmd = __va(pud_pfn(pude) * 4096);
      for (let k = 0; k < 512; k++) {
        const pmde = pmdp_get(pmd + k * 8);
        // A not-present PMD entry may still point at a tail's PTE table.
        if (pmd_none(pmde) || pmde.lo & _PAGE_PSE) continue;
        put(pmd + k * 8, __va(pmd_pfn(pmde) * 4096));
      }
      put(pud + j * 8, pmd);
    }
    put(pgdp, pud);
  }
  return freed;
}

/*
 * asi_direct_map_violations() (no Linux counterpart; the series has a
 * bad_page() check per allocation instead): walk the template's
 * direct-map PGD entries and compare with the pageblock flags. Every
 * present leaf must map a pageblock whose PB_nonsensitive is set, at its
 * own direct-map address; every nonsensitive pageblock must be mapped.
 * Returns what is wrong, as text (at most `max`); [] when all holds.
 */
export function asi_direct_map_violations(max = 20): string[] {
  const errs: string[] = [];
  const err = (m: string): void => { if (errs.length < max) errs.push(m); };
  if (!asi_nonsensitive.pgd) return ['asi_nonsensitive_pgd is not set up'];
  const max_pfn = mem_map.max_pfn;
  const nr_blocks = Math.ceil(max_pfn / pageblock_nr_pages);
  const mapped = new Uint8Array(nr_blocks);
  const leaf = (va: number, pfn: number, nr: number, what: string): void => {
    const want = (va - PAGE_OFFSET) / 4096;
    if (pfn !== want) err(`${what} at ${va.toString(16)} maps pfn ${pfn}, not its direct-map pfn ${want}`);
    for (let p = pfn; p < pfn + nr; p += pageblock_nr_pages) {
      if (p >= max_pfn) {
        err(`${what} at ${va.toString(16)} maps pfn ${p} beyond max_pfn ${max_pfn}`);
        break;
      }
      mapped[Math.floor(p / pageblock_nr_pages)] = 1;
      if (get_pageblock_sensitive(p)) err(`sensitive pageblock ${p - (p % pageblock_nr_pages)} is PRESENT in asi_nonsensitive_pgd (${what} at ${va.toString(16)})`);
    }
  };
  const [from, to] = direct_map_pgd_range();
  for (let i = from; i < to; i++) {
    const pgde = pgdp_get(asi_nonsensitive.pgd + i * 8);
    if (!pgd_present(pgde)) continue;
    const pud = __va(pte_pfn(pgde) * 4096);
    for (let j = 0; j < 512; j++) {
      const va1 = i * PGDIR_SIZE + j * PUD_SIZE;
      const pude = pudp_get(pud + j * 8);
      if (!(pude.lo & _PAGE_PRESENT)) continue;
      if (pude.lo & _PAGE_PSE) {
        leaf(va1, pud_pfn(pude), PUD_SIZE / 4096, '1 GiB leaf');
        continue;
      }
      const pmd = __va(pud_pfn(pude) * 4096);
      for (let k = 0; k < 512; k++) {
        const va2 = va1 + k * PMD_SIZE;
        const pmde = pmdp_get(pmd + k * 8);
        if (!(pmde.lo & _PAGE_PRESENT)) continue;
        if (pmde.lo & _PAGE_PSE) {
          leaf(va2, pmd_pfn(pmde), PMD_SIZE / 4096, '2 MiB leaf');
          continue;
        }
        for (let l = 0; l < 512; l++) {
          const pte = ptep_get(pte_offset_kernel(pmd + k * 8, va2 + l * 4096));
          if (pte.lo & _PAGE_PRESENT) leaf(va2 + l * 4096, pte_pfn(pte), 1, '4 KiB pte');
        }
      }
    }
  }
  for (let b = 0; b < nr_blocks; b++) {
    const pfn = b * pageblock_nr_pages;
    if (!get_pageblock_sensitive(pfn) && !mapped[b]) err(`nonsensitive pageblock ${pfn} is not mapped in asi_nonsensitive_pgd`);
  }
  return errs;
}
