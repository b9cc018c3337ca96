/*
 * lib/rbtree.ts - red-black trees.
 *
 * Mirrors lib/rbtree.c and include/linux/rbtree.h (the augmented half of the
 * API is in lib/rbtree_augmented.ts, as in include/linux/rbtree_augmented.h).
 * Modelled: the intrusive tree with Linux's shape and names: the caller walks
 * the tree itself, links the new node with rb_link_node() and rebalances with
 * rb_insert_color(); rb_erase(), rb_first/last/next/prev, the postorder walk,
 * rb_replace_node(), the leftmost-cached root (the rb_add()/rb_find() helpers
 * are in include/linux/rbtree.ts),
 * and augmentation hooks (rotate/copy/propagate) at the same points as Linux.
 * Simplified: the parent pointer and the colour are two fields (rb_parent,
 * rb_color) instead of one tagged word (__rb_parent_color); a child slot is
 * named by a RbLink ('rb_left' | 'rb_right') plus its parent instead of a
 * struct rb_node ** (a null parent means "the root slot", which
 * rb_insert_color() fills in).
 * Left out: the RCU variants (rb_link_node_rcu, rb_replace_node_rcu, the
 * WRITE_ONCE ordering for lockless lookups): one thread of control.
 *
 * Embedding. Linux embeds struct rb_node in the user's struct and gets the
 * struct back with container_of(). Here the user's class extends RbNode, so
 * the node and the struct are one object and container_of() is the identity:
 *
 *   class VmapArea extends RbNode<VmapArea> {
 *     va_start = 0; va_end = 0; subtree_max_size = 0;
 *   }
 *   rb_link_node(va, parent, link);    // rb_link_node(&va->rb_node, ...)
 *   const va = rb_entry(node);         // container_of(node, struct vmap_area, rb_node)
 *
 * RbNode is F-bounded (RbNode<N extends RbNode<N>>), so rb_left, rb_right
 * and rb_parent of a VmapArea are typed VmapArea: a search loop reads the
 * key and the links from the same object, one load chain per step, as in C.
 *
 * Why not a separate node object with an owner pointer (the earlier
 * design)? Every step of every search then touched two objects (the node
 * for its links, the owner for its key, and for an augmented tree a third:
 * the child's owner for its subtree value); once a tree outgrows the caches
 * that doubles the misses per step. The price of embedding: the property
 * accesses in this file see one hidden class per user class, so with more
 * than four rb-tree users live in one process they go megamorphic. The
 * kernel has few users (the vmap trees); the test suite, which has more,
 * only pays for it in speed.
 *
 * A struct that must sit on two trees at once (none does today) gives the
 * second tree a small member class that extends RbNode and points back at
 * the struct, which is what the old design did for every tree.
 *
 * Rebalancing allocates nothing; no closure is created per operation.
 */
import type { RbAugmentCallbacks } from './rbtree_augmented.ts';

export const RB_RED = 0;
export const RB_BLACK = 1;

/**
 * struct rb_node, to be extended by the struct that sits on the tree
 * (N is that struct). Fields are written only by this file and
 * lib/rbtree_augmented.ts; users read rb_left/rb_right to walk.
 * Subclasses must not declare fields with these names.
 */
export class RbNode<N extends RbNode<N>> {
  /**
   * Parent node, null for the root. Points at the node itself while the
   * node is on no tree (RB_CLEAR_NODE); a new node starts out cleared.
   */
  rb_parent: N | null;
  rb_color: number; // RB_RED or RB_BLACK
  rb_left: N | null;
  rb_right: N | null;

  constructor() {
    // RB_CLEAR_NODE(this); `this` is an N: N is the class extending RbNode<N>.
    this.rb_parent = this as unknown as N;
    this.rb_color = RB_RED;
    this.rb_left = null;
    this.rb_right = null;
  }
}

/** struct rb_root. RB_ROOT is `new RbRoot()`. */
export class RbRoot<N extends RbNode<N>> {
  rb_node: N | null = null;
}

/**
 * struct rb_root_cached: a root that also remembers its leftmost node, so
 * rb_first_cached() is O(1). Use the *_cached functions on it throughout.
 */
export class RbRootCached<N extends RbNode<N>> {
  readonly rb_root: RbRoot<N> = new RbRoot<N>();
  rb_leftmost: N | null = null;
}

/**
 * Which child slot of a parent a new node goes into: what Linux passes as a
 * struct rb_node ** (&parent->rb_left or &parent->rb_right). Ignored when the
 * parent is null (the root slot).
 */
export type RbLink = 'rb_left' | 'rb_right';

/**
 * rb_entry(ptr, type, member): the struct a node is embedded in. The node
 * is the struct, so this is the identity; kept so that code reads like
 * Linux where it converts.
 */
export function rb_entry<N extends RbNode<N>>(node: N): N {
  return node;
}

/** rb_entry_safe(): rb_entry() that passes null through. */
export function rb_entry_safe<N extends RbNode<N>>(node: N | null): N | null {
  return node;
}

export function rb_parent<N extends RbNode<N>>(node: N): N | null {
  return node.rb_parent;
}

export function RB_EMPTY_ROOT<N extends RbNode<N>>(root: RbRoot<N>): boolean {
  return root.rb_node === null;
}

/** True if the node is on no tree (it was cleared with RB_CLEAR_NODE or never linked). */
export function RB_EMPTY_NODE<N extends RbNode<N>>(node: N): boolean {
  return node.rb_parent === node;
}

export function RB_CLEAR_NODE<N extends RbNode<N>>(node: N): void {
  node.rb_parent = node;
}

/**
 * Put a new (red, childless) node into the child slot `link` of `parent`;
 * with parent === null it is to become the root. Follow with
 * rb_insert_color() or rb_insert_augmented(), which also sets root.rb_node
 * in the null-parent case.
 */
export function rb_link_node<N extends RbNode<N>>(node: N, parent: N | null, link: RbLink): void {
  node.rb_parent = parent;
  node.rb_color = RB_RED;
  node.rb_left = null;
  node.rb_right = null;
  if (parent !== null) {
    if (link === 'rb_left') parent.rb_left = node;
    else parent.rb_right = node;
  }
}

/* --- rebalancing ----------------------------------------------------------
 *
 * Red-black properties, as lib/rbtree.c states them:
 *  1) a node is red or black;  2) the root is black;  3) null leaves are black;
 *  4) both children of a red node are black;
 *  5) every path from a node to its descendant leaves has the same number of
 *     black nodes (the black height).
 * 4) and 5) bound the longest path at twice the shortest: O(log n) depth.
 *
 * In the pictures, lower case is red, upper case black, and n, p, g, s are
 * node, parent, grandparent, sibling.
 */

/** Make `nw` take `old`'s place under `parent` (or at the root). */
export function __rb_change_child<N extends RbNode<N>>(
  old: N, nw: N | null, parent: N | null, root: RbRoot<N>,
): void {
  if (parent !== null) {
    if (parent.rb_left === old) parent.rb_left = nw;
    else parent.rb_right = nw;
  } else {
    root.rb_node = nw;
  }
}

/*
 * Finish a rotation: `nw` (old's child) takes old's parent and colour, old
 * hangs below nw with `color`. The caller has already moved the subtrees.
 */
function __rb_rotate_set_parents<N extends RbNode<N>>(old: N, nw: N, root: RbRoot<N>, color: number): void {
  const parent = old.rb_parent;
  nw.rb_parent = parent;
  nw.rb_color = old.rb_color;
  old.rb_parent = nw;
  old.rb_color = color;
  __rb_change_child(old, nw, parent, root);
}

/**
 * Restore properties 2) and 4) after a red node was linked in (5 holds: red
 * adds no black). `augment` is null for plain trees; its rotate() is called
 * after each rotation, old being the node that moved down.
 */
export function __rb_insert<N extends RbNode<N>>(node: N, root: RbRoot<N>, augment: RbAugmentCallbacks<N> | null): void {
  let parent = node.rb_parent;
  for (;;) {
    if (parent === null) {
      // The node is the root (first insertion, or case 1 recoloured up to it).
      node.rb_color = RB_BLACK;
      root.rb_node = node;
      return;
    }
    if (parent.rb_color === RB_BLACK) return;
    // A red parent is not the root, so the grandparent exists (and is black).
    const gparent: N = parent.rb_parent as N;
    let tmp = gparent.rb_right;
    if (parent !== tmp) {
      // parent is gparent's left child; tmp is the uncle.
      if (tmp !== null && tmp.rb_color === RB_RED) {
        /*
         * Case 1: red uncle. Flip colours; g may now violate 4) with its
         * parent, so go on from g.
         *
         *       G            g
         *      / \          / \
         *     p   u  -->   P   U
         *    /            /
         *   n            n
         */
        tmp.rb_color = RB_BLACK;
        parent.rb_color = RB_BLACK;
        gparent.rb_color = RB_RED;
        node = gparent;
        parent = node.rb_parent;
        continue;
      }
      tmp = parent.rb_right;
      if (node === tmp) {
        /*
         * Case 2: black uncle, n is an inner grandchild. Rotate left at p
         * to make it an outer one, then fall into case 3.
         *
         *      G             G
         *     / \           / \
         *    p   U  -->    n   U
         *     \           /
         *      n         p
         */
        tmp = node.rb_left;
        parent.rb_right = tmp;
        node.rb_left = parent;
        if (tmp !== null) tmp.rb_parent = parent;
        parent.rb_parent = node;
        if (augment !== null) augment.rotate(parent, node);
        parent = node;
        tmp = node.rb_right;
      }
      /*
       * Case 3: black uncle, n is an outer grandchild. Rotate right at g.
       *
       *        G           P
       *       / \         / \
       *      p   U  -->  n   g
       *     /                 \
       *    n                   U
       */
      gparent.rb_left = tmp;
      parent.rb_right = gparent;
      if (tmp !== null) tmp.rb_parent = gparent;
      __rb_rotate_set_parents(gparent, parent, root, RB_RED);
      if (augment !== null) augment.rotate(gparent, parent);
      return;
    } else {
      // Mirror image: parent is gparent's right child.
      tmp = gparent.rb_left;
      if (tmp !== null && tmp.rb_color === RB_RED) {
        tmp.rb_color = RB_BLACK;
        parent.rb_color = RB_BLACK;
        gparent.rb_color = RB_RED;
        node = gparent;
        parent = node.rb_parent;
        continue;
      }
      tmp = parent.rb_left;
      if (node === tmp) {
        tmp = node.rb_right;
        parent.rb_left = tmp;
        node.rb_right = parent;
        if (tmp !== null) tmp.rb_parent = parent;
        parent.rb_parent = node;
        if (augment !== null) augment.rotate(parent, node);
        parent = node;
        tmp = node.rb_left;
      }
      gparent.rb_right = tmp;
      parent.rb_left = gparent;
      if (tmp !== null) tmp.rb_parent = gparent;
      __rb_rotate_set_parents(gparent, parent, root, RB_RED);
      if (augment !== null) augment.rotate(gparent, parent);
      return;
    }
  }
}

/**
 * Unlink `node` from the tree. Returns the parent of the slot that lost a
 * black node (the tree is then one black short on that side) or null when
 * no rebalancing is needed. With `augment`, copy() and propagate() keep the
 * augmented values right on the path up from the change (Linux's
 * __rb_erase_augmented() in rbtree_augmented.h).
 */
export function __rb_erase_augmented<N extends RbNode<N>>(
  node: N, root: RbRoot<N>, augment: RbAugmentCallbacks<N> | null,
): N | null {
  const child = node.rb_right;
  let tmp = node.rb_left;
  let rebalance: N | null;

  if (tmp === null) {
    /*
     * At most one child, on the right. If there is one it is red and node
     * is black (5), so recolouring the child black settles it.
     */
    const parent = node.rb_parent;
    __rb_change_child(node, child, parent, root);
    if (child !== null) {
      child.rb_parent = parent;
      child.rb_color = node.rb_color;
      rebalance = null;
    } else {
      rebalance = node.rb_color === RB_BLACK ? parent : null;
    }
    tmp = parent;
  } else if (child === null) {
    // Only a left child: the same, mirrored (the child is red, node black).
    const parent = node.rb_parent;
    tmp.rb_parent = parent;
    tmp.rb_color = node.rb_color;
    __rb_change_child(node, tmp, parent, root);
    rebalance = null;
    tmp = parent;
  } else {
    /*
     * Two children: the in-order successor S (leftmost of the right
     * subtree, which has no left child) takes node's place and colour;
     * the slot S leaves is where a black may go missing.
     */
    let successor = child;
    let parent: N;
    let child2: N | null;
    tmp = child.rb_left;
    if (tmp === null) {
      /*
       * S is node's right child.
       *
       *     (n)          (s)
       *     / \          / \
       *   (x) (s)  ->  (x) (c)
       *         \
       *         (c)
       */
      parent = successor;
      child2 = successor.rb_right;
      if (augment !== null) augment.copy(node, successor);
    } else {
      /*
       * S is the leftmost node under node's right child y.
       *
       *     (n)          (s)
       *     / \          / \
       *   (x) (y)  ->  (x) (y)
       *       /            /
       *     (p)          (p)
       *     /            /
       *   (s)          (c)
       *     \
       *     (c)
       */
      do {
        parent = successor;
        successor = tmp;
        tmp = tmp.rb_left;
      } while (tmp !== null);
      child2 = successor.rb_right;
      parent.rb_left = child2;
      successor.rb_right = child;
      child.rb_parent = successor;
      if (augment !== null) {
        augment.copy(node, successor);
        augment.propagate(parent, successor);
      }
    }
    const left = node.rb_left as N;
    successor.rb_left = left;
    left.rb_parent = successor;

    const nparent = node.rb_parent;
    __rb_change_child(node, successor, nparent, root);
    if (child2 !== null) {
      // S had one (red) child: paint it black in S's old place.
      child2.rb_parent = parent;
      child2.rb_color = RB_BLACK;
      rebalance = null;
    } else {
      rebalance = successor.rb_color === RB_BLACK ? parent : null;
    }
    successor.rb_parent = nparent;
    successor.rb_color = node.rb_color;
    tmp = successor;
  }

  if (augment !== null) augment.propagate(tmp, null);
  return rebalance;
}

/**
 * Restore 5) after erase: the subtree at the empty slot of `parent` (then,
 * as the deficit moves up, at node) has one black fewer than its sibling's.
 */
export function __rb_erase_color<N extends RbNode<N>>(parent: N, root: RbRoot<N>, augment: RbAugmentCallbacks<N> | null): void {
  let node: N | null = null;
  let sibling: N;
  let tmp1: N | null;
  let tmp2: N | null;

  for (;;) {
    /*
     * Invariant: node is black (or the null slot), it is parent's child,
     * and every path through it is one black short. The sibling exists:
     * its side has black height of at least one.
     */
    tmp1 = parent.rb_right;
    if (node !== tmp1) {
      // node is the left child (on the first pass the slot may be null).
      sibling = tmp1 as N;
      if (sibling.rb_color === RB_RED) {
        /*
         * Case 1: red sibling. Rotate left at p so that node's sibling is
         * black, then go on with cases 2-4.
         *
         *     P               S
         *    / \             / \
         *   N   s    -->    p   Sr
         *      / \         / \
         *     Sl  Sr      N   Sl
         */
        tmp1 = sibling.rb_left as N;
        parent.rb_right = tmp1;
        sibling.rb_left = parent;
        tmp1.rb_parent = parent;
        __rb_rotate_set_parents(parent, sibling, root, RB_RED);
        if (augment !== null) augment.rotate(parent, sibling);
        sibling = tmp1;
      }
      tmp1 = sibling.rb_right;
      if (tmp1 === null || tmp1.rb_color === RB_BLACK) {
        tmp2 = sibling.rb_left;
        if (tmp2 === null || tmp2.rb_color === RB_BLACK) {
          /*
           * Case 2: black sibling with black children. Paint the sibling
           * red: both sides of p are now short. A red p turns black and
           * that pays the debt; a black p passes it up.
           *
           *    (p)           (p)
           *    / \           / \
           *   N   S    -->  N   s
           *      / \           / \
           *     Sl  Sr        Sl  Sr
           */
          sibling.rb_color = RB_RED;
          if (parent.rb_color === RB_RED) {
            parent.rb_color = RB_BLACK;
          } else {
            node = parent;
            const up = node.rb_parent;
            if (up !== null) {
              parent = up;
              continue;
            }
          }
          return;
        }
        /*
         * Case 3: black sibling, its inner child red, outer black. Rotate
         * right at s so the red child becomes the outer one (case 4).
         *
         *   (p)           (p)
         *   / \           / \
         *  N   S    -->  N   sl
         *     / \             \
         *    sl  Sr            S
         *                       \
         *                        Sr
         */
        tmp1 = tmp2.rb_right;
        sibling.rb_left = tmp1;
        tmp2.rb_right = sibling;
        parent.rb_right = tmp2;
        if (tmp1 !== null) tmp1.rb_parent = sibling;
        sibling.rb_parent = tmp2;
        if (augment !== null) augment.rotate(sibling, tmp2);
        tmp1 = sibling;
        sibling = tmp2;
      }
      /*
       * Case 4: black sibling with a red outer child. Rotate left at p; s
       * takes p's colour, p and the outer child turn black: node's side
       * gains a black, the other side keeps its count.
       *
       *      (p)             (s)
       *      / \             / \
       *     N   S     -->   P   Sr
       *        / \         / \
       *      (sl) sr      N  (sl)
       */
      tmp2 = sibling.rb_left;
      parent.rb_right = tmp2;
      sibling.rb_left = parent;
      tmp1 = tmp1 as N;
      tmp1.rb_parent = sibling;
      tmp1.rb_color = RB_BLACK;
      if (tmp2 !== null) tmp2.rb_parent = parent;
      __rb_rotate_set_parents(parent, sibling, root, RB_BLACK);
      if (augment !== null) augment.rotate(parent, sibling);
      return;
    } else {
      // Mirror image: node is the right child.
      sibling = parent.rb_left as N;
      if (sibling.rb_color === RB_RED) {
        tmp1 = sibling.rb_right as N;
        parent.rb_left = tmp1;
        sibling.rb_right = parent;
        tmp1.rb_parent = parent;
        __rb_rotate_set_parents(parent, sibling, root, RB_RED);
        if (augment !== null) augment.rotate(parent, sibling);
        sibling = tmp1;
      }
      tmp1 = sibling.rb_left;
      if (tmp1 === null || tmp1.rb_color === RB_BLACK) {
        tmp2 = sibling.rb_right;
        if (tmp2 === null || tmp2.rb_color === RB_BLACK) {
          sibling.rb_color = RB_RED;
          if (parent.rb_color === RB_RED) {
            parent.rb_color = RB_BLACK;
          } else {
            node = parent;
            const up = node.rb_parent;
            if (up !== null) {
              parent = up;
              continue;
            }
          }
          return;
        }
        tmp1 = tmp2.rb_left;
        sibling.rb_right = tmp1;
        tmp2.rb_left = sibling;
        parent.rb_left = tmp2;
        if (tmp1 !== null) tmp1.rb_parent = sibling;
        sibling.rb_parent = tmp2;
        if (augment !== null) augment.rotate(sibling, tmp2);
        tmp1 = sibling;
        sibling = tmp2;
      }
      tmp2 = sibling.rb_right;
      parent.rb_left = tmp2;
      sibling.rb_right = parent;
      tmp1 = tmp1 as N;
      tmp1.rb_parent = sibling;
      tmp1.rb_color = RB_BLACK;
      if (tmp2 !== null) tmp2.rb_parent = parent;
      __rb_rotate_set_parents(parent, sibling, root, RB_BLACK);
      if (augment !== null) augment.rotate(parent, sibling);
      return;
    }
  }
}

/* --- the plain API ------------------------------------------------------- */

/** Rebalance after rb_link_node(). */
export function rb_insert_color<N extends RbNode<N>>(node: N, root: RbRoot<N>): void {
  __rb_insert(node, root, null);
}

/**
 * Remove a node from its tree. Like Linux, the node is not cleared: call
 * RB_CLEAR_NODE() if RB_EMPTY_NODE() is to report it off-tree.
 */
export function rb_erase<N extends RbNode<N>>(node: N, root: RbRoot<N>): void {
  const rebalance = __rb_erase_augmented(node, root, null);
  if (rebalance !== null) __rb_erase_color(rebalance, root, null);
}

/** The first (leftmost) node in sort order, or null for an empty tree. */
export function rb_first<N extends RbNode<N>>(root: RbRoot<N>): N | null {
  let n = root.rb_node;
  if (n === null) return null;
  while (n.rb_left !== null) n = n.rb_left;
  return n;
}

/** The last (rightmost) node in sort order, or null for an empty tree. */
export function rb_last<N extends RbNode<N>>(root: RbRoot<N>): N | null {
  let n = root.rb_node;
  if (n === null) return null;
  while (n.rb_right !== null) n = n.rb_right;
  return n;
}

/** In-order successor, or null at the end (and for a cleared node). */
export function rb_next<N extends RbNode<N>>(node: N): N | null {
  if (node.rb_parent === node) return null;
  let n = node.rb_right;
  if (n !== null) {
    // Down once to the right, then all the way left.
    while (n.rb_left !== null) n = n.rb_left;
    return n;
  }
  // Up until we come from a left child: that parent is next.
  let cur = node;
  let parent = cur.rb_parent;
  while (parent !== null && cur === parent.rb_right) {
    cur = parent;
    parent = cur.rb_parent;
  }
  return parent;
}

/** In-order predecessor, or null at the start (and for a cleared node). */
export function rb_prev<N extends RbNode<N>>(node: N): N | null {
  if (node.rb_parent === node) return null;
  let n = node.rb_left;
  if (n !== null) {
    while (n.rb_right !== null) n = n.rb_right;
    return n;
  }
  let cur = node;
  let parent = cur.rb_parent;
  while (parent !== null && cur === parent.rb_left) {
    cur = parent;
    parent = cur.rb_parent;
  }
  return parent;
}

function rb_left_deepest_node<N extends RbNode<N>>(node: N): N {
  for (;;) {
    if (node.rb_left !== null) node = node.rb_left;
    else if (node.rb_right !== null) node = node.rb_right;
    else return node;
  }
}

/**
 * Postorder walk (children before parent), for tearing a tree down without
 * rebalancing: the current node may be freed once rb_next_postorder() of it
 * has been taken (rbtree_postorder_for_each_entry_safe).
 */
export function rb_first_postorder<N extends RbNode<N>>(root: RbRoot<N>): N | null {
  return root.rb_node === null ? null : rb_left_deepest_node(root.rb_node);
}

export function rb_next_postorder<N extends RbNode<N>>(node: N): N | null {
  const parent = node.rb_parent;
  if (parent === null) return null;
  // From a left child, go to the deepest leftmost node of the right sibling.
  if (node === parent.rb_left && parent.rb_right !== null) return rb_left_deepest_node(parent.rb_right);
  return parent;
}

/**
 * Put `nw` in `victim`'s place (same position, colour and children) without
 * rebalancing. The caller guarantees the two sort the same.
 */
export function rb_replace_node<N extends RbNode<N>>(victim: N, nw: N, root: RbRoot<N>): void {
  const parent = victim.rb_parent;
  nw.rb_parent = parent;
  nw.rb_color = victim.rb_color;
  nw.rb_left = victim.rb_left;
  nw.rb_right = victim.rb_right;
  if (victim.rb_left !== null) victim.rb_left.rb_parent = nw;
  if (victim.rb_right !== null) victim.rb_right.rb_parent = nw;
  __rb_change_child(victim, nw, parent, root);
}

/* --- leftmost-cached roots ---------------------------------------------- */

/** rb_insert_color() on a cached root; `leftmost` says the walk never went right. */
export function rb_insert_color_cached<N extends RbNode<N>>(node: N, root: RbRootCached<N>, leftmost: boolean): void {
  if (leftmost) root.rb_leftmost = node;
  __rb_insert(node, root.rb_root, null);
}

export function rb_erase_cached<N extends RbNode<N>>(node: N, root: RbRootCached<N>): void {
  if (root.rb_leftmost === node) root.rb_leftmost = rb_next(node);
  rb_erase(node, root.rb_root);
}

export function rb_first_cached<N extends RbNode<N>>(root: RbRootCached<N>): N | null {
  return root.rb_leftmost;
}
