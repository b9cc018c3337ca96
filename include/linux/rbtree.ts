/*
 * include/linux/rbtree.ts - the rb_add() / rb_find() family.
 *
 * Mirrors the inline helpers of include/linux/rbtree.h (v5.12+): insertion
 * and lookup driven by a comparison function, over lib/rbtree.ts.
 */
import { type RbLink, type RbNode, type RbRoot, type RbRootCached, __rb_insert, rb_insert_color_cached, rb_link_node, rb_next } from '../../lib/rbtree.ts';

/*
 * These take the comparison as a function, so each call site should pass
 * the same (module-level) function every time, not a fresh closure.
 */

/** Insert `node` in sort order given by `less`; equal keys go after existing ones. */
export function rb_add<N extends RbNode<N>>(
  node: N, tree: RbRoot<N>, less: (a: N, b: N) => boolean,
): void {
  let link = tree.rb_node;
  let parent: N | null = null;
  let slot: RbLink = 'rb_left';
  while (link !== null) {
    parent = link;
    if (less(node, link)) {
      link = link.rb_left;
      slot = 'rb_left';
    } else {
      link = link.rb_right;
      slot = 'rb_right';
    }
  }
  rb_link_node(node, parent, slot);
  __rb_insert(node, tree, null);
}

/** rb_add() on a cached root. Returns `node` if it became the leftmost, else null. */
export function rb_add_cached<N extends RbNode<N>>(
  node: N, tree: RbRootCached<N>, less: (a: N, b: N) => boolean,
): N | null {
  let link = tree.rb_root.rb_node;
  let parent: N | null = null;
  let slot: RbLink = 'rb_left';
  let leftmost = true;
  while (link !== null) {
    parent = link;
    if (less(node, link)) {
      link = link.rb_left;
      slot = 'rb_left';
    } else {
      link = link.rb_right;
      slot = 'rb_right';
      leftmost = false;
    }
  }
  rb_link_node(node, parent, slot);
  rb_insert_color_cached(node, tree, leftmost);
  return leftmost ? node : null;
}

/**
 * Insert `node` unless a node comparing equal is present; returns that node
 * (and leaves the tree alone), or null after inserting.
 */
export function rb_find_add<N extends RbNode<N>>(
  node: N, tree: RbRoot<N>, cmp: (a: N, b: N) => number,
): N | null {
  let link = tree.rb_node;
  let parent: N | null = null;
  let slot: RbLink = 'rb_left';
  while (link !== null) {
    parent = link;
    const c = cmp(node, link);
    if (c < 0) {
      link = link.rb_left;
      slot = 'rb_left';
    } else if (c > 0) {
      link = link.rb_right;
      slot = 'rb_right';
    } else {
      return link;
    }
  }
  rb_link_node(node, parent, slot);
  __rb_insert(node, tree, null);
  return null;
}

/** Any node matching `key` (cmp(key, node) === 0), or null. */
export function rb_find<K, N extends RbNode<N>>(key: K, tree: RbRoot<N>, cmp: (key: K, node: N) => number): N | null {
  let node = tree.rb_node;
  while (node !== null) {
    const c = cmp(key, node);
    if (c < 0) node = node.rb_left;
    else if (c > 0) node = node.rb_right;
    else return node;
  }
  return null;
}

/** The leftmost node matching `key`, or null. */
export function rb_find_first<K, N extends RbNode<N>>(
  key: K, tree: RbRoot<N>, cmp: (key: K, node: N) => number,
): N | null {
  let node = tree.rb_node;
  let match: N | null = null;
  while (node !== null) {
    const c = cmp(key, node);
    if (c <= 0) {
      if (c === 0) match = node;
      node = node.rb_left;
    } else {
      node = node.rb_right;
    }
  }
  return match;
}

/** The node after `node` if it also matches `key` (rb_for_each()), else null. */
export function rb_next_match<K, N extends RbNode<N>>(
  key: K, node: N, cmp: (key: K, node: N) => number,
): N | null {
  const next = rb_next(node);
  if (next !== null && cmp(key, next) !== 0) return null;
  return next;
}
