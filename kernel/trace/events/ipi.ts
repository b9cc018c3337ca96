/*
 * kernel/trace/events/ipi.ts - the ipi tracepoints.
 *
 * Mirrors include/trace/events/ipi.h: ipi_send_cpumask (TP_printk
 * "cpumask=%s callsite=%pS callback=%pS"), emitted by the sender for each
 * cross-call (smp_call_function_many_cond), and ipi_entry / ipi_exit
 * ("(%s)", the reason: "Function call interrupts"), emitted on the receiver
 * around the handler (sysvec_call_function). The cpumask prints as a CPU
 * list ("1,3") as cpumask_pr_args does with %*pbl. Callsite and callback
 * are kernel site names (include/linux/instruction_pointer.ts), no
 * offsets.
 */
import { DEFINE_EVENT } from '../index.ts';

export const IPI_REASON_CALL_FUNCTION = 'Function call interrupts';

export const trace_ipi_send_cpumask = DEFINE_EVENT<{ cpumask: readonly number[]; callsite: string; callback: string }>(
  'ipi', 'ipi_send_cpumask',
  (f) => `cpumask=${f.cpumask.join(',')} callsite=${f.callsite} callback=${f.callback}`);

export const trace_ipi_entry = DEFINE_EVENT<{ reason: string }>('ipi', 'ipi_entry', (f) => `(${f.reason})`);

export const trace_ipi_exit = DEFINE_EVENT<{ reason: string }>('ipi', 'ipi_exit', (f) => `(${f.reason})`);
