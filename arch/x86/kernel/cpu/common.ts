/*
 * arch/x86/kernel/cpu/common.ts - per-CPU bring-up of paging features.
 *
 * Mirrors the parts of arch/x86/kernel/cpu/common.c (setup_smep,
 * setup_smap, setup_pcid, cr4_init) and head_64.S's CR3 load that a CPU
 * runs on its way up: CR4 gets PGE, SMEP, SMAP and (unless nopcid) PCIDE,
 * and CR3 is loaded with init_mm's PGD. With PCID the kernel's ASID 0
 * runs as kern_pcid(0) = 1, as build_cr3() makes it.
 */
import type { Cpu } from '../../hw/cpu.ts';
import { X86_CR4_PAE, X86_CR4_PCIDE, X86_CR4_PGE, X86_CR4_SMAP, X86_CR4_SMEP } from '../../include/asm/processor-flags.ts';
import { __pa } from '../../include/asm/page_64_types.ts';

export interface CpuSetup {
  pcid: boolean;
  smep: boolean;
  smap: boolean;
}

/** Which features boot turns on, after the command line (nopcid, nosmep, nosmap). */
export function cpu_setup_from(cpu: Cpu, nopcid: boolean, nosmep: boolean, nosmap: boolean): CpuSetup {
  const f = cpu.features;
  return { pcid: f.pcid && !nopcid, smep: f.smep && !nosmep, smap: f.smap && !nosmap };
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
