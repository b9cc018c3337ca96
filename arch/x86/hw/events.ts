/*
 * arch/x86/hw/events.ts - the machine's per-CPU event counters.
 *
 * Hardware, no Linux counterpart beyond the PMU's named events: counters are
 * slots of a Float64Array per CPU (no allocation on the hot path), named the
 * way perf names them where perf has a name.
 */

export const HW_TLB_HIT = 0;
export const HW_TLB_MISS = 1;
export const HW_WALK = 2;
export const HW_WALK_STEP = 3;
export const HW_PAGE_FAULT = 4;
export const HW_CR3_WRITE = 5;
export const HW_CR3_WRITE_NOFLUSH = 6;
export const HW_CR4_WRITE = 7;
export const HW_INVLPG = 8;
export const HW_INVPCID_ADDR = 9;
export const HW_INVPCID_CTX = 10;
export const HW_INVPCID_ALL = 11;
export const HW_INVPCID_NONGLOBAL = 12;
export const HW_IBPB = 13;
export const HW_RSB_FILL = 14;
export const HW_L1D_FLUSH = 15;
export const HW_VERW = 16;
export const HW_IPI_SENT = 17;
export const HW_IPI_RECEIVED = 18;
export const HW_COPY_BYTES = 19;
export const HW_FILL_BYTES = 20;
export const HW_TLB_EVICT = 21;
export const HW_GP = 22;
export const HW_SYSCALL = 23;
export const HW_SYSRET = 24;
export const HW_TLB_FLUSH_ALL = 25;
export const NR_HW_EVENTS = 26;

export const HW_EVENT_NAMES: readonly string[] = [
  'dTLB-load-hits', 'dTLB-load-misses', 'page-walks', 'page-walk-steps', 'page-faults',
  'cr3-writes', 'cr3-writes-noflush', 'cr4-writes', 'invlpg', 'invpcid-addr', 'invpcid-ctx',
  'invpcid-all', 'invpcid-nonglobal', 'ibpb', 'rsb-fill', 'l1d-flush', 'verw', 'ipi-sent',
  'ipi-received', 'copy-bytes', 'fill-bytes', 'tlb-evictions', 'general-protection',
  'syscalls', 'sysrets', 'tlb-flush-all',
];
