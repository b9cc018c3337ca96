/*
 * mm/vmap_area.ts - the global kernel virtual address (KVA) allocator.
 *
 * Mirrors the "Global kva allocator" half of mm/vmalloc.c (Uladzislau
 * Rezki's 2019 design, commit 68ad4a330433): free space lives in an rb-tree
 * sorted by address and augmented with subtree_max_size (the largest free
 * block below each node), plus an address-sorted list for O(1) neighbours,
 * so the lowest fitting block is found in O(log n) and a freed block merges
 * with both neighbours in O(log n).
 * Modelled: struct vmap_area and struct vm_struct, the busy tree and list,
 * the free tree and list; and in mm/vmap_alloc.ts the search and the
 * allocation: find_vmap_lowest_match() with vstart and the
 * alignment-adjusted search length, classify_va_fit_type() and va_clip()
 * (FL/LE/RE/NE), __merge_or_add_vmap_area(), alloc_vmap_area() with its
 * overflow path (purge, then retry, then "vmalloc_node_range ... failed"),
 * free_vmap_area(), find_vmap_area(), vmap_init_free_space(), and the two
 * debug checks DEBUG_AUGMENT_LOWEST_MATCH_CHECK and
 * DEBUG_AUGMENT_PROPAGATE_CHECK, on with debug_vm.
 * Simplified: one busy tree (Linux since v6.9 spreads busy and lazy areas
 * over per-CPU "vmap nodes" with size pools; tskernel has one node and no
 * pools); no locks (one thread of control); vmap_area_cachep is a bounded
 * free list of JS objects that cannot run dry, so there is no
 * ne_fit_preload_node (a NE split cannot fail for want of an object). The
 * overflow path's purge is reached through
 * vmap_state.reclaim_and_purge_vmap_areas, which mm/vmap_purge.ts fills in at
 * boot (a direct import would be a cycle).
 * tskernel additions: alloc_vmap_area() refuses a range outside the vmalloc
 * and module areas (Linux trusts its callers); counters of fit types and
 * of tree nodes visited, charged to the CPU as loads so that tree work shows
 * in modelled cycles; the locks Linux takes around each tree (as uncontended
 * spin_lock pairs), the vmap_area slab objects and the vmap_lazy_nr atomic
 * are charged where Linux takes them, though none is modelled as a lock.
 * Left out: KASAN shadow population, kmemleak, NUMA placement, vmap nodes,
 * the vmap_notify_list notifiers (none registered in tskernel).
 *
 * Addresses are 48-bit numbers (DESIGN.md section 5). The KVA space the
 * trees manage is Linux's [1, ULONG_MAX) with ULONG_MAX the top of the
 * 48-bit space; allocations restrict themselves to [vstart, vend).
 */
import { RbNode, RbRoot, RB_CLEAR_NODE, RB_EMPTY_NODE, rb_erase, rb_insert_color, rb_link_node, type RbLink } from '../lib/rbtree.ts';
import { type RbAugmentCallbacksMax, rb_erase_augmented, rb_insert_augmented } from '../lib/rbtree_augmented.ts';
import { INIT_LIST_HEAD, list_add, list_del_init } from '../include/linux/list.ts';
import { RndState, prandom_seed_state } from '../lib/prandom.ts';
import { BUG, WARN, WARN_ON } from '../kernel/panic.ts';
import { printk, KERN_EMERG } from '../kernel/printk.ts';
import { smp } from '../kernel/smp.ts';
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import type { Machine } from '../arch/x86/hw/smp.ts';
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';
import { format_va } from '../arch/x86/include/asm/page.ts';

/* include/linux/vmalloc.h, which mm/vmalloc.c's users reach through it here. */
export {
  VM_IOREMAP, VM_ALLOC, VM_MAP, VM_USERMAP, VM_DMA_COHERENT, VM_UNINITIALIZED, VM_NO_GUARD, VM_KASAN,
  VM_FLUSH_RESET_PERMS, VM_MAP_PUT_PAGES, VM_ALLOW_HUGE_VMAP, VM_SPARSE, IOREMAP_MAX_ORDER, VMAP_RAM, VMAP_BLOCK,
  VMAP_FLAGS_MASK, VMAP_ULONG_MAX, VmStruct,
} from '../include/linux/vmalloc.ts';
import { VMAP_ULONG_MAX, VM_NO_GUARD, VmStruct } from '../include/linux/vmalloc.ts';

/*
 * struct list_head, embedded in struct vmap_area as Linux embeds it
 * (`struct list_head list`, include/linux/list.ts). A list's head
 * (vmap_area_list and the others, C's LIST_HEAD()) is a VmapArea that is
 * never on a tree and whose other fields mean nothing, as C never takes
 * container_of() of a head.
 */

/** A list head: a VmapArea used only for its links. */
export type ListHead = VmapArea;

/** LIST_HEAD(): an empty list. */
export function LIST_HEAD(): ListHead {
  return new VmapArea();
}

/**
 * struct vmap_area (include/linux/vmalloc.h). The struct rb_node Linux
 * embeds is the base class (lib/rbtree.ts): &va->rb_node is va itself, and
 * rb_left/rb_right/rb_parent are VmapAreas, so a tree walk reads the links
 * and va_start/va_end/subtree_max_size from one object. The area is on
 * exactly one of the busy, free or lazy trees, or none (cleared) in transit.
 */
export class VmapArea extends RbNode<VmapArea> {
  /** Inclusive; page aligned for every area handed out (the free tree's edges need not be). */
  va_start = 0;
  /** Exclusive; va_end > va_start. */
  va_end = 0;
  /**
   * Largest free block in this node's subtree, in bytes. Only meaningful on
   * the free tree; kept by the augment callbacks, never written by hand.
   * (A union with `vm` in Linux.)
   */
  subtree_max_size = 0;
  /** The vm_struct of a busy vmalloc/vmap area; null on the free and lazy trees. */
  vm: VmStruct | null = null;
  /** VMAP_RAM / VMAP_BLOCK. */
  flags = 0;
  /*
   * struct list_head list: the address-sorted list of the tree the area is
   * on; pointing at the area itself when on none (INIT_LIST_HEAD).
   */
  list_next: VmapArea;
  list_prev: VmapArea;

  constructor() {
    super();
    this.list_next = this;
    this.list_prev = this;
  }
}

/*
 * vmap_area_cachep: Linux takes vmap_area objects from a kmem_cache so that
 * the hot paths (a NE split, a merge) do not go to the general allocator.
 * Here freed objects go on a bounded free list and are reused.
 * A freed object must not be used again by its old owner (as in C).
 */
const VMAP_AREA_CACHE_MAX = 4096;
const vmap_area_cachep: VmapArea[] = [];

/**
 * kmem_cache_alloc(vmap_area_cachep): a vmap_area on no tree (RB_EMPTY_NODE:
 * every path that frees one has unlinked it). As from Linux's cache, its
 * other fields are left over from its last use; the caller sets the ones it
 * uses, and linking sets the links.
 */
export function kmem_cache_alloc_vmap_area(): VmapArea {
  vmap_charge(K_KMEM_CACHE_ALLOC);
  return vmap_area_cachep.pop() ?? new VmapArea();
}

/**
 * kmem_cache_free(vmap_area_cachep, va): the object is dead to its owner
 * from here. It must be off every tree; only the vm_struct reference is
 * dropped, so that the cache does not keep it alive.
 */
export function kmem_cache_free_vmap_area(va: VmapArea): void {
  vmap_charge(K_KMEM_CACHE_FREE);
  va.vm = null;
  if (vmap_area_cachep.length < VMAP_AREA_CACHE_MAX) vmap_area_cachep.push(va);
}

export function va_size(va: VmapArea): number {
  return va.va_end - va.va_start;
}

export function get_subtree_max_size(node: VmapArea | null): number {
  return node === null ? 0 : node.subtree_max_size;
}

/**
 * RB_DECLARE_CALLBACKS_MAX(static, free_vmap_area_rb_augment_cb,
 * struct vmap_area, rb_node, unsigned long, subtree_max_size, va_size),
 * expanded by hand for struct vmap_area as the C preprocessor would expand
 * it: the field reads and va_size() are written out instead of going
 * through RB_DECLARE_CALLBACKS_MAX's compute/get/set functions. Each of
 * those calls that the JIT does not inline passes or returns a 48-bit
 * double, which it must box in a fresh heap number; on the free tree's
 * rotations that was most of the allocation per alloc+free pair.
 * Behaviour is the generic one's (lib/rbtree_augmented.ts), which
 * tests/mm/vmap_alloc.test.ts checks against.
 */
class FreeVmapAreaRbAugmentCb implements RbAugmentCallbacksMax<VmapArea> {
  /** free_vmap_area_rb_augment_cb_compute_max(). */
  compute_max(node: VmapArea, exit: boolean): boolean {
    let max = node.va_end - node.va_start;
    const l = node.rb_left;
    if (l !== null && l.subtree_max_size > max) max = l.subtree_max_size;
    const r = node.rb_right;
    if (r !== null && r.subtree_max_size > max) max = r.subtree_max_size;
    if (exit && node.subtree_max_size === max) return true;
    node.subtree_max_size = max;
    return false;
  }

  propagate(node: VmapArea | null, stop: VmapArea | null): void {
    while (node !== stop && node !== null) {
      if (this.compute_max(node, true)) break;
      node = node.rb_parent;
    }
  }

  copy(old: VmapArea, nw: VmapArea): void {
    nw.subtree_max_size = old.subtree_max_size;
  }

  rotate(old: VmapArea, nw: VmapArea): void {
    nw.subtree_max_size = old.subtree_max_size;
    this.compute_max(old, false);
  }
}

export const free_vmap_area_rb_augment_cb: RbAugmentCallbacksMax<VmapArea> = new FreeVmapAreaRbAugmentCb();

/** enum fit_type. */
export const NOTHING_FIT = 0;
export const FL_FIT_TYPE = 1; // full fit
export const LE_FIT_TYPE = 2; // left edge fit
export const RE_FIT_TYPE = 3; // right edge fit
export const NE_FIT_TYPE = 4; // no edge fit

/**
 * tskernel's cost of visiting one tree node, in loads: the node's links and
 * colour, va_start/va_end and a child's subtree_max_size. [I] an estimate.
 * struct vmap_area is one 64-byte line; the first load of a node misses L1
 * and hits L2 (load_l2), the rest then hit L1 (mem_access). A booted
 * machine's trees hold hundreds to thousands of areas (module text,
 * VMAP_STACK stacks, ...), more lines than L1D holds, and between two I/Os
 * the 4 KiB copy and the rest of the path's working set pass through L1.
 */
export const VMAP_LOADS_PER_NODE = 4;

const K_MEM_ACCESS = COST_KEY_INDEX.mem_access;
const K_LOAD_L2 = COST_KEY_INDEX.load_l2;
const K_KMEM_CACHE_ALLOC = COST_KEY_INDEX.kmem_cache_alloc;
const K_KMEM_CACHE_FREE = COST_KEY_INDEX.kmem_cache_free;
export const K_SPIN_LOCK = COST_KEY_INDEX.spin_lock;
export const K_ATOMIC_RMW = COST_KEY_INDEX.atomic_rmw;

/**
 * Charge `n` of a cost key to the current CPU where the allocator does the
 * step (a lock pair, a slab object, an atomic). Without a machine (host
 * benchmarks) nothing is charged.
 */
export function vmap_charge(key: number, n = 1): void {
  const m = smp.machine;
  if (m !== null) m.cpus[m.current].charge_index(key, n);
}

/**
 * The vmap globals of mm/vmalloc.c, in one object that vmap_area_init()
 * (called from vmalloc_init()) resets, so each boot starts empty.
 */
export class VmapGlobals {
  /*
   * The roots and list heads are static in mm/vmalloc.c, and here they are
   * never replaced either: vmap_area_init() empties them in place. Besides
   * matching C, that keeps them constant for the JIT, which embeds them in
   * the allocator's optimized code; replacing them at each boot (every test
   * and benchmark setup) deoptimized all of that code.
   */
  /** vmap_area_root / vmap_area_list: busy areas (one "vmap node"). */
  readonly vmap_area_root = new RbRoot<VmapArea>();
  readonly vmap_area_list = LIST_HEAD();
  /** free_vmap_area_root / free_vmap_area_list: the augmented free tree. */
  readonly free_vmap_area_root = new RbRoot<VmapArea>();
  readonly free_vmap_area_list = LIST_HEAD();
  /** purge_vmap_area_root / purge_vmap_area_list: lazily freed, not yet flushed. */
  readonly purge_vmap_area_root = new RbRoot<VmapArea>();
  readonly purge_vmap_area_list = LIST_HEAD();
  vmap_initialized = false;
  /** vmap_lazy_nr: pages on the lazy (purge) list. */
  vmap_lazy_nr = 0;
  /** nr_vmalloc_pages: pages backing vmalloc areas (VmallocUsed). */
  nr_vmalloc_pages = 0;
  /** num_online_cpus() at init, for lazy_max_pages(). */
  nr_cpus = 1;
  /** DEBUG_AUGMENT_PROPAGATE_CHECK and DEBUG_AUGMENT_LOWEST_MATCH_CHECK (debug_vm). */
  debug = false;
  /** get_random_bytes() for the lowest-match check's vstart: seeded. */
  readonly rnd = new RndState(1);
  /** Filled in by mm/vmap_purge.ts: reclaim_and_purge_vmap_areas() for the overflow path. */
  reclaim_and_purge_vmap_areas: () => void = () => {};
  /* tskernel statistics (no Linux counterpart): what Rezki would ask for. */
  /** Busy areas on the busy tree. */
  nr_busy = 0;
  /** Blocks on the free tree. */
  nr_free = 0;
  /** Tree nodes visited (searches, links, merges), not yet charged to a CPU. */
  steps = 0;
  /** Tree nodes visited since init, all charged. */
  total_steps = 0;
  /** va_clip() outcomes by fit type (index = enum fit_type). */
  readonly fit_type = [0, 0, 0, 0, 0];
  nr_alloc = 0;
  nr_alloc_failed = 0;
}

export const vmap_state = new VmapGlobals();

export interface VmapAreaInitOptions {
  nr_cpus?: number;
  debug?: boolean;
  seed?: number;
}

/**
 * Reset the KVA allocator's state (the part of vmalloc_init() that needs
 * no machine): empty trees, then vmap_init_free_space(). Usable alone by
 * host benchmarks and pure allocator tests.
 */
export function vmap_area_init(opts: VmapAreaInitOptions = {}): void {
  vmap_state.vmap_area_root.rb_node = null;
  INIT_LIST_HEAD(vmap_state.vmap_area_list);
  vmap_state.free_vmap_area_root.rb_node = null;
  INIT_LIST_HEAD(vmap_state.free_vmap_area_list);
  vmap_state.purge_vmap_area_root.rb_node = null;
  INIT_LIST_HEAD(vmap_state.purge_vmap_area_list);
  vmap_state.vmap_lazy_nr = 0;
  vmap_state.nr_vmalloc_pages = 0;
  vmap_state.nr_cpus = opts.nr_cpus ?? 1;
  vmap_state.debug = opts.debug ?? false;
  prandom_seed_state(vmap_state.rnd, opts.seed ?? 1);
  vmap_state.reclaim_and_purge_vmap_areas = () => {};
  vmap_state.nr_busy = 0;
  vmap_state.nr_free = 0;
  vmap_state.steps = 0;
  vmap_state.total_steps = 0;
  vmap_state.fit_type.fill(0);
  vmap_state.nr_alloc = 0;
  vmap_state.nr_alloc_failed = 0;
  vmap_init_free_space();
  vmap_state.vmap_initialized = true;
}

/**
 * Charge the tree nodes visited since the last call to the current CPU, as
 * VMAP_LOADS_PER_NODE loads each. Without a machine (host benchmarks) the
 * steps are only counted.
 */
export function vmap_charge_steps(): void {
  const n = vmap_state.steps;
  if (n === 0) return;
  vmap_state.steps = 0;
  vmap_state.total_steps += n;
  const m = smp.machine;
  if (m !== null) vmap_charge_cpu(m, n);
}

/* vmap_charge_steps() on a machine, out of line (host benchmarks have none). */
function vmap_charge_cpu(m: Machine, n: number): void {
  const cpu = m.cpus[m.current];
  cpu.charge_index(K_LOAD_L2, n);
  cpu.charge_index(K_MEM_ACCESS, n * (VMAP_LOADS_PER_NODE - 1));
}

/* --- lookups on the busy tree ------------------------------------------- */

/** __find_vmap_area(addr, root): the VA containing addr. */
export function __find_vmap_area(addr: number, root: RbRoot<VmapArea>): VmapArea | null {
  let n = root.rb_node;
  let steps = 0;
  while (n !== null) {
    steps++;
    if (addr < n.va_start) {
      n = n.rb_left;
    } else if (addr >= n.va_end) {
      n = n.rb_right;
    } else {
      vmap_state.steps += steps;
      return n;
    }
  }
  vmap_state.steps += steps;
  return null;
}

/* --- linking and unlinking ----------------------------------------------- */

/*
 * find_va_links() returns a struct rb_node ** and the parent through an out
 * pointer. Here the result is the two fields of this object, written in
 * place (no allocation per call): the parent (null: the root slot) and
 * which child slot. A const object, not two module variables: the JIT
 * folds its address into the code, where a module variable is a cell
 * reached through the module's context.
 */
class VaLinks {
  parent: VmapArea | null = null;
  slot: RbLink = 'rb_left';
}
const va_links = new VaLinks();

/*
 * find_va_links()'s overlap WARN, out of line: the four format_va() calls
 * are most of the function's bytecode, and a function that big is not
 * inlined into its callers (the JIT's per-function limit).
 */
function va_links_overlap(va: VmapArea, n: VmapArea): void {
  WARN(true, 'vmalloc bug: 0x%s-0x%s overlaps with 0x%s-0x%s',
    format_va(va.va_start), format_va(va.va_end), format_va(n.va_start), format_va(n.va_end));
}

/**
 * find_va_links(): walk down from the root (or from `from`) to where `va`
 * goes. An overlap with an existing area is a vmalloc bug: WARN and return
 * false, and the caller declines the insert.
 */
function find_va_links(va: VmapArea, root: RbRoot<VmapArea> | null, from: VmapArea | null): boolean {
  let n = root !== null ? root.rb_node : from;
  let parent: VmapArea | null = null;
  let slot: RbLink = 'rb_left';
  const start = va.va_start;
  const end = va.va_end;
  let steps = 0;
  while (n !== null) {
    steps++;
    parent = n;
    if (end <= n.va_start) {
      slot = 'rb_left';
      n = n.rb_left;
    } else if (start >= n.va_end) {
      slot = 'rb_right';
      n = n.rb_right;
    } else {
      va_links_overlap(va, n);
      vmap_state.steps += steps;
      return false;
    }
  }
  vmap_state.steps += steps;
  va_links.parent = parent;
  va_links.slot = slot;
  return true;
}

/**
 * get_va_next_sibling(): the list entry that will follow a VA linked at
 * (parent, slot), or null when the tree is empty.
 */
function get_va_next_sibling(parent: VmapArea | null, slot: RbLink): VmapArea | null {
  if (parent === null) return null;
  return slot === 'rb_right' ? parent.list_next : parent;
}

/*
 * __link_va(va, root, parent, link, head, augment) and __unlink_va(va,
 * root, augment) are __always_inline in C, so link_va()/link_va_augment()
 * and unlink_va()/unlink_va_augment() each compile to their own copy with
 * `augment` a constant. They are written out that way here: each copy then
 * sees one kind of tree (its own call feedback), and is small enough for
 * the JIT to inline into its callers.
 */

/** link_va(): __link_va(..., false), for the busy and lazy trees. */
function link_va(va: VmapArea, root: RbRoot<VmapArea>, parent: VmapArea | null, slot: RbLink, head: ListHead): void {
  // The VA is not on the list yet, but its future predecessor is known.
  if (parent !== null) head = slot === 'rb_right' ? parent : parent.list_prev;
  rb_link_node(va, parent, slot);
  rb_insert_color(va, root);
  list_add(va, head);
  // tskernel's block counts (the lazy tree has none).
  if (root === vmap_state.vmap_area_root) vmap_state.nr_busy++;
}

/** link_va_augment(): __link_va(..., true), for the free tree. */
function link_va_augment(va: VmapArea, root: RbRoot<VmapArea>, parent: VmapArea | null, slot: RbLink, head: ListHead): void {
  if (parent !== null) head = slot === 'rb_right' ? parent : parent.list_prev;
  rb_link_node(va, parent, slot);
  /*
   * A plain insertion: subtree_max_size is set to zero afterwards and
   * augment_tree_propagate_from() fills the values in bottom-up once the
   * node is in the tree.
   */
  rb_insert_augmented(va, root, free_vmap_area_rb_augment_cb);
  va.subtree_max_size = 0;
  list_add(va, head);
  if (root === vmap_state.free_vmap_area_root) vmap_state.nr_free++;
}

/* __unlink_va()'s WARN, out of line. */
function unlink_va_empty(): void {
  WARN_ON(true, 'unlink_va: vmap_area on no tree');
}

/** unlink_va(): __unlink_va(..., false). */
export function unlink_va(va: VmapArea, root: RbRoot<VmapArea>): void {
  if (RB_EMPTY_NODE(va)) {
    unlink_va_empty();
    return;
  }
  rb_erase(va, root);
  list_del_init(va);
  RB_CLEAR_NODE(va);
  if (root === vmap_state.vmap_area_root) vmap_state.nr_busy--;
}

/** unlink_va_augment(): __unlink_va(..., true). */
export function unlink_va_augment(va: VmapArea, root: RbRoot<VmapArea>): void {
  if (RB_EMPTY_NODE(va)) {
    unlink_va_empty();
    return;
  }
  rb_erase_augmented(va, root, free_vmap_area_rb_augment_cb);
  list_del_init(va);
  RB_CLEAR_NODE(va);
  if (root === vmap_state.free_vmap_area_root) vmap_state.nr_free--;
}

/* --- DEBUG_AUGMENT_PROPAGATE_CHECK --------------------------------------- */

function compute_subtree_max_size(va: VmapArea): number {
  return Math.max(va_size(va), get_subtree_max_size(va.rb_left), get_subtree_max_size(va.rb_right));
}

/**
 * augment_tree_propagate_check(): recompute every free node's value from
 * its children. Linux prints "tree is corrupted"; under debug_vm that is a
 * BUG here, so the run stops at the first wrong value.
 */
export function augment_tree_propagate_check(): void {
  const head = vmap_state.free_vmap_area_list;
  for (let va = head.list_next; va !== head; va = va.list_next) {
    const computed = compute_subtree_max_size(va);
    if (computed !== va.subtree_max_size) {
      printk(KERN_EMERG, `tree is corrupted: ${va_size(va)}, ${va.subtree_max_size}`);
      BUG('vmalloc: free tree subtree_max_size %d != computed %d at 0x%s', va.subtree_max_size, computed, format_va(va.va_start));
    }
  }
}

/**
 * augment_tree_propagate_from(): recompute subtree_max_size from va up
 * towards the root, stopping where a value does not change. Needed after a
 * VA is inserted (free path), shrunk (allocation) or grown (merge).
 *
 *       4--8
 *        /\
 *       /  \
 *      /    \
 *    2--2  8--8
 *
 * Shrinking node 4 to 2 changes nothing above it; shrinking 2 to 1 sets
 * only its own value to 1; shrinking 8 to 6 sets it to 6 and the parent's
 * to 6 (4--6).
 */
export function augment_tree_propagate_from(va: VmapArea): void {
  /*
   * free_vmap_area_rb_augment_cb.propagate(&va->rb_node, NULL), written
   * out for this struct (what the C macro expands to) to count the steps.
   */
  let node: VmapArea | null = va;
  let steps = 0;
  while (node !== null) {
    steps++;
    let max = node.va_end - node.va_start;
    const l = node.rb_left;
    if (l !== null && l.subtree_max_size > max) max = l.subtree_max_size;
    const r = node.rb_right;
    if (r !== null && r.subtree_max_size > max) max = r.subtree_max_size;
    if (node.subtree_max_size === max) break;
    node.subtree_max_size = max;
    node = node.rb_parent;
  }
  vmap_state.steps += steps;
  if (vmap_state.debug) augment_tree_propagate_check();
}

export function insert_vmap_area(va: VmapArea, root: RbRoot<VmapArea>, head: ListHead): void {
  if (find_va_links(va, root, null)) link_va(va, root, va_links.parent, va_links.slot, head);
}

export function insert_vmap_area_augment(
  va: VmapArea, from: VmapArea | null, root: RbRoot<VmapArea>, head: ListHead,
): void {
  const ok = from !== null ? find_va_links(va, null, from) : find_va_links(va, root, null);
  if (ok) {
    link_va_augment(va, root, va_links.parent, va_links.slot, head);
    augment_tree_propagate_from(va);
  }
}

/* --- merging --------------------------------------------------------------- */

/**
 * __merge_or_add_vmap_area(): put a freed VA back, merging it with the next
 * and/or previous block when they touch; the merged-away object is dropped
 * (kmem_cache_free). Returns the VA that now holds the range, or null on an
 * overlap (already WARNed: a vmalloc bug, but the system goes on).
 */
function __merge_or_add_vmap_area(
  va: VmapArea, root: RbRoot<VmapArea>, head: ListHead, augment: boolean,
): VmapArea | null {
  if (!find_va_links(va, root, null)) return null;
  const parent = va_links.parent;
  const slot = va_links.slot;
  let merged = false;
  const next = get_va_next_sibling(parent, slot);
  if (next !== null) {
    /*
     * start            end
     * |                |
     * |<------VA------>|<-----Next----->|
     *                  |                |
     *                  start            end
     */
    if (next !== head) {
      const sibling = next;
      if (sibling.va_start === va.va_end) {
        sibling.va_start = va.va_start;
        kmem_cache_free_vmap_area(va);
        va = sibling;
        merged = true;
      }
    }
    /*
     * start            end
     * |                |
     * |<-----Prev----->|<------VA------>|
     *                  |                |
     *                  start            end
     */
    if (next.list_prev !== head) {
      const sibling = next.list_prev;
      if (sibling.va_end === va.va_start) {
        /*
         * If both neighbours are coalesced, unlink the "next" node first,
         * then merge with the previous one; otherwise a rotation could
         * "normalise" a sibling's augmented value and leave the tree
         * under-populated.
         */
        if (merged) {
          if (augment) unlink_va_augment(va, root);
          else unlink_va(va, root);
        }
        sibling.va_end = va.va_end;
        kmem_cache_free_vmap_area(va);
        va = sibling;
        merged = true;
      }
    }
  }
  if (!merged) {
    if (augment) link_va_augment(va, root, parent, slot, head);
    else link_va(va, root, parent, slot, head);
  }
  return va;
}

export function merge_or_add_vmap_area(va: VmapArea, root: RbRoot<VmapArea>, head: ListHead): VmapArea | null {
  return __merge_or_add_vmap_area(va, root, head, false);
}

export function merge_or_add_vmap_area_augment(
  va: VmapArea, root: RbRoot<VmapArea>, head: ListHead,
): VmapArea | null {
  const m = __merge_or_add_vmap_area(va, root, head, true);
  if (m !== null) augment_tree_propagate_from(m);
  return m;
}

/**
 * vmap_init_free_space(): the whole KVA space [1, ULONG_MAX) minus early
 * busy areas (tskernel registers none before vmalloc_init()).
 *
 *     B     F     B     B     B     F
 * -|-----|.....|-----|-----|-----|.....|-
 *  |           The KVA space           |
 *  |<--------------------------------->|
 */
function vmap_init_free_space(): void {
  let vmap_start = 1;
  const vmap_end = VMAP_ULONG_MAX;
  const head = vmap_state.vmap_area_list;
  for (let busy = head.list_next; busy !== head; busy = busy.list_next) {
    if (busy.va_start - vmap_start > 0) {
      const free = kmem_cache_alloc_vmap_area();
      free.va_start = vmap_start;
      free.va_end = busy.va_start;
      insert_vmap_area_augment(free, null, vmap_state.free_vmap_area_root, vmap_state.free_vmap_area_list);
    }
    vmap_start = busy.va_end;
  }
  if (vmap_end - vmap_start > 0) {
    const free = kmem_cache_alloc_vmap_area();
    free.va_start = vmap_start;
    free.va_end = vmap_end;
    insert_vmap_area_augment(free, null, vmap_state.free_vmap_area_root, vmap_state.free_vmap_area_list);
  }
  vmap_state.steps = 0;
}

/** get_vm_area_size(): the usable size, without the guard page. */
export function get_vm_area_size(area: VmStruct): number {
  return area.flags & VM_NO_GUARD ? area.size : area.size - PAGE_SIZE;
}
