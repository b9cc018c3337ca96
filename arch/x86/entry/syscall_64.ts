/*
 * arch/x86/entry/syscall_64.ts - the x86-64 syscall numbers.
 *
 * Mirrors arch/x86/entry/syscalls/syscall_64.tbl for the calls tskernel
 * implements (the table's numbers, its names as __NR_*). Everything else
 * returns -ENOSYS, as an unimplemented slot (sys_ni_syscall) does.
 */
export const __NR_read = 0;
export const __NR_write = 1;
export const __NR_open = 2;
export const __NR_close = 3;
export const __NR_fstat = 5;
export const __NR_lseek = 8;
export const __NR_mmap = 9;
export const __NR_mprotect = 10;
export const __NR_munmap = 11;
export const __NR_pread64 = 17;
export const __NR_pwrite64 = 18;
export const __NR_readv = 19;
export const __NR_writev = 20;
export const __NR_sched_yield = 24;
export const __NR_nanosleep = 35;
export const __NR_getpid = 39;
export const __NR_clone = 56;
export const __NR_exit = 60;
export const __NR_wait4 = 61;
export const __NR_ftruncate = 77;
export const __NR_mkdir = 83;
export const __NR_unlink = 87;
export const __NR_gettid = 186;
export const __NR_exit_group = 231;
export const __NR_openat = 257;

export const NR_syscalls = 463;

/** Names for traces (sys_enter / sys_exit) and reports. */
export const SYSCALL_NAMES: Readonly<Record<number, string>> = {
  0: 'read', 1: 'write', 2: 'open', 3: 'close', 5: 'fstat', 8: 'lseek', 9: 'mmap', 10: 'mprotect', 11: 'munmap',
  17: 'pread64', 18: 'pwrite64', 19: 'readv', 20: 'writev', 24: 'sched_yield', 35: 'nanosleep', 39: 'getpid',
  56: 'clone', 60: 'exit', 61: 'wait4', 77: 'ftruncate', 83: 'mkdir', 87: 'unlink', 186: 'gettid',
  231: 'exit_group', 257: 'openat',
};
