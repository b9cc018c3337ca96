/*
 * include/uapi/asm-generic/signal.ts - signal numbers, sigaction flags, sigprocmask's how.
 *
 * Mirrors the x86-64 values of arch/x86/include/uapi/asm/signal.h (the
 * same as asm-generic/signal.h for these), asm-generic/signal-defs.h
 * (SA_*, SIG_BLOCK..., SIG_DFL/SIG_IGN) and asm-generic/siginfo.h (si_code
 * values). User programs and the kernel both import them from here.
 */
export const SIGHUP = 1;
export const SIGINT = 2;
export const SIGQUIT = 3;
export const SIGILL = 4;
export const SIGTRAP = 5;
export const SIGABRT = 6;
export const SIGBUS = 7;
export const SIGFPE = 8;
export const SIGKILL = 9;
export const SIGUSR1 = 10;
export const SIGSEGV = 11;
export const SIGUSR2 = 12;
export const SIGPIPE = 13;
export const SIGALRM = 14;
export const SIGTERM = 15;
export const SIGSTKFLT = 16;
export const SIGCHLD = 17;
export const SIGCONT = 18;
export const SIGSTOP = 19;
export const SIGTSTP = 20;
export const SIGTTIN = 21;
export const SIGTTOU = 22;
export const SIGURG = 23;
export const SIGXCPU = 24;
export const SIGXFSZ = 25;
export const SIGVTALRM = 26;
export const SIGPROF = 27;
export const SIGWINCH = 28;
export const SIGIO = 29;
export const SIGPWR = 30;
export const SIGSYS = 31;
/** SIGRTMIN: the first real-time signal (the kernel's; glibc reserves two more). */
export const SIGRTMIN = 32;
/** _NSIG: signals are 1.._NSIG. */
export const _NSIG = 64;

/* sa_flags (signal-defs.h, x86's SA_RESTORER). */
export const SA_NOCLDSTOP = 0x00000001;
export const SA_NOCLDWAIT = 0x00000002;
export const SA_SIGINFO = 0x00000004;
export const SA_RESTORER = 0x04000000;
export const SA_ONSTACK = 0x08000000;
export const SA_RESTART = 0x10000000;
export const SA_NODEFER = 0x40000000;
export const SA_RESETHAND = 0x80000000;

/* sigprocmask's how. */
export const SIG_BLOCK = 0;
export const SIG_UNBLOCK = 1;
export const SIG_SETMASK = 2;

/* sa_handler's special values. */
export const SIG_DFL = 0;
export const SIG_IGN = 1;

/* si_code values (siginfo.h). */
export const SI_USER = 0;
export const SI_KERNEL = 0x80;
export const SI_TKILL = -6;
export const SEGV_MAPERR = 1;
export const SEGV_ACCERR = 2;
export const BUS_ADRERR = 2;
export const CLD_EXITED = 1;
export const CLD_KILLED = 2;

/**
 * sizeof(struct sigaction) as rt_sigaction() reads it on x86-64 (struct
 * kernel_sigaction): sa_handler @0, sa_flags @8, sa_restorer @16, sa_mask @24.
 */
export const SIGACTION_SIZE = 32;
/** sizeof(sigset_t): rt_sigaction's and rt_sigprocmask's sigsetsize must be this. */
export const SIGSET_SIZE = 8;
/** sizeof(siginfo_t). si_signo @0, si_errno @4, si_code @8; the union @16 (si_pid, si_uid, si_status @24; si_addr). */
export const SIGINFO_SIZE = 128;
