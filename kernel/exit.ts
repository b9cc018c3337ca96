/*
 * kernel/exit.ts - ending tasks and reaping them.
 *
 * Mirrors kernel/exit.c: do_exit() closes the task's files (exit_files(),
 * fs/file.c), drops its mm (exit_mm -> mmput, the last user tearing the
 * address space down with exit_mmap() and freeing the PGD), turns it into
 * a zombie and wakes a parent waiting in wait4(); do_group_exit() takes
 * the other threads with it; wait4 reaps a zombie child and reports its
 * status (exit code << 8, or the signal).
 * exit_notify() -> do_notify_parent() (kernel/signal.ts) sends the child's
 * exit_signal (SIGCHLD for a fork) to the parent, or reaps the child at
 * once when the parent ignores SIGCHLD (SIG_IGN or SA_NOCLDWAIT: autoreap,
 * so wait4() then finds no child: -ECHILD). zap_other_threads() is also
 * de_thread()'s, for execve.
 * Orphans (tasks spawned by the kernel API, or whose parent died) are
 * reaped at once and their status kept for Kernel.run()'s report.
 * Simplified: no reparenting to init, no ptrace, no rusage; wait4 waits
 * for any child whatever its exit_signal (no __WCLONE / __WALL).
 */
import { TaskStruct, EXIT_ZOMBIE, EXIT_DEAD, TASK_DEAD, TASK_INTERRUPTIBLE } from './sched/task.ts';
import { schedule, sched_state, wake_up_process, current } from './sched/core.ts';
import { init_mm, type MmStruct } from '../mm/mm_struct.ts';
import { exit_mmap } from '../mm/mmap.ts';
import { pgd_free } from '../arch/x86/mm/pgalloc.ts';
import { pti_state } from '../arch/x86/mm/pti.ts';
import { ephmap_cleanup } from '../mm/ephmap.ts';
import { switch_mm_irqs_off, this_tlbstate } from '../arch/x86/mm/tlb.ts';
import { exit_files } from '../fs/file.ts';
import { WNOHANG } from '../include/uapi/linux/wait.ts';
import { ECHILD, EINVAL } from '../include/uapi/asm-generic/errno.ts';
import { hrtimer_cancel_sleeper } from './time/hrtimer.ts';
import { asi_destroy_userspace } from '../mm/asi.ts';
import { do_notify_parent, SIGKILL } from './signal.ts';

export interface ExitRecord {
  pid: number;
  comm: string;
  /** Shell-style status: the exit code, or 128 + signal. */
  status: number;
  signal: number;
}

export const exit_state = {
  /** Tasks reaped without a parent to report to, in exit order. */
  orphans_exited: [] as ExitRecord[],
};

export function exit_init(): void {
  exit_state.orphans_exited = [];
}

/** mmput(): drop a user; the last one tears the address space down. */
export function mmput(mm: MmStruct): void {
  if (--mm.mm_users > 0) return;
  // This CPU stops using the mm before its page tables go.
  if (this_tlbstate().loaded_mm === mm) switch_mm_irqs_off(init_mm());
  exit_mmap(mm);
  ephmap_cleanup(mm);
  asi_destroy_userspace(mm); // __mmdrop(): the domains go with the mm
  pgd_free(mm.pgd, pti_state.enabled);
  mm.pgd = 0;
}

function exit_mm(p: TaskStruct): void {
  const mm = p.mm;
  if (!mm) return;
  p.mm = null;
  mmput(mm);
}

/* exit_notify(): signal the parent (or reap at once), and wake it if it waits for this child (or any). */
function notify_parent(p: TaskStruct): void {
  const parent = p.parent;
  if (!parent || parent.exit_state) {
    release_task(p);
    return;
  }
  if (do_notify_parent(p, parent, p.exit_code, p.exit_signal_nr)) reap_now(p);
  if (parent.state === TASK_INTERRUPTIBLE && parent.wait.kind === 'child' && (parent.wait.pid === -1 || parent.wait.pid === p.pid))
    wake_up_process(parent);
}

/* The parent ignores SIGCHLD: nobody will wait for this child (autoreap). */
function reap_now(p: TaskStruct): void {
  p.exit_state = EXIT_DEAD;
  sched_state.tasks.delete(p.pid);
  const parent = p.parent;
  if (parent) {
    const i = parent.children.indexOf(p);
    if (i >= 0) parent.children.splice(i, 1);
  }
}

function release_task(p: TaskStruct): void {
  p.exit_state = EXIT_DEAD;
  sched_state.tasks.delete(p.pid);
  if (p.parent) {
    const i = p.parent.children.indexOf(p);
    if (i >= 0) p.parent.children.splice(i, 1);
  }
  exit_state.orphans_exited.push({ pid: p.pid, comm: p.comm, status: p.exit_code, signal: p.exit_signal_nr });
}

/** Tear down one task's resources and make it a zombie (no schedule). */
function exit_task(p: TaskStruct, status: number, signal: number): void {
  p.exit_code = status;
  p.exit_signal_nr = signal;
  exit_files(p);
  exit_mm(p);
  if (p.wait.kind === 'timer') hrtimer_cancel_sleeper(p);
  p.wait = { kind: 'none' };
  p.state = TASK_DEAD;
  p.exit_state = EXIT_ZOMBIE;
  p.gen = null;
  for (const c of [...p.children]) {
    c.parent = null;
    if (c.exit_state === EXIT_ZOMBIE) release_task(c);
  }
  p.children.length = 0;
  notify_parent(p);
}

/** do_exit(): the current task ends with `status` (shell style); switches away. */
export function do_exit(status: number, signal = 0): void {
  const p = current();
  exit_task(p, status, signal);
  schedule();
}

/*
 * task_curr(): `t` is the task running on some CPU. Only the CPU running a
 * task may tear it down: its mm is loaded there and its user code is
 * mid-flight.
 */
function task_curr(t: TaskStruct): boolean {
  return sched_state.rqs.some((rq) => rq.curr === t);
}

/**
 * do_group_exit(): the other threads of the group die first
 * (zap_other_threads()). One running on another CPU is only marked: it
 * exits once, when that CPU next leaves its kernel code for user mode
 * (exit_to_user_mode()'s fatal-signal check), as Linux's SIGKILL is taken
 * there. Waiting or queued threads cannot run again, and go now.
 */
export function do_group_exit(status: number, signal = 0): void {
  zap_other_threads(current(), status, signal);
  do_exit(status, signal);
}

/**
 * zap_other_threads(): every other thread of `p`'s group exits with
 * `status` (do_group_exit's, and de_thread()'s SIGKILL for execve).
 */
export function zap_other_threads(p: TaskStruct, status = 128 + SIGKILL, signal = SIGKILL): void {
  for (const t of [...sched_state.tasks.values()]) {
    if (t === p || t.tgid !== p.tgid || t.exit_state) continue;
    if (task_curr(t)) {
      if (!t.group_exit) t.group_exit = { status, signal };
      continue;
    }
    for (const rq of sched_state.rqs) {
      const i = rq.queue.indexOf(t);
      if (i >= 0) rq.queue.splice(i, 1);
    }
    exit_task(t, status, signal);
  }
}

/**
 * A group exit marked on `p` (current, in the kernel) by another thread:
 * carry it out now. Returns false if there was none.
 */
export function do_pending_group_exit(p: TaskStruct): boolean {
  const g = p.group_exit;
  if (!g) return false;
  p.group_exit = null;
  do_exit(g.status, g.signal);
  return true;
}

/** The wait status word: exit code << 8, or the terminating signal. */
export function wait_status(p: TaskStruct): number {
  return p.exit_signal_nr ? p.exit_signal_nr : (p.exit_code & 0xff) << 8;
}

/**
 * wait4() core: a zombie child matching pid (-1: any) is reaped and
 * returned; null if there are matching children but none has exited;
 * -ECHILD if there are none.
 */
export function wait_task_zombie(parent: TaskStruct, pid: number, options: number): TaskStruct | null | number {
  if (options & ~WNOHANG) return -EINVAL;
  if (pid === 0 || pid < -1) return -EINVAL; // process groups are not modelled
  const matching = parent.children.filter((c) => pid === -1 || c.pid === pid);
  if (!matching.length) return -ECHILD;
  const z = matching.find((c) => c.exit_state === EXIT_ZOMBIE);
  if (!z) return null;
  z.exit_state = EXIT_DEAD;
  sched_state.tasks.delete(z.pid);
  parent.children.splice(parent.children.indexOf(z), 1);
  return z;
}
