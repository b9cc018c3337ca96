/*
 * tests/mm/page_alloc_boot.ts - boot just enough kernel for page allocator tests.
 *
 * No Linux counterpart (a KUnit suite's init). A bare machine, no page
 * tables and so no direct map: tests must not use __GFP_ZERO. The layout
 * mimics the lead's setup_arch(): the low 1 MiB and a 4 MiB kernel image at
 * 16 MiB reserved, a few early page-table pages from memblock.
 */
import '../../init/params_owners.ts';
import { Machine } from '../../arch/x86/hw/smp.ts';
import { smp_init_machine } from '../../kernel/smp.ts';
import { printk_init } from '../../kernel/printk.ts';
import { panic_init } from '../../kernel/panic.ts';
import { parse_kernel_params } from '../../kernel/params.ts';
import { vmstat_init } from '../../mm/vmstat.ts';
import { memblock_init, memblock_add, memblock_reserve, memblock_phys_alloc } from '../../mm/memblock.ts';
import { mm_core_init } from '../../mm/page_alloc.ts';
import { page_alloc_asi_init } from '../../mm/mmzone.ts';

export const KERNEL_IMAGE_START = 0x1000000;
export const KERNEL_IMAGE_SIZE = 4 << 20;
export const EARLY_PT_PAGES = 8;

export interface BootOptions {
  mem?: number;
  cpus?: number;
  /** Extra command line (debug_vm is always on). */
  cmdline?: string;
  /** Skip the memblock reservations (the whole of RAM goes to the buddy allocator but page 0). */
  bare?: boolean;
}

export function boot_mm(opts: BootOptions = {}): Machine {
  const mem = opts.mem ?? 64 << 20;
  const m = new Machine({ mem_bytes: mem, nr_cpus: opts.cpus ?? 2 });
  smp_init_machine(m);
  printk_init();
  panic_init();
  vmstat_init();
  // No direct map here, so no ASI (init_mem_mapping turns it on for start_kernel boots).
  page_alloc_asi_init(false);
  memblock_init();
  memblock_add(0, mem);
  if (!opts.bare) {
    memblock_reserve(0, 0x100000);
    memblock_reserve(KERNEL_IMAGE_START, KERNEL_IMAGE_SIZE);
    for (let i = 0; i < EARLY_PT_PAGES; i++) memblock_phys_alloc(4096, 4096);
  }
  mm_core_init(parse_kernel_params(`debug_vm ${opts.cmdline ?? ''}`, { host_totalmem: 2 ** 36 }));
  return m;
}
