/*
 * kernel/signal.ts - sending, blocking, dequeuing and forcing signals.
 *
 * Mirrors kernel/signal.c: __send_signal_locked() queues a signal on a
 * thread's own pending set (tgkill) or on the group's shared_pending
 * (kill), after prepare_signal() dropped it if the task ignores it
 * (SIG_IGN, or SIG_DFL with an ignoring default action such as SIGCHLD's)
 * and it is not blocked; legacy signals (below SIGRTMIN) do not queue
 * twice. complete_signal() picks a thread that does not block it and
 * signal_wake_up() sets TIF_SIGPENDING and wakes it from an interruptible
 * sleep. get_signal() (on the way back to user mode, from
 * arch/x86/kernel/signal.ts) dequeues synchronous signals first, ignores,
 * kills (do_group_exit with the signal) or hands a handler back;
 * SA_RESETHAND resets the action as it goes. rt_sigaction, rt_sigprocmask,
 * kill and tgkill are the entry points; force_sig() is the fault paths'
 * force_sig_fault(): a handled, unblocked SIGSEGV/SIGBUS is queued for the
 * handler, a blocked or ignored one is made fatal (the action reset to
 * SIG_DFL and unblocked), as force_sig_info_to_task() does.
 *
 * The user code a fault interrupts is a host generator, which cannot be
 * stopped in the middle of an access: a fatal signal unwinds it by
 * throwing TaskKilled (the run loop turns it into do_group_exit, status
 * 128 + signal), a handled one by throwing ForcedSignal (the handler runs
 * next; the interrupted access cannot be re-executed, see
 * arch/x86/kernel/signal.ts).
 * A handler is a user text address: a handle from register_sig_handler()
 * (as clone()'s fn is one from register_user_fn()), at USER_TEXT_SIG.
 * Simplified: no job control (stop signals and SIGCONT are ignored), no
 * process groups (kill(0) and kill(-pgrp) name the caller's own process
 * and process pgrp), one uid (so never EPERM), no sigqueue rlimit, no
 * sigaltstack, no ptrace.
 */
import { TaskStruct, TASK_INTERRUPTIBLE, type UserGenerator } from './sched/task.ts';
import { current, sched_state, wake_up_process, find_task_by_pid } from './sched/core.ts';
import { this_cpu } from './smp.ts';
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import { get_user_u32, put_user_u32, put_user_u64, get_user_u64 } from '../arch/x86/lib/usercopy_64.ts';
import { EFAULT, EINVAL, ESRCH } from '../include/uapi/asm-generic/errno.ts';
import {
  SIGKILL, SIGSTOP, SIGSEGV, SIGCHLD, SIGCONT, SIGURG, SIGWINCH, SIGTSTP, SIGTTIN, SIGTTOU, SIGBUS, SIGILL, SIGTRAP,
  SIGFPE, SIGSYS, SIGRTMIN, _NSIG, SIG_DFL, SIG_IGN, SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK, SA_RESETHAND, SA_NODEFER,
  SI_USER, SI_TKILL, SIGSET_SIZE, SI_KERNEL, SA_NOCLDWAIT, CLD_KILLED, CLD_EXITED,
} from '../include/uapi/asm-generic/signal.ts';
import { vma_lookup } from '../mm/mmap.ts';
import { CSIGNAL, CLONE_VM, CLONE_SIGHAND, CLONE_THREAD } from '../include/uapi/linux/sched.ts';
import {
  Sigset, Sigpending, KernelSiginfo, KSigaction, SighandStruct, type Ksignal, sigaddset, sigdelset, sigismember,
  sigisemptyset, sigorsets, sigandnsets, valid_signal,
} from '../include/linux/signal_types.ts';

export { SIGKILL, SIGSEGV, SIGCHLD, SIGBUS };

const K_KMEM_CACHE_ALLOC = COST_KEY_INDEX.kmem_cache_alloc;
const K_KMEM_CACHE_FREE = COST_KEY_INDEX.kmem_cache_free;

/** Thrown through a task's user code when a fatal signal hits it. */
export class TaskKilled extends Error {
  constructor(readonly signal: number, readonly report: string) {
    super(report);
    this.name = 'TaskKilled';
  }
  /** The exit status as a shell sees it. */
  get status(): number {
    return 128 + this.signal;
  }
}

/**
 * Thrown through a task's user code when a fault raised a signal that a
 * handler will take (no Linux counterpart: see the file comment). The
 * signal is already queued; the run loop lets the task return to user
 * mode, where the handler runs.
 */
export class ForcedSignal extends Error {
  constructor(readonly signal: number, readonly report: string) {
    super(report);
    this.name = 'ForcedSignal';
  }
}

/** A signal handler as a program registers it: called in the task, returns the handler's user code. */
export type SigHandlerFn = (sig: number, info: number, uc: number) => UserGenerator;

/** Where handler "text addresses" start (no Linux counterpart; any non-SIG_DFL/SIG_IGN address). */
export const USER_TEXT_SIG = 0x401000;
const USER_TEXT_STRIDE = 16;

export const signal_state = {
  /** The registered handlers, by (handle - USER_TEXT_SIG) / 16. */
  handlers: [] as SigHandlerFn[],
  by_fn: new Map<SigHandlerFn, number>(),
};

/** signal_init(): every boot starts with no registered handler. */
export function signal_init(): void {
  signal_state.handlers = [];
  signal_state.by_fn = new Map();
}

/** The "address" of a handler, for sa_handler (the same function gets the same address). */
export function register_sig_handler(fn: SigHandlerFn): number {
  const known = signal_state.by_fn.get(fn);
  if (known !== undefined) return known;
  signal_state.handlers.push(fn);
  const h = USER_TEXT_SIG + (signal_state.handlers.length - 1) * USER_TEXT_STRIDE;
  signal_state.by_fn.set(fn, h);
  return h;
}

/** The handler at user address `h`, or null: jumping there would fault. */
export function sig_handler_fn(h: number): SigHandlerFn | null {
  const i = (h - USER_TEXT_SIG) / USER_TEXT_STRIDE;
  return Number.isInteger(i) && i >= 0 && i < signal_state.handlers.length ? signal_state.handlers[i] : null;
}

/* ---- default actions (the sig_kernel_* masks) ---- */

/** sig_kernel_only(): SIGKILL and SIGSTOP, which cannot be caught, blocked or ignored. */
export function sig_kernel_only(sig: number): boolean {
  return sig === SIGKILL || sig === SIGSTOP;
}

/** sig_kernel_ignore(): the default action is to ignore (SIGCONT continues, which is ignoring here). */
function sig_kernel_ignore(sig: number): boolean {
  return sig === SIGCHLD || sig === SIGURG || sig === SIGWINCH || sig === SIGCONT;
}

/** sig_kernel_stop(): job control, not modelled: treated as ignored. */
function sig_kernel_stop(sig: number): boolean {
  return sig === SIGSTOP || sig === SIGTSTP || sig === SIGTTIN || sig === SIGTTOU;
}

/** SYNCHRONOUS_MASK: the fault signals, dequeued first. */
function sig_synchronous(sig: number): boolean {
  return sig === SIGSEGV || sig === SIGBUS || sig === SIGILL || sig === SIGTRAP || sig === SIGFPE || sig === SIGSYS;
}

function sig_handler(t: TaskStruct, sig: number): number {
  return t.sighand.action[sig].sa_handler;
}

/** sig_task_ignored(): delivering `sig` to `t` would do nothing. */
function sig_task_ignored(t: TaskStruct, sig: number): boolean {
  if (sig === SIGKILL) return false;
  const h = sig_handler(t, sig);
  return h === SIG_IGN || (h === SIG_DFL && (sig_kernel_ignore(sig) || sig_kernel_stop(sig)));
}

/** sig_ignored(): a blocked signal is queued even if ignored (the action may change before it is unblocked). */
function sig_ignored(t: TaskStruct, sig: number): boolean {
  if (sigismember(t.blocked, sig)) return false;
  return sig_task_ignored(t, sig);
}

/* ---- pending sets ---- */

function has_pending_signals(p: Sigpending, blocked: Sigset): boolean {
  return ((p.signal.sig0 & ~blocked.sig0) | (p.signal.sig1 & ~blocked.sig1)) !== 0;
}

/** recalc_sigpending_tsk(): TIF_SIGPENDING from both pending sets and the mask. */
export function recalc_sigpending(t: TaskStruct): void {
  t.tif_sigpending = has_pending_signals(t.pending, t.blocked) || has_pending_signals(t.signal.shared_pending, t.blocked);
}

/** signal_wake_up(): TIF_SIGPENDING, and out of an interruptible sleep. */
function signal_wake_up(t: TaskStruct): void {
  t.tif_sigpending = true;
  if (t.state === TASK_INTERRUPTIBLE) wake_up_process(t);
}

function wants_signal(sig: number, t: TaskStruct): boolean {
  if (sigismember(t.blocked, sig) || t.exit_state) return false;
  return sig === SIGKILL || !t.tif_sigpending || t === current();
}

function thread_group(t: TaskStruct): TaskStruct[] {
  const out: TaskStruct[] = [];
  for (const x of sched_state.tasks.values()) if (x.tgid === t.tgid && !x.exit_state) out.push(x);
  return out;
}

/** complete_signal(): wake a thread that can take it (for the group's queue, any thread not blocking it). */
function complete_signal(sig: number, t: TaskStruct, group: boolean): void {
  let target: TaskStruct | null = wants_signal(sig, t) ? t : null;
  if (!target && group) for (const x of thread_group(t)) if (wants_signal(sig, x)) { target = x; break; }
  if (!target) {
    recalc_sigpending(t); // blocked everywhere: it stays pending
    return;
  }
  signal_wake_up(target);
}

/**
 * __send_signal_locked(): queue `sig` for `t`, on its own pending set or
 * (group) on its thread group's. Returns 0; a dropped signal is not an error.
 */
export function send_signal_locked(sig: number, info: KernelSiginfo, t: TaskStruct, group: boolean): number {
  if (t.exit_state || sig_ignored(t, sig)) return 0; // prepare_signal()
  const pending = group ? t.signal.shared_pending : t.pending;
  if (sig < SIGRTMIN && sigismember(pending.signal, sig)) return 0; // legacy_queue()
  this_cpu().charge_index(K_KMEM_CACHE_ALLOC); // __sigqueue_alloc()
  pending.list.push({ info });
  sigaddset(pending.signal, sig);
  complete_signal(sig, t, group);
  return 0;
}

/** collect_signal() + next_signal(): dequeue one signal of `pending` not in `mask`; synchronous ones first. */
function dequeue_from(pending: Sigpending, mask: Sigset): KernelSiginfo | null {
  const avail = new Sigset();
  sigandnsets(avail, pending.signal, mask);
  if (sigisemptyset(avail)) return null;
  let sig = 0;
  for (let s = 1; s <= _NSIG; s++) {
    if (!sigismember(avail, s)) continue;
    if (sig_synchronous(s)) { sig = s; break; }
    if (!sig) sig = s;
  }
  const i = pending.list.findIndex((q) => q.info.si_signo === sig);
  let info: KernelSiginfo;
  if (i >= 0) {
    info = pending.list[i].info;
    pending.list.splice(i, 1);
    this_cpu().charge_index(K_KMEM_CACHE_FREE); // __sigqueue_free()
  } else info = new KernelSiginfo(sig, SI_KERNEL);
  if (!pending.list.some((q) => q.info.si_signo === sig)) sigdelset(pending.signal, sig);
  return info;
}

/** dequeue_signal(): the thread's own queue first, then the group's. */
function dequeue_signal(t: TaskStruct): KernelSiginfo | null {
  const info = dequeue_from(t.pending, t.blocked) ?? dequeue_from(t.signal.shared_pending, t.blocked);
  recalc_sigpending(t);
  return info;
}

/**
 * get_signal(): the next signal `p` (current) takes with a handler, or
 * null when none is left; ignored ones are dropped here, and a fatal one
 * ends the thread group ('dead': do_group_exit() has run).
 * `group_exit` is do_group_exit(), passed in to keep kernel/exit.ts (which
 * sends SIGCHLD) from importing back.
 */
export function get_signal(p: TaskStruct, group_exit: (status: number, sig: number) => void): Ksignal | null | 'dead' {
  for (;;) {
    const info = dequeue_signal(p);
    if (!info) return null;
    const sig = info.si_signo;
    const ka = p.sighand.action[sig];
    if (ka.sa_handler === SIG_IGN) continue;
    if (ka.sa_handler !== SIG_DFL) {
      const taken = ka.copy();
      if (ka.sa_flags & SA_RESETHAND) reset_action(ka);
      return { sig, ka: taken, info };
    }
    if (sig_kernel_ignore(sig) || sig_kernel_stop(sig)) continue;
    group_exit(128 + sig, sig); // do_group_exit(ksig->info.si_signo)
    return 'dead';
  }
}

function reset_action(ka: KSigaction): void {
  ka.sa_handler = SIG_DFL;
  ka.sa_flags = 0;
  ka.sa_restorer = 0;
  ka.sa_mask = new Sigset();
}

/** set_current_blocked(): SIGKILL and SIGSTOP can never be blocked. */
export function set_current_blocked(p: TaskStruct, set: Sigset): void {
  sigdelset(set, SIGKILL);
  sigdelset(set, SIGSTOP);
  p.blocked = set;
  recalc_sigpending(p);
}

/** signal_setup_done(): after a frame is built, block sa_mask and (unless SA_NODEFER) the signal itself. */
export function signal_setup_done(p: TaskStruct, ksig: Ksignal): void {
  const blocked = new Sigset();
  sigorsets(blocked, p.blocked, ksig.ka.sa_mask);
  if (!(ksig.ka.sa_flags & SA_NODEFER)) sigaddset(blocked, ksig.sig);
  set_current_blocked(p, blocked);
}

/**
 * force_sig_fault(): a fault in user mode raised `sig` on current. With a
 * handler installed and the signal unblocked, it is queued and the user
 * code unwound with ForcedSignal; otherwise (blocked, ignored or default)
 * it is fatal, the action reset to SIG_DFL first (force_sig_info_to_task()).
 * SIGKILL (the OOM killer's) is always fatal. `code` is si_code: the #PF
 * path passes SEGV_MAPERR / SEGV_ACCERR and the address; the #GP path's
 * default is SI_KERNEL, as Linux's force_sig(SIGSEGV) there.
 */
export function force_sig(signal: number, report: string, addr = 0, code = SI_KERNEL): never {
  const p = current();
  if (signal !== SIGKILL && !p.exit_state) {
    const ka = p.sighand.action[signal];
    const blocked = sigismember(p.blocked, signal);
    if (blocked || ka.sa_handler === SIG_IGN) {
      reset_action(ka);
      if (blocked) {
        const b = p.blocked.copy();
        sigdelset(b, signal);
        set_current_blocked(p, b);
      }
    }
    if (ka.sa_handler !== SIG_DFL) {
      const info = new KernelSiginfo(signal, code);
      info.si_addr = addr;
      send_signal_locked(signal, info, p, false);
      throw new ForcedSignal(signal, report);
    }
  }
  throw new TaskKilled(signal, report);
}

/**
 * force_sigsegv() from kernel code (a bad signal frame, a bad sigreturn):
 * SIGSEGV, made fatal, taken on the way back to user mode.
 */
export function force_sigsegv(p: TaskStruct): void {
  reset_action(p.sighand.action[SIGSEGV]);
  const b = p.blocked.copy();
  sigdelset(b, SIGSEGV);
  p.blocked = b;
  send_signal_locked(SIGSEGV, new KernelSiginfo(SIGSEGV, SI_KERNEL), p, false);
  recalc_sigpending(p);
}

/* ---- fork, exec, exit ---- */

/**
 * copy_sighand() + copy_signal() + the signal fields of copy_process():
 * CLONE_SIGHAND shares the handlers, CLONE_THREAD the group's pending
 * queue; the mask is inherited, the pending sets start empty;
 * exit_signal is clone's CSIGNAL byte (a thread sends none). The user sp
 * (copy_thread()) carries over to a child whose mm has the parent's stack
 * (a copy); any other child starts without one.
 */
export function copy_process_signals(clone_flags: number, parent: TaskStruct | null, p: TaskStruct): void {
  p.exit_signal = clone_flags & CLONE_THREAD ? -1 : clone_flags & CSIGNAL;
  if (!parent) return;
  if (clone_flags & CLONE_SIGHAND) {
    p.sighand = parent.sighand;
    parent.sighand.count++;
  } else {
    const sh = new SighandStruct();
    for (let s = 1; s <= _NSIG; s++) sh.action[s] = parent.sighand.action[s].copy();
    p.sighand = sh;
  }
  if (clone_flags & CLONE_THREAD) {
    p.signal = parent.signal;
    parent.signal.count++;
  }
  p.blocked = parent.blocked.copy();
  if (!(clone_flags & CLONE_VM) && parent.user_sp && p.mm && p.mm !== parent.mm && vma_lookup(p.mm, parent.user_sp - 1))
    p.user_sp = parent.user_sp;
}

/**
 * flush_signal_handlers() after unshare_sighand() (execve): the new image
 * cannot know the old one's handler addresses, so each handled signal goes
 * back to SIG_DFL; ignored ones stay ignored. The mask and pending
 * signals survive exec, as in Linux.
 */
export function flush_signal_handlers(p: TaskStruct): void {
  if (p.sighand.count > 1) {
    const sh = new SighandStruct();
    for (let s = 1; s <= _NSIG; s++) sh.action[s] = p.sighand.action[s].copy();
    p.sighand.count--;
    p.sighand = sh;
  }
  for (let s = 1; s <= _NSIG; s++) {
    const ka = p.sighand.action[s];
    if (ka.sa_handler !== SIG_IGN) reset_action(ka);
    else {
      ka.sa_flags = 0;
      ka.sa_restorer = 0;
      ka.sa_mask = new Sigset();
    }
  }
  p.sig_contexts = null; // the frames' user contexts were the old image's
}

/**
 * do_notify_parent(): a child's exit. A parent ignoring SIGCHLD (SIG_IGN
 * or SA_NOCLDWAIT) does not keep zombies: returns true and the child is
 * reaped at once (autoreap). Otherwise the child's exit_signal is sent.
 */
export function do_notify_parent(tsk: TaskStruct, parent: TaskStruct, status: number, killed_by: number): boolean {
  const psig = parent.sighand.action[SIGCHLD];
  const autoreap = tsk.exit_signal === SIGCHLD && (psig.sa_handler === SIG_IGN || (psig.sa_flags & SA_NOCLDWAIT) !== 0);
  if (tsk.exit_signal > 0 && valid_signal(tsk.exit_signal)) {
    const info = new KernelSiginfo(tsk.exit_signal, killed_by ? CLD_KILLED : CLD_EXITED);
    info.si_pid = tsk.tgid;
    info.si_status = killed_by ? killed_by : status & 0xff;
    send_signal_locked(tsk.exit_signal, info, parent, true);
  }
  return autoreap;
}

/* ---- the syscalls ---- */

function get_user_sigset(addr: number): Sigset | number {
  const lo = get_user_u32(addr);
  if (lo < 0) return -EFAULT;
  const hi = get_user_u32(addr + 4);
  if (hi < 0) return -EFAULT;
  return new Sigset(lo >>> 0, hi >>> 0);
}

function put_user_sigset(addr: number, set: Sigset): number {
  if (put_user_u32(addr, set.sig0) < 0 || put_user_u32(addr + 4, set.sig1) < 0) return -EFAULT;
  return 0;
}

/** rt_sigaction(sig, act, oact, sigsetsize). */
export function sys_rt_sigaction(regs: readonly number[]): number {
  const [sig, act, oact, sigsetsize] = regs;
  if (sigsetsize !== SIGSET_SIZE) return -EINVAL;
  let nka: KSigaction | null = null;
  if (act) {
    const h = get_user_u64(act);
    const flags = get_user_u64(act + 8);
    const restorer = get_user_u64(act + 16);
    const mask = get_user_sigset(act + 24);
    if (h < 0 || flags < 0 || restorer < 0 || typeof mask === 'number') return -EFAULT;
    nka = new KSigaction();
    nka.sa_handler = h;
    nka.sa_flags = flags % 4294967296;
    nka.sa_restorer = restorer;
    nka.sa_mask = mask;
  }
  // do_sigaction(): a valid signal, never a handler for SIGKILL or SIGSTOP.
  if (!Number.isInteger(sig) || sig < 1 || sig > _NSIG || (nka && sig_kernel_only(sig))) return -EINVAL;
  const p = current();
  const k = p.sighand.action[sig];
  const old = k.copy();
  if (nka) {
    sigdelset(nka.sa_mask, SIGKILL);
    sigdelset(nka.sa_mask, SIGSTOP);
    p.sighand.action[sig] = nka;
    // POSIX 3.3.1.3: setting an ignoring action discards the pending instances, in every thread.
    if (sig_task_ignored(p, sig)) {
      for (const t of thread_group(p)) flush_sig(t.pending, sig);
      flush_sig(p.signal.shared_pending, sig);
      for (const t of thread_group(p)) recalc_sigpending(t);
    }
  }
  if (oact) {
    if (put_user_u64(oact, old.sa_handler) < 0 || put_user_u64(oact + 8, old.sa_flags) < 0 ||
      put_user_u64(oact + 16, old.sa_restorer) < 0 || put_user_sigset(oact + 24, old.sa_mask) < 0) return -EFAULT;
  }
  return 0;
}

function flush_sig(p: Sigpending, sig: number): void {
  if (!sigismember(p.signal, sig)) return;
  for (let i = p.list.length - 1; i >= 0; i--) if (p.list[i].info.si_signo === sig) p.list.splice(i, 1);
  sigdelset(p.signal, sig);
}

/** rt_sigprocmask(how, set, oset, sigsetsize). */
export function sys_rt_sigprocmask(regs: readonly number[]): number {
  const [how, set, oset, sigsetsize] = regs;
  if (sigsetsize !== SIGSET_SIZE) return -EINVAL;
  const p = current();
  const old = p.blocked.copy();
  if (set) {
    const s = get_user_sigset(set);
    if (typeof s === 'number') return s;
    const n = p.blocked.copy();
    if (how === SIG_BLOCK) sigorsets(n, n, s);
    else if (how === SIG_UNBLOCK) sigandnsets(n, n, s);
    else if (how === SIG_SETMASK) { n.sig0 = s.sig0; n.sig1 = s.sig1; }
    else return -EINVAL;
    set_current_blocked(p, n);
  }
  if (oset && put_user_sigset(oset, old) < 0) return -EFAULT;
  return 0;
}

/*
 * A process (thread group) by its tgid: its leader, alive or a zombie not
 * yet reaped (which exists, so kill() succeeds, and takes nothing).
 */
function find_process(pid: number): TaskStruct | null {
  const t = find_task_by_pid(pid);
  return t && t.tgid === pid ? t : null;
}

function user_info(sig: number, code: number): KernelSiginfo {
  const info = new KernelSiginfo(sig, code);
  info.si_pid = current().tgid;
  return info;
}

/** kill_pid_info(): the process `pid`; sig 0 only checks that it exists. */
function kill_proc(pid: number, sig: number): number {
  const t = find_process(pid);
  if (!t) return -ESRCH;
  if (sig) send_signal_locked(sig, user_info(sig, SI_USER), t, true);
  return 0;
}

/** kill(pid, sig). */
export function sys_kill(regs: readonly number[]): number {
  const [pid, sig] = regs;
  if (!valid_signal(sig) || !Number.isInteger(pid)) return -EINVAL;
  const me = current();
  if (pid > 0) return kill_proc(pid, sig);
  if (pid === 0) return kill_proc(me.tgid, sig); // the caller's process group: itself, here
  if (pid === -1) {
    // Every process but init (pid 1) and the caller's own.
    let count = 0;
    for (const t of [...sched_state.tasks.values()]) {
      if (t.pid !== t.tgid || t.tgid <= 1 || t.tgid === me.tgid || t.exit_state) continue;
      count++;
      if (sig) send_signal_locked(sig, user_info(sig, SI_USER), t, true);
    }
    return count ? 0 : -ESRCH;
  }
  if (pid === -(2 ** 31)) return -ESRCH; // INT_MIN: Linux refuses to negate it
  return kill_proc(-pid, sig); // a process group: its leader's process, here
}

/** tgkill(tgid, tid, sig): one thread of one process. */
export function sys_tgkill(regs: readonly number[]): number {
  const [tgid, tid, sig] = regs;
  if (!Number.isInteger(tgid) || !Number.isInteger(tid) || tgid <= 0 || tid <= 0) return -EINVAL;
  if (!valid_signal(sig)) return -EINVAL;
  const t = find_task_by_pid(tid);
  if (!t || t.tgid !== tgid) return -ESRCH;
  if (sig) send_signal_locked(sig, user_info(sig, SI_TKILL), t, false);
  return 0;
}
