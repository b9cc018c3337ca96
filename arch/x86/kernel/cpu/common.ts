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
 *
 * boot_cpu_data's capabilities (x86_capability, as cpu_has() reads them)
 * are a set of /proc/cpuinfo flag names: the features the kernel may use
 * and the X86_BUG_* bits cpu_set_bug_bits() would set, the latter from the
 * cost profile's CPU model (arch/x86/hw/costs.ts cpu.bugs). setcpuid= and
 * clearcpuid= force bits on or off by name, as parse_set_clear_cpuid()
 * does (Linux 6.15; bug names accepted since "x86/cpu: Enable modifying CPU
 * bug flags with {clear,set}cpuid"), printing "Force-enabling CPUID bits:"
 * / "Clearing CPUID bits:" and " (unknown: NAME)" for a name it does not
 * know. Simplified: only the flags tskernel models have names (naked bit
 * numbers are reported unknown); every part modelled enumerates IBPB,
 * MD_CLEAR and FLUSH_L1D; the taint (TAINT_CPU_OUT_OF_SPEC) is not kept.
 */
import type { Cpu, CpuFeatures } from '../../hw/cpu.ts';
import { X86_CR4_PAE, X86_CR4_PCIDE, X86_CR4_PGE, X86_CR4_SMAP, X86_CR4_SMEP } from '../../include/asm/processor-flags.ts';
import { __pa } from '../../include/asm/page_64_types.ts';
import { register_param, flag_param, type KernelParams } from '../../../../kernel/params.ts';
import { pr_info } from '../../../../kernel/printk.ts';
import type { X86Bug } from '../../hw/costs.ts';

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
    /** setcpuid=: flag names to force on, in order. */
    setcpuid: string[];
    /** clearcpuid=: flag names to force off, in order. */
    clearcpuid: string[];
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

/*
 * setcpuid=x[,x,...] and clearcpuid=x[,x,...]: common.c's
 * cpu_parse_early_param(), read from boot_command_line before the command
 * line proper is parsed (the __setup hooks are dummies). A later one of
 * the same name replaces an earlier one, as cmdline_find_option() finds
 * the last; clearcpuid= is applied first, then setcpuid=.
 */
function cpuid_list_param(name: 'setcpuid' | 'clearcpuid', help: string): void {
  register_param({
    name, value: 'required', early: true, help,
    set_default: (out) => { out[name] = []; },
    parse: (val, out) => { out[name] = val!.split(',').filter((x) => x !== ''); },
    format: (p) => (p[name].length ? `${name}=${p[name].join(',')}` : null),
  });
}
cpuid_list_param('clearcpuid', 'clearcpuid=X[,X...] [X86] Disable CPUID features or bug bits by name (ibpb, md_clear, flush_l1d, pcid, invpcid, smep, smap, retbleed, l1tf, mds, ...).');
cpuid_list_param('setcpuid', 'setcpuid=X[,X...] [X86] Force-enable CPUID features or bug bits by name; setcpuid=retbleed puts an IBPB in every asi_exit().');

/** Feature flags (x86_cap_flags names) tskernel models. */
export const X86_FEATURE_PGE = 'pge';
export const X86_FEATURE_PCID = 'pcid';
export const X86_FEATURE_INVPCID = 'invpcid';
export const X86_FEATURE_SMEP = 'smep';
export const X86_FEATURE_SMAP = 'smap';
export const X86_FEATURE_PTI = 'pti';
export const X86_FEATURE_IBPB = 'ibpb';
export const X86_FEATURE_MD_CLEAR = 'md_clear';
export const X86_FEATURE_FLUSH_L1D = 'flush_l1d';
/** X86_FEATURE_ASI (the ASI branch's synthetic flag, set by asi_check_boottime_disable()). */
export const X86_FEATURE_ASI = 'asi';
const X86_FEATURE_NAMES: readonly string[] = [
  X86_FEATURE_PGE, X86_FEATURE_PCID, X86_FEATURE_INVPCID, X86_FEATURE_SMEP, X86_FEATURE_SMAP, X86_FEATURE_PTI,
  X86_FEATURE_IBPB, X86_FEATURE_MD_CLEAR, X86_FEATURE_FLUSH_L1D, X86_FEATURE_ASI,
];

/** x86_bug_flags names: X86_BUG_RETBLEED is "retbleed". */
export function x86_bug_flag(bug: X86Bug): string {
  return bug.slice('X86_BUG_'.length).toLowerCase();
}
export const X86_BUG_RETBLEED = 'retbleed';
export const X86_BUG_L1TF = 'l1tf';
export const X86_BUG_MDS = 'mds';
/* Every X86_BUG_* costs.ts names (its X86Bug union), as x86_bug_flags spells them. */
export const X86_BUG_NAMES: readonly string[] = [
  'cpu_meltdown', 'spectre_v1', 'spectre_v2', 'spec_store_bypass', 'l1tf', 'mds', 'msbds_only', 'swapgs', 'taa',
  'itlb_multihit', 'srbds', 'mmio_stale_data', 'retbleed', 'eibrs_pbrsb', 'gds', 'rfds', 'bhi', 'its', 'vmscape',
];

/** boot_cpu_data's x86_capability: features and bug bits by name. Rebuilt at every boot. */
export const boot_cpu_data = {
  caps: new Set<string>(),
};

/** boot_cpu_has() / cpu_feature_enabled() / boot_cpu_has_bug(): by flag name. */
export function boot_cpu_has(flag: string): boolean {
  return boot_cpu_data.caps.has(flag);
}
export const boot_cpu_has_bug = boot_cpu_has;

/** setup_force_cpu_cap() / setup_clear_cpu_cap(). */
export function setup_force_cpu_cap(flag: string): void {
  boot_cpu_data.caps.add(flag);
}
export function setup_clear_cpu_cap(flag: string): void {
  boot_cpu_data.caps.delete(flag);
}

/*
 * parse_set_clear_cpuid(): each name is a feature or a bug flag; one line
 * of dmesg lists what was applied.
 */
function parse_set_clear_cpuid(names: readonly string[], set: boolean): void {
  let line = `${set ? 'Force-enabling' : 'Clearing'} CPUID bits:`;
  for (const opt of names) {
    if (X86_FEATURE_NAMES.includes(opt) || X86_BUG_NAMES.includes(opt)) {
      line += ` ${opt}`;
      if (set) setup_force_cpu_cap(opt);
      else setup_clear_cpu_cap(opt);
    } else {
      line += ` (unknown: ${opt})`;
    }
  }
  pr_info('%s', line);
}

/**
 * identify_boot_cpu()'s capability part: the machine's features, the
 * bugs of the part (its cost profile's CPU model), then clearcpuid= and
 * setcpuid=. Call once the machine is built, before anything tests a flag.
 */
export function cpu_caps_init(f: CpuFeatures, bugs: readonly X86Bug[], p: KernelParams): void {
  const caps = new Set<string>();
  if (f.pge) caps.add(X86_FEATURE_PGE);
  if (f.pcid) caps.add(X86_FEATURE_PCID);
  if (f.invpcid) caps.add(X86_FEATURE_INVPCID);
  if (f.smep) caps.add(X86_FEATURE_SMEP);
  if (f.smap) caps.add(X86_FEATURE_SMAP);
  // [I] both modelled parts enumerate SPEC_CTRL (IBPB), MD_CLEAR and L1D_FLUSH.
  caps.add(X86_FEATURE_IBPB);
  caps.add(X86_FEATURE_MD_CLEAR);
  caps.add(X86_FEATURE_FLUSH_L1D);
  for (const b of bugs) caps.add(x86_bug_flag(b));
  boot_cpu_data.caps = caps;
  if (p.clearcpuid.length) parse_set_clear_cpuid(p.clearcpuid, false);
  if (p.setcpuid.length) parse_set_clear_cpuid(p.setcpuid, true);
}

/**
 * The features the command line takes away from the machine before it is
 * built (noinvpcid, clearcpuid=invpcid): the INVPCID instruction then
 * raises #UD, so the TLB code must take its fallbacks, as on a CPU without
 * the feature.
 */
export function cpu_caps_cleared(p: KernelParams): Partial<CpuFeatures> {
  return { invpcid: !p.noinvpcid && !p.clearcpuid.includes(X86_FEATURE_INVPCID) };
}

export interface CpuSetup {
  pcid: boolean;
  smep: boolean;
  smap: boolean;
}

/** Which features boot turns on, after the command line (nopcid, nosmep, nosmap). */
export function cpu_setup_from(cpu: Cpu, p: KernelParams): CpuSetup {
  const f = cpu.features;
  const off = (name: string): boolean => p.clearcpuid.includes(name) && !p.setcpuid.includes(name);
  return {
    pcid: f.pcid && !p.nopcid && !off(X86_FEATURE_PCID),
    smep: f.smep && !p.nosmep && !off(X86_FEATURE_SMEP),
    smap: f.smap && !p.nosmap && !off(X86_FEATURE_SMAP),
  };
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
