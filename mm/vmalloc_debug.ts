/*
 * mm/vmalloc_debug.ts - a full consistency check of the vmap trees.
 *
 * No single Linux counterpart: it gathers what mm/vmalloc.c checks piecemeal
 * (DEBUG_AUGMENT_PROPAGATE_CHECK's recomputation of subtree_max_size,
 * find_va_links()'s overlap WARN, lib/rbtree_test.c's colour and
 * black-height checks) into one oracle that tests run after every step:
 *  - each of the busy, free and lazy trees is a valid red-black tree whose
 *    in-order walk is its address-sorted list, with no overlaps;
 *  - every free node's subtree_max_size is max(own size, children's);
 *  - free blocks never touch (a freed block always merges), nor do lazy ones;
 *  - busy + free + lazy partition the KVA space [1, ULONG_MAX) exactly;
 *  - vmap_lazy_nr is the lazy areas' page count.
 * It throws an Error naming the first problem (a test failure), rather than
 * BUG(), so a test can also feed it corrupted trees.
 */
import { RB_BLACK, RB_RED, type RbRoot } from '../lib/rbtree.ts';
import {
  vmap_state, va_size, get_subtree_max_size, VMAP_ULONG_MAX, type ListHead, type VmapArea,
} from './vmap_area.ts';
import { format_va } from '../arch/x86/include/asm/page.ts';
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';

function hex(a: number): string {
  return Number.isInteger(a) && a >= 0 && a < 2 ** 48 ? '0x' + format_va(a) : String(a);
}

function fail(tree: string, msg: string, va?: VmapArea): never {
  const where = va ? ` at ${hex(va.va_start)}-${hex(va.va_end)}` : '';
  throw new Error(`vmap ${tree} tree: ${msg}${where}`);
}

/** Black height of the subtree, checking colours and parent links on the way. */
function check_rb(tree: string, n: VmapArea | null, parent: VmapArea | null): number {
  if (n === null) return 1;
  if (n.rb_parent !== parent) fail(tree, 'bad parent pointer', n);
  if (n.rb_color !== RB_RED && n.rb_color !== RB_BLACK) fail(tree, 'bad colour', n);
  if (n.rb_color === RB_RED) {
    if ((n.rb_left !== null && n.rb_left.rb_color === RB_RED) || (n.rb_right !== null && n.rb_right.rb_color === RB_RED))
      fail(tree, 'red node with a red child', n);
  }
  const l = check_rb(tree, n.rb_left, n);
  const r = check_rb(tree, n.rb_right, n);
  if (l !== r) fail(tree, `black height ${l} left, ${r} right`, n);
  return l + (n.rb_color === RB_BLACK ? 1 : 0);
}

function inorder(n: VmapArea | null, out: VmapArea[]): void {
  // Iterative: a corrupted tree must not blow the host stack.
  const stack: VmapArea[] = [];
  let cur = n;
  while (cur !== null || stack.length) {
    while (cur !== null) {
      stack.push(cur);
      cur = cur.rb_left;
    }
    const top = stack.pop() as VmapArea;
    out.push(top);
    cur = top.rb_right;
  }
}

/** Check one tree and its list; returns the areas in address order. */
export function check_vmap_tree(tree: string, root: RbRoot<VmapArea>, head: ListHead, augmented: boolean): VmapArea[] {
  if (root.rb_node !== null) {
    if (root.rb_node.rb_color !== RB_BLACK) fail(tree, 'red root', root.rb_node);
    check_rb(tree, root.rb_node, null);
  }
  const areas: VmapArea[] = [];
  inorder(root.rb_node, areas);
  let i = 0;
  for (let va = head.list_next; va !== head; va = va.list_next, i++) {
    if (va.list_next.list_prev !== va) fail(tree, 'list links broken');
    if (i >= areas.length || va !== areas[i]) fail(tree, `list entry ${i} is not the tree's ${i}th node`, va);
  }
  if (i !== areas.length) fail(tree, `list has ${i} entries, tree ${areas.length}`);
  for (let k = 0; k < areas.length; k++) {
    const va = areas[k];
    if (!(va.va_end > va.va_start)) fail(tree, 'empty or inverted area', va);
    if (k > 0 && areas[k - 1].va_end > va.va_start) fail(tree, `overlaps ${hex(areas[k - 1].va_start)}-${hex(areas[k - 1].va_end)}`, va);
    if (augmented) {
      const n = va;
      const want = Math.max(va_size(va), get_subtree_max_size(n.rb_left), get_subtree_max_size(n.rb_right));
      if (va.subtree_max_size !== want) fail(tree, `subtree_max_size ${va.subtree_max_size}, computed ${want}`, va);
    }
  }
  return areas;
}

export interface VmapCheckResult {
  busy: VmapArea[];
  free: VmapArea[];
  lazy: VmapArea[];
}

/** The whole-allocator invariant check (see the file comment). */
export function vmap_check_invariants(): VmapCheckResult {
  const busy = check_vmap_tree('busy', vmap_state.vmap_area_root, vmap_state.vmap_area_list, false);
  const free = check_vmap_tree('free', vmap_state.free_vmap_area_root, vmap_state.free_vmap_area_list, true);
  const lazy = check_vmap_tree('lazy', vmap_state.purge_vmap_area_root, vmap_state.purge_vmap_area_list, false);
  for (let k = 1; k < free.length; k++)
    if (free[k - 1].va_end === free[k].va_start) fail('free', 'two free blocks touch (not merged)', free[k]);
  for (let k = 1; k < lazy.length; k++)
    if (lazy[k - 1].va_end === lazy[k].va_start) fail('lazy', 'two lazy areas touch (not merged)', lazy[k]);
  if (vmap_state.nr_busy !== busy.length) fail('busy', `nr_busy ${vmap_state.nr_busy}, tree has ${busy.length}`);
  if (vmap_state.nr_free !== free.length) fail('free', `nr_free ${vmap_state.nr_free}, tree has ${free.length}`);
  let lazy_pages = 0;
  for (const va of lazy) {
    if (va.va_start % PAGE_SIZE !== 0 || va.va_end % PAGE_SIZE !== 0) fail('lazy', 'unaligned lazy area', va);
    lazy_pages += va_size(va) / PAGE_SIZE;
  }
  if (lazy_pages !== vmap_state.vmap_lazy_nr) fail('lazy', `vmap_lazy_nr ${vmap_state.vmap_lazy_nr}, lazy areas hold ${lazy_pages} pages`);
  for (const va of busy)
    if (va.va_start % PAGE_SIZE !== 0 || va.va_end % PAGE_SIZE !== 0) fail('busy', 'unaligned busy area', va);

  // busy + free + lazy partition [1, ULONG_MAX).
  const all = [...busy.map((v) => [v, 'busy'] as const), ...free.map((v) => [v, 'free'] as const), ...lazy.map((v) => [v, 'lazy'] as const)];
  all.sort((a, b) => a[0].va_start - b[0].va_start);
  let at = 1;
  for (const [va, what] of all) {
    if (va.va_start !== at)
      fail(what, va.va_start < at ? `overlaps the area before it (which ends at ${hex(at)})` : `hole before it from ${hex(at)}`, va);
    at = va.va_end;
  }
  if (at !== VMAP_ULONG_MAX) fail('free', `KVA space ends at ${hex(at)}, not ULONG_MAX`);
  return { busy, free, lazy };
}
