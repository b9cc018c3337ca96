/*
 * kernel/trace/events/ephmap.ts - the ephmap tracepoints.
 *
 * No Linux counterpart (the ASI branch's ephmap has no tracepoints; its
 * observability came from asi_exit counts and perf): ephmap:ephmap_get,
 * ephmap:ephmap_put and ephmap:ephmap_fallback, for every folio_map
 * variant (percpu, vmalloc, kmap, mermap), so a trace shows each map, each
 * teardown and each copy that went through the physmap instead, and why.
 */
import { DEFINE_EVENT } from '../index.ts';
import { format_va } from '../../../arch/x86/include/asm/page.ts';

export const trace_ephmap_get = DEFINE_EVENT<{ variant: string; vaddr: number; pfn: number; nr_pages: number }>(
  'ephmap', 'ephmap_get',
  (f) => `variant=${f.variant} vaddr=0x${format_va(f.vaddr)} pfn=0x${f.pfn.toString(16)} nr_pages=${f.nr_pages}`);

export const trace_ephmap_put = DEFINE_EVENT<{ variant: string; vaddr: number; nr_pages: number }>(
  'ephmap', 'ephmap_put',
  (f) => `variant=${f.variant} vaddr=0x${format_va(f.vaddr)} nr_pages=${f.nr_pages}`);

export const trace_ephmap_fallback = DEFINE_EVENT<{ variant: string; pfn: number; nr_pages: number }>(
  'ephmap', 'ephmap_fallback',
  (f) => `variant=${f.variant} pfn=0x${f.pfn.toString(16)} nr_pages=${f.nr_pages}`);
