/*
 * include/linux/asi.ts - Address Space Isolation: the generic header.
 *
 * Mirrors include/linux/asi.h and include/asm-generic/asi.h of the ASI
 * branch (bjackman/linux asi/6.16; RFC v2 for the taints): the exit
 * reasons asi_exit() takes, the class ids, the taint bits and masks, and
 * struct asi_taint_policy. Constants and types only, so any layer may
 * import it. The per-CPU state and the code are arch/x86/mm/asi.ts
 * (enter, relax, exit, taints, mitigations) and mm/asi.ts (domains and
 * their page tables).
 */

/** enum asi_exit_reason: why asi_exit() was called (the branch's counter buckets). */
export const ASI_EXIT_PAGE_FAULT = 0;
export const ASI_EXIT_USER_RET = 1;
export const ASI_EXIT_CONTEXT_SWITCH = 2;
export const ASI_EXIT_TLB_FLUSH = 3;
export const ASI_EXIT_MISC = 4;
export const NR_ASI_EXIT_REASONS = 5;
export type AsiExitReason = 0 | 1 | 2 | 3 | 4;

/** The vmstat names of the reasons, by reason (asi_exit_<reason>). */
export const ASI_EXIT_REASON_NAMES: readonly string[] = [
  'asi_exit_page_fault', 'asi_exit_user_ret', 'asi_exit_context_switch', 'asi_exit_tlb_flush', 'asi_exit_misc',
];

/**
 * enum asi_class_id. ASI_CLASS_KVM is reserved (tskernel has no KVM), so
 * USERSPACE keeps the id it has in a CONFIG_KVM=y build and the PCID bits
 * asi_pcid() gives it. ASI_CLASS_TEST (KUnit only) is left out.
 */
export const ASI_CLASS_KVM = 0;
export const ASI_CLASS_USERSPACE = 1;
export const ASI_MAX_NUM_CLASSES = 2;
export type AsiClassId = number;

export const ASI_CLASS_NAMES: readonly string[] = ['KVM', 'userspace'];

/*
 * asi_taints_t: a u8 of what may have been left in the CPU's
 * microarchitectural state since the last flush. Data taints are
 * cleared by maybe_flush_data() (L1D flush, VERW), control taints by
 * maybe_flush_control() (IBPB, RSB fill). There is deliberately no
 * KERNEL_CONTROL: the kernel is trusted to steer speculation.
 */
export const ASI_TAINT_KERNEL_DATA = 1 << 0;
export const ASI_TAINT_USER_DATA = 1 << 1;
export const ASI_TAINT_GUEST_DATA = 1 << 2;
export const ASI_TAINT_OTHER_MM_DATA = 1 << 3;
export const ASI_TAINT_USER_CONTROL = 1 << 4;
export const ASI_TAINT_GUEST_CONTROL = 1 << 5;
export const ASI_TAINT_OTHER_MM_CONTROL = 1 << 6;
/** As in the branch: 6, though 7 bits exist (asi.md 4.6). */
export const ASI_NUM_TAINTS = 6;

export const ASI_TAINTS_CONTROL_MASK = ASI_TAINT_USER_CONTROL | ASI_TAINT_GUEST_CONTROL | ASI_TAINT_OTHER_MM_CONTROL;
/** GUEST_DATA is not in it, as in the branch. */
export const ASI_TAINTS_DATA_MASK = ASI_TAINT_KERNEL_DATA | ASI_TAINT_USER_DATA | ASI_TAINT_OTHER_MM_DATA;
export const ASI_TAINTS_GUEST_MASK = ASI_TAINT_GUEST_DATA | ASI_TAINT_GUEST_CONTROL;
export const ASI_TAINTS_USER_MASK = ASI_TAINT_USER_DATA | ASI_TAINT_USER_CONTROL;

/** struct asi_taint_policy. */
export interface AsiTaintPolicy {
  /** Taints that need a control flush on entry: the domain distrusts whoever ran before ("backwards-looking"). */
  prevent_control: number;
  /** Taints that need a data flush on entry: earlier victims distrust the domain ("forwards-looking"). */
  protect_data: number;
  /** Taints the domain leaves once entered. */
  set: number;
}

/**
 * struct asi: one restricted address space (a domain), of one class, for
 * one mm. Embedded per mm in mm->asi[] (mm/asi.ts makes and frees them).
 */
export class Asi {
  /** Direct-map address of the domain's PGD page; 0 while not initialised. */
  pgd = 0;
  /** The mm whose user half the domain mirrors (USERSPACE), or null. */
  mm: unknown = null;
  class_id: AsiClassId = ASI_CLASS_USERSPACE;
  /** asi_init() references; the PGD is freed when the last goes (asi_destroy). */
  ref_count = 0;
}

/**
 * struct asi_state (thread.asi_state): target is the domain process
 * context runs in ("tense" while set, between asi_enter and asi_relax);
 * intr_nest_depth counts interrupts and exceptions taken while tense.
 */
export class AsiState {
  target: Asi | null = null;
  intr_nest_depth = 0;
}
