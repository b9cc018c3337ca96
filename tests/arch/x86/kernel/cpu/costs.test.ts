/*
 * tests/arch/x86/kernel/cpu/costs.test.ts - costs=: the cost profile the
 * machine is built with.
 *
 * KUnit-style suite x86_cpu_costs. The parser checks costs='s syntax only;
 * boot_cost_profile() resolves the names, and an unknown profile or key must
 * be the command line's ParamError (tools/start.ts prints it cleanly and
 * exits 2), not the cost model's RangeError escaping as a host stack trace.
 */
import { describe, it, expect } from 'vitest';
import '../../../../../init/params_owners.ts';
import { parse_kernel_params, ParamError } from '../../../../../kernel/params.ts';
import { boot_cost_profile } from '../../../../../arch/x86/kernel/cpu/costs.ts';
import { COST_PROFILES, DEFAULT_COST_PROFILE } from '../../../../../arch/x86/hw/costs.ts';
import { start_kernel } from '../../../../../init/main.ts';

const HOST = { host_totalmem: 2 ** 34 };

/** The error boot_cost_profile() refuses `cmdline` with. */
function refusal(cmdline: string): ParamError {
  try {
    boot_cost_profile(parse_kernel_params(cmdline, HOST));
  } catch (e) {
    expect(e).toBeInstanceOf(ParamError);
    return e as ParamError;
  }
  throw new Error(`'${cmdline}' was accepted`);
}

describe('x86_cpu_costs', () => {
  it('resolves the default profile, a named one and an override', () => {
    expect(boot_cost_profile(parse_kernel_params('', HOST))).toEqual(COST_PROFILES[DEFAULT_COST_PROFILE]);
    expect(boot_cost_profile(parse_kernel_params('costs=skylake', HOST))).toEqual(COST_PROFILES.skylake);
    const p = boot_cost_profile(parse_kernel_params('costs=skylake,ibpb=5000', HOST));
    expect(p).toEqual({ ...COST_PROFILES.skylake, ibpb: 5000 });
  });

  it('an unknown profile is a ParamError naming costs=', () => {
    const e = refusal('costs=nosuch');
    expect(e.param).toBe('costs');
    expect(e.message).toMatch(/^costs=: .*'nosuch'/);
  });

  it('an unknown key is a ParamError naming the key', () => {
    const e = refusal('costs=sapphire_rapids,nokey=1');
    expect(e.param).toBe('costs');
    expect(e.message).toMatch(/^costs=: .*'nokey'/);
  });

  it('start_kernel refuses them before building the machine, with ParamError', () => {
    expect(() => start_kernel('costs=nosuch')).toThrow(ParamError);
    expect(() => start_kernel('costs=sapphire_rapids,nokey=1')).toThrow(ParamError);
    const k = start_kernel('mem=32M cpus=1 costs=skylake,ibpb=5000');
    expect(k.costs.ibpb).toBe(5000);
    k.shutdown();
  });
});
