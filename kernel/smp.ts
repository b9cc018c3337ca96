/*
 * kernel/smp.ts - which CPU is running, and per-CPU data.
 *
 * Mirrors include/linux/smp.h and percpu.h in spirit: smp_processor_id()
 * and this_cpu() name the CPU the run loop is executing (the machine's
 * `current`), per_cpu(var, cpu) reaches another CPU's copy, and
 * on_each_cpu() runs a function everywhere through IPIs (kernel/smp.c).
 * The machine is set at boot; every boot starts from a fresh one. The
 * CPU count on the command line (nr_cpus=, cpus=) is registered here, as
 * kernel/smp.c registers nr_cpus=.
 */
import type { Machine } from '../arch/x86/hw/smp.ts';
import type { Cpu } from '../arch/x86/hw/cpu.ts';
import { NR_CPUS } from '../include/linux/threads.ts';
import { register_param, parse_uint } from './params.ts';

declare module './params.ts' {
  interface KernelParams {
    /** cpus= / nr_cpus=: CPUs the machine has, 1..NR_CPUS (Linux: nr_cpu_ids). */
    cpus: number;
  }
}

/** cpus= when none is given. */
export const DEFAULT_CPUS = 2;

/*
 * nr_cpus=<n>: kernel/smp.c's early_param("nr_cpus", nrcpus), which lowers
 * nr_cpu_ids, the number of CPUs the kernel will use. Here the machine is
 * built with that many CPUs (start_kernel reads p.cpus), 1..NR_CPUS; a
 * malformed or out-of-range count is refused where Linux ignores it.
 * cpus=<n> is tskernel's shorter spelling of the same setting. Both are
 * early, so the two are one setting and the last given wins.
 */
register_param({
  name: 'cpus', value: 'required', early: true,
  help: `cpus=<n> number of CPUs, 1..${NR_CPUS}. [${DEFAULT_CPUS}]`,
  set_default: (out) => { out.cpus = DEFAULT_CPUS; },
  parse: (val, out) => { out.cpus = parse_uint('cpus', 'CPU count', val!, 1, NR_CPUS); },
  format: (p) => (p.cpus !== DEFAULT_CPUS ? `cpus=${p.cpus}` : null),
});

register_param({
  name: 'nr_cpus', value: 'required', early: true,
  help: `nr_cpus=<n> same as cpus=. [${DEFAULT_CPUS}]`,
  parse: (val, out) => { out.cpus = parse_uint('nr_cpus', 'CPU count', val!, 1, NR_CPUS); },
});

export const smp = {
  machine: null as Machine | null,
  /**
   * How an IPI's function runs on its receiver: the arch's
   * sysvec_call_function entry (arch/x86/entry/idtentry.ts installs its
   * irqentry_enter/exit around it at boot; no Linux counterpart as a
   * variable: this file sits below the entry code).
   */
  call_function: (fn: (cpu: number) => void, cpu: number): void => fn(cpu),
  /**
   * arch_send_call_function_ipi_mask()'s traced half: the entry code
   * installs the ipi:ipi_send_cpumask tracepoint here at boot (this file is
   * linked before the tracing code, so it cannot import it).
   */
  arch_send_call_function_ipi_mask: (_mask: readonly number[], _fn: (cpu: number) => void): void => {},
};

export function smp_init_machine(m: Machine): void {
  smp.machine = m;
  smp.call_function = (fn, cpu) => fn(cpu); // until the entry code installs its own
  smp.arch_send_call_function_ipi_mask = () => {};
}

/*
 * The machine. Called on every path, so kept within V8's small-function
 * size (inlined everywhere, free of the callers' inlining budget): the
 * error is raised out of line.
 */
export function machine(): Machine {
  return smp.machine ?? no_machine();
}

function no_machine(): never {
  throw new Error('smp: no machine: start_kernel() has not run');
}

/*
 * this_cpu() and smp_processor_id() run many times per syscall. JIT-driven:
 * with no call inside (machine() written out), their bytecode stays under
 * V8's always-inline size, so they never cost a call or a share of the
 * caller's inlining budget. A booted kernel is their precondition (code
 * that may run without one asks machine(), which says so).
 */

/** The executing CPU's hardware. */
export function this_cpu(): Cpu {
  const m = smp.machine!;
  return m.cpus[m.current];
}

export function smp_processor_id(): number {
  return smp.machine!.current;
}

export function nr_cpu_ids(): number {
  return machine().nr_cpus;
}

/** Per-CPU variable: one slot per CPU, reached with per_cpu()/this_cpu_ptr(). */
export type PerCpu<T> = T[];

export function alloc_percpu<T>(make: (cpu: number) => T): PerCpu<T> {
  const n = nr_cpu_ids();
  const v: T[] = [];
  for (let i = 0; i < n; i++) v.push(make(i));
  return v;
}

export function per_cpu<T>(v: PerCpu<T>, cpu: number): T {
  return v[cpu];
}

export function this_cpu_ptr<T>(v: PerCpu<T>): T {
  return v[machine().current];
}

/**
 * on_each_cpu_mask(): run `fn` on the CPUs in `mask` (this one directly, the
 * others through IPIs), waiting for all if `wait`. `fn` gets the CPU number.
 */
export function on_each_cpu_mask(mask: readonly number[], fn: (cpu: number) => void, wait = true): void {
  const m = machine();
  const self = m.current;
  const others = mask.filter((c) => c !== self);
  if (others.length) smp.arch_send_call_function_ipi_mask(others, fn);
  if (others.length) m.send_ipi(m.cpus[self], others, (c) => smp.call_function(fn, c.id), wait);
  if (mask.includes(self)) fn(self);
}

export function on_each_cpu(fn: (cpu: number) => void, wait = true): void {
  const all: number[] = [];
  for (let i = 0; i < nr_cpu_ids(); i++) all.push(i);
  on_each_cpu_mask(all, fn, wait);
}
