/*
 * arch/x86/lib/clear_page_64.ts - clear_page(): zero whole pages.
 *
 * Mirrors arch/x86/lib/clear_page_64.S's clear_page_erms (rep stosb over
 * the page, on CPUs with ERMS, which every part modelled has): the
 * kernel address is written through the MMU on the current CPU, so a
 * page missing from the address space in use faults there. The site is
 * named clear_page_erms for the #PF handler
 * (include/linux/instruction_pointer.ts), as regs->ip names it in the
 * seed's ASI exit histogram (zeroing sensitive pages, asi.md 2.3).
 */
import { this_cpu } from '../../../kernel/smp.ts';
import { ksym, kernel_ip_enter, kernel_ip_exit } from '../../../include/linux/instruction_pointer.ts';

const SYM_CLEAR_PAGE_ERMS = ksym('clear_page_erms');

/** clear_page() for `nr` contiguous pages at kernel address `addr`. Returns the bytes not cleared. */
export function clear_pages(addr: number, nr: number): number {
  const ip = kernel_ip_enter(SYM_CLEAR_PAGE_ERMS);
  const left = this_cpu().fill(addr, 0, nr * 4096);
  kernel_ip_exit(ip);
  return left;
}
