/*
 * arch/x86/hw/mmu.ts - the 4-level page walker and the permission check.
 *
 * Hardware, no Linux counterpart (Intel SDM vol. 3A, 4.5 and 4.6). The walk
 * reads 64-bit entries as two u32 halves from physical memory:
 *
 *   47..39 PGD | 38..30 PUD | 29..21 PMD | 20..12 PTE | 11..0 offset
 *
 * A PUD or PMD entry with PS (bit 7) is a 1 GiB or 2 MiB leaf; PS in a PGD
 * entry is reserved. A present entry with a reserved bit set (address bits
 * at or above MAXPHYADDR, the low bits of a large leaf's address) stops the
 * walk with X86_PF_RSVD. Permissions combine across levels: writable only
 * if every level has RW, user only if every level has U/S, no-execute if
 * any level has NX. Accessed bits are set on every entry of a successful
 * walk, the dirty bit on the leaf of a write, as the hardware does (with a
 * locked read-modify-write; here a plain store).
 */
import { type PhysMem, CHUNK_SIZE } from './physmem.ts';
import {
  _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_NX_HI, _PAGE_PRESENT, _PAGE_PSE, _PAGE_RW, _PAGE_USER,
  _PAGE_GLOBAL, PTE_RSVD_MASK_HI, PMD_LEAF_RSVD_LO, PUD_LEAF_RSVD_LO, PTE_PFN_MASK_HI,
} from '../include/asm/pgtable_types.ts';
import { X86_PF_PROT, X86_PF_RSVD, X86_PF_WRITE, X86_PF_USER, X86_PF_INSTR } from '../include/asm/trap_pf.ts';
import { TLB_DIRTY, TLB_GLOBAL, TLB_NX, TLB_RW, TLB_US, TLB_SIZE_1G, TLB_SIZE_2M, TLB_SIZE_4K } from './tlb.ts';

/*
 * Imported constants copied into module locals: module-namespace bindings
 * compile to getter calls under the TS loaders, and this is the hottest path.
 */
const P = _PAGE_PRESENT, RW = _PAGE_RW, US = _PAGE_USER, A = _PAGE_ACCESSED, D = _PAGE_DIRTY, PSE = _PAGE_PSE;
const G = _PAGE_GLOBAL, NX_HI = _PAGE_NX_HI, RSVD_HI = PTE_RSVD_MASK_HI, PMD_RSVD = PMD_LEAF_RSVD_LO;
const PUD_RSVD = PUD_LEAF_RSVD_LO, PFN_HI = PTE_PFN_MASK_HI;
const T_RW = TLB_RW, T_US = TLB_US, T_NX = TLB_NX, T_DIRTY = TLB_DIRTY, T_GLOBAL = TLB_GLOBAL;
const S_4K = TLB_SIZE_4K, S_2M = TLB_SIZE_2M, S_1G = TLB_SIZE_1G;
const PF_PROT = X86_PF_PROT, PF_RSVD = X86_PF_RSVD, PF_WRITE = X86_PF_WRITE, PF_USER = X86_PF_USER, PF_INSTR = X86_PF_INSTR;

export const ACC_READ = 0;
export const ACC_WRITE = 1;
export const ACC_EXEC = 2;
export type Access = 0 | 1 | 2;

const TWO20 = 1048576;
const CHUNK = CHUNK_SIZE, CHUNK_MASK = CHUNK_SIZE - 1;

/** The outcome of one walk; one instance per CPU, reused. */
export class WalkResult {
  /** 0 on success, else the #PF error code bits the walk itself found (P and RSVD). */
  err = 0;
  /** Not-present (err without PF_PROT) or reserved-bit fault. */
  faulted = false;
  /** Paging-structure reads made. */
  steps = 0;
  /** The page-table page each read was from, in walk order (steps of them): what the cache model prices. */
  readonly table_pfn = new Int32Array(4);
  /** First 4 KiB frame of the leaf page. */
  pfn = 0;
  shift = S_4K;
  /** Combined TLB_* flags. */
  flags = 0;
  /** Physical address of the leaf entry (to set D). */
  leaf_pa = 0;
  leaf_lo = 0;
  /** Level at which the walk ended: 4 PGD, 3 PUD, 2 PMD, 1 PTE. */
  level = 0;
}

/** The frame number in an entry, from its two halves (bits 51..12). */
export function entry_pfn(lo: number, hi: number): number {
  return (hi & PFN_HI) * TWO20 + (lo >>> 12);
}

/** The table index of `va` at `level` (4 PGD .. 1 PTE). */
export function level_index(va: number, level: number): number {
  switch (level) {
    case 1: return (va >>> 12) & 511;
    case 2: return (va >>> 21) & 511;
    case 3: return ((va / 1073741824) | 0) & 511;
    default: return ((va / 549755813888) | 0) & 511;
  }
}

/* Set the A bit of the entry at word `i` of chunk `w` (present entries live in allocated chunks). */
function set_accessed(w: Uint32Array | undefined, i: number): void {
  if (w === undefined) return;
  const v = w[i];
  if (!(v & A)) w[i] = (v | A) >>> 0;
}

/*
 * Walk `va` from the PGD at physical `pgd_pa`. Fills `r`; sets A bits only
 * when the walk reaches a leaf without a reserved-bit error. `pge` says
 * whether CR4.PGE makes the leaf's G bit count.
 *
 * Each level reads its entry's two halves from one RAM chunk, looked up
 * once, and remembers that chunk and word for setting the A bit: a walk
 * touches each table's chunk object once (they are cold on the host when
 * the walk is a TLB miss over a large working set).
 */
export function walk(mem: PhysMem, pgd_pa: number, va: number, pge: boolean, r: WalkResult): void {
  r.err = 0;
  r.faulted = false;
  r.steps = 0;
  const c32 = mem.c32;
  const size = mem.size;
  let table = pgd_pa;
  let rw = T_RW;
  let us = T_US;
  let nx = 0;
  // The entries the walk used so far (chunk and word index), to set A bits once it succeeds.
  let w4: Uint32Array | undefined, w3: Uint32Array | undefined, w2: Uint32Array | undefined, w1: Uint32Array | undefined;
  let i4 = 0, i3 = 0, i2 = 0, i1 = 0;
  let ea = 0, lo = 0, hi = 0;
  let level = 4;
  for (;;) {
    ea = table + level_index(va, level) * 8;
    if (!(ea >= 0 && ea + 8 <= size && (ea & 7) === 0)) { mem.read32(ea); mem.read32(ea + 4); } // the machine check
    const w = c32[(ea / CHUNK) | 0];
    const wi = (ea & CHUNK_MASK) >>> 2;
    if (w === undefined) {
      lo = 0; // untouched RAM reads as zeros: not present
      hi = 0;
    } else {
      lo = w[wi];
      hi = w[wi + 1];
    }
    r.table_pfn[r.steps++] = (table / 4096) | 0;
    if (!(lo & P)) {
      r.err = 0;
      r.faulted = true;
      r.level = level;
      return;
    }
    let rsvd = (hi & RSVD_HI) !== 0;
    const leaf = level === 1 || (level < 4 && (lo & PSE) !== 0);
    if (level === 4 && (lo & PSE)) rsvd = true;
    else if (leaf && level === 2 && (lo & PMD_RSVD)) rsvd = true;
    else if (leaf && level === 3 && (lo & PUD_RSVD)) rsvd = true;
    if (rsvd) {
      r.err = PF_PROT | PF_RSVD;
      r.faulted = true;
      r.level = level;
      return;
    }
    if (!(lo & RW)) rw = 0;
    if (!(lo & US)) us = 0;
    if (hi & NX_HI) nx = T_NX;
    if (level === 4) { w4 = w; i4 = wi; } else if (level === 3) { w3 = w; i3 = wi; }
    else if (level === 2) { w2 = w; i2 = wi; } else { w1 = w; i1 = wi; }
    if (leaf) break;
    table = entry_pfn(lo & 0xfffff000, hi) * 4096;
    level--;
  }
  /*
   * Success: set accessed bits top-down, as the walk used the entries.
   * Each is re-read, not taken from the walk: an entry used at two levels
   * (a self-referencing table) is then written once, as before.
   */
  set_accessed(w4, i4);
  set_accessed(w3, i3);
  set_accessed(w2, i2);
  set_accessed(w1, i1);
  const pfn = entry_pfn(lo, hi);
  r.level = level;
  r.leaf_pa = ea; // the walk stopped at the leaf's entry
  r.leaf_lo = (lo | A) >>> 0;
  if (level === 3) {
    r.shift = S_1G;
    r.pfn = pfn - (pfn % 262144); // bits 29..12 of a 1G leaf are PAT/reserved, already checked
  } else if (level === 2) {
    r.shift = S_2M;
    r.pfn = pfn - (pfn % 512); // bit 12 is PAT_LARGE, not address
  } else {
    r.shift = S_4K;
    r.pfn = pfn;
  }
  r.flags = rw | us | nx | (lo & D ? T_DIRTY : 0) | (pge && (lo & G) ? T_GLOBAL : 0);
}

/** Set the leaf's dirty bit after a successful write walk. */
export function set_dirty(mem: PhysMem, r: WalkResult): void {
  if (!(r.leaf_lo & D)) {
    r.leaf_lo = (r.leaf_lo | D) >>> 0;
    mem.write32(r.leaf_pa, r.leaf_lo);
    r.flags |= T_DIRTY;
  }
}

/*
 * Intel SDM 4.6: may an access of kind `acc` go through a translation with
 * combined `flags`? `user` is CPL 3; `wp`, `smep`, `smap` are CR0.WP,
 * CR4.SMEP, CR4.SMAP; `ac` is EFLAGS.AC. Returns 0 or the #PF error code
 * (with PF_PROT).
 */
export function access_error(flags: number, acc: Access, user: boolean, wp: boolean, smep: boolean,
  smap: boolean, ac: boolean): number {
  const ucode = user ? PF_USER : 0;
  const user_page = (flags & T_US) !== 0;
  if (acc === ACC_EXEC) {
    const bad = (flags & T_NX) !== 0 || (user ? !user_page : user_page && smep);
    return bad ? PF_PROT | PF_INSTR | ucode : 0;
  }
  const wcode = acc === ACC_WRITE ? PF_WRITE : 0;
  if (user) {
    if (!user_page) return PF_PROT | wcode | ucode;
    if (acc === ACC_WRITE && !(flags & T_RW)) return PF_PROT | wcode | ucode;
    return 0;
  }
  // Supervisor data access.
  if (user_page && smap && !ac) return PF_PROT | wcode;
  if (acc === ACC_WRITE && !(flags & T_RW) && wp) return PF_PROT | wcode;
  return 0;
}

/** Error code for a walk that stopped early: add the access kind and mode. */
export function walk_error(r: WalkResult, acc: Access, user: boolean, nx_enabled: boolean): number {
  let e = r.err;
  if (acc === ACC_WRITE) e |= PF_WRITE;
  if (acc === ACC_EXEC && nx_enabled) e |= PF_INSTR;
  if (user) e |= PF_USER;
  return e;
}
