/*
 * mm/highmem.ts - kmap_local_page() / kunmap_local(): short-lived kernel mappings.
 *
 * Mirrors mm/highmem.c's CONFIG_KMAP_LOCAL machinery, include/linux/highmem.h
 * and highmem-internal.h, asm-generic/kmap_size.h and x86's arch hooks.
 *
 * On x86-64 there is no highmem: by default (kmap_local=direct)
 * kmap_local_page() returns page_address(), the direct-map address, and
 * kunmap_local() does nothing, exactly as Linux does. That direct-map access
 * is what ASI must avoid for sensitive pages; the ephmap (mm/ephmap.c in the
 * ASI tree) replaces it on the shmem read path.
 *
 * With kmap_local=force_map (CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP) every
 * mapping goes through a real fixmap slot:
 *  - a per-task stack, current->kmap_ctrl = { idx, pteval[KM_MAX_IDX] };
 *    nesting beyond KM_MAX_IDX (16) is a BUG;
 *  - slot i of CPU c is FIX_KMAP_BEGIN + i + KM_MAX_IDX * c, a fixed page
 *    under FIXADDR_TOP whose PTE lives in init_mm's tables (allocated by
 *    kmap_local_init() at boot, freed by kmap_local_exit() at shutdown);
 *  - migration is disabled from map to unmap;
 *  - unmap must be strictly LIFO (a violation is a BUG here; Linux WARNs
 *    and goes on with a corrupted stack), and costs one local INVLPG
 *    (arch_kmap_local_post_unmap -> flush_tlb_one_kernel), no IPI;
 *  - on a context switch __kmap_local_sched_out() clears (and flushes)
 *    the outgoing task's live slots and __kmap_local_sched_in() re-installs
 *    the incoming task's, so a mapping survives preemption and page faults.
 * Simplified: no CONFIG_DEBUG_KMAP_LOCAL guard slots (KM_INCR = 1), no
 * legacy kmap()/pkmap pool, no kmap_atomic's pagefault_disable; page tables
 * exist only for the CPUs the machine has, not all NR_CPUS.
 */
import { FIX_KMAP_BEGIN, FIX_KMAP_END, KM_MAX_IDX, __fix_to_virt } from '../arch/x86/include/asm/fixmap.ts';
import { PAGE_OFFSET } from '../arch/x86/include/asm/page_64_types.ts';
import { PAGE_KERNEL, type Pgprot } from '../arch/x86/include/asm/pgtable_types.ts';
import {
  pgd_offset, p4d_offset, pgdp_get, pudp_get, pmdp_get, ptep_get, pgd_none, pud_none, pmd_none,
  pte_none, set_pte, pte_clear, pfn_pte, pmd_pfn, pud_pfn, pud_clear, pmd_clear,
} from '../arch/x86/mm/pgtable.ts';
import { pud_alloc, pmd_alloc, pte_alloc_kernel, pgtable_free_page } from '../arch/x86/mm/pgalloc.ts';
import { kernel_pgprot } from '../arch/x86/mm/init_64.ts';
import { flush_tlb_one_kernel } from '../arch/x86/mm/tlb.ts';
import { __va } from '../arch/x86/include/asm/page_64_types.ts';
import { init_mm } from './mm_struct.ts';
import { page_address } from './mm_types.ts';
import { current, migrate_disable, migrate_enable, register_sched_hooks } from '../kernel/sched/core.ts';
import { KmapCtrl, type TaskStruct } from '../kernel/sched/task.ts';
import { smp_processor_id, nr_cpu_ids, this_cpu } from '../kernel/smp.ts';
import { BUG, WARN } from '../kernel/panic.ts';
import { vm_event_item, count_vm_event } from './vmstat.ts';
import { register_param, one_of } from '../kernel/params.ts';
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';

/* The slot PTE's set and clear, priced as every kernel PTE write is (mm/memory.ts, mm/ephmap.ts). */
const K_PTE_UPDATE = COST_KEY_INDEX.pte_update;

export { KM_MAX_IDX };

/**
 * kmap_local_page() on 64-bit: 'direct' returns the direct-map address (no
 * mapping, Linux's default); 'force_map' installs a per-CPU slot PTE as
 * CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP does.
 */
export type KmapLocalMode = 'direct' | 'force_map';

declare module '../kernel/params.ts' {
  interface KernelParams {
    /** kmap_local=: how kmap_local_page() maps. */
    kmap_local: KmapLocalMode;
  }
}

/*
 * kmap_local=force_map|direct|off (no Linux counterpart: Linux chooses at
 * build time with CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP, "Enforce kmap_local
 * temporary mappings", which maps non-highmem pages through slots too).
 * direct and off are the default, page_address(); start_kernel hands the
 * mode to kmap_local_init().
 */
register_param({
  name: 'kmap_local', value: 'required',
  help: 'kmap_local=force_map|direct|off force_map maps every kmap_local_page() in a slot; direct and off return the direct map. [direct]',
  set_default: (out) => { out.kmap_local = 'direct'; },
  parse: (val, out) => {
    out.kmap_local = one_of('kmap_local', 'mode', val!,
      { force_map: 'force_map', direct: 'direct', off: 'direct' } as const);
  },
  format: (p) => (p.kmap_local !== 'direct' ? `kmap_local=${p.kmap_local}` : null),
});

/** No Linux counter: slot mappings made by kmap_local with force_map. */
export const NR_KMAP_LOCAL_MAP = vm_event_item('nr_kmap_local_map');

export const highmem_state = {
  /** CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP: kmap_local=force_map on the command line. */
  force_map: false,
  /** kmap_prot: PAGE_KERNEL less _PAGE_GLOBAL under PTI. */
  kmap_prot: PAGE_KERNEL as Pgprot,
  /** __kmap_pte[-idx]: the PTE pointer (direct-map address) of fixmap kmap slot idx. */
  kmap_ptep: new Float64Array(0),
  /** Upper-level entries kmap_local_init() populated, in order, with the table each points to. */
  created: [] as { entryp: number; level: 'pud' | 'pmd' }[],
  /**
   * Set at boot by mm/folio_map.ts (no Linux counterpart): zeroes the
   * segments through the ephmap= mapping and returns true when the CPU
   * must not touch the physmap (ephmap_wanted()), else returns false.
   */
  zero_segments_hook: null as ((folio: { readonly page: number; readonly order: number }, start1: number, end1: number,
    start2: number, end2: number) => boolean) | null,
};

/** current->kmap_ctrl, created on first use (a forked task starts empty: kmap_local_fork). */
export function kmap_ctrl(p: TaskStruct): KmapCtrl {
  let c = p.kmap_ctrl;
  if (!c) {
    c = new KmapCtrl();
    p.kmap_ctrl = c;
  }
  return c;
}

/** kmap_local_calc_idx(): slot `idx` of this CPU, as an offset from FIX_KMAP_BEGIN. */
function kmap_local_calc_idx(idx: number): number {
  return idx + KM_MAX_IDX * smp_processor_id();
}

/** The virtual address of this CPU's slot `idx`. */
export function kmap_local_slot_addr(idx: number): number {
  return __fix_to_virt(FIX_KMAP_BEGIN + kmap_local_calc_idx(idx));
}

function kmap_local_idx_push(c: KmapCtrl): number {
  if (c.idx >= KM_MAX_IDX) BUG('kmap_local: more than KM_MAX_IDX (%d) nested mappings', KM_MAX_IDX);
  return c.idx++;
}

function kmap_local_idx_pop(c: KmapCtrl): void {
  c.idx--;
  if (c.idx < 0) BUG('kmap_local: stack underflow');
}

/**
 * __kmap_local_pfn_prot(): take the next slot of current's stack on this
 * CPU, install the PTE in init_mm, record it for context switches.
 * Migration stays disabled until the matching kunmap_local().
 */
export function __kmap_local_pfn_prot(pfn: number, prot: Pgprot): number {
  migrate_disable();
  const c = kmap_ctrl(current());
  const idx = kmap_local_idx_push(c);
  const fix = kmap_local_calc_idx(idx);
  const vaddr = __fix_to_virt(FIX_KMAP_BEGIN + fix);
  const ptep = highmem_state.kmap_ptep[fix];
  if (ptep === undefined) BUG('kmap_local: no fixmap page table for slot %d (kmap_local_init not run?)', fix);
  if (!pte_none(ptep_get(ptep))) BUG('kmap_local: slot %px already mapped', vaddr);
  const pteval = pfn_pte(pfn, prot);
  set_pte(ptep, pteval);
  this_cpu().charge_index(K_PTE_UPDATE);
  c.pteval[idx] = pteval;
  count_vm_event(NR_KMAP_LOCAL_MAP);
  return vaddr;
}

/** kmap_local_page(): a kernel address for `page`, valid until kunmap_local(). Never fails. */
export function kmap_local_page(page: number): number {
  if (!highmem_state.force_map) return page_address(page);
  return __kmap_local_pfn_prot(page, highmem_state.kmap_prot);
}

/** kmap_local_folio(): the subpage holding `offset`, mapped, plus the offset within it. */
export function kmap_local_folio(folio: { readonly page: number }, offset: number): number {
  const sub = Math.floor(offset / 4096);
  return kmap_local_page(folio.page + sub) + (offset - sub * 4096);
}

/**
 * kunmap_local(): any address inside the mapped page. Without force_map it
 * is a direct-map address and there is nothing to do; with it,
 * kunmap_local_indexed() releases the kmap slot (a direct-map address it
 * leaves alone).
 */
export function kunmap_local(vaddr: number): void {
  if (highmem_state.force_map) kunmap_local_indexed(vaddr);
}

/*
 * kunmap_local_indexed(): the force_map work, out of line as in Linux, so
 * that kunmap_local() stays small enough for the JIT to inline into every
 * copy loop where it is a no-op.
 */
export function kunmap_local_indexed(vaddr: number): void {
  const addr = vaddr - (vaddr % 4096);
  if (addr < __fix_to_virt(FIX_KMAP_END) || addr > __fix_to_virt(FIX_KMAP_BEGIN)) {
    WARN(addr < PAGE_OFFSET, 'kunmap_local: %px is neither a kmap slot nor a direct-map address', addr);
    return;
  }
  const p = current();
  const c = kmap_ctrl(p);
  const idx = c.idx - 1;
  if (idx < 0) BUG('kunmap_local(%px) with no kmap_local mapping live in %s', addr, p.comm);
  const top = kmap_local_slot_addr(idx);
  if (addr !== top)
    BUG('kunmap_local(%px) out of order: the innermost mapping is %px (kmap_local is strictly LIFO)', addr, top);
  pte_clear(highmem_state.kmap_ptep[kmap_local_calc_idx(idx)]);
  this_cpu().charge_index(K_PTE_UPDATE);
  flush_tlb_one_kernel(addr); // arch_kmap_local_post_unmap
  c.pteval[idx] = null;
  kmap_local_idx_pop(c);
  migrate_enable();
}

/**
 * zero_user_segments() / folio_zero_segments(): zero [start1, end1) and
 * [start2, end2) of a (large) folio, one page at a time through
 * kmap_local_page() and rep stosb, as highmem.h does.
 */
export function folio_zero_segments(folio: { readonly page: number; readonly order: number }, start1: number, end1: number,
  start2: number, end2: number): void {
  const hook = highmem_state.zero_segments_hook;
  if (hook !== null && hook(folio, start1, end1, start2, end2)) return;
  __folio_zero_segments(folio, start1, end1, start2, end2);
}

/** folio_zero_segments() through kmap_local_page() (the physmap on x86-64), whatever the hook. */
export function __folio_zero_segments(folio: { readonly page: number; readonly order: number }, start1: number, end1: number,
  start2: number, end2: number): void {
  const size = 4096 << folio.order;
  if (end1 > size || end2 > size) BUG('folio_zero_segments: range beyond the folio');
  const nr = 1 << folio.order;
  for (let i = 0; i < nr; i++) {
    const base = i * 4096;
    let s1 = 0, e1 = 0, s2 = 0, e2 = 0;
    if (start1 < base + 4096 && end1 > base) {
      s1 = Math.max(start1, base) - base;
      e1 = Math.min(end1, base + 4096) - base;
    }
    if (start2 < base + 4096 && end2 > base) {
      s2 = Math.max(start2, base) - base;
      e2 = Math.min(end2, base + 4096) - base;
    }
    if (e1 <= s1 && e2 <= s2) continue;
    const kaddr = kmap_local_page(folio.page + i);
    const cpu = this_cpu();
    if (e1 > s1) cpu.fill(kaddr + s1, 0, e1 - s1);
    if (e2 > s2) cpu.fill(kaddr + s2, 0, e2 - s2);
    kunmap_local(kaddr);
  }
}

/** folio_zero_range(): zero `len` bytes at `start`. */
export function folio_zero_range(folio: { readonly page: number; readonly order: number }, start: number, len: number): void {
  folio_zero_segments(folio, start, start + len, 0, 0);
}

/** __kmap_local_sched_out(): clear the outgoing task's live slots on this CPU. */
function kmap_local_sched_out(prev: TaskStruct): void {
  const c = prev.kmap_ctrl;
  if (!c || c.idx === 0) return;
  for (let i = 0; i < c.idx; i++) {
    if (WARN(c.pteval[i] === null, 'kmap_local: live slot %d of %s has no pteval', i, prev.comm)) continue;
    const fix = kmap_local_calc_idx(i);
    pte_clear(highmem_state.kmap_ptep[fix]);
    this_cpu().charge_index(K_PTE_UPDATE);
    flush_tlb_one_kernel(__fix_to_virt(FIX_KMAP_BEGIN + fix));
  }
}

/** __kmap_local_sched_in(): re-install the incoming task's slots. */
function kmap_local_sched_in(next: TaskStruct): void {
  const c = next.kmap_ctrl;
  if (!c || c.idx === 0) return;
  for (let i = 0; i < c.idx; i++) {
    const v = c.pteval[i];
    if (WARN(v === null, 'kmap_local: live slot %d of %s has no pteval', i, next.comm) || v === null) continue;
    set_pte(highmem_state.kmap_ptep[kmap_local_calc_idx(i)], v);
    this_cpu().charge_index(K_PTE_UPDATE);
  }
}

/*
 * Walk to the PTE of a fixmap address, allocating missing tables and
 * remembering which entries were populated so kmap_local_exit() can free
 * exactly those.
 */
function fixmap_pte_alloc(va: number): number {
  const mm = init_mm();
  const p4dp = p4d_offset(pgd_offset(mm, va), va);
  if (pgd_none(pgdp_get(p4dp))) BUG('fixmap: no PGD entry for %px', va);
  const pudp = pud_alloc(mm, p4dp, va);
  if (!pudp) BUG('fixmap: out of memory for page tables');
  if (pud_none(pudp_get(pudp))) highmem_state.created.push({ entryp: pudp, level: 'pud' });
  const pmdp = pmd_alloc(mm, pudp, va);
  if (!pmdp) BUG('fixmap: out of memory for page tables');
  if (pmd_none(pmdp_get(pmdp))) highmem_state.created.push({ entryp: pmdp, level: 'pmd' });
  const ptep = pte_alloc_kernel(pmdp, va);
  if (!ptep) BUG('fixmap: out of memory for page tables');
  return ptep;
}

/**
 * kmap_local_init() (no single Linux counterpart: the fixmap's tables are
 * static in head_64.S, and kmap_local_sched_out/in are called from
 * switch_to): with force_map, allocate the slot page tables of every CPU
 * and hook the context switch. Runs after sched_init() and the buddy
 * allocator are up.
 */
export function kmap_local_init(mode: KmapLocalMode): void {
  highmem_state.force_map = mode === 'force_map';
  highmem_state.kmap_prot = kernel_pgprot(PAGE_KERNEL);
  highmem_state.created = [];
  highmem_state.kmap_ptep = new Float64Array(0);
  if (highmem_state.force_map) kmap_local_init_slots();
}

/**
 * kmap_local_init_slots(): the slot page tables and the context-switch
 * hooks, for force_map or for a user that maps pages into the slots with
 * __kmap_local_pfn_prot() whatever the mode (ephmap=kmap). Idempotent.
 */
export function kmap_local_init_slots(): void {
  if (highmem_state.kmap_ptep.length) return;
  const nr = KM_MAX_IDX * nr_cpu_ids();
  highmem_state.kmap_ptep = new Float64Array(nr);
  for (let fix = 0; fix < nr; fix++) highmem_state.kmap_ptep[fix] = fixmap_pte_alloc(__fix_to_virt(FIX_KMAP_BEGIN + fix));
  register_sched_hooks({ sched_out: kmap_local_sched_out, sched_in: kmap_local_sched_in });
}

/**
 * kmap_local_exit() (no Linux counterpart: Linux never tears its fixmap
 * down): at shutdown, warn about slots still mapped, clear them, and free
 * the page tables kmap_local_init() allocated, innermost first.
 */
export function kmap_local_exit(): void {
  if (!highmem_state.kmap_ptep.length) return;
  const ptes = highmem_state.kmap_ptep;
  for (let fix = 0; fix < ptes.length; fix++) {
    if (WARN(!pte_none(ptep_get(ptes[fix])), 'kmap_local: slot %px still mapped at shutdown', __fix_to_virt(FIX_KMAP_BEGIN + fix)))
      pte_clear(ptes[fix]);
  }
  // Every PMD entry made here points to a PTE table holding only slots; same for a PUD entry.
  const created = highmem_state.created;
  const pmds = created.filter((e) => e.level === 'pmd');
  const puds = created.filter((e) => e.level === 'pud');
  for (const e of pmds) {
    const table = __va(pmd_pfn(pmdp_get(e.entryp)) * 4096);
    pmd_clear(e.entryp);
    pgtable_free_page(table);
  }
  for (const e of puds) {
    const table = __va(pud_pfn(pudp_get(e.entryp)) * 4096);
    // The PMD table may also hold entries this file did not make (none today): keep it then.
    let empty = true;
    for (let i = 0; i < 512 && empty; i++) if (!pmd_none(pmdp_get(table + i * 8))) empty = false;
    if (!empty) continue;
    pud_clear(e.entryp);
    pgtable_free_page(table);
  }
  highmem_state.created = [];
  highmem_state.kmap_ptep = new Float64Array(0);
  highmem_state.force_map = false;
}
