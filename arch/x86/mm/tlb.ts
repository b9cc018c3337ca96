/*
 * arch/x86/mm/tlb.ts - ASIDs, switch_mm and TLB flushing.
 *
 * Mirrors arch/x86/mm/tlb.c and asm/tlbflush.h.
 *  - cpu_tlbstate per CPU: loaded_mm, loaded_mm_asid, next_asid,
 *    invalidate_other, user_pcid_flush_mask and ctxs[TLB_NR_DYN_ASIDS] of
 *    {ctx_id, tlb_gen}; cpu_tlbstate_shared.is_lazy.
 *  - choose_new_asid() / load_new_mm_cr3() / switch_mm_irqs_off() with the
 *    same-mm, lazy and round-robin ASID rules; kern_pcid(asid) = asid + 1.
 *  - The tlb_gen protocol: flush_tlb_mm_range() bumps mm->context.tlb_gen
 *    and IPIs the CPUs in mm_cpumask (lazy ones skipped unless page tables
 *    are freed); flush_tlb_func() flushes partially only when it is exactly
 *    one generation behind, else fully, and records the generation.
 *  - PTI: invalidate_user_asid() defers the user PCID's flush to the next
 *    return to user through user_pcid_flush_mask; flush_tlb_one_user()
 *    uses INVPCID type 0 on the user PCID when it can.
 *  - Kernel ranges: flush_tlb_one_kernel() (this CPU), flush_tlb_kernel_range()
 *    (all CPUs; above tlb_single_page_flush_ceiling a full flush),
 *    __flush_tlb_all(), flush_tlb_all().
 * Counted with /proc/vmstat names, where Linux counts them (CONFIG_DEBUG_TLBFLUSH):
 *  - flush_tlb_func() on the initiating CPU: nr_tlb_local_flush_one by the
 *    pages of a partial flush, nr_tlb_local_flush_all for a full one; on any
 *    other CPU nr_tlb_remote_flush_received, whatever it then does;
 *  - native_flush_tlb_multi(): nr_tlb_remote_flush, once per shootdown by
 *    the sender (even if every target is then skipped);
 *  - flush_tlb_one_kernel(): nr_tlb_local_flush_one on the CPU running it,
 *    so a kernel-range flush counts its pages on every CPU and nothing remote;
 *  - do_flush_tlb_all(): nr_tlb_remote_flush_received on every CPU, the
 *    initiator included; flush_tlb_all() adds one nr_tlb_remote_flush, the
 *    full-flush branch of flush_tlb_kernel_range() does not.
 * The primitives (flush_tlb_one_user, flush_tlb_local, __flush_tlb_all)
 * count nothing.
 * ASI (the branch's "Make TLB flushing correct under ASI" and PCID patches):
 * asi_pcid() gives a restricted address space the PCID of its ASID with
 * the class in bits 10-11 (9-10 under PTI), build_cr3_pcid() builds a CR3
 * from a PGD and a PCID, CR3_AVAIL_PCID_BITS shrinks by those two bits;
 * native_flush_tlb_local() and switch_mm_irqs_off() asi_exit() first (a
 * restricted CR3 is "unstable": the flush must act on the unrestricted
 * one); flush_tlb_one_kernel() also invalidates the other address space,
 * as PTI's invalidate_other does, since kernel mappings are not global
 * under ASI. arch/x86/mm/asi.ts sits above this file and plugs its
 * asi_exit() and asi_handle_switch_mm() into tlb_asi at boot.
 * Simplified: no global ASIDs / INVLPGB (AMD), no LAM; cpumask trimming
 * runs once per simulated second per mm as in Linux; cond_mitigation's IBPB is
 * off unless asked for (spectre_v2_user=on has no parameter yet).
 */
import { this_cpu, on_each_cpu, on_each_cpu_mask, nr_cpu_ids, smp_processor_id } from '../../../kernel/smp.ts';
import { ktime_get_ns } from '../../../kernel/time/timekeeping.ts';
import { vm_event_item, count_vm_event, count_vm_events } from '../../../mm/vmstat.ts';
import {
  trace_tlb_flush, TLB_LOCAL_SHOOTDOWN, TLB_REMOTE_SHOOTDOWN, TLB_FLUSH_ON_TASK_SWITCH, TLB_LOCAL_MM_SHOOTDOWN,
} from '../../../kernel/trace/events/tlb.ts';
import { X86_CR4_PGE, X86_CR4_PCIDE, cr3_pcid } from '../include/asm/processor-flags.ts';
import { ASI_EXIT_TLB_FLUSH, ASI_EXIT_MISC, ASI_CLASS_USERSPACE } from '../../../include/linux/asi.ts';
import { INVPCID_TYPE_ALL_INCL_GLOBAL, INVPCID_TYPE_INDIV_ADDR } from '../include/asm/invpcid.ts';
import { PAGE_SIZE, PAGE_SHIFT } from '../include/asm/page_types.ts';
import { init_mm, mm_cpumask_cpus, type MmStruct } from '../../../mm/mm_struct.ts';
import { BUG_ON } from '../../../kernel/panic.ts';
import {
  TLB_FLUSH_ALL, TLB_NR_DYN_ASIDS, TLB_GENERATION_INVALID, PTI_USER_PCID_MASK, PTI_USER_PGTABLE_MASK,
  PTI_USER_PGTABLE_AND_PCID_MASK, TlbState, tlb_state, tlb_asi, max_asid_available, this_tlbstate, kern_pcid,
  user_pcid, asi_pcid, build_cr3, DEFAULT_TLB_SINGLE_PAGE_FLUSH_CEILING,
} from '../include/asm/tlbflush.ts';

/* cpu_tlbstate and the CR3 helpers live in asm/tlbflush.ts, below ASI in the import graph; re-exported. */
export {
  TLB_FLUSH_ALL, TLB_NR_DYN_ASIDS, TLB_GENERATION_INVALID, TlbContext, TlbState, tlb_state, tlb_asi,
  X86_CR3_ASI_PCID_BITS, ASI_CONSUMED_PCID_BITS, PTI_CONSUMED_PCID_BITS, x86_cr3_asi_pcid_bits_shift,
  cr3_avail_pcid_bits, max_asid_available, this_tlbstate, kern_pcid, user_pcid, build_cr3, asi_pcid, build_cr3_pcid,
  DEFAULT_TLB_SINGLE_PAGE_FLUSH_CEILING,
} from '../include/asm/tlbflush.ts';
import { register_param, parse_uint, type KernelParams } from '../../../kernel/params.ts';
import { pr_debug_ns } from '../../../kernel/printk.ts';

const pr_debug = pr_debug_ns('x86:tlb');

export const NR_TLB_LOCAL_FLUSH_ONE = vm_event_item('nr_tlb_local_flush_one');
export const NR_TLB_LOCAL_FLUSH_ALL = vm_event_item('nr_tlb_local_flush_all');
export const NR_TLB_REMOTE_FLUSH = vm_event_item('nr_tlb_remote_flush');
export const NR_TLB_REMOTE_FLUSH_RECEIVED = vm_event_item('nr_tlb_remote_flush_received');
/* No Linux counters: ASID reuse on switch, as the processes issue asks. */
export const NR_ASID_HIT = vm_event_item('nr_asid_hit');
export const NR_ASID_MISS = vm_event_item('nr_asid_miss');

/**
 * Test-only seeded bug (a KUnit-style switch with no command-line
 * spelling, cleared at every boot): choose_new_asid() hands out a
 * recycled ASID without need_flush, so the next mm inherits the last
 * one's translations.
 */
export const tlb_test = {
  skip_asid_reuse_flush: false,
};

export function tlb_init(nr_cpus: number, pcid: boolean, pti: boolean, asi = false): void {
  tlb_state.pcid = pcid;
  tlb_state.pti = pti;
  tlb_asi.enabled = asi;
  tlb_asi.exit = () => {};
  tlb_asi.restricted = () => false;
  tlb_asi.handle_switch_mm = () => {};
  tlb_asi.cr3_noflush = false;
  tlb_test.skip_asid_reuse_flush = false;
  // The branch's static_assert: the dynamic ASIDs still fit.
  BUG_ON(max_asid_available() <= TLB_NR_DYN_ASIDS, 'CR3_AVAIL_PCID_BITS leaves too few ASIDs');
  tlb_state.suppress_flush_ipis = false;
  tlb_state.cpu_tlbstate = [];
  for (let c = 0; c < nr_cpus; c++) {
    const s = new TlbState();
    s.loaded_mm = init_mm();
    s.ctxs[0].ctx_id = init_mm().context.ctx_id; // initialize_tlbstate_and_flush()
    init_mm().cpumask[c] = 1;
    tlb_state.cpu_tlbstate.push(s);
  }
  pr_debug('tlb_init: %d CPUs, pcid=%s pti=%s asi=%s', nr_cpus, pcid, pti, asi);
}

/*
 * tlb_single_page_flush_ceiling=<pages> (tskernel's own): on Linux a
 * debugfs file, /sys/kernel/debug/x86/tlb_single_page_flush_ceiling
 * (Documentation/arch/x86/tlb.rst), over tlb.c's variable of that name,
 * 33 by default. A range flush of more pages than this flushes the whole
 * TLB instead of page by page. No debugfs here, so it is set at boot.
 */
declare module '../../../kernel/params.ts' {
  interface KernelParams {
    /** tlb_single_page_flush_ceiling=: pages. */
    tlb_single_page_flush_ceiling: number;
  }
}

register_param({
  name: 'tlb_single_page_flush_ceiling', value: 'required',
  help: `tlb_single_page_flush_ceiling=<pages> flush a range page by page up to this many pages, else the whole TLB. [${DEFAULT_TLB_SINGLE_PAGE_FLUSH_CEILING}]`,
  set_default: (out) => { out.tlb_single_page_flush_ceiling = DEFAULT_TLB_SINGLE_PAGE_FLUSH_CEILING; },
  parse: (val, out) => {
    out.tlb_single_page_flush_ceiling = parse_uint('tlb_single_page_flush_ceiling', 'page count', val!, 0, 0x7fffffff);
  },
  format: (p) => (p.tlb_single_page_flush_ceiling !== DEFAULT_TLB_SINGLE_PAGE_FLUSH_CEILING
    ? `tlb_single_page_flush_ceiling=${p.tlb_single_page_flush_ceiling}` : null),
});

/** At every boot: the ceiling from the command line (the debugfs write, done once). */
export function tlb_single_page_flush_ceiling_init(p: KernelParams): void {
  tlb_state.tlb_single_page_flush_ceiling = p.tlb_single_page_flush_ceiling;
}

/** invalidate_user_asid(): the user PCID must be flushed on the next return to user. */
export function invalidate_user_asid(asid: number): void {
  if (!tlb_state.pti || !tlb_state.pcid) return;
  this_tlbstate().user_pcid_flush_mask |= 1 << kern_pcid(asid);
}

/** load_new_mm_cr3(): a flushing CR3 write, or build_cr3_noflush(). */
export function load_new_mm_cr3(pgd: number, asid: number, need_flush: boolean): void {
  const cpu = this_cpu();
  if (need_flush) {
    invalidate_user_asid(asid);
    if (tlb_asi.cr3_noflush) this_tlbstate().asi_flush_pending = true;
    cpu.write_cr3(build_cr3(pgd, asid));
  } else {
    cpu.write_cr3(build_cr3(pgd, asid), true);
  }
}

/* clear_asid_other(): forget every other ASID's contents (PTI after a kernel flush). */
function clear_asid_other(s: TlbState): void {
  for (let a = 0; a < TLB_NR_DYN_ASIDS; a++) {
    if (a === s.loaded_mm_asid) continue;
    s.ctxs[a].ctx_id = 0;
  }
  s.invalidate_other = false;
}

/** choose_new_asid(): reuse this mm's slot if it has one, else round-robin. */
export function choose_new_asid(next: MmStruct, next_tlb_gen: number): { asid: number; need_flush: boolean } {
  if (!tlb_state.pcid) return { asid: 0, need_flush: true };
  const s = this_tlbstate();
  if (s.invalidate_other) clear_asid_other(s);
  for (let a = 0; a < TLB_NR_DYN_ASIDS; a++) {
    if (s.ctxs[a].ctx_id !== next.context.ctx_id) continue;
    count_vm_event(NR_ASID_HIT);
    return { asid: a, need_flush: s.ctxs[a].tlb_gen < next_tlb_gen };
  }
  count_vm_event(NR_ASID_MISS);
  let asid = s.next_asid++;
  if (asid >= TLB_NR_DYN_ASIDS) {
    asid = 0;
    s.next_asid = 1;
  }
  return { asid, need_flush: !tlb_test.skip_asid_reuse_flush };
}

/* cond_mitigation(): IBPB when switching to a different user mm, if enabled. */
function cond_mitigation(next: MmStruct): void {
  const s = this_tlbstate();
  if (next === init_mm()) return;
  if (tlb_state.switch_mm_always_ibpb && s.last_user_mm !== next) this_cpu().ibpb();
  s.last_user_mm = next;
}

/**
 * switch_mm_irqs_off(): load `next` on this CPU. `prev` is what CR3 really
 * holds (cpu_tlbstate.loaded_mm), whatever the scheduler thinks.
 */
export function switch_mm_irqs_off(next: MmStruct): void {
  // "Stabilize CR3": whatever loads a CR3 here must not find a restricted one.
  if (tlb_asi.enabled) tlb_asi.exit(ASI_EXIT_MISC);
  const s = this_tlbstate();
  const cpu = smp_processor_id();
  const prev = s.loaded_mm;
  const prev_asid = s.loaded_mm_asid;
  const was_lazy = s.is_lazy;
  if (was_lazy) s.is_lazy = false;

  let asid: number;
  let need_flush: boolean;
  let next_tlb_gen: number;
  if (prev === next) {
    if (!was_lazy) return; // a thread switch within one process
    next_tlb_gen = next.context.tlb_gen;
    if (s.ctxs[prev_asid].tlb_gen === next_tlb_gen) return;
    asid = prev_asid;
    need_flush = true;
  } else {
    cond_mitigation(next);
    if (tlb_asi.enabled) tlb_asi.handle_switch_mm();
    s.loaded_mm = null; // LOADED_MM_SWITCHING
    if (next !== init_mm()) next.cpumask[cpu] = 1;
    next_tlb_gen = next.context.tlb_gen;
    ({ asid, need_flush } = choose_new_asid(next, next_tlb_gen));
  }
  if (need_flush) {
    s.ctxs[asid].ctx_id = next.context.ctx_id;
    s.ctxs[asid].tlb_gen = next_tlb_gen;
    load_new_mm_cr3(next.pgd, asid, true);
    if (trace_tlb_flush.enabled) trace_tlb_flush.emit({ reason: TLB_FLUSH_ON_TASK_SWITCH, pages: TLB_FLUSH_ALL });
  } else {
    load_new_mm_cr3(next.pgd, asid, false);
  }
  s.loaded_mm = next;
  s.loaded_mm_asid = asid;
}

/** enter_lazy_tlb(): a kernel thread (idle) keeps the old mm loaded, lazily. */
export function enter_lazy_tlb(): void {
  const s = this_tlbstate();
  if (s.loaded_mm === init_mm()) return;
  s.is_lazy = true;
}

/** leave_mm(): stop borrowing a user mm; switch to init_mm. */
export function leave_mm(): void {
  const s = this_tlbstate();
  if (s.loaded_mm === init_mm()) return;
  switch_mm_irqs_off(init_mm());
}

/* ---- local flush primitives ---- */

/** native_flush_tlb_one_user(): INVLPG here, and the user PCID's copy under PTI. */
export function flush_tlb_one_user(addr: number): void {
  const cpu = this_cpu();
  cpu.invlpg(addr);
  if (tlb_asi.cr3_noflush) this_tlbstate().asi_flush_pending = true;
  if (!tlb_state.pti) return;
  const asid = this_tlbstate().loaded_mm_asid;
  if (cpu.features.invpcid && (cpu.read_cr4() & X86_CR4_PCIDE)) cpu.invpcid(INVPCID_TYPE_INDIV_ADDR, user_pcid(asid), addr);
  else invalidate_user_asid(asid);
}

/**
 * native_flush_tlb_local(): rewrite CR3, flushing the current PCID's
 * non-global entries. Under ASI it exits first (reason TLB_FLUSH), so the
 * CR3 it rewrites is the unrestricted one; the restricted PCID is flushed
 * by the next asi_enter's CR3 write.
 */
export function flush_tlb_local(): void {
  if (tlb_asi.enabled) tlb_asi.exit(ASI_EXIT_TLB_FLUSH);
  invalidate_user_asid(this_tlbstate().loaded_mm_asid);
  if (tlb_asi.cr3_noflush) this_tlbstate().asi_flush_pending = true;
  const cpu = this_cpu();
  cpu.write_cr3(cpu.read_cr3());
}

/** native_flush_tlb_global(): everything, globals included. */
function native_flush_tlb_global(): void {
  const cpu = this_cpu();
  if (cpu.features.invpcid) {
    cpu.invpcid(INVPCID_TYPE_ALL_INCL_GLOBAL, 0);
  } else {
    const cr4 = cpu.read_cr4();
    cpu.write_cr4(cr4 ^ X86_CR4_PGE);
    cpu.write_cr4(cr4);
  }
  invalidate_user_asid(this_tlbstate().loaded_mm_asid);
}

/** __flush_tlb_all(): this CPU, everything ("!PGE implies !PCID"). */
export function __flush_tlb_all(): void {
  const cpu = this_cpu();
  if (cpu.read_cr4() & X86_CR4_PGE) native_flush_tlb_global();
  else cpu.write_cr3(cpu.read_cr3());
}

/* ---- mm flushes: the tlb_gen protocol ---- */

export interface FlushTlbInfo {
  mm: MmStruct | null;
  start: number;
  end: number; // TLB_FLUSH_ALL for everything
  new_tlb_gen: number;
  initiating_cpu: number;
  stride_shift: number;
  freed_tables: boolean;
}

/** inc_mm_tlb_gen(): after changing PTEs, before flushing. */
export function inc_mm_tlb_gen(mm: MmStruct): number {
  return ++mm.context.tlb_gen;
}

/** flush_tlb_func(): bring this CPU's TLB for info.mm up to date. */
export function flush_tlb_func(f: FlushTlbInfo): void {
  const cpu = smp_processor_id();
  const s = this_tlbstate();
  const loaded = s.loaded_mm;
  const local = cpu === f.initiating_cpu;
  // Counted on arrival, before any early return (a stale cpumask bit included).
  if (!local) count_vm_event(NR_TLB_REMOTE_FLUSH_RECEIVED);
  if (f.mm !== null && f.mm !== loaded) {
    f.mm.cpumask[cpu] = 0; // stale bit: trim it
    return;
  }
  if (loaded === init_mm() || loaded === null) return;
  if (s.is_lazy) {
    switch_mm_irqs_off(init_mm()); // a lazy CPU drops the mm instead of flushing
    return;
  }
  const asid = s.loaded_mm_asid;
  const local_gen = s.ctxs[asid].tlb_gen;
  if (f.new_tlb_gen !== TLB_GENERATION_INVALID && f.new_tlb_gen <= local_gen) return;
  const mm_gen = loaded.context.tlb_gen;
  if (mm_gen === local_gen) return;
  const reason = local ? (f.mm ? TLB_LOCAL_MM_SHOOTDOWN : TLB_LOCAL_SHOOTDOWN) : TLB_REMOTE_SHOOTDOWN;
  /*
   * This CPU is behind (local_gen < mm_gen): flush now, fully or in part.
   * The invariant: every flush that generations up to local_gen asked for
   * has been done here; only then may ctxs[asid].tlb_gen say local_gen.
   * A partial flush needs two more things:
   *  - new_tlb_gen == local_gen + 1: the one generation still owed is the
   *    very range in hand, so flushing it and moving on keeps the
   *    invariant. Two flushes can arrive out of order: a full one taking
   *    the mm from gen 1 to 2, then a ranged one from 2 to 3, processed
   *    here ranged first, sees local_gen 1, mm_gen 3. Flushing only the
   *    range and recording 3 would skip gen 2's full flush and leave
   *    stale entries the invariant says are gone; so it flushes fully.
   *  - new_tlb_gen == mm_gen: an optimisation only. If later generations
   *    are pending anyway, a full flush (not much dearer than a partial
   *    one) catches up to mm_gen at once, and their IPIs then return early.
   * Anything else is a full flush, after which local_gen = mm_gen is true.
   */
  if (f.end !== TLB_FLUSH_ALL && f.new_tlb_gen === local_gen + 1 && f.new_tlb_gen === mm_gen) {
    const step = 2 ** f.stride_shift;
    const nr_invalidate = Math.ceil((f.end - f.start) / step);
    for (let addr = f.start; addr < f.end; addr += step) flush_tlb_one_user(addr);
    // Only the initiator counts its flush as local; receivers counted above.
    if (local) count_vm_events(NR_TLB_LOCAL_FLUSH_ONE, nr_invalidate);
    if (trace_tlb_flush.enabled) trace_tlb_flush.emit({ reason, pages: nr_invalidate });
  } else {
    flush_tlb_local();
    if (local) count_vm_event(NR_TLB_LOCAL_FLUSH_ALL);
    if (trace_tlb_flush.enabled) trace_tlb_flush.emit({ reason, pages: TLB_FLUSH_ALL });
  }
  s.ctxs[asid].tlb_gen = mm_gen;
}

/** should_flush_tlb(): which CPUs of the mask get the IPI. */
function should_flush_tlb(cpu: number, f: FlushTlbInfo, trim_cpumask: boolean): boolean {
  const s = tlb_state.cpu_tlbstate[cpu];
  if (s.is_lazy && !f.freed_tables) return false;
  if (!f.mm) return true;
  if (s.loaded_mm === null || s.loaded_mm === f.mm) return true;
  return trim_cpumask; // a wrong-mm IPI clears the stale bit
}

/** should_trim_cpumask(): at most once per simulated second (jiffies + HZ) per mm. */
function should_trim_cpumask(mm: MmStruct): boolean {
  const now = ktime_get_ns();
  if (now < mm.next_trim_cpumask_ns) return false;
  mm.next_trim_cpumask_ns = now + 1e9;
  return true;
}

/**
 * flush_tlb_mm_range(): the caller changed `mm`'s PTEs in [start, end);
 * no CPU may translate them afterwards. `freed_tables` means page-table
 * pages were freed, so even lazy CPUs must let go.
 */
export function flush_tlb_mm_range(mm: MmStruct, start: number, end: number, stride_shift = PAGE_SHIFT, freed_tables = false): void {
  const self = smp_processor_id();
  const new_tlb_gen = inc_mm_tlb_gen(mm);
  const f: FlushTlbInfo = { mm, start, end, new_tlb_gen, initiating_cpu: self, stride_shift, freed_tables };
  if (end === TLB_FLUSH_ALL || (end - start) / 2 ** stride_shift > tlb_state.tlb_single_page_flush_ceiling) {
    f.start = 0;
    f.end = TLB_FLUSH_ALL;
  }
  const others = mm_cpumask_cpus(mm, nr_cpu_ids()).filter((c) => c !== self);
  if (others.length) {
    const trim = should_trim_cpumask(mm);
    const targets = others.filter((c) => should_flush_tlb(c, f, trim));
    count_vm_event(NR_TLB_REMOTE_FLUSH);
    if (pr_debug.enabled) pr_debug('flush_tlb_mm_range: cpu %d -> cpus [%s], %s', self, targets.join(','),
      f.end === TLB_FLUSH_ALL ? 'full' : `${(f.end - f.start) / 2 ** stride_shift} pages`);
    if (!tlb_state.suppress_flush_ipis) on_each_cpu_mask(targets, () => flush_tlb_func(f));
  }
  if (this_tlbstate().loaded_mm === mm) flush_tlb_func(f);
}

/* ---- kernel flushes ---- */

/**
 * flush_tlb_one_kernel(): this CPU only. Under PTI kernel mappings are not
 * global, so every other ASID may cache them too: invalidate_other makes
 * the next switch flush them.
 */
export function flush_tlb_one_kernel(addr: number): void {
  count_vm_event(NR_TLB_LOCAL_FLUSH_ONE);
  flush_tlb_one_user(addr);
  if (!tlb_state.cpu_tlbstate.length) return;
  if (tlb_state.pti) this_tlbstate().invalidate_other = true;
  if (tlb_asi.enabled) asi_flush_tlb_one_kernel_other(addr);
}

/*
 * Under ASI the same kernel address may be cached under this ASID's other
 * PCID (restricted or not) and under every other ASID's: the other ASIDs
 * are forgotten as under PTI; this ASID's other PCID is flushed by the
 * next transition's CR3 write unless asi_cr3_noflush keeps it, in which
 * case INVPCID drops the address there now (or, without INVPCID, the
 * other ASIDs' way: invalidate_other and a full flush later would not
 * reach it, so the address is dropped by a full flush here).
 */
function asi_flush_tlb_one_kernel_other(addr: number): void {
  const s = this_tlbstate();
  s.invalidate_other = true;
  if (!tlb_asi.cr3_noflush || !tlb_state.pcid) return;
  const cpu = this_cpu();
  const asid = s.loaded_mm_asid;
  const other = tlb_asi.restricted() ? kern_pcid(asid) : asi_pcid(ASI_CLASS_USERSPACE, asid);
  if (cpu.features.invpcid) cpu.invpcid(INVPCID_TYPE_INDIV_ADDR, other, addr);
  else __flush_tlb_all();
}

function trace_kernel_flush(self: number, cpu: number, pages: number): void {
  if (trace_tlb_flush.enabled)
    trace_tlb_flush.emit({ reason: cpu === self ? TLB_LOCAL_SHOOTDOWN : TLB_REMOTE_SHOOTDOWN, pages });
}

/**
 * do_flush_tlb_all(): the IPI handler of a full kernel flush. Every CPU
 * running it counts a received remote flush, the one that sent it too.
 */
function do_flush_tlb_all(self: number, cpu: number): void {
  count_vm_event(NR_TLB_REMOTE_FLUSH_RECEIVED);
  trace_kernel_flush(self, cpu, TLB_FLUSH_ALL);
  __flush_tlb_all();
}

/** flush_tlb_all(): __flush_tlb_all on every CPU; the sender counts one remote flush. */
export function flush_tlb_all(): void {
  const self = smp_processor_id();
  count_vm_event(NR_TLB_REMOTE_FLUSH);
  on_each_cpu((cpu) => do_flush_tlb_all(self, cpu));
}

/**
 * flush_tlb_kernel_range(): page by page up to the ceiling, else
 * everything, on every CPU. Neither branch counts nr_tlb_remote_flush
 * (Linux calls on_each_cpu directly, not flush_tlb_all()); the page-by-page
 * branch counts nr_tlb_local_flush_one per page on every CPU through
 * flush_tlb_one_kernel(), the full one a received flush per CPU.
 */
export function flush_tlb_kernel_range(start: number, end: number): void {
  const pages = Math.ceil((end - start) / PAGE_SIZE);
  if (pages <= 0) return;
  const self = smp_processor_id();
  if (pages > tlb_state.tlb_single_page_flush_ceiling) {
    on_each_cpu((cpu) => do_flush_tlb_all(self, cpu));
    return;
  }
  // do_kernel_range_flush() on each CPU.
  on_each_cpu((cpu) => {
    trace_kernel_flush(self, cpu, pages);
    for (let addr = start - (start % PAGE_SIZE); addr < end; addr += PAGE_SIZE) flush_tlb_one_kernel(addr);
  });
}

/* ---- PTI's CR3 switches (arch/x86/entry/calling.h) ---- */

/*
 * Without PTI the switches are nothing (calling.h patches them out with
 * ALTERNATIVE on X86_FEATURE_PTI): the test is all that is inlined into
 * every syscall entry and exit, the work is out of line.
 */

/** SWITCH_TO_KERNEL_CR3: kernel PGD and PCID; never flushes. */
export function switch_to_kernel_cr3(): void {
  if (tlb_state.pti) pti_switch_to_kernel_cr3();
}

function pti_switch_to_kernel_cr3(): void {
  const cpu = this_cpu();
  const cr3 = cpu.read_cr3();
  const pcid = (cpu.read_cr4() & X86_CR4_PCIDE) !== 0;
  // (`&` sees only the low 32 bits of a CR3 value, which hold every bit masked here.)
  cpu.write_cr3(cr3 - (cr3 & PTI_USER_PGTABLE_AND_PCID_MASK), pcid);
}

/**
 * SWITCH_TO_USER_CR3: user PGD and user PCID; flush the user PCID only if
 * its bit in user_pcid_flush_mask is set (and clear the bit).
 */
export function switch_to_user_cr3(): void {
  if (tlb_state.pti) pti_switch_to_user_cr3();
}

function pti_switch_to_user_cr3(): void {
  const cpu = this_cpu();
  const cr3 = cpu.read_cr3();
  const pcid = (cpu.read_cr4() & X86_CR4_PCIDE) !== 0;
  let noflush = false;
  let v = cr3;
  if (pcid) {
    const s = this_tlbstate();
    const kpcid = cr3_pcid(cr3) & ~PTI_USER_PCID_MASK; // the kernel PCID: its bit in the flush mask
    if (s.user_pcid_flush_mask & (1 << kpcid)) s.user_pcid_flush_mask &= ~(1 << kpcid);
    else noflush = true;
    if (!(v & PTI_USER_PCID_MASK)) v += PTI_USER_PCID_MASK;
  }
  if (!(v & PTI_USER_PGTABLE_MASK)) v += PTI_USER_PGTABLE_MASK;
  cpu.write_cr3(v, noflush);
}
