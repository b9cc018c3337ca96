/*
 * mm/ephmap.ts - the ephmap: a per-mm, per-CPU slot for mapping a folio
 * briefly, torn down with a local TLB flush.
 *
 * Mirrors mm/ephmap.c of the ASI branch (bjackman/linux, Aug 2025; asi.md
 * 4.9): the region lives in the mm-local PGD slot, so each mm has its own
 * tables there (and ASI shares that PGD entry into the restricted address
 * space, so nothing needs asi_map()). CPU n's slot is the largest folio,
 * 2 MiB, at EPHEMERAL_FILEMAP_BASE_ADDR + n * EPHMAP_CPU_REGION_SIZE.
 *  - ephmap_setup(mm) at mm creation builds the slot page tables, so
 *    ephmap_get() never allocates (the prototype maps with __pgprot(0) to
 *    the same end);
 *  - ephmap_get(page, size) needs migration disabled; it fails (returns 0)
 *    when size exceeds the slot, there is no current->mm, or this mm's slot
 *    on this CPU is in use (this_cpu_xchg(mml_cpu->in_use, true)); else it
 *    maps the pages at the slot base, BUGging on a PTE already present;
 *  - ephmap_put(vaddr, size) clears the PTEs and flushes this CPU only: one
 *    INVLPG per page below tlb_single_page_flush_ceiling (33), a full local
 *    flush otherwise; then the slot is free again;
 *  - ephmap_cleanup(mm) at teardown frees the tables (free_pgd_range over
 *    the PUD-aligned range in the prototype).
 * Cross-CPU safety (Brendan's proposal, asi.md 1.2): a mapping is only
 * logically CPU-local; another CPU running the mm may hold (speculatively,
 * or for the mermap, lazily) a translation to a page the process then loses
 * logical access to. So an mm that used the region is marked "some CPU may
 * hold a stale entry"; when a page-cache folio is truncated or evicted, or
 * a file is closed, every such mm gets one mm-wide flush of the region
 * (flush_tlb_mm_range: IPIs to the CPUs running it, tlb_gen for the rest),
 * counted in nr_ephmap_mm_flush.
 * The ephmap= parameter (the switch between the ephmap and its rivals) and
 * ephmap_wanted() (the one gate the read and write paths test) live here.
 * tskernel additions: per-mm state hangs off a WeakMap rather than struct
 * mm_struct; /proc/vmstat events nr_ephmap_* (no Linux counters); test-only
 * hooks that remove a flush, to show what it prevents.
 */
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';
import { PMD_SIZE, PUD_SIZE, MM_LOCAL_BASE_ADDR } from '../arch/x86/include/asm/pgtable_64_types.ts';
import { PAGE_KERNEL, Pgprot, _PAGE_GLOBAL } from '../arch/x86/include/asm/pgtable_types.ts';
import { __va } from '../arch/x86/include/asm/page_64_types.ts';
import {
  pgd_offset, p4d_offset, pud_offset, pmd_offset, pte_offset_kernel, pgdp_get, pudp_get, pmdp_get, ptep_get,
  pgd_none, pud_none, pmd_none, pte_none, set_pte, pte_clear, pfn_pte, pgd_clear, pud_clear, pmd_clear, pgd_pfn,
  pud_pfn, pmd_pfn, ptep_get_lo,
} from '../arch/x86/mm/pgtable.ts';
import { pud_alloc, pmd_alloc, pte_alloc_kernel, pgtable_free_page } from '../arch/x86/mm/pgalloc.ts';
import {
  __flush_tlb_all, flush_tlb_mm_range, tlb_state, NR_TLB_LOCAL_FLUSH_ONE, NR_TLB_LOCAL_FLUSH_ALL,
} from '../arch/x86/mm/tlb.ts';
import type { MmStruct } from './mm_struct.ts';
import { asi_clone_user_pgtbl } from './asi.ts';
import { asi_state, asi_is_restricted } from '../arch/x86/mm/asi.ts';

/* X86_FEATURE_ASI as a module local (imported bindings are getters under the TS loaders). */
const ASI = asi_state;
import { current } from '../kernel/sched/core.ts';
import { should_failslab } from './failslab.ts';
import { GFP_KERNEL } from './gfp.ts';
import { this_cpu, smp_processor_id, nr_cpu_ids } from '../kernel/smp.ts';
import { BUG, WARN } from '../kernel/panic.ts';
import { vm_event_item, count_vm_event } from './vmstat.ts';
import { register_param, one_of, type KernelParams } from '../kernel/params.ts';
import {
  EPHEMERAL_FILEMAP_BASE_ADDR, EPHMAP_CPU_REGION_SIZE, EPHMAP_END_ADDR, MERMAP_BASE_ADDR, MERMAP_CPU_REGION_SIZE,
  MM_LOCAL_EPHEMERAL_START, MM_LOCAL_EPHEMERAL_END, type EphmapMode, type FolioMapOps,
} from '../include/linux/ephmap.ts';
import { trace_ephmap_get, trace_ephmap_put } from '../kernel/trace/events/ephmap.ts';
import { pr_debug_ns } from '../kernel/printk.ts';

const pr_debug = pr_debug_ns('mm:ephmap');

declare module '../kernel/params.ts' {
  interface KernelParams {
    /** ephmap=: how the page-cache read and write paths map a folio in restricted mode. */
    ephmap: EphmapMode;
  }
}

/*
 * ephmap=percpu|vmalloc|kmap|mermap|off (no Linux counterpart: the ASI
 * branch has only the ephmap, always on with asi=on). It takes effect only
 * where ephmap_wanted() is true, i.e. on a CPU running restricted.
 */
register_param({
  name: 'ephmap', value: 'required',
  help: 'ephmap=percpu|vmalloc|kmap|mermap|off how page-cache reads and writes map a folio under ASI: the per-mm per-CPU ephmap, a vmap area per I/O, kmap_local slots, the mermap, or the physmap (which exits). [percpu]',
  set_default: (out) => { out.ephmap = 'percpu'; },
  parse: (val, out) => {
    out.ephmap = one_of('ephmap', 'mode', val!,
      { percpu: 'percpu', vmalloc: 'vmalloc', kmap: 'kmap', mermap: 'mermap', off: 'off' } as const);
  },
  format: (p) => (p.ephmap !== 'percpu' ? `ephmap=${p.ephmap}` : null),
});

/* No Linux counters: the ephmap's and its rivals' events, in /proc/vmstat. */
export const NR_EPHMAP_GET = vm_event_item('nr_ephmap_get');
export const NR_EPHMAP_PUT = vm_event_item('nr_ephmap_put');
export const NR_EPHMAP_GET_FAILED = vm_event_item('nr_ephmap_get_failed');
export const NR_EPHMAP_FALLBACK = vm_event_item('nr_ephmap_fallback');
export const NR_EPHMAP_MM_FLUSH = vm_event_item('nr_ephmap_mm_flush');

/** Per-mm state: struct mm_local_cpu's in_use per CPU, and the stale-entry flag. */
export class EphmapMm {
  /** this_cpu(mm->mml_cpu)->in_use. */
  readonly in_use: Uint8Array;
  /** Some CPU running this mm may hold a TLB entry for the region that a flush has not removed. */
  may_have_stale = false;
  constructor(nr_cpus: number) {
    this.in_use = new Uint8Array(nr_cpus);
  }
}

export const ephmap_state = {
  mode: 'percpu' as EphmapMode,
  /**
   * Test-only (a KUnit-style switch, no command-line spelling): make
   * ephmap_wanted() true with asi=off, so every variant can be exercised
   * before the CPU can run restricted.
   */
  test_force: false,
  /** Test-only seeded bugs: ephmap_put()/mermap without its local flush; no mm-wide flush on truncate. */
  test_skip_put_flush: false,
  test_skip_mm_flush: false,
  /** mm -> its ephmap state; absent until ephmap_setup() built the tables. */
  mms: new WeakMap<MmStruct, EphmapMm>(),
  /** The mms marked may_have_stale, for the mm-wide flush. */
  stale: new Set<MmStruct>(),
  /** Page-table pages the region holds across all mms (for the leak check). */
  nr_tables: 0,
};

/** At boot: the mode from ephmap=, nothing forced, no mm set up yet. */
export function ephmap_init(p: KernelParams): void {
  ephmap_state.mode = p.ephmap;
  ephmap_state.test_force = false;
  ephmap_state.test_skip_put_flush = false;
  ephmap_state.test_skip_mm_flush = false;
  ephmap_state.mms = new WeakMap();
  ephmap_state.stale = new Set();
  ephmap_state.nr_tables = 0;
  pr_debug('ephmap_init: ephmap=%s', p.ephmap);
}

/**
 * ephmap_wanted(): should the page-cache copy go through the selected
 * mapping instead of the physmap? The one gate of the read and write paths.
 * Yes when the CPU runs in the restricted address space
 * (asi_is_restricted()), where the physmap copy of a sensitive page faults
 * and exits; test_force lets tests exercise every variant with asi=off.
 */
export function ephmap_wanted(): boolean {
  return (ephmap_state.test_force || (ASI.enabled && asi_is_restricted())) && ephmap_state.mode !== 'off';
}

/*
 * Whether new mms get the region's tables. Only when the ephmap can be
 * used, so that asi=off boots allocate nothing for it.
 * That is with X86_FEATURE_ASI (or test_force).
 */
function ephmap_region_wanted(): boolean {
  return (ephmap_state.test_force || ASI.enabled) && (ephmap_state.mode === 'percpu' || ephmap_state.mode === 'mermap');
}

/** The ephmap state of `mm`, or null if it has no region. */
export function ephmap_mm(mm: MmStruct | null): EphmapMm | null {
  if (mm === null) return null;
  return ephmap_state.mms.get(mm) ?? null;
}

/** The PTE for `va` in `mm`'s region, whose tables ephmap_setup() built (no allocation). */
export function mm_local_pte(mm: MmStruct, va: number): number {
  const pudp = pud_offset(p4d_offset(pgd_offset(mm, va), va), va);
  return pte_offset_kernel(pmd_offset(pudp, va), va);
}

/** Build the tables down to the PTE level for [start, end) of `mm`'s region. False on -ENOMEM. */
function mm_local_populate(mm: MmStruct, start: number, end: number): boolean {
  for (let va = start; va < end; va += PMD_SIZE) {
    const p4dp = p4d_offset(pgd_offset(mm, va), va);
    const had_pgd = !pgd_none(pgdp_get(p4dp));
    const pudp = pud_alloc(mm, p4dp, va);
    if (!pudp) return false;
    if (!had_pgd) {
      ephmap_state.nr_tables++;
      asi_clone_user_pgtbl(mm, p4dp); // the slot's entry is shared into the mm's restricted PGDs
    }
    const had_pud = !pud_none(pudp_get(pudp));
    const pmdp = pmd_alloc(mm, pudp, va);
    if (!pmdp) return false;
    if (!had_pud) ephmap_state.nr_tables++;
    const had_pmd = !pmd_none(pmdp_get(pmdp));
    if (!pte_alloc_kernel(pmdp, va)) return false;
    if (!had_pmd) ephmap_state.nr_tables++;
  }
  return true;
}

/**
 * ephmap_setup(): at mm creation, build the page tables of every CPU's slot
 * (the ephmap's or the mermap's, by ephmap=) in the mm's own PGD entry of
 * the mm-local slot. With no memory the mm simply has no region: every
 * get fails and the copy falls back to the physmap.
 */
export function ephmap_setup(mm: MmStruct): void {
  if (!ephmap_region_wanted()) return;
  const nr = nr_cpu_ids();
  const mermap = ephmap_state.mode === 'mermap';
  const base = mermap ? MERMAP_BASE_ADDR : EPHEMERAL_FILEMAP_BASE_ADDR;
  const size = mermap ? MERMAP_CPU_REGION_SIZE : EPHMAP_CPU_REGION_SIZE;
  if (!mm_local_populate(mm, base, base + nr * size)) {
    ephmap_free_tables(mm);
    return;
  }
  ephmap_state.mms.set(mm, new EphmapMm(nr));
}

/*
 * Free every table under mm's mm-local PGD entry (free_pgd_range() over the
 * PUD-aligned region, innermost first). A PTE still present is a mapping
 * that outlived its put: WARN and drop it.
 */
function ephmap_free_tables(mm: MmStruct): void {
  const pgdp = pgd_offset(mm, MM_LOCAL_BASE_ADDR);
  const pgd = pgdp_get(pgdp);
  if (pgd_none(pgd)) return;
  const pud_table = __va(pgd_pfn(pgd) * 4096);
  const first = Math.floor((MM_LOCAL_EPHEMERAL_START - MM_LOCAL_BASE_ADDR) / PUD_SIZE);
  const last = Math.ceil((MM_LOCAL_EPHEMERAL_END - MM_LOCAL_BASE_ADDR) / PUD_SIZE);
  for (let i = first; i < last; i++) {
    const pudp = pud_table + i * 8;
    const pud = pudp_get(pudp);
    if (pud_none(pud)) continue;
    const pmd_table = __va(pud_pfn(pud) * 4096);
    for (let j = 0; j < 512; j++) {
      const pmdp = pmd_table + j * 8;
      const pmd = pmdp_get(pmdp);
      if (pmd_none(pmd)) continue;
      const pte_table = __va(pmd_pfn(pmd) * 4096);
      for (let k = 0; k < 512; k++) {
        if (ptep_get_lo(pte_table + k * 8) === 0) continue;
        WARN(true, 'ephmap: %px still mapped at mm teardown', MM_LOCAL_BASE_ADDR + i * PUD_SIZE + j * PMD_SIZE + k * PAGE_SIZE);
        pte_clear(pte_table + k * 8);
      }
      pmd_clear(pmdp);
      pgtable_free_page(pte_table);
      ephmap_state.nr_tables--;
    }
    pud_clear(pudp);
    pgtable_free_page(pmd_table);
    ephmap_state.nr_tables--;
  }
  pgd_clear(pgdp);
  asi_clone_user_pgtbl(mm, pgdp); // the restricted PGDs must not keep the freed table
  pgtable_free_page(pud_table);
  ephmap_state.nr_tables--;
}

/**
 * ephmap_cleanup(): at mm teardown (after exit_mmap, before pgd_free):
 * forget the slots and free the region's tables. No CPU runs the mm any
 * more, and its ASID is flushed before any other mm reuses it.
 */
export function ephmap_cleanup(mm: MmStruct): void {
  const e = ephmap_state.mms.get(mm);
  if (e === undefined) return;
  if (pr_debug.enabled) pr_debug('ephmap_cleanup: mm teardown, %d CPU slots', e.in_use.length);
  for (let c = 0; c < e.in_use.length; c++) WARN(e.in_use[c] !== 0, 'ephmap: CPU %d slot in use at mm teardown', c);
  ephmap_state.mms.delete(mm);
  ephmap_state.stale.delete(mm);
  ephmap_free_tables(mm);
}

/** The region's PTE protection: PAGE_KERNEL, never global (the address means something else in every mm). */
export const EPHMAP_PROT = new Pgprot((PAGE_KERNEL.lo & ~_PAGE_GLOBAL) >>> 0, PAGE_KERNEL.hi);

/** Mark `mm` as possibly holding stale region entries on some CPU. */
export function ephmap_mark_stale(mm: MmStruct, e: EphmapMm): void {
  if (e.may_have_stale) return;
  e.may_have_stale = true;
  ephmap_state.stale.add(mm);
}

/** Install PTEs for pages [page, page + nr) at va in mm's region; BUG on one already present. */
export function mm_local_map(mm: MmStruct, va: number, page: number, nr: number): void {
  let ptep = mm_local_pte(mm, va);
  for (let i = 0; i < nr; i++, ptep += 8) {
    // A page-table page boundary: walk again (a slot spans at most one PTE table for the ephmap).
    if (i && ((va + i * PAGE_SIZE) % PMD_SIZE) === 0) ptep = mm_local_pte(mm, va + i * PAGE_SIZE);
    if (!pte_none(ptep_get(ptep))) BUG('ephmap: remapping already mapped page at %px', va + i * PAGE_SIZE);
    set_pte(ptep, pfn_pte(page + i, EPHMAP_PROT));
  }
  this_cpu().charge_index(COST_KEY_INDEX.pte_update, nr);
}

/** Clear nr PTEs at va in mm's region (native_ptep_get_and_clear; no flush). */
export function mm_local_unmap(mm: MmStruct, va: number, nr: number): void {
  let ptep = mm_local_pte(mm, va);
  for (let i = 0; i < nr; i++, ptep += 8) {
    if (i && ((va + i * PAGE_SIZE) % PMD_SIZE) === 0) ptep = mm_local_pte(mm, va + i * PAGE_SIZE);
    pte_clear(ptep);
  }
  this_cpu().charge_index(COST_KEY_INDEX.pte_update, nr);
}

/**
 * The local flush after a put: INVLPG per page below the ceiling, else
 * invpcid_flush_all() (__flush_tlb_all). Only this CPU: the mapping was
 * only ever used here. ASI's transitions never set CR3's noflush bit, so
 * the other (restricted or unrestricted) address space needs nothing; nor
 * does PTI's user PCID, whose page tables never map the mm-local slot (so
 * a bare INVLPG, as the prototype does, not flush_tlb_one_user()).
 */
export function ephmap_flush_local(va: number, nr: number): void {
  if (ephmap_state.test_skip_put_flush) return; // seeded bug: the stale translation survives
  if (nr < tlb_state.tlb_single_page_flush_ceiling) {
    const cpu = this_cpu();
    for (let i = 0; i < nr; i++) {
      count_vm_event(NR_TLB_LOCAL_FLUSH_ONE);
      cpu.invlpg(va + i * PAGE_SIZE);
    }
  } else {
    count_vm_event(NR_TLB_LOCAL_FLUSH_ALL);
    __flush_tlb_all();
  }
}

const K_MEM_ACCESS = COST_KEY_INDEX.mem_access;

/** This CPU's slot base. */
export function ephmap_slot(cpu: number): number {
  return EPHEMERAL_FILEMAP_BASE_ADDR + cpu * EPHMAP_CPU_REGION_SIZE;
}

function ephmap_fail(): number {
  count_vm_event(NR_EPHMAP_GET_FAILED);
  return 0;
}

/**
 * ephmap_get(): map PAGE_ALIGN(size) bytes of the physically contiguous
 * pages from `page` at this CPU's slot of current->mm. Returns the slot
 * base, or 0: "tries very hard to be fast and doesn't try very hard at all
 * to actually succeed, expect failures".
 */
export function ephmap_get(page: number, size: number): number {
  const p = current();
  if (p.migration_disabled <= 0) BUG('ephmap_get() with migration enabled in %s', p.comm);
  if (!(size > 0) || size > EPHMAP_CPU_REGION_SIZE) return ephmap_fail();
  const mm = p.mm;
  const e = ephmap_mm(mm);
  if (mm === null || e === null) return ephmap_fail();
  if (should_failslab('ephmap', GFP_KERNEL)) return ephmap_fail(); // callers fall back, as for a busy slot
  const cpu = smp_processor_id();
  this_cpu().charge_index(K_MEM_ACCESS); // this_cpu_xchg(): a per-CPU cmpxchg loop, no LOCK prefix
  if (e.in_use[cpu]) return ephmap_fail(); // this_cpu_xchg(in_use, true) was already true
  e.in_use[cpu] = 1;
  const nr = Math.ceil(size / PAGE_SIZE);
  const va = ephmap_slot(cpu);
  mm_local_map(mm, va, page, nr);
  ephmap_mark_stale(mm, e);
  count_vm_event(NR_EPHMAP_GET);
  if (trace_ephmap_get.enabled) trace_ephmap_get.emit({ variant: 'percpu', vaddr: va, pfn: page, nr_pages: nr });
  return va;
}

/** ephmap_put(): clear the PTEs, flush this CPU, free the slot. */
export function ephmap_put(vaddr: number, size: number): void {
  const p = current();
  const mm = p.mm;
  const e = ephmap_mm(mm);
  const cpu = smp_processor_id();
  if (mm === null || e === null || vaddr !== ephmap_slot(cpu) || !e.in_use[cpu])
    BUG('ephmap_put(%px): not this CPU\'s mapped slot', vaddr);
  const nr = Math.ceil(size / PAGE_SIZE);
  mm_local_unmap(mm, vaddr, nr);
  ephmap_flush_local(vaddr, nr);
  this_cpu().charge_index(K_MEM_ACCESS); // this_cpu_write(in_use, false)
  e.in_use[cpu] = 0;
  count_vm_event(NR_EPHMAP_PUT);
  if (trace_ephmap_put.enabled) trace_ephmap_put.emit({ variant: 'percpu', vaddr, nr_pages: nr });
}

/** ephmap_cond_put(): put only if p lies in the ephmap (callers that may have fallen back). */
export function ephmap_cond_put(p: number, size: number): void {
  if (p >= EPHEMERAL_FILEMAP_BASE_ADDR && p < EPHMAP_END_ADDR) ephmap_put(p, size);
}

/** The ephmap as a folio_map_ops. */
export const ephmap_ops: FolioMapOps = {
  name: 'percpu',
  max_pages: EPHMAP_CPU_REGION_SIZE / PAGE_SIZE,
  get: (page, nr_pages) => ephmap_get(page, nr_pages * PAGE_SIZE),
  put: (vaddr, nr_pages) => ephmap_put(vaddr, nr_pages * PAGE_SIZE),
};

/* ---- cross-CPU safety: the mm-wide flush ---- */

/** Flush the region in every CPU that may hold `mm`'s entries for it, and clear the mark. */
function ephmap_flush_mm(mm: MmStruct): void {
  const e = ephmap_state.mms.get(mm);
  if (e === undefined) return;
  e.may_have_stale = false;
  ephmap_state.stale.delete(mm);
  if (ephmap_state.test_skip_mm_flush) return; // seeded bug: other CPUs keep the old translation
  count_vm_event(NR_EPHMAP_MM_FLUSH);
  flush_tlb_mm_range(mm, MM_LOCAL_EPHEMERAL_START, MM_LOCAL_EPHEMERAL_END);
}

/**
 * ephmap_lose_access_all() (no Linux counterpart; Brendan's proposal): a
 * page-cache folio is about to leave the cache (truncation, eviction), so
 * processes lose logical access to it: every mm that may hold a stale
 * region entry on some CPU gets its mm-wide flush now, before the page can
 * be freed and reused.
 */
export function ephmap_lose_access_all(): void {
  if (ephmap_state.stale.size === 0) return;
  for (const mm of [...ephmap_state.stale]) ephmap_flush_mm(mm);
}

/** ephmap_file_closed(): current closed a file for good; its mm loses access to that file's pages. */
export function ephmap_file_closed(): void {
  if (ephmap_state.stale.size === 0) return;
  const mm = current().mm;
  if (mm !== null && ephmap_state.stale.has(mm)) ephmap_flush_mm(mm);
}
