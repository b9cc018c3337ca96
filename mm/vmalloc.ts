/*
 * mm/vmalloc.ts - virtually contiguous kernel memory: the vmalloc API.
 *
 * Mirrors the API half of mm/vmalloc.c. vmalloc() takes a KVA range from
 * the augmented free tree (mm/vmap_area.ts: lowest fit in O(log n), plus a
 * guard page), allocates order-0 pages, and maps them into init_mm's
 * VMALLOC range (mm/vmap_pgtable.ts, whose upper levels were preallocated
 * at boot so every mm shares them). vfree() clears the PTEs at once but
 * defers the TLB flush (mm/vmap_purge.ts): the range waits on the lazy list
 * until one flush_tlb_kernel_range() covers a whole batch. vm_map_ram()
 * serves small mappings from per-CPU vmap_blocks (mm/vmap_block.ts).
 * The file split is tskernel's; Linux keeps all of it in mm/vmalloc.c.
 * Modelled: struct vm_struct with its guard page, __get_vm_area_node(),
 * get_vm_area(), find_vm_area(), remove_vm_area(), vmalloc(), vzalloc(),
 * vmalloc_user(), __vmalloc(), __vmalloc_node(), __vmalloc_node_range(),
 * vfree(), vmap(), vunmap(), vm_map_ram(), vm_unmap_ram(),
 * vmalloc_to_page(), vmalloc_nr_pages(); the nr_vmalloc counter and
 * /proc/meminfo's Vmalloc lines; Linux's warn_alloc() messages.
 * Simplified: 4 KiB pages only (vmalloc_huge() maps small pages); pages
 * come one alloc_pages() call at a time rather than in bulk batches of 100;
 * the pages array is a JS array (Linux kmallocs it, or vmallocs it when
 * over a page); vfree() from interrupt context (vfree_atomic) and
 * VM_FLUSH_RESET_PERMS are not modelled; no vrealloc.
 * tskernel deviation: remove_vm_area() leaves an area that has no vm_struct
 * (a vm_map_ram or vmap_block area) on the busy tree and returns NULL, where
 * Linux unlinks it and leaks it; so vfree() of such an address is the WARN
 * Linux prints, without the corruption.
 * Left out: KASAN, kmemleak, memcg accounting, NUMA placement,
 * /proc/vmallocinfo, vread_iter.
 */
import {
  vmap_state, vmap_area_init, unlink_va, get_vm_area_size, vmap_charge, VmStruct, VmapArea, VM_ALLOC, VM_UNINITIALIZED, VM_NO_GUARD, VM_IOREMAP, VM_USERMAP, VM_FLUSH_RESET_PERMS, VM_MAP_PUT_PAGES, VM_ALLOW_HUGE_VMAP, IOREMAP_MAX_ORDER, VMAP_RAM,
} from './vmap_area.ts';
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import { alloc_vmap_area, find_vmap_area, find_unlink_vmap_area } from './vmap_alloc.ts';
import { vmap_purge_init, free_vmap_area_noflush, purge_vmap_area_lazy, lazy_max_pages } from './vmap_purge.ts';
import {
  vmap_pages_range, vunmap_range_noflush, vmalloc_to_page, vmalloc_to_pfn, preallocate_vmalloc_pages,
  vmalloc_free_pgtables, is_vmalloc_addr, is_vmalloc_or_module_addr,
} from './vmap_pgtable.ts';
import {
  vmap_block_init, vb_alloc, vb_free, vm_unmap_aliases, purge_fragmented_blocks_allcpus, VMAP_MAX_ALLOC,
} from './vmap_block.ts';
import { alloc_pages, __free_pages, totalram_pages, warn_alloc } from './page_alloc.ts';
import { GFP_KERNEL, __GFP_ZERO, __GFP_NOWARN, __GFP_NOFAIL, __GFP_HIGHMEM, GFP_DMA, GFP_DMA32, type gfp_t } from './gfp.ts';
import { should_failslab } from './failslab.ts';
import { vm_stat_item, mod_node_page_state } from './vmstat.ts';
import { nr_cpu_ids } from '../kernel/smp.ts';
import { BUG, WARN, WARN_ON_ONCE } from '../kernel/panic.ts';
import { pr_info } from '../kernel/printk.ts';
import { PAGE_KERNEL, Pgprot, _PAGE_NX_HI } from '../arch/x86/include/asm/pgtable_types.ts';
import { PAGE_SIZE, PAGE_SHIFT, IS_ALIGNED } from '../arch/x86/include/asm/page_types.ts';
import { VMALLOC_START, VMALLOC_END } from '../arch/x86/include/asm/pgtable_64_types.ts';

export {
  VmStruct, VmapArea, find_vmap_area, vmalloc_to_page, vmalloc_to_pfn, is_vmalloc_addr, is_vmalloc_or_module_addr,
  vm_unmap_aliases, get_vm_area_size, lazy_max_pages, purge_vmap_area_lazy,
};
export {
  VM_IOREMAP, VM_ALLOC, VM_MAP, VM_USERMAP, VM_DMA_COHERENT, VM_UNINITIALIZED, VM_NO_GUARD, VM_KASAN,
  VM_FLUSH_RESET_PERMS, VM_MAP_PUT_PAGES, VM_ALLOW_HUGE_VMAP, VM_SPARSE,
} from './vmap_area.ts';

/** NUMA_NO_NODE. */
export const NUMA_NO_NODE = -1;
/** SHMLBA on x86: one page. */
export const SHMLBA = PAGE_SIZE;
/** VMALLOC_TOTAL: VMALLOC_END - VMALLOC_START (VMALLOC_END is inclusive, as in Linux). */
export const VMALLOC_TOTAL = VMALLOC_END - VMALLOC_START;

/** nr_vmalloc (node_stat_item NR_VMALLOC in /proc/vmstat): pages backing vmalloc areas. */
export const NR_VMALLOC = vm_stat_item('nr_vmalloc');

export interface VmallocInitOptions {
  debug_vm?: boolean;
  seed?: number;
}

/**
 * vmalloc_init(): build the vmap trees, the lazy-purge wiring and the
 * per-CPU block queues, and preallocate the VMALLOC range's PUD pages in
 * init_mm (x86-64's preallocate_vmalloc_pages(), which Linux runs in
 * mem_init()). Call from start_kernel() after mm_core_init(), before any
 * process mm copies init_mm's kernel PGD half. debug_vm turns on
 * DEBUG_AUGMENT_PROPAGATE_CHECK and DEBUG_AUGMENT_LOWEST_MATCH_CHECK.
 */
export function vmalloc_init(opts: VmallocInitOptions = {}): void {
  vmap_area_init({ nr_cpus: nr_cpu_ids(), debug: opts.debug_vm ?? false, seed: opts.seed ?? 1 });
  vmap_purge_init();
  vmap_block_init();
  const n = preallocate_vmalloc_pages();
  pr_info('vmalloc: %d PUD pages preallocated for %px-%px, lazy_max_pages %d%s', n, VMALLOC_START, VMALLOC_END,
    lazy_max_pages(), vmap_state.debug ? ', debug checks on' : '');
}

export interface VmallocShutdownReport {
  /** Lazy areas purged (flushed and returned to the free tree). */
  purged: boolean;
  /** Page-table pages under the VMALLOC range given back. */
  freed_pgtables: number;
  /** vmalloc/vmap areas still busy (leaked by their owner). */
  busy_areas: number;
}

/**
 * vmalloc_shutdown() (no Linux counterpart): purge the fragmented blocks
 * and every lazily freed area (one last flush), then free the page-table
 * pages vmalloc created, PUDs included. Linux never frees these tables;
 * tskernel's shutdown counts any page not returned as a leak. Call from
 * Kernel.shutdown() before the kernel page tables are torn down and
 * page_alloc_shutdown() runs.
 */
export function vmalloc_shutdown(): VmallocShutdownReport {
  if (!vmap_state.vmap_initialized) return { purged: false, freed_pgtables: 0, busy_areas: 0 };
  purge_fragmented_blocks_allcpus();
  const had_lazy = vmap_state.vmap_lazy_nr > 0;
  purge_vmap_area_lazy();
  const freed_pgtables = vmalloc_free_pgtables();
  const busy_areas = vmap_state.nr_busy;
  vmap_state.vmap_initialized = false;
  return { purged: had_lazy, freed_pgtables, busy_areas };
}

/** vmalloc_nr_pages(): pages backing vmalloc areas. */
export function vmalloc_nr_pages(): number {
  return vmap_state.nr_vmalloc_pages;
}

/** /proc/meminfo's Vmalloc lines, in kB (VmallocChunk has been 0 since v5.3). */
export function vmalloc_meminfo(): { VmallocTotal: number; VmallocUsed: number; VmallocChunk: number } {
  return {
    VmallocTotal: Math.floor(VMALLOC_TOTAL / 1024),
    VmallocUsed: vmalloc_nr_pages() * (PAGE_SIZE / 1024),
    VmallocChunk: 0,
  };
}

const K_KMEM_CACHE_ALLOC = COST_KEY_INDEX.kmem_cache_alloc;
const K_KMEM_CACHE_FREE = COST_KEY_INDEX.kmem_cache_free;

/* --- vm_struct areas ------------------------------------------------------ */

function setup_vmalloc_vm(vm: VmStruct, va: VmapArea, flags: number, caller: string): void {
  vm.flags = flags;
  vm.addr = va.va_start;
  vm.size = va.va_end - va.va_start;
  vm.caller = caller;
  va.vm = vm;
}

/** get_count_order_long(): ceil(log2(size)). */
function get_count_order_long(size: number): number {
  return Math.ceil(Math.log2(size));
}

/**
 * __get_vm_area_node(): a vm_struct over a fresh KVA range of size (rounded
 * up to 1 << shift) plus a guard page unless VM_NO_GUARD. null on failure
 * (the caller warns).
 */
export function __get_vm_area_node(
  size: number, align: number, shift: number, flags: number, start: number, end: number, node: number,
  gfp_mask: gfp_t, caller: string,
): VmStruct | null {
  const requested_size = size;
  if (!Number.isFinite(size) || size < 0) return null;
  size = Math.ceil(size / 2 ** shift) * 2 ** shift;
  if (!size) return null;
  if (flags & VM_IOREMAP)
    align = 2 ** Math.min(Math.max(get_count_order_long(size), PAGE_SHIFT), IOREMAP_MAX_ORDER);
  if (should_failslab('vm_struct', gfp_mask)) return null; // kzalloc_node() returned NULL
  const area = new VmStruct();
  vmap_charge(K_KMEM_CACHE_ALLOC); // kzalloc_node(sizeof(*area))
  if (!(flags & VM_NO_GUARD)) size += PAGE_SIZE;
  const va = alloc_vmap_area(size, align, start, end, node, gfp_mask, 0, area);
  if (typeof va === 'number') {
    vmap_charge(K_KMEM_CACHE_FREE); // kfree(area)
    return null;
  }
  setup_vmalloc_vm(area, va, flags, caller);
  area.requested_size = requested_size;
  return area;
}

/** get_vm_area(): reserve a KVA range in VMALLOC, mapping nothing. */
export function get_vm_area(size: number, flags: number): VmStruct | null {
  return __get_vm_area_node(size, 1, PAGE_SHIFT, flags, VMALLOC_START, VMALLOC_END, NUMA_NO_NODE, GFP_KERNEL, 'get_vm_area');
}

export function get_vm_area_caller(size: number, flags: number, caller: string): VmStruct | null {
  return __get_vm_area_node(size, 1, PAGE_SHIFT, flags, VMALLOC_START, VMALLOC_END, NUMA_NO_NODE, GFP_KERNEL, caller);
}

/** find_vm_area(): the vm_struct of the busy area containing addr, or null. */
export function find_vm_area(addr: number): VmStruct | null {
  const va = find_vmap_area(addr);
  return va === null ? null : va.vm;
}

/**
 * free_unmap_vmap_area(): clear the PTEs now, flush later. (Linux flushes
 * at once only with debug_pagealloc, which tskernel does not have.)
 */
export function free_unmap_vmap_area(va: VmapArea): void {
  vunmap_range_noflush(va.va_start, va.va_end);
  free_vmap_area_noflush(va);
}

/**
 * remove_vm_area(): take the area containing addr off the busy tree,
 * unmap it (lazily) and return its vm_struct; null if addr is not page
 * aligned (with Linux's WARN) or not in a vm_struct area.
 */
export function remove_vm_area(addr: number): VmStruct | null {
  if (!Number.isInteger(addr) || !IS_ALIGNED(addr, PAGE_SIZE)) {
    WARN(true, 'Trying to vfree() bad address (%px)', Number.isInteger(addr) ? addr : 0);
    return null;
  }
  // find_unlink_vmap_area(), but an area without a vm_struct stays (see the file comment).
  const va = find_vmap_area(addr);
  if (va === null || va.vm === null) return null;
  const vm = va.vm;
  unlink_va(va, vmap_state.vmap_area_root);
  free_unmap_vmap_area(va);
  return vm;
}

/* --- vmalloc ---------------------------------------------------------------- */

/** vm_area_alloc_pages(): nr_pages order-0 pages into pages[]; returns how many it got. */
function vm_area_alloc_pages(gfp: gfp_t, order: number, nr_pages: number, pages: number[]): number {
  let nr_allocated = 0;
  while (nr_allocated < nr_pages) {
    const page = alloc_pages(gfp, order);
    if (page === null) break;
    // Higher orders are split and tracked per small page; tskernel only asks for order 0.
    for (let i = 0; i < 1 << order; i++) pages.push(page + i);
    nr_allocated += 1 << order;
  }
  return nr_allocated;
}

/** __vmalloc_area_node(): back the area with pages and map them. Its address, or null (area freed). */
function __vmalloc_area_node(area: VmStruct, gfp_mask: gfp_t, prot: Pgprot, page_shift: number): number | null {
  const addr = area.addr;
  const size = get_vm_area_size(area);
  const nr_small_pages = size / PAGE_SIZE;
  if (!(gfp_mask & (GFP_DMA | GFP_DMA32))) gfp_mask |= __GFP_HIGHMEM;
  area.pages = [];
  vmap_charge(K_KMEM_CACHE_ALLOC); // the pages array: kvmalloc_node(), a kmalloc for the sizes tskernel uses
  area.page_order = page_shift - PAGE_SHIFT;
  area.nr_pages = vm_area_alloc_pages(gfp_mask | __GFP_NOWARN, area.page_order, nr_small_pages, area.pages);
  vmap_state.nr_vmalloc_pages += area.nr_pages;
  mod_node_page_state(NR_VMALLOC, area.nr_pages);
  if (area.nr_pages !== nr_small_pages) {
    warn_alloc(gfp_mask, 'vmalloc error: size %d, failed to allocate pages', area.nr_pages * PAGE_SIZE);
    vfree(addr);
    return null;
  }
  const ret = vmap_pages_range(addr, addr + size, prot, area.pages, page_shift);
  if (ret < 0) {
    warn_alloc(gfp_mask, 'vmalloc error: size %d, failed to map pages', area.nr_pages * PAGE_SIZE);
    vfree(addr);
    return null;
  }
  return addr;
}

/**
 * __vmalloc_node_range(): size bytes of virtually contiguous memory in
 * [start, end) aligned to align, mapped with prot. The address, or null
 * with Linux's warnings (unless __GFP_NOWARN).
 */
export function __vmalloc_node_range(
  size: number, align: number, start: number, end: number, gfp_mask: gfp_t, prot: Pgprot,
  vm_flags: number, node: number, caller: string,
): number | null {
  if (!size) {
    WARN_ON_ONCE(true, '__vmalloc_node_range: zero size');
    return null;
  }
  if (!Number.isFinite(size) || size < 0) {
    // An unsigned long in C: a negative size is a huge one.
    warn_alloc(gfp_mask, 'vmalloc error: size %d, exceeds total pages', size);
    return null;
  }
  if (Math.floor(size / PAGE_SIZE) > totalram_pages()) {
    warn_alloc(gfp_mask, 'vmalloc error: size %d, exceeds total pages', size);
    return null;
  }
  // Huge mappings (VM_ALLOW_HUGE_VMAP) are not modelled: always PAGE_SHIFT.
  const shift = PAGE_SHIFT;
  const area = __get_vm_area_node(size, align, shift, VM_ALLOC | VM_UNINITIALIZED | vm_flags, start, end, node,
    gfp_mask, caller);
  if (area === null) {
    const nofail = (gfp_mask & __GFP_NOFAIL) !== 0;
    warn_alloc(gfp_mask, 'vmalloc error: size %d, vm_struct allocation failed%s', size, nofail ? '. Retrying.' : '');
    // __GFP_NOFAIL would retry forever; with nothing to free in between, tskernel fails instead.
    return null;
  }
  const ret = __vmalloc_area_node(area, gfp_mask, prot, shift);
  if (ret === null) return null;
  area.flags &= ~VM_UNINITIALIZED; // clear_vm_uninitialized_flag()
  return area.addr;
}

export function __vmalloc_node(size: number, align: number, gfp_mask: gfp_t, node: number, caller: string): number | null {
  return __vmalloc_node_range(size, align, VMALLOC_START, VMALLOC_END, gfp_mask, PAGE_KERNEL, 0, node, caller);
}

export function __vmalloc(size: number, gfp_mask: gfp_t): number | null {
  return __vmalloc_node(size, 1, gfp_mask, NUMA_NO_NODE, '__vmalloc');
}

/** vmalloc(): size bytes, page granular, virtually contiguous; the address or null. */
export function vmalloc(size: number): number | null {
  return __vmalloc_node(size, 1, GFP_KERNEL, NUMA_NO_NODE, 'vmalloc');
}

/** vzalloc(): vmalloc() with the memory zeroed (__GFP_ZERO). */
export function vzalloc(size: number): number | null {
  return __vmalloc_node(size, 1, GFP_KERNEL | __GFP_ZERO, NUMA_NO_NODE, 'vzalloc');
}

/** vmalloc_huge(): allowed to use huge pages in Linux; small pages here. */
export function vmalloc_huge(size: number, gfp_mask: gfp_t): number | null {
  return __vmalloc_node_range(size, 1, VMALLOC_START, VMALLOC_END, gfp_mask, PAGE_KERNEL, VM_ALLOW_HUGE_VMAP,
    NUMA_NO_NODE, 'vmalloc_huge');
}

/** vmalloc_user(): zeroed, SHMLBA-aligned, VM_USERMAP. */
export function vmalloc_user(size: number): number | null {
  return __vmalloc_node_range(size, SHMLBA, VMALLOC_START, VMALLOC_END, GFP_KERNEL | __GFP_ZERO, PAGE_KERNEL,
    VM_USERMAP, NUMA_NO_NODE, 'vmalloc_user');
}

/**
 * vfree(): unmap (lazily: the TLB flush waits for the next purge) and free
 * the pages. NULL is a no-op; an address that is not a vmalloc area is a
 * WARN, and nothing changes.
 */
export function vfree(addr: number | null): void {
  if (!addr) return;
  const vm = remove_vm_area(addr);
  if (vm === null) {
    WARN(true, 'Trying to vfree() nonexistent vm area (%px)', Number.isInteger(addr) ? addr : 0);
    return;
  }
  const pages = vm.pages;
  if (pages !== null) {
    for (let i = 0; i < vm.nr_pages; i++) {
      const page = pages[i];
      if (page === undefined) BUG('vfree: vm area %px has no page %d', vm.addr, i);
      __free_pages(page, 0);
    }
    if (vm.flags & VM_ALLOC) {
      vmap_state.nr_vmalloc_pages -= vm.nr_pages;
      mod_node_page_state(NR_VMALLOC, -vm.nr_pages);
    }
    vmap_charge(K_KMEM_CACHE_FREE); // kvfree(vm->pages)
  }
  vm.pages = null;
  vm.nr_pages = 0;
  vmap_charge(K_KMEM_CACHE_FREE); // kfree(vm)
}

/** vunmap(): release a vmap() mapping; the pages stay the caller's (unless VM_MAP_PUT_PAGES). */
export function vunmap(addr: number | null): void {
  if (!addr) return;
  const vm = remove_vm_area(addr);
  if (vm === null) {
    WARN(true, 'Trying to vunmap() nonexistent vm area (%px)', Number.isInteger(addr) ? addr : 0);
    return;
  }
  if (vm.flags & VM_MAP_PUT_PAGES && vm.pages !== null) {
    for (let i = 0; i < vm.nr_pages; i++) __free_pages(vm.pages[i], 0);
  }
  vmap_charge(K_KMEM_CACHE_FREE); // kfree(vm)
}

/** pgprot_nx(). */
function pgprot_nx(prot: Pgprot): Pgprot {
  return new Pgprot(prot.lo, (prot.hi | _PAGE_NX_HI) >>> 0);
}

/**
 * vmap(): map count existing pages virtually contiguously (non-executable).
 * With VM_MAP_PUT_PAGES the pages become the area's and vfree() frees them.
 */
export function vmap(pages: readonly number[], count: number, flags: number, prot: Pgprot): number | null {
  if (flags & VM_FLUSH_RESET_PERMS) {
    WARN_ON_ONCE(true, 'vmap: VM_FLUSH_RESET_PERMS');
    return null;
  }
  // Your top guard is someone else's bottom guard.
  if (flags & VM_NO_GUARD) {
    WARN_ON_ONCE(true, 'vmap: VM_NO_GUARD');
    flags &= ~VM_NO_GUARD;
  }
  if (!Number.isInteger(count) || count <= 0 || count > totalram_pages() || count > pages.length) return null;
  const size = count * PAGE_SIZE;
  const area = get_vm_area_caller(size, flags, 'vmap');
  if (area === null) return null;
  const addr = area.addr;
  if (vmap_pages_range(addr, addr + size, pgprot_nx(prot), pages, PAGE_SHIFT) < 0) {
    vunmap(addr);
    return null;
  }
  if (flags & VM_MAP_PUT_PAGES) {
    area.pages = pages.slice(0, count);
    area.nr_pages = count;
  }
  return addr;
}

/* --- vm_map_ram ----------------------------------------------------------- */

/**
 * vm_map_ram(): map count pages; up to VMAP_MAX_ALLOC pages from this CPU's
 * vmap_block (no global tree work in the common case), else an area of
 * its own. For short-lived mappings. The address or null.
 */
export function vm_map_ram(pages: readonly number[], count: number, node: number): number | null {
  if (!Number.isInteger(count) || count <= 0 || count > pages.length) {
    WARN_ON_ONCE(true, 'vm_map_ram: bad count');
    return null;
  }
  const size = count * PAGE_SIZE;
  let addr: number;
  if (count <= VMAP_MAX_ALLOC) {
    const mem = vb_alloc(size, GFP_KERNEL);
    if (mem <= 0) return null;
    addr = mem;
  } else {
    const va = alloc_vmap_area(size, PAGE_SIZE, VMALLOC_START, VMALLOC_END, node, GFP_KERNEL, VMAP_RAM, null);
    if (typeof va === 'number') return null;
    addr = va.va_start;
  }
  if (vmap_pages_range(addr, addr + size, PAGE_KERNEL, pages, PAGE_SHIFT) < 0) {
    vm_unmap_ram(addr, count);
    return null;
  }
  return addr;
}

/** vm_unmap_ram(): undo vm_map_ram() with the same count (no partial unmaps). */
export function vm_unmap_ram(mem: number, count: number): void {
  const size = count * PAGE_SIZE;
  const addr = mem;
  if (!addr) BUG('vm_unmap_ram: NULL');
  if (addr < VMALLOC_START || addr > VMALLOC_END) BUG('vm_unmap_ram: %px outside VMALLOC', addr);
  if (!IS_ALIGNED(addr, PAGE_SIZE)) BUG('vm_unmap_ram: %px not page aligned', addr);
  if (count <= VMAP_MAX_ALLOC) {
    vb_free(addr, size);
    return;
  }
  const va = find_unlink_vmap_area(addr);
  if (va === null) {
    WARN_ON_ONCE(true, 'vm_unmap_ram: no area');
    return;
  }
  free_unmap_vmap_area(va);
}

/** free_vm_area(): remove a get_vm_area() reservation. */
export function free_vm_area(area: VmStruct): void {
  const ret = remove_vm_area(area.addr);
  if (ret !== area) WARN(true, 'free_vm_area: %px is not that area', area.addr);
  else vmap_charge(K_KMEM_CACHE_FREE); // kfree(ret)
}
