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
