/*
 * tests/mm/vmalloc.test.ts - vmalloc on a booted kernel.
 *
 * Mirrors what lib/test_vmalloc.c and the mm/vmalloc.c debug checks
 * exercise, KUnit-style, on a real (simulated) machine: mappings through
 * the MMU with their guard page, the preallocated VMALLOC PUDs shared by
 * every mm, the lazy purge as a CPU sees it (a cached translation outlives
 * vfree() until the purge's single flush), vmap/vunmap, vm_map_ram's
 * per-CPU blocks, the tracepoints, bad input, and a property test of
 * lazily freed areas against the reference allocator. Every test boots with
 * debug_vm (both DEBUG_AUGMENT checks on) and ends with k.shutdown(), which
 * fails on any leaked page.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { start_kernel, type Kernel } from '../../init/main.ts';
import {
  vmalloc, vzalloc, vfree, vmap, vunmap, vmalloc_to_page, find_vm_area, vm_map_ram, vm_unmap_ram, vmalloc_init,
  vmalloc_shutdown, vmalloc_meminfo, vmalloc_nr_pages, __vmalloc_node_range, __vmalloc_node, get_vm_area,
  free_vm_area, vm_unmap_aliases, is_vmalloc_addr, VM_MAP, VM_MAP_PUT_PAGES, NUMA_NO_NODE, type VmStruct,
} from '../../mm/vmalloc.ts';
import { vmap_state, VmapArea, VMAP_ULONG_MAX, VMAP_BLOCK, VMAP_RAM } from '../../mm/vmap_area.ts';
import { alloc_vmap_area, find_unlink_vmap_area } from '../../mm/vmap_alloc.ts';
import { free_vmap_area_noflush, purge_vmap_area_lazy, lazy_max_pages, vmap_purge_stats } from '../../mm/vmap_purge.ts';
import { vmap_block_state, VMAP_BLOCK_SIZE, VMAP_BBMAP_BITS, VMAP_MAX_ALLOC } from '../../mm/vmap_block.ts';
import { vmap_check_invariants } from '../../mm/vmalloc_debug.ts';
import { get_kernel_nofault, put_kernel_nofault, EFAULT } from '../../mm/maccess.ts';
import { alloc_pages, __free_pages, totalram_pages } from '../../mm/page_alloc.ts';
import { page_address } from '../../mm/mm_types.ts';
import { GFP_KERNEL, __GFP_NOWARN, __GFP_ZERO } from '../../mm/gfp.ts';
import { init_mm } from '../../mm/mm_struct.ts';
import { pgd_offset, pgdp_get, pgd_none, lookup_address_in_pgd } from '../../arch/x86/mm/pgtable.ts';
import { pgd_alloc, pgd_free } from '../../arch/x86/mm/pgalloc.ts';
import { PAGE_KERNEL } from '../../arch/x86/include/asm/pgtable_types.ts';
import { VMALLOC_START, VMALLOC_END, PGDIR_SIZE } from '../../arch/x86/include/asm/pgtable_64_types.ts';
import { PAGE_SIZE } from '../../arch/x86/include/asm/page_types.ts';
import { warn_state } from '../../kernel/panic.ts';
import { printk_init, dmesg } from '../../kernel/printk.ts';
import { RefKva } from './vmalloc_ref.ts';
import { HW_IPI_RECEIVED } from '../../arch/x86/hw/events.ts';

const P = PAGE_SIZE;

/**
 * Boot with debug_vm. vmalloc_init() runs here unless start_kernel() has
 * already run it (once the lead wires it into boot, this is a no-op).
 */
function boot(cmdline = 'mem=64M cpus=2 debug_vm'): Kernel {
  const k = start_kernel(cmdline);
  if (!vmap_state.vmap_initialized) vmalloc_init({ debug_vm: k.params.debug_vm, seed: k.params.seed });
  return k;
}

/** Check the trees, give vmalloc's tables back, and shut down (which fails on leaked pages). */
function down(k: Kernel): void {
  vmap_check_invariants();
  vmalloc_shutdown();
  k.shutdown();
}

afterEach(() => {
  // A failed test must not leave a half-used vmap state for the next boot.
  vmap_state.vmap_initialized = false;
});

function nofault(addr: number): number {
  return get_kernel_nofault(addr);
}

describe('mm_vmalloc', () => {
  describe('vmalloc_map', () => {
    it('maps pages into VMALLOC with an unmapped guard page after them', () => {
      const k = boot();
      const p = vmalloc(3 * P) as number;
      expect(p).not.toBeNull();
      expect(is_vmalloc_addr(p)).toBe(true);
      expect(p % P).toBe(0);
      const vm = find_vm_area(p + 2 * P + 100);
      expect(vm?.addr).toBe(p);
      expect(vm?.size).toBe(4 * P); // 3 pages + guard
      expect(vm?.nr_pages).toBe(3);
      for (let i = 0; i < 3; i++) {
        expect(put_kernel_nofault(p + i * P, 0x1000 + i)).toBe(0);
        expect(vmalloc_to_page(p + i * P)).toBe(vm?.pages?.[i]);
        // The same page through the direct map.
        expect(nofault(page_address(vm?.pages?.[i] as number))).toBe(0x1000 + i);
      }
      expect(nofault(p + 3 * P)).toBe(-EFAULT); // the guard page
      expect(vmalloc_to_page(p + 3 * P)).toBeNull();
      vfree(p);
      down(k);
    });

    it('preallocates the VMALLOC PUD pages so a copied kernel PGD sees later mappings', () => {
      const k = boot();
      const mm = init_mm();
      for (let a = VMALLOC_START; a <= VMALLOC_END; a += PGDIR_SIZE)
        expect(pgd_none(pgdp_get(pgd_offset(mm, a)))).toBe(false);
      // A process PGD copied now, before the mapping exists...
      const pgd = pgd_alloc(mm.pgd, false);
      expect(pgd).not.toBe(0);
      const p = vmalloc(P) as number;
      // ...walks to it: the PUD level is shared, only lower levels changed.
      expect(lookup_address_in_pgd(pgd, p).present).toBe(true);
      expect(lookup_address_in_pgd(mm.pgd, p).present).toBe(true);
      vfree(p);
      pgd_free(pgd, false);
      down(k);
    });

    it('vzalloc gives zeroed memory even from just-dirtied pages; VmallocUsed and nr_vmalloc count pages', () => {
      const k = boot();
      const p = vmalloc(4 * P) as number;
      for (let off = 0; off < 4 * P; off += 256) put_kernel_nofault(p + off, 0xa5a5a5a5);
      expect(vmalloc_nr_pages()).toBe(4);
      expect(vmalloc_meminfo().VmallocUsed).toBe(16);
      expect(k.vmstat().nr_vmalloc).toBe(4);
      vfree(p);
      purge_vmap_area_lazy();
      expect(vmalloc_nr_pages()).toBe(0);
      const z = vzalloc(4 * P) as number;
      for (let off = 0; off < 4 * P; off += 256) expect(nofault(z + off)).toBe(0);
      expect(k.vmstat().nr_vmalloc).toBe(4);
      vfree(z);
      expect(k.vmstat().nr_vmalloc).toBe(0);
      expect(vmalloc_meminfo().VmallocTotal).toBe(32 * 2 ** 30 - 1);
      down(k);
    });
  });

  describe('vmalloc_lazy_purge', () => {
    it('vfree clears the PTEs at once but a translation cached before it stays usable until the purge', () => {
      const k = boot();
      const p = vmalloc(P) as number;
      k.machine.current = 0;
      put_kernel_nofault(p, 0xdeadbeef);
      expect(nofault(p)).toBe(0xdeadbeef); // CPU 0 now caches the translation
      vfree(p);
      // The page tables no longer map it...
      expect(lookup_address_in_pgd(init_mm().pgd, p).present).toBe(false);
      expect(vmalloc_to_page(p)).toBeNull();
      // ...but CPU 0's TLB still does: no flush yet (its page was freed: a use-after-free, as in Linux).
      expect(nofault(p)).not.toBe(-EFAULT);
      // CPU 1 never cached it, so it walks the tables and faults.
      k.machine.current = 1;
      expect(nofault(p)).toBe(-EFAULT);
      k.machine.current = 0;
      expect(vmap_state.vmap_lazy_nr).toBe(2); // the page and its guard
      purge_vmap_area_lazy();
      expect(vmap_state.vmap_lazy_nr).toBe(0);
      expect(nofault(p)).toBe(-EFAULT); // after the purge's flush, CPU 0 faults too
      down(k);
    });

    it('does not hand the range out again until the purge', () => {
      const k = boot();
      /*
       *  0123456789
       *  AAG.......   vmalloc(A): page + guard
       *  zz........   vfree(A): lazy, not free
       *  zzBG......   vmalloc(B) goes after the lazy range
       *  ..BG......   purge: the range is free again
       *  CGBG......   vmalloc(C) takes it (lowest fit)
       */
      const a = vmalloc(P) as number;
      vfree(a);
      const b = vmalloc(P) as number;
      expect(b).toBe(a + 2 * P);
      purge_vmap_area_lazy();
      const c = vmalloc(P) as number;
      expect(c).toBe(a);
      vfree(b);
      vfree(c);
      down(k);
    });

    it('purges many lazily freed areas with one flush_tlb_kernel_range over their span', () => {
      const k = boot();
      const areas: number[] = [];
      for (let i = 0; i < 100; i++) areas.push(vmalloc((1 + (i % 3)) * P) as number);
      const before = k.vmstat();
      const ipis = k.machine.cpus[1].ev[HW_IPI_RECEIVED];
      const stats = { ...vmap_purge_stats };
      // Free every other one first: lazy areas with gaps between them.
      for (let i = 0; i < 100; i += 2) vfree(areas[i]);
      for (let i = 1; i < 100; i += 2) vfree(areas[i]);
      let after = k.vmstat();
      expect(after.nr_tlb_remote_flush - before.nr_tlb_remote_flush).toBe(0); // vfree never flushed
      expect(vmap_purge_stats.nr_flushes).toBe(stats.nr_flushes);
      purge_vmap_area_lazy();
      after = k.vmstat();
      expect(vmap_purge_stats.nr_flushes - stats.nr_flushes).toBe(1);
      // The span is over the ceiling: do_flush_tlb_all() on both CPUs, each
      // counting a received flush; flush_tlb_kernel_range() counts no sent one.
      expect(after.nr_tlb_remote_flush - before.nr_tlb_remote_flush).toBe(0);
      expect(after.nr_tlb_remote_flush_received - before.nr_tlb_remote_flush_received).toBe(2);
      expect(k.machine.cpus[1].ev[HW_IPI_RECEIVED] - ipis).toBe(1); // one IPI round to the other CPU
      expect(after.nr_vmap_purge - before.nr_vmap_purge).toBe(1);
      // The lazy areas merged as they were queued: one area, one purge, one flush.
      expect(after.nr_vmap_purged_areas - before.nr_vmap_purged_areas).toBe(1);
      expect(vmap_purge_stats.last_start).toBe(Math.min(...areas));
      const last = Math.max(...areas);
      expect(vmap_purge_stats.last_end).toBe(last + (find_vm_area(last) === null ? (1 + (areas.indexOf(last) % 3) + 1) * P : 0));
      const { free, lazy } = vmap_check_invariants();
      expect(lazy.length).toBe(0);
      expect(free.length).toBe(1);
      down(k);
    });

    it('drains on its own when more than lazy_max_pages are waiting', () => {
      const k = boot(); // 2 CPUs: fls(2) * 8192 = 16384 pages
      expect(lazy_max_pages()).toBe(16384);
      const purges = vmap_purge_stats.nr_purges;
      const areas: VmStruct[] = [];
      for (let i = 0; i < 9; i++) {
        const area = get_vm_area(8 << 20, VM_MAP); // 2049 pages each with the guard
        if (area === null) throw new Error('get_vm_area failed');
        areas.push(area);
      }
      for (let i = 0; i < 7; i++) free_vm_area(areas[i]);
      expect(vmap_state.vmap_lazy_nr).toBe(7 * 2049); // 14343: under the limit, nothing flushed
      expect(vmap_purge_stats.nr_purges).toBe(purges);
      free_vm_area(areas[7]); // 16392 > 16384: this free drains everything
      expect(vmap_purge_stats.nr_purges).toBe(purges + 1);
      expect(vmap_state.vmap_lazy_nr).toBe(0);
      free_vm_area(areas[8]);
      expect(vmap_state.vmap_lazy_nr).toBe(2049);
      purge_vmap_area_lazy();
      expect(vmap_state.vmap_lazy_nr).toBe(0);
      down(k);
    });
  });

  describe('vmalloc_vmap', () => {
    it('vmap maps existing pages NX; vunmap leaves them to the caller', () => {
      const k = boot();
      const pages = [alloc_pages(GFP_KERNEL | __GFP_ZERO, 0), alloc_pages(GFP_KERNEL | __GFP_ZERO, 0)] as number[];
      const v = vmap(pages, 2, VM_MAP, PAGE_KERNEL) as number;
      expect(v).not.toBeNull();
      put_kernel_nofault(v + P + 8, 77);
      expect(nofault(page_address(pages[1]) + 8)).toBe(77);
      const pte = lookup_address_in_pgd(init_mm().pgd, v);
      expect(pte.present).toBe(true);
      expect(vmalloc_nr_pages()).toBe(0); // vmap is not vmalloc
      vunmap(v);
      expect(nofault(page_address(pages[1]) + 8)).toBe(77); // the pages live on
      for (const pfn of pages) __free_pages(pfn, 0);
      // VM_MAP_PUT_PAGES: vfree() frees them.
      const owned = [alloc_pages(GFP_KERNEL, 0)] as number[];
      const w = vmap(owned, 1, VM_MAP | VM_MAP_PUT_PAGES, PAGE_KERNEL) as number;
      vfree(w);
      down(k);
    });
  });

  describe('vmalloc_vm_map_ram', () => {
    it('serves small mappings from this CPU\'s vmap_block, bump-allocated', () => {
      const k = boot();
      const pages = [alloc_pages(GFP_KERNEL, 0), alloc_pages(GFP_KERNEL, 0)] as number[];
      const a = vm_map_ram(pages, 2, NUMA_NO_NODE) as number;
      const b = vm_map_ram(pages, 2, NUMA_NO_NODE) as number;
      expect(b).toBe(a + 2 * P); // the bump pointer
      const blk = vmap_state.vmap_area_list.list_next;
      expect(blk.flags).toBe(VMAP_RAM | VMAP_BLOCK);
      expect(blk.va_end - blk.va_start).toBe(VMAP_BLOCK_SIZE);
      expect(blk.va_start % VMAP_BLOCK_SIZE).toBe(0);
      put_kernel_nofault(b, 5);
      expect(nofault(page_address(pages[0]))).toBe(5);
      // Another CPU gets its own block.
      k.machine.current = 1;
      const c = vm_map_ram(pages, 1, NUMA_NO_NODE) as number;
      expect(Math.floor(c / VMAP_BLOCK_SIZE)).not.toBe(Math.floor(a / VMAP_BLOCK_SIZE));
      vm_unmap_ram(c, 1);
      k.machine.current = 0;
      vm_unmap_ram(a, 2);
      vm_unmap_ram(b, 2);
      expect(nofault(b)).not.toBe(-EFAULT); // unmapped, not flushed: CPU 0 cached it
      vm_unmap_aliases(); // flush the dirty block ranges (and the purgeable blocks)
      expect(nofault(b)).toBe(-EFAULT);
      for (const pfn of pages) __free_pages(pfn, 0);
      down(k);
    });

    it('frees a block lazily once every page in it is dirty; big mappings get their own area', () => {
      const k = boot();
      const pages = Array.from({ length: VMAP_MAX_ALLOC + 1 }, () => alloc_pages(GFP_KERNEL, 0) as number);
      const freed = vmap_block_state.nr_freed;
      const per = VMAP_BBMAP_BITS / 16;
      const maps = [];
      for (let i = 0; i < per; i++) maps.push(vm_map_ram(pages, 16, NUMA_NO_NODE) as number);
      expect(vmap_block_state.nr_new).toBe(1);
      for (const m of maps) vm_unmap_ram(m, 16);
      expect(vmap_block_state.nr_freed).toBe(freed + 1);
      expect(vmap_state.vmap_lazy_nr).toBe(VMAP_BBMAP_BITS);
      const big = vm_map_ram(pages, VMAP_MAX_ALLOC + 1, NUMA_NO_NODE) as number;
      expect(vmap_block_state.nr_new).toBe(1);
      const va = find_vm_area(big);
      expect(va).toBeNull(); // a VMAP_RAM area has no vm_struct
      vm_unmap_ram(big, VMAP_MAX_ALLOC + 1);
      for (const pfn of pages) __free_pages(pfn, 0);
      down(k);
    });
  });

  describe('vmalloc_trace', () => {
    it('emits alloc_vmap_area, free_vmap_area_noflush and purge_vmap_area_lazy with Linux\'s text', () => {
      const k = boot('mem=64M cpus=2 debug_vm trace_event=vmalloc:*');
      const p = vmalloc(P) as number;
      vfree(p);
      purge_vmap_area_lazy();
      const t = k.trace();
      expect(t).toMatch(/alloc_vmap_area: va_start: 18446683600570023936 size=8192 align=1 vstart=0xffffc90000000000 vend=0xffffe8ffffffffff failed=0/);
      expect(t).toMatch(/free_vmap_area_noflush: va_start=0xffffc90000000000 nr_lazy=2 nr_lazy_max=16384/);
      expect(t).toMatch(/purge_vmap_area_lazy: start=0xffffc90000000000 end=0xffffc90000002000 num_purged=1/);
      down(k);
    });
  });

  describe('vmalloc_bad_input', () => {
    it('fails zero, negative and oversized requests with a warning, and the trees stay whole', () => {
      const k = boot();
      printk_init();
      const w = warn_state.count;
      expect(vmalloc(0)).toBeNull();
      expect(warn_state.count).toBe(w + 1);
      expect(vmalloc(-P)).toBeNull();
      expect(vmalloc((totalram_pages() + 1) * P)).toBeNull();
      expect(dmesg()).toMatch(/vmalloc error: size \d+, exceeds total pages/);
      vmap_check_invariants();
      down(k);
    });

    it('fails a non-power-of-two alignment and a range outside VMALLOC with vm_struct allocation failed', () => {
      const k = boot();
      printk_init();
      expect(__vmalloc_node(P, 3 * P, GFP_KERNEL, NUMA_NO_NODE, 't')).toBeNull();
      expect(dmesg()).toMatch(/vmalloc error: size 4096, vm_struct allocation failed, mode:0xcc0\(GFP_KERNEL\), nodemask=\(null\)/);
      expect(__vmalloc_node_range(P, 1, 0x888000000000, 0x888100000000, GFP_KERNEL, PAGE_KERNEL, 0, NUMA_NO_NODE, 't')).toBeNull();
      expect(__vmalloc_node_range(P, 1, VMALLOC_END - P, VMALLOC_END + 64 * P, GFP_KERNEL, PAGE_KERNEL, 0, NUMA_NO_NODE, 't')).toBeNull();
      const { busy } = vmap_check_invariants();
      expect(busy.length).toBe(0);
      down(k);
    });

    it('fails -EBUSY with Linux\'s warnings when the range is exhausted, after purging lazy areas first', () => {
      const k = boot();
      const end = VMALLOC_START + 8 * P;
      const a = __vmalloc_node_range(3 * P, 1, VMALLOC_START, end, GFP_KERNEL, PAGE_KERNEL, 0, NUMA_NO_NODE, 't') as number;
      const b = __vmalloc_node_range(3 * P, 1, VMALLOC_START, end, GFP_KERNEL, PAGE_KERNEL, 0, NUMA_NO_NODE, 't') as number;
      expect(b).toBe(a + 4 * P);
      vfree(a); // lazy: the window is full until a purge
      const purges = vmap_purge_stats.nr_purges;
      // The overflow path purges and retries: this fits again.
      const c = __vmalloc_node_range(3 * P, 1, VMALLOC_START, end, GFP_KERNEL, PAGE_KERNEL, 0, NUMA_NO_NODE, 't') as number;
      expect(c).toBe(a);
      expect(vmap_purge_stats.nr_purges).toBe(purges + 1);
      printk_init();
      expect(__vmalloc_node_range(P, 1, VMALLOC_START, end, GFP_KERNEL, PAGE_KERNEL, 0, NUMA_NO_NODE, 't')).toBeNull();
      expect(dmesg()).toContain('vmalloc_node_range for size 8192 failed: Address range restricted to 0xffffc90000000000 - 0xffffc90000008000');
      expect(dmesg()).toMatch(/vmalloc error: size 4096, vm_struct allocation failed/);
      // __GFP_NOWARN: silent.
      printk_init();
      expect(__vmalloc_node_range(P, 1, VMALLOC_START, end, GFP_KERNEL | __GFP_NOWARN, PAGE_KERNEL, 0, NUMA_NO_NODE, 't')).toBeNull();
      expect(dmesg()).toBe('');
      vmap_check_invariants();
      vfree(b);
      vfree(c);
      down(k);
    });

    it('gives back what it took when the pages run out', () => {
      const k = boot('mem=32M cpus=1 debug_vm');
      // Take every free page, big blocks first (fast), then give at least 8 pages back
      // (the smallest blocks): enough for page tables, not for the area.
      const hog: [number, number][] = [];
      for (let order = 10; order >= 0; order--) {
        for (;;) {
          const pfn = alloc_pages(GFP_KERNEL | __GFP_NOWARN, order);
          if (pfn === null) break;
          hog.push([pfn, order]);
        }
      }
      let given = 0;
      while (given < 8) {
        const [pfn, order] = hog.pop() as [number, number];
        __free_pages(pfn, order);
        given += 2 ** order;
      }
      expect(given).toBeLessThan(64);
      printk_init();
      expect(vmalloc(64 * P)).toBeNull();
      expect(dmesg()).toMatch(/vmalloc error: size \d+, failed to allocate pages/);
      expect(vmalloc_nr_pages()).toBe(0);
      const { busy } = vmap_check_invariants();
      expect(busy.length).toBe(0);
      for (const [pfn, order] of hog) __free_pages(pfn, order);
      down(k);
    });

    it('vfree of something that is not a vmalloc area is a WARN, and nothing changes', () => {
      const k = boot();
      const p = vmalloc(2 * P) as number;
      const pages = [alloc_pages(GFP_KERNEL, 0)] as number[];
      const r = vm_map_ram(pages, 1, NUMA_NO_NODE) as number;
      printk_init();
      let w = warn_state.count;
      vfree(null); // a no-op, as vfree(NULL)
      expect(warn_state.count).toBe(w);
      vfree(page_address(pages[0])); // the direct map
      expect(warn_state.count).toBe(++w);
      expect(dmesg()).toMatch(/Trying to vfree\(\) nonexistent vm area \(ffff888/);
      vfree(p + 12); // not page aligned: remove_vm_area() and vfree() both WARN, as in Linux
      w += 2;
      expect(warn_state.count).toBe(w);
      expect(dmesg()).toMatch(/Trying to vfree\(\) bad address/);
      vfree(r); // a vm_map_ram address: no vm_struct
      expect(warn_state.count).toBe(++w);
      vunmap(VMALLOC_START + 1000 * P);
      expect(warn_state.count).toBe(++w);
      vmap_check_invariants();
      expect(nofault(p)).not.toBe(-EFAULT); // still mapped
      expect(vmalloc_to_page(p)).not.toBeNull();
      vfree(p);
      vfree(p); // double free
      expect(warn_state.count).toBe(++w);
      vm_unmap_ram(r, 1);
      __free_pages(pages[0], 0);
      down(k);
    });
  });

  describe('vmalloc_property', () => {
    type Op =
      | { kind: 'alloc'; pages: number; align_shift: number; window: boolean; lo: number; len: number }
      | { kind: 'free'; pick: number }
      | { kind: 'purge' };

    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('alloc' as const),
          pages: fc.integer({ min: 1, max: 3000 }).map((n) => (n > 2900 ? n * 4 : 1 + (n % 12))),
          align_shift: fc.constantFrom(0, 12, 12, 13, 14, 16),
          window: fc.boolean(),
          lo: fc.nat(32),
          len: fc.integer({ min: 1, max: 64 }),
        }),
      },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'purge' as const }) },
    );

    it('with lazy frees and purges: same addresses as the reference, no overlap, one block after the last purge', () => {
      const k = boot('mem=32M cpus=1 debug_vm'); // 1 CPU: lazy_max_pages 8192, so big frees drain
      fc.assert(
        fc.property(fc.array(op, { maxLength: 60, size: 'max' }), (ops) => {
          // A fresh KVA state on the same machine (no pages are mapped here).
          vmap_state.vmap_initialized = false;
          vmalloc_init({ debug_vm: true });
          const ref = new RefKva();
          const live: VmapArea[] = [];
          for (const o of ops) {
            const purges = vmap_purge_stats.nr_purges;
            if (o.kind === 'purge') {
              purge_vmap_area_lazy();
              ref.purge();
            } else if (o.kind === 'free') {
              if (live.length === 0) continue;
              const va = live.splice(o.pick % live.length, 1)[0];
              ref.free_lazy(va.va_start);
              expect(find_unlink_vmap_area(va.va_start)).toBe(va);
              free_vmap_area_noflush(va);
              // A drain happens exactly when the lazy pages exceed the limit.
              expect(vmap_purge_stats.nr_purges - purges).toBe(ref.lazy_pages > lazy_max_pages() ? 1 : 0);
              if (ref.lazy_pages > lazy_max_pages()) ref.purge();
            } else {
              const size = o.pages * P;
              const align = 2 ** o.align_shift;
              const vstart = o.window ? VMALLOC_START + o.lo * P : VMALLOC_START;
              const vend = o.window ? vstart + o.len * P : VMALLOC_END;
              const v1 = ref.verdict(size, align, vstart, vend);
              const r = alloc_vmap_area(size, align, vstart, vend, 0, __GFP_NOWARN, 0, null);
              const purged = vmap_purge_stats.nr_purges - purges;
              let v = v1;
              if (purged) {
                // The first try failed, the overflow path purged, the retry ran on the merged space.
                expect(ref.may_fail(v1, size, align, vstart, vend)).toBe(true);
                ref.purge();
                v = ref.verdict(size, align, vstart, vend);
              }
              if (typeof r === 'number') {
                expect(ref.may_fail(v, size, align, vstart, vend)).toBe(true);
                if (!purged && ref.lazy.length) ref.purge(); // a purge with no lazy area counts nothing
              } else {
                const i = ref.block_of(r.va_start, size);
                expect(i).toBeGreaterThanOrEqual(v.lo);
                expect(i).toBeLessThanOrEqual(v.exact ? v.lo : v.hi);
                expect(r.va_start).toBe(ref.addr_in(i, size, align, vstart, vend));
                ref.carve(i, r.va_start, size);
                live.push(r);
              }
            }
            const { free, busy, lazy } = vmap_check_invariants();
            expect(free.map((va) => [va.va_start, va.va_end])).toEqual(ref.free);
            expect(lazy.map((va) => [va.va_start, va.va_end])).toEqual(ref.lazy);
            expect(busy.length).toBe(ref.busy.size);
            expect(vmap_state.vmap_lazy_nr).toBe(ref.lazy_pages);
          }
          for (const va of live) {
            find_unlink_vmap_area(va.va_start);
            free_vmap_area_noflush(va);
          }
          purge_vmap_area_lazy();
          const { free, busy, lazy } = vmap_check_invariants();
          expect(busy.length + lazy.length).toBe(0);
          expect(free.map((va) => [va.va_start, va.va_end])).toEqual([[1, VMAP_ULONG_MAX]]);
        }),
        { numRuns: 60 },
      );
      down(k);
    });
  });
});
