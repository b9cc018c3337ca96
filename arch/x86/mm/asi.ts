/*
 * arch/x86/mm/asi.ts - Address Space Isolation: the boot-time switch.
 *
 * Mirrors asi_check_boottime_disable() of arch/x86/mm/asi.c in the ASI
 * patches (Brendan Jackman's RFC series, "mm: asi: Stop ignoring asi=on
 * cmdline flag"): the asi= parameter takes exactly "on" or "off", and
 * init_mem_mapping() calls asi_check_boottime_disable() right after
 * pti_check_boottime_disable() to set or leave X86_FEATURE_ASI.
 *
 * With asi=on the page allocator keeps free memory per sensitivity and
 * asi_nonsensitive_pgd's direct map follows it (asi_direct_map.ts); the
 * rest of ASI (domains, asi_enter / asi_exit, the ephmap) is not here yet.
 */
import { register_param, one_of, type KernelParams } from '../../../kernel/params.ts';

declare module '../../../kernel/params.ts' {
  interface KernelParams {
    /** asi=on|off: true for on. */
    asi: boolean;
  }
}

/*
 * asi=on|off [X86-64]: the RFC's asi= (read there by
 * asi_check_boottime_disable() with cmdline_find_option()); anything but
 * the two words is refused, where the RFC falls back to the Kconfig
 * default. Default off, as CONFIG_MITIGATION_ADDRESS_SPACE_ISOLATION_DEFAULT_ON=n.
 */
register_param({
  name: 'asi', value: 'required', early: true,
  help: 'asi=on|off [X86-64] Address Space Isolation. [off]',
  set_default: (out) => { out.asi = false; },
  parse: (val, out) => { out.asi = one_of('asi', 'value', val!, { on: 'on', off: 'off' } as const) === 'on'; },
  format: (p) => (p.asi ? 'asi=on' : null),
});

export const asi_state = {
  /** X86_FEATURE_ASI: false until ASI is implemented. */
  enabled: false,
};

/**
 * asi_check_boottime_disable(): X86_FEATURE_ASI as asi= says (the page
 * allocator's sensitivity and the restricted direct map follow it).
 */
export function asi_check_boottime_disable(p: KernelParams): void {
  asi_state.enabled = p.asi;
}
