/*
 * kernel/trace/events/vmalloc.ts - the vmalloc tracepoints.
 *
 * Mirrors include/trace/events/vmalloc.h: alloc_vmap_area,
 * purge_vmap_area_lazy and free_vmap_area_noflush with their TP_printk
 * text. Addresses print as the kernel prints an unsigned long with %lx,
 * sign-extended to 64 bits (0xffffc90000000000). A failed alloc_vmap_area
 * records the negative errno as its addr; Linux prints the same error
 * value as an unsigned long, tskernel prints it signed.
 */
import { DEFINE_EVENT } from '../index.ts';
import { format_va } from '../../../arch/x86/include/asm/page.ts';

/** %lx of an address: 64-bit hex without leading zeros, as Linux prints it. */
function lx(addr: number): string {
  if (!Number.isInteger(addr) || addr < 0 || addr >= 2 ** 48) return String(addr);
  return format_va(addr).replace(/^0+(?=.)/, '');
}

/** %lu of an address: the sign-extended 64-bit value in decimal (printing only, so BigInt is fine). */
function lu(addr: number): string {
  if (!Number.isInteger(addr) || addr < 0 || addr >= 2 ** 48) return String(addr);
  return BigInt('0x' + format_va(addr)).toString();
}

export const trace_alloc_vmap_area = DEFINE_EVENT<{
  addr: number; size: number; align: number; vstart: number; vend: number; failed: number;
}>('vmalloc', 'alloc_vmap_area',
  (f) => `va_start: ${lu(f.addr)} ` +
    `size=${f.size} align=${f.align} vstart=0x${lx(f.vstart)} vend=0x${lx(f.vend)} failed=${f.failed}`);

export const trace_purge_vmap_area_lazy = DEFINE_EVENT<{ start: number; end: number; npurged: number }>(
  'vmalloc', 'purge_vmap_area_lazy',
  (f) => `start=0x${lx(f.start)} end=0x${lx(f.end)} num_purged=${f.npurged}`);

export const trace_free_vmap_area_noflush = DEFINE_EVENT<{ va_start: number; nr_lazy: number; nr_lazy_max: number }>(
  'vmalloc', 'free_vmap_area_noflush',
  (f) => `va_start=0x${lx(f.va_start)} nr_lazy=${f.nr_lazy} nr_lazy_max=${f.nr_lazy_max}`);
