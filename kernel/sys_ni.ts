/*
 * kernel/sys_ni.ts - the entry point of every unimplemented system call.
 *
 * Mirrors kernel/sys_ni.c: sys_call_table slots with no implementation,
 * and numbers outside the table, point here, and user space gets -ENOSYS.
 */
import { ENOSYS } from '../include/uapi/asm-generic/errno.ts';

/** sys_ni_syscall(): -ENOSYS, whatever the arguments. */
export function sys_ni_syscall(_regs: readonly number[]): number {
  return -ENOSYS;
}
