/*
 * mm/memory.ts - user page tables: faults, copy-on-write, zapping, protection changes.
 *
 * Mirrors mm/memory.c and mm/mprotect.c's change_pte_range:
 *  - handle_mm_fault() on a missing PTE: do_anonymous_page() maps the
 *    shared zero page read-only for a read and a zeroed page
 *    (vma_alloc_zeroed_movable_folio: GFP_HIGHUSER_MOVABLE | __GFP_ZERO,
 *    cleared by clear_page through the direct map on the faulting CPU, so
 *    under ASI the clear of a sensitive page exits at clear_page_erms) for
 *    a write; a file VMA goes to do_fault() (do_read_fault, do_cow_fault,
 *    do_shared_fault) through vma->vm_ops->fault;
 *  - a write to a present read-only PTE is do_wp_page(): a shared mapping
 *    just becomes writable (wp_page_shared); an anonymous page only this
 *    PTE holds is reused (wp_can_reuse_anon_folio: refcount 1, counted in
 *    pgreuse); anything else - a page shared with a fork, a page-cache
 *    page under MAP_PRIVATE, the zero page - is copied by wp_page_copy()
 *    into a new page (the zero page: a zeroed one), the old PTE cleared
 *    and flushed before the new one goes in (ptep_clear_flush);
 *  - the copy is copy_user_highpage() through the kernel's mappings: the
 *    ephmap= mapping when ephmap_wanted() (restricted under ASI), it can
 *    hold both pages at once and it flushes at put (not the mermap), else
 *    the direct map, where a sensitive page
 *    faults out of the restricted address space at the wp_page_copy site
 *    (the percpu ephmap has one slot per mm and CPU, so there CoW always
 *    exits, as asi.md 1.2 says of the prototype);
 *  - copy_page_range() at fork: every present PTE of a private mapping is
 *    write-protected in the parent and copied read-only into the child,
 *    the page gaining a reference and a mapcount (the parent's flush is
 *    dup_mmap's, once per fork);
 *  - zap_pte_range() drops the rmap and hands the page's reference to the
 *    mmu_gather (mm/mmu_gather.ts), dropped after the flush;
 *    unmap_mapping_range() zaps a file range in every VMA mapping it.
 * Under PTI every user PGD entry is mirrored into the user half of the PGD
 * pair (pti_set_user_pgtbl).
 * The rmap is the page's _mapcount (folio_add_new_anon_rmap,
 * folio_add_file_rmap_pte, folio_remove_rmap_pte) and one page reference
 * per mapping PTE; a page is anonymous when its VMA has no file or it is
 * not the page-cache page of its file offset (Linux tags folio->mapping
 * with PAGE_MAPPING_ANON instead).
 * Simplified: no THP, no swap, no page-table locks, no fault-around, no
 * userfaultfd, no KSM, no anon_vma (nothing walks the anonymous rmap).
 */
import type { MmStruct } from './mm_struct.ts';
import type { MmLayout, VmAreaStruct } from '../include/linux/mm_types.ts';
import {
  VM_WRITE, VM_EXEC, VM_READ, VM_SHARED, VM_MAYWRITE, VmFault, FAULT_FLAG_WRITE, VM_FAULT_OOM, VM_FAULT_SIGSEGV,
  VM_FAULT_NOPAGE,
} from '../include/linux/mm.ts';
import { alloc_pages, get_page, put_page } from './page_alloc.ts';
import { GFP_HIGHUSER_MOVABLE, __GFP_ZERO } from './gfp.ts';
import { vm_event_item, count_vm_event } from './vmstat.ts';
import {
  pgd_offset, p4d_offset, pud_offset, pmd_offset, pte_offset_kernel, ptep_get, set_pte, pte_clear, pfn_pte,
  pgdp_get, pudp_get, pmdp_get, pgd_present, pud_present, pmd_present, pte_present, pte_none, pte_pfn, Pteval,
  pgd_pfn, pud_pfn, pmd_pfn, set_pgd,
} from '../arch/x86/mm/pgtable.ts';
import { pud_alloc, pmd_alloc, pte_alloc_kernel } from '../arch/x86/mm/pgalloc.ts';
import { flush_tlb_mm_range } from '../arch/x86/mm/tlb.ts';
import { _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_NX_HI, _PAGE_PROTNONE, Pgprot } from '../arch/x86/include/asm/pgtable_types.ts';
import { __va } from '../arch/x86/include/asm/page_64_types.ts';
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';
import { PGDIR_SIZE, PUD_SIZE, PMD_SIZE } from '../arch/x86/include/asm/pgtable_64_types.ts';
import { this_cpu } from '../kernel/smp.ts';
import { pti_state } from '../arch/x86/mm/pti.ts';
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import { page_address, page_ref_count, page_mapcount_inc, page_mapcount_dec } from './mm_types.ts';
import { SetPageDirty } from './page_flags.ts';
import { is_zero_pfn, my_zero_pfn } from './zero_page.ts';
import {
  type MmuGather, tlb_gather_mmu, tlb_finish_mmu, tlb_remove_tlb_entry, __tlb_remove_page, __tlb_adjust_range,
  tlb_remove_table,
} from './mmu_gather.ts';
import { xa_load } from '../lib/xarray.ts';
import { folio_file_page, type AddressSpace } from '../include/linux/pagemap.ts';
import { ephmap_wanted, NR_EPHMAP_FALLBACK } from './ephmap.ts';
import { folio_map_ops } from './folio_map.ts';
import { migrate_disable, migrate_enable } from '../kernel/sched/core.ts';
import { trace_ephmap_fallback } from '../kernel/trace/events/ephmap.ts';
import { asi_clone_user_pgtbl } from './asi.ts';
import { ksym, kernel_ip_enter, kernel_ip_exit } from '../include/linux/instruction_pointer.ts';

/* Cost-key indices as module locals: an imported binding is a getter under the TS loaders. */
const K_PTE_UPDATE = COST_KEY_INDEX.pte_update, K_FAULT_WORK = COST_KEY_INDEX.fault_work;

/* The page-table walk of an unmap, as a #PF site (include/linux/instruction_pointer.ts). */
const SYM_ZAP_PTE_RANGE = ksym('zap_pte_range');
/* The CoW copy through the direct map (copy_user_highpage in wp_page_copy / do_cow_fault). */
const SYM_WP_PAGE_COPY = ksym('wp_page_copy');

export { MmuGather, tlb_finish_mmu } from './mmu_gather.ts';
export { VM_FAULT_OOM, VM_FAULT_SIGSEGV, VM_FAULT_SIGBUS, VM_FAULT_NOPAGE } from '../include/linux/mm.ts';
export const VM_FAULT_DONE = 0;

export const PGFAULT = vm_event_item('pgfault');
/** pgreuse: a write fault reused the page in place (wp_page_reuse). */
export const PGREUSE = vm_event_item('pgreuse');
/** No Linux counter: CoW faults that copied a page (wp_page_copy, do_cow_fault). */
export const NR_COW_COPY = vm_event_item('nr_cow_copy');
/** No Linux counter: write faults on the zero page, given a zeroed page of their own (wp_page_copy). */
export const NR_COW_ZERO = vm_event_item('nr_cow_zero');
/** No Linux counter: read faults on anonymous memory that mapped the zero page (do_anonymous_page). */
export const NR_ZERO_PAGE_MAP = vm_event_item('nr_zero_page_map');

/** vm_get_page_prot(): the PTE protection for vm_flags (x86 protection_map). */
export function vm_get_page_prot(vm_flags: number): Pgprot {
  if (!(vm_flags & (VM_READ | VM_WRITE | VM_EXEC))) return new Pgprot(_PAGE_PROTNONE | _PAGE_ACCESSED, 0);
  let lo = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
  if (vm_flags & VM_WRITE) lo |= _PAGE_RW;
  return new Pgprot(lo >>> 0, vm_flags & VM_EXEC ? 0 : _PAGE_NX_HI);
}

function layout_of(mm: MmStruct): MmLayout {
  return mm.layout as MmLayout;
}

/** pti_set_user_pgtbl(): mirror a user PGD entry into the user PGD of a PTI pair. */
function pti_sync_pgd(mm: MmStruct, pgdp: number): void {
  asi_clone_user_pgtbl(mm, pgdp);
  if (!pti_state.enabled) return;
  set_pgd(pgdp + 4096, pgdp_get(pgdp));
}

/** The PTE slot for addr, allocating tables; 0 on -ENOMEM. */
function user_pte_alloc(mm: MmStruct, addr: number): number {
  const pgdp = pgd_offset(mm, addr);
  const had = pgd_present(pgdp_get(pgdp));
  const pudp = pud_alloc(mm, p4d_offset(pgdp, addr), addr);
  if (!pudp) return 0;
  if (!had) {
    layout_of(mm).nr_ptes++;
    pti_sync_pgd(mm, pgdp);
  }
  const had_pmd = pud_present(pudp_get(pudp));
  const pmdp = pmd_alloc(mm, pudp, addr);
  if (!pmdp) return 0;
  if (!had_pmd) layout_of(mm).nr_ptes++;
  const had_pte = pmd_present(pmdp_get(pmdp));
  const ptep = pte_alloc_kernel(pmdp, addr);
  if (!ptep) return 0;
  if (!had_pte) layout_of(mm).nr_ptes++;
  return ptep;
}

/* ---- the rmap and the RSS counters ---- */

/** linear_page_index(): the file page `addr` maps in `vma`. */
export function linear_page_index(vma: VmAreaStruct, addr: number): number {
  return vma.vm_pgoff + Math.floor((addr - vma.vm_start) / PAGE_SIZE);
}

/**
 * Is `pfn`, mapped at `addr` in `vma`, an anonymous page (PageAnon)? In a
 * file VMA only the pages that are not the page-cache page of their file
 * offset are: private copies made by CoW.
 */
function vma_page_anon(vma: VmAreaStruct, addr: number, pfn: number): boolean {
  const file = vma.vm_file;
  if (!file || !file.f_mapping) return true;
  const index = linear_page_index(vma, addr);
  const folio = xa_load(file.f_mapping.i_pages, index);
  return !(folio && folio_file_page(folio, index) === pfn);
}

/** is_cow_mapping(): private and possibly writable: writes must copy. */
export function is_cow_mapping(vm_flags: number): boolean {
  return (vm_flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
}

/** folio_add_new_anon_rmap() / folio_add_file_rmap_pte(): one more PTE maps `page`. */
function page_add_rmap(l: MmLayout, page: number, anon: boolean): void {
  page_mapcount_inc(page);
  if (anon) l.anon_rss++;
  else l.file_rss++;
}

/** folio_remove_rmap_pte(): one PTE less maps `page`. */
function page_remove_rmap(l: MmLayout, page: number, anon: boolean): void {
  page_mapcount_dec(page);
  if (anon) l.anon_rss--;
  else l.file_rss--;
}

/**
 * The PTE for `pfn` in `vma`: vm_page_prot, with the write bit only where
 * the page may be written in place (a shared mapping, or `exclusive`: an
 * anonymous page only this PTE holds); a write fault also sets dirty
 * (maybe_mkwrite(pte_mkdirty())).
 */
function mk_pte(vma: VmAreaStruct, pfn: number, exclusive: boolean, dirty: boolean): Pteval {
  const writable = (vma.vm_flags & VM_SHARED) !== 0 || exclusive;
  const v = pfn_pte(pfn, vm_get_page_prot(writable ? vma.vm_flags : vma.vm_flags & ~VM_WRITE));
  return dirty && (v.lo & _PAGE_RW) ? new Pteval((v.lo | _PAGE_DIRTY) >>> 0, v.hi) : v;
}

/* ---- faults ---- */

/**
 * do_anonymous_page(): a read maps the zero page read-only; a write maps
 * a new zeroed page (the clear through the direct map is the cost, and
 * under ASI the exit, of a first touch).
 */
function do_anonymous_page(mm: MmStruct, vma: VmAreaStruct, ptep: number, addr: number, write: boolean): number {
  if (!write) {
    set_pte(ptep, pfn_pte(my_zero_pfn(addr), vm_get_page_prot(vma.vm_flags & ~VM_WRITE)));
    this_cpu().charge_one(K_PTE_UPDATE);
    count_vm_event(NR_ZERO_PAGE_MAP);
    return VM_FAULT_DONE;
  }
  const pfn = alloc_pages(GFP_HIGHUSER_MOVABLE | __GFP_ZERO, 0); // vma_alloc_zeroed_movable_folio()
  if (pfn === null) return VM_FAULT_OOM;
  page_add_rmap(layout_of(mm), pfn, true);
  set_pte(ptep, pfn_pte(pfn, vm_get_page_prot(vma.vm_flags)));
  this_cpu().charge_one(K_PTE_UPDATE);
  return VM_FAULT_DONE;
}

/*
 * copy_user_highpage(): copy page `from` to page `to` through kernel
 * mappings. When the page-cache copy would use the ephmap= mapping
 * (ephmap_wanted()), try to map both pages there (source first); if the
 * second get fails (the percpu ephmap has one slot per mm and CPU), put
 * the first back and copy through the direct map, counted as a fallback.
 */
function copy_user_highpage(to: number, from: number): void {
  const ops = ephmap_wanted() ? folio_map_ops() : null;
  // The mermap's put leaves its translation until a lazy flush, and this process loses logical
  // access to the source page at once (its PTE now points at the copy): no mm-wide flush covers
  // that, so the mermap is not used here.
  if (ops !== null && ops.name !== 'mermap') {
    migrate_disable();
    const src = ops.get(from, 1);
    const dst = src ? ops.get(to, 1) : 0;
    if (src && dst) {
      this_cpu().copy(dst, src, PAGE_SIZE);
      ops.put(dst, 1); // LIFO, as kmap_local wants
      ops.put(src, 1);
      migrate_enable();
      return;
    }
    if (src) ops.put(src, 1);
    count_vm_event(NR_EPHMAP_FALLBACK);
    if (trace_ephmap_fallback.enabled) trace_ephmap_fallback.emit({ variant: ops.name, pfn: src ? to : from, nr_pages: 1 });
    migrate_enable();
  }
  const ip = kernel_ip_enter(SYM_WP_PAGE_COPY);
  this_cpu().copy(page_address(to), page_address(from), PAGE_SIZE); // copy_page() over the physmap
  kernel_ip_exit(ip);
}

/** wp_can_reuse_anon_folio(): only this PTE holds the anonymous page, so it can be written in place. */
function wp_can_reuse_anon_folio(page: number): boolean {
  return page_ref_count(page) === 1;
}

/*
 * wp_page_copy(): the write fault on a page that must not be written in
 * place. A new page gets the old one's contents (the zero page: zeroed
 * instead); the old PTE is cleared and flushed on every CPU that may hold
 * it before the new one goes in (ptep_clear_flush), so no CPU keeps
 * reading the old page after this one writes the new; then the old page
 * loses this mapping and its reference.
 */
function wp_page_copy(mm: MmStruct, vma: VmAreaStruct, ptep: number, addr: number, old_pfn: number): number {
  const l = layout_of(mm);
  const zero = is_zero_pfn(old_pfn);
  const new_pfn = alloc_pages(zero ? GFP_HIGHUSER_MOVABLE | __GFP_ZERO : GFP_HIGHUSER_MOVABLE, 0);
  if (new_pfn === null) return VM_FAULT_OOM;
  if (zero) count_vm_event(NR_COW_ZERO);
  else {
    copy_user_highpage(new_pfn, old_pfn); // __wp_page_copy_user()
    count_vm_event(NR_COW_COPY);
  }
  const old_anon = !zero && vma_page_anon(vma, addr, old_pfn);
  pte_clear(ptep); // ptep_clear_flush()
  flush_tlb_mm_range(mm, addr, addr + PAGE_SIZE);
  page_add_rmap(l, new_pfn, true);
  set_pte(ptep, mk_pte(vma, new_pfn, true, true));
  this_cpu().charge_one(K_PTE_UPDATE);
  if (!zero) {
    page_remove_rmap(l, old_pfn, old_anon);
    put_page(old_pfn);
  }
  return VM_FAULT_DONE;
}

/**
 * do_wp_page(): a write to a present, read-only PTE of a writable VMA.
 * Shared mappings become writable (wp_page_shared), an exclusive anonymous
 * page is reused (wp_page_reuse), anything else is copied.
 */
function do_wp_page(mm: MmStruct, vma: VmAreaStruct, ptep: number, addr: number, pte: Pteval): number {
  const pfn = pte_pfn(pte);
  const reuse = (vma.vm_flags & VM_SHARED) !== 0 ||
    (!is_zero_pfn(pfn) && vma_page_anon(vma, addr, pfn) && wp_can_reuse_anon_folio(pfn));
  if (reuse) {
    // wp_page_reuse(): a permission upgrade; the faulting access dropped the stale entry.
    set_pte(ptep, new Pteval((pte.lo | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED) >>> 0, pte.hi));
    this_cpu().charge_one(K_PTE_UPDATE);
    if (vma.vm_flags & VM_SHARED) SetPageDirty(pfn);
    else count_vm_event(PGREUSE);
    return VM_FAULT_DONE;
  }
  return wp_page_copy(mm, vma, ptep, addr, pfn);
}

/*
 * do_fault(): a missing PTE in a file VMA. ->fault() finds the page-cache
 * page (with a reference, which the mapping keeps); a read maps it
 * (writable only in a shared mapping: do_read_fault), a private write
 * maps a copy (do_cow_fault), a shared write maps it writable and dirty
 * (do_shared_fault).
 */
function do_fault(mm: MmStruct, vma: VmAreaStruct, ptep: number, addr: number, write: boolean): number {
  const ops = vma.vm_ops;
  if (!ops) return VM_FAULT_SIGSEGV;
  const vmf = new VmFault(vma, addr, linear_page_index(vma, addr), write ? FAULT_FLAG_WRITE : 0);
  const ret = ops.fault(vmf);
  if (ret) return ret;
  const l = layout_of(mm);
  let page = vmf.page;
  const shared = (vma.vm_flags & VM_SHARED) !== 0;
  if (write && !shared) {
    // do_cow_fault(): the private copy, the page-cache page's reference dropped.
    const new_pfn = alloc_pages(GFP_HIGHUSER_MOVABLE, 0);
    if (new_pfn === null) {
      put_page(page);
      return VM_FAULT_OOM;
    }
    copy_user_highpage(new_pfn, page);
    count_vm_event(NR_COW_COPY);
    put_page(page);
    page = new_pfn;
    page_add_rmap(l, page, true);
    set_pte(ptep, mk_pte(vma, page, true, true));
  } else {
    page_add_rmap(l, page, false); // finish_fault()
    if (write) SetPageDirty(page);
    set_pte(ptep, mk_pte(vma, page, false, write));
  }
  this_cpu().charge_one(K_PTE_UPDATE);
  return VM_FAULT_DONE;
}

/**
 * handle_mm_fault(): resolve a fault at addr in vma. `write` says the
 * access was a write. Returns 0 or VM_FAULT_* bits.
 */
export function handle_mm_fault(mm: MmStruct, vma: VmAreaStruct, addr: number, write: boolean): number {
  count_vm_event(PGFAULT);
  this_cpu().charge_one(K_FAULT_WORK);
  const page = addr - (addr % 4096);
  const ptep = user_pte_alloc(mm, page);
  if (!ptep) return VM_FAULT_OOM;
  const pte = ptep_get(ptep);
  if (pte_none(pte)) {
    if (vma.vm_ops) return do_fault(mm, vma, ptep, page, write);
    return do_anonymous_page(mm, vma, ptep, page, write);
  }
  if (!(pte.lo & _PAGE_PRESENT)) return VM_FAULT_SIGSEGV; // PROT_NONE
  if (write && !(pte.lo & _PAGE_RW)) {
    if (!(vma.vm_flags & VM_WRITE)) return VM_FAULT_SIGSEGV;
    return do_wp_page(mm, vma, ptep, page, pte);
  }
  return VM_FAULT_NOPAGE; // already mapped: a stale or spurious fault, retry
}

/* ---- fork ---- */

/**
 * copy_page_range(): give the child `dst` the parent's present PTEs of
 * `src_vma`. In a CoW mapping both sides end up read-only (the parent's
 * PTE write-protected: the caller flushes the parent's TLB once, after
 * every VMA); each page gains a reference and a mapcount
 * (folio_try_dup_anon_rmap_pte / folio_dup_file_rmap_pte). A shared
 * mapping is left to fault in the child (vma_needs_copy() is false).
 * Returns the parent PTEs write-protected, or -1 on -ENOMEM.
 */
export function copy_page_range(dst_mm: MmStruct, dst_vma: VmAreaStruct, src_mm: MmStruct, src_vma: VmAreaStruct): number {
  if (src_vma.vm_flags & VM_SHARED) return 0;
  const cow = is_cow_mapping(src_vma.vm_flags);
  const dl = layout_of(dst_mm);
  let wrprotected = 0;
  let failed = false;
  walk_ptes(src_mm, src_vma.vm_start, src_vma.vm_end, (src_ptep, addr) => {
    if (failed) return;
    let pte = ptep_get(src_ptep);
    if (pte_none(pte)) return;
    const dst_ptep = user_pte_alloc(dst_mm, addr);
    if (!dst_ptep) {
      failed = true;
      return;
    }
    const pfn = pte_pfn(pte);
    if (cow && (pte.lo & _PAGE_RW)) {
      pte = new Pteval((pte.lo & ~_PAGE_RW) >>> 0, pte.hi); // ptep_set_wrprotect()
      set_pte(src_ptep, pte);
      this_cpu().charge_one(K_PTE_UPDATE);
      wrprotected++;
    }
    if (!is_zero_pfn(pfn)) {
      get_page(pfn);
      page_add_rmap(dl, pfn, vma_page_anon(src_vma, addr, pfn));
    }
    set_pte(dst_ptep, pte);
    this_cpu().charge_one(K_PTE_UPDATE);
  });
  return failed ? -1 : wrprotected;
}

/* ---- unmapping ---- */

/**
 * zap_pte_range(): clear the PTEs of `vma` in [start, end), each page's
 * rmap dropped and its reference handed to the gather. `even_cows` false
 * (unmap_mapping_range of a file range) keeps private anonymous copies.
 */
function zap_pte_range(tlb: MmuGather, vma: VmAreaStruct, start: number, end: number, even_cows: boolean): void {
  const mm = tlb.mm;
  const l = layout_of(mm);
  const ip = kernel_ip_enter(SYM_ZAP_PTE_RANGE);
  walk_ptes(mm, start, end, (ptep, addr) => {
    const v = ptep_get(ptep);
    if (pte_none(v)) return;
    const pfn = pte_pfn(v);
    if (is_zero_pfn(pfn)) {
      if (!even_cows) return;
    } else {
      const anon = vma_page_anon(vma, addr, pfn);
      if (anon && !even_cows) return;
      if (!anon && (v.lo & _PAGE_DIRTY)) SetPageDirty(pfn); // folio_mark_dirty() on a dirty file PTE
      page_remove_rmap(l, pfn, anon);
      __tlb_remove_page(tlb, pfn);
    }
    pte_clear(ptep);
    tlb_remove_tlb_entry(tlb, addr);
  });
  kernel_ip_exit(ip);
}

/**
 * unmap_vmas() for munmap and exit: zap every VMA's part of [start, end);
 * the whole range is flushed, whatever was mapped.
 */
export function unmap_vmas(tlb: MmuGather, vmas: readonly VmAreaStruct[], start: number, end: number): void {
  for (const vma of vmas) {
    const s = Math.max(start, vma.vm_start), e = Math.min(end, vma.vm_end);
    if (s < e) zap_pte_range(tlb, vma, s, e, true);
  }
  __tlb_adjust_range(tlb, start, end - start);
}

/**
 * unmap_mapping_range(): remove the user mappings of file bytes
 * [holebegin, holebegin + holelen) (holelen 0: to the end) from every VMA
 * that maps them, each mm with its own mmu_gather and flush;
 * `even_cows` also drops private CoW copies (truncation does, so an access
 * beyond the new EOF faults and gets SIGBUS).
 */
export function unmap_mapping_range(mapping: AddressSpace, holebegin: number, holelen: number, even_cows: boolean): void {
  const first = Math.floor(holebegin / PAGE_SIZE);
  const last = holelen ? first + Math.ceil(holelen / PAGE_SIZE) : Infinity; // exclusive, in pages
  unmap_mapping_pages(mapping, first, last, even_cows);
}

/** unmap_mapping_pages(): file pages [first, last) out of every VMA mapping them. */
export function unmap_mapping_pages(mapping: AddressSpace, first: number, last: number, even_cows: boolean): void {
  for (const vma of mapping.i_mmap) {
    const vstart = vma.vm_pgoff, vend = vma.vm_pgoff + (vma.vm_end - vma.vm_start) / PAGE_SIZE;
    const lo = Math.max(first, vstart), hi = Math.min(last, vend);
    if (lo >= hi || !vma.vm_mm) continue;
    const tlb = tlb_gather_mmu(vma.vm_mm); // unmap_mapping_range_vma() -> zap_page_range_single()
    zap_pte_range(tlb, vma, vma.vm_start + (lo - vstart) * PAGE_SIZE, vma.vm_start + (hi - vstart) * PAGE_SIZE, even_cows);
    tlb_finish_mmu(tlb);
  }
}

/** change_protection(): rewrite present PTEs of `vma` in [start, end) for vm_flags. Returns PTEs changed. */
export function change_protection(mm: MmStruct, vma: VmAreaStruct, start: number, end: number, vm_flags: number): number {
  let n = 0;
  walk_ptes(mm, start, end, (ptep, addr) => {
    const v = ptep_get(ptep);
    if (!pte_present(v)) return;
    const pfn = pte_pfn(v);
    // can_change_pte_writable(): only where a write needs no fault (shared, or an exclusive anonymous page).
    const writable = (vm_flags & VM_SHARED) !== 0 ||
      (!is_zero_pfn(pfn) && vma_page_anon(vma, addr, pfn) && wp_can_reuse_anon_folio(pfn));
    const keep = v.lo & (_PAGE_DIRTY | _PAGE_ACCESSED);
    const nv = pfn_pte(pfn, vm_get_page_prot(writable ? vm_flags : vm_flags & ~VM_WRITE));
    set_pte(ptep, new Pteval((nv.lo | keep) >>> 0, nv.hi));
    n++;
  });
  return n;
}

/* Visit each existing PTE slot in [start, end). */
function walk_ptes(mm: MmStruct, start: number, end: number, fn: (ptep: number, addr: number) => void): void {
  for (let a = start; a < end;) {
    const pgdp = pgd_offset(mm, a);
    if (!pgd_present(pgdp_get(pgdp))) { a = next_boundary(a, PGDIR_SIZE); continue; }
    const pudp = pud_offset(p4d_offset(pgdp, a), a);
    if (!pud_present(pudp_get(pudp))) { a = next_boundary(a, PUD_SIZE); continue; }
    const pmdp = pmd_offset(pudp, a);
    if (!pmd_present(pmdp_get(pmdp))) { a = next_boundary(a, PMD_SIZE); continue; }
    const stop = Math.min(end, next_boundary(a, PMD_SIZE));
    for (; a < stop; a += 4096) fn(pte_offset_kernel(pmdp, a), a);
  }
}

function next_boundary(a: number, size: number): number {
  return a - (a % size) + size;
}

function covered(l: MmLayout, lo: number, hi: number): boolean {
  for (const v of l.vmas) if (v.vm_start < hi && v.vm_end > lo) return true;
  return false;
}

/*
 * free_pgtables(): unhook the page tables under [start, end) whose whole
 * span no VMA uses any more, gathering them for tlb_finish_mmu(). Returns
 * true if any was (the flush must then reach lazy CPUs too).
 */
export function free_pgtables(tlb: MmuGather, start: number, end: number, l: MmLayout): boolean {
  const mm = tlb.mm;
  let freed = false;
  const free_table = (entryp: number, pfn: number): void => {
    pte_clear(entryp);
    tlb_remove_table(tlb, __va(pfn * 4096));
    l.nr_ptes--;
    freed = true;
  };
  const g0 = start - (start % PGDIR_SIZE);
  for (let g = g0; g < end && g < 2 ** 47; g += PGDIR_SIZE) {
    const pgdp = pgd_offset(mm, g);
    const pgd = pgdp_get(pgdp);
    if (!pgd_present(pgd)) continue;
    const pud_table = __va(pgd_pfn(pgd) * 4096);
    for (let i = 0; i < 512; i++) {
      const u = g + i * PUD_SIZE;
      if (u + PUD_SIZE <= start || u >= end) continue;
      const pudp = pud_table + i * 8;
      const pud = pudp_get(pudp);
      if (!pud_present(pud)) continue;
      const pmd_table = __va(pud_pfn(pud) * 4096);
      for (let j = 0; j < 512; j++) {
        const m = u + j * PMD_SIZE;
        if (m + PMD_SIZE <= start || m >= end) continue;
        const pmdp = pmd_table + j * 8;
        const pmd = pmdp_get(pmdp);
        if (!pmd_present(pmd) || covered(l, m, m + PMD_SIZE)) continue;
        free_table(pmdp, pmd_pfn(pmd));
      }
      if (!covered(l, u, u + PUD_SIZE) && table_empty(pmd_table)) free_table(pudp, pud_pfn(pud));
    }
    if (!covered(l, g, g + PGDIR_SIZE) && table_empty(pud_table)) {
      free_table(pgdp, pgd_pfn(pgd));
      if (pti_state.enabled) pte_clear(pgdp + 4096);
      asi_clone_user_pgtbl(mm, pgdp);
    }
  }
  return freed;
}

function table_empty(table: number): boolean {
  for (let i = 0; i < 512; i++) if (!pte_none(ptep_get(table + i * 8))) return false;
  return true;
}
