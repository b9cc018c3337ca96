/*
 * include/linux/threads.ts - NR_CPUS, the configured most CPUs.
 *
 * Mirrors include/linux/threads.h: NR_CPUS is CONFIG_NR_CPUS, the size the
 * kernel gives its per-CPU tables (the fixmap's kmap slots, vmap_block's
 * sizing) and the most CPUs cpus=/nr_cpus= may ask for. The machine has its
 * own limit (MAX_CPUS in arch/x86/hw/smp.ts), as hardware does; a kernel
 * built for fewer CPUs than a machine has simply uses fewer.
 */

/** CONFIG_NR_CPUS. */
export const CONFIG_NR_CPUS = 64;
/** NR_CPUS: CONFIG_NR_CPUS. */
export const NR_CPUS = CONFIG_NR_CPUS;
