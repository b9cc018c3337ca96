/*
 * tools/fio/axmap.ts - fio's random map: which blocks of a file were done.
 *
 * Mirrors fio's lib/axmap.c: a bitmap of the file's blocks with summary
 * levels above it, a bit at level l+1 set when the whole 32-bit word below
 * it is full, so the next free block after a busy one is found in a few
 * word scans instead of a walk over the file. fio keeps it so a random job
 * reads each block once per loop (norandommap=0, the default): a random
 * offset that lands on a done block moves to the next free one after it,
 * wrapping to the start (axmap_next_free()).
 * Simplified: 32-bit words (fio's are unsigned long).
 */
export class Axmap {
  /** levels[0] is the block bitmap; levels[l + 1] bit i: word i of levels[l] is full. */
  private readonly levels: Uint32Array[] = [];
  /** Blocks set so far. */
  nr_set = 0;

  constructor(readonly nr_bits: number) {
    let n = nr_bits;
    do {
      const words = Math.ceil(n / 32);
      this.levels.push(new Uint32Array(words));
      n = words;
    } while (n > 1);
    this.reset();
  }

  /** axmap_reset(): every block free (bits past the end stay set, so they never count as free). */
  reset(): void {
    let n = this.nr_bits;
    for (const lv of this.levels) {
      lv.fill(0);
      const full_words = Math.floor(n / 32);
      const rem = n % 32;
      if (rem) lv[full_words] = ~((1 << rem) - 1) >>> 0;
      n = lv.length;
    }
    this.nr_set = 0;
  }

  isset(bit: number): boolean {
    return (this.levels[0][bit >>> 5] & (1 << (bit & 31))) !== 0;
  }

  /** axmap_set(): mark a block done, and full words in the levels above. */
  set(bit: number): void {
    if (this.isset(bit)) return;
    this.nr_set++;
    let b = bit;
    for (const lv of this.levels) {
      const w = b >>> 5;
      lv[w] = (lv[w] | (1 << (b & 31))) >>> 0;
      if (lv[w] !== 0xffffffff) return;
      b = w;
    }
  }

  get full(): boolean {
    return this.nr_set >= this.nr_bits;
  }

  /** The first free block at or after `bit`, or -1. */
  private first_free_from(bit: number): number {
    // Climb while the rest of the current word at this level is full.
    let l = 0;
    let b = bit;
    for (;;) {
      if (l >= this.levels.length) return -1;
      const lv = this.levels[l];
      const w = b >>> 5;
      if (w >= lv.length) return -1;
      const free = ~lv[w] & ~((1 << (b & 31)) - 1);
      if (free !== 0) {
        b = (w << 5) + (31 - Math.clz32(free & -free));
        break;
      }
      // Nothing free in this word from b on: continue from the next word, one level up.
      b = w + 1;
      l++;
      if (l >= this.levels.length) return -1;
    }
    // Descend: at each level below, the first free bit of the word this bit stands for.
    while (l > 0) {
      l--;
      const lv = this.levels[l];
      const w = b;
      const free = ~lv[w];
      b = (w << 5) + (31 - Math.clz32(free & -free));
    }
    return b < this.nr_bits ? b : -1;
  }

  /** axmap_next_free(): the next free block after `bit` (which is set), wrapping; -1 when none is free. */
  next_free(bit: number): number {
    const r = this.first_free_from(bit + 1);
    if (r >= 0) return r;
    return this.first_free_from(0);
  }
}
