/*
 * fs/proc/array.ts - /proc/<pid>/status.
 *
 * Mirrors fs/proc/array.c's proc_pid_status(): the lines of
 * task_name/task_state ("Name", "Umask", "State", "Tgid", "Pid", "PPid",
 * "TracerPid", "Uid", "Gid"), task_mem() (fs/proc/task_mmu.ts),
 * "Threads", the CPU affinity ("Cpus_allowed", "Cpus_allowed_list") and
 * task_context_switch_counts(), with Linux's tab-separated format.
 * Omitted, as tskernel has no figure for them: Ngid, FDSize, Groups, the
 * NS* lines, Kthread, VmPeak, VmLck, VmPin, VmHWM, HugetlbPages,
 * CoreDumping, THP_enabled, untag_mask, the signal masks and counts, the
 * capability sets, NoNewPrivs, Seccomp, the speculation lines and
 * Mems_allowed. Uid and Gid are 0: everything runs as root.
 */
import type { SeqFile } from '../seq_file.ts';
import { seq_printf } from '../seq_file.ts';
import type { TaskStruct } from '../../kernel/sched/task.ts';
import { TASK_RUNNING, TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE, EXIT_ZOMBIE, EXIT_DEAD } from '../../kernel/sched/task.ts';
import { sched_state } from '../../kernel/sched/core.ts';
import { nr_cpu_ids } from '../../kernel/smp.ts';
import { CURRENT_UMASK } from '../namei.ts';
import { task_mem } from './task_mmu.ts';

/** get_task_state(): task_state_array's "R (running)", "S (sleeping)", ... */
function get_task_state(p: TaskStruct): string {
  if (p.exit_state & EXIT_ZOMBIE) return 'Z (zombie)';
  if (p.exit_state & EXIT_DEAD) return 'X (dead)';
  if (p.state === TASK_RUNNING) return 'R (running)';
  if (p.state === TASK_INTERRUPTIBLE) return 'S (sleeping)';
  if (p.state === TASK_UNINTERRUPTIBLE) return 'D (disk sleep)';
  return 'R (running)';
}

/** get_nr_threads(): the live threads of p's group. */
function get_nr_threads(p: TaskStruct): number {
  let n = 0;
  for (const t of sched_state.tasks.values()) if (t.tgid === p.tgid && !t.exit_state) n++;
  return n;
}

/** "%*pb": the CPU mask in hex, as many digits as nr_cpu_ids needs. */
function cpumask_pb(nr: number): string {
  let s = '';
  for (let base = 0; base < nr; base += 4) {
    const bits = Math.min(4, nr - base);
    s = ((1 << bits) - 1).toString(16) + s;
  }
  return s;
}

/** proc_pid_status(). */
export function proc_pid_status(m: SeqFile<object>, task: TaskStruct): number {
  const nr = nr_cpu_ids();
  seq_printf(m, `Name:\t${task.comm.slice(0, 15)}\n`);
  seq_printf(m, `Umask:\t${CURRENT_UMASK.toString(8).padStart(4, '0')}\n`);
  seq_printf(m, `State:\t${get_task_state(task)}\n`);
  seq_printf(m, `Tgid:\t${task.tgid}\n`);
  seq_printf(m, `Pid:\t${task.pid}\n`);
  seq_printf(m, `PPid:\t${task.parent ? task.parent.tgid : 0}\n`);
  seq_printf(m, 'TracerPid:\t0\n');
  seq_printf(m, 'Uid:\t0\t0\t0\t0\n');
  seq_printf(m, 'Gid:\t0\t0\t0\t0\n');
  if (task.mm) task_mem(m, task.mm);
  seq_printf(m, `Threads:\t${get_nr_threads(task)}\n`);
  seq_printf(m, `Cpus_allowed:\t${cpumask_pb(nr)}\n`);
  seq_printf(m, `Cpus_allowed_list:\t${nr > 1 ? `0-${nr - 1}` : '0'}\n`);
  seq_printf(m, `voluntary_ctxt_switches:\t${task.nvcsw}\n`);
  seq_printf(m, `nonvoluntary_ctxt_switches:\t${task.nivcsw}\n`);
  return 0;
}
