/*
 * include/uapi/linux/wait.ts - wait4() options.
 *
 * Mirrors include/uapi/linux/wait.h for the option tskernel's wait4()
 * accepts (kernel/exit.ts); any other bit is -EINVAL there.
 */
export const WNOHANG = 0x00000001;
