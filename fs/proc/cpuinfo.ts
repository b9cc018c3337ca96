/*
 * fs/proc/cpuinfo.ts - /proc/cpuinfo.
 *
 * Mirrors fs/proc/cpuinfo.c: the file is the architecture's cpuinfo_op
 * (arch/x86/kernel/cpu/proc.ts) read through seq_file.
 */
import { cpuinfo_op, cpuinfo_state } from '../../arch/x86/kernel/cpu/proc.ts';
import { X86_FEATURE_PCID, X86_FEATURE_SMAP, X86_FEATURE_SMEP } from '../../arch/x86/kernel/cpu/common.ts';
import type { KernelParams } from '../../kernel/params.ts';
import { proc_create_seq } from './generic.ts';

/** proc_cpuinfo_init(), with the features the command line cleared from the flags. */
export function proc_cpuinfo_init(params: KernelParams): void {
  const cleared = new Set<string>();
  if (params.nopcid) cleared.add(X86_FEATURE_PCID);
  if (params.nosmep) cleared.add(X86_FEATURE_SMEP);
  if (params.nosmap) cleared.add(X86_FEATURE_SMAP);
  cpuinfo_state.cleared = cleared;
  proc_create_seq('cpuinfo', 0, null, cpuinfo_op);
}
