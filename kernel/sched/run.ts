/*
 * kernel/sched/run.ts - what a CPU does on its turn, and Kernel.run().
 *
 * No single Linux counterpart: the per-CPU loop of a running kernel, cut
 * into steps for the machine's run loop (arch/x86/hw/run.ts), which gives
 * the turn to the CPU with the smallest clock (DESIGN.md section 6).
 * sched_cpu_step() is what a CPU executes on its turn, installed at boot
 * with set_cpu_step(): with a task to run (schedule() picks it if the CPU
 * was idle) it runs the task's user code up to its next syscall and the
 * syscall to completion (entry_SYSCALL_64); with nothing to run, the idle
 * task arms the timer for its sleepers and waits in HLT (do_idle). A fatal
 * signal raised in user code (a segfault) unwinds the task's generator and
 * ends the task. Timers, wake-ups and skipping an idle CPU ahead to its
 * next timer are the machine's; the kernel only decides what runs.
 */
import { machine } from '../smp.ts';
import { sched_state, schedule, this_rq } from './core.ts';
import type { TaskStruct } from './task.ts';
import type { Cpu } from '../../arch/x86/hw/cpu.ts';
import { entry_SYSCALL_64, exit_to_user_mode } from '../../arch/x86/entry/common.ts';
import { do_exit, do_group_exit, exit_state, type ExitRecord } from '../exit.ts';
import { TaskKilled } from '../signal.ts';
import { pr_info } from '../printk.ts';
import { hrtimer_idle_enter } from '../time/hrtimer.ts';

export interface RunResult {
  /** Why run() returned. */
  reason: 'done' | 'cycle_limit' | 'deadlock';
  /** Tasks reaped without a parent (spawned ones), in exit order. */
  exited: ExitRecord[];
  /** Cycle clock per CPU at the end (busy and idle cycles). */
  cycles: number[];
}

export interface RunOptions {
  /** Stop once every CPU with work has passed this many cycles. */
  max_cycles?: number;
}

/** Run user code of `p` (current on this CPU) up to its next syscall, and that syscall. */
function run_user_step(p: TaskStruct): void {
  if (!exit_to_user_mode(p)) return;
  const gen = p.gen;
  if (!gen) {
    do_exit(0);
    return;
  }
  let r: IteratorResult<{ nr: number; args: readonly number[] }, number | void>;
  try {
    r = gen.next(p.pending_ret);
  } catch (e) {
    task_killed(p, e);
    return;
  }
  if (r.done) {
    task_returned(p, r.value);
    return;
  }
  entry_SYSCALL_64(p, r.value);
}

/*
 * A fatal signal unwound the task's user code: it is delivered in the
 * kernel. The fault that raised it entered CPL 0 and never returned, so the
 * CPU is in kernel mode already.
 */
function task_killed(p: TaskStruct, e: unknown): void {
  if (!(e instanceof TaskKilled)) throw e;
  p.in_syscall = true;
  do_group_exit(e.status, e.signal);
}

/*
 * The task's function returned `v`. Returning from main() calls
 * exit_group(status); returning from a thread's start function ends only
 * that thread (nolibc's clone wrapper calls exit()).
 */
function task_returned(p: TaskStruct, v: number | void): void {
  const cpu = machine().cpus[machine().current];
  cpu.syscall();
  p.in_syscall = true;
  const status = typeof v === 'number' ? v & 0xff : 0;
  if (p.pid !== p.tgid) do_exit(status);
  else do_group_exit(status);
}

/*
 * do_idle(): nothing to run. Arm the timer for this CPU's sleepers and
 * wait; a task queued here meanwhile (a wake-up from this very step)
 * means need_resched is already set, and the wait ends at once.
 */
function do_idle(cpu: Cpu): void {
  hrtimer_idle_enter();
  cpu.hlt();
  if (this_rq().queue.length > 0) machine().wake(cpu, cpu.id);
}

/**
 * The step a CPU runs on its turn. A CPU woken for a task that another CPU
 * has since pulled away finds nothing and waits again, at no cost.
 */
export function sched_cpu_step(cpu: Cpu): void {
  const rq = this_rq();
  if (rq.curr === rq.idle) {
    if (rq.queue.length === 0) {
      do_idle(cpu);
      return;
    }
    schedule();
  }
  if (rq.curr !== rq.idle) run_user_step(rq.curr);
  if (rq.curr === rq.idle) do_idle(cpu);
}

/** Run until every task has exited (or a cycle limit, or nothing can ever run). */
export function sched_run(opts: RunOptions = {}): RunResult {
  const m = machine();
  const first_exit = exit_state.orphans_exited.length;
  let reason: RunResult['reason'] = 'done';
  if (sched_state.tasks.size > 0) {
    const r = m.run({ max_cycles: opts.max_cycles });
    if (sched_state.tasks.size === 0) {
      reason = 'done';
    } else if (r === 'cycle_limit') {
      reason = 'cycle_limit';
    } else {
      reason = 'deadlock';
      pr_info('sched_run: %d task(s) blocked with nothing to wake them', sched_state.tasks.size);
    }
  }
  m.current = 0;
  return { reason, exited: exit_state.orphans_exited.slice(first_exit), cycles: m.cpus.map((c) => c.clock) };
}
