/*
 * mm/debug.ts - dump_page, bad_page and the debug_vm switch.
 *
 * Mirrors mm/debug.c (dump_page, VM_BUG_ON_PAGE), the page checks of
 * mm/page_alloc.c (bad_page, page_bad_reason, free_page_is_bad,
 * check_new_page) and lib/ratelimit.c (__ratelimit). CONFIG_DEBUG_VM is the
 * debug_vm boot parameter here: vm_debug.debug_vm turns on the checks Linux
 * compiles in with it (check_new_pages on every allocation, the invariant
 * checker after every operation); the parameter is registered here.
 *
 * A bad page is reported with Linux's text ("BUG: Bad page state in process
 * %s  pfn:%05lx" and dump_page's lines) and then left alone, as Linux does:
 * it is never given out or freed again, the kernel goes on (TAINT_BAD_PAGE
 * becomes a counter, vm_debug.nr_bad_pages). Not modelled: the 60-per-minute
 * limit on bad_page reports, dump_stack, print_modules.
 */
import { page_flags_word, page_mapcount_word, page_mapcount, page_ref_count } from './mm_types.ts';
import { PAGE_FLAGS_CHECK_AT_FREE, PAGE_FLAGS_CHECK_AT_PREP, PageBuddy, __ClearPageBuddy,
  format_page_flags, page_type_name } from './page_flags.ts';
import { printk, KERN_ALERT, KERN_WARNING } from '../kernel/printk.ts';
import { BUG, panic_context } from '../kernel/panic.ts';
import { vsprintf } from '../lib/vsprintf.ts';
import { smp_processor_id } from '../kernel/smp.ts';
import { ktime_get_ns } from '../kernel/time/timekeeping.ts';
import { register_param, flag_param, type KernelParams } from '../kernel/params.ts';

declare module '../kernel/params.ts' {
  interface KernelParams {
    /** debug_vm: CONFIG_DEBUG_VM-style invariant checks. */
    debug_vm: boolean;
  }
}

/*
 * debug_vm (no Linux counterpart: CONFIG_DEBUG_VM is chosen when the kernel
 * is built): turns on at boot what CONFIG_DEBUG_VM compiles in, the
 * VM_BUG_ON checks, check_new_pages() on every allocation and the invariant
 * checker after every page-allocator operation (Kconfig's DEBUG_VM:
 * "extended checks in the virtual-memory system"). Tests boot with it.
 */
register_param(flag_param('debug_vm', 'debug_vm turn on CONFIG_DEBUG_VM-style invariant checks.'));

export const vm_debug = {
  /** CONFIG_DEBUG_VM: checks and the invariant checker after each operation. */
  debug_vm: false,
  /** Bad page reports since boot (Linux taints the kernel with TAINT_BAD_PAGE). */
  nr_bad_pages: 0,
};

/** At every boot (mm_core_init): debug_vm from the command line, no bad pages yet. */
export function vm_debug_init(p: KernelParams): void {
  vm_debug.debug_vm = p.debug_vm;
  vm_debug.nr_bad_pages = 0;
}

/**
 * current->comm for reports, from the scheduler's context hook
 * (kernel/panic.ts); before the scheduler exists, and for the idle task,
 * the CPU's boot task swapper/N.
 */
export function current_comm(): string {
  const c = panic_context();
  return c.pid === 0 ? `swapper/${smp_processor_id()}` : c.comm;
}

/** dump_stack()'s first line: "CPU: n PID: p Comm: c". */
export function current_where(): string {
  const c = panic_context();
  return `CPU: ${smp_processor_id()} PID: ${c.pid} Comm: ${current_comm()}`;
}

/** dump_page: the struct page as Linux prints it, then why. */
export function dump_page(page: number, reason: string): void {
  const flags = page_flags_word(page);
  const ty = page_type_name(page);
  const lines = [
    vsprintf('page: refcount:%d mapcount:%d mapping:0000000000000000 index:0x0 pfn:0x%x',
      [page_ref_count(page), page_mapcount(page), page]),
    `flags: 0x${flags.toString(16)}(${format_page_flags(flags)})`,
  ];
  if (ty !== null) lines.push(`page_type: ${(page_mapcount_word(page) >>> 24).toString(16)}(${ty})`);
  lines.push(`page dumped because: ${reason}`);
  printk(KERN_ALERT, lines.join('\n'));
}

/**
 * bad_page: report and leave the page out of circulation. `clear_buddy`
 * false is for reports about a page that is legitimately free (a double
 * free): its PageBuddy must stay, or the free lists would break.
 */
export function bad_page(page: number, reason: string, clear_buddy = true): void {
  printk(KERN_ALERT, vsprintf('BUG: Bad page state in process %s  pfn:%05x', [current_comm(), page]));
  dump_page(page, reason);
  // Leave bad fields for debug, except PageBuddy could make trouble.
  if (clear_buddy && PageBuddy(page)) __ClearPageBuddy(page);
  vm_debug.nr_bad_pages++;
}

/** VM_BUG_ON_PAGE: dump the page, then BUG. */
export function VM_BUG_ON_PAGE(cond: boolean, page: number, what: string): void {
  if (!cond) return;
  dump_page(page, `VM_BUG_ON_PAGE(${what})`);
  BUG('VM_BUG_ON_PAGE(%s) pfn:%d', what, page);
}

/** page_bad_reason: why a page may not be freed or handed out, or null. */
export function page_bad_reason(page: number, flags: number): string | null {
  if (page_mapcount_word(page) !== -1) return 'nonzero mapcount';
  if (page_ref_count(page) !== 0) return 'nonzero _refcount';
  if (page_flags_word(page) & flags)
    return flags === PAGE_FLAGS_CHECK_AT_FREE ? 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set'
      : 'PAGE_FLAGS_CHECK_AT_PREP flag(s) set';
  return null;
}

/** free_page_is_bad: report and return true if `page` may not be freed. */
export function free_page_is_bad(page: number): boolean {
  const why = page_bad_reason(page, PAGE_FLAGS_CHECK_AT_FREE);
  if (why === null) return false;
  bad_page(page, why);
  return true;
}

/** check_new_page: a page leaving the free lists must be pristine. */
export function check_new_page(page: number): boolean {
  const why = page_bad_reason(page, PAGE_FLAGS_CHECK_AT_PREP);
  if (why === null) return false;
  bad_page(page, why);
  return true;
}

/** check_new_pages: every page of the block; true if one is bad (the block is then leaked). */
export function check_new_pages(page: number, order: number): boolean {
  const n = 1 << order;
  for (let i = 0; i < n; i++) if (check_new_page(page + i)) return true;
  return false;
}

/*
 * struct ratelimit_state (lib/ratelimit.c). Time is ktime_get_ns() on the
 * current CPU; DEFAULT_RATELIMIT_INTERVAL (5 * HZ) is five seconds of it. Belongs
 * in lib/ratelimit.ts once another subsystem needs it.
 */
export class RatelimitState {
  begin = -1;
  printed = 0;
  missed = 0;
  constructor(readonly interval_seconds = 5, readonly burst = 10) {}
}

export function __ratelimit(rs: RatelimitState, func: string): boolean {
  const now = ktime_get_ns();
  const interval = rs.interval_seconds * 1e9;
  if (rs.begin < 0) rs.begin = now;
  if (rs.begin + interval < now) {
    if (rs.missed) printk(KERN_WARNING, `${func}: ${rs.missed} callbacks suppressed`);
    rs.begin = now;
    rs.printed = 0;
    rs.missed = 0;
  }
  if (rs.burst && rs.burst > rs.printed) {
    rs.printed++;
    return true;
  }
  rs.missed++;
  return false;
}
