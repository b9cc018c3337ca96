/*
 * include/linux/signal_types.ts - sigset_t, struct sigaction, the pending queues.
 *
 * Mirrors include/linux/signal_types.h (struct sigpending, struct
 * sigqueue, struct k_sigaction, struct ksignal), the sigset_t helpers of
 * include/linux/signal.h, and the signal halves of
 * include/linux/sched/signal.h: struct sighand_struct (the handlers,
 * shared by CLONE_SIGHAND) and struct signal_struct (shared_pending, shared
 * by the thread group).
 * A sigset_t is 64 bits, held as two u32 words (sig[0]: signals 1-32,
 * sig[1]: 33-64) so no BigInt is needed: bit (n-1) % 32 of word (n-1) >> 5.
 * Simplified: kernel_siginfo keeps the fields tskernel fills (signo, code,
 * errno, pid, uid, status, addr); no rlimit on queued signals.
 */
import { _NSIG } from '../uapi/asm-generic/signal.ts';

/** sigset_t. */
export class Sigset {
  constructor(public sig0 = 0, public sig1 = 0) {}
  copy(): Sigset {
    return new Sigset(this.sig0, this.sig1);
  }
}

function word_bit(sig: number): [number, number] {
  const b = sig - 1;
  return [b >> 5, 1 << (b & 31)];
}

export function sigaddset(set: Sigset, sig: number): void {
  const [w, bit] = word_bit(sig);
  if (w === 0) set.sig0 = (set.sig0 | bit) >>> 0;
  else set.sig1 = (set.sig1 | bit) >>> 0;
}

export function sigdelset(set: Sigset, sig: number): void {
  const [w, bit] = word_bit(sig);
  if (w === 0) set.sig0 = (set.sig0 & ~bit) >>> 0;
  else set.sig1 = (set.sig1 & ~bit) >>> 0;
}

export function sigismember(set: Sigset, sig: number): boolean {
  const [w, bit] = word_bit(sig);
  return ((w === 0 ? set.sig0 : set.sig1) & bit) !== 0;
}

export function sigisemptyset(set: Sigset): boolean {
  return set.sig0 === 0 && set.sig1 === 0;
}

/** sigorsets(r, a, b): r = a | b. */
export function sigorsets(r: Sigset, a: Sigset, b: Sigset): void {
  r.sig0 = (a.sig0 | b.sig0) >>> 0;
  r.sig1 = (a.sig1 | b.sig1) >>> 0;
}

/** sigandnsets(r, a, b): r = a & ~b. */
export function sigandnsets(r: Sigset, a: Sigset, b: Sigset): void {
  r.sig0 = (a.sig0 & ~b.sig0) >>> 0;
  r.sig1 = (a.sig1 & ~b.sig1) >>> 0;
}

/** valid_signal(): 1.._NSIG (0 is valid to kill() only, as an existence check). */
export function valid_signal(sig: number): boolean {
  return Number.isInteger(sig) && sig >= 0 && sig <= _NSIG;
}

/** struct kernel_siginfo: what a queued signal carries to the handler's siginfo_t. */
export class KernelSiginfo {
  si_errno = 0;
  si_pid = 0;
  si_uid = 0;
  si_status = 0;
  /** si_addr: the faulting address (SIGSEGV, SIGBUS). */
  si_addr = 0;
  constructor(public si_signo: number, public si_code: number) {}
}

/** struct sigqueue: one queued instance. */
export interface Sigqueue {
  info: KernelSiginfo;
}

/** struct sigpending: the set of pending signals and their queued siginfo, oldest first. */
export class Sigpending {
  readonly signal = new Sigset();
  readonly list: Sigqueue[] = [];
}

/**
 * struct k_sigaction (struct sigaction inside). sa_handler is SIG_DFL,
 * SIG_IGN, or a user text address: in this model a handle from
 * register_sig_handler() (kernel/signal.ts), as clone()'s fn is one from
 * register_user_fn().
 */
export class KSigaction {
  sa_handler = 0;
  sa_flags = 0;
  sa_restorer = 0;
  sa_mask = new Sigset();
  copy(): KSigaction {
    const k = new KSigaction();
    k.sa_handler = this.sa_handler;
    k.sa_flags = this.sa_flags;
    k.sa_restorer = this.sa_restorer;
    k.sa_mask = this.sa_mask.copy();
    return k;
  }
}

/** struct sighand_struct: the action per signal (index 1.._NSIG), shared by CLONE_SIGHAND. */
export class SighandStruct {
  count = 1;
  readonly action: KSigaction[] = Array.from({ length: _NSIG + 1 }, () => new KSigaction());
}

/** struct signal_struct: the thread group's shared pending queue (kill() targets it). */
export class SignalStruct {
  count = 1;
  readonly shared_pending = new Sigpending();
}

/** struct ksignal: a dequeued signal and the action to take for it. */
export interface Ksignal {
  sig: number;
  ka: KSigaction;
  info: KernelSiginfo;
}
