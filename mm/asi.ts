/*
 * mm/asi.ts - ASI domains: the restricted page tables of each mm.
 *
 * Mirrors the page-table half of arch/x86/mm/asi.c in the ASI branch
 * (asi.md 4.2 and 4.3; the code of enter and exit is arch/x86/mm/asi.ts):
 *  - asi_global_init() (a subsys_initcall there; start_kernel calls it once
 *    the mm and vmalloc are up): the template asi_nonsensitive_pgd shares
 *    init_mm's page tables for the LDT range and for vmalloc up to the top
 *    of the address space by copying PGD entries (asi_clone_range), so the
 *    tables below are shared and never need syncing (vmalloc's PUD pages
 *    are preallocated by vmalloc_init()). The template's direct map is
 *    arch/x86/mm/asi_direct_map.ts's: only nonsensitive memory is mapped;
 *  - asi_init(mm, class) / asi_destroy(asi): a refcounted domain per mm and
 *    class in mm->asi[]; the first asi_init() allocates its PGD and copies
 *    the kernel half from the template; a class that maps user addresses
 *    (USERSPACE) also copies the user half from mm->pgd, and the mm-local
 *    slot (MM_LOCAL_PGD_ENTRY, the ephmap's home) comes from the mm too;
 *  - asi_clone_user_pgtbl(mm, pgdp): whenever a user PGD entry of the mm
 *    changes, the same entry is written into each of its domains, so the
 *    user half shares every lower-level table with the mm;
 *  - asi_init_mm_state() (mm_init) makes the USERSPACE domain,
 *    asi_destroy_userspace() (__mmdrop) frees it: one PGD page, as cloned
 *    entries share the lower levels, which their owners free.
 *
 * What is simplified against the branch (DESIGN-level note):
 *  - the domain PGD is one page, not pgd_allocation_order()'s two (PTI,
 *    whose 8 KiB pair that order guards, is off whenever ASI is on);
 *  - no asi_init_lock or pgd_lock: tskernel runs one CPU at a time per
 *    host thread and a syscall runs to completion;
 *  - no KVM class and no ASI_CLASS_TEST; the USERSPACE class is the only
 *    one registered (asi_init_userspace_class());
 *  - the posted prototype exits on every context switch (kept here); the
 *    Google-internal version that stays restricted across switches within
 *    one mm is not modelled;
 *  - user data outside the direct map (vmalloc) is mapped in the template,
 *    as the branch admits of its own cloning.
 */
import type { MmStruct } from './mm_struct.ts';
import { init_mm } from './mm_struct.ts';
import { Asi, ASI_CLASS_USERSPACE, ASI_MAX_NUM_CLASSES } from '../include/linux/asi.ts';
import { ENOMEM, EINVAL } from '../include/uapi/asm-generic/errno.ts';
import { BUG, BUG_ON, WARN_ON_ONCE } from '../kernel/panic.ts';
import { smp_processor_id, nr_cpu_ids } from '../kernel/smp.ts';
import {
  asi_state, asi_class_initialized, asi_exit,
} from '../arch/x86/mm/asi.ts';
import { asi_nonsensitive } from '../arch/x86/mm/asi_direct_map.ts';
import { pgtable_alloc_page, pgtable_free_page } from '../arch/x86/mm/pgalloc.ts';
import { pgdp_get, set_pgd, ptep_get_lo } from '../arch/x86/mm/pgtable.ts';
import {
  pgd_index, LDT_BASE_ADDR, LDT_END_ADDR, VMALLOC_START, PGD_KERNEL_START, PTRS_PER_PGD, MM_LOCAL_PGD_ENTRY,
} from '../arch/x86/include/asm/pgtable_64_types.ts';
import { ASI_EXIT_MISC } from '../include/linux/asi.ts';
import { pr_debug_ns } from '../kernel/printk.ts';

const pr_debug = pr_debug_ns('mm:asi');

/**
 * Test-only seeded bug (a KUnit-style switch with no command-line
 * spelling, cleared at every boot): asi_clone_user_pgtbl() does nothing,
 * so the domains' user half drifts from mm->pgd.
 */
export const asi_test = {
  skip_clone_user_pgtbl: false,
};

/** asi_maps_user_addr(): only the USERSPACE class maps the process's own addresses. */
export function asi_maps_user_addr(class_id: number): boolean {
  return class_id === ASI_CLASS_USERSPACE;
}

/* Copy PGD entry `i` of `from` into `to` (set_pgd of the same value, clears included). */
function copy_pgd_entry(to: number, from: number, i: number): void {
  set_pgd(to + i * 8, pgdp_get(from + i * 8));
}

/**
 * asi_clone_range(): share init_mm's page tables for [start, end] with the
 * template by copying the PGD entries that cover it (cloning below the PGD
 * level is not supported, as in the branch).
 */
function asi_clone_range(start: number, end: number): void {
  const tmpl = asi_nonsensitive.pgd;
  for (let i = pgd_index(start); i <= pgd_index(end); i++) copy_pgd_entry(tmpl, init_mm().pgd, i);
}

/**
 * asi_global_init(): build the template's shared part. After vmalloc_init()
 * (whose PUD pages are preallocated) and kmap_local_init(), before the
 * first process.
 */
export function asi_global_init(): void {
  asi_test.skip_clone_user_pgtbl = false;
  if (!asi_state.enabled) return;
  if (!asi_nonsensitive.pgd) BUG('asi_global_init: no asi_nonsensitive_pgd');
  asi_clone_range(LDT_BASE_ADDR, LDT_END_ADDR - 1);
  asi_clone_range(VMALLOC_START, 2 ** 48 - 1);
  pr_debug('asi_global_init: LDT and vmalloc..top shared into asi_nonsensitive_pgd %s', asi_nonsensitive.pgd.toString(16));
}

/* __asi_init_user_pgds(): the user half and the mm-local slot, from mm->pgd. */
function __asi_init_user_pgds(mm: MmStruct, asi: Asi): void {
  for (let i = 0; i < PGD_KERNEL_START; i++) if (ptep_get_lo(mm.pgd + i * 8)) copy_pgd_entry(asi.pgd, mm.pgd, i);
  copy_pgd_entry(asi.pgd, mm.pgd, MM_LOCAL_PGD_ENTRY);
}

/**
 * asi_init(mm, class_id): take a reference on the mm's domain of that
 * class, making it on first use. Returns the domain, or -errno: -EINVAL
 * for a class nobody registered, -ENOMEM without a page for its PGD.
 */
export function asi_init(mm: MmStruct, class_id: number): Asi | number {
  if (!asi_state.enabled) return -EINVAL;
  if (class_id < 0 || class_id >= ASI_MAX_NUM_CLASSES || !asi_class_initialized(class_id)) return -EINVAL;
  let asi = mm.asi[class_id];
  if (!asi) {
    asi = new Asi();
    mm.asi[class_id] = asi;
  }
  if (asi.ref_count === 0) {
    const pgd = pgtable_alloc_page();
    if (!pgd) return -ENOMEM;
    asi.pgd = pgd;
    asi.mm = mm;
    asi.class_id = class_id;
    const tmpl = asi_nonsensitive.pgd;
    for (let i = PGD_KERNEL_START; i < PTRS_PER_PGD; i++) if (ptep_get_lo(tmpl + i * 8)) copy_pgd_entry(pgd, tmpl, i);
    if (asi_maps_user_addr(class_id)) __asi_init_user_pgds(mm, asi);
    if (pr_debug.enabled) pr_debug('asi_init: class %d domain pgd %s', class_id, pgd.toString(16));
  }
  asi.ref_count++;
  return asi;
}

/**
 * asi_destroy(asi): drop a reference; the last frees the PGD page (only
 * it: every entry in it shares a table someone else owns). No CPU may
 * still run in it: this one leaves first.
 */
export function asi_destroy(asi: Asi | null): void {
  if (!asi || WARN_ON_ONCE(asi.ref_count <= 0, 'asi_destroy: no reference')) return;
  if (--asi.ref_count > 0) return;
  const cpu = smp_processor_id();
  if (asi_state.curr_asi[cpu] === asi) asi_exit(ASI_EXIT_MISC);
  for (let c = 0; c < nr_cpu_ids(); c++)
    BUG_ON(asi_state.curr_asi[c] === asi, 'asi_destroy: CPU %d still runs in the domain', c);
  pgtable_free_page(asi.pgd);
  asi.pgd = 0;
  asi.mm = null;
}

/**
 * asi_clone_user_pgtbl(mm, pgdp): `pgdp`, an entry of mm->pgd's user half
 * or its mm-local slot, changed: write it into each domain of the mm that
 * maps user addresses.
 */
export function asi_clone_user_pgtbl(mm: MmStruct, pgdp: number): void {
  if (!asi_state.enabled || asi_test.skip_clone_user_pgtbl) return;
  const i = (pgdp - mm.pgd) / 8;
  if (i >= PGD_KERNEL_START && i !== MM_LOCAL_PGD_ENTRY) return;
  for (let c = 0; c < ASI_MAX_NUM_CLASSES; c++) {
    const asi = mm.asi[c];
    if (asi && asi.pgd && asi_maps_user_addr(c)) copy_pgd_entry(asi.pgd, mm.pgd, i);
  }
}

/** asi_init_mm_state(): mm_init()'s part: the USERSPACE domain, if the class is registered. 0 or -errno. */
export function asi_init_mm_state(mm: MmStruct): number {
  mm.asi.fill(null);
  if (!asi_state.enabled || !asi_class_initialized(ASI_CLASS_USERSPACE)) return 0;
  const r = asi_init(mm, ASI_CLASS_USERSPACE);
  return typeof r === 'number' ? r : 0;
}

/** asi_destroy_userspace(): __mmdrop()'s part. */
export function asi_destroy_userspace(mm: MmStruct): void {
  if (!asi_state.enabled) return;
  asi_destroy(mm.asi[ASI_CLASS_USERSPACE]);
}
