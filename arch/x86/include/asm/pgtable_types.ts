/*
 * arch/x86/include/asm/pgtable_types.ts - page-table entry bits and presets.
 *
 * Mirrors arch/x86/include/asm/pgtable_types.h. A PTE is 64 bits in
 * simulated memory, read and written as two u32 halves (DESIGN.md section 5):
 * bits 0..12 are flags in the low half, the PFN is bits 51..12, and NX is
 * bit 63, which is bit 31 of the high half. A JS number cannot hold bit 63
 * next to the low bits exactly, so a protection value (pgprot_t) is the pair
 * Pgprot { lo, hi }: `lo` holds bits 0..12, `hi` the high-half flags (NX).
 * Simplified: no protection keys, no memory encryption (sme_me_mask = 0),
 * MAXPHYADDR 46 as on Sapphire Rapids.
 */

export const _PAGE_BIT_PRESENT = 0;
export const _PAGE_BIT_RW = 1;
export const _PAGE_BIT_USER = 2;
export const _PAGE_BIT_PWT = 3;
export const _PAGE_BIT_PCD = 4;
export const _PAGE_BIT_ACCESSED = 5;
export const _PAGE_BIT_DIRTY = 6;
export const _PAGE_BIT_PSE = 7; // 2M or 1G leaf at PMD / PUD
export const _PAGE_BIT_PAT = 7; // on a 4K PTE
export const _PAGE_BIT_GLOBAL = 8;
export const _PAGE_BIT_SOFTW1 = 9;
export const _PAGE_BIT_SOFTW2 = 10;
export const _PAGE_BIT_SOFTW3 = 11;
export const _PAGE_BIT_PAT_LARGE = 12;
export const _PAGE_BIT_SPECIAL = _PAGE_BIT_SOFTW1;
export const _PAGE_BIT_PROTNONE = _PAGE_BIT_GLOBAL;
export const _PAGE_BIT_NX = 63;

/* Low-half flag masks. */
export const _PAGE_PRESENT = 1 << 0;
export const _PAGE_RW = 1 << 1;
export const _PAGE_USER = 1 << 2;
export const _PAGE_PWT = 1 << 3;
export const _PAGE_PCD = 1 << 4;
export const _PAGE_ACCESSED = 1 << 5;
export const _PAGE_DIRTY = 1 << 6;
export const _PAGE_PSE = 1 << 7;
export const _PAGE_PAT = 1 << 7;
export const _PAGE_GLOBAL = 1 << 8;
export const _PAGE_SOFTW1 = 1 << 9;
export const _PAGE_SOFTW2 = 1 << 10;
export const _PAGE_SOFTW3 = 1 << 11;
export const _PAGE_PAT_LARGE = 1 << 12;
export const _PAGE_SPECIAL = _PAGE_SOFTW1;
export const _PAGE_PROTNONE = _PAGE_GLOBAL;
/** _PAGE_KERNEL_4K: CPA's marker for a 4K kernel mapping split from a leaf. */
export const _PAGE_KERNEL_4K = _PAGE_SOFTW3;

/** NX (bit 63) as it appears in the high u32 half. */
export const _PAGE_NX_HI = 0x80000000;

/** Physical-address bits the CPU implements (CPUID.80000008H:EAX[7:0]). */
export const MAXPHYADDR = 46;
/** __PHYSICAL_MASK_SHIFT: the PFN field is bits 51..12 of an entry. */
export const __PHYSICAL_MASK_SHIFT = 52;

/*
 * PTE_PFN_MASK in the high half: bits 51..32 are bits 19..0 of the high u32.
 * Bits MAXPHYADDR..51 are reserved in a present entry: setting one is a
 * #PF with X86_PF_RSVD.
 */
export const PTE_PFN_MASK_HI = 0x000fffff;
export const PTE_PFN_MASK_LO = 0xfffff000;
/** Reserved address bits 51..46 in the high half of any present entry. */
export const PTE_RSVD_MASK_HI = 0x000fffff & ~((1 << (MAXPHYADDR - 32)) - 1);
/** A 2M leaf's PFN starts at bit 21 (bit 12 is PAT); bits 20..13 are reserved. */
export const PMD_LEAF_RSVD_LO = 0x001fe000;
/** A 1G leaf's PFN starts at bit 30; bits 29..13 are reserved. */
export const PUD_LEAF_RSVD_LO = 0x3fffe000;
/** PHYSICAL_PMD_PAGE_MASK / PHYSICAL_PUD_PAGE_MASK in the low half. */
export const PMD_PFN_MASK_LO = 0xffe00000;
export const PUD_PFN_MASK_LO = 0xc0000000;

/** pgprot_t: protection bits of an entry, as its two halves. */
export class Pgprot {
  constructor(readonly lo: number, readonly hi: number) {}
  toString(): string {
    return `pgprot(${this.hi ? 'NX|' : ''}0x${this.lo.toString(16)})`;
  }
}

export function __pgprot(lo: number, nx = false): Pgprot {
  return new Pgprot(lo >>> 0, nx ? _PAGE_NX_HI : 0);
}

const P = _PAGE_PRESENT;
const RW = _PAGE_RW;
const US = _PAGE_USER;
const A = _PAGE_ACCESSED;
const D = _PAGE_DIRTY;
const G = _PAGE_GLOBAL;

/* Non-leaf entries: RW must be set here for any PTE below to be writable. */
export const _PAGE_TABLE = P | RW | US | A | D;
export const _KERNPG_TABLE = P | RW | A | D;
export const _KERNPG_TABLE_NOENC = _KERNPG_TABLE;
export const _PAGE_TABLE_NOENC = _PAGE_TABLE;

export const __PAGE_KERNEL = __pgprot(P | RW | A | D | G, true);
export const __PAGE_KERNEL_EXEC = __pgprot(P | RW | A | D | G);
export const __PAGE_KERNEL_RO = __pgprot(P | A | G, true);
export const __PAGE_KERNEL_ROX = __pgprot(P | A | G);
export const __PAGE_KERNEL_NOCACHE = __pgprot(P | RW | A | D | G | _PAGE_PCD | _PAGE_PWT, true);
export const __PAGE_KERNEL_LARGE = __pgprot(P | RW | A | D | G | _PAGE_PSE, true);
export const __PAGE_KERNEL_LARGE_EXEC = __pgprot(P | RW | A | D | G | _PAGE_PSE);

export const PAGE_NONE = __pgprot(A | G);
export const PAGE_SHARED = __pgprot(P | RW | US | A, true);
export const PAGE_SHARED_EXEC = __pgprot(P | RW | US | A);
export const PAGE_COPY = __pgprot(P | US | A, true);
export const PAGE_READONLY = __pgprot(P | US | A, true);
export const PAGE_READONLY_EXEC = __pgprot(P | US | A);

export const PAGE_KERNEL = __PAGE_KERNEL;
export const PAGE_KERNEL_RO = __PAGE_KERNEL_RO;
export const PAGE_KERNEL_EXEC = __PAGE_KERNEL_EXEC;
export const PAGE_KERNEL_LARGE = __PAGE_KERNEL_LARGE;

/** pgprot without _PAGE_GLOBAL: PTI's __default_kernel_pte_mask does this. */
export function pgprot_nonglobal(p: Pgprot): Pgprot {
  return new Pgprot((p.lo & ~G) >>> 0, p.hi);
}

/** pgprot_large_2_4k / _4k_2_large: PAT moves between bit 7 and bit 12. */
export function pgprot_large_2_4k(p: Pgprot): Pgprot {
  let lo = p.lo & ~(_PAGE_PSE | _PAGE_PAT_LARGE);
  if (p.lo & _PAGE_PAT_LARGE) lo |= _PAGE_PAT;
  return new Pgprot(lo >>> 0, p.hi);
}
export function pgprot_4k_2_large(p: Pgprot): Pgprot {
  let lo = p.lo & ~_PAGE_PAT;
  if (p.lo & _PAGE_PAT) lo |= _PAGE_PAT_LARGE;
  return new Pgprot((lo | _PAGE_PSE) >>> 0, p.hi);
}

