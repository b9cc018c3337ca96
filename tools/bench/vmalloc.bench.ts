/*
 * tools/bench/vmalloc.bench.ts - host cost of the KVA allocator.
 *
 * Mirrors the question Uladzislau Rezki asked in the seed thread ("which
 * test case and what is a problem for it?"): how the cost of one
 * alloc_vmap_area() + free_vmap_area() pair grows with the number of busy
 * areas, 1k to 1M. This is the KVA allocator alone (tree search, clip,
 * busy-tree insert, unlink and merge), not page allocation or mapping, and
 * the free is the immediate free_vmap_area() of the area the caller holds,
 * not the lazy vfree() path (which adds a busy-tree lookup by address and a
 * TLB flush per purge, measured in modelled cycles by
 * tools/testing/test_vmalloc.ts instead). Sizes are what vmalloc(n pages)
 * asks of the KVA allocator: n pages plus the guard page.
 * Four patterns:
 *   fix_size        test_vmalloc's fix_size_alloc_test (vmalloc(1 page) and
 *                   vfree() in a loop) on top of N contiguous vmalloc(1 page)
 *                   areas: one alloc+free pair per iteration. The alloc is an
 *                   LE fit at the bottom of the top free block, above the
 *                   busy run; the free merges the area straight back into
 *                   that block, so the free tree never changes shape. What is
 *                   left is the busy tree (a walk down its right spine, link,
 *                   rebalance, erase) plus the clip and the merge
 *   long_busy_list  test_vmalloc's long_busy_list_alloc_test: N contiguous
 *                   vmalloc(1 page) areas, then per iteration vmalloc(100
 *                   pages), vmalloc(1 page), vfree() both: two pairs, LE fits
 *                   above the busy run; the first free adds a free block,
 *                   the second merges with it and with the top block
 *   full_fit        test_vmalloc's full_fit_alloc_test: N vmalloc(1 page)
 *                   areas with a freed 1-page junk area after each; the alloc
 *                   takes the lowest hole (FL fit), the free re-inserts it
 *   random          not a test_vmalloc case (its random_size_alloc_test
 *                   frees each area at once, so its busy set stays small):
 *                   N busy areas of 1..8 pages, ~N/2 holes between them;
 *                   each step frees a random busy area and allocates 1..8
 *                   pages (lowest fit): fragmentation churn on random paths.
 *                   It is not stationary: the churn fills the low holes, so
 *                   the cost per step depends on how far it has got. Every
 *                   allocator runs the same 20k steps from the same setup;
 *                   at 1k busy that is many turnovers, at 1M a start.
 * Baselines in the same run, on the same operation stream:
 *   - js-sdsl's OrderedMap (a red-black tree that allocates its nodes):
 *     insert the key + erase the key, i.e. two tree operations where the
 *     KVA allocator does four (search+clip, busy insert, busy erase, merge);
 *   - a naive first-fit list: busy areas on an address-sorted doubly linked
 *     list; alloc walks it from the start of the range to the first gap that
 *     fits and links the new area there; free unlinks the area it is given.
 *     That is the pre-2019 allocator's walk of vmap_area_list from vstart on
 *     the path where its free_vmap_cache hint was invalid (a request smaller
 *     than the cached hole, a lower vstart or alignment, a free below the
 *     hint: with several sizes and CPUs, the usual case), minus its
 *     O(log n) busy-tree insert and erase, so a lower bound on its cost.
 *     (Until this version the baseline was a sorted array: its splice()
 *     memmoves O(n) per alloc and free, which the list never paid, while its
 *     scan is a flat loop far cheaper per area than the list's pointer walk.)
 * Targets (issue 4): per-op time at 1M busy at most 2x that at 1k; at 100k
 * busy, alloc+free at most 1.5x js-sdsl's insert+erase; the naive list at
 * least 50x slower at 100k. Together they describe one workload: N busy
 * areas and alloc+free pairs among them, where first fit has to walk the
 * busy areas (in full_fit it finds its hole at once and is faster than any
 * tree, by design). fix_size is that workload; the other patterns show
 * where the cost goes when the pairs do more than that.
 * Each pattern runs in a process of its own, as tools/bench/run.ts runs
 * each benchmark: the patterns take different paths through the
 * allocator, and in one process the JIT compiles those with the type
 * feedback the patterns before left (with fix_size first, long_busy_list
 * ran ~30% slower than alone).
 *
 * What bounds the ratio to js-sdsl (measured; the closing notes of issue 4
 * have the runs):
 *   fix_size (1.1-1.4x at 100k): the busy tree does what js-sdsl does -
 *     js-sdsl's insert takes its O(1) path for a key above the maximum and
 *     its erase walks the busy run's right spine (31 nodes at 100k:
 *     sequential inserts leave the longest path a red-black tree allows);
 *     the KVA allocator's insert walks that spine instead (~38 ns, ~1.2 ns
 *     a node, the latency of one dependent load) and its erase starts at
 *     the node. On top come the search and LE clip and the merge on a free
 *     tree of two blocks (~20-25 ns), and the call's checks and counters.
 *   long_busy_list (1.5-1.9x): two interleaved pairs per iteration. The
 *     first vfree() leaves a hole below the second area: an augmented
 *     insert into the free tree; the second fills it and merges with both
 *     neighbours: an augmented erase. That churn (~30 ns a pair) is work an
 *     ordered map of busy keys never does.
 *   full_fit, random (2-3x, random at times more): a pair walks four
 *     trees - the free-tree search and clip, the busy-tree insert, the
 *     busy-tree erase, the free-tree find_va_links() and merge - where
 *     insert+erase in an ordered map walks two (full_fit: ~55 nodes
 *     visited per pair at 100k against ~34).
 * The tree nodes and list links are embedded (lib/rbtree.ts, struct
 * vmap_area), so a step reads one VmapArea, but va_start, va_end and
 * subtree_max_size are 48-bit numbers, which V8 keeps in separate
 * heap-number boxes: a step touches up to three more cache lines, which
 * shows once the trees outgrow the caches (random). Moving the three into a
 * growable Float64Array indexed per object was slower on every pattern.
 * The JIT's inlining budget (920 bytes of bytecode per optimized function)
 * does not cover a whole alloc or free path, so some helpers stay calls
 * (~2.5 ns each; C inlines them, being __always_inline). Which ones
 * depends on when each tiers up: a helper optimized on its own first is
 * inlined only if its own inlined bytecode still fits the caller's budget.
 * So the KVA side's times vary run to run (long_busy_list at 100k: 115-160
 * ns) while js-sdsl's stay within a few per cent; even with every counter
 * and check removed and the budget raised fourfold, long_busy_list stays
 * at 1.2-1.35x. Compare ratios from one run, and more than one run.
 *
 * The random pattern's 1M/1k ratio is bounded by memory, not by the
 * algorithm: both trees do O(log n) steps, but at 1M most steps miss the
 * caches (and the free tree is still large, see above). js-sdsl's own
 * ratio to its 1k time is printed next to it for that reason.
 * The naive list's cost is its walk: fix_size and long_busy_list walk all
 * N areas per alloc; random walks to the first gap big enough, which moves
 * up as the churn fills the low holes (at 100k busy, 60-80x the KVA
 * allocator over the 20k steps); in full_fit the lowest hole is the first
 * gap, so first fit finds it at once and the list is faster than the
 * trees. That pattern hurt the pre-2019 allocator through lazy frees and
 * purges under several CPUs, which a KVA-only benchmark does not model.
 *
 * Run: npx tsx tools/bench/vmalloc.bench.ts [max_busy [pattern]]
 */
import { spawnSync } from 'node:child_process';
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

/** The KVA bytes vmalloc(pages * PAGE_SIZE) asks for: the pages and the guard page (__get_vm_area_node). */
function vm_size(pages: number): number {
  return (pages + 1) * P;
}

function kva_alloc(pages: number): VmapArea {
  const r = alloc_vmap_area(vm_size(pages), P, VMALLOC_START, VMALLOC_END, 0, GFP, 0, null);
  if (typeof r === 'number') throw new Error(`bench: alloc_vmap_area failed ${r}`);
  return r;
}

type Pattern = 'fix_size' | 'long_busy_list' | 'full_fit' | 'random';

/** long_busy_list_alloc_test's two sizes per iteration. */
const LONG_BUSY_PAGES = [100, 1] as const;

/** Build N busy areas in the pattern's shape on a fresh allocator; returns them. */
function setup(pattern: Pattern, n: number, rnd: RndState): VmapArea[] {
  vmap_area_init({ nr_cpus: 1 });
  const busy: VmapArea[] = [];
  const junk: VmapArea[] = [];
  if (pattern === 'fix_size' || pattern === 'long_busy_list') {
    for (let i = 0; i < n; i++) busy.push(kva_alloc(1));
  } else if (pattern === 'full_fit') {
    for (let i = 0; i < n; i++) {
      busy.push(kva_alloc(1));
      junk.push(kva_alloc(1));
    }
    for (const va of junk) free_vmap_area(va);
  } else {
    for (let i = 0; i < 2 * n; i++) {
      const va = kva_alloc(1 + prandom_u32_below(rnd, 8));
      if (prandom_u32_below(rnd, 2) === 0) junk.push(va);
      else busy.push(va);
    }
    for (const va of junk) free_vmap_area(va);
    while (busy.length > n) free_vmap_area(busy.pop() as VmapArea);
    while (busy.length < n) busy.push(kva_alloc(1 + prandom_u32_below(rnd, 8)));
  }
  return busy;
}

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

/*
 * The operation log the KVA allocator leaves for js-sdsl to replay: key and
 * end of each area allocated (an insert) or freed (an erase), in order.
 */
interface OpLog { insert: Uint8Array; key: Float64Array; end: Float64Array; len: number }

function oplog(max: number): OpLog {
  return { insert: new Uint8Array(max), key: new Float64Array(max), end: new Float64Array(max), len: 0 };
}

function log_op(log: OpLog, insert: boolean, va: VmapArea): void {
  log.insert[log.len] = insert ? 1 : 0;
  log.key[log.len] = va.va_start;
  log.end[log.len] = va.va_end;
  log.len++;
}

/**
 * One iteration of a stationary pattern (fix_size, long_busy_list, full_fit:
 * it leaves the allocator as it found it). fix_size and full_fit run the
 * same vmalloc(1 page) + vfree(); only their busy sets differ. Returns the
 * alloc+free pairs done; with a log, records them.
 */
function kva_iteration(pattern: Pattern, log: OpLog | null): number {
  if (pattern === 'long_busy_list') {
    const ptr_1 = kva_alloc(LONG_BUSY_PAGES[0]);
    const ptr_2 = kva_alloc(LONG_BUSY_PAGES[1]);
    if (log !== null) {
      log_op(log, true, ptr_1);
      log_op(log, true, ptr_2);
      log_op(log, false, ptr_1);
      log_op(log, false, ptr_2);
    }
    free_vmap_area(ptr_1);
    free_vmap_area(ptr_2);
    return 2;
  }
  const tmp = kva_alloc(1);
  if (log !== null) {
    log_op(log, true, tmp);
    log_op(log, false, tmp);
  }
  free_vmap_area(tmp);
  return 1;
}

/** ns per alloc+free pair of the KVA allocator over `iters` iterations of a stationary pattern. */
function bench_kva(pattern: Pattern, iters: number): number {
  const pairs = iters * kva_iteration(pattern, null);
  return ns_per_op(() => {
    for (let i = 0; i < iters; i++) kva_iteration(pattern, null);
  }, pairs, 5);
}

function sdsl_from(busy: readonly VmapArea[]): OrderedMap<number, number> {
  const map = new OrderedMap<number, number>();
  for (const va of busy) map.setElement(va.va_start, va.va_end);
  return map;
}

function sdsl_replay(map: OrderedMap<number, number>, log: OpLog, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) {
    const key = log.key[i];
    if (log.insert[i] === 1) map.setElement(key, log.end[i]);
    else map.eraseElementByKey(key);
    sum += key;
  }
  return sum;
}

/** js-sdsl OrderedMap: one iteration's log replayed `iters` times, ns per alloc+free pair. */
function bench_sdsl(busy: readonly VmapArea[], log: OpLog, iters: number, pairs_per_iter: number): number {
  const map = sdsl_from(busy);
  return ns_per_op(() => {
    let sum = 0;
    for (let i = 0; i < iters; i++) sum += sdsl_replay(map, log, 0, log.len);
    consume(sum);
  }, iters * pairs_per_iter, 5);
}

/**
 * The random pattern changes the busy set as it goes, so each round starts
 * from a fresh, identical setup: the KVA allocator frees a random busy area
 * and allocates 1..8 pages, logging what left and what came; then js-sdsl
 * replays that log (erase + insert) from the same starting keys.
 * Best of three rounds for each.
 */
function bench_random(n: number, ops: number): { kva: number; sdsl: number } {
  let kva = Infinity;
  let sdsl = Infinity;
  const log = oplog(2 * ops);
  for (let round = 0; round < 3; round++) {
    const rnd = new RndState(n);
    const busy = setup('random', n, rnd);
    const r = random_ops(n, ops, rnd);
    const map = sdsl_from(busy);
    log.len = 0;
    let sum = 0;
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) {
      const k = r.slot[i];
      log_op(log, false, busy[k]);
      free_vmap_area(busy[k]);
      const va = kva_alloc(r.pages[i]);
      busy[k] = va;
      log_op(log, true, va);
      sum += va.va_start;
    }
    kva = Math.min(kva, Number(process.hrtime.bigint() - t0) / ops);
    t0 = process.hrtime.bigint();
    sum += sdsl_replay(map, log, 0, log.len);
    sdsl = Math.min(sdsl, Number(process.hrtime.bigint() - t0) / ops);
    consume(sum);
  }
  return { kva, sdsl };
}

/* --- the naive baseline ------------------------------------------------ */

/** A busy area of the naive allocator: a node of its address-sorted list. */
class NaiveArea {
  va_start = 0;
  va_end = 0;
  next: NaiveArea | null = null;
  prev: NaiveArea | null = null;
}

/**
 * First fit over an address-sorted, doubly linked list of busy areas: the
 * pre-2019 walk from vstart (no free_vmap_cache, no busy tree). alloc() is
 * O(areas below the first gap that fits) pointer steps, free() O(1).
 * Freed nodes are kept for reuse, as a kmem_cache would.
 */
class NaiveFirstFitList {
  private first: NaiveArea | null = null;
  private last: NaiveArea | null = null;
  private readonly pool: NaiveArea[] = [];

  /** Start from busy areas sorted by address. */
  constructor(sorted: readonly { va_start: number; va_end: number }[]) {
    for (const v of sorted) {
      const a = new NaiveArea();
      a.va_start = v.va_start;
      a.va_end = v.va_end;
      this.link_before(a, null);
    }
  }

  /** The areas in list order, for the random pattern's slots. */
  areas(): NaiveArea[] {
    const out: NaiveArea[] = [];
    for (let a = this.first; a !== null; a = a.next) out.push(a);
    return out;
  }

  private link_before(a: NaiveArea, next: NaiveArea | null): void {
    const prev = next === null ? this.last : next.prev;
    a.next = next;
    a.prev = prev;
    if (prev === null) this.first = a;
    else prev.next = a;
    if (next === null) this.last = a;
    else next.prev = a;
  }

  alloc(size: number): NaiveArea {
    let addr = VMALLOC_START;
    let n = this.first;
    // While the request would run into the next busy area, step past it.
    while (n !== null && addr + size > n.va_start) {
      if (n.va_end > addr) addr = n.va_end;
      n = n.next;
    }
    if (addr + size > VMALLOC_END) throw new Error('bench: naive allocator full');
    const a = this.pool.pop() ?? new NaiveArea();
    a.va_start = addr;
    a.va_end = addr + size;
    this.link_before(a, n);
    return a;
  }

  free(a: NaiveArea): void {
    if (a.prev === null) this.first = a.next;
    else a.prev.next = a.next;
    if (a.next === null) this.last = a.prev;
    else a.next.prev = a.prev;
    a.next = null;
    a.prev = null;
    this.pool.push(a);
  }
}

function naive_from(busy: readonly VmapArea[]): { nv: NaiveFirstFitList; slots: NaiveArea[] } {
  const nv = new NaiveFirstFitList(busy.slice().sort((a, b) => a.va_start - b.va_start));
  const by_start = new Map<number, NaiveArea>();
  for (const a of nv.areas()) by_start.set(a.va_start, a);
  return { nv, slots: busy.map((va) => by_start.get(va.va_start) as NaiveArea) };
}

/**
 * ns per alloc+free pair of the naive list on a stationary pattern, from
 * the pattern's busy set. `iters` is bounded by the caller: long_busy_list
 * walks all N areas per alloc.
 */
function bench_naive(pattern: Pattern, busy: readonly VmapArea[], iters: number): number {
  const { nv } = naive_from(busy);
  const pairs = pattern === 'long_busy_list' ? 2 * iters : iters;
  return ns_per_op(() => {
    let sum = 0;
    if (pattern === 'long_busy_list') {
      for (let i = 0; i < iters; i++) {
        const ptr_1 = nv.alloc(vm_size(LONG_BUSY_PAGES[0]));
        const ptr_2 = nv.alloc(vm_size(LONG_BUSY_PAGES[1]));
        sum += ptr_1.va_start + ptr_2.va_start;
        nv.free(ptr_1);
        nv.free(ptr_2);
      }
    } else {
      for (let i = 0; i < iters; i++) {
        const tmp = nv.alloc(vm_size(1));
        sum += tmp.va_start;
        nv.free(tmp);
      }
    }
    consume(sum);
  }, pairs, 3);
}

/**
 * The naive list on the random pattern: the same setup and the same op
 * stream as one round of bench_random(), timed once. (The walk depends on
 * how far the churn has filled the low holes, so it must see the same ops
 * the KVA allocator saw, not a shorter or a later stretch.)
 */
function bench_naive_random(n: number, ops: number): number {
  const rnd = new RndState(n);
  const { nv, slots } = naive_from(setup('random', n, rnd));
  const r = random_ops(n, ops, rnd);
  let sum = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    const k = r.slot[i];
    nv.free(slots[k]);
    slots[k] = nv.alloc(vm_size(r.pages[i]));
    sum += slots[k].va_start;
  }
  const ns = Number(process.hrtime.bigint() - t0) / ops;
  consume(sum);
  return ns;
}

export interface VmallocBenchRow extends BenchRow {
  pattern: Pattern;
  busy: number;
}

const PATTERNS: readonly Pattern[] = ['fix_size', 'long_busy_list', 'full_fit', 'random'];

const TITLE = 'vmalloc: KVA alloc+free pairs (alloc_vmap_area + free_vmap_area; no page allocation, no mapping, ' +
  'no lazy TLB), ratio = x js-sdsl OrderedMap insert+erase of the same keys; the targets are on the fix_size ' +
  'rows, the other patterns show where the cost goes (see the file comment)';

/** One pattern at 1k busy areas and up to max_busy, in this process: its rows. */
function run_pattern(pattern: Pattern, max_busy: number): VmallocBenchRow[] {
  const sizes = [1_000, 10_000, 100_000, 1_000_000].filter((n) => n <= max_busy);
  const rows: VmallocBenchRow[] = [];
  const ops = 50_000; // alloc+free pairs per measurement, stationary patterns
  /*
   * The random pattern's stream, the same for all three allocators. Shorter:
   * the naive list's walk there grows as the churn fills the low holes
   * (~300 us per pair at 100k busy by 50k ops), and running it on a shorter
   * or a different stretch than the others would understate it.
   */
  const random_ops_n = 20_000;
  // The issue's targets are fix_size's (see the file comment); the other rows characterise.
  const targeted = pattern === 'fix_size';
  let first_kva = 0;
  let first_sdsl = 0;
  /*
   * The 1k figure is every ratio's denominator: warm the JIT up first, or
   * its compile time inflates the 1k time and flatters the 1M/1k ratio.
   * (ns_per_op() warms the stationary patterns up itself.)
   */
  if (pattern === 'random') {
    bench_random(sizes[0], random_ops_n);
    bench_naive_random(sizes[0], random_ops_n);
  }
  for (const n of sizes) {
    let kva = Infinity;
    let sdsl = Infinity;
    if (pattern === 'random') {
      ({ kva, sdsl } = bench_random(n, random_ops_n));
    } else {
      const busy = setup(pattern, n, new RndState(n));
      const log = oplog(4);
      const per_iter = kva_iteration(pattern, log);
      const iters = ops / per_iter;
      // Alternate the two, best of three rounds: a busy host slows both alike.
      for (let round = 0; round < 3; round++) {
        kva = Math.min(kva, bench_kva(pattern, iters));
        sdsl = Math.min(sdsl, bench_sdsl(busy, log, iters, per_iter));
      }
    }
    if (first_kva === 0) {
      first_kva = kva;
      first_sdsl = sdsl;
    }
    const scale = (ns: number, first: number): string => `${(ns / first).toFixed(2)}x the ${sizes[0]}-busy time`;
    rows.push({
      pattern, busy: n, name: `${pattern}: alloc_vmap_area+free_vmap_area, ${n} busy`, ns_per_op: kva,
      baseline_ns: sdsl, ratio: kva / sdsl,
      target: scale(kva, first_kva) + (targeted && n === 1_000_000 ? ' (target <= 2x)' : '') +
        (targeted && n === 100_000 ? '; target <= 1.5x js-sdsl' : ''),
    });
    rows.push({
      pattern, busy: n, name: `${pattern}: js-sdsl OrderedMap insert+erase, ${n} busy`, ns_per_op: sdsl,
      baseline_ns: sdsl, ratio: 1, target: scale(sdsl, first_sdsl),
    });
    if (n <= 100_000) {
      let naive: number;
      if (pattern === 'random') {
        naive = bench_naive_random(n, random_ops_n);
      } else {
        // Bound the work: in fix_size and long_busy_list every alloc walks all n areas.
        const iters = Math.max(20, Math.min(ops, Math.floor(2e8 / (n * 4))));
        naive = bench_naive(pattern, setup(pattern, n, new RndState(n)), iters);
      }
      rows.push({
        pattern, busy: n, name: `${pattern}: naive first-fit list, ${n} busy`, ns_per_op: naive,
        baseline_ns: sdsl, ratio: naive / sdsl,
        target: `${(naive / kva).toFixed(1)}x the KVA allocator${targeted && n === 100_000 ? ' (target >= 50x)' : ''}`,
      });
    }
  }
  return rows;
}

/**
 * One pattern in a process of its own, as tools/bench/run.ts runs each
 * benchmark: the patterns take different paths through the allocator, and
 * in one process the JIT compiles those with the type feedback the
 * patterns before left behind. (With fix_size first, long_busy_list ran
 * ~30% slower than alone.) The child prints its rows as JSON.
 */
function run_pattern_forked(pattern: Pattern, max_busy: number): VmallocBenchRow[] {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [...process.execArgv, self, String(max_busy), pattern, '--json'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`bench: vmalloc ${pattern} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
  return JSON.parse(r.stdout) as VmallocBenchRow[];
}

/** Every pattern, or only `only`, up to max_busy busy areas; prints the table unless json. */
export function main(max_busy = 1_000_000, only?: Pattern, json = false): VmallocBenchRow[] {
  const rows = only !== undefined ? run_pattern(only, max_busy)
    : PATTERNS.flatMap((pattern) => run_pattern_forked(pattern, max_busy));
  if (json) process.stdout.write(JSON.stringify(rows));
  else print_rows(TITLE, rows);
  return rows;
}

function parse_pattern(arg: string | undefined): Pattern | undefined {
  if (arg === undefined || arg.startsWith('--')) return undefined;
  if (!(PATTERNS as readonly string[]).includes(arg)) throw new Error(`bench: no pattern ${arg} (${PATTERNS.join(', ')})`);
  return arg as Pattern;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  main(args[0] && !args[0].startsWith('--') ? Number(args[0]) : undefined, parse_pattern(args[1]), args.includes('--json'));
}
