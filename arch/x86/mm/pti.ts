/*
 * arch/x86/mm/pti.ts - page-table isolation: the user half of a PGD pair.
 *
 * Mirrors arch/x86/mm/pti.c in what the TLB and CR3 see: with pti=on each
 * mm's PGD is an 8 KiB pair, kernel PGD at pgd and user PGD at
 * pgd + PAGE_SIZE (PTI_USER_PGTABLE_BIT = 12); user PGD entries are
 * mirrored into the user PGD as they are set (pti_set_user_pgtbl); kernel
 * mappings lose _PAGE_GLOBAL (__default_kernel_pte_mask); the entry code
 * switches CR3 on every kernel entry and exit (arch/x86/mm/tlb.ts,
 * switch_to_kernel_cr3 / switch_to_user_cr3).
 * Simplified: the user PGD's kernel half maps nothing (tskernel's entry
 * code executes no instructions from memory, so cpu_entry_area, the entry
 * text and espfix need no user mapping).
 * The pti= and nopti parameters are registered here, as in pti.c. With
 * asi=on PTI is off whatever pti= says (the ASI branch, RFC v2).
 */
import { register_param, one_of, type KernelParams } from '../../../kernel/params.ts';
import { boot_cpu_has, boot_cpu_has_bug, X86_FEATURE_ASI } from '../kernel/cpu/common.ts';
import { pr_info } from '../../../kernel/printk.ts';

/** pti_mode (arch/x86/mm/pti.c): PTI_AUTO, PTI_FORCE_ON, PTI_FORCE_OFF. */
export type PtiMode = 'auto' | 'on' | 'off';

declare module '../../../kernel/params.ts' {
  interface KernelParams {
    /** pti= / nopti: pti_mode. */
    pti: PtiMode;
  }
}

/*
 * pti=on|off|auto and nopti: pti.c's early_param("pti", pti_parse_cmdline)
 * and early_param("nopti", pti_parse_cmdline_nopti); nopti is pti=off.
 * Linux defaults to auto, which turns PTI on only on a CPU with
 * X86_BUG_CPU_MELTDOWN: the cost profile's CPU model says (skylake has
 * it, sapphire_rapids not; setcpuid=cpu_meltdown forces it). The default
 * is written off, since PTI is measured when asked for.
 */
register_param({
  name: 'pti', value: 'required', early: true,
  help: 'pti=on|off|auto [X86-64] Page Table Isolation: force on, force off, or on if the CPU has Meltdown (X86_BUG_CPU_MELTDOWN: skylake yes, sapphire_rapids no). [off]',
  set_default: (out) => { out.pti = 'off'; },
  parse: (val, out) => {
    out.pti = one_of('pti', 'value', val!, { on: 'on', off: 'off', auto: 'auto' } as const);
  },
  format: (p) => (p.pti !== 'off' ? `pti=${p.pti}` : null),
});

register_param({
  name: 'nopti', value: 'none', early: true,
  help: 'nopti [X86-64] Equivalent to pti=off.',
  parse: (_val, out) => { out.pti = 'off'; },
});

export const pti_state = {
  /** X86_FEATURE_PTI: set by pti_check_boottime_disable() at every boot. */
  enabled: false,
  /** No Linux counterpart: what was chosen and why, for the boot line ("off (pti=auto: ...)"). */
  chosen: 'off',
};

/** X86_BUG_CPU_MELTDOWN as x86_bug_flags spells it. */
const X86_BUG_CPU_MELTDOWN = 'cpu_meltdown';

/**
 * pti_check_boottime_disable() (pti.c, called from init_mem_mapping()):
 * force X86_FEATURE_PTI on for pti=on; pti=off, nopti and auto (no
 * X86_BUG_CPU_MELTDOWN on this machine) leave it off.
 */
export function pti_check_boottime_disable(p: KernelParams): void {
  // RFC v2 "x86/pti: Disable PTI when ASI is on": the restricted address space replaces it.
  if (boot_cpu_has(X86_FEATURE_ASI)) {
    if (p.pti === 'on') pr_info('pti: ASI enabled, disabling page table isolation');
    pti_state.enabled = false;
    pti_state.chosen = p.pti === 'off' ? 'off' : `off (pti=${p.pti}: ASI replaces it)`;
    return;
  }
  const meltdown = boot_cpu_has_bug(X86_BUG_CPU_MELTDOWN);
  if (p.pti === 'auto') {
    // PTI_AUTO: on exactly when the CPU is affected by Meltdown.
    pti_state.enabled = meltdown;
    pti_state.chosen = meltdown ? 'on (pti=auto: the CPU has X86_BUG_CPU_MELTDOWN)'
      : 'off (pti=auto: the CPU is not affected by Meltdown)';
  } else {
    pti_state.enabled = p.pti === 'on';
    pti_state.chosen = p.pti;
  }
  if (pti_state.enabled) pr_info('Kernel/User page tables isolation: enabled');
  else if (meltdown) pr_info('Kernel/User page tables isolation: disabled on command line.');
  else if (p.pti === 'auto') pr_info('Kernel/User page tables isolation: disabled (CPU not affected by Meltdown)');
}

/** kernel_to_user_pgdp(). */
export function kernel_to_user_pgdp(pgd: number): number {
  return pgd + 4096;
}
