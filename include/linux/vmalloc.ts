/*
 * include/linux/vmalloc.ts - vmalloc's public flags and struct vm_struct.
 *
 * Mirrors include/linux/vmalloc.h: the VM_* flags of get_vm_area() and
 * vmap(), IOREMAP_MAX_ORDER, the vmap_area flags VMAP_RAM / VMAP_BLOCK,
 * and struct vm_struct. The allocator itself is mm/vmap_area.ts,
 * mm/vmap_alloc.ts and mm/vmalloc.ts.
 */
import { PAGE_SHIFT } from '../../arch/x86/include/asm/page_types.ts';
import { VA_SPACE } from '../../arch/x86/include/asm/page.ts';

export const VM_IOREMAP = 0x00000001;
export const VM_ALLOC = 0x00000002;
export const VM_MAP = 0x00000004;
export const VM_USERMAP = 0x00000008;
export const VM_DMA_COHERENT = 0x00000010;
export const VM_UNINITIALIZED = 0x00000020;
export const VM_NO_GUARD = 0x00000040;
export const VM_KASAN = 0x00000080;
export const VM_FLUSH_RESET_PERMS = 0x00000100;
export const VM_MAP_PUT_PAGES = 0x00000200;
export const VM_ALLOW_HUGE_VMAP = 0x00000400;
export const VM_SPARSE = 0x00001000;

/** IOREMAP_MAX_ORDER: 7 + PAGE_SHIFT (128 pages). */
export const IOREMAP_MAX_ORDER = 7 + PAGE_SHIFT;

/* va->flags: VMAP_RAM for vm_map_ram areas, VMAP_BLOCK for a whole vmap_block. */
export const VMAP_RAM = 0x1;
export const VMAP_BLOCK = 0x2;
export const VMAP_FLAGS_MASK = 0x3;

/** ULONG_MAX of the 48-bit address space: the top of the KVA the trees manage. */
export const VMAP_ULONG_MAX = VA_SPACE - 1;

/**
 * struct vm_struct (include/linux/vmalloc.h): what vmalloc()/vmap() hand
 * back, hung off the busy vmap_area's `vm`.
 */
export class VmStruct {
  next: VmStruct | null = null;
  /** Start of the area (va_start). */
  addr = 0;
  /** Bytes, including the guard page unless VM_NO_GUARD (get_vm_area_size() subtracts it). */
  size = 0;
  flags = 0;
  /** The pages mapped, as pfns; null for vmap() without VM_MAP_PUT_PAGES. */
  pages: number[] | null = null;
  page_order = 0;
  nr_pages = 0;
  phys_addr = 0;
  /** __builtin_return_address(0) in Linux: here the caller's name, for vmallocinfo. */
  caller = '';
  /** What the caller asked for, before page rounding (vrealloc uses it). */
  requested_size = 0;
}
