/*
 * kernel/panic.ts - BUG(), WARN() and the kernel-panic report.
 *
 * Mirrors kernel/panic.c and include/asm-generic/bug.h. A BUG() stops the run
 * by throwing KernelPanic, whose message is the report a developer reads (CPU,
 * task, reason). WARN() counts, prints and returns so the caller can go on.
 * The context (which CPU, which task) comes from a hook the kernel registers
 * at boot, so the machine layer and early code can BUG() before tasks exist.
 */
import { printk, KERN_WARNING, KERN_EMERG } from './printk.ts';
import { vsprintf } from '../lib/vsprintf.ts';

/** Thrown by BUG(): the emulated kernel cannot go on. Not a user error. */
export class KernelPanic extends Error {
  constructor(public readonly reason: string, report: string) {
    super(report);
    this.name = 'KernelPanic';
  }
}

/** Who is running: registered by the scheduler (or the machine before it exists). */
export interface PanicContext {
  cpu: number;
  comm: string;
  pid: number;
}

const boot_context = (): PanicContext => ({ cpu: 0, comm: 'swapper/0', pid: 0 });
let context_hook: () => PanicContext = boot_context;

/** No Linux counterpart: lets the scheduler say who `current` is. */
export function set_panic_context(hook: () => PanicContext): void {
  context_hook = hook;
}

/** Who is running now, for reports that name current (warn_alloc, bad_page). */
export function panic_context(): PanicContext {
  return context_hook();
}

function where(): string {
  const c = context_hook();
  return `CPU: ${c.cpu} PID: ${c.pid} Comm: ${c.comm}`;
}

export function BUG(fmt: string, ...args: unknown[]): never {
  const reason = vsprintf(fmt, args);
  const report = `kernel BUG: ${reason}\n${where()}\nKernel panic - not syncing: Fatal exception`;
  printk(KERN_EMERG, report);
  throw new KernelPanic(reason, report);
}

export function BUG_ON(cond: boolean, fmt = 'BUG_ON', ...args: unknown[]): void {
  if (cond) BUG(fmt, ...args);
}

/** Per-boot WARN count (Linux's taint TAINT_WARN plus a counter). */
export const warn_state = { count: 0, once: new Set<string>() };

export function WARN(cond: boolean, fmt: string, ...args: unknown[]): boolean {
  if (!cond) return false;
  warn_state.count++;
  printk(KERN_WARNING, `WARNING: ${vsprintf(fmt, args)}\n${where()}`);
  return true;
}

export function WARN_ON(cond: boolean, what = 'WARN_ON'): boolean {
  return WARN(cond, '%s', what);
}

/** WARN_ON_ONCE: `key` names the call site (a string literal at the call). */
export function WARN_ONCE(cond: boolean, key: string, fmt: string, ...args: unknown[]): boolean {
  if (!cond) return false;
  if (warn_state.once.has(key)) { warn_state.count++; return true; }
  warn_state.once.add(key);
  return WARN(true, fmt, ...args);
}

export function WARN_ON_ONCE(cond: boolean, key = 'WARN_ON_ONCE'): boolean {
  return WARN_ONCE(cond, key, '%s', key);
}

/** Called by start_kernel: every boot starts with no warnings. */
export function panic_init(): void {
  // A new boot: the previous machine's scheduler no longer says who runs.
  context_hook = boot_context;
  warn_state.count = 0;
  warn_state.once.clear();
}
