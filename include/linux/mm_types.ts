/*
 * include/linux/mm_types.ts - struct vm_area_struct and a process's address-space layout.
 *
 * Mirrors the VMA half of include/linux/mm_types.h: struct vm_area_struct,
 * and the fields of struct mm_struct that describe the user address space
 * (the VMA tree, mmap_base, map_count, the anon RSS counter, page-table
 * bytes), gathered in MmLayout (no Linux counterpart: mm_struct keeps them
 * inline; here MmStruct, mm/mm_struct.ts, points at one). struct page's
 * half is mm/mm_types.ts (mem_map).
 * Simplified: the VMAs are a sorted array (Linux's maple tree) that
 * mm/mmap.ts searches by binary search; a VMA has no file, offset or
 * anon_vma.
 */
import { DEFAULT_MAP_WINDOW } from '../../arch/x86/include/asm/page_64_types.ts';

/** struct vm_area_struct: [vm_start, vm_end) with one set of vm_flags (include/linux/mm.ts). */
export class VmAreaStruct {
  constructor(public vm_start: number, public vm_end: number, public vm_flags: number) {}
}

/** The parts of struct mm_struct that describe a process address space. */
export class MmLayout {
  /** VMAs sorted by vm_start, never overlapping. */
  readonly vmas: VmAreaStruct[] = [];
  mmap_base = DEFAULT_MAP_WINDOW - 128 * 2 ** 20; // below a 128 MiB stack gap (mmap_base())
  /** MM_ANONPAGES (get_mm_counter). */
  anon_rss = 0;
  /** Page-table pages this mm owns (mm_pgtables_bytes / PAGE_SIZE). */
  nr_ptes = 0;
  /** map_count. */
  get map_count(): number {
    return this.vmas.length;
  }
}
