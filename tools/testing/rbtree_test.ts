/*
 * tools/testing/rbtree_test.ts - the test structure of lib/rbtree_test.c.
 *
 * Mirrors rbtree_test.c's struct test_node, its augment callbacks and its
 * insert / insert_cached / insert_augmented, shared by the rbtree tests
 * and the rbtree benchmark.
 */
import { RbNode, type RbRoot, type RbRootCached, type RbLink, rb_insert_color, rb_insert_color_cached, rb_link_node } from '../../lib/rbtree.ts';
import { RB_DECLARE_CALLBACKS_MAX, rb_insert_augmented } from '../../lib/rbtree_augmented.ts';
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
