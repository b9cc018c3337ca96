/*
 * arch/x86/entry/usermode.ts - a CPU's turn: the current task's user code
 * up to its next entry into the kernel.
 *
 * No Linux counterpart: on hardware the CPU simply executes user code after
 * SYSRET until the next SYSCALL or exception. Here user code is a
 * generator (DESIGN.md section 7), so a turn resumes it once: the syscall
 * it yields enters the kernel through entry_SYSCALL_64 and runs to
 * completion; a fatal signal raised in its user code (a segfault) unwinds
 * the generator and the task dies in the kernel; a program returning from
 * main() exits as libc's exit_group() would. arch_cpu_step() is what the
 * machine runs on a CPU's turn (installed with set_cpu_step() at boot):
 * the scheduler picks the task (kernel/sched/run.ts), this file runs it.
 */
import type { Cpu } from '../hw/cpu.ts';
import type { TaskStruct, SyscallRequest } from '../../../kernel/sched/task.ts';
import { entry_SYSCALL_64, exit_to_user_mode } from './common.ts';
import { sched_turn_task, sched_turn_end } from '../../../kernel/sched/run.ts';
import { cpu_rq } from '../../../kernel/sched/core.ts';
import { do_exit, do_group_exit } from '../../../kernel/exit.ts';
import { TaskKilled, ForcedSignal } from '../../../kernel/signal.ts';
import { asi_relax } from '../mm/asi.ts';

/** Run user code of `p` (current on `cpu`) up to its next syscall, and that syscall. */
function run_user_step(cpu: Cpu, p: TaskStruct): void {
  if (!exit_to_user_mode(p)) return;
  const gen = p.gen;
  if (!gen) {
    do_exit(0);
    return;
  }
  let r: IteratorResult<SyscallRequest, number | void>;
  try {
    r = gen.next(p.pending_ret);
  } catch (e) {
    task_killed(p, e);
    return;
  }
  if (r.done) {
    task_returned(cpu, p, r.value);
    return;
  }
  entry_SYSCALL_64(p, r.value);
}

/*
 * A fatal signal unwound the task's user code: it is delivered in the
 * kernel. A fault signal with a handler (ForcedSignal) is already queued:
 * the task leaves the kernel through exit_to_user_mode(), which runs it. The fault that raised it entered CPL 0 and never returned, so the
 * CPU is in kernel mode already.
 */
function task_killed(p: TaskStruct, e: unknown): void {
  if (!(e instanceof TaskKilled) && !(e instanceof ForcedSignal)) throw e;
  p.in_syscall = true;
  asi_relax();
  if (e instanceof ForcedSignal) {
    p.gen = null; // unwound: the handler runs on the way back to user mode, with nothing to return to
    return;
  }
  do_group_exit(e.status, e.signal);
}

/*
 * The task's function returned `v`. Returning from main() calls
 * exit_group(status); returning from a thread's start function ends only
 * that thread (nolibc's clone wrapper calls exit()).
 */
function task_returned(cpu: Cpu, p: TaskStruct, v: number | void): void {
  cpu.syscall();
  p.in_syscall = true;
  asi_relax(); // syscall_enter_from_user_mode() of the exit_group()
  const status = typeof v === 'number' ? v & 0xff : 0;
  if (p.pid !== p.tgid) do_exit(status);
  else do_group_exit(status);
}

/**
 * A CPU's turn: the task the scheduler gives it runs to its next syscall.
 * The common case, a CPU already running a task, is decided here without
 * a call: this runs once per syscall.
 */
export function arch_cpu_step(cpu: Cpu): void {
  const rq = cpu_rq(cpu.id);
  const p = rq.curr !== rq.idle ? rq.curr : sched_turn_task(cpu);
  if (!p) return;
  run_user_step(cpu, p);
  if (rq.curr === rq.idle) sched_turn_end(cpu);
}
