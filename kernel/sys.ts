/*
 * kernel/sys.ts - the process syscalls.
 *
 * Mirrors kernel/sys.c (getpid, gettid), kernel/sched/syscalls.c
 * (sched_yield), kernel/time/hrtimer.c (nanosleep on simulated time),
 * kernel/fork.c (clone) and kernel/exit.c (exit, exit_group, wait4), as
 * entries in the syscall table. Bad input gets -errno: a bad pointer
 * -EFAULT, a bad timespec -EINVAL, a bad clone flag -EINVAL.
 */
import { register_syscall, ERESTARTSYS } from '../arch/x86/entry/common.ts';
import {
  __NR_getpid, __NR_gettid, __NR_sched_yield, __NR_nanosleep, __NR_clone, __NR_exit, __NR_exit_group, __NR_wait4,
} from '../arch/x86/entry/syscall_64.ts';
import { current, this_rq, sleep_until } from './sched/core.ts';
import { TASK_INTERRUPTIBLE } from './sched/task.ts';
import { kernel_clone, fork_state } from './fork.ts';
import { do_exit, do_group_exit, wait_task_zombie, wait_status, WNOHANG } from './exit.ts';
import { get_user_u64, put_user_u32 } from '../arch/x86/lib/usercopy_64.ts';
import { EFAULT, EINVAL } from '../include/uapi/asm-generic/errno.ts';
import { ktime_get_ns } from './time/timekeeping.ts';

function sys_nanosleep(args: readonly number[]): number {
  const req = args[0];
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

function sys_wait4(args: readonly number[]): number {
  const [pid, wstatus, options] = args;
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

function sys_clone(args: readonly number[]): number {
  const [flags, fn] = args;
  const prog = fork_state.user_fns[fn - 1];
  if (!prog) return -EINVAL;
  const parent = current();
  const child = kernel_clone(flags, prog, parent.comm, parent);
  return typeof child === 'number' ? child : child.pid;
}

export function sys_init(): void {
  register_syscall(__NR_getpid, () => current().tgid);
  register_syscall(__NR_gettid, () => current().pid);
  register_syscall(__NR_sched_yield, () => {
    this_rq().need_resched = true;
    return 0;
  });
  register_syscall(__NR_nanosleep, sys_nanosleep);
  register_syscall(__NR_clone, sys_clone);
  register_syscall(__NR_exit, (a) => {
    do_exit(a[0] & 0xff);
    return 0;
  });
  register_syscall(__NR_exit_group, (a) => {
    do_group_exit(a[0] & 0xff);
    return 0;
  });
  register_syscall(__NR_wait4, sys_wait4);
}
