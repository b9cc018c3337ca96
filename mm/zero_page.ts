/*
 * mm/zero_page.ts - the shared zero page.
 *
 * No Linux file of its own: ZERO_PAGE() is arch/x86/include/asm/pgtable.h
 * over empty_zero_page (the kernel image's bss, arch/x86/kernel/head_64.S),
 * is_zero_pfn() / my_zero_pfn() are include/linux/pgtable.h. tskernel has
 * no kernel image, so the page is allocated at boot (shmem_init, as before)
 * and given back at shutdown. It is nonsensitive (GFP_KERNEL): under ASI
 * every restricted address space maps it, like the bss it stands for.
 * Read faults on anonymous memory map it read-only (do_anonymous_page);
 * tmpfs reads of a hole copy from it. It is never refcounted per mapping
 * (vm_normal_page() skips it), as in Linux.
 */
import { alloc_pages, __free_pages } from './page_alloc.ts';
import { GFP_KERNEL, __GFP_ZERO } from './gfp.ts';
import { BUG } from '../kernel/panic.ts';

export const zero_page_state = {
  /** empty_zero_page's pfn; -1 before boot made it. */
  zero_pfn: -1,
};

/** Allocate empty_zero_page (at boot). */
export function zero_page_init(): void {
  const pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0);
  if (pfn === null) BUG('no memory for the zero page');
  zero_page_state.zero_pfn = pfn;
}

/** Give the zero page back (at shutdown; no Linux counterpart). */
export function zero_page_exit(): void {
  if (zero_page_state.zero_pfn >= 0) __free_pages(zero_page_state.zero_pfn, 0);
  zero_page_state.zero_pfn = -1;
}

/** ZERO_PAGE(vaddr). */
export function ZERO_PAGE(_vaddr: number): number {
  const pfn = zero_page_state.zero_pfn;
  if (pfn < 0) BUG('ZERO_PAGE before the zero page was allocated');
  return pfn;
}

/** is_zero_pfn(). */
export function is_zero_pfn(pfn: number): boolean {
  return pfn === zero_page_state.zero_pfn;
}

/** my_zero_pfn(addr). */
export function my_zero_pfn(addr: number): number {
  return ZERO_PAGE(addr);
}
