/*
 * arch/x86/kernel/e820.ts - mem=: how much RAM the machine has.
 *
 * Mirrors the command-line half of arch/x86/kernel/e820.c: parse_memopt(),
 * the early_param("mem") that reads a size with memparse() and removes
 * every RAM range above it from the firmware's e820 map
 * (Documentation/admin-guide/kernel-parameters.txt: "mem=nn[KMG] Force
 * usage of a specific amount of memory").
 *
 * Simplified: the emulated firmware has no e820 map to trim. Its RAM is one
 * range from physical 0 of exactly mem= bytes (start_kernel builds the
 * machine with it and hands it to memblock_add()), so mem= sizes the machine
 * rather than cutting a larger one down, and defaults to 512M. No
 * mem=nopentium (a 32-bit option); the size is rounded down to a page and
 * bounded by MIN_PHYSMEM..MAX_PHYSMEM, where Linux takes any nonzero size.
 * mem= is also checked against the host: its mem_map must fit in a quarter
 * of the host's memory (host_mem_map_limit), so a boot the host cannot hold
 * is refused before anything is allocated.
 */
import { totalmem } from 'node:os';
import { memparse } from '../../../lib/cmdline.ts';
import { PAGE_SIZE, PAGE_ALIGN_DOWN } from '../include/asm/page_types.ts';
import { register_param, param_error, format_size, ParamError, type KernelParams } from '../../../kernel/params.ts';

declare module '../../../kernel/params.ts' {
  interface KernelParams {
    /** mem=: bytes of RAM, page aligned, MIN_PHYSMEM..MAX_PHYSMEM. */
    mem: number;
  }
}

/** mem= when none is given: 512 MiB. */
export const DEFAULT_MEM = 512 * 2 ** 20;
/**
 * MAX_PHYSMEM: the most RAM the emulated machine supports, 64 GiB; equal to
 * MAX_RAM_BYTES in arch/x86/hw/physmem.ts, which backs RAM sparsely, so
 * the cap is what a 64 GiB mem_map costs the host, not the RAM itself.
 */
export const MAX_PHYSMEM = 64 * 2 ** 30;
/**
 * MIN_PHYSMEM (no Linux counterpart): below 16 MiB the boot allocations
 * (page tables, the direct map's tables, per-CPU areas) leave too little to
 * run anything, so mem= refuses it rather than failing later in mm/.
 */
export const MIN_PHYSMEM = 16 * 2 ** 20;
/** Estimated host bytes of per-page metadata (the struct-of-arrays mem_map) per 4 KiB page. */
export const MEM_MAP_BYTES_PER_PAGE = 32; // mm/mm_types.ts's typed arrays: ~25 bytes measured, rounded up
/** mem_map may take at most 1/HOST_MEM_MAP_FRACTION of the host's memory. */
export const HOST_MEM_MAP_FRACTION = 4;

/** parse_memopt(): memparse, whole string, rounded down to a page, within MIN_PHYSMEM..MAX_PHYSMEM. */
export function parse_memopt(name: string, val: string): number {
  const r = memparse(val);
  // memparse('K') is 0 with nothing left over: insist on a digit first.
  if (!/^[0-9]/.test(val) || r.rest !== '')
    throw param_error(name, 'size', val, '<number>[KMGT]');
  const mem = PAGE_ALIGN_DOWN(r.value);
  if (mem < MIN_PHYSMEM)
    throw new ParamError(name, `${name}=: size '${val}' is below the minimum of ${format_size(MIN_PHYSMEM)} (MIN_PHYSMEM)`);
  if (mem > MAX_PHYSMEM)
    throw new ParamError(name, `${name}=: size '${val}' exceeds MAX_PHYSMEM (${format_size(MAX_PHYSMEM)}), the most RAM the machine supports`);
  return mem;
}

/**
 * No Linux counterpart: a host-resource check, not kernel logic. The
 * largest mem= whose mem_map (MEM_MAP_BYTES_PER_PAGE per page) fits in
 * 1/HOST_MEM_MAP_FRACTION of the host's memory. The only place that asks
 * the host (os.totalmem()); it refuses a boot, it never changes a result.
 */
export function host_mem_map_limit(host_totalmem: number = totalmem()): number {
  const pages = Math.floor(host_totalmem / HOST_MEM_MAP_FRACTION / MEM_MAP_BYTES_PER_PAGE);
  return pages * PAGE_SIZE;
}

function check_host_resources(out: KernelParams, host_totalmem: number): void {
  if (out.mem <= host_mem_map_limit(host_totalmem)) return;
  const meta = (out.mem / PAGE_SIZE) * MEM_MAP_BYTES_PER_PAGE;
  throw new ParamError('mem',
    `mem=: ${format_size(out.mem)} needs ~${format_size(meta)} of mem_map on the host, ` +
    `more than 1/${HOST_MEM_MAP_FRACTION} of its ${format_size(host_totalmem)}`);
}

/*
 * mem=<size>[KMGT]: early_param("mem", parse_memopt). Checked against the
 * host once the command line is read, so that the last mem= is the one
 * checked.
 */
register_param({
  name: 'mem', value: 'required', early: true,
  help: 'mem=<size>[KMGT] RAM size, rounded down to a page; 16M..64G. [512M]',
  set_default: (out) => { out.mem = DEFAULT_MEM; },
  parse: (val, out) => { out.mem = parse_memopt('mem', val!); },
  check: (p, opts) => { check_host_resources(p, opts.host_totalmem ?? totalmem()); },
  format: (p) => (p.mem !== DEFAULT_MEM ? `mem=${format_size(p.mem)}` : null),
});
