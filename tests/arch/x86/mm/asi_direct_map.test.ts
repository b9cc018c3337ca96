/*
 * tests/arch/x86/mm/asi_direct_map.test.ts - asi_nonsensitive_pgd's direct map
 * and set_direct_map_sensitive().
 *
 * KUnit-style suite x86_asi_direct_map. The template maps all RAM with
 * 2 MiB leaves at most (synthesised where init_mm has a 1 GiB leaf), every
 * table allocated at boot, every pageblock not present until the page
 * allocator makes it nonsensitive. The stale-TLB hazard: CPU 1 runs on the
 * template (its CR3 loaded by hand here, since nothing enters ASI in this
 * branch), caches a nonsensitive page's translation, and CPU 0 flips the
 * pageblock to sensitive: the shootdown must take the translation away.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { start_kernel, type Kernel } from '../../../../init/main.ts';
import { printk_state } from '../../../../kernel/printk.ts';
import { this_cpu } from '../../../../kernel/smp.ts';
import { init_mm } from '../../../../mm/mm_struct.ts';
import { page_address } from '../../../../mm/mm_types.ts';
import { alloc_pages, __free_pages } from '../../../../mm/page_alloc.ts';
import { GFP_KERNEL, GFP_HIGHUSER_MOVABLE, __GFP_NOWARN } from '../../../../mm/gfp.ts';
import { get_pageblock_sensitive, pageblock_nr_pages, pageblock_order } from '../../../../mm/mmzone.ts';
import { all_vmstat } from '../../../../mm/vmstat.ts';
import { get_kernel_nofault, EFAULT } from '../../../../mm/maccess.ts';
import { mm_init_state } from '../../../../mm/mm_init.ts';
import { asi_nonsensitive, asi_direct_map_pmd, asi_direct_map_violations } from '../../../../arch/x86/mm/asi_direct_map.ts';
import { set_direct_map_sensitive, cpa_asi_test } from '../../../../arch/x86/mm/pat/set_memory.ts';
import { lookup_address_in_pgd, pmdp_get, PG_LEVEL_1G, PG_LEVEL_2M, PG_LEVEL_4K } from '../../../../arch/x86/mm/pgtable.ts';
import { pgalloc_state } from '../../../../arch/x86/mm/pgalloc.ts';
import { _PAGE_PRESENT, _PAGE_PSE } from '../../../../arch/x86/include/asm/pgtable_types.ts';
import { PAGE_OFFSET, __pa } from '../../../../arch/x86/include/asm/page_64_types.ts';
import { X86_CR4_PCIDE } from '../../../../arch/x86/include/asm/processor-flags.ts';
import { INVPCID_TYPE_ALL_INCL_GLOBAL } from '../../../../arch/x86/include/asm/invpcid.ts';

/** A PCID nothing else uses (the kernel's run 1..6, PTI's user ones have bit 11). */
const TEST_PCID = 0x30;

let k: Kernel | null = null;
afterEach(() => {
  cpa_asi_test.skip_flush_tlb_kernel_range = false;
  k?.shutdown();
  k = null;
});

const pmd_present = (addr: number): boolean => (pmdp_get(asi_direct_map_pmd(addr)).lo & _PAGE_PRESENT) !== 0;

describe('x86_asi_direct_map', () => {
  it('maps all RAM in 2 MiB PMDs, synthesised under 1 GiB leaves, a short tail in PTEs; not present at boot but for boot\'s own', () => {
    /*
     *  RAM 1027 MiB:   [ 1 GiB ........................ | 2 MiB | 1 MiB ]
     *  init_mm:        [ one 1 GiB leaf                 | 2M    | 256 ptes ]
     *  template:       [ 512 2 MiB leaves               | 2M    | pte table ]
     *  every template PMD entry not present unless its pageblock is nonsensitive
 *  (boot's reservations and what boot's GFP_KERNEL allocations converted)
     */
    printk_state.console_loglevel = 0;
    k = start_kernel('mem=1027M cpus=1 asi=on');
    expect(lookup_address_in_pgd(init_mm().pgd, PAGE_OFFSET).level).toBe(PG_LEVEL_1G);
    const ram = 1027 << 20;
    let present = 0;
    for (let pa = 0; pa < ram; pa += 2 << 20) {
      const va = PAGE_OFFSET + pa;
      const pmdp = asi_direct_map_pmd(va);
      expect(pmdp).not.toBe(0);
      const e = pmdp_get(pmdp);
      const tail = ram - pa < 2 << 20;
      expect((e.lo & _PAGE_PSE) !== 0).toBe(!tail);     // a leaf, but the tail is a PTE table
      const p = (e.lo & _PAGE_PRESENT) !== 0;
      expect(p).toBe(!get_pageblock_sensitive(pa / 4096));
      if (p) {
        present++;
        const r = lookup_address_in_pgd(asi_nonsensitive.pgd, va + 4096);
        expect(r.level).toBe(tail ? PG_LEVEL_4K : PG_LEVEL_2M);
      }
    }
    // Boot's reservations (kernel image, boot tables, mem_map) and its own GFP_KERNEL
    // allocations made a few pageblocks nonsensitive, no more.
    expect(mm_init_state.asi_reserved_pageblocks).toBeGreaterThan(0);
    expect(present).toBe(all_vmstat().asi_pageblock_to_nonsensitive + mm_init_state.asi_reserved_pageblocks);
    expect(asi_direct_map_pmd(PAGE_OFFSET + ram)).toBe(0);              // nothing past RAM
    // The tail: with its PMD switched on, its PTEs map exactly the RAM pages.
    const tail_va = PAGE_OFFSET + (1026 << 20);
    expect(set_direct_map_sensitive((1026 << 20) / 4096, 1, false)).toBe(0);
    expect(lookup_address_in_pgd(asi_nonsensitive.pgd, tail_va).level).toBe(PG_LEVEL_4K);
    expect(lookup_address_in_pgd(asi_nonsensitive.pgd, tail_va + (1 << 20) - 4096).present).toBe(true);
    expect(lookup_address_in_pgd(asi_nonsensitive.pgd, tail_va + (1 << 20)).present).toBe(false);
    // Back as boot left it (boot's reservations at the top of RAM may have made it nonsensitive).
    expect(set_direct_map_sensitive((1026 << 20) / 4096, 1, get_pageblock_sensitive((1026 << 20) / 4096))).toBe(0);
    expect(asi_direct_map_violations()).toEqual([]);
  });

  it('set_direct_map_sensitive refuses a pfn that does not start a pageblock, or lies past RAM', () => {
    k = start_kernel('mem=32M cpus=1 asi=on');
    expect(set_direct_map_sensitive(1, 1, false)).toBe(-22);
    expect(set_direct_map_sensitive((32 << 20) / 4096, 1, false)).toBe(-EFAULT);
  });

  it('flips never allocate a page table: the template was complete at boot', () => {
    k = start_kernel('mem=64M cpus=2 asi=on');
    const live = pgalloc_state.nr_pagetable;
    const early = pgalloc_state.early_pages;
    const got: number[] = [];
    for (;;) {
      const p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, pageblock_order);
      if (p === null) break;
      got.push(p);
    }
    for (const p of got.splice(0)) __free_pages(p, pageblock_order);
    for (;;) {
      const p = alloc_pages(GFP_HIGHUSER_MOVABLE | __GFP_NOWARN, pageblock_order);
      if (p === null) break;
      got.push(p);
    }
    const v = all_vmstat();
    expect(v.asi_pageblock_to_nonsensitive).toBeGreaterThan(10);
    expect(v.asi_pageblock_to_sensitive).toBeGreaterThan(10);
    expect(pgalloc_state.nr_pagetable).toBe(live);
    expect(pgalloc_state.early_pages).toBe(early);
    expect(asi_direct_map_violations()).toEqual([]);
    for (const p of got) __free_pages(p, pageblock_order);
  });

  for (const skip of [false, true]) {
    it(`stale TLB: a page turning sensitive leaves no restricted translation on another CPU${skip ? ' (seeded bug: no flush_tlb_kernel_range, so it does)' : ''}`, () => {
      /*
       *  CPU 1 (CR3 = asi_nonsensitive_pgd, PCID 0x30)   CPU 0
       *  read va: TLB caches the 2 MiB leaf
       *                                                   __free_pages(block)
       *                                                   GFP_HIGHUSER_MOVABLE until the
       *                                                   allocator converts the block:
       *                                                   PMD not present, shootdown IPI
       *  read va: faults (-EFAULT through the fixup)
       */
      printk_state.console_loglevel = 0;
      k = start_kernel('mem=32M cpus=2 asi=on');
      const m = k.machine;
      cpa_asi_test.skip_flush_tlb_kernel_range = skip;
      // A nonsensitive block (the allocator converts and zeroes it), with a value in it.
      const block = alloc_pages(GFP_KERNEL, pageblock_order)!;
      expect(get_pageblock_sensitive(block)).toBe(false);
      const va = page_address(block) + 5 * 4096;
      this_cpu().store32(va, 0xa51a51);
      expect(pmd_present(va)).toBe(true);

      // CPU 1 runs on the restricted template and caches the translation.
      m.current = 1;
      const cpu1 = this_cpu();
      const saved_cr3 = cpu1.read_cr3();
      const pcid = cpu1.read_cr4() & X86_CR4_PCIDE ? TEST_PCID : 0;
      cpu1.write_cr3(__pa(asi_nonsensitive.pgd) + pcid);
      cpu1.invpcid(INVPCID_TYPE_ALL_INCL_GLOBAL, 0); // nothing cached from init_mm's direct map
      expect(get_kernel_nofault(va)).toBe(0xa51a51);
      expect(cpu1.tlb.probe(va, pcid)).not.toBeNull();
      m.current = 0;

      // CPU 0: free it and allocate sensitive memory until the block is converted.
      __free_pages(block, pageblock_order);
      const before = all_vmstat().asi_pageblock_to_sensitive;
      const got: number[] = [];
      while (get_pageblock_sensitive(block) === false) {
        const p = alloc_pages(GFP_HIGHUSER_MOVABLE | __GFP_NOWARN, 0);
        if (p === null) break;
        got.push(p);
      }
      expect(get_pageblock_sensitive(block)).toBe(true);
      expect(all_vmstat().asi_pageblock_to_sensitive).toBeGreaterThan(before);
      expect(pmd_present(va)).toBe(false);
      expect(asi_direct_map_violations()).toEqual([]);

      m.current = 1;
      if (skip) {
        // The stale entry still translates: sensitive memory readable from the restricted space.
        expect(cpu1.tlb.probe(va, pcid)).not.toBeNull();
        expect(get_kernel_nofault(va)).not.toBe(-EFAULT);
      } else {
        expect(cpu1.tlb.probe(va, pcid)).toBeNull();
        expect(get_kernel_nofault(va)).toBe(-EFAULT);
      }
      cpu1.write_cr3(saved_cr3);
      m.current = 0;
      for (const p of got) __free_pages(p, 0);
    });
  }

  it('shutdown with asi=on after conversions both ways reports no leaked page', () => {
    k = start_kernel('mem=32M cpus=2 asi=on');
    const a = alloc_pages(GFP_KERNEL, pageblock_order)!;
    const b = alloc_pages(GFP_HIGHUSER_MOVABLE, 3)!;
    __free_pages(a, pageblock_order);
    __free_pages(b, 3);
    const r = k.shutdown();
    k = null;
    expect(r.leaked).toEqual([]);
    expect(r.leaked_allocations).toEqual([]);
    expect(pageblock_nr_pages).toBe(512);
  });
});
