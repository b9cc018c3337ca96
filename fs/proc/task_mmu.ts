/*
 * fs/proc/task_mmu.ts - /proc/<pid>/maps and the Vm* lines of status.
 *
 * Mirrors fs/proc/task_mmu.c: task_mem() prints VmSize, VmRSS, RssAnon,
 * RssFile, RssShmem, VmData, VmStk, VmExe, VmLib, VmPTE and VmSwap in kB;
 * the maps file walks the VMAs (m_start/m_next/m_stop, show_map) and prints
 * show_vma_header_prefix()'s "start-end perms offset major:minor inode "
 * per VMA. Every VMA here is anonymous memory from mmap() (no brk, no
 * stack VMA, no files mapped), so offset, device and inode are 0 and no
 * line carries a name: there is no [heap] or [stack] to show, and no
 * [vsyscall] (not mapped).
 * Simplified: no VmPeak/VmHWM (no high-water marks are kept), VmLck/VmPin
 * omitted (no mlock), RSS is the anon counter (MM_ANONPAGES); maps reads
 * the VMA array by index at each ->start (no mmap_lock, no vma iterator).
 */
import type { SeqFile, SeqOperations, SeqItem } from '../seq_file.ts';
import { seq_printf } from '../seq_file.ts';
import type { Loff } from '../read_write.ts';
import type { MmStruct } from '../../mm/mm_struct.ts';
import { mm_layout } from '../../mm/mmap.ts';
import type { VmAreaStruct } from '../../include/linux/mm_types.ts';
import { VM_READ, VM_WRITE, VM_EXEC, VM_SHARED } from '../../include/linux/mm.ts';
import { proc_pid_task, type ProcPidInfo } from './internal.ts';
import { ESRCH } from '../../include/uapi/asm-generic/errno.ts';

const PAGE_SIZE = 4096;

/** "%8lu kB" of a page count, as task_mem's SEQ_PUT_DEC does. */
function kb(pages: number): string {
  return String(pages * (PAGE_SIZE / 1024)).padStart(8) + ' kB\n';
}

/** task_mem(): the Vm* and Rss* lines of /proc/<pid>/status. */
export function task_mem(m: SeqFile<object>, mm: MmStruct): void {
  const l = mm_layout(mm);
  let total_vm = 0;
  let data_vm = 0;
  for (const v of l.vmas) {
    const pages = (v.vm_end - v.vm_start) / PAGE_SIZE;
    total_vm += pages;
    if ((v.vm_flags & (VM_WRITE | VM_SHARED)) === VM_WRITE) data_vm += pages; // is_data_mapping()
  }
  const anon = l.anon_rss;
  seq_printf(m, 'VmSize:\t' + kb(total_vm));
  seq_printf(m, 'VmRSS:\t' + kb(anon));
  seq_printf(m, 'RssAnon:\t' + kb(anon));
  seq_printf(m, 'RssFile:\t' + kb(0));
  seq_printf(m, 'RssShmem:\t' + kb(0));
  seq_printf(m, 'VmData:\t' + kb(data_vm));
  seq_printf(m, 'VmStk:\t' + kb(0));
  seq_printf(m, 'VmExe:\t' + kb(0));
  seq_printf(m, 'VmLib:\t' + kb(0));
  seq_printf(m, 'VmPTE:\t' + kb(l.nr_ptes));
  seq_printf(m, 'VmSwap:\t' + kb(0));
}

/** The mm of the task a maps file shows, or null (gone, or a kernel thread). */
function maps_mm(m: SeqFile<VmAreaStruct>): MmStruct | null {
  const task = proc_pid_task(m.private as ProcPidInfo);
  return task ? task.mm : null;
}

/** m_start(): the VMA at index pos, or -ESRCH when the task is gone. */
function m_start(m: SeqFile<VmAreaStruct>, pos: Loff): SeqItem<VmAreaStruct> {
  const task = proc_pid_task(m.private as ProcPidInfo);
  if (!task) return -ESRCH;
  const mm = task.mm;
  if (!mm) return null;
  return mm_layout(mm).vmas[pos.v] ?? null;
}

function m_next(m: SeqFile<VmAreaStruct>, _v: VmAreaStruct, pos: Loff): SeqItem<VmAreaStruct> {
  pos.v++;
  const mm = maps_mm(m);
  return mm ? mm_layout(mm).vmas[pos.v] ?? null : null;
}

function m_stop(): void {}

function hex(v: number, width: number): string {
  return v.toString(16).padStart(width, '0');
}

/**
 * show_map() -> show_map_vma(): "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu "
 * and a newline (an anonymous VMA without a name is not padded).
 */
function show_map(m: SeqFile<VmAreaStruct>, v: VmAreaStruct): number {
  const f = v.vm_flags;
  seq_printf(m, `${hex(v.vm_start, 8)}-${hex(v.vm_end, 8)} ` +
    (f & VM_READ ? 'r' : '-') + (f & VM_WRITE ? 'w' : '-') + (f & VM_EXEC ? 'x' : '-') + (f & VM_SHARED ? 's' : 'p') +
    ' 00000000 00:00 0 \n');
  return 0;
}

/** proc_pid_maps_op. */
export const proc_pid_maps_op: SeqOperations<VmAreaStruct> = {
  start: m_start,
  next: m_next,
  stop: m_stop,
  show: show_map,
};
