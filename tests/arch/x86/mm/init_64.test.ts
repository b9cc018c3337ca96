import { describe, it, expect, afterEach } from 'vitest';
import { start_kernel, type Kernel } from '../../../../init/main.ts';
import { this_cpu } from '../../../../kernel/smp.ts';
import { page_address } from '../../../../mm/mm_types.ts';
import { init_mm } from '../../../../mm/mm_struct.ts';
import { lookup_address_in_pgd, ptep_get, PG_LEVEL_1G, PG_LEVEL_2M, PG_LEVEL_4K } from '../../../../arch/x86/mm/pgtable.ts';
import { __START_KERNEL_map, __PHYSICAL_START, PAGE_OFFSET } from '../../../../arch/x86/include/asm/page_64_types.ts';
import { TLB_SIZE_1G, TLB_SIZE_2M, TLB_GLOBAL } from '../../../../arch/x86/hw/tlb.ts';
import { _PAGE_NX_HI } from '../../../../arch/x86/include/asm/pgtable_types.ts';
import { get_kernel_nofault } from '../../../../mm/maccess.ts';
import { X86_CR4_PCIDE, X86_CR4_PGE, X86_CR4_SMAP, X86_CR4_SMEP } from '../../../../arch/x86/include/asm/processor-flags.ts';

let k: Kernel | null = null;
afterEach(() => {
  k?.shutdown();
  k = null;
});

describe('x86_init_64', () => {
  it('maps every pfn of RAM at PAGE_OFFSET + pa; a store there lands in that frame', () => {
    k = start_kernel('mem=64M cpus=2 debug_vm');
    const mem = k.machine.mem;
    for (let pfn = 0; pfn < mem.nr_pages; pfn += 97) {
      expect(this_cpu().translate(page_address(pfn) + 8)).toBe(pfn * 4096 + 8);
    }
    const pfn = mem.nr_pages - 3;
    expect(this_cpu().store32(page_address(pfn) + 12, 0xfeedf00d)).toBe(true);
    expect(mem.read32(pfn * 4096 + 12)).toBe(0xfeedf00d);
    // The second CPU runs on the same tables.
    k.machine.current = 1;
    expect(this_cpu().load32(page_address(pfn) + 12)).toBe(0xfeedf00d);
    k.machine.current = 0;
  });

  it('uses 1 GiB leaves where aligned, 2 MiB next, 4 KiB for the tail', () => {
    k = start_kernel('mem=1054976K cpus=1');
    // 1 GiB + 6 MiB + 256 KiB: one 1G leaf, three 2M leaves, 64 4K pages
    expect(k.meminfo().DirectMap1G).toBe(1048576);
    expect(k.meminfo().DirectMap2M).toBe(3 * 2048);
    expect(k.meminfo().DirectMap4k).toBe(64 * 4);
    const pgd = init_mm().pgd;
    expect(lookup_address_in_pgd(pgd, PAGE_OFFSET + 5).level).toBe(PG_LEVEL_1G);
    expect(lookup_address_in_pgd(pgd, PAGE_OFFSET + 2 ** 30 + 5).level).toBe(PG_LEVEL_2M);
    expect(lookup_address_in_pgd(pgd, PAGE_OFFSET + 2 ** 30 + 6 * 2 ** 20 + 5).level).toBe(PG_LEVEL_4K);
    this_cpu().load32(PAGE_OFFSET + 4096);
    this_cpu().load32(PAGE_OFFSET + 2 ** 30 + 4096);
    expect(this_cpu().tlb.probe(PAGE_OFFSET + 4096, this_cpu().pcid)?.size_shift).toBe(TLB_SIZE_1G);
    expect(this_cpu().tlb.probe(PAGE_OFFSET + 2 ** 30 + 4096, this_cpu().pcid)?.size_shift).toBe(TLB_SIZE_2M);
  });

  it('nogbpages: 2 MiB leaves only', () => {
    k = start_kernel('mem=1G cpus=1 nogbpages');
    expect(k.meminfo().DirectMap1G).toBe(0);
    expect(k.meminfo().DirectMap2M).toBe(512 * 2048);
  });

  it('maps the kernel image at __START_KERNEL_map, executable and global', () => {
    k = start_kernel('mem=32M cpus=1');
    const cpu = this_cpu();
    const va = __START_KERNEL_map + __PHYSICAL_START + 0x1000;
    expect(cpu.translate(va)).toBe(__PHYSICAL_START + 0x1000);
    expect(cpu.fetch(va)).toBe(true);
    // The direct map is NX, the image is not.
    const dm = lookup_address_in_pgd(init_mm().pgd, PAGE_OFFSET + 0x1000);
    expect((ptep_get(dm.ptep).hi & _PAGE_NX_HI) !== 0).toBe(true);
    expect(cpu.tlb.probe(va, cpu.pcid)!.flags & TLB_GLOBAL).toBe(TLB_GLOBAL);
  });

  it('brings every CPU up with PCIDE, PGE, SMEP, SMAP and init_mm loaded', () => {
    k = start_kernel('mem=32M cpus=3');
    for (const cpu of k.machine.cpus) {
      const cr4 = cpu.read_cr4();
      expect(cr4 & (X86_CR4_PCIDE | X86_CR4_PGE | X86_CR4_SMEP | X86_CR4_SMAP)).toBe(X86_CR4_PCIDE | X86_CR4_PGE | X86_CR4_SMEP | X86_CR4_SMAP);
      expect(cpu.read_cr3()).toBe(init_mm().pgd - PAGE_OFFSET + 1);
    }
    k.shutdown();
    k = start_kernel('mem=32M cpus=1 nopcid nosmap');
    const cpu = k.machine.cpus[0];
    expect(cpu.read_cr4() & X86_CR4_PCIDE).toBe(0);
    expect(cpu.read_cr4() & X86_CR4_SMAP).toBe(0);
    expect(cpu.read_cr3() % 4096).toBe(0);
  });

  it('kernel mappings are not global under pti=on', () => {
    k = start_kernel('mem=32M cpus=1 pti=on');
    const cpu = this_cpu();
    cpu.load32(PAGE_OFFSET + 0x5000);
    expect(cpu.tlb.probe(PAGE_OFFSET + 0x5000, cpu.pcid)!.flags & TLB_GLOBAL).toBe(0);
    expect(get_kernel_nofault(PAGE_OFFSET + 0x5000)).toBe(0);
  });
});
