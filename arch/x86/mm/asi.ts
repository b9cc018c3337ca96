/*
 * arch/x86/mm/asi.ts - Address Space Isolation: the boot-time switch.
 *
 * Mirrors the asi= parameter of the ASI patches (Brendan Jackman's RFC
 * series, "mm: asi: Stop ignoring asi=on cmdline flag"), which
 * asi_check_boottime_disable() in arch/x86/mm/asi.c reads: exactly "on"
 * or "off".
 * Not implemented yet: ASI itself (restricted address spaces, asi_enter /
 * asi_exit, the ephmap).
 */
import { register_param, one_of } from '../../../kernel/params.ts';

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
