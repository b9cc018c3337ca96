import { describe, it, expect, afterEach } from 'vitest';
import { start_kernel, type Kernel } from '../../../../init/main.ts';
import { flush_tlb_kernel_range, flush_tlb_one_kernel, __flush_tlb_all } from '../../../../arch/x86/mm/tlb.ts';
import { HW_INVLPG, HW_IPI_RECEIVED, HW_INVPCID_ALL, HW_CR4_WRITE } from '../../../../arch/x86/hw/events.ts';
import { PAGE_OFFSET } from '../../../../arch/x86/include/asm/page_64_types.ts';
import { trace_read } from '../../../../kernel/trace/index.ts';

let k: Kernel | null = null;
afterEach(() => {
  k?.shutdown();
  k = null;
});

describe('x86_tlb_kernel', () => {
  it('flush_tlb_one_kernel is local: one INVLPG, counted', () => {
    k = start_kernel('mem=32M cpus=2');
    const before = k.machine.cpus.map((c) => c.ev[HW_INVLPG]);
    flush_tlb_one_kernel(PAGE_OFFSET);
    expect(k.machine.cpus.map((c) => c.ev[HW_INVLPG])).toEqual([before[0] + 1, before[1]]);
    expect(k.vmstat().nr_tlb_local_flush_one).toBe(1);
  });

  it('flush_tlb_kernel_range: INVLPG per page on every CPU up to 33 pages, a full flush above', () => {
    k = start_kernel('mem=32M cpus=3 trace_event=tlb:tlb_flush');
    const inv0 = k.machine.cpus.map((c) => c.ev[HW_INVLPG]);
    flush_tlb_kernel_range(PAGE_OFFSET, PAGE_OFFSET + 33 * 4096);
    expect(k.machine.cpus.map((c, i) => c.ev[HW_INVLPG] - inv0[i])).toEqual([33, 33, 33]);
    expect(k.machine.cpus.map((c) => c.ev[HW_IPI_RECEIVED])).toEqual([0, 1, 1]);
    let v = k.vmstat();
    // As Linux counts: flush_tlb_one_kernel() counts each page on each CPU
    // (3 x 33); flush_tlb_kernel_range() counts no remote flush, sent or received.
    expect([v.nr_tlb_remote_flush, v.nr_tlb_remote_flush_received, v.nr_tlb_local_flush_one]).toEqual([0, 0, 99]);

    const all0 = k.machine.cpus.map((c) => c.ev[HW_INVPCID_ALL]);
    flush_tlb_kernel_range(PAGE_OFFSET, PAGE_OFFSET + 34 * 4096);
    expect(k.machine.cpus.map((c, i) => c.ev[HW_INVPCID_ALL] - all0[i])).toEqual([1, 1, 1]);
    v = k.vmstat();
    // do_flush_tlb_all() counts a received flush on every CPU, the sender's
    // too; the full branch of flush_tlb_kernel_range() sends no counted flush.
    expect([v.nr_tlb_remote_flush, v.nr_tlb_remote_flush_received, v.nr_tlb_local_flush_all]).toEqual([0, 3, 0]);
    const text = trace_read();
    expect(text).toMatch(/tlb_flush: pages:33 reason:local shootdown \(2\)/);
    expect(text).toMatch(/tlb_flush: pages:33 reason:remote shootdown \(1\)/);
    expect(text).toMatch(/tlb_flush: pages:-1 reason:remote shootdown \(1\)/);
  });

  it('tlb_single_page_flush_ceiling= moves the switch point', () => {
    k = start_kernel('mem=32M cpus=1 tlb_single_page_flush_ceiling=4');
    flush_tlb_kernel_range(PAGE_OFFSET, PAGE_OFFSET + 5 * 4096);
    // Above the ceiling: do_flush_tlb_all() on the one CPU, counted as received.
    expect(k.vmstat().nr_tlb_remote_flush_received).toBe(1);
    expect(k.vmstat().nr_tlb_local_flush_one).toBe(0);
  });

  it('__flush_tlb_all toggles CR4.PGE without INVPCID', () => {
    k = start_kernel('mem=32M cpus=1 noinvpcid');
    const c = k.machine.cpus[0];
    const w = c.ev[HW_CR4_WRITE];
    __flush_tlb_all();
    expect(c.ev[HW_CR4_WRITE] - w).toBe(2);
  });
});
