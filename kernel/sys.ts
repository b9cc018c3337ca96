/*
 * kernel/sys.ts - the process syscalls.
 *
 * Mirrors kernel/sys.c (getpid, gettid), kernel/sched/syscalls.c
 * (sched_yield), kernel/time/hrtimer.c (nanosleep on simulated time),
 * kernel/fork.c (clone) and kernel/exit.c (exit, exit_group, wait4), as
 * entry points of the syscall table (arch/x86/entry/syscall_64.ts), given
 * the argument registers. Bad input gets -errno: a bad pointer -EFAULT, a
 * bad timespec -EINVAL, a bad clone flag -EINVAL.
 */
import { ERESTARTSYS } from '../include/linux/errno.ts';
import { current, this_rq, sleep_until } from './sched/core.ts';
import { TASK_INTERRUPTIBLE } from './sched/task.ts';
import { kernel_clone, fork_state } from './fork.ts';
import { do_exit, do_group_exit, wait_task_zombie, wait_status } from './exit.ts';
import { WNOHANG } from '../include/uapi/linux/wait.ts';
import { get_user_u64, put_user_u32 } from '../arch/x86/lib/usercopy_64.ts';
import { EFAULT, EINVAL } from '../include/uapi/asm-generic/errno.ts';
import { ktime_get_ns } from './time/timekeeping.ts';

/** nanosleep(req, rem). */
export function sys_nanosleep(regs: readonly number[]): number {
  const req = regs[0];
  const sec = get_user_u64(req);
  if (sec < 0) return -EFAULT;
  const nsec = get_user_u64(req + 8);
  if (nsec < 0) return -EFAULT;
  if (nsec >= 1e9 || sec > 1e6) return -EINVAL;
  const p = current();
  const until = ktime_get_ns() + sec * 1e9 + nsec;
  const sleep = (): number => {
    if (ktime_get_ns() >= until) return 0;
    sleep_until(p, until);
    return -ERESTARTSYS;
  };
  p.resume = sleep;
  const r = sleep();
  if (r === 0) p.resume = null;
  return r;
}

/** wait4(pid, wstatus, options, rusage). */
export function sys_wait4(regs: readonly number[]): number {
  const [pid, wstatus, options] = regs;
  const p = current();
  const attempt = (): number => {
    const r = wait_task_zombie(p, pid, options);
    if (typeof r === 'number') return r;
    if (r === null) {
      if (options & WNOHANG) return 0;
      p.state = TASK_INTERRUPTIBLE;
      p.wait = { kind: 'child', pid };
      return -ERESTARTSYS;
    }
    if (wstatus && put_user_u32(wstatus, wait_status(r)) < 0) return -EFAULT;
    return r.pid;
  };
  p.resume = attempt;
  const r = attempt();
  if (r !== -ERESTARTSYS) p.resume = null;
  return r;
}

/** clone(flags, fn): fn is a register_user_fn() handle (see kernel/fork.ts). */
export function sys_clone(regs: readonly number[]): number {
  const [flags, fn] = regs;
  const prog = fork_state.user_fns[fn - 1];
  if (!prog) return -EINVAL;
  const parent = current();
  const child = kernel_clone(flags, prog, parent.comm, parent);
  return typeof child === 'number' ? child : child.pid;
}

/** getpid(): the thread group's id. */
export function sys_getpid(_regs: readonly number[]): number {
  return current().tgid;
}

/** gettid(): this thread's id. */
export function sys_gettid(_regs: readonly number[]): number {
  return current().pid;
}

/** sched_yield(): reschedule on the way out. */
export function sys_sched_yield(_regs: readonly number[]): number {
  this_rq().need_resched = true;
  return 0;
}

/** exit(status): this thread ends. */
export function sys_exit(regs: readonly number[]): number {
  do_exit(regs[0] & 0xff);
  return 0;
}

/** exit_group(status): the whole thread group ends. */
export function sys_exit_group(regs: readonly number[]): number {
  do_group_exit(regs[0] & 0xff);
  return 0;
}
