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
 * A hot user may write the expansion out for its struct instead, as
 * mm/vmap_area.ts does: calls through get/set that the JIT leaves out of
 * line box every double they pass.
 */
import {
  RB_BLACK, RB_RED, __rb_erase_augmented, __rb_erase_color, __rb_insert, rb_next,
  type RbNode, type RbRoot, type RbRootCached,
} from './rbtree.ts';

export { RB_BLACK, RB_RED, __rb_change_child, __rb_erase_color } from './rbtree.ts';

/** struct rb_augment_callbacks. */
export interface RbAugmentCallbacks<N extends RbNode<N>> {
  propagate(node: N | null, stop: N | null): void;
  copy(old: N, nw: N): void;
  rotate(old: N, nw: N): void;
}

/* Colour helpers (rb_is_red, rb_is_black). A null child counts as black. */
export function rb_is_red<N extends RbNode<N>>(node: N | null): boolean {
  return node !== null && node.rb_color === RB_RED;
}

export function rb_is_black<N extends RbNode<N>>(node: N | null): boolean {
  return node === null || node.rb_color === RB_BLACK;
}

/**
 * Rebalance after rb_link_node(). The augmented values on the path down to
 * the new node must already include it (or be fixed with propagate() from
 * the new node afterwards); rotations keep the rest right.
 */
export function rb_insert_augmented<N extends RbNode<N>>(node: N, root: RbRoot<N>, augment: RbAugmentCallbacks<N>): void {
  __rb_insert(node, root, augment);
}

export function rb_insert_augmented_cached<N extends RbNode<N>>(
  node: N, root: RbRootCached<N>, newleft: boolean, augment: RbAugmentCallbacks<N>,
): void {
  if (newleft) root.rb_leftmost = node;
  __rb_insert(node, root.rb_root, augment);
}

/** Remove a node, keeping augmented values right. The node is not cleared. */
export function rb_erase_augmented<N extends RbNode<N>>(node: N, root: RbRoot<N>, augment: RbAugmentCallbacks<N>): void {
  const rebalance = __rb_erase_augmented(node, root, augment);
  if (rebalance !== null) __rb_erase_color(rebalance, root, augment);
}

export function rb_erase_augmented_cached<N extends RbNode<N>>(
  node: N, root: RbRootCached<N>, augment: RbAugmentCallbacks<N>,
): void {
  if (root.rb_leftmost === node) root.rb_leftmost = rb_next(node);
  rb_erase_augmented(node, root.rb_root, augment);
}

/** What RB_DECLARE_CALLBACKS_MAX needs to know about the user's struct. */
export interface RbAugmentMaxOps<N extends RbNode<N>> {
  /** RBCOMPUTE: the node's own value (vmalloc: va_size(va)). */
  compute(node: N): number;
  /** Read the augmented field (vmalloc: va.subtree_max_size). */
  get(node: N): number;
  /** Write the augmented field. */
  set(node: N, value: number): void;
}

/**
 * The callbacks RB_DECLARE_CALLBACKS_MAX generates: the augmented value of a
 * node is the max of compute() over its subtree. compute_max() is
 * RBNAME_compute_max: it recomputes one node from its children and, with
 * `exit`, returns true (writing nothing) if the value did not change.
 */
export interface RbAugmentCallbacksMax<N extends RbNode<N>> extends RbAugmentCallbacks<N> {
  compute_max(node: N, exit: boolean): boolean;
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
 *
 * Like the macro, each use expands to its own code: the class is declared
 * inside the function, so every call makes new method closures with their
 * own inline caches and call feedback. The ops calls in them then see one
 * struct type and one target each, and the JIT inlines them, as the C
 * compiler inlines RBCOMPUTE into the generated functions. (One class shared
 * by all users would make these sites polymorphic in every process that has
 * two augmented trees.) Call it once per tree type, at module level.
 */
export function RB_DECLARE_CALLBACKS_MAX<N extends RbNode<N>>(ops: RbAugmentMaxOps<N>): RbAugmentCallbacksMax<N> {
  const { compute, get, set } = ops;
  class RbAugmentCallbacksMaxExpansion implements RbAugmentCallbacksMax<N> {
    compute_max(node: N, exit: boolean): boolean {
      let max = compute(node);
      const l = node.rb_left;
      if (l !== null) {
        const v = get(l);
        if (v > max) max = v;
      }
      const r = node.rb_right;
      if (r !== null) {
        const v = get(r);
        if (v > max) max = v;
      }
      if (exit && get(node) === max) return true;
      set(node, max);
      return false;
    }

    propagate(node: N | null, stop: N | null): void {
      while (node !== stop && node !== null) {
        if (this.compute_max(node, true)) break;
        node = node.rb_parent;
      }
    }

    copy(old: N, nw: N): void {
      set(nw, get(old));
    }

    rotate(old: N, nw: N): void {
      // nw now roots old's former subtree, so it takes old's value as is.
      set(nw, get(old));
      this.compute_max(old, false);
    }
  }
  return new RbAugmentCallbacksMaxExpansion();
}

/** What RB_DECLARE_CALLBACKS needs: any summary A of a subtree. */
export interface RbAugmentOps<N extends RbNode<N>, A> {
  /**
   * RBCOMPUTE(node, exit): recompute the node's augmented value from its
   * own data and its children's values. With `exit`, return true and write
   * nothing if the value is unchanged; otherwise write it and return false.
   */
  compute(node: N, exit: boolean): boolean;
  get(node: N): A;
  set(node: N, value: A): void;
}

/**
 * RB_DECLARE_CALLBACKS(RBSTATIC, RBNAME, RBSTRUCT, RBFIELD, RBAUGMENTED,
 * RBCOMPUTE): the callbacks for any summary. Each use is its own class, as
 * for RB_DECLARE_CALLBACKS_MAX.
 */
export function RB_DECLARE_CALLBACKS<N extends RbNode<N>, A>(ops: RbAugmentOps<N, A>): RbAugmentCallbacks<N> {
  const { compute, get, set } = ops;
  class RbAugmentCallbacksExpansion implements RbAugmentCallbacks<N> {
    propagate(node: N | null, stop: N | null): void {
      while (node !== stop && node !== null) {
        if (compute(node, true)) break;
        node = node.rb_parent;
      }
    }

    copy(old: N, nw: N): void {
      set(nw, get(old));
    }

    rotate(old: N, nw: N): void {
      set(nw, get(old));
      compute(old, false);
    }
  }
  return new RbAugmentCallbacksExpansion();
}
