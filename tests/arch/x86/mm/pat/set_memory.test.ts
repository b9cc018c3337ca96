import { describe, it, expect, afterEach } from 'vitest';
import { start_kernel, type Kernel } from '../../../../../init/main.ts';
import { this_cpu } from '../../../../../kernel/smp.ts';
import { page_address } from '../../../../../mm/mm_types.ts';
import { init_mm } from '../../../../../mm/mm_struct.ts';
import { lookup_address_in_pgd, PG_LEVEL_2M, PG_LEVEL_4K } from '../../../../../arch/x86/mm/pgtable.ts';
import { set_direct_map_invalid_noflush, set_direct_map_default_noflush, set_memory_np, set_memory_p, cpa_state } from '../../../../../arch/x86/mm/pat/set_memory.ts';
import { flush_tlb_kernel_range } from '../../../../../arch/x86/mm/tlb.ts';
import { get_kernel_nofault, EFAULT } from '../../../../../mm/maccess.ts';
import { alloc_pages, __free_pages } from '../../../../../mm/page_alloc.ts';
import { GFP_KERNEL } from '../../../../../mm/gfp.ts';
import { vmalloc, vfree, vm_map_ram, vm_unmap_ram, NUMA_NO_NODE } from '../../../../../mm/vmalloc.ts';
import { vmap_state } from '../../../../../mm/vmap_area.ts';
import { vmap_purge_stats } from '../../../../../mm/vmap_purge.ts';

let k: Kernel | null = null;
afterEach(() => {
  k?.shutdown();
  k = null;
});

describe('x86_set_memory', () => {
  it('splitting a 2 MiB leaf to unmap one page leaves the other 511 as they were; stale until flushed', () => {
    /*
     *   2 MiB leaf  [pppppppp ... pppppppp]        one PMD entry
     *   after split [pppp.ppp ... pppppppp]        512 PTEs, one not present
     *   CPU 0 and 1 cached the page before: both keep it until the flush.
     */
    k = start_kernel('mem=64M cpus=2 nogbpages');
    const pfn = alloc_pages(GFP_KERNEL, 0)!;
    const va = page_address(pfn);
    const base = va - (va % (2 << 20));
    expect(lookup_address_in_pgd(init_mm().pgd, va).level).toBe(PG_LEVEL_2M);
    this_cpu().store32(va, 0x5a5a);
    for (const c of [1, 0]) {
      k.machine.current = c;
      expect(get_kernel_nofault(va)).toBe(0x5a5a);
    }

    expect(set_direct_map_invalid_noflush(pfn)).toBe(0);
    expect(cpa_state.nr_split_2m).toBe(1);
    expect(lookup_address_in_pgd(init_mm().pgd, va).level).toBe(PG_LEVEL_4K);
    // The split flushed all TLBs (as __split_large_page does); reload the
    // translation before the unmap to show the stale-entry hazard:
    set_direct_map_default_noflush(pfn);
    for (const c of [1, 0]) {
      k.machine.current = c;
      expect(get_kernel_nofault(va)).toBe(0x5a5a);
    }
    set_direct_map_invalid_noflush(pfn);
    for (const c of [1, 0]) {
      k.machine.current = c;
      expect(get_kernel_nofault(va)).toBe(0x5a5a); // stale TLB entry, no flush yet
    }
    // The other 511 pages of the old leaf still translate to their frames.
    for (let i = 0; i < 512; i++) {
      const a = base + i * 4096;
      if (a === va) continue;
      expect(this_cpu().translate(a)).toBe(a - page_address(0));
    }
    flush_tlb_kernel_range(va, va + 4096);
    for (const c of [1, 0]) {
      k.machine.current = c;
      expect(get_kernel_nofault(va)).toBe(-EFAULT);
    }
    expect(k.vmstat().nr_tlb_remote_flush_received).toBeGreaterThan(0);
    set_direct_map_default_noflush(pfn);
    expect(get_kernel_nofault(va)).toBe(0x5a5a);
    __free_pages(pfn, 0);
  });

  it('splits a 1 GiB leaf down to 4 KiB', () => {
    k = start_kernel('mem=1G cpus=1');
    const pfn = alloc_pages(GFP_KERNEL, 0)!;
    expect(set_memory_np(page_address(pfn), 1)).toBe(0);
    expect([cpa_state.nr_split_1g, cpa_state.nr_split_2m]).toEqual([1, 1]);
    expect(k.meminfo().DirectMap1G).toBe(0);
    expect(k.meminfo().DirectMap4k).toBe(512 * 4);
    expect(get_kernel_nofault(page_address(pfn))).toBe(-EFAULT); // set_memory_np flushes
    expect(set_memory_p(page_address(pfn), 1)).toBe(0);
    expect(get_kernel_nofault(page_address(pfn))).toBe(0);
    __free_pages(pfn, 0);
  });

  it('set_memory_np/_p call vm_unmap_aliases first, as change_page_attr_set_clr does; the _noflush calls do not', () => {
    /*
     *  v: vmalloc'd, read on CPU 1, vfree'd       lazy area, CPU 1 still translates v
     *  w: vm_map_ram'd, read on CPU 1, unmapped   dirty block page, CPU 1 still translates w
     *  set_direct_map_invalid_noflush             neither purged
     *  set_memory_np                              both purged: CPU 1 faults on v and w
     */
    k = start_kernel('mem=64M cpus=2');
    const kk = k;
    const on1 = (addr: number): number => {
      kk.machine.current = 1;
      const r = get_kernel_nofault(addr);
      kk.machine.current = 0;
      return r;
    };
    const pages = [alloc_pages(GFP_KERNEL, 0)!, alloc_pages(GFP_KERNEL, 0)!];
    // Split the direct map around pages[1] now: a split flushes every TLB.
    expect(set_direct_map_invalid_noflush(pages[1])).toBe(0);
    expect(set_direct_map_default_noflush(pages[1])).toBe(0);
    const v = vmalloc(4096) as number;
    const keep = vm_map_ram(pages, 1, NUMA_NO_NODE) as number; // keeps the block from being purged whole
    const w = vm_map_ram(pages, 1, NUMA_NO_NODE) as number;
    expect(on1(v)).toBe(0);
    expect(on1(w)).not.toBe(-EFAULT);
    vfree(v);
    vm_unmap_ram(w, 1);
    expect(vmap_state.vmap_lazy_nr).toBeGreaterThan(0);
    const purges = vmap_purge_stats.nr_purges;

    expect(set_direct_map_invalid_noflush(pages[1])).toBe(0);
    expect(set_direct_map_default_noflush(pages[1])).toBe(0);
    expect(vmap_purge_stats.nr_purges).toBe(purges);
    expect([on1(v), on1(w)]).not.toContain(-EFAULT); // still stale on CPU 1

    expect(set_memory_np(page_address(pages[1]), 1)).toBe(0);
    expect(vmap_purge_stats.nr_purges).toBe(purges + 1);
    expect(vmap_state.vmap_lazy_nr).toBe(0);
    expect([on1(v), on1(w)]).toEqual([-EFAULT, -EFAULT]);
    expect(set_memory_p(page_address(pages[1]), 1)).toBe(0);
    vm_unmap_ram(keep, 1);
    for (const p of pages) __free_pages(p, 0);
  });
});
