/*
 * tools/bench/vmalloc.bench.ts - host cost of the KVA allocator.
 *
 * Mirrors the question Uladzislau Rezki asked in the seed thread ("which
 * test case and what is a problem for it?"): how the cost of one
 * alloc_vmap_area() + free_vmap_area() pair grows with the number of busy
 * areas, 1k to 1M. This is the KVA allocator alone (tree search, clip,
 * busy-tree insert, unlink and merge), not page allocation or mapping, and
 * the free is the immediate free_vmap_area(), not the lazy vfree() path
 * (which adds a TLB flush per purge, measured in modelled cycles by
 * tools/testing/test_vmalloc.ts instead). Three key-churn patterns:
 *   long_busy_list  N contiguous busy areas; a 1-page alloc+free at their end
 *                   (LE fit, merge back): test_vmalloc's long_busy_list case
 *   full_fit        N busy areas with a 1-page hole after each; the alloc
 *                   takes the lowest hole (FL fit), the free re-inserts it:
 *                   test_vmalloc's full_fit case
 *   random          N busy areas of 1..8 pages with holes; each step frees a
 *                   random busy area and allocates 1..8 pages (lowest fit):
 *                   random paths, so cache misses grow with N
 * Baselines in the same run, for the same address sequence:
 *   - js-sdsl's OrderedMap (a red-black tree that allocates its nodes):
 *     insert the key + erase the key, i.e. two tree operations where the
 *     KVA allocator does four (search+clip, busy insert, busy erase, merge);
 *   - a naive first-fit allocator over a sorted array of busy areas, the
 *     pre-2019 O(N) scan (Linux then walked vmap_area_list, helped by a
 *     free_vmap_cache hint that this baseline does not have).
 * Targets (issue 4): per-op time at 1M busy at most 2x that at 1k; at 100k
 * busy, alloc+free at most 1.5x js-sdsl's insert+erase; the naive list at
 * least 50x slower at 100k.
 *
 * What bounds the ratio to js-sdsl (measured, see the report in the issue):
 * one alloc+free pair in Linux's design walks four trees - the free-tree
 * search and clip, the busy-tree insert, the busy-tree erase, the free-tree
 * find_va_links() and merge - where insert+erase in an ordered map walks
 * two (full_fit: ~55 nodes visited per pair against ~34). And each visit
 * here touches two or three objects (the RbNode, its owner VmapArea, a
 * child's owner for subtree_max_size: lib/rbtree.ts's intrusive design)
 * where js-sdsl touches one, which doubles the cost per step once the tree
 * no longer fits in cache (the random pattern). In long_busy_list the free
 * tree holds two blocks, so the KVA's extra walks are short (while
 * js-sdsl's insert takes its O(1) path for a key above the maximum).
 *
 * Run: npx tsx tools/bench/vmalloc.bench.ts [max_busy]
 */
import { fileURLToPath } from 'node:url';
import { OrderedMap } from 'js-sdsl';
import { vmap_area_init, VmapArea } from '../../mm/vmap_area.ts';
import { alloc_vmap_area, free_vmap_area } from '../../mm/vmap_alloc.ts';
import { VMALLOC_START, VMALLOC_END } from '../../arch/x86/include/asm/pgtable_64_types.ts';
import { PAGE_SIZE } from '../../arch/x86/include/asm/page_types.ts';
import { RndState, prandom_u32_below } from '../../lib/prandom.ts';
import { ns_per_op, print_rows, consume, type BenchRow } from './harness.ts';

const P = PAGE_SIZE;
const GFP = 0;

function kva_alloc(pages: number): VmapArea {
  const r = alloc_vmap_area(pages * P, P, VMALLOC_START, VMALLOC_END, 0, GFP, 0, null);
  if (typeof r === 'number') throw new Error(`bench: alloc_vmap_area failed ${r}`);
  return r;
}

type Pattern = 'long_busy_list' | 'full_fit' | 'random';

interface Setup {
  /** The busy areas left standing. */
  busy: VmapArea[];
}

/** Build N busy areas in the pattern's shape on a fresh allocator. */
function setup(pattern: Pattern, n: number, rnd: RndState): Setup {
  vmap_area_init({ nr_cpus: 1 });
  const busy: VmapArea[] = [];
  if (pattern === 'long_busy_list') {
    for (let i = 0; i < n; i++) busy.push(kva_alloc(1));
  } else if (pattern === 'full_fit') {
    for (let i = 0; i < n; i++) {
      busy.push(kva_alloc(1));
      free_vmap_area_later.push(kva_alloc(1));
    }
    for (const va of free_vmap_area_later) free_vmap_area(va);
    free_vmap_area_later.length = 0;
  } else {
    for (let i = 0; i < 2 * n; i++) {
      const va = kva_alloc(1 + prandom_u32_below(rnd, 8));
      if (prandom_u32_below(rnd, 2) === 0) free_vmap_area_later.push(va);
      else busy.push(va);
    }
    for (const va of free_vmap_area_later) free_vmap_area(va);
    free_vmap_area_later.length = 0;
    while (busy.length > n) free_vmap_area(busy.pop() as VmapArea);
    while (busy.length < n) busy.push(kva_alloc(1 + prandom_u32_below(rnd, 8)));
  }
  return { busy };
}
const free_vmap_area_later: VmapArea[] = [];

/** A pre-generated op stream for the random pattern: which busy slot to free, how many pages to allocate. */
interface RandomOps { slot: Int32Array; pages: Int32Array }

function random_ops(n: number, ops: number, rnd: RndState): RandomOps {
  const slot = new Int32Array(ops);
  const pages = new Int32Array(ops);
  for (let i = 0; i < ops; i++) {
    slot[i] = prandom_u32_below(rnd, n);
    pages[i] = 1 + prandom_u32_below(rnd, 8);
  }
  return { slot, pages };
}

/**
 * The KVA allocator, long_busy_list and full_fit: ops alloc+free pairs that
 * leave the allocator as they found it. ns per pair; the addresses it
 * handed out go to trace for the js-sdsl baseline.
 */
function bench_kva(ops: number, trace: Float64Array): number {
  return ns_per_op(() => {
    let sum = 0;
    for (let i = 0; i < ops; i++) {
      const va = kva_alloc(1);
      trace[i] = va.va_start;
      sum += va.va_start;
      free_vmap_area(va);
    }
    consume(sum);
  }, ops, 5);
}

/** js-sdsl OrderedMap: the same keys, inserted and erased (two tree operations per pair). */
function bench_sdsl(s: Setup, ops: number, trace: Float64Array): number {
  const map = new OrderedMap<number, number>();
  for (const va of s.busy) map.setElement(va.va_start, va.va_end);
  return ns_per_op(() => {
    let sum = 0;
    for (let i = 0; i < ops; i++) {
      const key = trace[i];
      map.setElement(key, key + P);
      sum += key;
      map.eraseElementByKey(key);
    }
    consume(sum);
  }, ops, 5);
}

/**
 * The random pattern changes the busy set as it goes, so each round starts
 * from a fresh, identical setup: the KVA allocator frees a random busy area
 * and allocates 1..8 pages, logging which key left and which came; then
 * js-sdsl replays that log (erase + insert) from the same starting keys.
 * Best of three rounds for each.
 */
function bench_random(n: number, ops: number): { kva: number; sdsl: number } {
  let kva = Infinity;
  let sdsl = Infinity;
  const gone = new Float64Array(ops);
  const came = new Float64Array(ops);
  for (let round = 0; round < 3; round++) {
    const rnd = new RndState(n);
    const s = setup('random', n, rnd);
    const r = random_ops(n, ops, rnd);
    const map = new OrderedMap<number, number>();
    for (const va of s.busy) map.setElement(va.va_start, va.va_end);
    const busy = s.busy;
    let sum = 0;
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) {
      const k = r.slot[i];
      gone[i] = busy[k].va_start;
      free_vmap_area(busy[k]);
      const va = kva_alloc(r.pages[i]);
      busy[k] = va;
      came[i] = va.va_start;
      sum += va.va_start;
    }
    kva = Math.min(kva, Number(process.hrtime.bigint() - t0) / ops);
    t0 = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) {
      map.eraseElementByKey(gone[i]);
      map.setElement(came[i], came[i] + r.pages[i] * P);
      sum += came[i];
    }
    sdsl = Math.min(sdsl, Number(process.hrtime.bigint() - t0) / ops);
    consume(sum);
  }
  return { kva, sdsl };
}

/**
 * The pre-2019 baseline: busy areas as a sorted array of [start, end);
 * alloc scans from the start of the range for the first gap that fits
 * (first fit, O(N)), free finds the area by binary search and splices it
 * out (O(N) memmove).
 */
class NaiveFirstFit {
  starts: number[] = [];
  ends: number[] = [];
  constructor(busy: VmapArea[]) {
    const sorted = busy.slice().sort((a, b) => a.va_start - b.va_start);
    this.starts = sorted.map((v) => v.va_start);
    this.ends = sorted.map((v) => v.va_end);
  }
  alloc(size: number): number {
    let addr = VMALLOC_START;
    let i = 0;
    const n = this.starts.length;
    for (; i < n; i++) {
      if (this.starts[i] - addr >= size) break;
      if (this.ends[i] > addr) addr = this.ends[i];
    }
    this.starts.splice(i, 0, addr);
    this.ends.splice(i, 0, addr + size);
    return addr;
  }
  free(addr: number): void {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid] < addr) lo = mid + 1;
      else hi = mid;
    }
    this.starts.splice(lo, 1);
    this.ends.splice(lo, 1);
  }
}

function bench_naive(pattern: Pattern, s: Setup, ops: number, ro: RandomOps | null): number {
  const nv = new NaiveFirstFit(s.busy);
  const keys = s.busy.map((va) => va.va_start);
  return ns_per_op(() => {
    let sum = 0;
    if (pattern === 'random') {
      const r = ro as RandomOps;
      for (let i = 0; i < ops; i++) {
        const k = r.slot[i];
        nv.free(keys[k]);
        keys[k] = nv.alloc(r.pages[i] * P);
        sum += keys[k];
      }
    } else {
      for (let i = 0; i < ops; i++) {
        const a = nv.alloc(P);
        sum += a;
        nv.free(a);
      }
    }
    consume(sum);
  }, ops, 1);
}

export interface VmallocBenchRow extends BenchRow {
  pattern: Pattern;
  busy: number;
}

export function main(max_busy = 1_000_000): VmallocBenchRow[] {
  const sizes = [1_000, 10_000, 100_000, 1_000_000].filter((n) => n <= max_busy);
  const rows: VmallocBenchRow[] = [];
  const patterns: Pattern[] = ['long_busy_list', 'full_fit', 'random'];
  for (const pattern of patterns) {
    const first: { ns: number } = { ns: 0 };
    for (const n of sizes) {
      const ops = 50_000;
      let kva = Infinity;
      let sdsl = Infinity;
      if (pattern === 'random') {
        ({ kva, sdsl } = bench_random(n, ops));
      } else {
        const s = setup(pattern, n, new RndState(n));
        const trace = new Float64Array(ops);
        // (The KVA setup stands for the whole run; the trace is only filled by bench_kva.)
        // Alternate the two, best of three rounds: a busy host slows both alike.
        for (let round = 0; round < 3; round++) {
          kva = Math.min(kva, bench_kva(ops, trace));
          sdsl = Math.min(sdsl, bench_sdsl(s, ops, trace));
        }
      }
      if (first.ns === 0) first.ns = kva;
      rows.push({
        pattern, busy: n, name: `${pattern}: alloc_vmap_area+free_vmap_area, ${n} busy`, ns_per_op: kva,
        baseline_ns: sdsl, ratio: kva / sdsl,
        target: `${(kva / first.ns).toFixed(2)}x the ${sizes[0]}-busy time${n === 1_000_000 ? ' (target <= 2x)' : ''}` +
          (n === 100_000 ? '; target <= 1.5x js-sdsl' : ''),
      });
      rows.push({
        pattern, busy: n, name: `${pattern}: js-sdsl OrderedMap insert+erase, ${n} busy`, ns_per_op: sdsl,
        baseline_ns: sdsl, ratio: 1,
      });
      if (n <= 100_000) {
        const nops = Math.max(20, Math.min(ops, Math.floor(2e8 / (n * 4))));
        const naive = bench_naive(pattern, setup(pattern, n, new RndState(n)), nops, pattern === 'random' ? random_ops(n, nops, new RndState(n + 1)) : null);
        rows.push({
          pattern, busy: n, name: `${pattern}: naive first-fit sorted list, ${n} busy`, ns_per_op: naive,
          baseline_ns: sdsl, ratio: naive / sdsl,
          target: `${(naive / kva).toFixed(1)}x the KVA allocator${n === 100_000 ? ' (target >= 50x)' : ''}`,
        });
      }
    }
  }
  print_rows('vmalloc: KVA alloc+free pairs (alloc_vmap_area + free_vmap_area; no page allocation, no mapping, no lazy TLB), ratio = x js-sdsl OrderedMap insert+erase of the same keys', rows);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv[2] ? Number(process.argv[2]) : undefined);
