/*
 * arch/x86/kernel/cpu/proc.ts - the text of /proc/cpuinfo.
 *
 * Mirrors arch/x86/kernel/cpu/proc.c: cpuinfo_op (c_start/c_next/c_stop
 * over the online CPUs) and show_cpuinfo(), one block per CPU in Linux's
 * field order and "%s\t: %s" layout, ending in a blank line. The part is
 * the cost profile's (model name, family, model, LLC size); cpu MHz is
 * cpu_khz (tsc.ts) and bogomips twice that, as the loops-per-jiffy
 * calibration gives on these parts; one socket, one thread per core.
 * "flags" lists, in x86_cap_flags' bit order, the features the simulated
 * machine implements (4-level paging with PAE/PSE/NX/1 GiB pages, the TSC
 * and its deadline timer, the local APIC) and boot_cpu_data's modelled
 * capabilities (pge, pcid, invpcid, smep, smap, pti, ibpb, md_clear,
 * flush_l1d; asi, the ASI branch's X86_FEATURE_ASI, last), with nopcid,
 * nosmep and nosmap clearing theirs as setup_clear_cpu_cap() does; "bugs"
 * lists the X86_BUG_* bits set, after clearcpuid=/setcpuid=.
 * Omitted (no figure): stepping, microcode, cpuid level, vmx flags, power
 * management values; no other CPUID feature flags (fpu, sse, avx ...) are
 * listed because none is modelled.
 */
import { boot_cpu_has, X86_BUG_NAMES } from './common.ts';
import { tsc_state } from '../tsc.ts';
import { pti_state } from '../../mm/pti.ts';
import { this_cpu, nr_cpu_ids } from '../../../../kernel/smp.ts';
import { MAXPHYADDR } from '../../include/asm/pgtable_types.ts';
import { seq_printf, type SeqFile, type SeqOperations, type SeqItem } from '../../../../fs/seq_file.ts';
import type { Loff } from '../../../../fs/read_write.ts';

/*
 * The flags tskernel's machine always has, with their x86_cap_flags bit
 * (word*32+bit), and the modelled capabilities boot_cpu_has() answers.
 */
const CPUINFO_FLAGS: readonly { name: string; bit: number; always?: boolean }[] = [
  { name: 'pse', bit: 0 * 32 + 3, always: true },
  { name: 'tsc', bit: 0 * 32 + 4, always: true },
  { name: 'pae', bit: 0 * 32 + 6, always: true },
  { name: 'apic', bit: 0 * 32 + 9, always: true },
  { name: 'pge', bit: 0 * 32 + 13 },
  { name: 'nx', bit: 1 * 32 + 20, always: true },
  { name: 'pdpe1gb', bit: 1 * 32 + 26, always: true },
  { name: 'lm', bit: 1 * 32 + 29, always: true },
  { name: 'constant_tsc', bit: 3 * 32 + 8, always: true },
  { name: 'pcid', bit: 4 * 32 + 17 },
  { name: 'tsc_deadline_timer', bit: 4 * 32 + 24, always: true },
  { name: 'pti', bit: 7 * 32 + 11 },
  { name: 'ibpb', bit: 7 * 32 + 26 },
  { name: 'smep', bit: 9 * 32 + 7 },
  { name: 'invpcid', bit: 9 * 32 + 10 },
  { name: 'smap', bit: 9 * 32 + 20 },
  { name: 'md_clear', bit: 18 * 32 + 10 },
  { name: 'flush_l1d', bit: 18 * 32 + 28 },
  { name: 'asi', bit: 21 * 32 + 31 },
];

export const cpuinfo_state = {
  /** Features the command line cleared (nopcid, nosmep, nosmap): setup_clear_cpu_cap(). */
  cleared: new Set<string>(),
};

/** The "flags" line's names, in bit order. */
export function cpuinfo_flags(): string[] {
  const has = (f: string): boolean => boot_cpu_has(f) || (f === 'pti' && pti_state.enabled); // pti.c keeps X86_FEATURE_PTI as pti_state
  return CPUINFO_FLAGS.filter((f) => (f.always || has(f.name)) && !cpuinfo_state.cleared.has(f.name)).map((f) => f.name);
}

/** The "bugs" line's names, in bit order. */
export function cpuinfo_bugs(): string[] {
  return X86_BUG_NAMES.filter((b) => boot_cpu_has(b));
}

interface CpuinfoItem {
  cpu: number;
}

function c_start(_m: SeqFile<CpuinfoItem>, pos: Loff): SeqItem<CpuinfoItem> {
  return pos.v < nr_cpu_ids() ? { cpu: pos.v } : null;
}

function c_next(m: SeqFile<CpuinfoItem>, _v: CpuinfoItem, pos: Loff): SeqItem<CpuinfoItem> {
  pos.v++;
  return c_start(m, pos);
}

function c_stop(): void {}

/** show_cpuinfo(). */
function show_cpuinfo(m: SeqFile<CpuinfoItem>, v: CpuinfoItem): number {
  const c = this_cpu().costs.cpu;
  const n = nr_cpu_ids();
  const khz = tsc_state.cpu_khz;
  const mhz = (khz / 1000).toFixed(3);
  const vendor = /AMD/.test(c.model_name) ? 'AuthenticAMD' : 'GenuineIntel';
  const bogo = ((2 * khz) / 1000).toFixed(2);
  seq_printf(m,
    `processor\t: ${v.cpu}\n` +
    `vendor_id\t: ${vendor}\n` +
    `cpu family\t: ${c.family}\n` +
    `model\t\t: ${c.model}\n` +
    `model name\t: ${c.model_name}\n` +
    `cpu MHz\t\t: ${mhz}\n` +
    `cache size\t: ${c.llc_kib} KB\n` +
    'physical id\t: 0\n' +
    `siblings\t: ${n}\n` +
    `core id\t\t: ${v.cpu}\n` +
    `cpu cores\t: ${n}\n` +
    `apicid\t\t: ${v.cpu}\n` +
    `initial apicid\t: ${v.cpu}\n` +
    'fpu\t\t: yes\n' +
    'fpu_exception\t: yes\n' +
    'wp\t\t: yes\n' +
    `flags\t\t: ${cpuinfo_flags().join(' ')}\n` +
    `bugs\t\t: ${cpuinfo_bugs().join(' ')}\n` +
    `bogomips\t: ${bogo}\n` +
    'clflush size\t: 64\n' +
    'cache_alignment\t: 64\n' +
    `address sizes\t: ${MAXPHYADDR} bits physical, 48 bits virtual\n` +
    'power management:\n\n');
  return 0;
}

/** cpuinfo_op. */
export const cpuinfo_op: SeqOperations<CpuinfoItem> = { start: c_start, next: c_next, stop: c_stop, show: show_cpuinfo };
