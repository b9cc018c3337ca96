/*
 * arch/x86/include/uapi/asm/unistd_64.ts - x86-64 system call numbers for user space.
 *
 * Mirrors arch/x86/include/generated/uapi/asm/unistd_64.h, which Linux's
 * build generates from arch/x86/entry/syscalls/syscall_64.tbl. Here the
 * table is arch/x86/entry/syscall_64.ts and this header is written out by
 * hand: tests/arch/x86/entry/syscall_64.test.ts checks that the two agree,
 * as the generator would make them. User programs (tools/include/nolibc.ts)
 * import the numbers from here, never from the kernel's table.
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
export const __NR_rt_sigaction = 13;
export const __NR_rt_sigprocmask = 14;
export const __NR_rt_sigreturn = 15;
export const __NR_pread64 = 17;
export const __NR_pwrite64 = 18;
export const __NR_readv = 19;
export const __NR_writev = 20;
export const __NR_sched_yield = 24;
export const __NR_msync = 26;
export const __NR_nanosleep = 35;
export const __NR_getpid = 39;
export const __NR_clone = 56;
export const __NR_execve = 59;
export const __NR_exit = 60;
export const __NR_wait4 = 61;
export const __NR_kill = 62;
export const __NR_fcntl = 72;
export const __NR_ftruncate = 77;
export const __NR_mkdir = 83;
export const __NR_unlink = 87;
export const __NR_gettid = 186;
export const __NR_exit_group = 231;
export const __NR_tgkill = 234;
export const __NR_fallocate = 285;
export const __NR_openat = 257;
