/*
 * mm/vmstat.ts - VM event counters and page-state counters.
 *
 * Mirrors mm/vmstat.c and include/linux/vm_event_item.h: events are
 * per-CPU counters summed on read (/proc/vmstat's pgalloc_normal, pgfree,
 * nr_tlb_remote_flush, ...), page state is global (nr_free_pages). Other
 * subsystems register their items at module load with vm_event_item() /
 * node_stat_item(), so /proc/vmstat grows as tskernel does. Counters live
 * in Float64Arrays indexed by item number: counting is one array add.
 */
import { smp_processor_id, nr_cpu_ids } from '../kernel/smp.ts';

const event_names: string[] = [];
const stat_names: string[] = [];

/** Declare a VM event (vm_event_item); returns its index for count_vm_event(). */
export function vm_event_item(name: string): number {
  const i = event_names.indexOf(name);
  if (i >= 0) return i;
  event_names.push(name);
  return event_names.length - 1;
}

/** Declare a page-state counter (zone_stat_item / node_stat_item). */
export function vm_stat_item(name: string): number {
  const i = stat_names.indexOf(name);
  if (i >= 0) return i;
  stat_names.push(name);
  return stat_names.length - 1;
}

const MAX_ITEMS = 256;

export const vmstat = {
  /** vm_event_states: [cpu][item]. */
  events: [] as Float64Array[],
  /** vm_zone_stat / vm_node_stat. */
  stat: new Float64Array(MAX_ITEMS),
};

export function vmstat_init(): void {
  vmstat.events = [];
  for (let c = 0; c < nr_cpu_ids(); c++) vmstat.events.push(new Float64Array(MAX_ITEMS));
  vmstat.stat = new Float64Array(MAX_ITEMS);
}

export function count_vm_event(item: number): void {
  vmstat.events[smp_processor_id()][item]++;
}

export function count_vm_events(item: number, n: number): void {
  vmstat.events[smp_processor_id()][item] += n;
}

/** __count_vm_events on a named CPU (an IPI receiver counting for itself). */
export function count_vm_events_cpu(cpu: number, item: number, n = 1): void {
  vmstat.events[cpu][item] += n;
}

export function mod_node_page_state(item: number, delta: number): void {
  vmstat.stat[item] += delta;
}

export function global_node_page_state(item: number): number {
  return vmstat.stat[item];
}

export function sum_vm_event(item: number): number {
  let s = 0;
  for (const e of vmstat.events) s += e[item];
  return s;
}

/** /proc/vmstat as a record: page-state counters, then summed events. */
export function all_vmstat(): Record<string, number> {
  const out: Record<string, number> = {};
  stat_names.forEach((n, i) => { out[n] = vmstat.stat[i]; });
  event_names.forEach((n, i) => { out[n] = sum_vm_event(i); });
  return out;
}

/** The page-state counters' names and the events' names, each in registration order (for /proc/vmstat's order). */
export function vmstat_item_names(): { stats: readonly string[]; events: readonly string[] } {
  return { stats: stat_names, events: event_names };
}

/** Per-CPU values of one event, for perf-stat style tables. */
export function vm_event_per_cpu(name: string): number[] {
  const i = event_names.indexOf(name);
  return vmstat.events.map((e) => (i < 0 ? 0 : e[i]));
}
