/*
 * include/uapi/linux/fcntl.ts - the *at() conventions, and the open() flags.
 *
 * Mirrors include/uapi/linux/fcntl.h, which includes asm/fcntl.h and so
 * asm-generic/fcntl.h: the one fcntl header user programs import.
 */
export * from '../asm-generic/fcntl.ts';

/** AT_FDCWD: a dirfd meaning "relative to the current working directory". */
export const AT_FDCWD = -100;
/** AT_REMOVEDIR: unlinkat() removes a directory. */
export const AT_REMOVEDIR = 0x200;
