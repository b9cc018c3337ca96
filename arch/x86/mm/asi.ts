/*
 * arch/x86/mm/asi.ts - Address Space Isolation: the boot switch, entering
 * and leaving the restricted address space, taints and mitigations.
 *
 * Mirrors arch/x86/mm/asi.c and arch/x86/include/asm/asi.h of the ASI
 * branch (bjackman/linux asi/6.16, the RFC v2 patches for the userspace
 * class and the mitigations; asi.md sections 4.1, 4.4, 4.6, 4.7):
 *  - asi=on|off (asi_check_boottime_disable()) sets X86_FEATURE_ASI;
 *  - per CPU: curr_asi, the domain CR3 points into (null: unrestricted),
 *    and asi_taints; per task: asi_state { target, intr_nest_depth };
 *  - asi_enter() / __asi_enter() / asi_relax() / asi_exit(reason) with the
 *    branch's ordering: curr_asi is written before CR3 on the way in, and
 *    cleared after CR3 on the way out, so an exit from an interrupt in
 *    between sees the state it must undo;
 *  - asi_intr_enter() / asi_intr_exit() around interrupts and exceptions:
 *    an exit inside one, taken while tense, is undone before returning;
 *  - the class registry with its taint policies (asi_init_class());
 *  - maybe_flush_control() (IBPB, RSB fill) and maybe_flush_data() (L1D
 *    flush on L1TF parts, VERW on MDS parts), run by the taints;
 *  - asi_handle_switch_mm(): on a switch to another mm, user taints become
 *    OTHER_MM taints.
 * Every transition writes CR3 with noflush=false, as the prototype does,
 * unless the what-if switch tlb_asi.cr3_noflush (asm/tlbflush.ts) is on.
 * Counted in /proc/vmstat: asi_exits, asi_exit_<reason> per reason,
 * asi_enters; page-fault exits are also bucketed by the kernel site that
 * made the access (asi_exit_sites()).
 *
 * With asi=on the page allocator keeps free memory per sensitivity and
 * asi_nonsensitive_pgd's direct map follows it (asi_direct_map.ts).
 * Domains and their page tables (asi_init, asi_destroy, the template
 * asi_nonsensitive_pgd's shared ranges, user PGD mirroring) are in
 * mm/asi.ts; the fault path is arch/x86/mm/fault.ts.
 *
 * Simplified against the branch:
 *  - current: the scheduler tells this file which task's asi_state the
 *    CPU runs (asi_switch_to(), from context_switch) rather than this file
 *    reading current, which lives above it in the import graph;
 *  - the IBPB in maybe_flush_control() needs X86_BUG_RETBLEED as well as
 *    X86_FEATURE_IBPB: the posted code IBPBs on the feature alone, but the
 *    seed's benchmark ran a Sapphire Rapids part "with setcpuid=retbleed,
 *    [which] introduces an IBPB in asi_exit()" (asi.md 1.1), and
 *    tskernel reproduces that configuration: setcpuid=retbleed adds the
 *    IBPB, clearcpuid=ibpb removes it; the RSB fill is unconditional, as
 *    posted;
 *  - VERW on MDS parts is tskernel's addition (the design names it, the
 *    posted code does not); no SMT sibling stunning; no KVM class;
 *  - no suspend hook, no noinstr, no preemption checks beyond the nesting
 *    depth (tskernel's kernel is not preemptible).
 */
import { register_param, one_of, type KernelParams } from '../../../kernel/params.ts';
import { smp_processor_id, this_cpu, nr_cpu_ids } from '../../../kernel/smp.ts';
import { BUG_ON, WARN, WARN_ON_ONCE } from '../../../kernel/panic.ts';
import { pr_info } from '../../../kernel/printk.ts';
import { vm_event_item, count_vm_event } from '../../../mm/vmstat.ts';
import { EEXIST, EINVAL } from '../../../include/uapi/asm-generic/errno.ts';
import {
  Asi, AsiState, type AsiExitReason, type AsiTaintPolicy, ASI_MAX_NUM_CLASSES, ASI_EXIT_REASON_NAMES,
  NR_ASI_EXIT_REASONS, ASI_CLASS_USERSPACE, ASI_TAINT_KERNEL_DATA, ASI_TAINT_OTHER_MM_DATA, ASI_TAINT_USER_DATA,
  ASI_TAINT_GUEST_DATA, ASI_TAINT_USER_CONTROL, ASI_TAINT_GUEST_CONTROL, ASI_TAINT_OTHER_MM_CONTROL,
  ASI_TAINTS_CONTROL_MASK, ASI_TAINTS_DATA_MASK, ASI_TAINTS_USER_MASK, ASI_TAINTS_GUEST_MASK,
} from '../../../include/linux/asi.ts';
import { ksym_name, kernel_ip } from '../../../include/linux/instruction_pointer.ts';
import { trace_asi_enter, trace_asi_exit } from '../../../kernel/trace/events/asi.ts';
import type { MmStruct } from '../../../mm/mm_struct.ts';
import { tlb_asi, this_tlbstate, asi_pcid, build_cr3, build_cr3_pcid } from '../include/asm/tlbflush.ts';
import {
  boot_cpu_has, boot_cpu_has_bug, setup_force_cpu_cap, X86_FEATURE_ASI, X86_FEATURE_IBPB, X86_FEATURE_FLUSH_L1D,
  X86_FEATURE_MD_CLEAR, X86_BUG_RETBLEED, X86_BUG_L1TF, X86_BUG_MDS,
} from '../kernel/cpu/common.ts';

declare module '../../../kernel/params.ts' {
  interface KernelParams {
    /** asi=on|off: true for on. */
    asi: boolean;
  }
}

/*
 * asi=on|off [X86-64]: the branch's asi= (read by
 * asi_check_boottime_disable() with cmdline_find_option()); anything but
 * the two words is refused, where the branch falls back to the Kconfig
 * default. Default off, as CONFIG_MITIGATION_ADDRESS_SPACE_ISOLATION_DEFAULT_ON=n.
 */
register_param({
  name: 'asi', value: 'required', early: true,
  help: 'asi=on|off [X86-64] Address Space Isolation: run the kernel in the restricted address space. [off]',
  set_default: (out) => { out.asi = false; },
  parse: (val, out) => { out.asi = one_of('asi', 'value', val!, { on: 'on', off: 'off' } as const) === 'on'; },
  format: (p) => (p.asi ? 'asi=on' : null),
});

export const ASI_EXITS = vm_event_item('asi_exits');
const ASI_EXIT_REASON_ITEMS: readonly number[] = ASI_EXIT_REASON_NAMES.map((n) => vm_event_item(n));
export const ASI_ENTERS = vm_event_item('asi_enters');

export const asi_state = {
  /** X86_FEATURE_ASI (static_asi_enabled()). */
  enabled: false,
  /** DEFINE_PER_CPU(struct asi *, curr_asi). */
  curr_asi: [] as (Asi | null)[],
  /** DEFINE_PER_CPU(asi_taints_t, asi_taints). */
  asi_taints: new Uint8Array(0),
  /** Per CPU: the asi_state of the task running there (current->thread.asi_state). */
  task_state: [] as AsiState[],
  /** taint_policies[class_id], set by asi_init_class(). */
  taint_policies: [] as (AsiTaintPolicy | null)[],
  /** Page-fault exits by the symbol of the site that faulted (no Linux counterpart: the seed's bpftrace histogram). */
  exit_sites: new Map<number, number>(),
};

/*
 * The isolation oracle's hook (no Linux counterpart): a checker registered
 * by tests or tools (tools/testing/asi_oracle.ts, under debug_vm) runs
 * each time a CPU (re-)enters a restricted address space: every
 * asi_enter(), so after every syscall, and every return from a nested
 * exception to a tense task. Kernel code only calls through it; every
 * boot clears it.
 */
export const asi_oracle_hook = {
  fn: null as (() => void) | null,
};

/**
 * asi_check_boottime_disable(): asi=on sets X86_FEATURE_ASI, asi=off
 * (the default) leaves it clear. Runs in init_mem_mapping() before the
 * direct map is built.
 */
export function asi_check_boottime_disable(p: KernelParams): void {
  asi_state.enabled = p.asi;
  if (p.asi) {
    setup_force_cpu_cap(X86_FEATURE_ASI);
    pr_info('ASI enabled through kernel command line.');
  }
}

/** static_asi_enabled() / cpu_feature_enabled(X86_FEATURE_ASI). */
export function static_asi_enabled(): boolean {
  return asi_state.enabled;
}

/**
 * Per-CPU state at every boot (with tlb_init(), before any CPU runs a
 * task): unrestricted, untainted, no classes, and ASI's hooks into tlb.ts.
 */
export function asi_cpu_init(): void {
  const n = nr_cpu_ids();
  asi_state.curr_asi = new Array<Asi | null>(n).fill(null);
  asi_state.asi_taints = new Uint8Array(n);
  asi_state.task_state = Array.from({ length: n }, () => new AsiState());
  asi_state.taint_policies = new Array<AsiTaintPolicy | null>(ASI_MAX_NUM_CLASSES).fill(null);
  asi_state.exit_sites = new Map();
  asi_oracle_hook.fn = null;
  if (!asi_state.enabled) return;
  tlb_asi.exit = asi_exit;
  tlb_asi.restricted = asi_is_restricted;
  tlb_asi.handle_switch_mm = asi_handle_switch_mm;
}

/** The scheduler switched `cpu` to a task whose asi_state is `st` (__switch_to's current_task). */
export function asi_switch_to(cpu: number, st: AsiState): void {
  asi_state.task_state[cpu] = st;
}

function current_asi_state(): AsiState {
  return asi_state.task_state[smp_processor_id()];
}

/* ---- classes ---- */

/**
 * asi_init_class(): register a class with its taint policy. -EEXIST if it
 * already is, -EINVAL for a bad id. Warns, as the branch does, unless the
 * policy prevents some control taint and protects some data taint.
 */
export function asi_init_class(class_id: number, policy: AsiTaintPolicy): number {
  if (class_id < 0 || class_id >= ASI_MAX_NUM_CLASSES) return -EINVAL;
  if (asi_state.taint_policies[class_id]) return -EEXIST;
  WARN(!(policy.prevent_control & ASI_TAINTS_CONTROL_MASK) || !(policy.protect_data & ASI_TAINTS_DATA_MASK),
    'asi_init_class: class %d policy flushes nothing', class_id);
  asi_state.taint_policies[class_id] = policy;
  return 0;
}

/** asi_uninit_class(). */
export function asi_uninit_class(class_id: number): void {
  asi_state.taint_policies[class_id] = null;
}

/**
 * The USERSPACE class's policy (RFC v2 25/29): entering protects kernel
 * and other processes' data (not guest data: "the guest trusts its VMM"),
 * refuses control state left by guests and other processes, and leaves
 * this process's control and data taints behind.
 */
export const ASI_USERSPACE_POLICY: Readonly<AsiTaintPolicy> = {
  protect_data: ASI_TAINT_KERNEL_DATA | ASI_TAINT_OTHER_MM_DATA,
  prevent_control: ASI_TAINT_GUEST_CONTROL | ASI_TAINT_OTHER_MM_CONTROL,
  set: ASI_TAINT_USER_CONTROL | ASI_TAINT_USER_DATA,
};

/** asi_init_userspace_class(): start_kernel's registration of the USERSPACE class. */
export function asi_init_userspace_class(): number {
  if (!asi_state.enabled) return 0;
  return asi_init_class(ASI_CLASS_USERSPACE, { ...ASI_USERSPACE_POLICY });
}

/** asi_class_initialized(). */
export function asi_class_initialized(class_id: number): boolean {
  return asi_state.taint_policies[class_id] != null;
}

/* ---- queries ---- */

/** asi_get_current(): the domain this CPU runs in, null if unrestricted. */
export function asi_get_current(): Asi | null {
  return asi_state.curr_asi[smp_processor_id()];
}

/** asi_is_restricted(). */
export function asi_is_restricted(): boolean {
  return asi_state.curr_asi[smp_processor_id()] !== null;
}

/** asi_get_target(current). */
export function asi_get_target(): Asi | null {
  return current_asi_state().target;
}

/** asi_is_tense(): between asi_enter() and asi_relax(). */
export function asi_is_tense(): boolean {
  return current_asi_state().target !== null;
}

/** asi_intr_nest_depth(). */
export function asi_intr_nest_depth(): number {
  return current_asi_state().intr_nest_depth;
}

/** asi_in_critical_section(): tense, in process context (no interrupt nested). */
export function asi_in_critical_section(): boolean {
  const st = current_asi_state();
  return st.target !== null && st.intr_nest_depth === 0;
}

/** This CPU's taints (tests and the lab read them). */
export function asi_taints(): number {
  return asi_state.asi_taints[smp_processor_id()];
}

/* ---- mitigations ---- */

/*
 * maybe_flush_control(): "backwards-looking": flush branch-predictor state
 * left by whoever the next domain (null: the unrestricted kernel, which
 * distrusts every control taint) does not trust. Reentrant: the taints
 * are read once and cleared at the end.
 */
function maybe_flush_control(cpu: number, next: Asi | null): void {
  let taints = asi_state.asi_taints[cpu];
  if (next) taints &= asi_state.taint_policies[next.class_id]?.prevent_control ?? 0;
  else taints &= ASI_TAINTS_CONTROL_MASK;
  if (!taints) return;
  const c = this_cpu();
  if (boot_cpu_has(X86_FEATURE_IBPB) && boot_cpu_has_bug(X86_BUG_RETBLEED)) c.ibpb();
  c.rsb_fill(); // fill_return_buffer()
  asi_state.asi_taints[cpu] &= ~ASI_TAINTS_CONTROL_MASK;
}

/*
 * maybe_flush_data(): "forwards-looking": before running the next domain,
 * flush data that earlier victims would not want it to see: the L1D on
 * L1TF parts (do_l1tf_flush), CPU buffers with VERW on MDS parts.
 */
function maybe_flush_data(cpu: number, next: Asi): void {
  const taints = asi_state.asi_taints[cpu] & (asi_state.taint_policies[next.class_id]?.protect_data ?? 0);
  if (!taints) return;
  const c = this_cpu();
  if (boot_cpu_has_bug(X86_BUG_L1TF) && boot_cpu_has(X86_FEATURE_FLUSH_L1D)) c.l1d_flush();
  if (boot_cpu_has_bug(X86_BUG_MDS) && boot_cpu_has(X86_FEATURE_MD_CLEAR)) c.verw();
  asi_state.asi_taints[cpu] &= ~ASI_TAINTS_DATA_MASK;
}

/* ---- transitions ---- */

/*
 * Whether this transition's CR3 write keeps the TLB: only with the
 * what-if switch on, and not when a flush left the other PCID stale.
 */
function transition_noflush(): boolean {
  if (!tlb_asi.cr3_noflush) return false;
  const s = this_tlbstate();
  if (!s.asi_flush_pending) return true;
  s.asi_flush_pending = false;
  return false;
}

/**
 * __asi_enter(): switch to the task's target domain if it is not already
 * the current one. curr_asi is written before CR3, so an interrupt that
 * exits in between finds it set and restores the unrestricted CR3.
 */
export function __asi_enter(): void {
  const cpu = smp_processor_id();
  const st = asi_state.task_state[cpu];
  BUG_ON(st.intr_nest_depth !== 0, '__asi_enter with interrupts nested');
  const target = st.target;
  if (!target || target === asi_state.curr_asi[cpu]) return;
  const s = this_tlbstate();
  BUG_ON(s.loaded_mm === null, '__asi_enter while switching mm');
  asi_state.curr_asi[cpu] = target;
  maybe_flush_control(cpu, target);
  this_cpu().write_cr3(build_cr3_pcid(target.pgd, asi_pcid(target.class_id, s.loaded_mm_asid)), transition_noflush());
  maybe_flush_data(cpu, target);
  asi_state.asi_taints[cpu] |= asi_state.taint_policies[target.class_id]?.set ?? 0;
  count_vm_event(ASI_ENTERS);
  if (trace_asi_enter.enabled)
    trace_asi_enter.emit({ class_id: target.class_id, pcid: asi_pcid(target.class_id, s.loaded_mm_asid) });
}

/**
 * asi_enter(): make `asi` the task's target and switch to it. Not from
 * interrupt context; there must be an asi_relax() between two enters.
 */
export function asi_enter(asi: Asi): void {
  if (!asi_state.enabled) return;
  const st = current_asi_state();
  WARN_ON_ONCE(st.intr_nest_depth !== 0, 'asi_enter: in an interrupt');
  WARN_ON_ONCE(st.target !== null && st.target !== asi, 'asi_enter: no asi_relax() since the last asi_enter()');
  st.target = asi;
  __asi_enter();
  if (asi_oracle_hook.fn !== null) asi_oracle_hook.fn();
}

/** asi_relax(): end the critical section. CR3 is left alone: the CPU stays restricted until something exits. */
export function asi_relax(): void {
  if (!asi_state.enabled) return;
  const st = current_asi_state();
  WARN_ON_ONCE(st.intr_nest_depth !== 0, 'asi_relax: in an interrupt');
  st.target = null;
}

/**
 * asi_exit(reason): back to the unrestricted address space, paying the
 * control flush first. curr_asi is cleared only after the CR3 write, so a
 * reentrant exit repeats the write rather than skipping it. Returns true
 * if the CPU was restricted.
 */
export function asi_exit(reason: AsiExitReason): boolean {
  const cpu = smp_processor_id();
  if (asi_state.curr_asi[cpu] === null) return false;
  WARN_ON_ONCE(asi_in_critical_section(), 'asi_exit: in the ASI critical section');
  maybe_flush_control(cpu, null);
  // Tainting first makes reentrancy easier to reason about.
  asi_state.asi_taints[cpu] |= ASI_TAINT_KERNEL_DATA;
  const s = this_tlbstate();
  const mm = s.loaded_mm;
  BUG_ON(mm === null, 'asi_exit while switching mm');
  this_cpu().write_cr3(build_cr3(mm!.pgd, s.loaded_mm_asid), transition_noflush());
  asi_state.curr_asi[cpu] = null;
  count_vm_event(ASI_EXITS);
  count_vm_event(ASI_EXIT_REASON_ITEMS[reason]);
  if (trace_asi_exit.enabled) trace_asi_exit.emit({ reason, ip: kernel_ip(cpu) });
  return true;
}

/** asi_intr_enter(): an interrupt or exception arrives; count it if tense. */
export function asi_intr_enter(): void {
  if (!asi_state.enabled) return;
  const st = current_asi_state();
  if (st.target !== null) st.intr_nest_depth++;
}

/** asi_intr_exit(): leaving it; the outermost one returns to the target domain. */
export function asi_intr_exit(): void {
  if (!asi_state.enabled) return;
  const st = current_asi_state();
  if (st.target === null) return;
  if (--st.intr_nest_depth !== 0) return;
  __asi_enter();
  if (asi_oracle_hook.fn !== null) asi_oracle_hook.fn();
}

/**
 * asi_intr_unwind() (no Linux counterpart): an exception handler that never
 * returns (a fatal signal unwinding the task, tskernel's model of it) still
 * leaves its nesting level; the task relaxes on its way to do_exit().
 */
export function asi_intr_unwind(): void {
  if (!asi_state.enabled) return;
  const st = current_asi_state();
  if (st.target !== null && st.intr_nest_depth > 0) st.intr_nest_depth--;
}

/**
 * asi_enter_userspace(): the last step of syscall_exit_to_user_mode():
 * the task returns to user in its mm's USERSPACE domain.
 */
export function asi_enter_userspace(mm: MmStruct | null): void {
  if (!asi_state.enabled || !mm) return;
  const asi = mm.asi[ASI_CLASS_USERSPACE];
  if (asi && asi.pgd) asi_enter(asi);
}

/**
 * asi_handle_switch_mm(): the CPU moves to another mm. What this process
 * left in the CPU is now another mm's: user (and guest) taints become
 * OTHER_MM taints, control and data apart.
 */
export function asi_handle_switch_mm(): void {
  const cpu = smp_processor_id();
  let t = asi_state.asi_taints[cpu];
  if (t & (ASI_TAINT_USER_DATA | ASI_TAINT_GUEST_DATA)) t |= ASI_TAINT_OTHER_MM_DATA;
  if (t & (ASI_TAINT_USER_CONTROL | ASI_TAINT_GUEST_CONTROL)) t |= ASI_TAINT_OTHER_MM_CONTROL;
  t &= ~(ASI_TAINTS_USER_MASK | ASI_TAINTS_GUEST_MASK);
  asi_state.asi_taints[cpu] = t;
}

/* ---- the exit histogram ---- */

/** A page-fault exit at kernel site `sym` (called by exc_page_fault()). */
export function asi_count_exit_site(sym: number): void {
  asi_state.exit_sites.set(sym, (asi_state.exit_sites.get(sym) ?? 0) + 1);
}

/**
 * Page-fault exits by faulting site, most first (ties by name): the
 * histogram the seed's asi_exits.bpftrace builds from asi:asi_exit_pf.
 */
export function asi_exit_sites(): Record<string, number> {
  const rows = [...asi_state.exit_sites].map(([sym, n]) => [ksym_name(sym), n] as const);
  rows.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Record<string, number> = {};
  for (const [name, n] of rows) out[name] = (out[name] ?? 0) + n;
  return out;
}

/** ASI's /proc/vmstat counters in report order: the exits, by reason, the enters. */
export const ASI_VMSTAT_NAMES: readonly string[] = ['asi_exits', ...ASI_EXIT_REASON_NAMES.slice(0, NR_ASI_EXIT_REASONS), 'asi_enters'];
