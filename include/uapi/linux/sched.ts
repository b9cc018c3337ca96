/*
 * include/uapi/linux/sched.ts - clone() flags.
 *
 * Mirrors the clone flags of include/uapi/linux/sched.h that tskernel's
 * clone() accepts (kernel/fork.ts); any other bit is -EINVAL there.
 */
/** CSIGNAL: the low byte, the signal sent to the parent when the child exits. */
export const CSIGNAL = 0x000000ff;
export const CLONE_VM = 0x00000100;
export const CLONE_FS = 0x00000200;
export const CLONE_FILES = 0x00000400;
export const CLONE_SIGHAND = 0x00000800;
export const CLONE_THREAD = 0x00010000;
