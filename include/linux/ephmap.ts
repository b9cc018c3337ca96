/*
 * include/linux/ephmap.ts - the ephmap's layout, and the "map this folio
 * for me, briefly" step that its rivals implement too.
 *
 * Mirrors include/linux/ephmap.h of the ASI branch (bjackman/linux, Aug
 * 2025; asi.md 4.9.1): the ephmap sits at EPHEMERAL_FILEMAP_BASE_ADDR, the
 * first PUD boundary after the LDT remap, in the mm-local PGD slot; CPU n
 * owns EPHMAP_CPU_REGION_SIZE bytes (the largest folio) starting at
 * EPHEMERAL_FILEMAP_BASE_ADDR + n * EPHMAP_CPU_REGION_SIZE.
 * The mermap (asi.md 4.9.6) follows at the next PUD boundary, with a
 * 4 MiB bump region per CPU whose last page is reserved.
 *
 *   MM_LOCAL_BASE_ADDR  ffff880000000000  LDT remap (PMD_SIZE)
 *   EPHEMERAL_FILEMAP_BASE_ADDR ffff880040000000  CPU 0 | CPU 1 | ... (2 MiB each, NR_CPUS)
 *   MERMAP_BASE_ADDR    ffff880080000000  CPU 0 | CPU 1 | ... (4 MiB each, NR_CPUS)
 *   MM_LOCAL_END        ffff888000000000
 *
 * struct folio_map_ops has no Linux counterpart: it is tskernel's switch
 * between the mechanisms the thread compared (ephmap=percpu|vmalloc|kmap|
 * mermap|off), so the same read and write paths can run on each.
 */
import { PAGE_SIZE } from '../../arch/x86/include/asm/page_types.ts';
import { LDT_END_ADDR, PUD_SIZE, MM_LOCAL_END } from '../../arch/x86/include/asm/pgtable_64_types.ts';
import { MAX_PAGECACHE_ORDER } from './pagemap.ts';
import { NR_CPUS } from './threads.ts';

/** ALIGN(x, a) for a power-of-two a, on 48-bit numbers (no 32-bit bit operations). */
function align_up(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** EPHEMERAL_FILEMAP_BASE_ADDR: ALIGN(LDT_END_ADDR, PUD_SIZE) ("a hack to ease freeing page tables"). */
export const EPHEMERAL_FILEMAP_BASE_ADDR = align_up(LDT_END_ADDR, PUD_SIZE);
/** EPHMAP_CPU_REGION_SIZE: PAGE_SIZE << MAX_PAGECACHE_ORDER, 2 MiB. */
export const EPHMAP_CPU_REGION_SIZE = PAGE_SIZE * 2 ** MAX_PAGECACHE_ORDER;
export const EPHMAP_SIZE = EPHMAP_CPU_REGION_SIZE * NR_CPUS;
export const EPHMAP_END_ADDR = EPHEMERAL_FILEMAP_BASE_ADDR + EPHMAP_SIZE;

/** MERMAP_BASE_ADDR: the mermap region, the next PUD boundary after the ephmap. */
export const MERMAP_BASE_ADDR = align_up(EPHMAP_END_ADDR, PUD_SIZE);
/** MERMAP_CPU_REGION_SIZE: two PTE tables per CPU: two largest folios, or 1023 single pages and the reserved one. */
export const MERMAP_CPU_REGION_SIZE = 2 * EPHMAP_CPU_REGION_SIZE;
export const MERMAP_END_ADDR = MERMAP_BASE_ADDR + MERMAP_CPU_REGION_SIZE * NR_CPUS;
/** MERMAP_NR_ALLOCS: concurrent mappings per (mm, CPU), struct mermap_cpu.allocs[4]. */
export const MERMAP_NR_ALLOCS = 4;

/** The part of the mm-local slot that ephmap_setup() builds tables for and ephmap_cleanup() frees. */
export const MM_LOCAL_EPHEMERAL_START = EPHEMERAL_FILEMAP_BASE_ADDR;
export const MM_LOCAL_EPHEMERAL_END = MERMAP_END_ADDR;

if (MERMAP_END_ADDR > MM_LOCAL_END) throw new Error('ephmap/mermap do not fit the mm-local PGD slot'); // BUG_ON(EPHMAP_END_ADDR > MM_LOCAL_END)

/** The ephmap= modes. */
export type EphmapMode = 'percpu' | 'vmalloc' | 'kmap' | 'mermap' | 'off';
export const EPHMAP_MODES: readonly EphmapMode[] = ['percpu', 'vmalloc', 'kmap', 'mermap', 'off'];

/**
 * struct folio_map_ops (no Linux counterpart): map `nr_pages` physically
 * contiguous pages starting at `page` for the current task on this CPU,
 * with migration disabled by the caller, and take the mapping down again.
 * get() returns the kernel virtual address of the first page, or 0 when it
 * cannot (too big, no room, no mm): the caller then copies through the
 * physmap. max_pages is the most one get() can map (1 for kmap).
 */
export interface FolioMapOps {
  readonly name: EphmapMode;
  readonly max_pages: number;
  get(page: number, nr_pages: number): number;
  put(vaddr: number, nr_pages: number): void;
}
