/*
 * tests/arch/x86/mm/pti_auto.test.ts - pti=auto resolves from the CPU's
 * bugs (X86_BUG_CPU_MELTDOWN) and the boot says what it chose.
 */
import { describe, expect, it } from 'vitest';
import { start_kernel } from '../../../../init/main.ts';
import { pti_state } from '../../../../arch/x86/mm/pti.ts';

function boot(cmdline: string): { enabled: boolean; chosen: string; dmesg: string } {
  const k = start_kernel(`mem=64M cpus=1 ${cmdline}`);
  const r = { enabled: pti_state.enabled, chosen: pti_state.chosen, dmesg: k.dmesg() };
  k.shutdown();
  return r;
}

describe('x86_pti_auto', () => {
  it('is on on a part with Meltdown (skylake), off on one without (sapphire_rapids)', () => {
    const sky = boot('costs=skylake pti=auto');
    expect(sky.enabled).toBe(true);
    expect(sky.chosen).toBe('on (pti=auto: the CPU has X86_BUG_CPU_MELTDOWN)');
    expect(sky.dmesg).toContain('Kernel/User page tables isolation: enabled');
    const spr = boot('pti=auto');
    expect(spr.enabled).toBe(false);
    expect(spr.chosen).toBe('off (pti=auto: the CPU is not affected by Meltdown)');
    expect(spr.dmesg).toContain('Kernel/User page tables isolation: disabled (CPU not affected by Meltdown)');
    // setcpuid= forces the bug on, and auto follows it.
    expect(boot('pti=auto setcpuid=cpu_meltdown').enabled).toBe(true);
  });

  it('on and off are what they say; asi=on replaces it', () => {
    expect(boot('pti=on').chosen).toBe('on');
    expect(boot('costs=skylake pti=off').dmesg).toContain('Kernel/User page tables isolation: disabled on command line.');
    const asi = boot('pti=auto asi=on costs=skylake');
    expect([asi.enabled, asi.chosen]).toEqual([false, 'off (pti=auto: ASI replaces it)']);
  });
});
