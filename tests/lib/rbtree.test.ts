/*
 * tests/lib/rbtree.test.ts - red-black tree tests.
 *
 * Mirrors lib/rbtree_test.c: NODES random keys inserted and erased again,
 * with check() after every step verifying the red-black properties (and
 * check_augmented() the augmented value), plus fast-check properties
 * against a sorted array, an interval-tree search and a vmalloc-style
 * lowest-fit search against brute force, and corrupted trees that check()
 * must reject.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RB_BLACK, RB_RED, RbNode, RbRoot, RbRootCached, type RbLink, RB_CLEAR_NODE, RB_EMPTY_NODE, RB_EMPTY_ROOT, rb_entry, rb_entry_safe, rb_erase, rb_erase_cached, rb_first, rb_first_cached, rb_first_postorder, rb_last, rb_link_node, rb_next, rb_next_postorder, rb_prev, rb_replace_node } from '../../lib/rbtree.ts';
import { rb_add, rb_add_cached, rb_find, rb_find_add, rb_find_first, rb_next_match } from '../../include/linux/rbtree.ts';
import {
  RB_DECLARE_CALLBACKS, RB_DECLARE_CALLBACKS_MAX, rb_erase_augmented, rb_erase_augmented_cached,
  rb_insert_augmented, rb_insert_augmented_cached, rb_is_black, rb_is_red,
} from '../../lib/rbtree_augmented.ts';
import {
  TestNode, augment_callbacks, Prng, insert, insert_cached, insert_augmented, check_tree, check, check_augmented, check_cached,
} from '../../tools/testing/rbtree_test.ts';

/* The test struct, callbacks, inserts and check() are rbtree_test.c's: tools/testing/rbtree_test.ts. */

function insert_augmented_cached(node: TestNode, root: RbRootCached<TestNode>): void {
  let parent: TestNode | null = null;
  let link: RbLink = 'rb_left';
  let leftmost = true;
  let n = root.rb_root.rb_node;
  while (n !== null) {
    parent = n;
    if (n.augmented < node.val) n.augmented = node.val;
    if (node.key < n.key) { link = 'rb_left'; n = n.rb_left; }
    else { link = 'rb_right'; n = n.rb_right; leftmost = false; }
  }
  node.augmented = node.val;
  rb_link_node(node, parent, link);
  rb_insert_augmented_cached(node, root, leftmost, augment_callbacks);
}

/**
 * mm/vmalloc's way (__link_va + augment_tree_propagate_from): plain
 * descent, rb_insert_augmented(), then zero the new node's value and
 * propagate from it up to the root.
 */
function insert_augmented_vmalloc(node: TestNode, root: RbRoot<TestNode>): void {
  let parent: TestNode | null = null;
  let link: RbLink = 'rb_left';
  let n = root.rb_node;
  while (n !== null) {
    parent = n;
    if (node.key < n.key) { link = 'rb_left'; n = n.rb_left; }
    else { link = 'rb_right'; n = n.rb_right; }
  }
  rb_link_node(node, parent, link);
  rb_insert_augmented(node, root, augment_callbacks);
  node.augmented = 0;
  augment_callbacks.propagate(node, null);
}

/* rbtree_test.c's parameters: nnodes = 100, check_loops = 100 (fewer here). */
const NODES = 100;
const CHECK_LOOPS = 20;

function init(prng: Prng): TestNode[] {
  const nodes: TestNode[] = [];
  for (let i = 0; i < NODES; i++) nodes.push(new TestNode(prng.u32(), prng.u32()));
  return nodes;
}

/* Key ranges small enough to produce duplicates. */
function init_dups(prng: Prng): TestNode[] {
  const nodes: TestNode[] = [];
  for (let i = 0; i < NODES; i++) nodes.push(new TestNode(prng.below(16), prng.below(1000)));
  return nodes;
}

describe('lib_rbtree', () => {
  it('keeps the red-black properties through insert-all/erase-all loops', () => {
    const prng = new Prng(0x31415926);
    for (let loop = 0; loop < CHECK_LOOPS; loop++) {
      const nodes = loop & 1 ? init_dups(prng) : init(prng);
      const root = new RbRoot<TestNode>();
      check(root, 0);
      for (let j = 0; j < NODES; j++) {
        insert(nodes[j], root);
        check(root, j + 1);
      }
      for (let j = 0; j < NODES; j++) {
        rb_erase(nodes[j], root);
        check(root, NODES - j - 1);
      }
      expect(RB_EMPTY_ROOT(root)).toBe(true);
    }
  });

  it('erases in random order, including from the middle of a full tree', () => {
    const prng = new Prng(7);
    for (let loop = 0; loop < CHECK_LOOPS; loop++) {
      const nodes = init_dups(prng);
      const root = new RbRoot<TestNode>();
      nodes.forEach((n) => insert(n, root));
      const order = nodes.slice();
      for (let i = order.length - 1; i > 0; i--) {
        const j = prng.below(i + 1);
        [order[i], order[j]] = [order[j], order[i]];
      }
      let left = NODES;
      for (const n of order) {
        rb_erase(n, root);
        check(root, --left);
      }
    }
  });

  it('keeps rb_leftmost right in a cached root', () => {
    const prng = new Prng(99);
    for (let loop = 0; loop < CHECK_LOOPS; loop++) {
      const nodes = init_dups(prng);
      const root = new RbRootCached<TestNode>();
      for (let j = 0; j < NODES; j++) {
        insert_cached(nodes[j], root);
        check_cached(root, j + 1);
      }
      for (let j = 0; j < NODES; j++) {
        rb_erase_cached(nodes[j], root);
        check_cached(root, NODES - j - 1);
      }
      expect(rb_first_cached(root)).toBe(null);
    }
  });

  it('keeps the subtree max right in an augmented tree (Linux path update)', () => {
    const prng = new Prng(0x27182818);
    for (let loop = 0; loop < CHECK_LOOPS; loop++) {
      const nodes = loop & 1 ? init_dups(prng) : init(prng);
      const root = new RbRoot<TestNode>();
      check_augmented(root, 0);
      for (let j = 0; j < NODES; j++) {
        insert_augmented(nodes[j], root);
        check_augmented(root, j + 1);
      }
      for (let j = 0; j < NODES; j++) {
        rb_erase_augmented(nodes[j], root, augment_callbacks);
        check_augmented(root, NODES - j - 1);
      }
    }
  });

  it('keeps the subtree max right with a cached augmented root', () => {
    const prng = new Prng(5);
    for (let loop = 0; loop < CHECK_LOOPS; loop++) {
      const nodes = init_dups(prng);
      const root = new RbRootCached<TestNode>();
      for (let j = 0; j < NODES; j++) {
        insert_augmented_cached(nodes[j], root);
        check_augmented(root.rb_root, j + 1);
        check_cached(root, j + 1);
      }
      for (let j = NODES - 1; j >= 0; j--) {
        rb_erase_augmented_cached(nodes[j], root, augment_callbacks);
        check_augmented(root.rb_root, j);
        check_cached(root, j);
      }
    }
  });

  it('keeps the subtree max right when inserting the way mm/vmalloc does', () => {
    const prng = new Prng(0xdeadbeef);
    for (let loop = 0; loop < CHECK_LOOPS; loop++) {
      const nodes = loop & 1 ? init_dups(prng) : init(prng);
      // Whatever was left in the field before (vmalloc reuses busy areas).
      for (const n of nodes) n.augmented = prng.u32();
      const root = new RbRoot<TestNode>();
      for (let j = 0; j < NODES; j++) {
        insert_augmented_vmalloc(nodes[j], root);
        check_augmented(root, j + 1);
      }
      for (let j = 0; j < NODES; j++) {
        rb_erase_augmented(nodes[j], root, augment_callbacks);
        check_augmented(root, NODES - j - 1);
      }
    }
  });

  it('propagate() after changing a value in place keeps the max right', () => {
    const prng = new Prng(11);
    const nodes = init(prng);
    const root = new RbRoot<TestNode>();
    nodes.forEach((n) => insert_augmented(n, root));
    for (let i = 0; i < 500; i++) {
      const n = nodes[prng.below(NODES)];
      n.val = prng.below(1 << 30);
      augment_callbacks.propagate(n, null);
      check_augmented(root, NODES);
    }
  });

  it('matches a sorted array under random inserts and erases (property)', () => {
    type Op = { insert: true; key: number; val: number } | { insert: false; pick: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ insert: fc.constant(true as const), key: fc.integer({ min: 0, max: 20 }), val: fc.nat(1000) }),
      fc.record({ insert: fc.constant(false as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const plain = new RbRoot<TestNode>();
        const aug = new RbRoot<TestNode>();
        const cached = new RbRootCached<TestNode>();
        const live: [TestNode, TestNode, TestNode][] = [];
        for (const o of ops) {
          if (o.insert) {
            const t: [TestNode, TestNode, TestNode] = [
              new TestNode(o.key, o.val), new TestNode(o.key, o.val), new TestNode(o.key, o.val)];
            insert(t[0], plain);
            insert_augmented(t[1], aug);
            insert_cached(t[2], cached);
            live.push(t);
          } else if (live.length > 0) {
            const [t] = live.splice(o.pick % live.length, 1);
            rb_erase(t[0], plain);
            rb_erase_augmented(t[1], aug, augment_callbacks);
            rb_erase_cached(t[2], cached);
          }
          check(plain, live.length);
          check_augmented(aug, live.length);
          check_cached(cached, live.length);
          const want = live.map((t) => t[0].key).sort((a, b) => a - b);
          const fwd: number[] = [];
          for (let n = rb_first(plain); n !== null; n = rb_next(n)) fwd.push(n.key);
          const back: number[] = [];
          for (let n = rb_last(aug); n !== null; n = rb_prev(n)) back.push(n.key);
          expect(fwd).toEqual(want);
          expect(back.reverse()).toEqual(want);
          // Equal keys keep insertion order (each goes right of its equals).
          const seq: TestNode[] = [];
          for (let n = rb_first(plain); n !== null; n = rb_next(n)) seq.push(n);
          const byKey = live.map((t) => t[0]).sort((a, b) => a.key - b.key);
          expect(seq).toEqual(byKey);
          const max = live.reduce((m, t) => Math.max(m, t[1].val), -Infinity);
          if (aug.rb_node !== null) expect(aug.rb_node.augmented).toBe(max);
        }
      }),
      { seed: 20240601, numRuns: 200 },
    );
  });

  it('finds intervals stabbing a point (interval tree, max of last)', () => {
    /*
     * struct interval_tree_node: [start, last] keyed by start, augmented
     * with __subtree_last = max(last) over the subtree, which prunes any
     * subtree whose intervals all end before the query.
     */
    class Interval extends RbNode<Interval> {
      start: number; last: number; subtree_last = 0;
      constructor(start: number, last: number) { super(); this.start = start; this.last = last; }
    }
    const cb = RB_DECLARE_CALLBACKS_MAX<Interval>({
      compute: (n) => n.last, get: (n) => n.subtree_last, set: (n, v) => { n.subtree_last = v; },
    });
    const insert_iv = (iv: Interval, root: RbRoot<Interval>): void => {
      let parent: Interval | null = null;
      let link: RbLink = 'rb_left';
      let n = root.rb_node;
      while (n !== null) {
        parent = n;
        if (n.subtree_last < iv.last) n.subtree_last = iv.last;
        if (iv.start < n.start) { link = 'rb_left'; n = n.rb_left; }
        else { link = 'rb_right'; n = n.rb_right; }
      }
      iv.subtree_last = iv.last;
      rb_link_node(iv, parent, link);
      rb_insert_augmented(iv, root, cb);
    };
    // All intervals containing point q, in start order.
    const stab = (root: RbRoot<Interval>, q: number): Interval[] => {
      const out: Interval[] = [];
      let visited = 0;
      const walk = (n: Interval | null): void => {
        if (n === null || n.subtree_last < q) return;
        visited++;
        walk(n.rb_left);
        if (n.start > q) return;
        if (n.last >= q) out.push(n);
        walk(n.rb_right);
      };
      walk(root.rb_node);
      return out;
    };

    const prng = new Prng(0x1717);
    const root = new RbRoot<Interval>();
    const live: Interval[] = [];
    for (let step = 0; step < 2000; step++) {
      if (live.length < 60 || prng.below(3) !== 0) {
        const start = prng.below(10000);
        const iv = new Interval(start, start + prng.below(300));
        insert_iv(iv, root);
        live.push(iv);
      } else {
        const [iv] = live.splice(prng.below(live.length), 1);
        rb_erase_augmented(iv, root, cb);
      }
      if (step % 10 === 0) {
        check_tree(root, live.length, (iv) => iv.start);
        const q = prng.below(10400);
        const want = live.filter((iv) => iv.start <= q && q <= iv.last).sort((a, b) => a.start - b.start);
        expect(stab(root, q).map((iv) => iv.start)).toEqual(want.map((iv) => iv.start));
      }
    }
  });

  it('finds the lowest-address fit like mm/vmalloc (max of size)', () => {
    /*
     * Free blocks keyed by address, augmented with the largest size in the
     * subtree. find_vmap_lowest_match(): go left while the left subtree
     * has a fit, else take this node if it fits, else go right.
     *
     *   0         1         2
     *   0123456789012345678901234
     *   ..AAA.BBBBBBB..CC.DDDD...   free blocks A, B, C, D
     *
     *   lowest fit: size 2 -> A, size 4 -> B, size 7 -> B, size 8 -> none;
     *   with B gone, size 4 -> D.
     */
    class Block extends RbNode<Block> {
      va_start: number; va_end: number; subtree_max_size = 0;
      constructor(s: number, e: number) { super(); this.va_start = s; this.va_end = e; }
    }
    const va_size = (va: Block): number => va.va_end - va.va_start;
    const cb = RB_DECLARE_CALLBACKS_MAX<Block>({
      compute: va_size, get: (va) => va.subtree_max_size, set: (va, v) => { va.subtree_max_size = v; },
    });
    const get_subtree_max_size = (n: Block | null): number => (n === null ? 0 : n.subtree_max_size);
    const lowest_match = (root: RbRoot<Block>, size: number): Block | null => {
      let n = root.rb_node;
      while (n !== null) {
        if (get_subtree_max_size(n.rb_left) >= size) { n = n.rb_left; continue; }
        if (va_size(n) >= size) return n;
        if (get_subtree_max_size(n.rb_right) >= size) { n = n.rb_right; continue; }
        return null;
      }
      return null;
    };
    // insert_vmap_area_augment(): link, rb_insert_augmented, then propagate up.
    function add(va: Block, root: RbRoot<Block>): void {
      let parent: Block | null = null;
      let link: RbLink = 'rb_left';
      let n = root.rb_node;
      while (n !== null) {
        parent = n;
        if (va.va_start < n.va_start) { link = 'rb_left'; n = n.rb_left; }
        else { link = 'rb_right'; n = n.rb_right; }
      }
      rb_link_node(va, parent, link);
      rb_insert_augmented(va, root, cb);
      va.subtree_max_size = 0;
      cb.propagate(va, null);
    }

    // The picture above.
    const root = new RbRoot<Block>();
    const blocks = [new Block(2, 5), new Block(6, 13), new Block(15, 17), new Block(18, 22)];
    blocks.forEach((b) => add(b, root));
    expect(lowest_match(root, 4)?.va_start).toBe(6);
    expect(lowest_match(root, 2)?.va_start).toBe(2);
    expect(lowest_match(root, 7)?.va_start).toBe(6);
    expect(lowest_match(root, 8)).toBe(null);
    rb_erase_augmented(blocks[1], root, cb);
    expect(lowest_match(root, 4)?.va_start).toBe(18);

    // Random non-overlapping blocks against a linear scan.
    const prng = new Prng(4242);
    const tree = new RbRoot<Block>();
    const live: Block[] = [];
    for (let step = 0; step < 3000; step++) {
      if (live.length < 50 || prng.below(2) === 0) {
        const s = prng.below(1 << 20) * 16;
        const va = new Block(s, s + 1 + prng.below(4096));
        add(va, tree);
        live.push(va);
      } else {
        const [va] = live.splice(prng.below(live.length), 1);
        rb_erase_augmented(va, tree, cb);
      }
      const size = 1 + prng.below(4096);
      const want = live.filter((b) => va_size(b) >= size).sort((a, b) => a.va_start - b.va_start)[0] ?? null;
      expect(lowest_match(tree, size)).toBe(want);
    }
  });

  it('supports any summary with RB_DECLARE_CALLBACKS (subtree count, rank/select)', () => {
    class Ranked extends RbNode<Ranked> {
      key: number; count = 1;
      constructor(key: number) { super(); this.key = key; }
    }
    const count_of = (n: Ranked | null): number => (n === null ? 0 : n.count);
    const cb = RB_DECLARE_CALLBACKS<Ranked, number>({
      compute: (n, exit) => {
        const c = 1 + count_of(n.rb_left) + count_of(n.rb_right);
        if (exit && n.count === c) return true;
        n.count = c;
        return false;
      },
      get: (n) => n.count,
      set: (n, v) => { n.count = v; },
    });
    const add = (r: Ranked, root: RbRoot<Ranked>): void => {
      let parent: Ranked | null = null;
      let link: RbLink = 'rb_left';
      let n = root.rb_node;
      while (n !== null) {
        parent = n;
        n.count++;
        if (r.key < n.key) { link = 'rb_left'; n = n.rb_left; }
        else { link = 'rb_right'; n = n.rb_right; }
      }
      r.count = 1;
      rb_link_node(r, parent, link);
      rb_insert_augmented(r, root, cb);
    };
    const select = (root: RbRoot<Ranked>, i: number): Ranked | null => {
      let n = root.rb_node;
      while (n !== null) {
        const l = count_of(n.rb_left);
        if (i < l) n = n.rb_left;
        else if (i === l) return n;
        else { i -= l + 1; n = n.rb_right; }
      }
      return null;
    };
    const prng = new Prng(31337);
    const root = new RbRoot<Ranked>();
    const live: Ranked[] = [];
    for (let step = 0; step < 1500; step++) {
      if (live.length < 40 || prng.below(2) === 0) {
        const r = new Ranked(prng.below(500));
        add(r, root);
        live.push(r);
      } else {
        const [r] = live.splice(prng.below(live.length), 1);
        rb_erase_augmented(r, root, cb);
      }
      expect(count_of(root.rb_node)).toBe(live.length);
      const sorted = live.map((r) => r.key).sort((a, b) => a - b);
      const i = prng.below(live.length);
      expect(select(root, i)?.key).toBe(sorted[i]);
    }
    check(root, live.length);
  });

  it('rejects corrupted trees', () => {
    // Build a tree of 1..15 and corrupt a fresh copy in each way.
    const build = (): { root: RbRoot<TestNode>; nodes: TestNode[] } => {
      const root = new RbRoot<TestNode>();
      const nodes: TestNode[] = [];
      for (let k = 1; k <= 15; k++) {
        const n = new TestNode(k, k * 10);
        insert_augmented(n, root);
        nodes.push(n);
      }
      check_augmented(root, 15);
      return { root, nodes };
    };
    const find = (root: RbRoot<TestNode>, key: number): TestNode =>
      rb_find(key, root, (k, n) => k - n.key) as TestNode;
    const anyRed = (root: RbRoot<TestNode>): TestNode => {
      for (let n = rb_first(root); n !== null; n = rb_next(n)) if (n.rb_color === RB_RED) return n;
      throw new Error('no red node');
    };

    let t = build();
    (t.root.rb_node as TestNode).rb_color = RB_RED;
    expect(() => check(t.root, 15)).toThrow(/root is red/);

    t = build();
    anyRed(t.root).rb_color = RB_BLACK; // one path gains a black
    expect(() => check(t.root, 15)).toThrow(/black heights/);

    t = build();
    {
      const red = anyRed(t.root);
      (red.rb_parent as TestNode).rb_color = RB_RED; // red parent over red child
      expect(() => check(t.root, 15)).toThrow(/red node with a red child|black heights|root is red/);
    }

    t = build();
    find(t.root, 3).key = 99;
    expect(() => check(t.root, 15)).toThrow(/key/);

    t = build();
    find(t.root, 1).rb_parent = find(t.root, 15);
    expect(() => check(t.root, 15)).toThrow(/bad parent pointer/);

    t = build();
    expect(() => check(t.root, 14)).toThrow(/15 nodes, expected 14/);

    t = build();
    find(t.root, 8).augmented += 1;
    expect(() => check_augmented(t.root, 15)).toThrow(/augmented/);

    t = build();
    // A leaf whose augmented value is stale after its val changed.
    {
      const leaf = rb_first(t.root) as TestNode;
      leaf.val = 1000;
      expect(() => check_augmented(t.root, 15)).toThrow(/augmented/);
      augment_callbacks.propagate(leaf, null);
      check_augmented(t.root, 15);
    }

    t = build();
    // Losing a subtree.
    {
      const r = t.root.rb_node as TestNode;
      r.rb_left = null;
      expect(() => check(t.root, 15)).toThrow();
    }
  });

  it('iterates both ways, postorder, and treats cleared nodes as off-tree', () => {
    const root = new RbRoot<TestNode>();
    expect(rb_first(root)).toBe(null);
    expect(rb_last(root)).toBe(null);
    expect(rb_first_postorder(root)).toBe(null);
    const nodes: TestNode[] = [];
    for (let k = 0; k < 64; k++) nodes.push(new TestNode((k * 37) % 64, k));
    expect(RB_EMPTY_NODE(nodes[0])).toBe(true);
    nodes.forEach((n) => insert(n, root));
    expect(RB_EMPTY_NODE(nodes[0])).toBe(false);
    const keys: number[] = [];
    for (let n = rb_first(root); n !== null; n = rb_next(n)) keys.push(rb_entry(n).key);
    expect(keys).toEqual([...Array(64).keys()]);
    const rkeys: number[] = [];
    for (let n = rb_last(root); n !== null; n = rb_prev(n)) rkeys.push(rb_entry(n).key);
    expect(rkeys).toEqual([...Array(64).keys()].reverse());

    // Postorder: every node after both its children, each exactly once.
    const seen = new Set<TestNode>();
    for (let n = rb_first_postorder(root); n !== null; n = rb_next_postorder(n)) {
      if (n.rb_left !== null) expect(seen.has(n.rb_left)).toBe(true);
      if (n.rb_right !== null) expect(seen.has(n.rb_right)).toBe(true);
      expect(seen.has(n)).toBe(false);
      seen.add(n);
    }
    expect(seen.size).toBe(64);

    const victim = nodes[5];
    rb_erase(victim, root);
    RB_CLEAR_NODE(victim);
    expect(RB_EMPTY_NODE(victim)).toBe(true);
    expect(rb_next(victim)).toBe(null);
    expect(rb_prev(victim)).toBe(null);
    expect(rb_entry_safe(null)).toBe(null);
    check(root, 63);
  });

  it('replaces a node in place with rb_replace_node', () => {
    const root = new RbRoot<TestNode>();
    const nodes: TestNode[] = [];
    for (let k = 0; k < 31; k++) {
      nodes.push(new TestNode(k, 0));
      insert(nodes[k], root);
    }
    for (const k of [15, 0, 30, 7]) {
      const old = nodes[k];
      const nw = new TestNode(k, 1);
      rb_replace_node(old, nw, root);
      nodes[k] = nw;
      check(root, 31);
    }
    const vals: number[] = [];
    for (let n = rb_first(root); n !== null; n = rb_next(n)) vals.push(n.val);
    expect(vals.filter((v) => v === 1).length).toBe(4);
    expect(rb_find(15, root, (k, n) => k - n.key)).toBe(nodes[15]);
  });

  it('rb_add, rb_add_cached, rb_find, rb_find_first, rb_next_match, rb_find_add', () => {
    const less = (a: TestNode, b: TestNode): boolean => a.key < b.key;
    const cmp = (k: number, n: TestNode): number => k - n.key;
    const root = new RbRoot<TestNode>();
    const prng = new Prng(123);
    const all: TestNode[] = [];
    for (let i = 0; i < 200; i++) {
      const n = new TestNode(prng.below(50), i);
      rb_add(n, root, less);
      all.push(n);
    }
    check(root, 200);
    for (let k = -1; k <= 50; k++) {
      const want = all.filter((n) => n.key === k); // insertion order = tree order for equals
      const first = rb_find_first(k, root, cmp);
      const got: TestNode[] = [];
      for (let n = first; n !== null; n = rb_next_match(k, n, cmp)) got.push(n);
      expect(got).toEqual(want);
      const any = rb_find(k, root, cmp);
      expect(any === null ? null : any.key).toBe(want.length ? k : null);
    }

    const uniq = new RbRoot<TestNode>();
    const ncmp = (a: TestNode, b: TestNode): number => a.key - b.key;
    const a = new TestNode(3, 0);
    const b = new TestNode(3, 1);
    expect(rb_find_add(a, uniq, ncmp)).toBe(null);
    expect(rb_find_add(b, uniq, ncmp)).toBe(a);
    check(uniq, 1);

    const cached = new RbRootCached<TestNode>();
    const c5 = new TestNode(5, 0);
    const c9 = new TestNode(9, 0);
    const c1 = new TestNode(1, 0);
    expect(rb_add_cached(c5, cached, less)).toBe(c5);
    expect(rb_add_cached(c9, cached, less)).toBe(null);
    expect(rb_add_cached(c1, cached, less)).toBe(c1);
    check_cached(cached, 3);
    expect(rb_entry_safe(rb_first_cached(cached))).toBe(c1);
  });

  it('colour helpers treat null leaves as black', () => {
    expect(rb_is_black(null)).toBe(true);
    expect(rb_is_red(null)).toBe(false);
    const n = new TestNode(0, 0);
    expect(rb_is_red(n)).toBe(true); // new nodes are red until inserted
    const root = new RbRoot<TestNode>();
    insert(n, root);
    expect(rb_is_black(n)).toBe(true);
  });
});
