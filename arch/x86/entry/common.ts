/*
 * arch/x86/entry/common.ts - entry_SYSCALL_64, do_syscall_64 and the way back.
 *
 * Mirrors arch/x86/entry/entry_64.S and entry/common.c (syscall_64.c's
 * x64_sys_call): SYSCALL enters CPL 0, SWITCH_TO_KERNEL_CR3 under PTI,
 * the stub and dispatch are charged, do_syscall_64() calls the entry of
 * sys_call_table (syscall_64.ts; sys_ni_syscall's -ENOSYS for an empty slot
 * or a number past the table). On the way out, syscall_exit_to_user_mode()
 * reschedules when the slice is used up or a yield asked for it; the task
 * then returns to user with SWITCH_TO_USER_CR3 and SYSRET when it next
 * runs (exit_to_user_mode()).
 * A syscall that must sleep sets the task's state and a `resume`
 * continuation and returns -ERESTARTSYS: the task schedules away and, when
 * woken, re-runs the continuation in kernel mode before returning (Linux
 * restarts such syscalls the same way, through -ERESTARTSYS).
 * ASI (RFC v2 25/29, the userspace class): syscall_enter_from_user_mode()
 * starts with asi_relax(), and the way back ends with
 * asi_enter_userspace() just before SYSRET, so user code runs in its mm's
 * restricted address space and the next syscall starts there: the kernel
 * stays restricted until something exits (a fault on sensitive memory, a
 * context switch, a TLB flush).
 * Signals: exit_to_user_mode() delivers pending ones first
 * (arch_do_signal_or_restart(), arch/x86/kernel/signal.ts), which may put
 * a handler in front of the user code or decide a slept syscall's restart.
 * Simplified: no audit/seccomp/ptrace work.
 */
import { this_cpu } from '../../../kernel/smp.ts';
import { switch_to_kernel_cr3, switch_to_user_cr3 } from '../mm/tlb.ts';
import { ERESTARTSYS } from '../../../include/linux/errno.ts';
import { schedule, this_rq, slice_expired } from '../../../kernel/sched/core.ts';
import { TASK_RUNNING, type TaskStruct, type SyscallRequest } from '../../../kernel/sched/task.ts';
import { DEFINE_EVENT } from '../../../kernel/trace/index.ts';
import { pmu_sample, trace_pmu_sample } from '../events/pmu_sample.ts';
import { vsprintf } from '../../../lib/vsprintf.ts';
import { NR_syscalls, x64_sys_call, syscall_table_init } from './syscall_64.ts';
import { sys_ni_syscall } from '../../../kernel/sys_ni.ts';
import { do_pending_group_exit } from '../../../kernel/exit.ts';
import { arch_do_signal_or_restart } from '../kernel/signal.ts';
import { COST_KEY_INDEX } from '../hw/costs.ts';

/* Cost-key indices as module locals: an imported binding is a getter under the TS loaders. */
const K_SYSCALL_WORK = COST_KEY_INDEX.syscall_work, K_SYSCALL_EXIT_WORK = COST_KEY_INDEX.syscall_exit_work;
import { asi_relax, asi_enter_userspace, asi_state } from '../mm/asi.ts';

/*
 * static_asi_enabled() as a module local: with ASI off the syscall path
 * pays one property test, not two calls (imported bindings are getters
 * under the TS loaders).
 */
const ASI = asi_state;

export const trace_sys_enter = DEFINE_EVENT<{ nr: number; args: readonly number[] }>('raw_syscalls', 'sys_enter',
  (f) => vsprintf('NR %d (%s)', [f.nr, f.args.map((a) => a.toString(16)).join(', ')]));
export const trace_sys_exit = DEFINE_EVENT<{ nr: number; ret: number }>('raw_syscalls', 'sys_exit',
  (f) => vsprintf('NR %d = %d', [f.nr, f.ret]));

/*
 * The emits out of line: their record literals would weigh on every
 * syscall's inlining. The record keeps a copy of the arguments: a program's
 * request (nolibc's, say) may be reused for its next syscall.
 */
function trace_sys_enter_emit(nr: number, args: readonly number[]): void {
  trace_sys_enter.emit({ nr, args: args.slice() });
}

function trace_sys_exit_emit(nr: number, ret: number): void {
  trace_sys_exit.emit({ nr, ret });
}

/** entry_init() (no Linux counterpart): this boot's sys_call_table, fresh from the table's rows. */
export function entry_init(): void {
  syscall_table_init();
}

/** do_syscall_64(): dispatch on the x86-64 number. */
export function do_syscall_64(nr: number, args: readonly number[]): number {
  // do_syscall_x64(): numbers outside [0, NR_syscalls) miss, negative ones and
  // those >= 2^32 too (Linux would truncate the latter to EAX).
  if (nr >= 0 && nr < NR_syscalls) return x64_sys_call(args, nr);
  return sys_ni_syscall(args);
}

/*
 * Registers hold numbers: anything else a program yields (NaN, strings,
 * holes, no array at all) reads as -1, a bad value every syscall rejects. The common case
 * passes the array through without copying it.
 */
function sane_args(args: readonly number[]): readonly number[] {
  if (!Array.isArray(args)) return [];
  for (let i = 0; i < args.length; i++) {
    if (!Number.isFinite(args[i])) return insane_args(args); // false for a non-number too (no coercion)
  }
  return args;
}

const NO_ARGS: readonly number[] = [];

/* Out of line: the closure would otherwise weigh on every syscall's inlining. */
function insane_args(args: readonly number[]): readonly number[] {
  return args.map((x) => (typeof x === 'number' && Number.isFinite(x) ? x : -1));
}

/** entry_SYSCALL_64: the task `p` on this CPU issues `req`. */
export function entry_SYSCALL_64(p: TaskStruct, req: SyscallRequest): void {
  const cpu = this_cpu();
  cpu.syscall();
  switch_to_kernel_cr3();
  if (ASI.enabled) asi_relax(); // syscall_enter_from_user_mode()
  cpu.charge_one(K_SYSCALL_WORK);
  p.in_syscall = true;
  // A yield that is no request at all (undefined, null, a number) is a
  // syscall with garbage in every register: number -1, -ENOSYS.
  const frame = typeof req === 'object' && req !== null;
  const nr = frame && Number.isInteger(req.nr) ? req.nr : -1;
  const args = frame ? sane_args(req.args) : NO_ARGS;
  if (trace_sys_enter.enabled) trace_sys_enter_emit(nr, args);
  const ret = do_syscall_64(nr, args);
  syscall_exit_to_user_mode(p, ret, nr);
}

/** syscall_exit_to_user_mode(): record the result, sleep or reschedule if due. */
export function syscall_exit_to_user_mode(p: TaskStruct, ret: number, nr: number): void {
  if (p.exit_state) return; // exit() never returns
  if (ret === -ERESTARTSYS && p.state !== TASK_RUNNING) {
    p.resume_nr = nr;
    schedule();
    return;
  }
  if (trace_sys_exit.enabled) trace_sys_exit_emit(nr, ret);
  if (trace_pmu_sample.enabled) pmu_sample(false);
  p.pending_ret = ret;
  const rq = this_rq();
  if (rq.need_resched || slice_expired(rq)) schedule();
}

/**
 * exit_to_user_mode(): `p` is current and about to run user code. Finish a
 * restarted syscall, then leave the kernel. Returns false if the task went
 * back to sleep.
 */
export function exit_to_user_mode(p: TaskStruct): boolean {
  // exit_to_user_mode_loop()'s fatal signal: a sibling's group exit ends this thread here.
  if (p.group_exit !== null && do_pending_group_exit(p)) return false;
  if (p.tif_sigpending && !arch_do_signal_or_restart(p)) return false; // exit_to_user_mode_loop(): _TIF_SIGPENDING
  if (p.resume && !resume_syscall(p, p.resume)) return false;
  if (p.in_syscall) {
    this_cpu().charge_one(K_SYSCALL_EXIT_WORK); // syscall_exit_to_user_mode()'s work and the return stub
    if (ASI.enabled) asi_enter_userspace(p.mm); // the end of syscall_exit_to_user_mode()
    switch_to_user_cr3();
    this_cpu().sysret();
    p.in_syscall = false;
  }
  return true;
}

/* Finish the syscall `p` slept in; false if it must sleep again. */
function resume_syscall(p: TaskStruct, resume: () => number | null): boolean {
  const r = resume();
  if (r === null || (r === -ERESTARTSYS && p.state !== TASK_RUNNING)) {
    schedule();
    return false;
  }
  p.resume = null;
  p.pending_ret = r;
  if (trace_sys_exit.enabled) trace_sys_exit_emit(p.resume_nr, r);
  return true;
}
