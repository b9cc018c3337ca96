/*
 * tools/bench/rbtree.bench.ts - host benchmark for lib/rbtree.ts.
 *
 * Mirrors the perf loop of lib/rbtree_test.c: NODES random keys, insert all
 * then erase all, PERF_LOOPS times, for the plain, leftmost-cached and
 * augmented trees, plus an in-order walk. Linux prints cycles per loop; this
 * prints ns per operation (one insert or one erase) and per loop, and a
 * ratio against a baseline run in the same process: the same key churn
 * through js-sdsl's OrderedMap (a non-intrusive red-black tree that
 * allocates its nodes). OrderedMap erases by key, so its erase includes a
 * search; the "plain, find+erase" row does the same with rb_find() first.
 *
 * Run: npx tsx tools/bench/rbtree.bench.ts [perf_loops]
 */
import { pathToFileURL } from 'node:url';
import { OrderedMap } from 'js-sdsl';
import { RbRoot, RbRootCached, rb_erase, rb_erase_cached, rb_first, rb_next } from '../../lib/rbtree.ts';
import { rb_find } from '../../include/linux/rbtree.ts';
import { rb_erase_augmented } from '../../lib/rbtree_augmented.ts';
import { TestNode, Prng, insert, insert_cached, insert_augmented, augment_callbacks } from '../testing/rbtree_test.ts';

/* rbtree_test.c: nnodes = 100, perf_loops = 1000. More loops here: a JIT needs them. */
const NODES = 100;
const PERF_LOOPS = 20000;
const ROUNDS = 7;

const cmp_key = (key: number, n: TestNode): number => (key < n.key ? -1 : key > n.key ? 1 : 0);

/** NODES distinct random keys, from the seeded kernel PRNG. */
function make_nodes(seed: number): TestNode[] {
  const rnd = new Prng(seed);
  const u32 = (): number => rnd.u32();
  const seen = new Set<number>();
  const nodes: TestNode[] = [];
  while (nodes.length < NODES) {
    const key = u32();
    if (seen.has(key)) continue; // OrderedMap keeps one value per key
    seen.add(key);
    nodes.push(new TestNode(key, u32()));
  }
  return nodes;
}

export interface RbtreeBenchResult {
  name: string;
  ns_per_op: number;   // one insert or one erase (traversal: one node)
  ns_per_loop: number; // NODES inserts + NODES erases, as rbtree_test.c reports
  ratio: number;       // ns_per_op / the baseline's ns_per_op
}

/* Median over ROUNDS of the time for `loops` calls of body(), in ns per call. */
function measure(loops: number, body: () => number): number {
  let sink = 0;
  for (let i = 0; i < Math.min(loops, 2000); i++) sink += body(); // warm up the JIT
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < loops; i++) sink += body();
    const t1 = process.hrtime.bigint();
    times.push(Number(t1 - t0) / loops);
  }
  if (sink === 0.5) console.log(''); // keep the work observable
  times.sort((a, b) => a - b);
  return times[ROUNDS >> 1];
}

export function main(perf_loops: number = PERF_LOOPS): RbtreeBenchResult[] {
  const nodes = make_nodes(0xbadc0ffe);
  const root = new RbRoot<TestNode>();
  const cached = new RbRootCached<TestNode>();
  const aug = new RbRoot<TestNode>();
  const map = new OrderedMap<number, TestNode>();

  const rows: [string, number, number][] = []; // name, ns per loop, ops per loop

  const baseline = measure(perf_loops, () => {
    for (let j = 0; j < NODES; j++) map.setElement(nodes[j].key, nodes[j]);
    for (let j = 0; j < NODES; j++) map.eraseElementByKey(nodes[j].key);
    return map.size();
  });
  rows.push(['js-sdsl OrderedMap (baseline)', baseline, 2 * NODES]);

  rows.push(['plain', measure(perf_loops, () => {
    for (let j = 0; j < NODES; j++) insert(nodes[j], root);
    for (let j = 0; j < NODES; j++) rb_erase(nodes[j], root);
    return root.rb_node === null ? 1 : 0;
  }), 2 * NODES]);

  rows.push(['plain, find+erase', measure(perf_loops, () => {
    for (let j = 0; j < NODES; j++) insert(nodes[j], root);
    for (let j = 0; j < NODES; j++) rb_erase(rb_find(nodes[j].key, root, cmp_key) as TestNode, root);
    return root.rb_node === null ? 1 : 0;
  }), 2 * NODES]);

  rows.push(['cached', measure(perf_loops, () => {
    for (let j = 0; j < NODES; j++) insert_cached(nodes[j], cached);
    for (let j = 0; j < NODES; j++) rb_erase_cached(nodes[j], cached);
    return cached.rb_leftmost === null ? 1 : 0;
  }), 2 * NODES]);

  rows.push(['augmented', measure(perf_loops, () => {
    for (let j = 0; j < NODES; j++) insert_augmented(nodes[j], aug);
    for (let j = 0; j < NODES; j++) rb_erase_augmented(nodes[j], aug, augment_callbacks);
    return aug.rb_node === null ? 1 : 0;
  }), 2 * NODES]);

  // In-order walk of a full tree (rbtree_test.c: "latency of inorder traversal").
  for (let j = 0; j < NODES; j++) insert(nodes[j], root);
  for (let j = 0; j < NODES; j++) map.setElement(nodes[j].key, nodes[j]);
  const walk_base = measure(perf_loops, () => {
    let sum = 0;
    map.forEach((e) => { sum += e[1].val; });
    return sum;
  });
  const walk = measure(perf_loops, () => {
    let sum = 0;
    for (let n = rb_first(root); n !== null; n = rb_next(n)) sum += n.val;
    return sum;
  });

  const results: RbtreeBenchResult[] = rows.map(([name, ns, ops]) => ({
    name, ns_per_op: ns / ops, ns_per_loop: ns, ratio: ns / baseline,
  }));
  results.push({ name: 'js-sdsl OrderedMap forEach (walk baseline)', ns_per_op: walk_base / NODES, ns_per_loop: walk_base, ratio: 1 });
  results.push({ name: 'inorder walk rb_first/rb_next', ns_per_op: walk / NODES, ns_per_loop: walk, ratio: walk / walk_base });

  console.log(`rbtree: NODES=${NODES} PERF_LOOPS=${perf_loops}, median of ${ROUNDS} rounds, node ${process.version}`);
  console.log(`${'test'.padEnd(44)}${'ns/op'.padStart(9)}${'ns/loop'.padStart(11)}${'x baseline'.padStart(12)}`);
  for (const r of results) {
    console.log(`${r.name.padEnd(44)}${r.ns_per_op.toFixed(1).padStart(9)}${r.ns_per_loop.toFixed(0).padStart(11)}${r.ratio.toFixed(2).padStart(12)}`);
  }
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = process.argv[2];
  main(arg === undefined ? PERF_LOOPS : Number(arg));
}
