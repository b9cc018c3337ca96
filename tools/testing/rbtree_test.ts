/*
 * tools/testing/rbtree_test.ts - the test structure of lib/rbtree_test.c.
 *
 * Mirrors rbtree_test.c's struct test_node, its augment callbacks and its
 * insert / insert_cached / insert_augmented, shared by the rbtree tests
 * and the rbtree benchmark, and its check() / check_augmented() verifiers.
 */
import {
  RbNode, type RbRoot, type RbRootCached, type RbLink, RB_BLACK, RB_RED, rb_insert_color, rb_insert_color_cached, rb_link_node,
  rb_first, rb_first_cached, rb_last, rb_next, rb_prev,
} from '../../lib/rbtree.ts';
import { RB_DECLARE_CALLBACKS_MAX, rb_insert_augmented, rb_is_red } from '../../lib/rbtree_augmented.ts';
import { RndState, prandom_u32_state, prandom_u32_below } from '../../lib/prandom.ts';

/** struct test_node: the rb_node it embeds is the base class. */
export class TestNode extends RbNode<TestNode> {
  key: number;
  val: number;
  augmented = 0;
  constructor(key: number, val: number) {
    super();
    this.key = key;
    this.val = val;
  }
}

export const augment_callbacks = RB_DECLARE_CALLBACKS_MAX<TestNode>({
  compute: (n) => n.val,
  get: (n) => n.augmented,
  set: (n, v) => { n.augmented = v; },
});

/** The kernel's seeded PRNG (lib/prandom), as rbtree_test.c uses prandom. */
export class Prng {
  private readonly st: RndState;
  constructor(seed: number) {
    this.st = new RndState(seed);
  }
  u32(): number {
    return prandom_u32_state(this.st);
  }
  below(n: number): number {
    return prandom_u32_below(this.st, n);
  }
}

export function insert(node: TestNode, root: RbRoot<TestNode>): void {
  let parent: TestNode | null = null;
  let link: RbLink = 'rb_left';
  let n = root.rb_node;
  while (n !== null) {
    parent = n;
    if (node.key < n.key) { link = 'rb_left'; n = n.rb_left; }
    else { link = 'rb_right'; n = n.rb_right; }
  }
  rb_link_node(node, parent, link);
  rb_insert_color(node, root);
}

export function insert_cached(node: TestNode, root: RbRootCached<TestNode>): void {
  let parent: TestNode | null = null;
  let link: RbLink = 'rb_left';
  let leftmost = true;
  let n = root.rb_root.rb_node;
  while (n !== null) {
    parent = n;
    if (node.key < n.key) { link = 'rb_left'; n = n.rb_left; }
    else { link = 'rb_right'; n = n.rb_right; leftmost = false; }
  }
  rb_link_node(node, parent, link);
  rb_insert_color_cached(node, root, leftmost);
}

/** Linux's way: raise the augmented value on the way down, then insert. */
export function insert_augmented(node: TestNode, root: RbRoot<TestNode>): void {
  let parent: TestNode | null = null;
  let link: RbLink = 'rb_left';
  let n = root.rb_node;
  while (n !== null) {
    parent = n;
    if (n.augmented < node.val) n.augmented = node.val;
    if (node.key < n.key) { link = 'rb_left'; n = n.rb_left; }
    else { link = 'rb_right'; n = n.rb_right; }
  }
  node.augmented = node.val;
  rb_link_node(node, parent, link);
  rb_insert_augmented(node, root, augment_callbacks);
}

/* --- check() and check_augmented() ---------------------------------------- */

function fail(msg: string, n: TestNode | null): never {
  throw new Error(n === null ? `rbtree check: ${msg}` : `rbtree check: ${msg} at key ${n.key} val ${n.val}`);
}

/*
 * Verify the whole tree: parent pointers, node colours, no red node with a
 * red child, the same black count on every root-to-leaf path, a black root,
 * in-order keys non-decreasing, the node count, and that rb_first/rb_next
 * and rb_last/rb_prev visit the same nodes as the recursive walk.
 * Returns the black height.
 */
export function check_tree<N extends RbNode<N>>(root: RbRoot<N>, nr_nodes: number, keyof: (node: N) => number): number {
  const order: N[] = [];
  const top = root.rb_node;
  if (top !== null) {
    if (top.rb_parent !== null) throw new Error('rbtree check: root has a parent');
    if (top.rb_color !== RB_BLACK) throw new Error('rbtree check: root is red');
  }
  const walk = (n: N | null, parent: N | null, depth: number): number => {
    if (n === null) return 0;
    const desc = `key ${keyof(n)}`;
    if (depth > 200) throw new Error(`rbtree check: cycle below ${desc}`);
    if (n.rb_parent !== parent) throw new Error(`rbtree check: bad parent pointer at ${desc}`);
    if (n.rb_color !== RB_RED && n.rb_color !== RB_BLACK) throw new Error(`rbtree check: bad colour at ${desc}`);
    if (n.rb_color === RB_RED && (rb_is_red(n.rb_left) || rb_is_red(n.rb_right)))
      throw new Error(`rbtree check: red node with a red child at ${desc}`);
    const lh = walk(n.rb_left, n, depth + 1);
    order.push(n);
    const rh = walk(n.rb_right, n, depth + 1);
    if (lh !== rh) throw new Error(`rbtree check: black heights ${lh} != ${rh} at ${desc}`);
    return lh + (n.rb_color === RB_BLACK ? 1 : 0);
  };
  const bh = walk(top, null, 0);
  if (order.length !== nr_nodes) throw new Error(`rbtree check: ${order.length} nodes, expected ${nr_nodes}`);
  for (let i = 1; i < order.length; i++) {
    if (keyof(order[i]) < keyof(order[i - 1]))
      throw new Error(`rbtree check: key ${keyof(order[i])} after ${keyof(order[i - 1])}`);
  }
  // rbtree_test.c: count >= (1 << black_height) - 1
  if (nr_nodes < (1 << bh) - 1) throw new Error(`rbtree check: ${nr_nodes} nodes for black height ${bh}`);
  let i = 0;
  for (let n = rb_first(root); n !== null; n = rb_next(n)) {
    if (n !== order[i++]) throw new Error('rbtree check: rb_first/rb_next order differs');
  }
  if (i !== order.length) throw new Error('rbtree check: rb_next stopped early');
  for (let n = rb_last(root); n !== null; n = rb_prev(n)) {
    if (n !== order[--i]) throw new Error('rbtree check: rb_last/rb_prev order differs');
  }
  if (i !== 0) throw new Error('rbtree check: rb_prev stopped early');
  return bh;
}

export function check<N extends RbNode<N> & { key: number }>(root: RbRoot<N>, nr_nodes: number): number {
  return check_tree(root, nr_nodes, (o) => o.key);
}

export function check_augmented(root: RbRoot<TestNode>, nr_nodes: number): void {
  check(root, nr_nodes);
  const walk = (n: TestNode | null): number => {
    if (n === null) return -Infinity;
    const max = Math.max(n.val, walk(n.rb_left), walk(n.rb_right));
    if (n.augmented !== max) fail(`augmented ${n.augmented} != subtree max ${max}`, n);
    return max;
  };
  walk(root.rb_node);
}

export function check_cached(root: RbRootCached<TestNode>, nr_nodes: number): void {
  check(root.rb_root, nr_nodes);
  if (rb_first_cached(root) !== rb_first(root.rb_root)) throw new Error('rbtree check: stale rb_leftmost');
}
