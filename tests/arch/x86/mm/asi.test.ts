/*
 * tests/arch/x86/mm/asi.test.ts - asi=: the boot-time switch.
 *
 * KUnit-style suite x86_asi. ASI is not implemented yet, and a documented
 * parameter that does nothing is a defect: asi=off boots with ASI off,
 * asi=on parses (command lines that name it read back) but boot refuses it
 * with a ParamError in asi_check_boottime_disable(), never a kernel that
 * silently ignores it.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../../../init/main.ts';
import { parse_kernel_params, ParamError } from '../../../../kernel/params.ts';
import { asi_check_boottime_disable, asi_state } from '../../../../arch/x86/mm/asi.ts';

describe('x86_asi', () => {
  it('asi=off boots with X86_FEATURE_ASI clear, as the default does', () => {
    for (const cmdline of ['mem=32M cpus=1 asi=off', 'mem=32M cpus=1']) {
      const k = start_kernel(cmdline);
      expect(k.params.asi).toBe(false);
      expect(asi_state.enabled).toBe(false);
      k.shutdown();
    }
  });

  it('asi=on parses but is refused at boot: not implemented in this build yet', () => {
    const p = parse_kernel_params('asi=on', { host_totalmem: 2 ** 34 });
    expect(p.asi).toBe(true);
    expect(() => asi_check_boottime_disable(p)).toThrow(ParamError);
    let err: unknown = null;
    try {
      start_kernel('mem=32M cpus=1 asi=on');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParamError);
    expect((err as ParamError).param).toBe('asi');
    expect((err as ParamError).message).toMatch(/^asi=on: .*not implemented in this build yet/);
  });

  it('the last asi= wins: asi=on asi=off boots', () => {
    const k = start_kernel('mem=32M cpus=1 asi=on asi=off');
    expect(asi_state.enabled).toBe(false);
    k.shutdown();
  });
});
