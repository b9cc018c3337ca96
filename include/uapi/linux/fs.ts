/*
 * include/uapi/linux/fs.ts - lseek() whence values.
 *
 * Mirrors the SEEK_* part of include/uapi/linux/fs.h.
 */
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;
export const SEEK_MAX = SEEK_HOLE;
