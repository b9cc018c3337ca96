/*
 * arch/x86/entry/syscall_64.ts - the x86-64 system call table.
 *
 * Mirrors arch/x86/entry/syscalls/syscall_64.tbl and syscall_64.c: one row
 * per call, <number> <name> <entry point>, and from the rows everything else
 * Linux's build generates: sys_call_table[] indexed by number, the names the
 * traces and reports print, and NR_syscalls (one past the highest number,
 * as scripts/syscallhdr.sh computes __NR_syscalls). This is the only place a
 * syscall number is bound to a function; subsystems export their entry
 * points under Linux's names (sys_read in fs/read_write.ts, sys_mmap in
 * mm/mmap.ts ...) and never see the numbers. The user-space numbers are
 * arch/x86/include/uapi/asm/unistd_64.ts (Linux generates that header from
 * the same table; here a test checks the two agree).
 *
 * An entry point takes the six argument registers (rdi, rsi, rdx, r10, r8,
 * r9) as an array, as __x64_sys_*() take struct pt_regs, and returns what
 * goes back in rax. Slots without an implementation hold sys_ni_syscall
 * (-ENOSYS), as in Linux.
 * Simplified: the "common" and "64" ABI rows tskernel implements only; no
 * x32 table, no compat entry.
 */
import { sys_read, sys_write, sys_lseek, sys_pread64, sys_pwrite64, sys_readv, sys_writev } from '../../../fs/read_write.ts';
import { sys_close, sys_ftruncate, sys_fallocate } from '../../../fs/open.ts';
import { sys_open, sys_openat, sys_mkdir, sys_unlink } from '../../../fs/namei.ts';
import { sys_newfstat } from '../../../fs/stat.ts';
import { sys_mmap, sys_mprotect, sys_munmap } from '../../../mm/mmap.ts';
import { sys_msync } from '../../../mm/msync.ts';
import {
  sys_sched_yield, sys_nanosleep, sys_getpid, sys_clone, sys_exit, sys_wait4, sys_gettid, sys_exit_group,
} from '../../../kernel/sys.ts';
import { sys_ni_syscall } from '../../../kernel/sys_ni.ts';
import { sys_rt_sigaction, sys_rt_sigprocmask, sys_kill, sys_tgkill } from '../../../kernel/signal.ts';
import { sys_rt_sigreturn } from '../kernel/signal.ts';
import { sys_execve } from '../../../fs/exec.ts';
import { sys_fcntl } from '../../../fs/fcntl.ts';

/** sys_call_ptr_t (asm/syscall.h): an entry point, given the argument registers. */
export type sys_call_ptr_t = (regs: readonly number[]) => number;

/** One row of syscall_64.tbl: number, name (__NR_<name>), entry point. */
export type SyscallTblRow = readonly [nr: number, name: string, entry: sys_call_ptr_t];

/* syscall_64.tbl, in number order. */
export const syscall_64_tbl: readonly SyscallTblRow[] = [
  [0, 'read', sys_read],
  [1, 'write', sys_write],
  [2, 'open', sys_open],
  [3, 'close', sys_close],
  [5, 'fstat', sys_newfstat],
  [8, 'lseek', sys_lseek],
  [9, 'mmap', sys_mmap],
  [10, 'mprotect', sys_mprotect],
  [11, 'munmap', sys_munmap],
  [13, 'rt_sigaction', sys_rt_sigaction],
  [14, 'rt_sigprocmask', sys_rt_sigprocmask],
  [15, 'rt_sigreturn', sys_rt_sigreturn],
  [17, 'pread64', sys_pread64],
  [18, 'pwrite64', sys_pwrite64],
  [19, 'readv', sys_readv],
  [20, 'writev', sys_writev],
  [24, 'sched_yield', sys_sched_yield],
  [26, 'msync', sys_msync],
  [35, 'nanosleep', sys_nanosleep],
  [39, 'getpid', sys_getpid],
  [56, 'clone', sys_clone],
  [59, 'execve', sys_execve],
  [60, 'exit', sys_exit],
  [61, 'wait4', sys_wait4],
  [62, 'kill', sys_kill],
  [72, 'fcntl', sys_fcntl],
  [77, 'ftruncate', sys_ftruncate],
  [83, 'mkdir', sys_mkdir],
  [87, 'unlink', sys_unlink],
  [186, 'gettid', sys_gettid],
  [231, 'exit_group', sys_exit_group],
  [234, 'tgkill', sys_tgkill],
  [257, 'openat', sys_openat],
  [285, 'fallocate', sys_fallocate],
];

/** NR_syscalls: one past the highest number in the table; numbers from here on are -ENOSYS. */
export const NR_syscalls = syscall_64_tbl.reduce((max, [nr]) => Math.max(max, nr), -1) + 1;

/** The names by number, for traces and reports (the table's second column). */
const syscall_names: readonly (string | undefined)[] = (() => {
  const names = new Array<string | undefined>(NR_syscalls).fill(undefined);
  for (const [nr, name] of syscall_64_tbl) names[nr] = name;
  return names;
})();

/** The name of syscall `nr` ("read"), or syscall_<nr> for an empty slot. */
export function syscall_name(nr: number): string {
  return (Number.isInteger(nr) && nr >= 0 && nr < NR_syscalls ? syscall_names[nr] : undefined) ?? `syscall_${nr}`;
}

/* sys_call_table[] as syscall_64.c's initializer builds it: the rows, every other slot sys_ni_syscall. */
function build_sys_call_table(): sys_call_ptr_t[] {
  const table = new Array<sys_call_ptr_t>(NR_syscalls).fill(sys_ni_syscall);
  for (const [nr, , entry] of syscall_64_tbl) table[nr] = entry;
  return table;
}

export const syscall_64_state = {
  /**
   * sys_call_table[nr]. Linux's is const; this one is rebuilt from the rows
   * at every boot (syscall_table_init), so a slot a test stubs for one
   * kernel (tests/fs/helpers.ts, as KUnit's static stubs do) is back to the
   * table's entry at the next boot.
   */
  sys_call_table: build_sys_call_table(),
};

/** Rebuild sys_call_table[] from the rows (each boot). */
export function syscall_table_init(): void {
  syscall_64_state.sys_call_table = build_sys_call_table();
}

/** x64_sys_call(): run entry `nr` (0 <= nr < NR_syscalls) on the argument registers. */
export function x64_sys_call(regs: readonly number[], nr: number): number {
  return syscall_64_state.sys_call_table[nr](regs);
}
