/*
 * mm/memblock.ts - boot-time memory: what RAM exists and what is taken.
 *
 * Mirrors mm/memblock.c: memblock.memory and memblock.reserved as sorted,
 * non-overlapping region lists; memblock_add / memblock_remove /
 * memblock_reserve / memblock_phys_free; memblock_phys_alloc_range (top-down
 * by default as on x86, bottom-up after memblock_set_bottom_up(true), never
 * the first page, below memblock.current_limit); and the hand-over to the
 * buddy allocator: memblock_free_all -> free_low_memory_core_early ->
 * memmap_init_reserved_pages (PG_reserved, refcount 1, for every page a
 * reserved region touches) and __free_memory_core -> __free_pages_memory,
 * which frees each free range in the largest naturally aligned blocks up to
 * MAX_PAGE_ORDER through memblock_free_pages (mm/mm_init.c) and
 * __free_pages_core.
 *
 * Simplified: no node ids and no region flags (HOTPLUG, MIRROR, NOMAP,
 * KHO_SCRATCH); regions are JS arrays, so no doubling of the region arrays;
 * overlapping or adjacent regions are merged into one. Addresses and sizes
 * are physical byte counts (integers below 2^52). Not here: memblock_alloc
 * (the virtual, zeroing variant: it needs the direct map, so zeroing is the
 * caller's job on this machine) and the memblock debugfs dump.
 * memblock_phys_alloc returns 0 when nothing fits, as Linux's does; callers
 * that cannot go on panic, as x86's alloc_low_pages does.
 */
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';
import { mem_map, pfn_valid, PFN_UP, PFN_DOWN, init_page_count } from './mm_types.ts';
import { SetPageReserved } from './page_flags.ts';
import { MAX_PAGE_ORDER, contig_page_data, ZONE_NORMAL } from './mmzone.ts';
import { __free_pages_core } from './page_alloc_free.ts';
import { BUG, WARN, WARN_ONCE } from '../kernel/panic.ts';

/** struct memblock_region. */
export interface MemblockRegion {
  base: number;
  size: number;
}

/** MEMBLOCK_ALLOC_ANYWHERE: no upper limit; MEMBLOCK_ALLOC_ACCESSIBLE: up to current_limit. */
export const MEMBLOCK_ALLOC_ANYWHERE = Number.MAX_SAFE_INTEGER;
export const MEMBLOCK_ALLOC_ACCESSIBLE = 0;
/** SMP_CACHE_BYTES: the alignment a zero `align` is taken as. */
export const SMP_CACHE_BYTES = 64;
/** The largest physical address memblock accepts (no Linux counterpart: JS integers). */
const PHYS_LIMIT = 2 ** 52;
const EINVAL = 22;

/** struct memblock: rebuilt by memblock_init() at every boot. */
export const memblock = {
  memory: [] as MemblockRegion[],
  reserved: [] as MemblockRegion[],
  bottom_up: false,
  current_limit: MEMBLOCK_ALLOC_ANYWHERE,
  /** memblock_free_all() ran: RAM belongs to the buddy allocator now. */
  freed: false,
};

/** Start from nothing (Linux's memblock is static data filled by setup_arch). */
export function memblock_init(): void {
  memblock.memory = [];
  memblock.reserved = [];
  memblock.bottom_up = false;
  memblock.current_limit = MEMBLOCK_ALLOC_ANYWHERE;
  memblock.freed = false;
}

function range_ok(fn: string, base: number, size: number): boolean {
  if (Number.isInteger(base) && Number.isInteger(size) && base >= 0 && size >= 0 && base + size <= PHYS_LIMIT)
    return true;
  WARN(true, '%s: bad range base %s size %s', fn, base, size);
  return false;
}

/** memblock_add_range: union a range into a region list (merging what touches). */
function memblock_add_range(type: MemblockRegion[], base: number, size: number): void {
  if (size === 0) return;
  let start = base;
  let end = base + size;
  const out: MemblockRegion[] = [];
  let placed = false;
  for (const r of type) {
    const r_end = r.base + r.size;
    if (r_end < start) {
      out.push(r);
    } else if (r.base > end) {
      if (!placed) { out.push({ base: start, size: end - start }); placed = true; }
      out.push(r);
    } else {
      start = Math.min(start, r.base);
      end = Math.max(end, r_end);
    }
  }
  if (!placed) out.push({ base: start, size: end - start });
  type.length = 0;
  type.push(...out);
}

/** memblock_remove_range: subtract a range from a region list. */
function memblock_remove_range(type: MemblockRegion[], base: number, size: number): void {
  if (size === 0) return;
  const end = base + size;
  const out: MemblockRegion[] = [];
  for (const r of type) {
    const r_end = r.base + r.size;
    if (r_end <= base || r.base >= end) { out.push(r); continue; }
    if (r.base < base) out.push({ base: r.base, size: base - r.base });
    if (r_end > end) out.push({ base: end, size: r_end - end });
  }
  type.length = 0;
  type.push(...out);
}

/** memblock_add: RAM exists at [base, base + size). Returns 0 or -EINVAL. */
export function memblock_add(base: number, size: number): number {
  if (!range_ok('memblock_add', base, size)) return -EINVAL;
  memblock_add_range(memblock.memory, base, size);
  return 0;
}

/** memblock_remove: forget RAM (it becomes a hole). */
export function memblock_remove(base: number, size: number): number {
  if (!range_ok('memblock_remove', base, size)) return -EINVAL;
  memblock_remove_range(memblock.memory, base, size);
  return 0;
}

/** memblock_reserve: [base, base + size) is in use (firmware, kernel image, early allocations). */
export function memblock_reserve(base: number, size: number): number {
  if (!range_ok('memblock_reserve', base, size)) return -EINVAL;
  if (memblock.freed) {
    WARN(true, 'memblock_reserve: called after memblock_free_all()');
    return -EINVAL;
  }
  memblock_add_range(memblock.reserved, base, size);
  return 0;
}

/** memblock_phys_free: give back a reservation before the buddy allocator exists. */
export function memblock_phys_free(base: number, size: number): number {
  if (!range_ok('memblock_phys_free', base, size)) return -EINVAL;
  memblock_remove_range(memblock.reserved, base, size);
  return 0;
}

export function memblock_set_bottom_up(enable: boolean): void {
  memblock.bottom_up = enable;
}

export function memblock_set_current_limit(limit: number): void {
  memblock.current_limit = limit;
}

/** for_each_free_mem_range: memory minus reserved, as [start, end) pairs in address order. */
export function memblock_free_ranges(): [number, number][] {
  const out: [number, number][] = [];
  for (const m of memblock.memory) {
    let start = m.base;
    const end = m.base + m.size;
    for (const r of memblock.reserved) {
      const r_end = r.base + r.size;
      if (r_end <= start) continue;
      if (r.base >= end) break;
      if (r.base > start) out.push([start, r.base]);
      start = Math.max(start, r_end);
      if (start >= end) break;
    }
    if (start < end) out.push([start, end]);
  }
  return out;
}

/** memblock_find_in_range_node: the address of a free, aligned range, or 0. */
function memblock_find_in_range(size: number, align: number, start: number, end: number): number {
  if (end === MEMBLOCK_ALLOC_ACCESSIBLE) end = memblock.current_limit;
  end = Math.min(end, memblock.current_limit);
  // Avoid allocating the first page.
  start = Math.max(start, PAGE_SIZE);
  end = Math.max(start, end);
  const free = memblock_free_ranges();
  if (memblock.bottom_up) {
    for (const [s, e] of free) {
      const this_start = Math.min(Math.max(s, start), end);
      const this_end = Math.min(Math.max(e, start), end);
      const cand = Math.ceil(this_start / align) * align;
      if (cand < this_end && this_end - cand >= size) return cand;
    }
  } else {
    for (let i = free.length - 1; i >= 0; i--) {
      const this_start = Math.min(Math.max(free[i][0], start), end);
      const this_end = Math.min(Math.max(free[i][1], start), end);
      if (this_end < size) continue;
      const cand = Math.floor((this_end - size) / align) * align;
      if (cand >= this_start) return cand;
    }
  }
  return 0;
}

/** memblock_phys_alloc_range: find and reserve `size` bytes aligned to `align` in [start, end). 0 if none. */
export function memblock_phys_alloc_range(size: number, align: number, start: number, end: number): number {
  if (memblock.freed) {
    WARN_ONCE(true, 'memblock:late', 'memblock_phys_alloc: called after memblock_free_all(); use alloc_pages()');
    return 0;
  }
  if (!Number.isInteger(size) || size <= 0 || !Number.isInteger(align) || align < 0) {
    WARN(true, 'memblock_phys_alloc: bad size %s or align %s', size, align);
    return 0;
  }
  if (!align) align = SMP_CACHE_BYTES;   // Linux dumps a stack and carries on
  if (align & (align - 1)) {
    WARN(true, 'memblock_phys_alloc: align %d is not a power of two', align);
    return 0;
  }
  const found = memblock_find_in_range(size, align, start, end);
  if (found && memblock_reserve(found, size) === 0) return found;
  return 0;
}

/** memblock_phys_alloc: anywhere accessible; 0 when memory is exhausted. */
export function memblock_phys_alloc(size: number, align: number): number {
  return memblock_phys_alloc_range(size, align, 0, MEMBLOCK_ALLOC_ACCESSIBLE);
}

function total(type: MemblockRegion[]): number {
  let s = 0;
  for (const r of type) s += r.size;
  return s;
}

export function memblock_phys_mem_size(): number {
  return total(memblock.memory);
}

export function memblock_reserved_size(): number {
  return total(memblock.reserved);
}

/**
 * No Linux counterpart (mem_init_print_info derives it): pages of RAM a
 * reserved region touches, each partial page counted whole, as
 * reserve_bootmem_region marks them.
 */
export function memblock_reserved_pages(): number {
  let n = 0;
  for (const m of memblock.memory) {
    const m_end = m.base + m.size;
    for (const r of memblock.reserved) {
      const s = Math.max(PFN_DOWN(r.base), PFN_UP(m.base));
      const e = Math.min(PFN_UP(r.base + r.size), PFN_DOWN(m_end));
      if (e > s) n += e - s;
    }
  }
  return n;
}

export function memblock_start_of_DRAM(): number {
  return memblock.memory.length ? memblock.memory[0].base : 0;
}

export function memblock_end_of_DRAM(): number {
  const m = memblock.memory;
  return m.length ? m[m.length - 1].base + m[m.length - 1].size : 0;
}

function in_regions(type: MemblockRegion[], addr: number): boolean {
  return type.some((r) => addr >= r.base && addr < r.base + r.size);
}

export function memblock_is_memory(addr: number): boolean {
  return in_regions(memblock.memory, addr);
}

export function memblock_is_reserved(addr: number): boolean {
  return in_regions(memblock.reserved, addr);
}

/** memblock_is_region_reserved: does [base, base + size) overlap a reservation? */
export function memblock_is_region_reserved(base: number, size: number): boolean {
  return memblock.reserved.some((r) => base < r.base + r.size && r.base < base + size);
}

/* ---- hand-over to the buddy allocator ---- */

/** memblock_free_pages (mm/mm_init.c). */
export function memblock_free_pages(page: number, _pfn: number, order: number): void {
  __free_pages_core(page, order);
}

/** __free_pages_memory: free pfns [start, end) in the largest aligned blocks. */
function __free_pages_memory(start: number, end: number): void {
  while (start < end) {
    // __ffs(start): the lowest set bit; start == 0 is MAX_PAGE_ORDER aligned.
    let order = start ? Math.min(MAX_PAGE_ORDER, 31 - Math.clz32(start & -start)) : MAX_PAGE_ORDER;
    while (start + (1 << order) > end) order--;
    memblock_free_pages(start, start, order);
    start += 1 << order;
  }
}

/** __free_memory_core: the whole pages of [start, end); returns how many were freed. */
function __free_memory_core(start: number, end: number): number {
  const start_pfn = PFN_UP(start);
  const end_pfn = Math.min(PFN_DOWN(end), mem_map.max_pfn);
  if (start_pfn >= end_pfn) return 0;
  __free_pages_memory(start_pfn, end_pfn);
  return end_pfn - start_pfn;
}

/**
 * reserve_bootmem_region: every page [start, end) touches is initialised
 * (__init_single_page: refcount 1) and PG_reserved. mem_map starts as fresh
 * free pages (refcount 0), so this is where a reserved page gets its count.
 */
function reserve_bootmem_region(start: number, end: number): void {
  for (let pfn = PFN_DOWN(start); pfn < PFN_UP(end); pfn++) {
    if (!pfn_valid(pfn)) break;
    init_page_count(pfn);
    SetPageReserved(pfn);
  }
}

function memmap_init_reserved_pages(): void {
  for (const r of memblock.reserved) reserve_bootmem_region(r.base, r.base + r.size);
}

/**
 * memblock_free_all: mark reserved pages PG_reserved and give every free
 * page to the buddy allocator. Returns the pages freed (totalram_pages).
 * Needs mem_map and the zone (free_area_init) first.
 */
export function memblock_free_all(): number {
  if (memblock.freed) {
    WARN(true, 'memblock_free_all: called twice');
    return 0;
  }
  const zone = contig_page_data.node_zones[ZONE_NORMAL];
  if (!zone) BUG('memblock_free_all: free_area_init() has not run');
  zone.managed_pages = 0;   // reset_all_zones_managed_pages
  memmap_init_reserved_pages();
  let count = 0;
  for (const [start, end] of memblock_free_ranges()) count += __free_memory_core(start, end);
  memblock.freed = true;
  return count;
}
