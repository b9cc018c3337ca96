/*
 * arch/x86/mm/init_64.ts - the kernel page tables: direct map and kernel text.
 *
 * Mirrors arch/x86/mm/init_64.c (kernel_physical_mapping_init and its
 * phys_pud_init / phys_pmd_init / phys_pte_init) and the parts of
 * arch/x86/mm/init.c's init_mem_mapping() that matter here: all RAM is
 * mapped at PAGE_OFFSET with 1 GiB leaves where physical address and size
 * allow (unless nogbpages), 2 MiB leaves where they allow, 4 KiB pages for
 * the rest; the kernel image is mapped at __START_KERNEL_map with 2 MiB
 * global executable pages. direct_pages_count feeds /proc/meminfo's
 * DirectMap4k/2M/1G and follows CPA splits.
 * Simplified: one contiguous RAM range from physical 0 (no e820 holes), no
 * KASLR, no memory hotplug, no separate rodata/NX sections in the image.
 */
import { init_mm } from '../../../mm/mm_struct.ts';
import { __PAGE_KERNEL, __PAGE_KERNEL_LARGE, __PAGE_KERNEL_LARGE_EXEC, pgprot_nonglobal, type Pgprot } from '../include/asm/pgtable_types.ts';
import { PAGE_OFFSET, __START_KERNEL_map, __PHYSICAL_START, KERNEL_IMAGE_BYTES, __va } from '../include/asm/page_64_types.ts';
import { PMD_SIZE, PUD_SIZE } from '../include/asm/pgtable_64_types.ts';
import {
  pgd_offset, p4d_offset, pfn_pte, set_pte, set_pmd, set_pud, ptep_get, pte_clear, pte_pfn, Pteval,
  PG_LEVEL_1G, PG_LEVEL_2M, PG_LEVEL_4K,
} from './pgtable.ts';
import { pgtable_alloc_page, pgtable_free_page, pud_alloc, pmd_alloc, pte_alloc_kernel } from './pgalloc.ts';
import { PageReserved } from '../../../mm/page_flags.ts';
import { _PAGE_PRESENT, _PAGE_PSE } from '../include/asm/pgtable_types.ts';
import { BUG } from '../../../kernel/panic.ts';
import { register_param, flag_param } from '../../../kernel/params.ts';
import { asi_state } from './asi.ts';
import { asi_nonsensitive_pgd_init, asi_nonsensitive_pgd_reset, asi_free_direct_map_pgtables } from './asi_direct_map.ts';

declare module '../../../kernel/params.ts' {
  interface KernelParams {
    /** nogbpages: no 1 GiB leaves in the direct map (direct_gbpages = 0). */
    nogbpages: boolean;
  }
}

/*
 * nogbpages: init_64.c's early_param("nogbpages", parse_direct_gbpages_off),
 * which clears direct_gbpages; start_kernel passes !nogbpages to
 * init_mem_mapping().
 */
register_param(flag_param('nogbpages', 'nogbpages [X86] Do not use GB pages for kernel direct mappings.', true));

export const init64_state = {
  /** direct_gbpages: 1 GiB leaves allowed (cleared by nogbpages). */
  direct_gbpages: true,
  /** direct_pages_count[PG_LEVEL_*]: leaves of each size in the direct map. */
  direct_pages_count: [0, 0, 0, 0],
  /** Kernel mappings are global unless PTI (or ASI) drops _PAGE_GLOBAL. */
  kernel_global: true,
  /** Bytes of RAM mapped (max_pfn_mapped << PAGE_SHIFT). */
  mapped_bytes: 0,
};

/** A kernel pgprot masked by __default_kernel_pte_mask (no _PAGE_GLOBAL under PTI). */
export function kernel_pgprot(p: Pgprot): Pgprot {
  return kprot(p);
}

function kprot(p: Pgprot): Pgprot {
  return init64_state.kernel_global ? p : pgprot_nonglobal(p);
}

/** update_page_count(): a level gained or lost leaves (CPA calls it on split). */
export function update_page_count(level: number, delta: number): void {
  init64_state.direct_pages_count[level] += delta;
}

function must(ptr: number, what: string): number {
  if (!ptr) BUG('out of memory for %s page tables at boot', what);
  return ptr;
}

/*
 * Map physical [start, end) at PAGE_OFFSET + start with the largest leaves
 * alignment allows. Returns the bytes mapped.
 */
export function kernel_physical_mapping_init(start: number, end: number): number {
  const mm = init_mm();
  let pa = start;
  while (pa < end) {
    const va = PAGE_OFFSET + pa;
    const pudp = must(pud_alloc(mm, p4d_offset(pgd_offset(mm, va), va), va), 'PUD');
    if (init64_state.direct_gbpages && pa % PUD_SIZE === 0 && end - pa >= PUD_SIZE) {
      set_pud(pudp, pfn_pte(pa / 4096, kprot(__PAGE_KERNEL_LARGE)));
      update_page_count(PG_LEVEL_1G, 1);
      pa += PUD_SIZE;
      continue;
    }
    const pmdp = must(pmd_alloc(mm, pudp, va), 'PMD');
    if (pa % PMD_SIZE === 0 && end - pa >= PMD_SIZE) {
      set_pmd(pmdp, pfn_pte(pa / 4096, kprot(__PAGE_KERNEL_LARGE)));
      update_page_count(PG_LEVEL_2M, 1);
      pa += PMD_SIZE;
      continue;
    }
    const ptep = must(pte_alloc_kernel(pmdp, va), 'PTE');
    set_pte(ptep, pfn_pte(pa / 4096, kprot(__PAGE_KERNEL)));
    update_page_count(PG_LEVEL_4K, 1);
    pa += 4096;
  }
  init64_state.mapped_bytes = Math.max(init64_state.mapped_bytes, end);
  return end - start;
}

/** The kernel image at __START_KERNEL_map + phys, 2 MiB global executable pages (level2_kernel_pgt). */
export function map_kernel_image(): void {
  const mm = init_mm();
  const end = __PHYSICAL_START + KERNEL_IMAGE_BYTES;
  for (let pa = __PHYSICAL_START - (__PHYSICAL_START % PMD_SIZE); pa < end; pa += PMD_SIZE) {
    const va = __START_KERNEL_map + pa;
    const pudp = must(pud_alloc(mm, p4d_offset(pgd_offset(mm, va), va), va), 'PUD');
    const pmdp = must(pmd_alloc(mm, pudp, va), 'PMD');
    set_pmd(pmdp, pfn_pte(pa / 4096, kprot(__PAGE_KERNEL_LARGE_EXEC)));
  }
}

/**
 * init_mem_mapping(): build init_mm's PGD with the direct map of all RAM
 * and the kernel image. Runs in early boot: tables come from memblock.
 */
export function init_mem_mapping(ram_bytes: number, gbpages: boolean, kernel_global: boolean): void {
  init64_state.direct_gbpages = gbpages;
  init64_state.kernel_global = kernel_global;
  init64_state.direct_pages_count = [0, 0, 0, 0];
  init64_state.mapped_bytes = 0;
  const mm = init_mm();
  mm.pgd = must(pgtable_alloc_page(), 'PGD');
  kernel_physical_mapping_init(0, ram_bytes);
  map_kernel_image();
  asi_nonsensitive_pgd_reset();
  // ASI's restricted template gets its own direct map, with init_mm's protections.
  if (asi_state.enabled) asi_nonsensitive_pgd_init(ram_bytes, kprot(__PAGE_KERNEL_LARGE), kprot(__PAGE_KERNEL));
}

/** /proc/meminfo's DirectMap lines, in kB. */
export function direct_map_meminfo(): Record<string, number> {
  const c = init64_state.direct_pages_count;
  return { DirectMap4k: c[PG_LEVEL_4K] * 4, DirectMap2M: c[PG_LEVEL_2M] * 2048, DirectMap1G: c[PG_LEVEL_1G] * 1048576 };
}

/*
 * free_kernel_pgtables() (no Linux counterpart: Linux never tears down its
 * kernel page tables): at shutdown, give back every kernel page-table page
 * that came from the buddy allocator after boot (CPA splits, vmalloc's
 * lower levels), so the leak check sees only real leaks. Boot-time tables
 * from memblock are reserved and stay. ASI's template direct map goes
 * first (its tables are its own; the rest of it shares init_mm's).
 */
export function free_kernel_pgtables(): number {
  let freed = asi_free_direct_map_pgtables();
  /* Visit the tables under entries [from, 512) of `table` at `level` (4 PGD .. 1 PTE). */
  const visit = (table: number, level: number, from: number): void => {
    for (let i = from; i < 512; i++) {
      const ep = table + i * 8;
      const e = ptep_get(ep);
      if (!(e.lo & _PAGE_PRESENT) || level === 1 || (level < 4 && (e.lo & _PAGE_PSE))) continue;
      const child_pfn = pte_pfn(new Pteval(e.lo & 0xfffff000, e.hi));
      visit(__va(child_pfn * 4096), level - 1, 0);
      if (!PageReserved(child_pfn)) {
        pte_clear(ep);
        pgtable_free_page(__va(child_pfn * 4096));
        freed++;
      }
    }
  };
  visit(init_mm().pgd, 4, 256); // the kernel half
  return freed;
}
