/*
 * kernel/trace/events/asi.ts - the asi tracepoints: asi_exit_pf, asi_enter, asi_exit.
 *
 * Mirrors include/trace/events/asi.h of the ASI branch ("mm: asi: Add a
 * tracepoint for ASI page faults"): TP_PROTO(address, regs, error_code,
 * user_mode), fields address, ip (regs->ip), error_code, user_mode, and
 * TP_printk("address=%pS ip=%pS error_code=0x%lx, user_mode=%d"). Emitted
 * by exc_page_fault() when a fault made the CPU leave the restricted
 * address space. user_mode is assigned from user_mode(regs), as the later
 * version of the header does (an earlier one assigned error_code).
 * %pS of an address that is no symbol prints it as 0x and 16 hex digits,
 * sign-extended; `ip` is the symbol of the kernel site that made the
 * access (include/linux/instruction_pointer.ts), printed by name: tskernel
 * has no offsets into functions, so no "+0x1a/0x90".
 */
import { DEFINE_EVENT } from '../index.ts';
import { format_va } from '../../../arch/x86/include/asm/page.ts';
import { ksym_name } from '../../../include/linux/instruction_pointer.ts';

export const trace_asi_exit_pf = DEFINE_EVENT<{ address: number; ip: number; error_code: number; user_mode: boolean }>(
  'asi', 'asi_exit_pf',
  (f) => `address=0x${format_va(f.address)} ip=${ksym_name(f.ip)} error_code=0x${f.error_code.toString(16)}, ` +
    `user_mode=${f.user_mode ? 1 : 0}`);

/*
 * asi:asi_enter and asi:asi_exit: no Linux counterpart (the branch counts
 * transitions in debugfs and traces only the page-fault exits). Every
 * switch into a restricted address space and every way out of one, with
 * the exit's reason (enum asi_exit_reason) and the kernel site running
 * when it happened, so a trace shows restricted and unrestricted time as
 * intervals (kernel/trace/trace_perfetto.ts makes them slices).
 */
const ASI_EXIT_REASON_TEXT = ['page_fault', 'user_ret', 'context_switch', 'tlb_flush', 'misc'];

export const trace_asi_enter = DEFINE_EVENT<{ class_id: number; pcid: number }>(
  'asi', 'asi_enter', (f) => `class_id=${f.class_id} pcid=0x${f.pcid.toString(16)}`);

export const trace_asi_exit = DEFINE_EVENT<{ reason: number; ip: number }>(
  'asi', 'asi_exit', (f) => `reason=${asi_exit_reason_text(f.reason)} ip=${ksym_name(f.ip)}`);

/** The name of enum asi_exit_reason's value `r`, as trace output prints it. */
export function asi_exit_reason_text(r: number): string {
  return ASI_EXIT_REASON_TEXT[r] ?? String(r);
}
