/*
 * arch/x86/hw/physmem.ts - physical RAM.
 *
 * Hardware, no Linux counterpart. RAM of a configured size is backed sparsely
 * by fixed 64 KiB chunks allocated on first write, so a mem=64G machine costs
 * the host only what is touched (plus three 8-byte slots per chunk: 24 MiB
 * for 64 GiB). Reading an untouched chunk yields zeros without allocating, as
 * DRAM that firmware cleared. An access beyond the end of RAM is a machine
 * check: tskernel stops with the reason instead of returning garbage.
 *
 * The chunk arrays are public to the rest of the machine (never to the
 * kernel): a CPU's front cache (cpu_access.ts) keeps the chunk behind each
 * cached translation so that a load on a TLB hit is one typed-array read,
 * and the page walker (mmu.ts) reads an entry's two halves from one chunk.
 */

export const CHUNK_SHIFT = 16;
export const CHUNK_SIZE = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SIZE - 1;
export const CHUNK_PAGES = CHUNK_SIZE / 4096;
/* Page views (page8/page32) are indexed in one array per GiB. */
const VIEW_REGION = 2 ** 30;
const REGION_PAGES = VIEW_REGION / 4096;
const REGION_PAGE_MASK = REGION_PAGES - 1;
/*
 * Copies up to this many bytes between chunks go byte by byte: a subarray
 * for TypedArray.set() is a host allocation that costs more than the loop
 * (copy_from_user of a struct, a path name, a partial user page).
 */
const SMALL_COPY = 64;
/** The largest RAM the machine supports: 64 GiB (a 36-bit physical space in use). */
export const MAX_RAM_BYTES = 64 * 2 ** 30;

/** A hardware error no handler can fix: bad physical address, bad machine setup. */
export class MachineCheck extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MachineCheck';
  }
}

export class PhysMem {
  readonly size: number;
  readonly nr_pages: number;
  /** chunk index -> bytes; undefined until first written. Machine-internal (see above). */
  readonly c8: (Uint8Array | undefined)[];
  readonly c32: (Uint32Array | undefined)[];
  /** Chunks allocated so far: host memory grows only with these. */
  chunks_allocated = 0;
  /*
   * Views of single 4 KiB pages, as bytes (page8) and as words (page32),
   * each made the first time it is asked for and kept: a whole-page copy's
   * source and destination (TypedArray.set() copies a whole array, so a
   * page copy between chunks needs one, and a fresh subarray per copy is a
   * host allocation costing a third of the copy itself), and the pages a
   * CPU's front cache keeps for its loads and stores (cpu_access.ts).
   * Indexed by pfn, in one array per GiB of RAM made on the first view in
   * that GiB (8 host bytes per page of a GiB touched, plus about 100 per
   * view, 2.5% of the page): a view is then one cold host cache line away
   * from its pfn, where the Map by chunk it replaced took three or four,
   * the cost of a copy's lookup when reads are spread over a large file.
   */
  private readonly pv8: ((Uint8Array | undefined)[] | undefined)[];
  private readonly pv32: ((Uint32Array | undefined)[] | undefined)[];

  constructor(size: number) {
    if (!Number.isInteger(size) || size <= 0 || size % CHUNK_SIZE !== 0)
      throw new MachineCheck(`physmem: size ${size} must be a positive multiple of ${CHUNK_SIZE}`);
    if (size > MAX_RAM_BYTES)
      throw new MachineCheck(`physmem: ${size} bytes exceeds the machine's maximum of 64 GiB`);
    this.size = size;
    this.nr_pages = size / 4096;
    const n = size / CHUNK_SIZE;
    this.c8 = new Array<Uint8Array | undefined>(n).fill(undefined);
    this.c32 = new Array<Uint32Array | undefined>(n).fill(undefined);
    const regions = Math.ceil(size / VIEW_REGION);
    this.pv8 = new Array<(Uint8Array | undefined)[] | undefined>(regions).fill(undefined);
    this.pv32 = new Array<(Uint32Array | undefined)[] | undefined>(regions).fill(undefined);
  }

  /** Host bytes backing RAM right now. */
  get host_bytes(): number {
    return this.chunks_allocated * CHUNK_SIZE;
  }

  private bad(pa: number, len: number): never {
    throw new MachineCheck(
      `physmem: access to physical 0x${pa.toString(16)}+${len} beyond RAM (0x${this.size.toString(16)})`);
  }

  /** Allocate chunk `ci` (it must not exist yet). Machine-internal: the CPUs' store paths. */
  alloc(ci: number): Uint32Array {
    const buf = new ArrayBuffer(CHUNK_SIZE);
    const w = new Uint32Array(buf);
    this.c8[ci] = new Uint8Array(buf);
    this.c32[ci] = w;
    this.chunks_allocated++;
    return w;
  }

  /** Aligned 32-bit read. `pa` must be 4-byte aligned (PTE halves, words). */
  read32(pa: number): number {
    if (pa < 0 || pa + 4 > this.size || (pa & 3) !== 0) this.bad(pa, 4);
    const w = this.c32[(pa / CHUNK_SIZE) | 0];
    return w === undefined ? 0 : w[(pa & CHUNK_MASK) >>> 2];
  }

  write32(pa: number, v: number): void {
    if (pa < 0 || pa + 4 > this.size || (pa & 3) !== 0) this.bad(pa, 4);
    const ci = (pa / CHUNK_SIZE) | 0;
    const w = this.c32[ci] ?? this.alloc(ci);
    w[(pa & CHUNK_MASK) >>> 2] = v;
  }

  read8(pa: number): number {
    if (pa < 0 || pa >= this.size) this.bad(pa, 1);
    const b = this.c8[(pa / CHUNK_SIZE) | 0];
    return b === undefined ? 0 : b[pa & CHUNK_MASK];
  }

  write8(pa: number, v: number): void {
    if (pa < 0 || pa >= this.size) this.bad(pa, 1);
    const ci = (pa / CHUNK_SIZE) | 0;
    if (this.c8[ci] === undefined) this.alloc(ci);
    (this.c8[ci] as Uint8Array)[pa & CHUNK_MASK] = v;
  }

  /** The chunk holding `pa` for writing, allocating it. */
  private wchunk(pa: number): Uint8Array {
    const ci = (pa / CHUNK_SIZE) | 0;
    if (this.c8[ci] === undefined) this.alloc(ci);
    return this.c8[ci] as Uint8Array;
  }

  /** Copy `len` bytes between physical ranges (memmove semantics). */
  copy(dst: number, src: number, len: number): void {
    /*
     * A whole page between two chunks: the hot case, kept small enough to
     * inline. Both chunks exist, so both pages lie in RAM (a chunk index
     * past the end reads as undefined); every other copy, and every bad
     * range, goes to copy_range(), which checks.
     */
    if (len === 4096 && src >= 0 && dst >= 0 && (src & 0xfff) === 0 && (dst & CHUNK_MASK) <= CHUNK_SIZE - 4096) {
      const sb = this.c8[(src / CHUNK_SIZE) | 0];
      const db = this.c8[(dst / CHUNK_SIZE) | 0];
      if (sb !== undefined && db !== undefined && db !== sb) {
        db.set(this.page8(src) as Uint8Array, dst & CHUNK_MASK); // src's chunk exists: it has a view
        return;
      }
    }
    this.copy_range(dst, src, len);
  }

  /** copy() of any range: chunk by chunk, memmove-safe. */
  private copy_range(dst: number, src: number, len: number): void {
    if (len <= 0) return;
    if (src < 0 || src + len > this.size) this.bad(src, len);
    if (dst < 0 || dst + len > this.size) this.bad(dst, len);
    if (dst > src && dst < src + len) {
      // overlapping forward copy: go through a temporary
      const tmp = new Uint8Array(len);
      this.read_into(src, tmp);
      this.write_from(dst, tmp);
      return;
    }
    while (len > 0) {
      const so = src & CHUNK_MASK;
      const d = dst & CHUNK_MASK;
      const n = Math.min(len, CHUNK_SIZE - so, CHUNK_SIZE - d);
      const sb = this.c8[(src / CHUNK_SIZE) | 0];
      if (sb === undefined) {
        const db = this.c8[(dst / CHUNK_SIZE) | 0];
        if (db !== undefined) db.fill(0, d, d + n); // zeros from untouched RAM
      } else {
        const db = this.wchunk(dst);
        if (db === sb) db.copyWithin(d, so, so + n);
        else if (n <= SMALL_COPY) for (let k = 0; k < n; k++) db[d + k] = sb[so + k];
        else if (n === 4096 && (so & 0xfff) === 0) db.set(this.page8(src) as Uint8Array, d);
        else db.set(sb.subarray(so, so + n), d); // an unaligned large copy: one view, rare
      }
      src += n;
      dst += n;
      len -= n;
    }
  }

  /*
   * The page holding `pa` as bytes, or undefined when its chunk is not
   * allocated or it lies beyond RAM. Machine-internal: a CPU's front cache
   * keeps it for the translation's life (cpu_access.ts u_b8), since a
   * chunk, once allocated, backs its pages for good.
   */
  page8(pa: number): Uint8Array | undefined {
    const views = this.pv8[(pa / VIEW_REGION) | 0];
    const v = views === undefined ? undefined : views[(pa >>> 12) & REGION_PAGE_MASK]; // bits 29..12 of pa
    return v !== undefined ? v : this.make_page8(pa);
  }

  /* Pages of RAM in view region `r`: a small machine's one region is no bigger than its RAM. */
  private region_pages(r: number): number {
    return Math.min(REGION_PAGES, this.nr_pages - r * REGION_PAGES);
  }

  private make_page8(pa: number): Uint8Array | undefined {
    if (!(pa >= 0 && pa < this.size)) return undefined;
    const b = this.c8[(pa / CHUNK_SIZE) | 0];
    if (b === undefined) return undefined;
    const o = pa & (CHUNK_MASK - 0xfff);
    const v = b.subarray(o, o + 4096);
    const r = (pa / VIEW_REGION) | 0;
    const views = this.pv8[r] ?? (this.pv8[r] = new Array<Uint8Array | undefined>(this.region_pages(r)).fill(undefined));
    views[(pa >>> 12) & REGION_PAGE_MASK] = v;
    return v;
  }

  /** page8() as 32-bit words. */
  page32(pa: number): Uint32Array | undefined {
    const views = this.pv32[(pa / VIEW_REGION) | 0];
    const v = views === undefined ? undefined : views[(pa >>> 12) & REGION_PAGE_MASK];
    return v !== undefined ? v : this.make_page32(pa);
  }

  private make_page32(pa: number): Uint32Array | undefined {
    if (!(pa >= 0 && pa < this.size)) return undefined;
    const w = this.c32[(pa / CHUNK_SIZE) | 0];
    if (w === undefined) return undefined;
    const o = (pa & (CHUNK_MASK - 0xfff)) >>> 2;
    const v = w.subarray(o, o + 1024);
    const r = (pa / VIEW_REGION) | 0;
    const views = this.pv32[r] ?? (this.pv32[r] = new Array<Uint32Array | undefined>(this.region_pages(r)).fill(undefined));
    views[(pa >>> 12) & REGION_PAGE_MASK] = v;
    return v;
  }

  /** Fill `len` bytes at `pa` with `byte`. Filling untouched RAM with 0 allocates nothing. */
  fill(pa: number, byte: number, len: number): void {
    if (len <= 0) return;
    if (pa < 0 || pa + len > this.size) this.bad(pa, len);
    while (len > 0) {
      const o = pa & CHUNK_MASK;
      const n = Math.min(len, CHUNK_SIZE - o);
      const ci = (pa / CHUNK_SIZE) | 0;
      const b = this.c8[ci];
      if (b !== undefined) b.fill(byte, o, o + n);
      else if (byte !== 0) this.wchunk(pa).fill(byte, o, o + n);
      pa += n;
      len -= n;
    }
  }

  /** Read physical bytes into a host buffer (device-style access; no MMU). */
  read_into(pa: number, out: Uint8Array): void {
    let len = out.length;
    if (pa < 0 || pa + len > this.size) this.bad(pa, len);
    let off = 0;
    while (len > 0) {
      const o = pa & CHUNK_MASK;
      const n = Math.min(len, CHUNK_SIZE - o);
      const b = this.c8[(pa / CHUNK_SIZE) | 0];
      if (b === undefined) out.fill(0, off, off + n);
      else out.set(b.subarray(o, o + n), off);
      pa += n;
      off += n;
      len -= n;
    }
  }

  /** Write a host buffer to physical memory (device-style access; no MMU). */
  write_from(pa: number, src: Uint8Array): void {
    let len = src.length;
    if (pa < 0 || pa + len > this.size) this.bad(pa, len);
    let off = 0;
    while (len > 0) {
      const o = pa & CHUNK_MASK;
      const n = Math.min(len, CHUNK_SIZE - o);
      this.wchunk(pa).set(src.subarray(off, off + n), o);
      pa += n;
      off += n;
      len -= n;
    }
  }
}
