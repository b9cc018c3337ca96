/*
 * tests/mm/vmalloc_ref.ts - a reference KVA allocator for property tests.
 *
 * No Linux counterpart: the simple model the augmented tree must agree
 * with. Free space is a sorted array of [start, end) ranges searched
 * linearly for the lowest fit (find_vmap_lowest_linear_match's rule);
 * lazily freed ranges wait in a list until purge() merges them back.
 *
 * One honest gap: with align > PAGE_SIZE (and a range longer than the size)
 * Linux searches with the adjusted length size + align - 1, so the tree may
 * pass over a lower block that fits only by luck of its alignment. Which
 * such block it passes over depends on the tree's shape, so the model
 * brackets the answer: the tree's block must lie between the lowest block
 * that fits at all and the lowest block of at least the adjusted length.
 * For align <= PAGE_SIZE the answer must be exactly the lowest fit.
 */
import {
  VMAP_ULONG_MAX,
} from '../../mm/vmap_area.ts';
import { ALIGN } from '../../arch/x86/include/asm/page_types.ts';
import { PAGE_SIZE } from '../../arch/x86/include/asm/page_types.ts';

export type Range = [number, number];

export interface Verdict {
  /** Index range of free blocks the tree may legally pick: [lo, hi]; lo = -1 if none fits at all. */
  lo: number;
  hi: number;
  exact: boolean;
  /** A block of the full (adjusted) search length fits: the search cannot come back empty. */
  full: boolean;
}

export class RefKva {
  free: Range[] = [[1, VMAP_ULONG_MAX]];
  lazy: Range[] = [];
  lazy_pages = 0;
  readonly busy = new Map<number, number>();

  static is_within(b: Range, size: number, align: number, vstart: number): boolean {
    const nva = ALIGN(Math.max(b[0], vstart), align);
    return nva >= vstart && nva + size <= b[1];
  }

  /** Which free blocks __alloc_vmap_area may choose for this request. */
  verdict(size: number, align: number, vstart: number, vend: number): Verdict {
    const adjust = !(align <= PAGE_SIZE || vend - vstart === size);
    const length = adjust ? size + align - 1 : size;
    let lo = -1;
    let hi = -1;
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i];
      if (!RefKva.is_within(b, size, align, vstart)) continue;
      if (lo < 0) lo = i;
      if (b[1] - b[0] >= length) {
        // The lowest block of the full search length that fits: the tree cannot pass it.
        hi = i;
        break;
      }
    }
    if (!adjust) return { lo, hi: lo, exact: true, full: lo >= 0 };
    return { lo, hi: hi < 0 ? this.free.length - 1 : hi, exact: false, full: hi >= 0 };
  }

  /**
   * May the search fail? Only if nothing fits, or (adjusted) nothing of the
   * full length fits, or a block it may pick lies past vend.
   */
  may_fail(v: Verdict, size: number, align: number, vstart: number, vend: number): boolean {
    if (v.lo < 0 || !v.full) return true;
    for (let i = v.lo; i <= v.hi; i++)
      if (RefKva.is_within(this.free[i], size, align, vstart) && this.addr_in(i, size, align, vstart, vend) === null) return true;
    return false;
  }

  /** The address the tree would carve from block i, or null if past vend. */
  addr_in(i: number, size: number, align: number, vstart: number, vend: number): number | null {
    const b = this.free[i];
    const nva = ALIGN(Math.max(b[0], vstart), align);
    return nva + size > vend ? null : nva;
  }

  /** Index of the free block containing [addr, addr + size), or -1. */
  block_of(addr: number, size: number): number {
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i];
      if (b[0] <= addr && addr + size <= b[1]) return i;
    }
    return -1;
  }

  /** Carve [addr, addr + size) out of free block i and record it busy. */
  carve(i: number, addr: number, size: number): void {
    const b = this.free[i];
    const parts: Range[] = [];
    if (b[0] < addr) parts.push([b[0], addr]);
    if (addr + size < b[1]) parts.push([addr + size, b[1]]);
    this.free.splice(i, 1, ...parts);
    this.busy.set(addr, addr + size);
  }

  private static insert_merge(list: Range[], r: Range): void {
    let i = 0;
    while (i < list.length && list[i][0] < r[0]) i++;
    list.splice(i, 0, [r[0], r[1]]);
    // Merge with the next, then the previous.
    if (i + 1 < list.length && list[i][1] === list[i + 1][0]) {
      list[i][1] = list[i + 1][1];
      list.splice(i + 1, 1);
    }
    if (i > 0 && list[i - 1][1] === list[i][0]) {
      list[i - 1][1] = list[i][1];
      list.splice(i, 1);
    }
  }

  /** free_vmap_area(): straight back to the free space. */
  free_now(addr: number): void {
    const end = this.busy.get(addr);
    if (end === undefined) throw new Error(`ref: free of unknown ${addr}`);
    this.busy.delete(addr);
    RefKva.insert_merge(this.free, [addr, end]);
  }

  /** free_vmap_area_noflush(): onto the lazy list. */
  free_lazy(addr: number): void {
    const end = this.busy.get(addr);
    if (end === undefined) throw new Error(`ref: free of unknown ${addr}`);
    this.busy.delete(addr);
    RefKva.insert_merge(this.lazy, [addr, end]);
    this.lazy_pages += (end - addr) / PAGE_SIZE;
  }

  purge(): void {
    for (const r of this.lazy) RefKva.insert_merge(this.free, r);
    this.lazy = [];
    this.lazy_pages = 0;
  }
}
