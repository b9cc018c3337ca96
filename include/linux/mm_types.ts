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
 * mm/mmap.ts searches by binary search; a VMA has no anon_vma (the rmap
 * of anonymous pages is their _mapcount only: nothing walks it).
 */
import { DEFAULT_MAP_WINDOW } from '../../arch/x86/include/asm/page_64_types.ts';
import type { File } from './fs.ts';
import type { VmOperationsStruct } from './mm.ts';
import type { MmStruct } from '../../mm/mm_struct.ts';

/** struct vm_area_struct: [vm_start, vm_end) with one set of vm_flags (include/linux/mm.ts). */
export class VmAreaStruct {
  /** vm_mm: the address space this VMA belongs to (null only while it is being built). */
  vm_mm: MmStruct | null = null;
  /** vm_file: the mapped file (holds a file reference), null for anonymous memory. */
  vm_file: File | null = null;
  /** vm_pgoff: the file offset of vm_start, in pages. */
  vm_pgoff = 0;
  /** vm_ops: the file's fault handlers (generic_file_vm_ops, shmem_vm_ops); null for anonymous memory. */
  vm_ops: VmOperationsStruct | null = null;
  constructor(public vm_start: number, public vm_end: number, public vm_flags: number) {}
}

/** The parts of struct mm_struct that describe a process address space. */
export class MmLayout {
  /** VMAs sorted by vm_start, never overlapping. */
  readonly vmas: VmAreaStruct[] = [];
  mmap_base = DEFAULT_MAP_WINDOW - 128 * 2 ** 20; // below a 128 MiB stack gap (mmap_base())
  /** MM_ANONPAGES (get_mm_counter). */
  anon_rss = 0;
  /** MM_FILEPAGES: page-cache pages mapped (file mmap, shared or not yet copied). */
  file_rss = 0;
  /** Page-table pages this mm owns (mm_pgtables_bytes / PAGE_SIZE). */
  nr_ptes = 0;
  /** map_count. */
  get map_count(): number {
    return this.vmas.length;
  }
}
