/*
 * init/kernel.ts - the Kernel object: what scripts, tests and tools drive.
 *
 * No Linux counterpart: the handle start_kernel() returns (DESIGN.md
 * section 8), standing in for the user-space side of a real system. It
 * spawns processes (as init would fork them), runs the machine until they
 * exit, and reads the kernel's reports: /proc/vmstat and /proc/meminfo,
 * dmesg, the trace buffer, perf stat. The one kernel-side file allowed to
 * import tools/include/nolibc.ts, to hand a new process its Nolibc.
 */
import type { Machine } from '../arch/x86/hw/smp.ts';
import type { CostProfile } from '../arch/x86/hw/costs.ts';
import { HW_EVENT_NAMES } from '../arch/x86/hw/events.ts';
import { direct_map_meminfo, free_kernel_pgtables } from '../arch/x86/mm/init_64.ts';
import type { KernelParams } from '../kernel/params.ts';
import { dmesg } from '../kernel/printk.ts';
import { BUG } from '../kernel/panic.ts';
import {
  trace_read, trace_perfetto, trace_perfetto_json, perf_stat_format, type ChromeTrace, type PerfettoOptions,
} from '../kernel/trace/index.ts';
import { syscall_name } from '../arch/x86/entry/syscall_64.ts';
import { nr_context_switches } from '../kernel/sched/core.ts';
import { cycles_to_ns } from '../kernel/time/timekeeping.ts';
import { sched_run, type RunOptions, type RunResult } from '../kernel/sched/run.ts';
import { kernel_clone } from '../kernel/fork.ts';
import { all_vmstat, vm_event_per_cpu } from '../mm/vmstat.ts';
import { kmap_local_exit } from '../mm/highmem.ts';
import { vmalloc_shutdown, vmalloc_meminfo } from '../mm/vmalloc.ts';
import { page_alloc_shutdown, meminfo, free_pages, type ShutdownReport } from '../mm/page_alloc.ts';
import { vfs_caches_exit } from '../fs/namespace.ts';
import { console_state } from '../fs/file.ts';
import { Nolibc, nolibc_start, type Program, type ExecProgram } from '../tools/include/nolibc.ts';
import { register_prog } from '../fs/binfmt_prog.ts';
import { asi_exit_sites } from '../arch/x86/mm/asi.ts';

export type { RunOptions, RunResult };

/**
 * The kernel's software events in perf stat, named as perf names its own
 * (lowercase, hyphenated: page-faults, context-switches), each from its
 * /proc/vmstat counter. No Linux counterpart for the ASI and ephmap ones:
 * the branch exposes them only in vmstat and tracepoints.
 */
export const PERF_SW_EVENTS: readonly (readonly [perf: string, vmstat: string])[] = [
  ['minor-faults', 'pgfault'],
  ['asi-exits', 'asi_exits'],
  ['asi-exits-page-fault', 'asi_exit_page_fault'],
  ['asi-exits-context-switch', 'asi_exit_context_switch'],
  ['asi-exits-tlb-flush', 'asi_exit_tlb_flush'],
  ['asi-exits-misc', 'asi_exit_misc'],
  ['asi-enters', 'asi_enters'],
  ['asid-hits', 'nr_asid_hit'],
  ['asid-misses', 'nr_asid_miss'],
  ['tlb-local-flush-one', 'nr_tlb_local_flush_one'],
  ['tlb-local-flush-all', 'nr_tlb_local_flush_all'],
  ['tlb-remote-flush', 'nr_tlb_remote_flush'],
  ['tlb-remote-flush-received', 'nr_tlb_remote_flush_received'],
  ['ephmap-gets', 'nr_ephmap_get'],
  ['ephmap-fallbacks', 'nr_ephmap_fallback'],
  ['ephmap-mm-flushes', 'nr_ephmap_mm_flush'],
  ['mermap-flushes', 'nr_mermap_flush'],
  ['vmap-purges', 'nr_vmap_purge'],
];

export class Kernel {
  private down = false;
  constructor(readonly params: KernelParams, readonly machine: Machine, readonly costs: CostProfile) {}

  /**
   * Start a process running `program` on a fresh address space. Returns its
   * pid; it runs when run() is called.
   */
  spawn(name: string, program: Program): number {
    const p = kernel_clone(0, () => program(new Nolibc()), name, null);
    if (typeof p === 'number') throw new Error(`spawn(${name}): ${p}`);
    return p.pid;
  }

  /**
   * Register program `name` for execve(): a file whose content is
   * prog_image(name) (include/uapi/linux/binfmts.ts) and that has an
   * execute bit runs `program` with the argv and envp it was given
   * (fs/binfmt_prog.ts). Registrations last until the next boot.
   */
  register_program(name: string, program: ExecProgram): void {
    register_prog(name, (sp) => nolibc_start(program, sp));
  }

  /** Run until every task has exited (or opts.max_cycles). */
  run(opts: RunOptions = {}): RunResult {
    return sched_run(opts);
  }

  /** /proc/vmstat: page-state counters and VM events, by Linux's names. */
  vmstat(): Record<string, number> {
    return all_vmstat();
  }

  /** /proc/meminfo, in kB. */
  meminfo(): Record<string, number> {
    return { ...meminfo(), ...vmalloc_meminfo(), ...direct_map_meminfo() };
  }

  /**
   * ASI page-fault exits by the kernel site that made the access, most
   * first: what the seed's asi_exits.bpftrace counts from asi:asi_exit_pf.
   */
  asi_exit_sites(): Record<string, number> {
    return asi_exit_sites();
  }

  dmesg(): string {
    return dmesg();
  }

  /** The ftrace `trace` file. */
  trace(): string {
    return trace_read();
  }

  /** Chrome/Perfetto trace JSON (syscall slices named from the syscall table). */
  trace_json(opts: PerfettoOptions = {}): string {
    return trace_perfetto_json({ syscall_name, ...opts });
  }

  /** The Chrome/Perfetto trace as an object, for tools that merge several kernels' traces into one file. */
  trace_perfetto(opts: PerfettoOptions = {}): ChromeTrace {
    return trace_perfetto({ syscall_name, ...opts });
  }

  /**
   * Machine counters per CPU in perf-stat layout. task-clock and cycles
   * are busy time only; idle-cycles is the time each CPU waited in HLT
   * (kernel/trace/perf_stat.ts says why).
   */
  perf_stat(target = 'tskernel', opts: { per_cpu?: boolean; aggregate?: boolean } = {}): string {
    const cpus = this.machine.cpus;
    const busy = cpus.map((c) => c.busy_cycles);
    const counters: Record<string, number[]> = {
      'task-clock': busy.map((b) => cycles_to_ns(b)),
      'context-switches': nr_context_switches(),
      cycles: busy,
      'idle-cycles': cpus.map((c) => c.idle_cycles),
    };
    HW_EVENT_NAMES.forEach((name, i) => {
      const v = this.machine.cpus.map((c) => c.ev[i]);
      if (v.some((x) => x !== 0)) counters[name] = v;
    });
    // Software events, per CPU, named the way perf names its software events.
    for (const [name, item] of PERF_SW_EVENTS) {
      const v = vm_event_per_cpu(item);
      if (v.some((x) => x !== 0)) counters[name] = v;
    }
    const elapsed = Math.max(...this.machine.cpus.map((c) => c.clock));
    return perf_stat_format(counters, {
      target, per_cpu: opts.per_cpu ?? true, aggregate: opts.aggregate ?? true,
      elapsed_cycles: elapsed, cpu_ghz: this.costs.cpu_mhz / 1000,
    });
  }

  /**
   * Give every page back. A page neither free nor reserved afterwards is a
   * leak: reported, and an error.
   */
  shutdown(): ShutdownReport {
    if (this.down) BUG('shutdown() called twice');
    this.down = true;
    this.machine.current = 0;
    vfs_caches_exit();
    kmap_local_exit();
    free_pages(console_state.bounce, 0);
    vmalloc_shutdown();
    free_kernel_pgtables();
    const report = page_alloc_shutdown();
    if (report.leaked.length)
      BUG('shutdown: %d page(s) leaked, first pfns: %s', report.leaked.length, report.leaked.slice(0, 8).join(' '));
    return report;
  }
}
