/*
 * tools/testing/asi_oracle.ts - the ASI isolation oracle: "nothing
 * sensitive is reachable from a restricted CPU right now".
 *
 * No Linux counterpart: no ASI kernel has such a checker (the branch has
 * warn_if_bad_asi_pf() and the series a bad_page() check per allocation).
 * It is a tool, so it may read what kernel code may not: the machine's
 * CR3 and TLB contents, and every task's files and page tables.
 *
 * While CPU c runs restricted (curr_asi[c] = a domain of mm M):
 *  - kernel half of the domain's PGD: every entry equals the template's
 *    (asi_nonsensitive_pgd), except the mm-local slot, which equals M's;
 *    the template's direct map maps exactly the nonsensitive pageblocks
 *    (asi_direct_map_violations(), the allocator's own checker). The
 *    other shared ranges (LDT, vmalloc to the top) are init_mm's tables,
 *    shared by design (the branch admits user data in vmalloc) and not
 *    walked;
 *  - the mm-local slot of M: every present PTE maps a nonsensitive frame,
 *    or a page-cache page of a file the current task has open;
 *  - user half: every PGD entry equals M's (so every frame reachable
 *    there is one M maps);
 *  - the TLB of CPU c: every entry tagged with the restricted PCID, or
 *    global, maps a nonsensitive frame, or (mm-local slot) a page-cache
 *    page the task may read, through a translation its PTE still backs
 *    (the ephmap flushes at every put; only the mermap leaves stale
 *    entries, by design, until its lazy flush); every user-half entry tagged with either of
 *    the loaded ASID's PCIDs (restricted or not) maps the frame M's page
 *    tables map at that address, so no translation of another mm survives
 *    into M (a recycled ASID that was not flushed). The unrestricted
 *    PCID's entries are looked at only when the CPU ran on that PCID
 *    since the last check, or transitions keep the TLB
 *    (tlb_asi.cr3_noflush): otherwise asi_exit()'s CR3 write flushes them
 *    before they can be used.
 * "Sensitive" is the pageblock's PB_nonsensitive bit clear
 * (get_pageblock_sensitive()), which the allocator keeps in step with
 * GFP_USER-style allocations; a violation is reported with the page's
 * owner (page cache of which inode, anonymous page of which process,
 * page table, free, kernel data), found by searching, only when reporting.
 *
 * Cost (incremental): per check, a compare of 512 PGD entries, the PTE
 * tables of the mm-local slot (its upper levels are cached per mm), the
 * template's direct map only when a pageblock changed sensitivity since
 * the last check, and one pass over the TLB's tag array; nothing else of
 * the kernel half is walked, and nothing is allocated per entry. About
 * 20 us of host time per check (mem=64M cpus=2 ephmap=percpu, 5000
 * checks in a row), some 20% on a syscall-heavy workload;
 * tools/testing/asi_oracle_cost.ts measures it. Tables are read
 * physically, so the simulated machine's cycles and events are the same
 * with the oracle on and off. asi_oracle_install() registers the check on
 * asi_oracle_hook (arch/x86/mm/asi.ts), which kernel code calls at every
 * asi_enter() (so after every syscall) and every re-entry after a nested
 * exception; it installs only under debug_vm unless forced.
 */
import type { Kernel } from '../../init/main.ts';
import { asi_state, asi_oracle_hook } from '../../arch/x86/mm/asi.ts';
import { asi_nonsensitive, asi_direct_map_violations } from '../../arch/x86/mm/asi_direct_map.ts';
import { tlb_state, tlb_asi, asi_pcid, kern_pcid } from '../../arch/x86/mm/tlb.ts';
import { HW_CR3_WRITE, HW_CR3_WRITE_NOFLUSH } from '../../arch/x86/hw/events.ts';
import { machine, smp_processor_id } from '../../kernel/smp.ts';
import { sched_state } from '../../kernel/sched/core.ts';
import type { TaskStruct } from '../../kernel/sched/task.ts';
import type { MmStruct } from '../../mm/mm_struct.ts';
import { get_pageblock_sensitive, pageblock_nr_pages } from '../../mm/mmzone.ts';
import { mem_map, compound_head, page_ref_count } from '../../mm/mm_types.ts';
import { PageReserved, PageTable, PageBuddy } from '../../mm/page_flags.ts';
import { vm_debug } from '../../mm/debug.ts';
import { sum_vm_event } from '../../mm/vmstat.ts';
import { ASI_PAGEBLOCK_TO_SENSITIVE, ASI_PAGEBLOCK_TO_NONSENSITIVE } from '../../mm/mmzone.ts';
import { xa_for_each } from '../../lib/xarray.ts';
import { folio_nr_pages } from '../../include/linux/pagemap.ts';
import { MM_LOCAL_EPHEMERAL_START, MM_LOCAL_EPHEMERAL_END, MERMAP_BASE_ADDR } from '../../include/linux/ephmap.ts';
import { __pa, __va } from '../../arch/x86/include/asm/page_64_types.ts';
import {
  PGDIR_SIZE, PUD_SIZE, PMD_SIZE, PGD_KERNEL_START, PTRS_PER_PGD, MM_LOCAL_PGD_ENTRY, MM_LOCAL_BASE_ADDR,
} from '../../arch/x86/include/asm/pgtable_64_types.ts';
import { _PAGE_PRESENT, _PAGE_PSE } from '../../arch/x86/include/asm/pgtable_types.ts';
import {
  ptep_get_lo, pgdp_get, pudp_get, pmdp_get, ptep_get, pte_pfn, pmd_pfn, pud_pfn,
  pgtable_state,
} from '../../arch/x86/mm/pgtable.ts';
import type { Asi } from '../../include/linux/asi.ts';
import { TLB_SIZE_4K, TLB_SIZE_2M, TLB_GLOBAL } from '../../arch/x86/hw/tlb.ts';

/** How a frame was reachable. */
export type AsiReach = 'page table' | 'stale TLB entry';

export interface AsiViolation {
  cpu: number;
  /** Virtual address (page base) through which the frame is reachable. */
  va: number;
  pfn: number;
  /** Who the frame belongs to (page cache of inode N, anonymous page of pid P, page table, ...). */
  owner: string;
  sensitive: boolean;
  via: AsiReach;
  /** The PCID of the TLB entry, for via = 'stale TLB entry' or a live one. */
  pcid?: number;
  /** What rule broke. */
  what: string;
}

export const asi_oracle = {
  /** Checks run (each of one CPU). */
  checks: 0,
  /** Violations found, in order (at most max_kept). */
  violations: [] as AsiViolation[],
  nr_violations: 0,
  max_kept: 100,
  /** TLB entries looked at, and of those, user-half ones of the unrestricted PCID. */
  tlb_entries: 0,
  tlb_kernel_pcid_user: 0,
  /** Per CPU: its CR3 writes at the last check (to tell whether the unrestricted PCID was live since). */
  last_cr3_writes: [] as number[],
  /** Throw on the first violation (stops the program at the faulty step) instead of collecting. */
  throw_on_violation: false,
};

/** Forget earlier results. */
export function asi_oracle_reset(): void {
  asi_oracle.checks = 0;
  asi_oracle.violations = [];
  asi_oracle.nr_violations = 0;
  asi_oracle.last_cr3_writes = [];
  asi_oracle.tlb_entries = 0;
  asi_oracle.tlb_kernel_pcid_user = 0;
  direct_map_seen = -1;
}

/**
 * Register the oracle on the running kernel's hook: it then checks the
 * entering CPU at every asi_enter() and nested re-entry. Only under
 * debug_vm unless `force`. Returns whether it was installed.
 */
export function asi_oracle_install(_k: Kernel, opts: { force?: boolean; throw_on_violation?: boolean } = {}): boolean {
  if (!asi_state.enabled || (!opts.force && !vm_debug.debug_vm)) return false;
  asi_oracle_reset();
  asi_oracle.throw_on_violation = opts.throw_on_violation ?? false;
  asi_oracle_hook.fn = asi_oracle_hook_fn;
  return true;
}

export function asi_oracle_uninstall(): void {
  asi_oracle_hook.fn = null;
}

function asi_oracle_hook_fn(): void {
  const v = asi_oracle_check_cpu(smp_processor_id());
  if (v.length && asi_oracle.throw_on_violation) throw new Error(`asi_oracle: ${format_asi_violation(v[0])}`);
}

/** On demand (tests): check every CPU that runs restricted. Returns the new violations. */
export function asi_oracle_check(): AsiViolation[] {
  const out: AsiViolation[] = [];
  for (let c = 0; c < asi_state.curr_asi.length; c++) out.push(...asi_oracle_check_cpu(c, true));
  return out;
}

export function format_asi_violation(v: AsiViolation): string {
  return `cpu ${v.cpu}: ${v.what}: va ${v.va.toString(16)} -> pfn ${v.pfn} (${v.sensitive ? 'sensitive' : 'nonsensitive'}, ${v.owner}) via ${v.via}${v.pcid !== undefined ? ` pcid ${v.pcid}` : ''}`;
}

/* ---- frames ---- */

function frame_sensitive(pfn: number, nr: number): boolean {
  if (pfn < 0 || pfn >= mem_map.max_pfn) return true; // not RAM: nothing may map it
  for (let p = pfn; p < pfn + nr && p < mem_map.max_pfn; p += pageblock_nr_pages) if (get_pageblock_sensitive(p)) return true;
  return false;
}

function task_on(cpu: number): TaskStruct | null {
  const rq = sched_state.rqs[cpu];
  return rq ? rq.curr : null;
}

/* The page-cache pfns of the files `t` has open (what its mm-local slot may map). */
function readable_pagecache(t: TaskStruct | null): Set<number> {
  const out = new Set<number>();
  if (!t || !t.files) return out;
  for (const f of t.files.fd) {
    if (!f || !f.f_mapping) continue;
    for (const [, folio] of xa_for_each(f.f_mapping.i_pages)) for (let i = 0; i < folio_nr_pages(folio); i++) out.add(folio.page + i);
  }
  return out;
}

/*
 * The leaf that maps `va` in the page tables at direct-map address `pgd`,
 * read physically: its first pfn times 4 plus its level (0: 4 KiB, 1:
 * 2 MiB, 2: 1 GiB), or -1 if nothing maps it. No allocation: it runs for
 * every user-half TLB entry.
 */
function leaf_of(pgd: number, va: number): number {
  const mem = machine().mem;
  let ep = __pa(pgd) + Math.floor(va / PGDIR_SIZE) % 512 * 8;
  let e = mem.read32(ep);
  if (!(e & _PAGE_PRESENT)) return -1;
  ep = entry_pfn(e, mem.read32(ep + 4)) * 4096 + Math.floor(va / PUD_SIZE) % 512 * 8;
  e = mem.read32(ep);
  if (!(e & _PAGE_PRESENT)) return -1;
  if (e & _PAGE_PSE) return (entry_pfn(e, mem.read32(ep + 4)) & ~1) * 4 + 2;
  ep = entry_pfn(e, mem.read32(ep + 4)) * 4096 + Math.floor(va / PMD_SIZE) % 512 * 8;
  e = mem.read32(ep);
  if (!(e & _PAGE_PRESENT)) return -1;
  if (e & _PAGE_PSE) return (entry_pfn(e, mem.read32(ep + 4)) & ~1) * 4 + 1;
  ep = entry_pfn(e, mem.read32(ep + 4)) * 4096 + Math.floor(va / 4096) % 512 * 8;
  e = mem.read32(ep);
  if (!(e & _PAGE_PRESENT)) return -1;
  return entry_pfn(e, mem.read32(ep + 4)) * 4;
}

/* Does `va`'s leaf in `pgd` map frame `pfn` with a page of the TLB entry's size? */
function maps_frame(pgd: number, va: number, pfn: number, shift: number): boolean {
  const l = leaf_of(pgd, va);
  return l >= 0 && Math.floor(l / 4) === pfn && (shift === TLB_SIZE_4K ? 0 : shift === TLB_SIZE_2M ? 1 : 2) === l % 4;
}

/**
 * Who owns frame `pfn` (report only: it searches every task's open files
 * and page tables).
 */
export function asi_frame_owner(pfn: number): string {
  if (pfn < 0 || pfn >= mem_map.max_pfn) return 'not RAM';
  const head = compound_head(pfn);
  if (PageReserved(head)) return 'reserved (boot memory)';
  if (PageTable(head)) return 'page table';
  if (PageBuddy(head) || page_ref_count(head) === 0) return 'free';
  for (const t of sched_state.tasks.values()) {
    if (!t.files) continue;
    for (let fd = 0; fd < t.files.fd.length; fd++) {
      const f = t.files.fd[fd];
      if (!f || !f.f_mapping) continue;
      for (const [index, folio] of xa_for_each(f.f_mapping.i_pages))
        if (pfn >= folio.page && pfn < folio.page + folio_nr_pages(folio))
          return `page cache of inode ${f.f_inode?.i_ino ?? '?'} index ${index + pfn - folio.page} (open as pid ${t.pid} fd ${fd})`;
    }
  }
  for (const t of sched_state.tasks.values()) {
    const mm = t.mm;
    if (!mm || !mm.pgd) continue;
    const va = find_user_va(mm, pfn);
    if (va >= 0) return `anonymous page of pid ${t.pid} (${t.comm}) at ${va.toString(16)}`;
  }
  return 'kernel data';
}

/* A user address at which `mm` maps `pfn` (4 KiB leaves and large ones), or -1. */
function find_user_va(mm: MmStruct, pfn: number): number {
  for (let i = 0; i < PGD_KERNEL_START; i++) {
    const g = pgdp_get(mm.pgd + i * 8);
    if (!(g.lo & _PAGE_PRESENT)) continue;
    const pud = __va(pte_pfn(g) * 4096);
    for (let j = 0; j < 512; j++) {
      const u = pudp_get(pud + j * 8);
      if (!(u.lo & _PAGE_PRESENT)) continue;
      const va1 = i * PGDIR_SIZE + j * PUD_SIZE;
      if (u.lo & _PAGE_PSE) {
        if (pfn >= pud_pfn(u) && pfn < pud_pfn(u) + PUD_SIZE / 4096) return va1;
        continue;
      }
      const pmd = __va(pud_pfn(u) * 4096);
      for (let k = 0; k < 512; k++) {
        const m = pmdp_get(pmd + k * 8);
        if (!(m.lo & _PAGE_PRESENT)) continue;
        const va2 = va1 + k * PMD_SIZE;
        if (m.lo & _PAGE_PSE) {
          if (pfn >= pmd_pfn(m) && pfn < pmd_pfn(m) + 512) return va2;
          continue;
        }
        const pte = __va(pmd_pfn(m) * 4096);
        for (let l = 0; l < 512; l++) {
          const lo = ptep_get_lo(pte + l * 8);
          if (lo & _PAGE_PRESENT && pte_pfn(ptep_get(pte + l * 8)) === pfn) return va2 + l * 4096;
        }
      }
    }
  }
  return -1;
}

/* ---- the check ---- */

/* The pfn of a table-pointer entry's low and high words (bits 12..51). */
function entry_pfn(l: number, h: number): number {
  return (h & 0xfffff) * 1048576 + (l >>> 12);
}

/* The template's direct map is re-checked only when a pageblock changed sensitivity since (or on demand). */
let direct_map_seen = -1;
function direct_map_changes(): number {
  return sum_vm_event(ASI_PAGEBLOCK_TO_SENSITIVE) + sum_vm_event(ASI_PAGEBLOCK_TO_NONSENSITIVE);
}

/**
 * Check CPU `cpu` now; nothing if it runs unrestricted. Records and
 * returns the violations found.
 */
export function asi_oracle_check_cpu(cpu: number, full = false): AsiViolation[] {
  const asi = asi_state.curr_asi[cpu];
  if (!asi || !asi_state.enabled) return [];
  /*
   * An observer, not a CPU: every table is read by physical address (the
   * page-table accessors' boot mode), so the check charges no cycles,
   * fills no TLB entry and cannot fault in the restricted address space.
   */
  const early = pgtable_state.early;
  pgtable_state.early = true;
  try {
    return check_cpu(cpu, asi, full);
  } finally {
    pgtable_state.early = early;
  }
}

function check_cpu(cpu: number, asi: Asi, full: boolean): AsiViolation[] {
  asi_oracle.checks++;
  const out: AsiViolation[] = [];
  const task = task_on(cpu);
  let pagecache: Set<number> | null = null;
  const may_read = (pfn: number): boolean => (pagecache ??= readable_pagecache(task)).has(pfn);
  const report = (va: number, pfn: number, via: AsiReach, what: string, pcid?: number, sensitive = frame_sensitive(pfn, 1)): void => {
    out.push({ cpu, va, pfn, owner: asi_frame_owner(pfn), sensitive, via, pcid, what });
  };
  const mm = asi.mm as MmStruct | null;
  const s = tlb_state.cpu_tlbstate[cpu];
  const hw = machine().cpus[cpu];
  if (!mm || !mm.pgd || s.loaded_mm !== mm) {
    report(0, 0, 'page table', 'restricted domain is not of the loaded mm');
    return record(out);
  }
  if (Math.floor(hw.read_cr3() / 4096) * 4096 !== __pa(asi.pgd))
    report(0, __pa(asi.pgd) / 4096, 'page table', 'CR3 does not point at the restricted PGD');

  // PGD: kernel half = the template's, mm-local slot and user half = the mm's.
  const mem = machine().mem;
  const dpa = __pa(asi.pgd), tpa = __pa(asi_nonsensitive.pgd), mpa = __pa(mm.pgd);
  for (let i = 0; i < PTRS_PER_PGD; i++) {
    const from = (i >= PGD_KERNEL_START && i !== MM_LOCAL_PGD_ENTRY ? tpa : mpa) + i * 8;
    const got = dpa + i * 8;
    const wl = mem.read32(from), gl = mem.read32(got);
    if (wl === gl && (!(gl & _PAGE_PRESENT) || mem.read32(from + 4) === mem.read32(got + 4))) continue;
    const va = i * PGDIR_SIZE;
    if (!(gl & _PAGE_PRESENT)) {
      if (i < PGD_KERNEL_START) report(va, entry_pfn(wl, mem.read32(from + 4)), 'page table', 'user PGD entry of the mm missing from the restricted PGD', undefined, false);
      continue;
    }
    report(va, entry_pfn(gl, mem.read32(got + 4)), 'page table', i < PGD_KERNEL_START || i === MM_LOCAL_PGD_ENTRY
      ? 'restricted PGD entry differs from the mm\'s (maps a table the mm does not)'
      : 'restricted PGD entry differs from asi_nonsensitive_pgd');
  }

  // The template's direct map against the pageblock flags, when they changed.
  const changes = direct_map_changes();
  if (changes !== direct_map_seen || full) {
    direct_map_seen = changes;
    for (const e of asi_direct_map_violations(10)) report(0, 0, 'page table', `asi_nonsensitive_pgd: ${e}`);
  }

  // The mm-local slot of the mm.
  walk_mm_local(mm, full, (va, pfn) => {
    if (!frame_sensitive(pfn, 1)) return;
    if (va >= MM_LOCAL_EPHEMERAL_START && va < MM_LOCAL_EPHEMERAL_END && may_read(pfn)) return;
    report(va, pfn, 'page table', 'mm-local slot maps a sensitive frame the task may not read');
  });

  /*
   * The TLB. The unrestricted PCID's entries count only if the CPU ran
   * on it since the last check (it wrote CR3) or the transitions keep
   * the TLB (tlb_asi.cr3_noflush): otherwise the next asi_exit() flushes
   * them before any use, and they are dead.
   */
  const asid = s.loaded_mm_asid;
  const rpcid = asi_pcid(asi.class_id, asid);
  const writes = hw.ev[HW_CR3_WRITE] + hw.ev[HW_CR3_WRITE_NOFLUSH];
  const kernel_live = tlb_asi.cr3_noflush || asi_oracle.last_cr3_writes[cpu] !== writes;
  asi_oracle.last_cr3_writes[cpu] = writes;
  const kpcid = kernel_live ? (tlb_state.pcid ? kern_pcid(asid) : 0) : rpcid;
  hw.tlb.for_each_live_tagged(rpcid, kpcid, (va, size_shift, pcid, pfn, flags) => {
    asi_oracle.tlb_entries++;
    if (pcid !== rpcid && va < 2 ** 47) asi_oracle.tlb_kernel_pcid_user++;
    check_tlb_entry(va, size_shift, pcid, pfn, flags, rpcid, mm, asi.pgd, may_read, report);
  });
  return record(out);
}

function check_tlb_entry(
  va: number, size_shift: number, pcid: number, pfn: number, flags: number, rpcid: number, mm: MmStruct, rpgd: number, may_read: (pfn: number) => boolean,
  report: (va: number, pfn: number, via: AsiReach, what: string, pcid?: number, sensitive?: boolean) => void,
): void {
  const nr = 2 ** (size_shift - 12);
  if (va < 2 ** 47) {
    // User half, either PCID of the ASID: the frame M maps there, or another mm's.
    if (maps_frame(mm.pgd, va, pfn, size_shift)) return;
    const l = leaf_of(mm.pgd, va);
    const now = l < 0 ? -1 : Math.floor(l / 4);
    report(va, pfn, 'stale TLB entry', now < 0
      ? 'user-half TLB entry for an address the mm does not map'
      : `user-half TLB entry maps a frame the mm does not map there (mm maps pfn ${now})`, pcid);
    return;
  }
  if (pcid !== rpcid && !(flags & TLB_GLOBAL)) return; // the unrestricted PCID's kernel half: not the oracle's
  if (!frame_sensitive(pfn, nr)) return;
  const live = maps_frame(rpgd, va, pfn, size_shift);
  if (va >= MM_LOCAL_EPHEMERAL_START && va < MM_LOCAL_EPHEMERAL_END && nr === 1 && may_read(pfn)) {
    // The ephmap flushes at every put: a translation its PTE no longer backs would serve the slot's next get.
    if (live || va >= MERMAP_BASE_ADDR) return; // the mermap's puts flush lazily, by design
    report(va, pfn, 'stale TLB entry', 'ephmap slot translation outlived its put (no flush)', pcid, true);
    return;
  }
  report(va, pfn, live ? 'page table' : 'stale TLB entry', 'restricted TLB entry maps a sensitive frame', pcid, true);
}

/*
 * The mm-local slot's shape per mm: its PGD entry, the PTE tables under it
 * and any larger leaves. The ephmap and mermap build the upper levels once
 * (ephmap_setup()) and then only write PTEs, so a check reads the cached
 * PTE tables; the upper levels are walked again when the PGD entry
 * changed, on every REWALK_EVERY-th check, and on demand.
 */
interface MmLocalShape {
  pgd_lo: number;
  pgd_hi: number;
  /** [va, pfn] of PUD and PMD leaves. */
  leaves: number[];
  /** [va, pa] of each PTE table. */
  tables: number[];
}
const mm_local_shapes = new WeakMap<MmStruct, MmLocalShape>();
const REWALK_EVERY = 64;

function mm_local_shape(mm: MmStruct, full: boolean): MmLocalShape | null {
  const mem = machine().mem;
  const gp = __pa(mm.pgd + MM_LOCAL_PGD_ENTRY * 8);
  const g = mem.read32(gp), gh = mem.read32(gp + 4);
  if (!(g & _PAGE_PRESENT)) return null;
  const cached = mm_local_shapes.get(mm);
  if (cached && !full && cached.pgd_lo === g && cached.pgd_hi === gh) return cached;
  const shape: MmLocalShape = { pgd_lo: g, pgd_hi: gh, leaves: [], tables: [] };
  const pud = entry_pfn(g, gh) * 4096;
  for (let j = 0; j < 512; j++) {
    const u = mem.read32(pud + j * 8);
    if (!(u & _PAGE_PRESENT)) continue;
    const va1 = MM_LOCAL_BASE_ADDR + j * PUD_SIZE;
    const upfn = entry_pfn(u, mem.read32(pud + j * 8 + 4));
    if (u & _PAGE_PSE) { shape.leaves.push(va1, upfn & ~1); continue; } // bit 12 of a large leaf is PAT
    for (let k = 0; k < 512; k++) {
      const m = mem.read32(upfn * 4096 + k * 8);
      if (!(m & _PAGE_PRESENT)) continue;
      const va2 = va1 + k * PMD_SIZE;
      const mpfn = entry_pfn(m, mem.read32(upfn * 4096 + k * 8 + 4));
      if (m & _PAGE_PSE) shape.leaves.push(va2, mpfn & ~1);
      else shape.tables.push(va2, mpfn * 4096);
    }
  }
  mm_local_shapes.set(mm, shape);
  return shape;
}

/* Every present leaf of mm's mm-local PGD slot. */
function walk_mm_local(mm: MmStruct, full: boolean, fn: (va: number, pfn: number) => void): void {
  const shape = mm_local_shape(mm, full || asi_oracle.checks % REWALK_EVERY === 0);
  if (!shape) return;
  const mem = machine().mem;
  for (let i = 0; i < shape.leaves.length; i += 2) fn(shape.leaves[i], shape.leaves[i + 1]);
  for (let i = 0; i < shape.tables.length; i += 2) {
    const va2 = shape.tables[i], pte = shape.tables[i + 1];
    for (let l = 0; l < 512; l++) {
      const t = mem.read32(pte + l * 8);
      if (t & _PAGE_PRESENT) fn(va2 + l * 4096, entry_pfn(t, mem.read32(pte + l * 8 + 4)));
    }
  }
}

function record(v: AsiViolation[]): AsiViolation[] {
  asi_oracle.nr_violations += v.length;
  for (const x of v) if (asi_oracle.violations.length < asi_oracle.max_kept) asi_oracle.violations.push(x);
  return v;
}
