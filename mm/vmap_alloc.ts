/*
 * mm/vmap_alloc.ts - searching the free tree and allocating KVA.
 *
 * Mirrors the allocation half of mm/vmalloc.c: find_vmap_lowest_match()
 * (with the DEBUG_AUGMENT_LOWEST_MATCH_CHECK linear cross-check),
 * classify_va_fit_type() and va_clip(), __alloc_vmap_area(),
 * alloc_vmap_area(), free_vmap_area(), find_vmap_area(). The trees, lists,
 * augment callbacks and merging are in mm/vmap_area.ts.
 */
import { RbRoot } from '../lib/rbtree.ts';
import { prandom_u32_state } from '../lib/prandom.ts';
import { BUG, WARN, WARN_ON_ONCE } from '../kernel/panic.ts';
import { is_power_of_2 } from '../include/linux/log2.ts';
import { printk, pr_warn, KERN_EMERG } from '../kernel/printk.ts';
import { PAGE_SIZE, ALIGN, IS_ALIGNED } from '../arch/x86/include/asm/page_types.ts';
import { format_va } from '../arch/x86/include/asm/page.ts';
import { VMALLOC_START, VMALLOC_END, MODULES_VADDR, MODULES_END } from '../arch/x86/include/asm/pgtable_64_types.ts';
import { EBUSY, EINVAL, ENOENT, ENOMEM, ERANGE } from '../include/uapi/asm-generic/errno.ts';
import { should_failslab } from './failslab.ts';
import { __GFP_NOWARN, type gfp_t } from './gfp.ts';
import { trace_alloc_vmap_area } from '../kernel/trace/events/vmalloc.ts';
import {
  FL_FIT_TYPE, LE_FIT_TYPE, NE_FIT_TYPE, NOTHING_FIT, RE_FIT_TYPE, VMAP_ULONG_MAX, type VmStruct, VmapArea, __find_vmap_area, augment_tree_propagate_from, get_subtree_max_size, insert_vmap_area, insert_vmap_area_augment, kmem_cache_alloc_vmap_area, kmem_cache_free_vmap_area, merge_or_add_vmap_area_augment, unlink_va, unlink_va_augment, vmap_charge_steps, vmap_charge, K_SPIN_LOCK, vmap_state, type ListHead,
} from './vmap_area.ts';

/* --- searching the free tree ---------------------------------------------- */

/**
 * ALIGN(x, align) on the allocator's paths, where align is a power of two
 * (alloc_vmap_area() checks) and x an integer address below 2^53. For align
 * up to 2^30 the distance to the next boundary is -x & (align - 1): ToInt32
 * keeps the low 32 bits of -x exactly, and align divides 2^32. V8 does that
 * in a few instructions, where ALIGN() (which serves any power of two up to
 * 2^63) divides.
 */
function va_align(x: number, align: number): number {
  return align > 0x40000000 ? ALIGN(x, align) : x + (-x & (align - 1));
}

/** is_within_this_va(): does [ALIGN(max(va_start, vstart)), +size) fit in va? */
export function is_within_this_va(va: VmapArea, size: number, align: number, vstart: number): boolean {
  const va_start = va.va_start;
  const nva_start_addr = va_align(va_start > vstart ? va_start : vstart, align);
  // C checks for wrap-around here; a double past the address space fails below instead.
  if (nva_start_addr < vstart) return false;
  return nva_start_addr + size <= va.va_end;
}

/**
 * find_vmap_lowest_match(): the lowest-address free block that satisfies
 * size, align and vstart. With adjust_search_size the search length is
 * size + align - 1, the worst-case alignment overhead, so a subtree is only
 * entered when any of its big-enough blocks must fit.
 */
export function find_vmap_lowest_match(
  root: RbRoot<VmapArea>, size: number, align: number, vstart: number, adjust_search_size: boolean,
): VmapArea | null {
  /*
   * The unary plus makes vstart a number in V8's eyes (a parameter is of
   * any type), so the roll-back below, which moves it past a parent, keeps
   * it an unboxed double; without it every move allocated a heap number
   * (~240 bytes per search on the random pattern at 100k busy areas).
   */
  vstart = +vstart;
  let node = root.rb_node;
  const length = adjust_search_size ? size + align - 1 : size;
  let steps = 0;
  while (node !== null) {
    steps++;
    // get_subtree_max_size(node->rb_left), written out.
    const left = node.rb_left;
    if (left !== null && left.subtree_max_size >= length && vstart < node.va_start) {
      node = left;
    } else {
      if (is_within_this_va(node, size, align, vstart)) {
        vmap_state.steps += steps;
        return node;
      }
      // No point going right if no block there is at least the search length.
      const right = node.rb_right;
      if (right !== null && right.subtree_max_size >= length) {
        node = right;
        continue;
      }
      /*
       * Roll back up and take the first right subtree that may satisfy the
       * search: vstart or an alignment bigger than PAGE_SIZE can make a
       * big-enough block unusable.
       */
      while ((node = node.rb_parent) !== null) {
        steps++;
        if (is_within_this_va(node, size, align, vstart)) {
          vmap_state.steps += steps;
          return node;
        }
        if (get_subtree_max_size(node.rb_right) >= length && vstart <= node.va_start) {
          /*
           * Shift vstart past the parent so the subtree just checked is
           * not entered again.
           */
          vstart = node.va_start + 1;
          node = node.rb_right;
          break;
        }
      }
    }
  }
  vmap_state.steps += steps;
  return null;
}

/* --- DEBUG_AUGMENT_LOWEST_MATCH_CHECK ----------------------------------- */

/** find_vmap_lowest_linear_match(): the same answer by walking the free list. */
export function find_vmap_lowest_linear_match(
  head: ListHead, size: number, align: number, vstart: number,
): VmapArea | null {
  for (let va = head.list_next; va !== head; va = va.list_next) {
    if (is_within_this_va(va, size, align, vstart)) return va;
  }
  return null;
}

/**
 * find_vmap_lowest_match_check(): tree and list must agree (without the
 * adjusted search length, which by design may pass over a lucky block).
 * Linux checks one random vstart (VMALLOC_START + rnd) and prints
 * "not lowest"; tskernel also checks the request's own vstart, and a
 * mismatch is a BUG under debug_vm.
 */
export function find_vmap_lowest_match_check(
  root: RbRoot<VmapArea>, head: ListHead, size: number, align: number, vstart: number,
): void {
  const starts = [vstart, VMALLOC_START + prandom_u32_state(vmap_state.rnd)];
  for (const v of starts) {
    const va_1 = find_vmap_lowest_match(root, size, align, v, false);
    const va_2 = find_vmap_lowest_linear_match(head, size, align, v);
    if (va_1 !== va_2) {
      const t = va_1 === null ? '(null)' : format_va(va_1.va_start);
      const l = va_2 === null ? '(null)' : format_va(va_2.va_start);
      printk(KERN_EMERG, `not lowest: t: 0x${t}, l: 0x${l}, v: 0x${format_va(v)}`);
      BUG('vmalloc: lowest match differs: tree %s, list %s (size %d align %d vstart 0x%s)',
        t, l, size, align, format_va(v));
    }
  }
}

/* --- splitting a block ---------------------------------------------------- */

export function classify_va_fit_type(va: VmapArea, nva_start_addr: number, size: number): number {
  // Check if it is within VA.
  if (nva_start_addr < va.va_start || nva_start_addr + size > va.va_end) return NOTHING_FIT;
  if (va.va_start === nva_start_addr) return va.va_end === nva_start_addr + size ? FL_FIT_TYPE : LE_FIT_TYPE;
  if (va.va_end === nva_start_addr + size) return RE_FIT_TYPE;
  return NE_FIT_TYPE;
}

/**
 * va_clip(): carve [nva_start_addr, +size) out of the free block va.
 * Returns 0, or -1 if the request does not lie inside va.
 */
export function va_clip(
  root: RbRoot<VmapArea>, head: ListHead, va: VmapArea, nva_start_addr: number, size: number,
): number {
  let lva: VmapArea | null = null;
  const type = classify_va_fit_type(va, nva_start_addr, size);
  vmap_state.fit_type[type]++;
  if (type === FL_FIT_TYPE) {
    /*
     * No need to split VA, it fully fits.
     *
     * |               |
     * V      NVA      V
     * |---------------|
     */
    unlink_va_augment(va, root);
    kmem_cache_free_vmap_area(va);
  } else if (type === LE_FIT_TYPE) {
    /*
     * Split left edge of fit VA.
     *
     * |       |
     * V  NVA  V   R
     * |-------|-------|
     */
    va.va_start += size;
  } else if (type === RE_FIT_TYPE) {
    /*
     * Split right edge of fit VA.
     *
     *         |       |
     *     L   V  NVA  V
     * |-------|-------|
     */
    va.va_end = nva_start_addr;
  } else if (type === NE_FIT_TYPE) {
    /*
     * Split no edge of fit VA.
     *
     *     |       |
     *   L V  NVA  V R
     * |---|-------|---|
     *
     * Linux takes the per-CPU preloaded object (ne_fit_preload_node) or
     * falls back to GFP_NOWAIT; a JS object cannot fail to allocate.
     */
    lva = kmem_cache_alloc_vmap_area();
    lva.va_start = va.va_start;
    lva.va_end = nva_start_addr;
    va.va_start = nva_start_addr + size;
  } else {
    return -1;
  }
  if (type !== FL_FIT_TYPE) {
    augment_tree_propagate_from(va);
    if (lva !== null) insert_vmap_area_augment(lva, va, root, head);
  }
  return 0;
}

/*
 * va_alloc() and __alloc_vmap_area() return an unsigned long in C: the
 * address, or an error value. A 48-bit address returned (or passed) across
 * a call the JIT does not inline is boxed in a fresh heap number, one per
 * allocation. Here they return 0 or a negative errno, and leave the address
 * in va_alloc_ret.nva_start_addr, a number field written in place: an out
 * parameter, as find_va_links() has for its struct rb_node **.
 */
class VaAllocRet {
  nva_start_addr = 0;
}
const va_alloc_ret = new VaAllocRet();

/**
 * va_alloc(): the aligned start inside the found block, checked against
 * vend, and the clip. Returns 0 with the address in
 * va_alloc_ret.nva_start_addr, or a negative errno.
 */
function va_alloc(
  va: VmapArea, root: RbRoot<VmapArea>, head: ListHead,
  size: number, align: number, vstart: number, vend: number,
): number {
  const va_start = va.va_start;
  const nva_start_addr = va_align(va_start > vstart ? va_start : vstart, align);
  // Check the "vend" restriction.
  if (nva_start_addr + size > vend) return -ERANGE;
  const ret = va_clip(root, head, va, nva_start_addr, size);
  if (ret !== 0) return va_clip_failed(ret);
  va_alloc_ret.nva_start_addr = nva_start_addr;
  return 0;
}

/* va_alloc()'s WARN_ON_ONCE(ret), out of line. */
function va_clip_failed(ret: number): number {
  WARN_ON_ONCE(true, 'va_clip');
  return ret;
}

/**
 * __alloc_vmap_area(): allocate from the free tree. Returns 0 with the
 * start address in va_alloc_ret.nva_start_addr, or a negative errno
 * (-ENOENT: nothing fits; -ERANGE: past vend).
 */
export function __alloc_vmap_area(
  root: RbRoot<VmapArea>, head: ListHead, size: number, align: number, vstart: number, vend: number,
): number {
  /*
   * Do not adjust when:
   *   a) align <= PAGE_SIZE, because it does not make any sense: all
   *      blocks (their start addresses) are at least PAGE_SIZE aligned;
   *   b) a short range where the requested size is exactly [vstart:vend]
   *      and align > PAGE_SIZE: with the adjusted length it never fits.
   */
  const adjust_search_size = !(align <= PAGE_SIZE || vend - vstart === size);
  if (vmap_state.debug) find_vmap_lowest_match_check(root, head, size, align, vstart);
  const va = find_vmap_lowest_match(root, size, align, vstart, adjust_search_size);
  if (va === null) return -ENOENT;
  return va_alloc(va, root, head, size, align, vstart, vend);
}

/**
 * tskernel addition: the KVA ranges vmap areas may come from. Linux trusts
 * its callers; a bad range here would let a mapping land on the direct map.
 */
function vmap_range_valid(vstart: number, vend: number): boolean {
  if (!Number.isInteger(vstart) || !Number.isInteger(vend) || vstart >= vend) return false;
  if (vstart >= VMALLOC_START && vend <= VMALLOC_END + 1) return true;
  return vstart >= MODULES_VADDR && vend <= MODULES_END;
}

/*
 * alloc_vmap_area()'s cold paths, out of line: formatting a message takes
 * more bytecode than the whole fast path, and a function that big leaves
 * the JIT no room to inline the fast path's callees.
 */

/** The bad-range WARN (tskernel's range check). */
function vmap_range_warn(vstart: number, vend: number): number {
  WARN(true, 'vmalloc: range 0x%s-0x%s is outside the vmalloc and module areas',
    Number.isInteger(vstart) ? format_va(vstart) : String(vstart),
    Number.isInteger(vend) ? format_va(Math.min(vend, VMAP_ULONG_MAX)) : String(vend));
  return -EINVAL;
}

/** The alloc_vmap_area tracepoint's record. */
function trace_alloc_vmap_area_emit(err: number, size: number, align: number, vstart: number, vend: number): void {
  const addr = err === 0 ? va_alloc_ret.nva_start_addr : err;
  trace_alloc_vmap_area.emit({ addr, size, align, vstart, vend, failed: err === 0 ? 0 : 1 });
}

/** The BUG when an area breaks its alignment or range (a bug in the search). */
function alloc_vmap_area_bug(va: VmapArea, align: number): never {
  BUG('alloc_vmap_area: 0x%s-0x%s breaks align %d or range', format_va(va.va_start), format_va(va.va_end), align);
}

/** The "vmalloc_node_range ... failed" warning. */
function alloc_vmap_area_warn(size: number, vstart: number, vend: number): void {
  pr_warn('vmalloc_node_range for size %d failed: Address range restricted to 0x%s - 0x%s',
    size, format_va(vstart), format_va(Math.min(vend, VMAP_ULONG_MAX)));
}

/**
 * alloc_vmap_area(): a busy VA of `size` bytes aligned to `align` within
 * [vstart, vend), or a negative errno: -EINVAL for a bad size, alignment or
 * range, -EBUSY before init or when the range is exhausted even after a
 * purge (with Linux's warning unless __GFP_NOWARN).
 */
export function alloc_vmap_area(
  size: number, align: number, vstart: number, vend: number, _node: number, gfp_mask: gfp_t,
  va_flags: number, vm: VmStruct | null,
): VmapArea | number {
  // size must be a positive multiple of PAGE_SIZE: a fraction, NaN or Infinity leaves a remainder.
  if (!(size > 0 && size % PAGE_SIZE === 0) || !is_power_of_2(align)) return -EINVAL;
  if (!vmap_state.vmap_initialized) return -EBUSY;
  if (!vmap_range_valid(vstart, vend)) return vmap_range_warn(vstart, vend);
  // kmem_cache_alloc_node(vmap_area_cachep, gfp_mask & GFP_RECLAIM_MASK, node)
  if (should_failslab('vmap_area', gfp_mask)) return -ENOMEM;
  const va = kmem_cache_alloc_vmap_area();
  let purged = false;
  for (;;) {
    vmap_charge(K_SPIN_LOCK); // free_vmap_area_lock around the search and the clip
    const err = __alloc_vmap_area(vmap_state.free_vmap_area_root, vmap_state.free_vmap_area_list, size, align, vstart, vend);
    if (trace_alloc_vmap_area.enabled) trace_alloc_vmap_area_emit(err, size, align, vstart, vend);
    if (err === 0) {
      const addr = va_alloc_ret.nva_start_addr;
      va.va_start = addr;
      va.va_end = addr + size;
      va.vm = vm;
      va.flags = va_flags;
      vmap_charge(K_SPIN_LOCK); // the vmap node's busy.lock around the insert
      insert_vmap_area(va, vmap_state.vmap_area_root, vmap_state.vmap_area_list);
      // Checked with IS_ALIGNED(), not va_align(): the check must not share the search's arithmetic.
      if (!IS_ALIGNED(addr, align) || addr < vstart || va.va_end > vend) alloc_vmap_area_bug(va, align);
      vmap_state.nr_alloc++;
      vmap_charge_steps();
      return va;
    }
    // overflow:
    if (!purged) {
      vmap_charge_steps();
      vmap_state.reclaim_and_purge_vmap_areas();
      purged = true;
      continue;
    }
    break;
  }
  // No vmap_notify_list notifiers are registered in tskernel.
  kmem_cache_free_vmap_area(va);
  vmap_state.nr_alloc_failed++;
  vmap_charge_steps();
  if (!(gfp_mask & __GFP_NOWARN)) alloc_vmap_area_warn(size, vstart, vend);
  return -EBUSY;
}

/** free_vmap_area(): unlink from the busy tree and merge straight back into the free tree (no lazy TLB). */
export function free_vmap_area(va: VmapArea): void {
  vmap_charge(K_SPIN_LOCK, 2); // busy.lock around the unlink, free_vmap_area_lock around the merge
  unlink_va(va, vmap_state.vmap_area_root);
  merge_or_add_vmap_area_augment(va, vmap_state.free_vmap_area_root, vmap_state.free_vmap_area_list);
  vmap_charge_steps();
}

export function find_vmap_area(addr: number): VmapArea | null {
  vmap_charge(K_SPIN_LOCK); // the vmap node's busy.lock around the lookup
  return __find_vmap_area(addr, vmap_state.vmap_area_root);
}

/** find_unlink_vmap_area(): find the busy VA containing addr and take it off the busy tree. */
export function find_unlink_vmap_area(addr: number): VmapArea | null {
  vmap_charge(K_SPIN_LOCK); // the vmap node's busy.lock around the lookup and unlink
  const va = __find_vmap_area(addr, vmap_state.vmap_area_root);
  if (va !== null) unlink_va(va, vmap_state.vmap_area_root);
  return va;
}
