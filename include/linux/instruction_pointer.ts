/*
 * include/linux/instruction_pointer.ts - which kernel function is making
 * the memory access, for the #PF handler.
 *
 * Mirrors the use Linux makes of regs->ip and _THIS_IP_: a fault handler
 * (and a tracepoint such as asi:asi_exit_pf) names the function whose
 * instruction faulted. tskernel's kernel code is TypeScript, so there is
 * no instruction pointer to read: instead the helpers that touch memory
 * on behalf of a kernel path (copy_page_to_iter, copy_to_user,
 * kernel_init_pages' clear, ...) name their site in a per-CPU slot with
 * kernel_ip_enter() and give it back with kernel_ip_exit(). No stack
 * walking and no allocation: a symbol is a small integer, interned once
 * at module load.
 *
 * The innermost named site wins, as regs->ip names the innermost frame:
 * a fault in clear_page_erms() under handle_mm_fault() reports
 * clear_page_erms. Generic helpers that many paths share (copy_to_user,
 * copy_from_user) name themselves only when their caller did not
 * (kernel_ip_enter_weak()), so a fault in copy_to_user() called from
 * copy_page_to_iter() reports copy_page_to_iter: the frame the seed's
 * bpftrace script buckets exits by.
 * Exception entry starts a fresh context (kernel_ip_save() /
 * kernel_ip_restore() around the handler), so the zeroing inside a fault
 * taken from a copy is reported as its own site.
 */
import { smp_processor_id } from '../../kernel/smp.ts';
import { NR_CPUS } from './threads.ts';

const ksym_names: string[] = ['?'];
const ksym_index = new Map<string, number>([['?', 0]]);

/** A symbol for `name` (interned; 0 is "no site"). Call at module load. */
export function ksym(name: string): number {
  let i = ksym_index.get(name);
  if (i === undefined) {
    i = ksym_names.length;
    ksym_names.push(name);
    ksym_index.set(name, i);
  }
  return i;
}

/** The name of symbol `sym`; '?' for 0 (no site named). */
export function ksym_name(sym: number): string {
  return ksym_names[sym] ?? '?';
}

/** Per CPU: the symbol of the site making accesses now, 0 if none. */
const this_ip = new Int32Array(NR_CPUS);

/** At every boot: no CPU is inside a named site. */
export function kernel_ip_init(): void {
  this_ip.fill(0);
}

/** Name this CPU's accesses as `sym`'s. Returns what to hand to kernel_ip_exit(). */
export function kernel_ip_enter(sym: number): number {
  const cpu = smp_processor_id();
  const prev = this_ip[cpu];
  this_ip[cpu] = sym;
  return prev;
}

/** kernel_ip_enter(), unless a caller already named the site. */
export function kernel_ip_enter_weak(sym: number): number {
  const cpu = smp_processor_id();
  const prev = this_ip[cpu];
  if (prev === 0) this_ip[cpu] = sym;
  return prev;
}

/** Leave a site entered with kernel_ip_enter(); `prev` is what it returned. */
export function kernel_ip_exit(prev: number): void {
  this_ip[smp_processor_id()] = prev;
}

/** The site of the access being made on `cpu` (what the #PF handler reads as regs->ip). */
export function kernel_ip(cpu: number): number {
  return this_ip[cpu];
}

/** Exception entry: a fresh context with no site. Returns what kernel_ip_restore() puts back. */
export function kernel_ip_save(cpu: number): number {
  const prev = this_ip[cpu];
  this_ip[cpu] = 0;
  return prev;
}

export function kernel_ip_restore(cpu: number, prev: number): void {
  this_ip[cpu] = prev;
}
