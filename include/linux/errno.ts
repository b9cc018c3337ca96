/*
 * include/linux/errno.ts - error numbers the kernel uses but user space never sees.
 *
 * Mirrors include/linux/errno.h: values above the uapi range
 * (include/uapi/asm-generic/errno.ts) that stay inside the kernel.
 * tskernel uses only ERESTARTSYS: a syscall that must sleep returns it, the
 * entry code schedules the task away and finishes the syscall when the task
 * runs again (arch/x86/entry/common.ts).
 */

/** -ERESTARTSYS: the syscall blocked and will be resumed (never seen by user space). */
export const ERESTARTSYS = 512;
