/*
 * arch/x86/mm/pgtable.ts - page-table entries and the walk, as kernel code.
 *
 * Mirrors arch/x86/include/asm/pgtable.h, pgtable_64.h, pgalloc.h and the
 * generic include/linux/pgtable.h helpers. As in Linux, an entry pointer
 * (pte_t *, pmd_t *, ...) is the entry's kernel virtual address in the
 * direct map, and the kernel reads and writes entries through the MMU on
 * the current CPU (DESIGN.md section 2). Before the direct map is loaded
 * (early boot, where Linux runs on head_64.S's early mapping) entries are
 * reached by physical address instead; pgtable_state.early says which.
 *
 * An entry value is a Pteval { lo, hi }: the two u32 halves of the 64-bit
 * entry (NX is bit 31 of hi). pte_t, pmd_t, pud_t and pgd_t share it; the
 * level is the caller's knowledge, as in C.
 * Simplified: 4-level only (p4d folded into pgd), no split page-table locks.
 */
import { this_cpu, machine } from '../../../kernel/smp.ts';
import { BUG } from '../../../kernel/panic.ts';
import { __pa, __va } from '../include/asm/page_64_types.ts';
import {
  _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW, _PAGE_GLOBAL, _PAGE_NX_HI, _PAGE_PROTNONE, _PAGE_DIRTY, _PAGE_ACCESSED,
  Pgprot, PTE_PFN_MASK_HI, PMD_PFN_MASK_LO, PUD_PFN_MASK_LO,
} from '../include/asm/pgtable_types.ts';
import { pgd_index, pud_index, pmd_index, pte_index } from '../include/asm/pgtable_64_types.ts';

/** The value of one entry: its two 32-bit halves. */
export class Pteval {
  constructor(readonly lo: number, readonly hi: number) {}
}

export const __pte_none = new Pteval(0, 0);

export const pgtable_state = {
  /** True until the BSP runs on init_mm's page tables. */
  early: true,
};

/** At every boot, before the direct map exists: tables are reached by physical address. */
export function pgtable_early_init(): void {
  pgtable_state.early = true;
}

/** The BSP runs on init_mm's page tables: from here tables are reached through the direct map. */
export function pgtable_early_done(): void {
  pgtable_state.early = false;
}

/* ---- reading and writing entries ---- */

function rd(addr: number): number {
  if (pgtable_state.early) return machine().mem.read32(__pa(addr));
  const v = this_cpu().load32(addr);
  if (v < 0) BUG('page-table read at %px faulted', addr);
  return v;
}

function wr(addr: number, v: number): void {
  if (pgtable_state.early) {
    machine().mem.write32(__pa(addr), v >>> 0);
    return;
  }
  if (!this_cpu().store32(addr, v)) BUG('page-table write at %px faulted', addr);
}

/** ptep_get / pmdp_get / READ_ONCE(*pudp): read an entry. */
export function ptep_get(ptep: number): Pteval {
  return new Pteval(rd(ptep), rd(ptep + 4));
}
export const pmdp_get = ptep_get;
export const pudp_get = ptep_get;
export const pgdp_get = ptep_get;

/** Low half only: enough for present/leaf tests on hot paths. */
export function ptep_get_lo(ptep: number): number {
  return rd(ptep);
}

/*
 * set_pte: write the high half first when making an entry present and the
 * low half (which holds P) last, so a concurrent walker never sees a present
 * entry with half of its address; the reverse order when clearing.
 */
export function set_pte(ptep: number, v: Pteval): void {
  if (v.lo & _PAGE_PRESENT) {
    wr(ptep + 4, v.hi);
    wr(ptep, v.lo);
  } else {
    wr(ptep, v.lo);
    wr(ptep + 4, v.hi);
  }
}
export const set_pmd = set_pte;
export const set_pud = set_pte;
export const set_pgd = set_pte;

export function pte_clear(ptep: number): void {
  set_pte(ptep, __pte_none);
}
export const pmd_clear = pte_clear;
export const pud_clear = pte_clear;
export const pgd_clear = pte_clear;

/* ---- building and decoding values ---- */

const TWO32 = 4294967296;

/** pfn_pte(): a 4 KiB leaf for `pfn` with `prot`. */
export function pfn_pte(pfn: number, prot: Pgprot): Pteval {
  const pa = pfn * 4096;
  return new Pteval(((pa % TWO32) | prot.lo) >>> 0, (Math.floor(pa / TWO32) | prot.hi) >>> 0);
}

/** pfn_pmd()/pfn_pud(): a large leaf; `prot` must carry _PAGE_PSE. */
export const pfn_pmd = pfn_pte;
export const pfn_pud = pfn_pte;

/** A non-leaf entry pointing at the table in frame `pfn` (__pmd(__pa(pte) | _PAGE_TABLE)). */
export function mk_table_entry(pfn: number, flags: number): Pteval {
  return pfn_pte(pfn, new Pgprot(flags >>> 0, 0));
}

export function pte_none(v: Pteval): boolean {
  return v.lo === 0 && v.hi === 0;
}
export const pmd_none = pte_none;
export const pud_none = pte_none;
export const pgd_none = pte_none;

/** pte_present: P, or PROTNONE (a mapped-but-inaccessible user page). */
export function pte_present(v: Pteval): boolean {
  return (v.lo & (_PAGE_PRESENT | _PAGE_PROTNONE)) !== 0;
}
export function pmd_present(v: Pteval): boolean {
  return (v.lo & _PAGE_PRESENT) !== 0;
}
export const pud_present = pmd_present;
export const pgd_present = pmd_present;

/** pmd_leaf / pud_leaf: a present large page. */
export function pmd_leaf(v: Pteval): boolean {
  return (v.lo & (_PAGE_PRESENT | _PAGE_PSE)) === (_PAGE_PRESENT | _PAGE_PSE);
}
export const pud_leaf = pmd_leaf;

export function pte_pfn(v: Pteval): number {
  return (v.hi & PTE_PFN_MASK_HI) * 1048576 + (v.lo >>> 12);
}
/** pmd_pfn: a leaf's pfn masks bit 12 (PAT_LARGE); a table pointer's does not. */
export function pmd_pfn(v: Pteval): number {
  const lo = v.lo & _PAGE_PSE ? v.lo & PMD_PFN_MASK_LO : v.lo;
  return (v.hi & PTE_PFN_MASK_HI) * 1048576 + (lo >>> 12);
}
export function pud_pfn(v: Pteval): number {
  const lo = v.lo & _PAGE_PSE ? v.lo & PUD_PFN_MASK_LO : v.lo;
  return (v.hi & PTE_PFN_MASK_HI) * 1048576 + (lo >>> 12);
}
export const pgd_pfn = pte_pfn;

/** The flag bits of an entry as a pgprot (pte_pgprot). */
export function pte_pgprot(v: Pteval): Pgprot {
  return new Pgprot((v.lo & 0xfff) >>> 0, (v.hi & _PAGE_NX_HI) >>> 0);
}

/* ---- the walk: entry pointers are direct-map addresses ---- */

/** Anything with a PGD: init_mm or a process's mm (struct mm_struct's pgd). */
export interface HasPgd {
  /** Kernel virtual (direct-map) address of the PGD page. */
  pgd: number;
}

export function pgd_offset_pgd(pgd: number, addr: number): number {
  return pgd + pgd_index(addr) * 8;
}
export function pgd_offset(mm: HasPgd, addr: number): number {
  return pgd_offset_pgd(mm.pgd, addr);
}
/** With 4-level paging the p4d is folded: the pgd entry is the p4d entry. */
export function p4d_offset(pgdp: number, _addr: number): number {
  return pgdp;
}
export function pud_offset(p4dp: number, addr: number): number {
  return __va(pgd_pfn(pgdp_get(p4dp)) * 4096) + pud_index(addr) * 8;
}
export function pmd_offset(pudp: number, addr: number): number {
  return __va(pud_pfn(pudp_get(pudp)) * 4096) + pmd_index(addr) * 8;
}
export function pte_offset_kernel(pmdp: number, addr: number): number {
  return __va(pmd_pfn(pmdp_get(pmdp)) * 4096) + pte_index(addr) * 8;
}

/* Levels as set_memory.c names them. */
export const PG_LEVEL_NONE = 0;
export const PG_LEVEL_4K = 1;
export const PG_LEVEL_2M = 2;
export const PG_LEVEL_1G = 3;
export const PG_LEVEL_512G = 4;

export interface LookupResult {
  /** Pointer to the entry that maps `addr` (or the first empty one found). */
  ptep: number;
  level: number;
  /** True if that entry is present (a leaf at `level`). */
  present: boolean;
}

/**
 * lookup_address_in_pgd(): the entry mapping `addr` and its level. When a
 * level is empty, returns that entry with present=false (Linux returns
 * NULL for a missing table and the pte for a missing leaf).
 */
export function lookup_address_in_pgd(pgd: number, addr: number): LookupResult {
  const pgdp = pgd_offset_pgd(pgd, addr);
  if (!pgd_present(pgdp_get(pgdp))) return { ptep: pgdp, level: PG_LEVEL_512G, present: false };
  const pudp = pud_offset(p4d_offset(pgdp, addr), addr);
  const pud = pudp_get(pudp);
  if (!pud_present(pud) || pud_leaf(pud)) return { ptep: pudp, level: PG_LEVEL_1G, present: pud_present(pud) };
  const pmdp = pmd_offset(pudp, addr);
  const pmd = pmdp_get(pmdp);
  if (!pmd_present(pmd) || pmd_leaf(pmd)) return { ptep: pmdp, level: PG_LEVEL_2M, present: pmd_present(pmd) };
  const ptep = pte_offset_kernel(pmdp, addr);
  return { ptep, level: PG_LEVEL_4K, present: pte_present(ptep_get(ptep)) };
}
