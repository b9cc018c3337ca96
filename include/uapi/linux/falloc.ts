/*
 * include/uapi/linux/falloc.ts - fallocate() mode flags.
 *
 * Mirrors include/uapi/linux/falloc.h, the flags tmpfs implements:
 * mode 0 allocates (and extends i_size), FALLOC_FL_KEEP_SIZE allocates
 * without changing i_size, FALLOC_FL_PUNCH_HOLE (with KEEP_SIZE) frees.
 */
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;
