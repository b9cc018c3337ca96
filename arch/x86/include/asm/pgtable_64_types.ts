/*
 * arch/x86/include/asm/pgtable_64_types.ts - levels, shifts and the map.
 *
 * Mirrors arch/x86/include/asm/pgtable_64_types.h for 4-level paging
 * (pgtable_l5_enabled() false: PGDIR_SHIFT 39, the P4D folded). The ranges
 * are Documentation/arch/x86/x86_64/mm.rst's, stored as 48-bit numbers.
 *
 * A 48-bit virtual address splits into four 9-bit table indices and a 12-bit
 * offset:  47..39 PGD | 38..30 PUD | 29..21 PMD | 20..12 PTE | 11..0 offset.
 * A PUD or PMD entry with _PAGE_PSE set is a 1 GiB or 2 MiB leaf.
 */
import { __START_KERNEL_map, TASK_SIZE_MAX } from './page_64_types.ts';

export const PGDIR_SHIFT = 39;
export const P4D_SHIFT = 39;
export const PUD_SHIFT = 30;
export const PMD_SHIFT = 21;
export const PTRS_PER_PGD = 512;
export const PTRS_PER_P4D = 1; // folded with 4-level paging
export const PTRS_PER_PUD = 512;
export const PTRS_PER_PMD = 512;
export const PTRS_PER_PTE = 512;

export const PGDIR_SIZE = 2 ** PGDIR_SHIFT;
export const P4D_SIZE = 2 ** P4D_SHIFT;
export const PUD_SIZE = 2 ** PUD_SHIFT;
export const PMD_SIZE = 2 ** PMD_SHIFT;

/** KERNEL_PGD_BOUNDARY: PGD entries 256..511 map the kernel half. */
export const PGD_KERNEL_START = 256;
export const KERNEL_PGD_PTRS = PTRS_PER_PGD - PGD_KERNEL_START;

/** Each slot is a PGD index (pgd_index of the range's start). */
export const GUARD_HOLE_PGD_ENTRY = 256; // -256
export const GUARD_HOLE_BASE_ADDR = 0x800000000000;
export const GUARD_HOLE_END_ADDR = 0x880000000000;
export const LDT_PGD_ENTRY = 272; // -240
export const LDT_BASE_ADDR = 0x880000000000;
export const LDT_END_ADDR = LDT_BASE_ADDR + PGDIR_SIZE;
/*
 * MM_LOCAL_PGD_ENTRY (the ASI branch's ephmap prototype): one PGD slot,
 * the LDT's, whose entry belongs to each mm rather than to init_mm, and is
 * shared into the mm's restricted address spaces (mm/asi.ts).
 */
export const MM_LOCAL_PGD_ENTRY = LDT_PGD_ENTRY; // -240
export const MM_LOCAL_BASE_ADDR = LDT_BASE_ADDR;
export const MM_LOCAL_END_ADDR = LDT_END_ADDR;

export const VMALLOC_SIZE_TB = 32;
export const __VMALLOC_BASE_L4 = 0xc90000000000;
export const VMALLOC_START = __VMALLOC_BASE_L4;
export const VMALLOC_END = VMALLOC_START + VMALLOC_SIZE_TB * 2 ** 40 - 1; // inclusive, as Linux
export const __VMEMMAP_BASE_L4 = 0xea0000000000;
export const VMEMMAP_START = __VMEMMAP_BASE_L4;

export const CPU_ENTRY_AREA_PGD = 508; // -4
export const CPU_ENTRY_AREA_BASE = 0xfe0000000000;
export const ESPFIX_PGD_ENTRY = 510; // -2
export const ESPFIX_BASE_ADDR = 0xff0000000000;
export const EFI_VA_START = 0xffff00000000; // -4 GiB
export const EFI_VA_END = 0xffef00000000; // -68 GiB

export const MODULES_VADDR = 0xffffa0000000; // __START_KERNEL_map + KERNEL_IMAGE_SIZE
export const MODULES_END = 0xffffff000000;
export const MODULES_LEN = MODULES_END - MODULES_VADDR;

export const VSYSCALL_ADDR = 0xffffff600000;
/** round_up(VSYSCALL_ADDR + PAGE_SIZE, PMD_SIZE) - PAGE_SIZE. */
export const FIXADDR_TOP = 0xffffff7ff000;

/** The table index of `va` at the level whose entries cover 2^shift bytes. */
export function pgd_index(va: number): number {
  return Math.floor(va / PGDIR_SIZE) & 511;
}
export function pud_index(va: number): number {
  return Math.floor(va / PUD_SIZE) & 511;
}
export function pmd_index(va: number): number {
  return (va >>> PMD_SHIFT) & 511; // bits 29..21 survive ToUint32
}
export function pte_index(va: number): number {
  return (va >>> 12) & 511;
}

/** The memory map as mm.rst prints it, for boot output and docs. */
export const KERNEL_MEMORY_MAP: readonly { start: number; end: number; name: string }[] = [
  { start: 0, end: TASK_SIZE_MAX, name: 'user space, per mm' },
  { start: GUARD_HOLE_BASE_ADDR, end: GUARD_HOLE_END_ADDR, name: 'guard hole (hypervisor)' },
  { start: LDT_BASE_ADDR, end: LDT_END_ADDR, name: 'LDT remap for PTI' },
  { start: 0x888000000000, end: 0xc88000000000, name: 'direct mapping of all physical memory (page_offset_base)' },
  { start: VMALLOC_START, end: VMALLOC_END + 1, name: 'vmalloc/ioremap space (vmalloc_base)' },
  { start: VMEMMAP_START, end: VMEMMAP_START + 2 ** 40, name: 'virtual memory map (vmemmap_base)' },
  { start: CPU_ENTRY_AREA_BASE, end: CPU_ENTRY_AREA_BASE + PGDIR_SIZE, name: 'cpu_entry_area mapping' },
  { start: ESPFIX_BASE_ADDR, end: ESPFIX_BASE_ADDR + PGDIR_SIZE, name: '%esp fixup stacks' },
  { start: EFI_VA_END, end: EFI_VA_START, name: 'EFI region mapping space' },
  { start: __START_KERNEL_map, end: MODULES_VADDR, name: 'kernel text mapping, mapped to physical address 0' },
  { start: MODULES_VADDR, end: MODULES_END, name: 'module mapping space' },
  { start: FIXADDR_TOP - 0x80000, end: FIXADDR_TOP + 4096, name: 'fixmap (approximate start)' },
  { start: VSYSCALL_ADDR, end: VSYSCALL_ADDR + 4096, name: 'legacy vsyscall ABI' },
];
