/*
 * tests/include/linux/threads.test.ts - NR_CPUS, the configured most CPUs.
 *
 * KUnit-style suite include_threads. NR_CPUS sizes the kernel's per-CPU
 * tables and bounds cpus=; a machine built with NR_CPUS CPUs must exist,
 * so it may not exceed the machine's own MAX_CPUS.
 */
import { describe, it, expect } from 'vitest';
import { NR_CPUS, CONFIG_NR_CPUS } from '../../../include/linux/threads.ts';
import { MAX_CPUS } from '../../../arch/x86/hw/smp.ts';
import { FIX_KMAP_BEGIN, FIX_KMAP_END, KM_MAX_IDX } from '../../../arch/x86/include/asm/fixmap.ts';

describe('include_threads', () => {
  it('NR_CPUS is CONFIG_NR_CPUS and fits the machine', () => {
    expect(NR_CPUS).toBe(CONFIG_NR_CPUS);
    expect(NR_CPUS).toBeLessThanOrEqual(MAX_CPUS);
  });

  it('the fixmap holds KM_MAX_IDX kmap slots for each of NR_CPUS CPUs', () => {
    expect(FIX_KMAP_END - FIX_KMAP_BEGIN + 1).toBe(KM_MAX_IDX * NR_CPUS);
  });
});
