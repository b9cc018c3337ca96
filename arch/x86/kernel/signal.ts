/*
 * arch/x86/kernel/signal.ts - signal frames: running a handler and rt_sigreturn.
 *
 * Mirrors arch/x86/kernel/signal.c and signal_64.c: on the way back to
 * user mode (exit_to_user_mode_loop -> arch_do_signal_or_restart) each
 * signal get_signal() hands back gets handle_signal(): the interrupted
 * syscall is restarted or made -EINTR (SA_RESTART), setup_rt_frame()
 * builds struct rt_sigframe on the user stack through the user mappings
 * (get_sigframe: below sp, 16-byte aligned minus 8 as after a call; the
 * return address is sa_restorer, which x86-64 requires: without
 * SA_RESTORER the frame is refused and the task gets SIGSEGV), the
 * registers point at the handler (rdi = sig, rsi = &frame->info, rdx =
 * &frame->uc) and signal_setup_done() blocks sa_mask and the signal
 * (unless SA_NODEFER). Several pending signals nest frames, the last one
 * built running first. rt_sigreturn() reads the frame back at the user sp:
 * uc_sigmask becomes the mask again, and the saved rax, rsp and rip are
 * restored (a frame that cannot be read, or whose rip is no context of
 * this task, gets SIGSEGV).
 *
 * The model's registers: rax is the pending syscall return value, rsp the
 * task's user_sp, and rip names the interrupted user code: the frame holds
 * the id of a SavedUserContext kept on the task (kernel/sched/task.ts),
 * since that code is a host generator and cannot live in user memory. A
 * program can therefore change rax or the mask in the frame before
 * returning, as in Linux, but not "jump" anywhere else.
 * A handler for a fault (SIGSEGV, SIGBUS) runs after the faulting access
 * unwound the user code (kernel/signal.ts): returning from it would
 * re-execute that access, which this model cannot, so rt_sigreturn into
 * such a context is a fatal SIGSEGV (on Linux the access faults again).
 * A task without a stack (a program spawned through the Kernel API) gets
 * one made for its first frame, as exec would have made it (fs/exec.ts).
 * Simplified: no FPU/xstate in the frame, no sigaltstack (SA_ONSTACK is
 * ignored), no vsyscall or x32 frames, no uc_flags.
 */
import type { TaskStruct } from '../../../kernel/sched/task.ts';
import { current } from '../../../kernel/sched/core.ts';
import { do_group_exit } from '../../../kernel/exit.ts';
import {
  get_signal, signal_setup_done, set_current_blocked, force_sigsegv, sig_handler_fn,
} from '../../../kernel/signal.ts';
import { Sigset, type Ksignal } from '../../../include/linux/signal_types.ts';
import { put_user_u32, get_user_u32, clear_user } from '../lib/usercopy_64.ts';
import { EFAULT, EINTR } from '../../../include/uapi/asm-generic/errno.ts';
import { SA_RESTART, SA_RESTORER, SA_SIGINFO, SIGSEGV, SIGBUS } from '../../../include/uapi/asm-generic/signal.ts';
import { exec_setup_stack } from '../../../fs/exec.ts';

/*
 * struct rt_sigframe (arch/x86/include/asm/sigframe.h), 440 bytes:
 *   0   pretcode                 (char __user *: sa_restorer)
 *   8   struct ucontext uc:      uc_flags @8, uc_link @16, uc_stack @24 (24 bytes),
 *  48     uc_mcontext (struct sigcontext, 256 bytes):
 *           r8..r15 @48..111, rdi @112, rsi @120, rbp @128, rbx @136, rdx @144,
 *           rax @152, rcx @160, rsp @168, rip @176, eflags @184, cs/gs/fs/ss @192,
 *           err @200, trapno @208, oldmask @216, cr2 @224, fpstate @232, reserved @240
 * 304     uc_sigmask (8 bytes)
 * 312   struct siginfo info      (128 bytes)
 */
export const RT_SIGFRAME_SIZE = 440;
export const UC_OFFSET = 8;
export const SC_RAX = 152;
export const SC_RSP = 168;
export const SC_RIP = 176;
export const SC_ERR = 200;
export const SC_TRAPNO = 208;
export const SC_OLDMASK = 216;
export const SC_CR2 = 224;
export const UC_SIGMASK = 304;
export const INFO_OFFSET = 312;

/* X86_TRAP_PF: the trap number a page fault's frame records. */
const X86_TRAP_PF = 14;

/* A register word: a JS number below 2^53, or a small negative one (an errno), two's complement. */
function put_user_reg(addr: number, v: number): number {
  if (v < 0) return put_user_u32(addr, v >>> 0) || put_user_u32(addr + 4, 0xffffffff);
  return put_user_u32(addr, v % 4294967296) || put_user_u32(addr + 4, Math.floor(v / 4294967296));
}

function get_user_reg(addr: number): number {
  const lo = get_user_u32(addr);
  const hi = get_user_u32(addr + 4);
  if (lo < 0 || hi < 0) return Number.NaN;
  if (hi === 0xffffffff && lo >= 0x80000000) return lo - 4294967296;
  return hi * 4294967296 + lo;
}

/** get_sigframe(): where the frame goes: below sp, aligned as after a call (sp + 8 is 16-byte aligned). */
function get_sigframe(p: TaskStruct): number {
  let sp = p.user_sp;
  if (!sp) {
    if (!p.mm) return -EFAULT;
    const top = exec_setup_stack(p.mm);
    if (top < 0) return top;
    sp = p.user_sp = top;
  }
  return Math.floor((sp - RT_SIGFRAME_SIZE) / 16) * 16 - 8;
}

/** copy_siginfo_to_user(): the fields of siginfo_t the queued signal carries. */
function copy_siginfo_to_user(at: number, ksig: Ksignal): number {
  const i = ksig.info;
  let r = put_user_u32(at, i.si_signo) || put_user_u32(at + 4, i.si_errno) || put_user_u32(at + 8, i.si_code >>> 0);
  if (ksig.sig === SIGSEGV || ksig.sig === SIGBUS) r = r || put_user_reg(at + 16, i.si_addr);
  else r = r || put_user_u32(at + 16, i.si_pid) || put_user_u32(at + 20, i.si_uid) || put_user_u32(at + 24, i.si_status);
  return r;
}

/** setup_rt_frame() (x64_setup_rt_frame): the frame's address, or -EFAULT. */
function setup_rt_frame(p: TaskStruct, ksig: Ksignal, ctx_id: number): number {
  if (!(ksig.ka.sa_flags & SA_RESTORER)) return -EFAULT; // x86-64 has no default restorer
  const frame = get_sigframe(p);
  if (frame < 0) return frame;
  if (clear_user(frame, RT_SIGFRAME_SIZE)) return -EFAULT;
  const sc = frame;
  const fault = ksig.info.si_addr !== 0 && (ksig.sig === SIGSEGV || ksig.sig === SIGBUS);
  const err =
    put_user_reg(frame, ksig.ka.sa_restorer) ||
    put_user_reg(sc + SC_RAX, p.pending_ret) ||
    put_user_reg(sc + SC_RSP, p.user_sp) ||
    put_user_reg(sc + SC_RIP, ctx_id) ||
    put_user_reg(sc + SC_TRAPNO, fault ? X86_TRAP_PF : 0) ||
    put_user_reg(sc + SC_CR2, fault ? ksig.info.si_addr : 0) ||
    put_user_u32(sc + SC_OLDMASK, p.blocked.sig0) ||
    put_user_u32(frame + UC_SIGMASK, p.blocked.sig0) ||
    put_user_u32(frame + UC_SIGMASK + 4, p.blocked.sig1) ||
    (ksig.ka.sa_flags & SA_SIGINFO ? copy_siginfo_to_user(frame + INFO_OFFSET, ksig) : 0);
  return err ? -EFAULT : frame;
}

/**
 * handle_signal(): restart or -EINTR for a syscall the signal interrupted,
 * then the frame and the handler. A frame that cannot be built, or a
 * handler address with no code, is SIGSEGV (force_sigsegv).
 */
function handle_signal(p: TaskStruct, ksig: Ksignal): void {
  let resume = p.resume;
  if (resume) {
    // The syscall slept (-ERESTARTSYS): restart it after the handler, or fail it.
    if (!(ksig.ka.sa_flags & SA_RESTART)) {
      resume = null;
      p.pending_ret = -EINTR;
    }
    p.resume = null;
  }
  const fn = sig_handler_fn(ksig.ka.sa_handler);
  const id = p.sig_context_next++;
  const frame = fn ? setup_rt_frame(p, ksig, id) : -EFAULT;
  if (frame < 0 || !fn) {
    p.resume = resume;
    force_sigsegv(p);
    return;
  }
  if (!p.sig_contexts) p.sig_contexts = new Map();
  p.sig_contexts.set(id, { gen: p.gen, resume });
  p.user_sp = frame;
  p.gen = fn(ksig.sig, frame + INFO_OFFSET, frame + UC_OFFSET);
  signal_setup_done(p, ksig);
}

/**
 * arch_do_signal_or_restart(): deliver what is pending to `p` (current,
 * about to return to user mode). Returns false if a fatal signal ended it.
 */
export function arch_do_signal_or_restart(p: TaskStruct): boolean {
  while (p.tif_sigpending) {
    const ksig = get_signal(p, do_group_exit);
    if (ksig === 'dead') return false;
    if (!ksig) break;
    handle_signal(p, ksig);
  }
  return true;
}

/** rt_sigreturn(): back to the context the frame at the user sp saved; returns its rax. */
export function sys_rt_sigreturn(_regs: readonly number[]): number {
  const p = current();
  const frame = p.user_sp;
  const lo = get_user_u32(frame + UC_SIGMASK);
  const hi = get_user_u32(frame + UC_SIGMASK + 4);
  const rax = get_user_reg(frame + SC_RAX);
  const rsp = get_user_reg(frame + SC_RSP);
  const rip = get_user_reg(frame + SC_RIP);
  const ctx = lo < 0 || hi < 0 || Number.isNaN(rax + rsp + rip) ? undefined : p.sig_contexts?.get(rip);
  if (!ctx || !ctx.gen) {
    // signal_fault(): a frame we cannot read, or a return into nothing.
    if (ctx) p.sig_contexts?.delete(rip);
    force_sigsegv(p);
    return 0;
  }
  p.sig_contexts?.delete(rip);
  set_current_blocked(p, new Sigset(lo >>> 0, hi >>> 0));
  p.user_sp = rsp;
  p.gen = ctx.gen;
  p.resume = ctx.resume;
  return rax;
}
