/*
 * arch/x86/hw/cache.ts - where memory traffic is served from: a page-granular cache model.
 *
 * Hardware, no Linux counterpart. A copy, a fill and a page walk cost what
 * they cost because of where their data is: a 4 KiB copy from L2 takes ~31
 * ns, the same copy from DRAM ~660 ns (costs.md 6). The model remembers
 * which physical pages were touched recently, in two levels sized from the
 * profile's part (costs.ts CpuModel): a per-CPU L2 and an LLC shared by
 * every CPU of the machine. Each is set-associative with exact LRU within
 * a set, over 4 KiB pages instead of 64-byte lines: a page is resident or
 * not as a whole, which fits the page-sized copies that dominate traffic.
 * Set index: the pfn modulo the number of sets (physically contiguous pages
 * spread over consecutive sets, as lines of a page do on hardware).
 *
 * "Touched" means the physical page behind a translated address: both pages
 * of a copy, the page of a fill, each page-table page a walk reads. A touch
 * that misses L2 looks in the LLC and fills both (the LLC holds everything
 * that recently missed L2: an inclusive simplification of Sapphire Rapids'
 * and Skylake-SP's non-inclusive LLCs, which differs only for pages that stay
 * in one L2 longer than the LLC's reuse distance).
 *
 * Left out: coherence (a write on one CPU does not evict the page from
 * another CPU's L2), L1 (an L2 hit is the hot case the per-byte costs price),
 * hardware prefetch, and loads/stores of up to 8 bytes, which cost
 * mem_access and do not touch the model.
 *
 * Host cost: a hot page is found through a hint table in one compare;
 * otherwise one set scan (16 ways) per level looked at. No allocation.
 */

export const CACHE_L2 = 0;
export const CACHE_LLC = 1;
export const CACHE_DRAM = 2;
export type CacheLevelId = typeof CACHE_L2 | typeof CACHE_LLC | typeof CACHE_DRAM;

/** One level: `sets` x `ways` page slots, each a pfn tag and a last-use stamp. */
export class CacheLevel {
  readonly sets: number;
  readonly ways: number;
  /** Per slot: the pfn held, -1 if empty. */
  private readonly tag: Int32Array;
  /** Per slot: the tick of its last touch (0 for an empty slot, the first victim). */
  private readonly stamp: Float64Array;
  private tick = 0;
  /* sets - 1 when sets is a power of two (the set index is then a mask), else -1. */
  private readonly set_mask: number;
  /*
   * Where a pfn was last seen: hint[pfn & hint_mask] is a slot that held a
   * pfn with those low bits. If that slot holds `pfn` now, that is a hit
   * without a scan (a pfn lives in one set, so the match is exact); if not,
   * the set is scanned. Hot pages hit through it in one compare.
   */
  private readonly hint: Int32Array;
  private readonly hint_mask: number;
  /** Pages evicted to make room, for tests and statistics. */
  evictions = 0;

  constructor(kib: number, ways: number) {
    const pages = Math.floor(kib / 4);
    if (!Number.isInteger(ways) || ways < 1 || pages < ways)
      throw new RangeError(`cache: ${kib} KiB cannot be ${ways}-way over 4 KiB pages`);
    this.ways = ways;
    this.sets = Math.floor(pages / ways);
    this.tag = new Int32Array(this.sets * ways).fill(-1);
    this.stamp = new Float64Array(this.sets * ways);
    this.set_mask = (this.sets & (this.sets - 1)) === 0 ? this.sets - 1 : -1;
    let h = 1024;
    while (h < this.tag.length) h *= 2;
    this.hint = new Int32Array(h);
    this.hint_mask = h - 1;
  }

  /** Pages the level holds. */
  get capacity(): number {
    return this.tag.length;
  }

  /**
   * Touch `pfn`: true if it was resident (its use is refreshed); false if
   * not, and it has been brought in, replacing its set's least recently
   * used page.
   */
  touch(pfn: number): boolean {
    const p = pfn | 0; // an int32 modulo below, never a float one (a call into the runtime)
    const h = p & this.hint_mask;
    const j = this.hint[h];
    if (this.tag[j] === p) {
      this.stamp[j] = ++this.tick;
      return true;
    }
    return this.lookup(p, h);
  }

  /* touch() without a hint: scan the set, and bring `p` in on a miss. */
  private lookup(p: number, h: number): boolean {
    const m = this.set_mask;
    const b = (m >= 0 ? p & m : p % this.sets) * this.ways;
    const e = b + this.ways;
    const tag = this.tag;
    const stamp = this.stamp;
    for (let i = b; i < e; i++) {
      if (tag[i] === p) {
        stamp[i] = ++this.tick;
        this.hint[h] = i;
        return true;
      }
    }
    let victim = b;
    for (let i = b + 1; i < e; i++) if (stamp[i] < stamp[victim]) victim = i;
    if (tag[victim] !== -1) this.evictions++;
    tag[victim] = p;
    stamp[victim] = ++this.tick;
    this.hint[h] = victim;
    return false;
  }

  /** Test view: is `pfn` resident? No side effects. */
  holds(pfn: number): boolean {
    const b = (pfn % this.sets) * this.ways; // (a test view: the modulo's speed does not matter)
    for (let i = b; i < b + this.ways; i++) if (this.tag[i] === pfn) return true;
    return false;
  }
}

/** Where a touch of `pfn` is served from, through a CPU's `l2` and the shared `llc`; fills both. */
export function cache_touch(l2: CacheLevel, llc: CacheLevel, pfn: number): CacheLevelId {
  if (l2.touch(pfn)) return CACHE_L2;
  return llc.touch(pfn) ? CACHE_LLC : CACHE_DRAM;
}
