/*
 * kernel/signal.ts - fatal signals.
 *
 * Mirrors the fatal half of kernel/signal.c: force_sig() on a task in user
 * mode (a segfault, OOM) kills it. tskernel has no signal handlers, so a
 * fatal signal unwinds the task's user code (the generator) by throwing
 * TaskKilled, which the run loop turns into do_exit() with the status a
 * shell reports (128 + signal: 139 for SIGSEGV).
 */

export const SIGKILL = 9;
export const SIGSEGV = 11;
export const SIGCHLD = 17;

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

export function force_sig(signal: number, report: string): never {
  throw new TaskKilled(signal, report);
}
