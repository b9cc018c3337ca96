/*
 * arch/x86/kernel/cpu/costs.ts - costs=: which CPU model's cycle costs the
 * machine is built with.
 *
 * No Linux counterpart: on hardware the CPU is what it is, and the kernel
 * learns the model at identify_cpu(). Here the machine is built from a cost
 * profile (arch/x86/hw/costs.ts; sources in Documentation/costs.md), and
 * the command line picks it, so it sits beside the CPU bring-up code.
 *
 * costs=<profile>[,<key>=<cycles>...] names a profile and overrides single
 * keys of it. The parser checks the syntax; boot_cost_profile() checks the
 * names against the profiles (cost_profile()) before the machine is built,
 * and an unknown profile or key is the command line's ParamError, not a
 * host exception.
 */
import { cost_profile, DEFAULT_COST_PROFILE, type CostProfile } from '../../hw/costs.ts';
import { register_param, param_error, ParamError, type KernelParams } from '../../../../kernel/params.ts';

/** costs=<profile>[,<key>=<cycles>...]. */
export interface CostsParam {
  profile: string;
  /** key -> cycles, each >= 0; a prototype-less object (a key may be any [a-z0-9_]+). */
  overrides: Record<string, number>;
}

declare module '../../../../kernel/params.ts' {
  interface KernelParams {
    /** costs=: the cost profile and its per-key overrides. */
    costs: CostsParam;
  }
}

/** The same name as DEFAULT_COST_PROFILE in arch/x86/hw/costs.ts. */
export const DEFAULT_COSTS_PROFILE = DEFAULT_COST_PROFILE;

const COST_NAME = /^[a-z0-9_]+$/;
const COST_OVERRIDE = /^([a-z0-9_]+)=(\d+(?:\.\d+)?)$/;

function parse_costs(name: string, val: string): CostsParam {
  const [profile, ...rest] = val.split(',');
  if (profile === undefined || !COST_NAME.test(profile))
    throw param_error(name, 'profile name', profile ?? '', '[a-z0-9_]+');
  const overrides = Object.create(null) as Record<string, number>;
  for (const o of rest) {
    const m = COST_OVERRIDE.exec(o);
    if (!m) throw param_error(name, 'override', o, '<key>=<cycles>, key [a-z0-9_]+, cycles a non-negative number');
    overrides[m[1]!] = Number(m[2]!);
  }
  return { profile, overrides };
}

/*
 * costs=<profile>[,<key>=<cycles>...] (tskernel's own). A later costs=
 * replaces an earlier one whole; within one, the last of a key wins.
 */
register_param({
  name: 'costs', value: 'required',
  help: `costs=<profile>[,<key>=<cycles>...] cycle cost profile and per-key overrides. [${DEFAULT_COSTS_PROFILE}]`,
  set_default: (out) => {
    out.costs = { profile: DEFAULT_COSTS_PROFILE, overrides: Object.create(null) as Record<string, number> };
  },
  parse: (val, out) => { out.costs = parse_costs('costs', val!); },
  format: (p) => {
    const o = Object.entries(p.costs.overrides).map(([k, v]) => `,${k}=${v}`).join('');
    return p.costs.profile !== DEFAULT_COSTS_PROFILE || o !== '' ? `costs=${p.costs.profile}${o}` : null;
  },
});

/**
 * The profile the machine is built with: costs= resolved by cost_profile().
 * An unknown profile or key (its RangeError) is a ParamError naming costs=,
 * thrown before anything is allocated.
 */
export function boot_cost_profile(p: KernelParams): CostProfile {
  try {
    return cost_profile(p.costs.profile, p.costs.overrides);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new ParamError('costs', e.message.startsWith('costs=') ? e.message : `costs=: ${e.message}`);
  }
}
