/*
 * lib/xarray.ts - the XArray: a radix tree of pointers indexed by integers.
 *
 * Mirrors lib/xarray.c and include/linux/xarray.h at the level the page cache
 * needs. An xarray is a tree of xa_nodes of XA_CHUNK_SIZE (64) slots; a node
 * at `shift` holds, in slot n, what lies at indices whose bits
 * shift+5..shift are n:
 *
 *     index = 0x1234 (page 4660):  bits 17..12 | 11..6 | 5..0
 *                                       000001 | 001000 | 110100
 *     head -> node(shift 12) -> slot 1 -> node(shift 6) -> slot 8
 *          -> node(shift 0) -> slot 52 -> the entry
 *
 * The root (xa_head) is null, an entry (which can only be index 0) or the top
 * node. A store beyond the top node's reach grows the tree at the top
 * (xas_expand: a new node whose slot 0 is the old head); erasing the last
 * entry of a node frees it and clears its slot in the parent
 * (xas_delete_node), and a top node holding only slot 0 is replaced by that
 * slot (xas_shrink), so the height is always the least that reaches the
 * largest index, and a tree holding only index 0 is the bare entry.
 * node.count is the number of non-null slots (entries or child nodes).
 *
 * Indices are integers in 0..XA_MAX_INDEX (2^53 - 1, the largest exact
 * double; page indices are < 2^40 in practice). Offsets are computed with
 * 32-bit operations when the index fits in 32 bits and the shift is below
 * 32, and with exact float division by 2^shift otherwise.
 *
 * Simplified: no RCU (one thread of control: no rcu_assign_pointer, no
 * deferred node freeing, no xa_lock), no marks (XA_MARK_0..2 / the page
 * cache's dirty and writeback tags), no multi-index entries (sibling
 * entries: a large folio is stored under every index it covers), no value
 * or internal entries besides nodes (so no nr_values), no xa_state cursor
 * API (xas_*): the xa_* calls walk from the root each time. A node is told
 * from an entry by its class (`instanceof XaNode`) instead of the low
 * pointer bits Linux tags internal entries with, so T may not be XaNode.
 *
 * Cost: each xa_node a load, store or erase walks through is one xa_node
 * charge on the current CPU (xas_descend's step), none for a bare head;
 * a node made or freed is a kmem_cache_alloc or kmem_cache_free.
 * Charged only when a kernel is running: the xarray is also a plain data
 * structure for host tests.
 */
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import { BUG } from '../kernel/panic.ts';
import { smp, this_cpu } from '../kernel/smp.ts';

/* Cost-key indices as module locals: an imported binding is a getter under the TS loaders. */
const K_XA_NODE = COST_KEY_INDEX.xa_node;
const K_KMEM_CACHE_ALLOC = COST_KEY_INDEX.kmem_cache_alloc;
const K_KMEM_CACHE_FREE = COST_KEY_INDEX.kmem_cache_free;

export const XA_CHUNK_SHIFT = 6;
export const XA_CHUNK_SIZE = 1 << XA_CHUNK_SHIFT;
export const XA_CHUNK_MASK = XA_CHUNK_SIZE - 1;
/** The largest index (ULONG_MAX in Linux): the largest exactly representable integer. */
export const XA_MAX_INDEX = Number.MAX_SAFE_INTEGER;

/** 2^shift for every shift a node can have (0, 6, ..., 48), and 2^(shift + 6) above it. */
const POW2: number[] = [];
for (let s = 0; s <= 60; s++) POW2.push(2 ** s);

/** struct xa_node. */
export class XaNode<T> {
  /** Bits of the index below this node's slots: 0 for a leaf node, a multiple of 6. */
  readonly shift: number;
  /** This node's slot number in its parent (0 for the top node). */
  offset: number;
  /** Non-null slots (entries or child nodes); a node with count 0 is freed. */
  count = 0;
  /** The node whose slot[offset] is this one; null for the top node. */
  parent: XaNode<T> | null;
  /** XA_CHUNK_SIZE slots: child nodes if shift > 0, entries if shift === 0. */
  readonly slots: (T | XaNode<T> | null)[];
  constructor(shift: number, parent: XaNode<T> | null, offset: number) {
    this.shift = shift;
    this.parent = parent;
    this.offset = offset;
    this.slots = xa_slots_literal<T>();
  }
}

/*
 * A node's 64 slots, all null, as one array literal. JIT-driven: a literal
 * is allocated once at its final size (packed, not holey) right after the
 * node, where 64 pushes reallocated it several times and left it elsewhere
 * on the heap; a lookup in a large cold file misses the host cache once per
 * level fewer when node and slots sit together.
 */
function xa_slots_literal<T>(): (T | XaNode<T> | null)[] {
  return [
    null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
    null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
    null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
    null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
  ];
}

/** struct xarray: the root. */
export class XArray<T> {
  /** null, the entry at index 0, or the top node. */
  xa_head: T | XaNode<T> | null = null;
}

/** get_offset(): the slot of `index` in a node at `shift`. */
function get_offset(index: number, shift: number): number {
  if (index < 0x100000000 && shift < 32) return (index >>> shift) & XA_CHUNK_MASK;
  return Math.floor(index / POW2[shift]!) % XA_CHUNK_SIZE;
}

/** max_index() of a node: the largest index a tree with this top node reaches. */
function node_maxindex<T>(node: XaNode<T>): number {
  return POW2[node.shift + XA_CHUNK_SHIFT]! - 1;
}

function check_index(index: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index > XA_MAX_INDEX) BUG('%s: bad xarray index %d', what, index);
}

/** Charge `n` node steps of a walk (no kernel running: nothing to charge). */
function xa_charge(n: number): void {
  if (smp.machine !== null) this_cpu().charge_index(K_XA_NODE, n);
}

/*
 * xas_alloc(): an xa_node from radix_tree_node_cachep; xa_node_free() gives
 * one back (kmem_cache_free after RCU in Linux). Charged as the slab's
 * fast paths when a kernel is running.
 */
function xa_node_alloc<T>(shift: number, parent: XaNode<T> | null, offset: number): XaNode<T> {
  if (smp.machine !== null) this_cpu().charge_index(K_KMEM_CACHE_ALLOC);
  return new XaNode<T>(shift, parent, offset);
}

function xa_node_free(): void {
  if (smp.machine !== null) this_cpu().charge_index(K_KMEM_CACHE_FREE);
}

/** The levels from the top node `head` down to `node`, both included. */
function levels<T>(head: XaNode<T>, node: XaNode<T>): number {
  return (head.shift - node.shift) / XA_CHUNK_SHIFT + 1;
}

/** xa_empty(). */
export function xa_empty<T>(xa: XArray<T>): boolean {
  return xa.xa_head === null;
}

/** xa_load(): the entry at `index`, or null. */
export function xa_load<T>(xa: XArray<T>, index: number): T | null {
  const head = xa.xa_head;
  if (!(head instanceof XaNode)) return index === 0 ? head : null;
  let node: XaNode<T> = head;
  if (index > node_maxindex(node)) return null;
  for (;;) {
    const entry = node.slots[get_offset(index, node.shift)]!;
    if (node.shift === 0 || entry === null) {
      xa_charge(levels(head, node));
      return node.shift === 0 ? (entry as T | null) : null;
    }
    node = entry as XaNode<T>;
  }
}

/**
 * xas_expand(): add nodes at the top until the tree reaches `index`. The old
 * head (an entry at index 0 or the old top node) becomes slot 0 of the new
 * top. Returns the top node (the tree has at least one node afterwards).
 */
function xas_expand<T>(xa: XArray<T>, index: number): XaNode<T> {
  const head = xa.xa_head;
  let shift: number;
  if (head === null) {
    // An empty tree: one top node at the height `index` needs, nothing below yet.
    shift = 0;
    while (index > POW2[shift + XA_CHUNK_SHIFT]! - 1) shift += XA_CHUNK_SHIFT;
    const node = xa_node_alloc<T>(shift, null, 0);
    xa.xa_head = node;
    return node;
  }
  let top: XaNode<T> | null = head instanceof XaNode ? head : null;
  shift = top ? top.shift + XA_CHUNK_SHIFT : 0;
  if (top && index <= node_maxindex(top)) return top;
  let slot0: T | XaNode<T> = head;
  for (;;) {
    const node = xa_node_alloc<T>(shift, null, 0);
    node.slots[0] = slot0;
    node.count = 1;
    if (slot0 instanceof XaNode) {
      slot0.parent = node;
      slot0.offset = 0;
    }
    top = node;
    slot0 = node;
    if (index <= node_maxindex(node)) break;
    shift += XA_CHUNK_SHIFT;
  }
  xa.xa_head = top;
  return top;
}

/**
 * xas_shrink(): while the top node holds only slot 0, make that slot the
 * head (an entry at index 0 becomes the bare head).
 */
function xas_shrink<T>(xa: XArray<T>): void {
  for (;;) {
    const node = xa.xa_head;
    if (!(node instanceof XaNode)) return;
    if (node.count !== 1) return;
    const entry = node.slots[0]!;
    if (entry === null) return;
    if (entry instanceof XaNode) entry.parent = null;
    else if (node.shift !== 0) BUG('xas_shrink: entry in slot 0 of a node at shift %d', node.shift);
    xa.xa_head = entry;
    node.slots[0] = null;
    node.count = 0;
    xa_node_free();
  }
}

/**
 * xas_delete_node(): `node` has just lost a slot. Free it (and each ancestor
 * it leaves empty); if the walk stops at the top node, shrink the tree.
 */
function xas_delete_node<T>(xa: XArray<T>, node: XaNode<T>): void {
  for (;;) {
    if (node.count > 0) {
      if (node.parent === null) xas_shrink(xa);
      return;
    }
    const parent = node.parent;
    node.parent = null;
    xa_node_free();
    if (parent === null) {
      xa.xa_head = null;
      return;
    }
    parent.slots[node.offset] = null;
    parent.count--;
    node = parent;
  }
}

/**
 * Would storing at `index` allocate an xa_node? (No Linux counterpart as a
 * function: Linux's xas_store() finds out by trying, and xas_nomem() then
 * allocates with the caller's gfp, which may fail. A caller that injects
 * that failure (failslab's radix_tree_node cache) asks here first.)
 */
export function xa_store_needs_node<T>(xa: XArray<T>, index: number): boolean {
  const head = xa.xa_head;
  if (!(head instanceof XaNode)) return index !== 0;
  if (index > node_maxindex(head)) return true;
  for (let node: XaNode<T> = head; node.shift > 0;) {
    const next = node.slots[get_offset(index, node.shift)];
    if (next === null) return true;
    node = next as XaNode<T>;
  }
  return false;
}

/**
 * xa_store(): put `entry` at `index`, returning what was there (or null).
 * Storing null erases (xa_erase). Linux takes gfp flags for node allocation;
 * allocation cannot fail here.
 */
export function xa_store<T>(xa: XArray<T>, index: number, entry: T | null): T | null {
  if (entry === null) return xa_erase(xa, index);
  check_index(index, 'xa_store');
  if (entry instanceof XaNode) BUG('xa_store: an xa_node cannot be stored as an entry');
  const head = xa.xa_head;
  if (index === 0 && !(head instanceof XaNode)) {
    xa.xa_head = entry;
    return head;
  }
  // xas_create(): grow at the top, then walk down making the missing nodes.
  const top = xas_expand(xa, index);
  let node = top;
  for (;;) {
    const offset = get_offset(index, node.shift);
    const slot = node.slots[offset]!;
    if (node.shift === 0) {
      node.slots[offset] = entry;
      if (slot === null) node.count++;
      xa_charge(levels(top, node));
      return slot as T | null;
    }
    if (slot === null) {
      const child = xa_node_alloc<T>(node.shift - XA_CHUNK_SHIFT, node, offset);
      node.slots[offset] = child;
      node.count++;
      node = child;
    } else {
      node = slot as XaNode<T>;
    }
  }
}

/** xa_erase(): remove the entry at `index`, returning it (or null). */
export function xa_erase<T>(xa: XArray<T>, index: number): T | null {
  const head = xa.xa_head;
  if (!(head instanceof XaNode)) {
    if (index !== 0 || head === null) return null;
    xa.xa_head = null;
    return head;
  }
  if (index < 0 || index > node_maxindex(head)) return null;
  let node: XaNode<T> = head;
  for (;;) {
    const offset = get_offset(index, node.shift);
    const slot = node.slots[offset]!;
    if (slot === null) {
      xa_charge(levels(head, node));
      return null;
    }
    if (node.shift === 0) {
      xa_charge(levels(head, node));
      node.slots[offset] = null;
      node.count--;
      xas_delete_node(xa, node);
      return slot as T;
    }
    node = slot as XaNode<T>;
  }
}

/**
 * The index cursor of xa_find()/xa_find_after(): Linux passes an
 * `unsigned long *indexp` that the call moves to the index found.
 */
export interface XaIndex {
  index: number;
}

/**
 * xa_find(): the first entry at an index in [*indexp, max]; *indexp is set
 * to its index. Null (and *indexp unchanged) if there is none.
 */
export function xa_find<T>(xa: XArray<T>, indexp: XaIndex, max: number): T | null {
  const start = indexp.index;
  if (start > max) return null;
  const head = xa.xa_head;
  if (!(head instanceof XaNode)) {
    if (head === null || start !== 0) return null;
    return head;
  }
  if (start > node_maxindex(head)) return null;
  /*
   * Walk down towards `start`; where a slot is empty, move right within the
   * node, and past its last slot, up to the parent's next slot. `base` is the
   * first index of the current node, so slot n covers
   * base + n * 2^shift .. base + (n + 1) * 2^shift - 1.
   */
  let node: XaNode<T> = head;
  let base = 0;
  let offset = get_offset(start, node.shift);
  let exact = true; // still on the path to `start` (not yet moved right)
  for (;;) {
    if (offset === XA_CHUNK_SIZE) {
      // Past this node: continue after it in the parent.
      const parent = node.parent;
      if (parent === null) return null;
      base -= node.offset * POW2[parent.shift]!;
      offset = node.offset + 1;
      node = parent;
      continue;
    }
    const first = base + offset * POW2[node.shift]!;
    // While exact, first is start rounded down: never past max (checked on entry).
    if (first > max) return null;
    const slot = node.slots[offset]!;
    if (slot === null) {
      exact = false;
      offset++;
      continue;
    }
    if (node.shift === 0) {
      indexp.index = first;
      return slot as T;
    }
    node = slot as XaNode<T>;
    base = first;
    offset = exact ? get_offset(start, node.shift) : 0;
  }
}

/** xa_find_after(): as xa_find(), from *indexp + 1. */
export function xa_find_after<T>(xa: XArray<T>, indexp: XaIndex, max: number): T | null {
  const at = indexp.index;
  if (at >= max) return null;
  indexp.index = at + 1;
  const entry = xa_find(xa, indexp, max);
  if (entry === null) indexp.index = at;
  return entry;
}

/** xa_for_each_start(xa, index, entry, start): [index, entry] pairs in index order from `start`. */
export function* xa_for_each_start<T>(xa: XArray<T>, start: number): Generator<[number, T]> {
  const idx: XaIndex = { index: start };
  for (let entry = xa_find(xa, idx, XA_MAX_INDEX); entry !== null; entry = xa_find_after(xa, idx, XA_MAX_INDEX))
    yield [idx.index, entry];
}

/** xa_for_each(). */
export function xa_for_each<T>(xa: XArray<T>): Generator<[number, T]> {
  return xa_for_each_start(xa, 0);
}
