/*
 * arch/x86/mm/fault.ts - the #PF handler.
 *
 * Mirrors arch/x86/mm/fault.c: exc_page_fault() reads CR2 and the error
 * code, handle_page_fault() splits kernel-space from user-space addresses.
 * For a kernel address, do_kern_addr_fault() first asks
 * spurious_kernel_fault(): a write or instruction fetch refused by a stale,
 * less permissive TLB entry, when the page tables now allow it, is simply
 * retried (the fault already dropped the entry). Otherwise an exception
 * fixup is taken if the access has one; else it is an oops, reported as
 * Linux reports it, and the run stops (BUG).
 * User-space addresses (and any access from user mode) go to
 * do_user_addr_fault(), below.
 * ASI (the branch's "mm: asi: ASI page fault handling", asi.md 4.5): the
 * handler runs between asi_intr_enter() and asi_intr_exit(); a kernel-mode
 * fault while the CPU is restricted first leaves the restricted address
 * space (asi_exit(ASI_EXIT_PAGE_FAULT), paying its mitigations), records
 * asi:asi_exit_pf with the kernel site that made the access, and if the
 * address is now accessible (kernel_access_ok() on the current CR3, with
 * raw _PAGE_PRESENT tests so PROTNONE is not "accessible") returns at
 * once: the access retries and succeeds. Otherwise normal handling goes
 * on. Under debug_vm, warn_if_bad_asi_pf() reports a fault taken inside
 * the ASI critical section on memory the target domain does not map.
 * A VM_FAULT_SIGBUS (a file mapping touched beyond EOF) is do_sigbus():
 * SIGBUS for user mode, the uaccess fixup (-EFAULT) for the kernel.
 * Simplified: no kprobes/kmmio/vmalloc-fault paths (x86-64 pre-allocates
 * the vmalloc PUDs, so none is needed), no OOM path here.
 */
import type { Cpu, FaultResult } from '../hw/cpu.ts';
import { FAULT_FIXUP, FAULT_RETRY } from '../hw/cpu.ts';
import { X86_PF_INSTR, X86_PF_PROT, X86_PF_WRITE, X86_PF_USER, X86_PF_RSVD, pf_error_string } from '../include/asm/trap_pf.ts';
import { TASK_SIZE_MAX } from '../include/asm/page_64_types.ts';
import { _PAGE_RW, _PAGE_NX_HI, _PAGE_PRESENT } from '../include/asm/pgtable_types.ts';
import { format_va } from '../include/asm/page.ts';
import { fixup_exception } from './extable.ts';
import { switch_to_kernel_cr3, switch_to_user_cr3 } from './tlb.ts';
import { lookup_address_in_pgd, ptep_get, pgtable_state } from './pgtable.ts';
import { BUG } from '../../../kernel/panic.ts';
import { vm_event_item, count_vm_event } from '../../../mm/vmstat.ts';
import { current } from '../../../kernel/sched/core.ts';
import { vma_lookup } from '../../../mm/mmap.ts';
import { VM_WRITE, VM_EXEC, VM_READ } from '../../../include/linux/mm.ts';
import { handle_mm_fault, VM_FAULT_OOM, VM_FAULT_SIGSEGV, VM_FAULT_SIGBUS } from '../../../mm/memory.ts';
import { force_sig, SIGSEGV, SIGKILL } from '../../../kernel/signal.ts';
import { SEGV_MAPERR, SEGV_ACCERR } from '../../../include/uapi/asm-generic/signal.ts';
import { pr_info, pr_err } from '../../../kernel/printk.ts';
import { vsprintf } from '../../../lib/vsprintf.ts';
import { X86_CR4_SMAP } from '../include/asm/processor-flags.ts';
import { cr3_addr } from '../include/asm/processor-flags.ts';
import { __va } from '../include/asm/page_64_types.ts';
import {
  asi_state, asi_exit, asi_intr_enter, asi_intr_exit, asi_intr_unwind, asi_count_exit_site,
} from './asi.ts';
import { ASI_EXIT_PAGE_FAULT } from '../../../include/linux/asi.ts';
import { trace_asi_exit_pf } from '../../../kernel/trace/events/asi.ts';
import { kernel_ip_save, kernel_ip_restore, ksym, kernel_ip_enter, kernel_ip_exit } from '../../../include/linux/instruction_pointer.ts';

const SYM_HANDLE_MM_FAULT = ksym('handle_mm_fault');
/* SIGBUS (asm/signal.h): kernel/signal.ts names only the signals it had before file mappings. */
const SIGBUS = 7;
import { vm_debug } from '../../../mm/debug.ts';
import { WARN } from '../../../kernel/panic.ts';
import { pgd_offset_pgd, pud_offset, pmd_offset, pte_offset_kernel, pgdp_get, pudp_get, pmdp_get } from './pgtable.ts';
import { _PAGE_PSE } from '../include/asm/pgtable_types.ts';

/** No Linux counter: spurious kernel faults retried. */
export const SPURIOUS_KERNEL_FAULT = vm_event_item('spurious_kernel_fault');

export const fault_state = {
  /** Hooks that may claim a kernel fault first (ASI's restricted-mode handler). */
  kernel_fault_hooks: [] as ((cpu: Cpu, error_code: number, address: number) => boolean)[],
};

/** At every boot: no kernel fault hooks until a subsystem registers one. */
export function fault_init(): void {
  fault_state.kernel_fault_hooks = [];
}

export function fault_in_kernel_space(address: number): boolean {
  return address >= TASK_SIZE_MAX;
}

/*
 * spurious_kernel_fault(): only a write to a read-only entry or a fetch
 * from an NX one can come from a stale TLB entry after a permission
 * upgrade; check the live page tables of the faulting CR3.
 */
function spurious_kernel_fault(cpu: Cpu, error_code: number, address: number): boolean {
  if (error_code !== (X86_PF_WRITE | X86_PF_PROT) && error_code !== (X86_PF_INSTR | X86_PF_PROT)) return false;
  if (pgtable_state.early) return false;
  const pgd = __va(cr3_addr(cpu.read_cr3()));
  const r = lookup_address_in_pgd(pgd, address);
  if (!r.present) return false;
  const v = ptep_get(r.ptep);
  if (!(v.lo & _PAGE_PRESENT)) return false;
  if (error_code & X86_PF_WRITE) return (v.lo & _PAGE_RW) !== 0;
  return (v.hi & _PAGE_NX_HI) === 0;
}

function oops(cpu: Cpu, error_code: number, address: number): never {
  const kind = error_code & X86_PF_USER ? 'user' : 'kernel';
  BUG('unable to handle page fault for address: %s\n#PF: %s in %s mode\nCR2: %s CR3: %s',
    format_va(address), pf_error_string(error_code), kind, format_va(address), cpu.read_cr3().toString(16));
}

function do_kern_addr_fault(cpu: Cpu, error_code: number, address: number): FaultResult {
  if (!(error_code & (X86_PF_USER | X86_PF_RSVD)) && spurious_kernel_fault(cpu, error_code, address)) {
    count_vm_event(SPURIOUS_KERNEL_FAULT);
    return FAULT_RETRY;
  }
  if (fixup_exception(cpu.id)) return FAULT_FIXUP;
  oops(cpu, error_code, address);
}

/**
 * exc_page_fault(): the IDT entry for vector 14. The CPU has already
 * entered CPL 0 (exception delivery) and IRET takes it back. From user
 * mode (X86_PF_USER: the access was made at CPL 3, user_mode(regs)) the
 * entry code switches to the kernel CR3 under PTI first, and back before
 * returning (idtentry's SWITCH_TO_KERNEL_CR3 and the return path); a fatal
 * signal leaves the task in the kernel to die.
 */
export function exc_page_fault(cpu: Cpu, error_code: number, address: number): FaultResult {
  if (!asi_state.enabled) return exc_page_fault_noasi(cpu, error_code, address);
  // irqentry_enter(): a fresh context for the site slot, nested under ASI.
  const ip = kernel_ip_save(cpu.id);
  asi_intr_enter();
  let returned = false;
  try {
    const r = asi_kernel_fault(cpu, error_code, address, ip) ? FAULT_RETRY : exc_page_fault_noasi(cpu, error_code, address);
    returned = true;
    return r;
  } finally {
    if (returned) asi_intr_exit();
    else asi_intr_unwind();
    kernel_ip_restore(cpu.id, ip);
  }
}

function exc_page_fault_noasi(cpu: Cpu, error_code: number, address: number): FaultResult {
  if (!(error_code & X86_PF_USER)) return handle_page_fault(cpu, error_code, address);
  switch_to_kernel_cr3();
  const r = handle_page_fault(cpu, error_code, address);
  switch_to_user_cr3();
  return r;
}

/*
 * kernel_access_ok(): would an access of this kind to `address` succeed
 * under the page tables at `pgd`? Raw _PAGE_PRESENT tests at each level
 * (not pte_present(), which counts PROTNONE), RW at every level for a
 * write, no NX anywhere for a fetch.
 */
export function kernel_access_ok(error_code: number, address: number, pgd: number): boolean {
  const write = (error_code & X86_PF_WRITE) !== 0;
  const exec = (error_code & X86_PF_INSTR) !== 0;
  const ok = (lo: number, hi: number): boolean =>
    (lo & _PAGE_PRESENT) !== 0 && (!write || (lo & _PAGE_RW) !== 0) && (!exec || (hi & _PAGE_NX_HI) === 0);
  const pgdp = pgd_offset_pgd(pgd, address);
  const g = pgdp_get(pgdp);
  if (!ok(g.lo, g.hi)) return false;
  const pudp = pud_offset(pgdp, address);
  const u = pudp_get(pudp);
  if (!ok(u.lo, u.hi)) return false;
  if (u.lo & _PAGE_PSE) return true;
  const pmdp = pmd_offset(pudp, address);
  const m = pmdp_get(pmdp);
  if (!ok(m.lo, m.hi)) return false;
  if (m.lo & _PAGE_PSE) return true;
  const p = ptep_get(pte_offset_kernel(pmdp, address));
  return ok(p.lo, p.hi);
}

/*
 * warn_if_bad_asi_pf() (VM_WARN): a fault while tense at the first
 * nesting level (this fault's own) means process context touched memory
 * inside the critical section; if the target domain does not map it,
 * sensitive data was touched where nothing may be.
 */
function warn_if_bad_asi_pf(cpu: number, error_code: number, address: number): void {
  const st = asi_state.task_state[cpu];
  const target = st.target;
  if (!target || st.intr_nest_depth !== 1) return;
  WARN(!kernel_access_ok(error_code, address, target.pgd),
    'ASI: page fault at %px in the critical section, not mapped in the target domain', address);
}

/*
 * The ASI part of exc_page_fault() for a kernel-mode fault: leave the
 * restricted address space and retry if that made the address accessible.
 * True if the fault is handled (retry).
 */
function asi_kernel_fault(cpu: Cpu, error_code: number, address: number, ip: number): boolean {
  if (error_code & X86_PF_USER) return false;
  if (vm_debug.debug_vm) warn_if_bad_asi_pf(cpu.id, error_code, address);
  if (asi_exit(ASI_EXIT_PAGE_FAULT)) {
    asi_count_exit_site(ip);
    if (trace_asi_exit_pf.enabled) trace_asi_exit_pf.emit({ address, ip, error_code, user_mode: false });
  }
  // Whether or not this exit did anything (a nested fault may have exited already), the
  // current CR3 decides: if it maps the address now, the access retries.
  return kernel_access_ok(error_code, address, __va(cr3_addr(cpu.read_cr3())));
}

function handle_page_fault(cpu: Cpu, error_code: number, address: number): FaultResult {
  for (const hook of fault_state.kernel_fault_hooks)
    if (hook(cpu, error_code, address)) return FAULT_RETRY;
  if (fault_in_kernel_space(address) && !(error_code & X86_PF_USER)) return do_kern_addr_fault(cpu, error_code, address);
  return do_user_addr_fault(cpu, error_code, address);
}

/*
 * do_user_addr_fault(): a fault on a user address, from user mode or from
 * the kernel inside uaccess. Find the VMA, check the access against its
 * flags (access_error), let handle_mm_fault() resolve it, and retry. A bad
 * access from user mode is a SIGSEGV (the task dies with status 139); from
 * the kernel it takes the uaccess fixup (-EFAULT), else oopses.
 */
export function do_user_addr_fault(cpu: Cpu, error_code: number, address: number): FaultResult {
  const user = (error_code & X86_PF_USER) !== 0;
  const p = current();
  const bad_area = (why: string, si_code = SEGV_ACCERR): FaultResult => {
    if (user) {
      const report = vsprintf('%s[%d]: segfault at %x ip %px sp %px error %x %s', [p.comm, p.pid, address, 0, 0, error_code, why]);
      pr_info('%s', report);
      force_sig(SIGSEGV, report, address, si_code); // force_sig_fault(SIGSEGV, si_code, address)
    }
    if (fixup_exception(cpu.id)) return FAULT_FIXUP;
    oops(cpu, error_code, address);
  };
  if (error_code & X86_PF_RSVD) oops(cpu, error_code, address); // pgtable_bad()
  // SMAP: the kernel touched user memory outside a uaccess section.
  if (!user && (cpu.read_cr4() & X86_CR4_SMAP) && !cpu.ac && (error_code & X86_PF_PROT)) return bad_area('(SMAP)');
  const mm = p.mm;
  if (!mm || address >= TASK_SIZE_MAX) return bad_area('(no mm)', SEGV_MAPERR);
  const vma = vma_lookup(mm, address);
  if (!vma) return bad_area('(no vma)', SEGV_MAPERR);
  if (error_code & X86_PF_WRITE) {
    if (!(vma.vm_flags & VM_WRITE)) return bad_area('(write to a read-only mapping)');
  } else if (error_code & X86_PF_INSTR) {
    if (!(vma.vm_flags & VM_EXEC)) return bad_area('(exec from a no-exec mapping)');
  } else if (!(vma.vm_flags & (VM_READ | VM_WRITE | VM_EXEC))) {
    return bad_area('(PROT_NONE)');
  }
  const ip = kernel_ip_enter(SYM_HANDLE_MM_FAULT); // its page-table walks, the clear inside named apart
  const r = handle_mm_fault(mm, vma, address, (error_code & X86_PF_WRITE) !== 0);
  kernel_ip_exit(ip);
  if (r & VM_FAULT_SIGSEGV) return bad_area('(access error)');
  if (r & VM_FAULT_SIGBUS) {
    // do_sigbus(): a file page beyond EOF (or one that cannot be had); the uaccess fixup first for the kernel.
    if (!user && fixup_exception(cpu.id)) return FAULT_FIXUP;
    if (!user) oops(cpu, error_code, address);
    const report = vsprintf('%s[%d]: bus error at %x', [p.comm, p.pid, address]);
    pr_info('%s', report);
    force_sig(SIGBUS, report);
  }
  if (r & VM_FAULT_OOM) {
    if (user) {
      const report = vsprintf('Out of memory: Killed process %d (%s)', [p.pid, p.comm]);
      pr_err('%s', report);
      force_sig(SIGKILL, report);
    }
    if (fixup_exception(cpu.id)) return FAULT_FIXUP;
    oops(cpu, error_code, address);
  }
  return FAULT_RETRY;
}
