/*
 * include/uapi/asm-generic/fcntl.ts - open() flags.
 *
 * Mirrors include/uapi/asm-generic/fcntl.h (x86 uses the generic values).
 * User programs import these through include/uapi/linux/fcntl.ts.
 */
export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;

/* fcntl() commands and the fd flag (the rest of asm-generic/fcntl.h). */
export const F_DUPFD = 0;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
/** F_DUPFD_CLOEXEC: F_LINUX_SPECIFIC_BASE (1024) + 6 (include/uapi/linux/fcntl.h). */
export const F_DUPFD_CLOEXEC = 1030;
/** FD_CLOEXEC: the one fd flag, close on execve(). */
export const FD_CLOEXEC = 1;
