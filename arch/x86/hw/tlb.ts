/*
 * arch/x86/hw/tlb.ts - a per-CPU, PCID-tagged TLB with Intel's rules.
 *
 * Hardware, no Linux counterpart (Intel SDM vol. 3A, 4.10). Entries are
 * tagged with a PCID and a page size, carry the global bit and the
 * permissions combined over every level of the walk, and live in three
 * set-associative arrays (4 KiB, 2 MiB, 1 GiB). A not-present or faulting
 * walk is never cached. An entry whose PTE changed without an invalidation
 * stays in use: that stale translation is the hazard the kernel manages.
 *
 * Invalidation, each observable through probe()/live_entries():
 *  - flush_pcid(p): a MOV to CR3 without NOFLUSH drops PCID p's non-global
 *    entries (with PCIDE=0, p is 0);
 *  - invlpg(va, p): drops va's entries for PCID p and global entries for va;
 *  - flush_addr_pcid (INVPCID 0), flush_pcid (1), flush_all (2: globals
 *    too, also a CR4.PGE toggle), flush_nonglobal (3).
 * Whole-PCID and whole-TLB flushes bump a generation instead of clearing
 * arrays (DESIGN.md section 10): an entry is live only if it was inserted
 * after every flush that covers it.
 *
 * Capacity comes from the cost profile's part (costs.ts, cpu.tlb), which the
 * machine passes in; DEFAULT_TLB_CONFIG, a TLB built on its own, is the
 * default profile's Golden Cove (Sapphire Rapids) STLB [I]: 2048 entries for
 * 4 KiB pages, 1024 for 2 MiB, 32 for 1 GiB, 8-way. Replacement within a set:
 * LRU by default (Intel's is a pseudo-LRU), or FIFO (age = insertion order).
 *
 * In front of the STLB sits a direct-mapped cache of recent 4 KiB
 * translations, playing the L1 dTLB: a hit there does not refresh the STLB's
 * LRU state (as L1 hits don't on hardware), and any STLB invalidation or
 * replacement, or a PCID switch, empties it by bumping its generation. It is sized
 * for host speed (1024 granules), not modelled on a real L1; it changes
 * no translation, only which STLB way is least recently used. Paging-structure caches are
 * not modelled: every miss walks all levels and pays for each read by where its
 * page-table page is in the cache model (cache.ts).
 */

/* Entry flags: permissions combined across levels, plus leaf state. */
export const TLB_RW = 1;
export const TLB_US = 2;
export const TLB_NX = 4;
export const TLB_DIRTY = 8;
export const TLB_GLOBAL = 16;

export const TLB_SIZE_4K = 12;
export const TLB_SIZE_2M = 21;
export const TLB_SIZE_1G = 30;

export type TlbReplacement = 'lru' | 'fifo';

export interface TlbConfig {
  entries_4k: number;
  ways_4k: number;
  entries_2m: number;
  ways_2m: number;
  entries_1g: number;
  ways_1g: number;
  replacement: TlbReplacement;
}

export const DEFAULT_TLB_CONFIG: Readonly<TlbConfig> = {
  entries_4k: 2048,
  ways_4k: 8,
  entries_2m: 1024,
  ways_2m: 8,
  entries_1g: 32,
  ways_1g: 4,
  replacement: 'lru',
};

export const NR_PCIDS = 4096;
const TWO32 = 4294967296;

/** One live entry, for tests and the isolation checker (not for kernel code). */
export interface TlbEntryView {
  va: number; // first address the entry maps
  size_shift: number;
  pcid: number;
  pfn: number; // first 4 KiB frame of the mapped page
  flags: number;
}

interface SizeClass {
  shift: number;
  /** 2 ** shift, precomputed: `**` with a variable exponent is a Math.pow call. */
  size: number;
  setbits: number;
  sets: number;
  ways: number;
  base: number; // first slot
}

function log2(n: number): number {
  const b = Math.log2(n);
  if (!Number.isInteger(b)) throw new RangeError(`tlb: ${n} is not a power of two`);
  return b;
}

export class Tlb {
  readonly config: TlbConfig;
  private readonly cls: SizeClass[];
  /** Per slot: tag (-1 = empty), PCID, base pfn, TLB_* flags, insert generation, last use. */
  readonly tag: Int32Array;
  readonly pcid: Int32Array;
  readonly pfn: Int32Array;
  readonly flags: Int32Array;
  readonly ins: Float64Array;
  readonly used: Float64Array;
  private epoch = 0;
  private tick = 0;
  private all_flush = 0; // covers globals too
  private nonglobal_flush = 0;
  private readonly pcid_flush = new Float64Array(NR_PCIDS);
  evictions = 0;
  /*
   * The L1-style front cache, laid out for the CPU's hit path: u_ent[2i] is
   * the key, the page base VA plus, in its (otherwise zero) low 12 bits,
   * the generation times 16 and the CPU's access context (0..14, cpu.ts),
   * so one compare checks all three; u_ent[2i + 1] is the page base PA;
   * u_ent[U_GEN] is the generation times 16, 0..4080, bumped whenever a
   * cached translation may have gone (the cache is cleared when it wraps).
   */
  static readonly U_ENTRIES = 1024;
  static readonly U_GEN = 2 * Tlb.U_ENTRIES;
  readonly u_ent = new Float64Array(Tlb.U_GEN + 1).fill(-1);
  private readonly is_lru: boolean;

  /* 4K class unpacked for the hot path. */
  private readonly s4_mask: number;
  private readonly s4_bits: number;
  private readonly s4_ways: number;
  private readonly t4: number;
  /*
   * The 2M and 1G classes unpacked too: every lookup that misses the 4K
   * class (a direct-map access through a large page, a TLB miss) scans
   * both, and fields here save loading a class object and branching on
   * its size in tag_of()/set_of() for each.
   */
  private readonly s2_sets: number;
  private readonly s2_bits: number;
  private readonly s2_ways: number;
  private readonly s2_base: number;
  private readonly s1_sets: number;
  private readonly s1_bits: number;
  private readonly s1_ways: number;
  private readonly s1_base: number;

  constructor(config: Partial<TlbConfig> = {}) {
    this.config = { ...DEFAULT_TLB_CONFIG, ...config };
    const c = this.config;
    const mk = (shift: number, entries: number, ways: number, base: number): SizeClass => {
      if (entries <= 0 || ways <= 0 || entries % ways !== 0)
        throw new RangeError(`tlb: ${entries} entries cannot be ${ways}-way`);
      const sets = entries / ways;
      const setbits = log2(sets);
      if (shift === TLB_SIZE_4K && setbits < 5)
        throw new RangeError('tlb: the 4 KiB class needs at least 32 sets');
      return { shift, size: 2 ** shift, setbits, sets, ways, base };
    };
    const c4 = mk(TLB_SIZE_4K, c.entries_4k, c.ways_4k, 0);
    const c2 = mk(TLB_SIZE_2M, c.entries_2m, c.ways_2m, c.entries_4k);
    const c1 = mk(TLB_SIZE_1G, c.entries_1g, c.ways_1g, c.entries_4k + c.entries_2m);
    this.cls = [c4, c2, c1];
    const n = c.entries_4k + c.entries_2m + c.entries_1g;
    this.tag = new Int32Array(n).fill(-1);
    this.u_ent[Tlb.U_GEN] = 0;
    this.pcid = new Int32Array(n);
    this.pfn = new Int32Array(n);
    this.flags = new Int32Array(n);
    this.ins = new Float64Array(n);
    this.used = new Float64Array(n);
    this.is_lru = c.replacement === 'lru';
    this.s4_mask = c4.sets - 1;
    this.s4_bits = c4.setbits;
    this.s4_ways = c4.ways;
    this.t4 = 32 - TLB_SIZE_4K - c4.setbits;
    this.s2_sets = c2.sets;
    this.s2_bits = c2.setbits;
    this.s2_ways = c2.ways;
    this.s2_base = c2.base;
    this.s1_sets = c1.sets;
    this.s1_bits = c1.setbits;
    this.s1_ways = c1.ways;
    this.s1_base = c1.base;
  }

  get capacity(): number {
    return this.tag.length;
  }

  /*
   * Set and tag of `va` in a size class: the page number split into set
   * (low bits) and tag (the rest). A 4 KiB page number has 36 bits, so the
   * 4K class builds it from the address's two u32 halves; 2M and 1G page
   * numbers fit in 27 bits.
   */
  private set_of(k: SizeClass, va: number): number {
    if (k.shift === TLB_SIZE_4K) return ((va >>> 0) >>> TLB_SIZE_4K) & (k.sets - 1);
    return ((va / k.size) | 0) & (k.sets - 1);
  }
  private tag_of(k: SizeClass, va: number): number {
    if (k.shift === TLB_SIZE_4K)
      return (((va / TWO32) | 0) << this.t4) | (((va >>> 0) >>> TLB_SIZE_4K) >>> k.setbits);
    return ((va / k.size) | 0) >>> k.setbits;
  }

  private live(i: number, pcid: number): boolean {
    const g = this.ins[i];
    if (g < this.all_flush) return false;
    if (this.flags[i] & TLB_GLOBAL) return true;
    return this.pcid[i] === pcid && g >= this.nonglobal_flush && g >= this.pcid_flush[pcid];
  }

  /** Slot translating `va` under `pcid`, or -1. Updates LRU; counts nothing. */
  lookup(va: number, pcid: number): number {
    const i = this.find(va, pcid);
    if (i >= 0 && this.is_lru) this.used[i] = ++this.tick;
    return i;
  }

  /** As lookup(), without side effects. */
  find(va: number, pcid: number): number {
    const lo = va >>> 0;
    const hi = (va / TWO32) | 0;
    // 4 KiB first: by far the most entries.
    const p = lo >>> TLB_SIZE_4K;
    const t = (hi << this.t4) | (p >>> this.s4_bits);
    const b = (p & this.s4_mask) * this.s4_ways;
    const tag = this.tag;
    for (let i = b, e = b + this.s4_ways; i < e; i++) {
      if (tag[i] === t && this.live(i, pcid)) {
        return i;
      }
    }
    // 2 MiB and 1 GiB: page numbers of at most 27 bits (as tag_of()/set_of() compute them).
    const p2 = (va / 2097152) | 0;
    const t2 = p2 >>> this.s2_bits;
    const b2 = this.s2_base + (p2 & (this.s2_sets - 1)) * this.s2_ways;
    for (let i = b2, e = b2 + this.s2_ways; i < e; i++) {
      if (tag[i] === t2 && this.live(i, pcid)) return i;
    }
    const p1 = (va / 1073741824) | 0;
    const t1 = p1 >>> this.s1_bits;
    const b1 = this.s1_base + (p1 & (this.s1_sets - 1)) * this.s1_ways;
    for (let i = b1, e = b1 + this.s1_ways; i < e; i++) {
      if (tag[i] === t1 && this.live(i, pcid)) return i;
    }
    return -1;
  }

  /** Remember the 4 KiB granule of `va` -> `pa` in the front cache, for access context `ctx` (0..15). */
  ufill(va: number, pa: number, ctx: number): void {
    const i = (va >>> 12) & (Tlb.U_ENTRIES - 1);
    const off = va & 0xfff;
    const e = this.u_ent;
    e[2 * i] = va - off + e[Tlb.U_GEN] + ctx;
    e[2 * i + 1] = pa - off;
  }

  /** Forget every front-cache entry. */
  private ubump(): void {
    const e = this.u_ent;
    const g = (e[Tlb.U_GEN] + 16) & 0xfff;
    if (g === 0) e.fill(-1); // no key is negative, so -1 never matches
    e[Tlb.U_GEN] = g;
  }

  /** The CPU switched PCID: front-cache entries belong to the old one. */
  pcid_switched(): void {
    this.ubump();
  }

  /** Page-size shift of slot `i`. */
  shift_of(i: number): number {
    const c = this.config;
    return i < c.entries_4k ? TLB_SIZE_4K : i < c.entries_4k + c.entries_2m ? TLB_SIZE_2M : TLB_SIZE_1G;
  }

  /** Physical address of `va` through slot `i`. */
  pa_of(i: number, va: number): number {
    const s = this.shift_of(i);
    const off = s === TLB_SIZE_4K ? va & 0xfff : s === TLB_SIZE_2M ? va & 0x1fffff : va & 0x3fffffff;
    return this.pfn[i] * 4096 + off;
  }

  /**
   * Cache a translation. `pfn` is the first 4 KiB frame of the page; the
   * entry replaces any live one for the same page and PCID. Returns true if
   * a live entry of another page was evicted to make room (the CPU counts
   * it as tlb-evictions).
   */
  insert(va: number, pcid: number, shift: number, pfn: number, flags: number): boolean {
    const k = shift === TLB_SIZE_4K ? this.cls[0] : shift === TLB_SIZE_2M ? this.cls[1] : this.cls[2];
    const t = this.tag_of(k, va);
    const b = k.base + this.set_of(k, va) * k.ways;
    let victim = -1;
    let free = -1;
    let lru = -1;
    let best = Infinity;
    for (let i = b; i < b + k.ways; i++) {
      if (this.tag[i] === -1 || !this.live(i, this.pcid[i])) {
        if (free < 0) free = i;
        continue;
      }
      if (this.tag[i] === t && (this.pcid[i] === pcid || (this.flags[i] & TLB_GLOBAL))) {
        victim = i; // same page: refresh it (a re-walk to set D, say)
        break;
      }
      if (this.used[i] < best) { best = this.used[i]; lru = i; }
    }
    let evicted = false;
    if (victim < 0) {
      if (free >= 0) victim = free;
      else { victim = lru; this.evictions++; evicted = true; this.ubump(); }
    } else {
      this.ubump();
    }
    this.tag[victim] = t;
    this.pcid[victim] = pcid;
    this.pfn[victim] = pfn;
    this.flags[victim] = flags;
    this.ins[victim] = this.epoch;
    this.used[victim] = ++this.tick;
    return evicted;
  }

  /** Drop slot `i` (a #PF drops the faulting address's entry). */
  kill(i: number): void {
    this.tag[i] = -1;
    this.ubump();
  }

  /* Drop the entries mapping `va`: PCID `pcid`'s, and the global ones if `globals`. */
  private drop_va(va: number, pcid: number, globals: boolean): number {
    let n = 0;
    for (const k of this.cls) {
      const t = this.tag_of(k, va);
      const b = k.base + this.set_of(k, va) * k.ways;
      for (let i = b; i < b + k.ways; i++) {
        if (this.tag[i] !== t) continue;
        const g = (this.flags[i] & TLB_GLOBAL) !== 0;
        if (g ? globals : this.pcid[i] === pcid) {
          this.tag[i] = -1;
          this.ubump();
          n++;
        }
      }
    }
    return n;
  }

  /** INVLPG: `va` in the current PCID, and global entries for `va`. */
  invlpg(va: number, pcid: number): void {
    this.drop_va(va, pcid, true);
  }

  /** INVPCID type 0: `va` in `pcid`, global entries kept. */
  flush_addr_pcid(va: number, pcid: number): void {
    this.drop_va(va, pcid, false);
  }

  /** CR3 write without NOFLUSH, INVPCID type 1: one PCID, globals kept. */
  flush_pcid(pcid: number): void {
    this.pcid_flush[pcid] = ++this.epoch;
    this.ubump();
  }

  /** INVPCID type 2 and a CR4.PGE toggle: everything. */
  flush_all(): void {
    this.all_flush = ++this.epoch;
    this.ubump();
  }

  /** INVPCID type 3: every PCID, globals kept. */
  flush_nonglobal(): void {
    this.nonglobal_flush = ++this.epoch;
    this.ubump();
  }

  /** Test view: the live entry that would translate `va` under `pcid`, without touching LRU. */
  probe(va: number, pcid: number): TlbEntryView | null {
    const i = this.find(va, pcid);
    return i < 0 ? null : this.view(i);
  }

  private view(i: number): TlbEntryView {
    const s = this.shift_of(i);
    const k = this.cls[s === TLB_SIZE_4K ? 0 : s === TLB_SIZE_2M ? 1 : 2];
    const set = Math.floor((i - k.base) / k.ways);
    const pn = this.tag[i] * k.sets + set;
    return { va: pn * 2 ** s, size_shift: s, pcid: this.pcid[i], pfn: this.pfn[i], flags: this.flags[i] };
  }

  /**
   * Tool view (the isolation oracle): call `fn` for each live entry tagged
   * with PCID `a` or `b`, or global, without allocating a view per entry.
   */
  for_each_live_tagged(a: number, b: number,
    fn: (va: number, size_shift: number, pcid: number, pfn: number, flags: number) => void): void {
    for (let i = 0; i < this.tag.length; i++) {
      if (this.tag[i] === -1) continue;
      const p = this.pcid[i];
      if (p !== a && p !== b && !(this.flags[i] & TLB_GLOBAL)) continue;
      if (!this.live(i, p)) continue;
      const s = this.shift_of(i);
      const k = this.cls[s === TLB_SIZE_4K ? 0 : s === TLB_SIZE_2M ? 1 : 2];
      const set = ((i - k.base) / k.ways) | 0;
      fn((this.tag[i] * k.sets + set) * k.size, s, p, this.pfn[i], this.flags[i]);
    }
  }

  /** Test view: every live entry (any PCID). */
  live_entries(): TlbEntryView[] {
    const out: TlbEntryView[] = [];
    for (let i = 0; i < this.tag.length; i++)
      if (this.tag[i] !== -1 && this.live(i, this.pcid[i])) out.push(this.view(i));
    return out;
  }
}
