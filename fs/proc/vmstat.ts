/*
 * fs/proc/vmstat.ts - /proc/vmstat.
 *
 * Mirrors the /proc half of mm/vmstat.c (vmstat_start, vmstat_next,
 * vmstat_show, vmstat_stop; proc_create_seq("vmstat", 0444, NULL,
 * &vmstat_op)), here under fs/proc so mm/vmstat.ts stays below the VFS in
 * the import graph. As Linux's, ->start takes a snapshot of every counter
 * (page-state counters, then the per-CPU events summed), so one read shows
 * one moment; the values are exactly what all_vmstat() (k.vmstat())
 * returns. The lines follow vmstat_text's order for the names Linux has
 * (zone and node counters, then vm_event_item's events); the counters
 * tskernel adds (ASI, ephmap, ASID, copy counters, nr_vmalloc ...) follow
 * their kind's Linux names in the order their subsystems registered them.
 */
import { seq_printf, type SeqFile, type SeqOperations, type SeqItem } from '../seq_file.ts';
import type { Loff } from '../read_write.ts';
import { all_vmstat, vmstat_item_names } from '../../mm/vmstat.ts';
import { proc_create_seq } from './generic.ts';

/* vmstat_text's stat names tskernel keeps, in Linux's order (zone_stat_item, node_stat_item). */
const LINUX_STAT_ORDER: readonly string[] = [
  'nr_free_pages', 'nr_file_pages', 'nr_shmem', 'nr_shmem_hugepages', 'nr_file_hugepages',
];
/* vmstat_text's event names tskernel counts, in vm_event_item order. */
const LINUX_EVENT_ORDER: readonly string[] = [
  'pgalloc_normal', 'pgfree', 'pgfault', 'thp_file_alloc', 'thp_file_fallback',
  'nr_tlb_remote_flush', 'nr_tlb_remote_flush_received', 'nr_tlb_local_flush_all', 'nr_tlb_local_flush_one',
];

/** One line of /proc/vmstat. */
type VmstatItem = readonly [string, number];

/**
 * The snapshot in /proc's order: Linux's stat names, tskernel's other
 * stats, Linux's event names, tskernel's other events, each with the value
 * all_vmstat() gives it.
 */
export function vmstat_snapshot(): VmstatItem[] {
  const all = all_vmstat();
  const { stats, events } = vmstat_item_names();
  const out: VmstatItem[] = [];
  const add = (linux: readonly string[], ours: readonly string[]): void => {
    for (const n of linux) if (ours.includes(n)) out.push([n, all[n]]);
    for (const n of ours) if (!linux.includes(n)) out.push([n, all[n]]);
  };
  add(LINUX_STAT_ORDER, stats);
  add(LINUX_EVENT_ORDER, events);
  return out;
}

function vmstat_start(m: SeqFile<VmstatItem>, pos: Loff): SeqItem<VmstatItem> {
  const v = vmstat_snapshot();
  m.private = v;
  return v[pos.v] ?? null;
}

function vmstat_next(m: SeqFile<VmstatItem>, _v: VmstatItem, pos: Loff): SeqItem<VmstatItem> {
  pos.v++;
  return (m.private as VmstatItem[])[pos.v] ?? null;
}

function vmstat_show(m: SeqFile<VmstatItem>, v: VmstatItem): number {
  seq_printf(m, `${v[0]} ${v[1]}\n`);
  return 0;
}

function vmstat_stop(m: SeqFile<VmstatItem>): void {
  m.private = null; // kfree(m->private)
}

export const vmstat_op: SeqOperations<VmstatItem> = {
  start: vmstat_start, next: vmstat_next, stop: vmstat_stop, show: vmstat_show,
};

/** init_mm_internals()'s proc_create_seq("vmstat", 0444, NULL, &vmstat_op). */
export function proc_vmstat_init(): void {
  proc_create_seq('vmstat', 0o444, null, vmstat_op);
}
