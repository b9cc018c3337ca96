import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../init/main.ts';
import { alloc_pages, __free_pages, get_zeroed_page, free_page } from '../../mm/page_alloc.ts';
import { GFP_KERNEL, __GFP_ZERO } from '../../mm/gfp.ts';
import { page_address } from '../../mm/mm_types.ts';
import { HW_FILL_BYTES } from '../../arch/x86/hw/events.ts';
import { this_cpu } from '../../kernel/smp.ts';

describe('mm_page_alloc_zero', () => {
  it('__GFP_ZERO clears through the direct map on the current CPU, with its cost', () => {
    const k = start_kernel('mem=32M cpus=2 debug_vm');
    const pfn = alloc_pages(GFP_KERNEL, 1)!;
    for (let off = 0; off < 8192; off += 4) this_cpu().store32(page_address(pfn) + off, 0xdeadbeef);
    __free_pages(pfn, 1);
    const cpu = this_cpu();
    const fill0 = cpu.ev[HW_FILL_BYTES];
    const clock0 = cpu.clock;
    const again = alloc_pages(GFP_KERNEL | __GFP_ZERO, 1)!;
    expect(again).toBe(pfn); // the pcp list hands the same block back, dirty
    expect(cpu.ev[HW_FILL_BYTES] - fill0).toBe(8192);
    expect(cpu.clock - clock0).toBeGreaterThan(8192 * k.costs.fill_byte);
    for (let off = 0; off < 8192; off += 4) expect(k.machine.mem.read32(again * 4096 + off)).toBe(0);
    __free_pages(again, 1);
    const addr = get_zeroed_page(GFP_KERNEL);
    expect(this_cpu().load32(addr + 100)).toBe(0);
    free_page(addr);
    k.shutdown();
  });
});
