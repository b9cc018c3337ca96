/*
 * mm/vmap_block.ts - the per-CPU KVA allocator behind vm_map_ram().
 *
 * Mirrors the "Per cpu kva allocator" of mm/vmalloc.c: small mappings
 * (up to VMAP_MAX_ALLOC = 64 pages) are carved from per-CPU vmap_blocks of
 * VMAP_BLOCK_SIZE, each one busy vmap_area (VMAP_RAM | VMAP_BLOCK) taken
 * from the global allocator. A block is a bump allocator: vb_alloc() hands
 * out the next 2^order pages, vb_free() clears the PTEs without a flush and
 * marks them dirty; freed holes are not reused, and when every page is
 * dirty the whole block goes to the lazy list with one
 * free_vmap_area_noflush(). So the global trees see one insert and one
 * lazy free per block instead of one per mapping.
 * Modelled: struct vmap_block (free, dirty, used_map, dirty_min/max, cpu),
 * per-CPU vmap_block_queue with its free list and the vmap_blocks xarray
 * used as an address hash (addr_to_vb_xa), new_vmap_block(), vb_alloc(),
 * vb_free(), free_vmap_block(), purge_fragmented_blocks(),
 * _vm_unmap_aliases() (walking the xarrays, as since v6.7) and
 * vm_unmap_aliases().
 * Simplified: no RCU or locks; the xarray is a Map; the purge of
 * fragmented blocks is the unconditional one (no VMAP_PURGE_THRESHOLD
 * heuristic of v6.7+); VMAP_BBMAP_BITS is computed for NR_CPUS = 64
 * (include/linux/threads.ts), giving 1024 pages (4 MiB) per block.
 * tskernel addition: vb_free() of an address in no block WARNs and returns
 * (Linux would dereference NULL).
 */
import { vmap_state, unlink_va, vmap_charge, K_SPIN_LOCK, VMAP_RAM, VMAP_BLOCK, type VmapArea } from './vmap_area.ts';
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import { alloc_vmap_area } from './vmap_alloc.ts';
import { free_vmap_area_noflush, __purge_vmap_area_lazy, vmap_purge_hooks } from './vmap_purge.ts';
import { vunmap_range_noflush } from './vmap_pgtable.ts';
import { flush_tlb_kernel_range } from '../arch/x86/mm/tlb.ts';
import { smp_processor_id, nr_cpu_ids } from '../kernel/smp.ts';
import { BUG, WARN } from '../kernel/panic.ts';
import { NR_CPUS } from '../include/linux/threads.ts';
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';
import { VMALLOC_START, VMALLOC_END } from '../arch/x86/include/asm/pgtable_64_types.ts';
import type { gfp_t } from './gfp.ts';

const K_KMEM_CACHE_ALLOC = COST_KEY_INDEX.kmem_cache_alloc;
const K_KMEM_CACHE_FREE = COST_KEY_INDEX.kmem_cache_free;

/** VMALLOC_SPACE on 64-bit: Linux's rough guess, 128 GiB. */
export const VMALLOC_SPACE = 128 * 2 ** 30;
export const VMALLOC_PAGES = VMALLOC_SPACE / PAGE_SIZE;
/** VMAP_MAX_ALLOC = BITS_PER_LONG: 64 pages (256 KiB). */
export const VMAP_MAX_ALLOC = 64;
export const VMAP_BBMAP_BITS_MAX = 1024;
export const VMAP_BBMAP_BITS_MIN = VMAP_MAX_ALLOC * 2;

function roundup_pow_of_two(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

/** min(1024, max(128, VMALLOC_PAGES / roundup_pow_of_two(NR_CPUS) / 16)). */
export const VMAP_BBMAP_BITS = Math.min(VMAP_BBMAP_BITS_MAX,
  Math.max(VMAP_BBMAP_BITS_MIN, Math.floor(VMALLOC_PAGES / roundup_pow_of_two(NR_CPUS) / 16)));
export const VMAP_BLOCK_SIZE = VMAP_BBMAP_BITS * PAGE_SIZE;
export const VMAP_PURGE_THRESHOLD = VMAP_BBMAP_BITS / 4;

/** struct vmap_block. */
export class VmapBlock {
  va: VmapArea;
  /** Pages never handed out yet (the bump allocator's room). */
  free = 0;
  /** Pages handed out and freed again (unmapped, not yet flushed). */
  dirty = 0;
  readonly used_map = new Uint32Array(VMAP_BBMAP_BITS / 32);
  /** The dirty range, in pages: [dirty_min, dirty_max). */
  dirty_min = VMAP_BBMAP_BITS;
  dirty_max = 0;
  /** The CPU whose queue this block is on. */
  cpu = 0;
  constructor(va: VmapArea) {
    this.va = va;
  }
}

/** struct vmap_block_queue: one per CPU. */
export class VmapBlockQueue {
  /** Blocks with room left, oldest first (list_add_tail_rcu). */
  free: VmapBlock[] = [];
  /** The xarray: blocks hashed here by address, keyed by addr_to_vb_idx(). */
  readonly vmap_blocks = new Map<number, VmapBlock>();
}

export const vmap_block_state = {
  vmap_block_queue: [] as VmapBlockQueue[],
  /** tskernel statistics: blocks created and freed. */
  nr_new: 0,
  nr_freed: 0,
};

/** The part of vmalloc_init() for blocks: one empty queue per CPU. */
export function vmap_block_init(): void {
  vmap_block_state.vmap_block_queue = [];
  for (let c = 0; c < nr_cpu_ids(); c++) vmap_block_state.vmap_block_queue.push(new VmapBlockQueue());
  vmap_block_state.nr_new = 0;
  vmap_block_state.nr_freed = 0;
  vmap_purge_hooks.purge_fragmented_blocks_allcpus = purge_fragmented_blocks_allcpus;
}

/** addr_to_vb_xa(): the per-CPU xarray used as a hash bucket for this address. */
function addr_to_vb_xa(addr: number): Map<number, VmapBlock> {
  const q = vmap_block_state.vmap_block_queue;
  const index = Math.floor(addr / VMAP_BLOCK_SIZE) % q.length;
  return q[index].vmap_blocks;
}

/** addr_to_vb_idx(): the block index counted from the block-aligned VMALLOC_START. */
function addr_to_vb_idx(addr: number): number {
  const base = Math.floor(VMALLOC_START / VMAP_BLOCK_SIZE) * VMAP_BLOCK_SIZE;
  return Math.floor((addr - base) / VMAP_BLOCK_SIZE);
}

function vmap_block_vaddr(va_start: number, pages_off: number): number {
  const addr = va_start + pages_off * PAGE_SIZE;
  if (addr_to_vb_idx(addr) !== addr_to_vb_idx(va_start)) BUG('vmap_block_vaddr: %px outside its block', addr);
  return addr;
}

/** get_order(size). */
export function get_order(size: number): number {
  return Math.max(0, Math.ceil(Math.log2(size / PAGE_SIZE)));
}

function bitmap_set(map: Uint32Array, start: number, n: number): void {
  for (let i = start; i < start + n; i++) map[i >>> 5] |= 1 << (i & 31);
}

function bitmap_clear(map: Uint32Array, start: number, n: number): void {
  for (let i = start; i < start + n; i++) map[i >>> 5] &= ~(1 << (i & 31));
}

/**
 * new_vmap_block(): a fresh block on this CPU's queue with its first
 * 2^order pages taken. The address, or a negative errno.
 */
function new_vmap_block(order: number, gfp_mask: gfp_t): number {
  const va = alloc_vmap_area(VMAP_BLOCK_SIZE, VMAP_BLOCK_SIZE, VMALLOC_START, VMALLOC_END, 0, gfp_mask,
    VMAP_RAM | VMAP_BLOCK, null);
  if (typeof va === 'number') return va;
  const vaddr = vmap_block_vaddr(va.va_start, 0);
  const vb = new VmapBlock(va);
  vmap_charge(K_KMEM_CACHE_ALLOC); // kmalloc_node(sizeof(struct vmap_block))
  // At least something should be left free.
  if (VMAP_BBMAP_BITS <= 1 << order) BUG('new_vmap_block: order %d fills a block', order);
  vb.free = VMAP_BBMAP_BITS - (1 << order);
  bitmap_set(vb.used_map, 0, 1 << order);
  vb.cpu = smp_processor_id();
  addr_to_vb_xa(va.va_start).set(addr_to_vb_idx(va.va_start), vb);
  vmap_charge(K_SPIN_LOCK, 2); // the xarray's xa_lock around xa_insert, vbq->lock around the list add
  vmap_block_state.vmap_block_queue[vb.cpu].free.push(vb);
  vmap_block_state.nr_new++;
  return vaddr;
}

/** free_vmap_block(): the block's area leaves the busy tree for the lazy list. */
function free_vmap_block(vb: VmapBlock): void {
  const xa = addr_to_vb_xa(vb.va.va_start);
  const idx = addr_to_vb_idx(vb.va.va_start);
  if (xa.get(idx) !== vb) BUG('free_vmap_block: block at %px not in its xarray', vb.va.va_start);
  xa.delete(idx);
  vmap_charge(K_SPIN_LOCK, 2); // xa_erase's xa_lock, the vmap node's busy.lock around the unlink
  unlink_va(vb.va, vmap_state.vmap_area_root);
  free_vmap_area_noflush(vb.va);
  vmap_charge(K_KMEM_CACHE_FREE); // kfree_rcu(vb, rcu_head)
  vmap_block_state.nr_freed++;
}

function list_del(q: VmapBlockQueue, vb: VmapBlock): void {
  const i = q.free.indexOf(vb);
  if (i >= 0) q.free.splice(i, 1);
}

/**
 * purge_fragmented_blocks(cpu): free the blocks of this CPU whose pages are
 * all either dirty or never used (free + dirty == VMAP_BBMAP_BITS) but not
 * all dirty: nothing live is left in them, and they would never free
 * themselves.
 */
export function purge_fragmented_blocks(cpu: number): void {
  const q = vmap_block_state.vmap_block_queue[cpu];
  const purge: VmapBlock[] = [];
  for (const vb of q.free) {
    if (vb.free + vb.dirty === VMAP_BBMAP_BITS && vb.dirty !== VMAP_BBMAP_BITS) {
      vb.free = 0; // prevent further allocs
      vb.dirty = VMAP_BBMAP_BITS; // prevent purging it again
      vb.dirty_min = 0;
      vb.dirty_max = VMAP_BBMAP_BITS;
      purge.push(vb);
    }
  }
  for (const vb of purge) {
    list_del(q, vb);
    free_vmap_block(vb);
  }
}

export function purge_fragmented_blocks_allcpus(): void {
  for (let cpu = 0; cpu < vmap_block_state.vmap_block_queue.length; cpu++) purge_fragmented_blocks(cpu);
}

/**
 * vb_alloc(): 2^get_order(size) pages from the first block on this CPU's
 * queue with room, or a new block. The address, or a negative errno.
 */
export function vb_alloc(size: number, gfp_mask: gfp_t): number {
  if (size % PAGE_SIZE !== 0) BUG('vb_alloc: size %d not page aligned', size);
  if (size > PAGE_SIZE * VMAP_MAX_ALLOC) BUG('vb_alloc: size %d over VMAP_MAX_ALLOC', size);
  if (size === 0) {
    // get_order(0) would be nonsense: warn and fail.
    WARN(true, 'vb_alloc: zero size');
    return 0;
  }
  const order = get_order(size);
  const n = 1 << order;
  const q = vmap_block_state.vmap_block_queue[smp_processor_id()];
  for (let i = 0; i < q.free.length; i++) {
    const vb = q.free[i];
    if (vb.free < n) continue;
    vmap_charge(K_SPIN_LOCK); // vb->lock around taking the pages
    const pages_off = VMAP_BBMAP_BITS - vb.free;
    const vaddr = vmap_block_vaddr(vb.va.va_start, pages_off);
    vb.free -= n;
    bitmap_set(vb.used_map, pages_off, n);
    if (vb.free === 0) q.free.splice(i, 1);
    return vaddr;
  }
  return new_vmap_block(order, gfp_mask);
}

/**
 * vb_free(): unmap without flushing, widen the block's dirty range; a block
 * that is all dirty is freed (lazily).
 */
export function vb_free(addr: number, size: number): void {
  if (size % PAGE_SIZE !== 0) BUG('vb_free: size %d not page aligned', size);
  if (size > PAGE_SIZE * VMAP_MAX_ALLOC) BUG('vb_free: size %d over VMAP_MAX_ALLOC', size);
  const order = get_order(size);
  const n = 1 << order;
  const offset = Math.floor((addr % VMAP_BLOCK_SIZE) / PAGE_SIZE);
  const vb = addr_to_vb_xa(addr).get(addr_to_vb_idx(addr));
  if (vb === undefined) {
    WARN(true, 'vb_free: %px is in no vmap_block', addr);
    return;
  }
  bitmap_clear(vb.used_map, offset, n);
  vunmap_range_noflush(addr, addr + size);
  vmap_charge(K_SPIN_LOCK); // vb->lock around the dirty range
  // Expand the dirty range.
  vb.dirty_min = Math.min(vb.dirty_min, offset);
  vb.dirty_max = Math.max(vb.dirty_max, offset + n);
  vb.dirty += n;
  if (vb.dirty === VMAP_BBMAP_BITS) {
    if (vb.free) BUG('vb_free: all-dirty block with %d free pages', vb.free);
    free_vmap_block(vb);
  }
}

/**
 * _vm_unmap_aliases(start, end, flush): flush the dirty parts of every
 * block and every lazy area, with one TLB flush over the union.
 */
export function _vm_unmap_aliases(start: number, end: number, flush: boolean): void {
  if (!vmap_state.vmap_initialized) return;
  /*
   * Walk the xarrays, not the free lists: a fully used block is off its
   * free list but may hold dirty pages (v6.7's fix for stale TLB entries
   * in fully utilised blocks).
   */
  for (const q of vmap_block_state.vmap_block_queue) {
    for (const vb of q.vmap_blocks.values()) {
      /*
       * dirty_max, not dirty: dirty counts every page ever freed in the
       * block and never goes down, while [dirty_min, dirty_max) is reset
       * below once flushed. Testing dirty would flush a block again on every
       * call, with the reset range (start at the block's end, end at its
       * start) widening the flush for nothing.
       */
      if (vb.dirty_max && vb.dirty !== VMAP_BBMAP_BITS) {
        const va_start = vb.va.va_start;
        const s = va_start + vb.dirty_min * PAGE_SIZE;
        const e = va_start + vb.dirty_max * PAGE_SIZE;
        start = Math.min(s, start);
        end = Math.max(e, end);
        // Reset the dirty range: these pages are flushed now (v6.7+).
        vb.dirty_min = VMAP_BBMAP_BITS;
        vb.dirty_max = 0;
        flush = true;
      }
    }
  }
  purge_fragmented_blocks_allcpus();
  if (!__purge_vmap_area_lazy(start, end) && flush) flush_tlb_kernel_range(start, end);
}

/**
 * vm_unmap_aliases(): after it returns, no CPU holds a TLB entry for any
 * lazily unmapped vmap address.
 */
export function vm_unmap_aliases(): void {
  _vm_unmap_aliases(2 ** 48, 0, false);
}
