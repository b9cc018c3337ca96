import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { format_va, parse_va, __is_canonical_address } from '../../../../arch/x86/include/asm/page.ts';
import { PAGE_OFFSET } from '../../../../arch/x86/include/asm/page_64_types.ts';
import {
  VMALLOC_START, VMALLOC_END, CPU_ENTRY_AREA_BASE, MODULES_VADDR, FIXADDR_TOP, pgd_index, pud_index, pmd_index, pte_index,
  LDT_BASE_ADDR, CPU_ENTRY_AREA_PGD, LDT_PGD_ENTRY,
} from '../../../../arch/x86/include/asm/pgtable_64_types.ts';
import { Pgprot, __PAGE_KERNEL, _KERNPG_TABLE, PAGE_NONE, _PAGE_NX_HI, pgprot_large_2_4k, pgprot_4k_2_large, _PAGE_PAT_LARGE, _PAGE_PAT, _PAGE_PSE } from '../../../../arch/x86/include/asm/pgtable_types.ts';
import { pf_error_string } from '../../../../arch/x86/include/asm/trap_pf.ts';
import { vsprintf } from '../../../../lib/vsprintf.ts';

describe('x86_asm', () => {
  it('prints and parses canonical addresses', () => {
    expect(format_va(PAGE_OFFSET)).toBe('ffff888000000000');
    expect(format_va(VMALLOC_START)).toBe('ffffc90000000000');
    expect(format_va(VMALLOC_END)).toBe('ffffe8ffffffffff');
    expect(format_va(CPU_ENTRY_AREA_BASE)).toBe('fffffe0000000000');
    expect(format_va(MODULES_VADDR)).toBe('ffffffffa0000000');
    expect(format_va(FIXADDR_TOP)).toBe('ffffffffff7ff000');
    expect(format_va(0x7ffffffff000)).toBe('00007ffffffff000');
    expect(parse_va('ffff888000000000')).toBe(PAGE_OFFSET);
    expect(parse_va('0x1000')).toBe(0x1000);
    expect(() => parse_va('ffff088000000000')).toThrow(/non-canonical/);
    expect(() => parse_va('0000800000000000')).toThrow(/non-canonical/);
    expect(() => parse_va('xyz')).toThrow(/not a hex/);
    expect(__is_canonical_address('ffff800000000000')).toBe(true);
    expect(vsprintf('va %px size %d', [PAGE_OFFSET, 4096])).toBe('va ffff888000000000 size 4096');
  });

  it('format and parse are inverse for every stored address', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (va) => parse_va(format_va(va)) === va));
  });

  it('table indices and PGD slots match mm.rst', () => {
    expect(pgd_index(PAGE_OFFSET)).toBe(273);
    expect(pgd_index(LDT_BASE_ADDR)).toBe(LDT_PGD_ENTRY);
    expect(pgd_index(CPU_ENTRY_AREA_BASE)).toBe(CPU_ENTRY_AREA_PGD);
    const va = 0x888000000000 + 5 * 2 ** 30 + 7 * 2 ** 21 + 9 * 4096;
    expect([pud_index(va), pmd_index(va), pte_index(va)]).toEqual([5, 7, 9]);
  });

  it('kernel presets have Linux bits', () => {
    expect(__PAGE_KERNEL.lo).toBe(0x163);
    expect(__PAGE_KERNEL.hi).toBe(_PAGE_NX_HI);
    expect(_KERNPG_TABLE).toBe(0x63);
    expect(PAGE_NONE.lo).toBe(0x120);
    const large = pgprot_4k_2_large(new Pgprot(0x163 | _PAGE_PAT, 0));
    expect(large.lo & _PAGE_PAT_LARGE).toBe(_PAGE_PAT_LARGE);
    expect(large.lo & _PAGE_PSE).toBe(_PAGE_PSE);
    expect(pgprot_large_2_4k(large).lo).toBe(0x163 | _PAGE_PAT);
    expect(pf_error_string(7)).toMatch(/user write access, permissions violation/);
  });
});
