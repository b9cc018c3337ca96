/*
 * kernel/smp.ts - which CPU is running, and per-CPU data.
 *
 * Mirrors include/linux/smp.h and percpu.h in spirit: smp_processor_id()
 * and this_cpu() name the CPU the run loop is executing (the machine's
 * `current`), per_cpu(var, cpu) reaches another CPU's copy, and
 * on_each_cpu() runs a function everywhere through IPIs (kernel/smp.c).
 * The machine is set at boot; every boot starts from a fresh one.
 */
import type { Machine } from '../arch/x86/hw/smp.ts';
import type { Cpu } from '../arch/x86/hw/cpu.ts';

export const smp = {
  machine: null as Machine | null,
};

export function smp_init_machine(m: Machine): void {
  smp.machine = m;
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

/** The executing CPU's hardware. */
export function this_cpu(): Cpu {
  const m = machine();
  return m.cpus[m.current];
}

export function smp_processor_id(): number {
  return machine().current;
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
  if (others.length) m.send_ipi(m.cpus[self], others, (c) => fn(c.id), wait);
  if (mask.includes(self)) fn(self);
}

export function on_each_cpu(fn: (cpu: number) => void, wait = true): void {
  const all: number[] = [];
  for (let i = 0; i < nr_cpu_ids(); i++) all.push(i);
  on_each_cpu_mask(all, fn, wait);
}
