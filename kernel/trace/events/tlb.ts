/*
 * kernel/trace/events/tlb.ts - the tlb:tlb_flush tracepoint.
 *
 * Mirrors include/trace/events/tlb.h: TP_printk("pages:%ld reason:%s (%d)")
 * with the reasons of enum tlb_flush_reason (include/linux/mm_types.h).
 * pages is -1 (TLB_FLUSH_ALL) for a full flush.
 */
import { DEFINE_EVENT } from '../index.ts';
import { vsprintf } from '../../../lib/vsprintf.ts';

export const TLB_FLUSH_ON_TASK_SWITCH = 0;
export const TLB_REMOTE_SHOOTDOWN = 1;
export const TLB_LOCAL_SHOOTDOWN = 2;
export const TLB_LOCAL_MM_SHOOTDOWN = 3;
export const TLB_REMOTE_SEND_IPI = 4;

const REASONS = ['flush on task switch', 'remote shootdown', 'local shootdown', 'local mm shootdown', 'remote ipi send'];

export const trace_tlb_flush = DEFINE_EVENT<{ reason: number; pages: number }>('tlb', 'tlb_flush',
  (f) => vsprintf('pages:%d reason:%s (%d)', [f.pages, REASONS[f.reason] ?? '?', f.reason]));
