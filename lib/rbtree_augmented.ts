/*
 * lib/rbtree_augmented.ts - rb-trees that keep a per-subtree summary.
 *
 * Mirrors include/linux/rbtree_augmented.h (the rebalancing itself is shared
 * with lib/rbtree.ts, as lib/rbtree.c includes the header). Each node's
 * struct carries an augmented value computed from the node and its
 * children (mm/vmalloc's subtree_max_size, the interval tree's
 * __subtree_last); three callbacks keep it right as the tree changes:
 *   rotate(old, new)   after a rotation: new took old's place, old moved down
 *   copy(old, new)     on erase: new (the successor) takes old's place
 *   propagate(n, stop) recompute from n up to, not including, stop (null:
 *                      the root), stopping early once a value is unchanged.
 * On insertion the caller updates the values on the path it walked down (or
 * propagates up from the new node afterwards, as mm/vmalloc does), links the
 * node with rb_link_node() and calls rb_insert_augmented().
 *
 * Modelled: RB_DECLARE_CALLBACKS_MAX (the max of a per-node number over the
 * subtree) and RB_DECLARE_CALLBACKS (any summary, given compute/get/set),
 * the cached-root variants, and the rbtree_augmented.h colour helpers.
 * Simplified: the macros are functions that return a callbacks object; the
 * augmented field is reached through the get/set functions passed in rather
 * than named by the macro, and RBSTATIC/RBNAME have no equivalent (bind the
 * result to a module-level constant named like Linux's callbacks struct,
 * e.g. free_vmap_area_rb_augment_cb). Values are JS numbers for the MAX form.
 */
import {
  RB_BLACK, RB_RED, __rb_erase_augmented, __rb_erase_color, __rb_insert, rb_next,
  type RbNode, type RbRoot, type RbRootCached,
} from './rbtree.ts';

export { RB_BLACK, RB_RED, __rb_change_child, __rb_erase_color } from './rbtree.ts';

/** struct rb_augment_callbacks. */
export interface RbAugmentCallbacks<T> {
  propagate(node: RbNode<T> | null, stop: RbNode<T> | null): void;
  copy(old: RbNode<T>, nw: RbNode<T>): void;
  rotate(old: RbNode<T>, nw: RbNode<T>): void;
}

/*
 * Colour helpers (rb_color, rb_is_red, rb_is_black, rb_set_parent,
 * rb_set_parent_color). A null child counts as black.
 */
export function rb_color<T>(node: RbNode<T>): number {
  return node.rb_color;
}

export function rb_is_red<T>(node: RbNode<T> | null): boolean {
  return node !== null && node.rb_color === RB_RED;
}

export function rb_is_black<T>(node: RbNode<T> | null): boolean {
  return node === null || node.rb_color === RB_BLACK;
}

export function rb_set_parent<T>(node: RbNode<T>, parent: RbNode<T> | null): void {
  node.rb_parent = parent;
}

export function rb_set_parent_color<T>(node: RbNode<T>, parent: RbNode<T> | null, color: number): void {
  node.rb_parent = parent;
  node.rb_color = color;
}

/**
 * Rebalance after rb_link_node(). The augmented values on the path down to
 * the new node must already include it (or be fixed with propagate() from
 * the new node afterwards); rotations keep the rest right.
 */
export function rb_insert_augmented<T>(node: RbNode<T>, root: RbRoot<T>, augment: RbAugmentCallbacks<T>): void {
  __rb_insert(node, root, augment);
}

export function rb_insert_augmented_cached<T>(
  node: RbNode<T>, root: RbRootCached<T>, newleft: boolean, augment: RbAugmentCallbacks<T>,
): void {
  if (newleft) root.rb_leftmost = node;
  __rb_insert(node, root.rb_root, augment);
}

/** Remove a node, keeping augmented values right. The node is not cleared. */
export function rb_erase_augmented<T>(node: RbNode<T>, root: RbRoot<T>, augment: RbAugmentCallbacks<T>): void {
  const rebalance = __rb_erase_augmented(node, root, augment);
  if (rebalance !== null) __rb_erase_color(rebalance, root, augment);
}

export function rb_erase_augmented_cached<T>(
  node: RbNode<T>, root: RbRootCached<T>, augment: RbAugmentCallbacks<T>,
): void {
  if (root.rb_leftmost === node) root.rb_leftmost = rb_next(node);
  rb_erase_augmented(node, root.rb_root, augment);
}

/** What RB_DECLARE_CALLBACKS_MAX needs to know about the user's struct. */
export interface RbAugmentMaxOps<T> {
  /** RBCOMPUTE: the node's own value (vmalloc: va_size(va)). */
  compute(owner: T): number;
  /** Read the augmented field (vmalloc: va.subtree_max_size). */
  get(owner: T): number;
  /** Write the augmented field. */
  set(owner: T, value: number): void;
}

/**
 * The callbacks RB_DECLARE_CALLBACKS_MAX generates: the augmented value of a
 * node is the max of compute() over its subtree. compute_max() is
 * RBNAME_compute_max: it recomputes one node from its children and, with
 * `exit`, returns true (writing nothing) if the value did not change.
 *
 * A class rather than an object of closures so that every MAX callbacks
 * object shares one hidden class and one set of method bodies.
 */
export class RbAugmentCallbacksMax<T> implements RbAugmentCallbacks<T> {
  private readonly ops: RbAugmentMaxOps<T>;

  constructor(ops: RbAugmentMaxOps<T>) {
    this.ops = ops;
  }

  compute_max(node: RbNode<T>, exit: boolean): boolean {
    const ops = this.ops;
    const owner = node.owner;
    let max = ops.compute(owner);
    const l = node.rb_left;
    if (l !== null) {
      const v = ops.get(l.owner);
      if (v > max) max = v;
    }
    const r = node.rb_right;
    if (r !== null) {
      const v = ops.get(r.owner);
      if (v > max) max = v;
    }
    if (exit && ops.get(owner) === max) return true;
    ops.set(owner, max);
    return false;
  }

  propagate(node: RbNode<T> | null, stop: RbNode<T> | null): void {
    while (node !== stop && node !== null) {
      if (this.compute_max(node, true)) break;
      node = node.rb_parent;
    }
  }

  copy(old: RbNode<T>, nw: RbNode<T>): void {
    const ops = this.ops;
    ops.set(nw.owner, ops.get(old.owner));
  }

  rotate(old: RbNode<T>, nw: RbNode<T>): void {
    const ops = this.ops;
    // nw now roots old's former subtree, so it takes old's value as is.
    ops.set(nw.owner, ops.get(old.owner));
    this.compute_max(old, false);
  }
}

/**
 * RB_DECLARE_CALLBACKS_MAX(RBSTATIC, RBNAME, RBSTRUCT, RBFIELD, RBTYPE,
 * RBAUGMENTED, RBCOMPUTE). For mm/vmalloc:
 *
 *   const free_vmap_area_rb_augment_cb = RB_DECLARE_CALLBACKS_MAX<VmapArea>({
 *     compute: va_size,
 *     get: (va) => va.subtree_max_size,
 *     set: (va, v) => { va.subtree_max_size = v; },
 *   });
 */
export function RB_DECLARE_CALLBACKS_MAX<T>(ops: RbAugmentMaxOps<T>): RbAugmentCallbacksMax<T> {
  return new RbAugmentCallbacksMax<T>(ops);
}

/** What RB_DECLARE_CALLBACKS needs: any summary A of a subtree. */
export interface RbAugmentOps<T, A> {
  /**
   * RBCOMPUTE(node, exit): recompute the node's augmented value from its
   * own data and its children's values. With `exit`, return true and write
   * nothing if the value is unchanged; otherwise write it and return false.
   */
  compute(node: RbNode<T>, exit: boolean): boolean;
  get(owner: T): A;
  set(owner: T, value: A): void;
}

/** The callbacks RB_DECLARE_CALLBACKS generates. */
export class RbAugmentCallbacksGeneric<T, A> implements RbAugmentCallbacks<T> {
  private readonly ops: RbAugmentOps<T, A>;

  constructor(ops: RbAugmentOps<T, A>) {
    this.ops = ops;
  }

  propagate(node: RbNode<T> | null, stop: RbNode<T> | null): void {
    while (node !== stop && node !== null) {
      if (this.ops.compute(node, true)) break;
      node = node.rb_parent;
    }
  }

  copy(old: RbNode<T>, nw: RbNode<T>): void {
    this.ops.set(nw.owner, this.ops.get(old.owner));
  }

  rotate(old: RbNode<T>, nw: RbNode<T>): void {
    this.ops.set(nw.owner, this.ops.get(old.owner));
    this.ops.compute(old, false);
  }
}

/** RB_DECLARE_CALLBACKS(RBSTATIC, RBNAME, RBSTRUCT, RBFIELD, RBAUGMENTED, RBCOMPUTE). */
export function RB_DECLARE_CALLBACKS<T, A>(ops: RbAugmentOps<T, A>): RbAugmentCallbacksGeneric<T, A> {
  return new RbAugmentCallbacksGeneric<T, A>(ops);
}
