/*
 * arch/x86/kernel/traps.ts - the #GP handler.
 *
 * Mirrors exc_general_protection() in arch/x86/kernel/traps.c: a #GP from
 * user mode (user_mode(regs): the CPL in the exception frame is 3) is the
 * process's fault, reported as "traps: comm[pid] general protection fault"
 * and punished with SIGSEGV (the task dies, status 139); only a #GP in
 * kernel mode with no exception fixup is a kernel bug (die()).
 * Simplified: no UMIP emulation, no #GP-on-IO-bitmap, no kprobes.
 */
import type { Cpu, FaultResult } from '../hw/cpu.ts';
import { FAULT_FIXUP } from '../hw/cpu.ts';
import { fixup_exception } from '../mm/extable.ts';
import { BUG } from '../../../kernel/panic.ts';
import { current } from '../../../kernel/sched/core.ts';
import { force_sig, SIGSEGV } from '../../../kernel/signal.ts';
import { pr_info } from '../../../kernel/printk.ts';
import { vsprintf } from '../../../lib/vsprintf.ts';

/** exc_general_protection(cpu, error_code, reason). */
export function exc_general_protection(cpu: Cpu, error_code: number, _cr2: number, reason: string): FaultResult {
  if (cpu.regs_cpl === 3) {
    const p = current();
    const report = vsprintf('traps: %s[%d] general protection fault ip:%x sp:%x error:%x (%s)', [p.comm, p.pid, 0, 0, error_code, reason]);
    pr_info('%s', report);
    force_sig(SIGSEGV, report);
  }
  if (fixup_exception(cpu.id)) return FAULT_FIXUP;
  BUG('general protection fault: %s', reason);
}
