/*
 * kernel/sched/task.ts - struct task_struct and the program model.
 *
 * Mirrors the fields of include/linux/sched.h that this kernel uses. A
 * task's user-space code is a generator (DESIGN.md section 7): it yields a
 * syscall request {nr, args} and is resumed with the raw return value.
 * Between yields it runs in user mode on its CPU, touching its memory
 * through the MMU with user-mode accesses (tools/include/nolibc.ts).
 */
import type { MmStruct } from '../../mm/mm_struct.ts';
import type { FilesStruct } from '../../include/linux/fdtable.ts';
import type { Kiocb } from '../../include/linux/fs.ts';
import type { IovIter } from '../../include/linux/uio.ts';
import type { Loff } from '../../fs/read_write.ts';
import type { Pteval } from '../../arch/x86/mm/pgtable.ts';
import { KM_MAX_IDX } from '../../arch/x86/include/asm/fixmap.ts';
import { AsiState } from '../../include/linux/asi.ts';
import { SighandStruct, SignalStruct, Sigset, Sigpending } from '../../include/linux/signal_types.ts';

export interface SyscallRequest {
  nr: number;
  args: readonly number[];
}

/** A user program: its generator's return value is the exit status. */
export type UserGenerator = Generator<SyscallRequest, number | void, number>;

/**
 * A user context a signal frame stands for (no Linux counterpart: Linux
 * saves the registers in the frame; here the interrupted user code is a
 * host generator, kept on the task and named in the frame by its id).
 * gen: the interrupted code, null if a fault unwound it; resume: the
 * syscall to restart after sigreturn (SA_RESTART), if it slept.
 */
export interface SavedUserContext {
  gen: UserGenerator | null;
  resume: (() => number | null) | null;
}

/* Task states (include/linux/sched.h). */
export const TASK_RUNNING = 0x0000;
export const TASK_INTERRUPTIBLE = 0x0001;
export const TASK_UNINTERRUPTIBLE = 0x0002;
export const EXIT_DEAD = 0x0010;
export const EXIT_ZOMBIE = 0x0020;
export const TASK_DEAD = 0x0080;

/** Why a sleeping task sleeps: tskernel's stand-in for wait queues. */
export type WaitReason =
  | { kind: 'none' }
  | { kind: 'timer'; until_ns: number }
  | { kind: 'child'; pid: number }
  | { kind: 'event'; key: object };

/** struct kmap_ctrl: a task's kmap_local slots (mm/highmem.ts), saved across context switches. */
export class KmapCtrl {
  idx = 0;
  readonly pteval: (Pteval | null)[] = new Array<Pteval | null>(KM_MAX_IDX).fill(null);
}

export class TaskStruct {
  state = TASK_RUNNING;
  /** exit_state: EXIT_ZOMBIE until the parent reaps it, then EXIT_DEAD. */
  exit_state = 0;
  /** Shell-style status: the exit code, or 128 + signal when killed. */
  exit_code = 0;
  /** The fatal signal, or 0 for a normal exit. */
  exit_signal_nr = 0;
  /** A blocked syscall's continuation: run when the task is scheduled again. */
  resume: (() => number | null) | null = null;
  /** The number of the syscall `resume` finishes (its raw_syscalls:sys_exit is emitted then). */
  resume_nr = -1;
  /** The CPU whose runqueue holds this task. */
  cpu = 0;
  /** mm: the user address space (null for kernel threads); active_mm: what it runs on. */
  mm: MmStruct | null;
  active_mm: MmStruct | null;
  /** migrate_disable() depth: the task may not change CPU while > 0. */
  migration_disabled = 0;
  /** The user program, null for kernel threads (idle). */
  gen: UserGenerator | null = null;
  /** Value to resume the generator with (the last syscall's return value). */
  pending_ret = 0;
  /** Cycle count on this CPU when the current slice began. */
  slice_start = 0;
  wait: WaitReason = { kind: 'none' };
  parent: TaskStruct | null = null;
  readonly children: TaskStruct[] = [];
  /** Thread group leader's pid (getpid); pid is the thread id (gettid). */
  tgid: number;
  /** nvcsw + nivcsw: context switches away from this task. */
  nvcsw = 0;
  nivcsw = 0;
  /** Set while a syscall is in progress (kernel mode). */
  in_syscall = false;
  /**
   * A group exit this task must still carry out (the SIGKILL that
   * zap_other_threads() queues, with signal->group_exit_code): set on a
   * thread running on another CPU, which exits once, in its own kernel
   * code, on its way back to user mode.
   */
  group_exit: { status: number; signal: number } | null = null;
  /** files: the open file table (CLONE_FILES shares it); null for kernel threads. */
  files: FilesStruct | null = null;
  /** kmap_ctrl: this task's kmap_local slots, made on first use (mm/highmem.ts). */
  kmap_ctrl: KmapCtrl | null = null;
  /**
   * The kiocb and iov_iter of this task's sync reads and writes (no Linux
   * counterpart: Linux's are on the kernel stack), made on first use and
   * taken off the task while in use (fs/read_write.ts).
   */
  sync_kiocb: Kiocb | null = null;
  sync_iter: IovIter | null = null;
  /** The loff_t a read or write syscall passes down by pointer (Linux: a local of ksys_*), taken the same way. */
  sync_pos: Loff | null = null;
  /** thread.asi_state: the ASI domain this task runs in while tense, and its interrupt nesting. */
  readonly asi_state = new AsiState();
  /** sighand: the handlers (CLONE_SIGHAND shares them); signal: the group's shared_pending. */
  sighand = new SighandStruct();
  signal = new SignalStruct();
  /** blocked: the signal mask; pending: signals sent to this thread (tgkill). */
  blocked = new Sigset();
  readonly pending = new Sigpending();
  /** TIF_SIGPENDING: an unblocked signal is pending (recalc_sigpending()). */
  tif_sigpending = false;
  /** exit_signal: sent to the parent at exit (clone's CSIGNAL byte; SIGCHLD for fork), 0 for none. */
  exit_signal = 0;
  /** pt_regs->sp: the user stack pointer; 0 while the task has no stack (a spawned program). */
  user_sp = 0;
  /** The user contexts this task's signal frames name, by id (see SavedUserContext). */
  sig_contexts: Map<number, SavedUserContext> | null = null;
  sig_context_next = 1;

  constructor(readonly pid: number, public comm: string, mm: MmStruct | null) {
    this.tgid = pid;
    this.mm = mm;
    this.active_mm = mm;
  }

  /** Kernel thread: no user mm (the idle task). */
  get is_kthread(): boolean {
    return this.gen === null;
  }
}
