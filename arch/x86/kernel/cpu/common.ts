/*
 * arch/x86/kernel/cpu/common.ts - per-CPU bring-up of paging features.
 *
 * Mirrors the parts of arch/x86/kernel/cpu/common.c (setup_smep,
 * setup_smap, setup_pcid, cr4_init, and the command-line switches that
 * clear a feature: nopcid, noinvpcid, nosmap, nosmep) and head_64.S's CR3
 * load that a CPU runs on its way up: CR4 gets PGE, SMEP, SMAP and (unless
 * nopcid) PCIDE, and CR3 is loaded with init_mm's PGD. With PCID the
 * kernel's ASID 0 runs as kern_pcid(0) = 1, as build_cr3() makes it.
 * Simplified: a cleared feature is not a bit in cpu_caps_cleared[] applied
 * by identify_cpu(); noinvpcid builds the machine without INVPCID
 * (cpu_caps_cleared()), and the others are read by cpu_setup_from().
 */
import type { Cpu, CpuFeatures } from '../../hw/cpu.ts';
import { X86_CR4_PAE, X86_CR4_PCIDE, X86_CR4_PGE, X86_CR4_SMAP, X86_CR4_SMEP } from '../../include/asm/processor-flags.ts';
import { __pa } from '../../include/asm/page_64_types.ts';
import { register_param, flag_param, type KernelParams } from '../../../../kernel/params.ts';

declare module '../../../../kernel/params.ts' {
  interface KernelParams {
    /** nopcid: run without PCID (X86_FEATURE_PCID cleared). */
    nopcid: boolean;
    /** noinvpcid: run without INVPCID (X86_FEATURE_INVPCID cleared). */
    noinvpcid: boolean;
    /** nosmap: leave CR4.SMAP clear. */
    nosmap: boolean;
    /** nosmep: leave CR4.SMEP clear. */
    nosmep: boolean;
  }
}

/*
 * The switches that clear a CPU feature, as kernel-parameters.txt words
 * them. Linux: x86_nopcid_setup (an early_param: PCID must be known before
 * the first CR3 write), x86_noinvpcid_setup, setup_disable_smap and
 * setup_disable_smep, each a setup_clear_cpu_cap() of its feature.
 */
register_param(flag_param('nopcid', 'nopcid [X86-64] Disable the PCID cpu feature.', true));
register_param(flag_param('noinvpcid', 'noinvpcid [X86] Disable the INVPCID cpu feature.'));
register_param(flag_param('nosmap', 'nosmap [X86] Disable SMAP (Supervisor Mode Access Prevention).'));
register_param(flag_param('nosmep', 'nosmep [X86] Disable SMEP (Supervisor Mode Execution Prevention).'));

/**
 * The features the command line takes away from the machine before it is
 * built (noinvpcid): the INVPCID instruction then raises #UD, so the TLB
 * code must take its fallbacks, as on a CPU without the feature.
 */
export function cpu_caps_cleared(p: KernelParams): Partial<CpuFeatures> {
  return { invpcid: !p.noinvpcid };
}

export interface CpuSetup {
  pcid: boolean;
  smep: boolean;
  smap: boolean;
}

/** Which features boot turns on, after the command line (nopcid, nosmep, nosmap). */
export function cpu_setup_from(cpu: Cpu, p: KernelParams): CpuSetup {
  const f = cpu.features;
  return { pcid: f.pcid && !p.nopcid, smep: f.smep && !p.nosmep, smap: f.smap && !p.nosmap };
}

/** cpu_init()-time paging setup for `cpu`: CR4 features, then CR3 = init_mm's PGD. */
export function cpu_init_paging(cpu: Cpu, setup: CpuSetup, pgd: number): void {
  let cr4 = X86_CR4_PAE;
  if (cpu.features.pge) cr4 |= X86_CR4_PGE;
  if (setup.smep) cr4 |= X86_CR4_SMEP;
  if (setup.smap) cr4 |= X86_CR4_SMAP;
  cpu.write_cr4(cr4);
  cpu.write_cr3(__pa(pgd)); // PCID bits must be 0 while PCIDE is being set
  if (setup.pcid) {
    cpu.write_cr4(cr4 | X86_CR4_PCIDE);
    cpu.write_cr3(__pa(pgd) + 1); // kern_pcid(0)
  }
}
