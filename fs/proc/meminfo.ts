/*
 * fs/proc/meminfo.ts - /proc/meminfo.
 *
 * Mirrors fs/proc/meminfo.c's meminfo_proc_show(): one "Label:  %8lu kB"
 * line per figure (show_val_kb: the label padded to 16 columns, the value
 * in kB right-aligned in 8), the hugetlb block in hugetlb_report_meminfo()'s
 * format and arch_report_meminfo()'s DirectMap lines, in Linux's order.
 * MemTotal and MemFree are si_meminfo()'s, the Vmalloc* lines
 * vmalloc_meminfo()'s and DirectMap* direct_map_meminfo()'s: the same
 * figures k.meminfo() reports. Cached, Shmem, ShmemHugePages and
 * FileHugePages come from the node counters as Linux's do; AnonPages sums
 * the anon RSS of every address space. Lines whose figure is zero because
 * tskernel has no such thing are printed as zero, as a kernel without it
 * would: Buffers (no block devices), SwapCached/SwapTotal/SwapFree (no
 * swap), AnonHugePages (no anonymous THP), the HugePages_* pool (no
 * hugetlbfs).
 * Omitted (no figure kept): MemAvailable, Active/Inactive and their
 * anon/file splits, Unevictable, Mlocked, Zswap/Zswapped, Dirty, Writeback,
 * Mapped, KReclaimable, Slab, SReclaimable, SUnreclaim, KernelStack,
 * PageTables, SecPageTables, NFS_Unstable, Bounce, WritebackTmp,
 * CommitLimit, Committed_AS, Percpu, HardwareCorrupted, ShmemPmdMapped,
 * FilePmdMapped, CmaTotal/CmaFree, Unaccepted, Balloon.
 */
import { seq_printf, type SeqFile } from '../seq_file.ts';
import { meminfo } from '../../mm/page_alloc.ts';
import { vmalloc_meminfo } from '../../mm/vmalloc.ts';
import { direct_map_meminfo } from '../../arch/x86/mm/init_64.ts';
import { global_node_page_state } from '../../mm/vmstat.ts';
import { NR_FILE_PAGES, NR_SHMEM, NR_SHMEM_THPS, NR_FILE_THPS } from '../filemap.ts';
import { sched_state } from '../../kernel/sched/core.ts';
import { mm_layout } from '../../mm/mmap.ts';
import type { MmStruct } from '../../mm/mm_struct.ts';
import { proc_create_single } from './generic.ts';

const PAGE_KB = 4;

/** show_val_kb(): "Label:" padded to 16 columns, the kB value in 8, " kB". */
function show_val_kb(m: SeqFile<object>, label: string, kb: number): void {
  seq_printf(m, label.padEnd(16) + String(kb).padStart(8) + ' kB\n');
}

/** NR_ANON_MAPPED: the anon pages of every live address space. */
function anon_pages(): number {
  const seen = new Set<MmStruct>();
  let n = 0;
  for (const t of sched_state.tasks.values()) {
    const mm = t.mm;
    if (!mm || seen.has(mm) || !mm.layout) continue;
    seen.add(mm);
    n += mm_layout(mm).anon_rss;
  }
  return n;
}

/** meminfo_proc_show(). */
export function meminfo_proc_show(m: SeqFile<object>): number {
  const i = meminfo();
  const vm = vmalloc_meminfo();
  const dm = direct_map_meminfo();
  const cached = global_node_page_state(NR_FILE_PAGES);
  show_val_kb(m, 'MemTotal:', i.MemTotal);
  show_val_kb(m, 'MemFree:', i.MemFree);
  show_val_kb(m, 'Buffers:', 0);
  show_val_kb(m, 'Cached:', Math.max(0, cached) * PAGE_KB);
  show_val_kb(m, 'SwapCached:', 0);
  show_val_kb(m, 'SwapTotal:', 0);
  show_val_kb(m, 'SwapFree:', 0);
  show_val_kb(m, 'AnonPages:', anon_pages() * PAGE_KB);
  show_val_kb(m, 'Shmem:', global_node_page_state(NR_SHMEM) * PAGE_KB);
  show_val_kb(m, 'VmallocTotal:', vm.VmallocTotal);
  show_val_kb(m, 'VmallocUsed:', vm.VmallocUsed);
  show_val_kb(m, 'VmallocChunk:', vm.VmallocChunk);
  show_val_kb(m, 'AnonHugePages:', 0);
  show_val_kb(m, 'ShmemHugePages:', global_node_page_state(NR_SHMEM_THPS) * PAGE_KB);
  show_val_kb(m, 'FileHugePages:', global_node_page_state(NR_FILE_THPS) * PAGE_KB);
  // hugetlb_report_meminfo(): no hugetlbfs pool.
  seq_printf(m, 'HugePages_Total:   %5lu\nHugePages_Free:    %5lu\nHugePages_Rsvd:    %5lu\nHugePages_Surp:    %5lu\n'
    .replace(/%5lu/g, '    0'));
  show_val_kb(m, 'Hugepagesize:', 2048);
  show_val_kb(m, 'Hugetlb:', 0);
  // arch_report_meminfo().
  show_val_kb(m, 'DirectMap4k:', dm.DirectMap4k);
  show_val_kb(m, 'DirectMap2M:', dm.DirectMap2M);
  show_val_kb(m, 'DirectMap1G:', dm.DirectMap1G);
  return 0;
}

/** proc_meminfo_init(). */
export function proc_meminfo_init(): void {
  proc_create_single('meminfo', 0, null, meminfo_proc_show);
}
