/*
 * arch/x86/entry/idtentry.ts - what every interrupt entry does around its handler.
 *
 * Mirrors DEFINE_IDTENTRY_SYSVEC (arch/x86/include/asm/idtentry.h) and
 * irqentry_enter() / irqentry_exit() (kernel/entry/common.c) in the part
 * ASI adds to them: asi_intr_enter() before the handler and
 * asi_intr_exit() after it, so an asi_exit() inside an interrupt taken
 * while tense is undone before the interrupted context resumes (asi.md
 * 4.4). The handler also starts with no kernel site named
 * (include/linux/instruction_pointer.ts), as a new context.
 * The page fault's entry does the same in exc_page_fault()
 * (arch/x86/mm/fault.ts), which also needs the site it interrupted.
 * Installed at boot: the local APIC timer's vector, and the IPI path of
 * kernel/smp.ts (sysvec_call_function).
 */
import type { Cpu, FaultResult } from '../hw/cpu.ts';
import type { TrapHandler } from '../hw/smp.ts';
import { smp, smp_processor_id } from '../../../kernel/smp.ts';
import { asi_intr_enter, asi_intr_exit } from '../mm/asi.ts';
import { kernel_ip_save, kernel_ip_restore, kernel_ip, ksym_name } from '../../../include/linux/instruction_pointer.ts';
import { trace_ipi_entry, trace_ipi_exit, trace_ipi_send_cpumask, IPI_REASON_CALL_FUNCTION } from '../../../kernel/trace/events/ipi.ts';

/** DEFINE_IDTENTRY_SYSVEC: `handler` between irqentry_enter() and irqentry_exit(). */
export function idtentry_sysvec(handler: TrapHandler): TrapHandler {
  return (cpu: Cpu, error_code: number, cr2: number, reason: string): FaultResult => {
    const ip = kernel_ip_save(cpu.id);
    asi_intr_enter();
    try {
      return handler(cpu, error_code, cr2, reason);
    } finally {
      asi_intr_exit();
      kernel_ip_restore(cpu.id, ip);
    }
  };
}

/* sysvec_call_function: an IPI's function on the receiving CPU (the current one). */
function sysvec_call_function(fn: (cpu: number) => void, cpu: number): void {
  const ip = kernel_ip_save(cpu);
  asi_intr_enter();
  if (trace_ipi_entry.enabled) trace_ipi_entry.emit({ reason: IPI_REASON_CALL_FUNCTION });
  try {
    fn(cpu);
  } finally {
    if (trace_ipi_exit.enabled) trace_ipi_exit.emit({ reason: IPI_REASON_CALL_FUNCTION });
    asi_intr_exit();
    kernel_ip_restore(cpu, ip);
  }
}

/*
 * The sender's side, as Linux's send_call_function_ipi_mask() traces it
 * before asking the APIC: ipi:ipi_send_cpumask with the callback's name
 * (tskernel has no return address for the callsite: the kernel site the
 * sender was in, when one is named).
 */
function trace_call_function_ipi_mask(mask: readonly number[], fn: (cpu: number) => void): void {
  if (trace_ipi_send_cpumask.enabled)
    trace_ipi_send_cpumask.emit({ cpumask: mask.slice(), callsite: ksym_name(kernel_ip(smp_processor_id())), callback: fn.name || '?' });
}

/** At every boot: IPIs enter through sysvec_call_function. */
export function idtentry_init(): void {
  smp.call_function = sysvec_call_function;
  smp.arch_send_call_function_ipi_mask = trace_call_function_ipi_mask;
}
