/*
 * tests/arch/x86/mm/asi.test.ts - asi=: the boot-time switch.
 *
 * KUnit-style suite x86_asi. asi=off (the default) boots with
 * X86_FEATURE_ASI clear; asi=on sets it, and boot builds
 * asi_nonsensitive_pgd and turns on the page allocator's sensitivity.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../../../init/main.ts';
import { parse_kernel_params } from '../../../../kernel/params.ts';
import { asi_check_boottime_disable, asi_state } from '../../../../arch/x86/mm/asi.ts';
import { asi_nonsensitive } from '../../../../arch/x86/mm/asi_direct_map.ts';
import { page_alloc_asi } from '../../../../mm/mmzone.ts';

describe('x86_asi', () => {
  it('asi=off boots with X86_FEATURE_ASI clear, as the default does', () => {
    for (const cmdline of ['mem=32M cpus=1 asi=off', 'mem=32M cpus=1']) {
      const k = start_kernel(cmdline);
      expect(k.params.asi).toBe(false);
      expect(asi_state.enabled).toBe(false);
      k.shutdown();
    }
  });

  it('asi=on boots with X86_FEATURE_ASI set, a restricted PGD and sensitive free lists', () => {
    const p = parse_kernel_params('asi=on', { host_totalmem: 2 ** 34 });
    expect(p.asi).toBe(true);
    asi_check_boottime_disable(p);
    expect(asi_state.enabled).toBe(true);
    const k = start_kernel('mem=32M cpus=1 asi=on');
    expect(asi_state.enabled).toBe(true);
    expect(asi_nonsensitive.pgd).not.toBe(0);
    expect(page_alloc_asi.enabled).toBe(true);
    expect(k.shutdown().leaked).toEqual([]);
  });

  it('the last asi= wins: asi=on asi=off boots', () => {
    const k = start_kernel('mem=32M cpus=1 asi=on asi=off');
    expect(asi_state.enabled).toBe(false);
    expect(asi_nonsensitive.pgd).toBe(0);
    expect(page_alloc_asi.enabled).toBe(false);
    k.shutdown();
  });
});
