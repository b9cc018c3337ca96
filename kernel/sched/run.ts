/*
 * kernel/sched/run.ts - the scheduler's half of a CPU's turn, and Kernel.run().
 *
 * No single Linux counterpart: the per-CPU loop of a running kernel, cut
 * into turns for the machine's run loop (arch/x86/hw/run.ts), which gives
 * the turn to the CPU with the smallest clock (DESIGN.md section 6). On its
 * turn a CPU asks sched_turn_task() what to run: the current task, or the
 * one schedule() picks if the CPU was idle; the architecture runs it up to
 * its next syscall (arch/x86/entry/usermode.ts), then sched_turn_end()
 * lets the CPU wait if nothing is left to run. Waiting is do_idle() (as
 * kernel/sched/idle.c): arm the timer for this CPU's sleepers and HLT.
 * Timers, wake-ups and skipping a waiting CPU ahead to its next event are
 * the machine's; the kernel only decides what runs.
 */
import { machine } from '../smp.ts';
import { sched_state, schedule, cpu_rq, type Rq } from './core.ts';
import type { TaskStruct } from './task.ts';
import type { Cpu } from '../../arch/x86/hw/cpu.ts';
import { exit_state, type ExitRecord } from '../exit.ts';
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

/*
 * do_idle(): nothing to run. Arm the timer for this CPU's sleepers and
 * wait; a task queued here meanwhile (a wake-up from this very turn) means
 * need_resched is already set, and the wait ends at once.
 */
function do_idle(cpu: Cpu): void {
  hrtimer_idle_enter();
  cpu.hlt();
  if (cpu_rq(cpu.id).queue.length > 0) machine().wake(cpu, cpu.id);
}

/**
 * The task to run on this turn, or null when the CPU has nothing to run
 * and now waits. Small, to stay inlined on every syscall's path; an idle
 * CPU goes out of line.
 */
export function sched_turn_task(cpu: Cpu): TaskStruct | null {
  const rq = cpu_rq(cpu.id); // cpu is the current CPU
  return rq.curr !== rq.idle ? rq.curr : sched_turn_idle(cpu, rq);
}

/*
 * The CPU was idle: schedule() the first queued task. A CPU woken for a
 * task that another CPU has since pulled away finds nothing and waits
 * again, at no cost.
 */
function sched_turn_idle(cpu: Cpu, rq: Rq): TaskStruct | null {
  if (rq.queue.length > 0) schedule();
  if (rq.curr !== rq.idle) return rq.curr;
  do_idle(cpu);
  return null;
}

/** The turn is over: if the task slept or died and nothing else runs here, wait. */
export function sched_turn_end(cpu: Cpu): void {
  const rq = cpu_rq(cpu.id);
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
