/*
 * kernel/sched/core.ts - runqueues, schedule() and context_switch().
 *
 * Mirrors kernel/sched/core.c in miniature: one runqueue per CPU (struct
 * rq) with a FIFO of runnable tasks and round-robin time slices in cycles,
 * an idle task per CPU that runs lazily on the last mm (enter_lazy_tlb),
 * wake_up_new_task() placing a task on the least loaded CPU, newidle
 * balancing that pulls a waiting task to a CPU about to go idle, and
 * context_switch() calling switch_mm_irqs_off() as Linux does. Under ASI
 * every switch leaves the restricted address space first
 * (asi_exit(ASI_EXIT_CONTEXT_SWITCH)), as the posted prototype does: the
 * top item of its remaining overhead.
 * Simplified: no CFS vruntime or priorities (round-robin), no preemption
 * inside the kernel (a syscall runs to completion unless it sleeps), no
 * wait queues (a sleeping task records why it sleeps, see WaitReason).
 * Deterministic: every choice breaks ties by CPU number or queue order.
 */
import { TaskStruct, TASK_RUNNING, TASK_INTERRUPTIBLE, TASK_UNINTERRUPTIBLE } from './task.ts';
import { smp_processor_id, this_cpu, nr_cpu_ids, machine } from '../smp.ts';
import { init_mm } from '../../mm/mm_struct.ts';
import { switch_mm_irqs_off, enter_lazy_tlb } from '../../arch/x86/mm/tlb.ts';
import { BUG, BUG_ON } from '../panic.ts';
import { DEFINE_EVENT } from '../trace/index.ts';
import { pmu_sample, trace_pmu_sample } from '../../arch/x86/events/pmu_sample.ts';
import { vsprintf } from '../../lib/vsprintf.ts';
import { ns_to_cycles } from '../time/timekeeping.ts';
import { lapic_next_deadline, lapic_read_deadline } from '../../arch/x86/kernel/apic/apic.ts';
import { COST_KEY_INDEX } from '../../arch/x86/hw/costs.ts';

/* Cost-key indices as module locals: an imported binding is a getter under the TS loaders. */
const K_CONTEXT_SWITCH = COST_KEY_INDEX.context_switch, K_SCHEDULE = COST_KEY_INDEX.schedule;
import { asi_exit, asi_switch_to } from '../../arch/x86/mm/asi.ts';
import { ASI_EXIT_CONTEXT_SWITCH } from '../../include/linux/asi.ts';
import { pr_debug_ns } from '../printk.ts';

const pr_debug = pr_debug_ns('sched');

export const trace_sched_switch = DEFINE_EVENT<{ prev_comm: string; prev_pid: number; prev_state: string; next_comm: string; next_pid: number }>(
  'sched', 'sched_switch',
  (f) => vsprintf('prev_comm=%s prev_pid=%d prev_prio=120 prev_state=%s ==> next_comm=%s next_pid=%d next_prio=120',
    [f.prev_comm, f.prev_pid, f.prev_state, f.next_comm, f.next_pid]));

/** struct rq. */
export class Rq {
  curr: TaskStruct;
  readonly queue: TaskStruct[] = [];
  nr_switches = 0;
  /** Set when the current task should give up the CPU at the next chance (TIF_NEED_RESCHED). */
  need_resched = false;
  constructor(readonly cpu: number, readonly idle: TaskStruct) {
    this.curr = idle;
  }
  get nr_running(): number {
    return this.queue.length + (this.curr === this.idle ? 0 : 1);
  }
}

/** Hooks run around a switch: kmap_local_sched_out/in and friends. */
export interface SchedHooks {
  sched_out(prev: TaskStruct): void;
  sched_in(next: TaskStruct): void;
}

export const sched_state = {
  rqs: [] as Rq[],
  tasks: new Map<number, TaskStruct>(),
  next_pid: 1,
  /** Time slice in cycles (sysctl_sched_base_slice: 0.75 ms). */
  slice_cycles: 2_100_000,
  hooks: [] as SchedHooks[],
  /** Tasks sleeping on a timer (the hrtimer queue's population). */
  timer_sleepers: 0,
};

export function sched_init(nr_cpus: number, slice_cycles: number): void {
  sched_state.rqs = [];
  sched_state.tasks = new Map();
  sched_state.next_pid = 1;
  sched_state.slice_cycles = slice_cycles;
  sched_state.hooks = [];
  sched_state.timer_sleepers = 0;
  pr_debug('sched_init: %d runqueues, base slice %d cycles', nr_cpus, slice_cycles);
  for (let c = 0; c < nr_cpus; c++) {
    const idle = new TaskStruct(0, `swapper/${c}`, null);
    idle.active_mm = init_mm();
    idle.cpu = c;
    sched_state.rqs.push(new Rq(c, idle));
    asi_switch_to(c, idle.asi_state);
    // Every CPU runs its idle task, waiting for work (cpu_startup_entry).
    machine().cpus[c].hlt();
  }
}

export function register_sched_hooks(h: SchedHooks): void {
  sched_state.hooks.push(h);
}

/** cpu_rq(cpu): that CPU's runqueue. */
export function cpu_rq(cpu: number): Rq {
  return sched_state.rqs[cpu];
}

export function this_rq(): Rq {
  return sched_state.rqs[smp_processor_id()];
}

/** current: the task running on this CPU. */
export function current(): TaskStruct {
  return this_rq().curr;
}

/**
 * Put the current task to sleep until simulated time `until_ns`
 * (do_nanosleep: hrtimer_sleeper_start_expires, then sleep). This CPU's
 * timer is armed for it if it is the earliest; hrtimer_interrupt() wakes it.
 */
export function sleep_until(p: TaskStruct, until_ns: number): void {
  if (p.wait.kind !== 'timer') sched_state.timer_sleepers++;
  p.state = TASK_INTERRUPTIBLE;
  p.wait = { kind: 'timer', until_ns };
  const deadline = ns_to_cycles(until_ns);
  const armed = lapic_read_deadline();
  if (armed === 0 || deadline < armed) lapic_next_deadline(deadline);
}

export function alloc_pid(): number {
  return sched_state.next_pid++;
}

export function find_task_by_pid(pid: number): TaskStruct | undefined {
  return sched_state.tasks.get(pid);
}

function enqueue_task(rq: Rq, p: TaskStruct): void {
  BUG_ON(rq.queue.includes(p), 'task already queued');
  p.cpu = rq.cpu;
  rq.queue.push(p);
  if (rq.curr === rq.idle) wake_up_idle_cpu(rq.cpu);
}

/**
 * wake_up_idle_cpu(): `cpu` runs its idle task; get it to look at its
 * runqueue. Its idle loop waits in MWAIT on its need_resched flag, so
 * setting the flag wakes it without an IPI (set_nr_if_polling); it cannot
 * run anything before this moment, so its clock comes up to ours.
 */
export function wake_up_idle_cpu(cpu: number): void {
  machine().wake(this_cpu(), cpu);
}

/** select_task_rq(): the least loaded CPU, lowest number on ties. */
function select_task_rq(): number {
  let best = 0;
  for (let c = 1; c < nr_cpu_ids(); c++)
    if (sched_state.rqs[c].nr_running < sched_state.rqs[best].nr_running) best = c;
  return best;
}

/** wake_up_new_task(): place a new task and make it runnable. */
export function wake_up_new_task(p: TaskStruct): void {
  sched_state.tasks.set(p.pid, p);
  p.state = TASK_RUNNING;
  enqueue_task(sched_state.rqs[select_task_rq()], p);
}

/** wake_up_process(): a sleeping task becomes runnable on its CPU. */
export function wake_up_process(p: TaskStruct): void {
  if (p.state === TASK_RUNNING) return;
  p.state = TASK_RUNNING;
  if (p.wait.kind === 'timer') sched_state.timer_sleepers--;
  p.wait = { kind: 'none' };
  const rq = sched_state.rqs[p.cpu];
  if (rq.curr !== p) enqueue_task(rq, p);
}

/*
 * newidle balance: before this CPU goes idle, pull the last waiting task of
 * the busiest other runqueue (one that may migrate).
 */
function newidle_balance(rq: Rq): TaskStruct | undefined {
  let busiest: Rq | null = null;
  for (const r of sched_state.rqs) {
    if (r === rq || r.queue.length === 0) continue;
    if (!busiest || r.queue.length > busiest.queue.length) busiest = r;
  }
  if (!busiest) return undefined;
  for (let i = busiest.queue.length - 1; i >= 0; i--) {
    const p = busiest.queue[i];
    if (p.migration_disabled) continue;
    busiest.queue.splice(i, 1);
    if (pr_debug.enabled) pr_debug('newidle_balance: %s[%d] cpu %d -> %d', p.comm, p.pid, p.cpu, rq.cpu);
    p.cpu = rq.cpu;
    return p;
  }
  return undefined;
}

function state_char(p: TaskStruct): string {
  return p.state === TASK_RUNNING ? 'R' : p.state === TASK_INTERRUPTIBLE ? 'S' : p.state === TASK_UNINTERRUPTIBLE ? 'D' : 'X';
}

/**
 * context_switch(): switch the memory context (lazy for the idle task),
 * then the registers; the subsystems' hooks save and restore per-task state.
 */
function context_switch(rq: Rq, prev: TaskStruct, next: TaskStruct): void {
  for (const h of sched_state.hooks) h.sched_out(prev);
  asi_exit(ASI_EXIT_CONTEXT_SWITCH);
  if (next.mm === null) {
    enter_lazy_tlb();
    next.active_mm = prev.active_mm;
  } else {
    switch_mm_irqs_off(next.mm);
    next.active_mm = next.mm;
  }
  this_cpu().charge_index(K_CONTEXT_SWITCH);
  rq.curr = next;
  asi_switch_to(rq.cpu, next.asi_state);
  next.slice_start = this_cpu().rdtsc();
  for (const h of sched_state.hooks) h.sched_in(next);
}

/**
 * schedule(): pick the next task on this CPU. A still-runnable prev goes to
 * the tail of the queue (its slice is over or it yielded).
 */
export function schedule(): void {
  const rq = this_rq();
  const prev = rq.curr;
  this_cpu().charge_index(K_SCHEDULE);
  rq.need_resched = false;
  if (prev !== rq.idle && prev.state === TASK_RUNNING && prev.exit_state === 0) enqueue_task(rq, prev);
  let next = rq.queue.shift();
  if (!next) next = newidle_balance(rq);
  if (!next) next = rq.idle;
  if (next === prev) {
    // Picked again (alone on its CPU): a new slice starts, as
    // set_next_entity() restarts prev_sum_exec_runtime.
    if (prev !== rq.idle) prev.slice_start = this_cpu().rdtsc();
    return;
  }
  if (prev !== rq.idle) {
    if (prev.state === TASK_RUNNING) prev.nivcsw++;
    else prev.nvcsw++;
  }
  rq.nr_switches++;
  if (trace_sched_switch.enabled)
    trace_sched_switch.emit({ prev_comm: prev.comm, prev_pid: prev.pid, prev_state: state_char(prev), next_comm: next.comm, next_pid: next.pid });
  if (trace_pmu_sample.enabled) pmu_sample(true);
  context_switch(rq, prev, next);
}

/** The slice of the current task is used up: reschedule on the way back to user. */
export function slice_expired(rq: Rq): boolean {
  return rq.curr !== rq.idle && this_cpu().rdtsc() - rq.curr.slice_start >= sched_state.slice_cycles;
}

const K_MIGRATE_DISABLE = COST_KEY_INDEX.migrate_disable;
const K_MIGRATE_ENABLE = COST_KEY_INDEX.migrate_enable;

/** migrate_disable()/migrate_enable(): pin current to its CPU. */
export function migrate_disable(): void {
  current().migration_disabled++;
  this_cpu().charge_index(K_MIGRATE_DISABLE);
}

export function migrate_enable(): void {
  const p = current();
  if (p.migration_disabled <= 0) BUG('migrate_enable() without migrate_disable() in %s', p.comm);
  p.migration_disabled--;
  this_cpu().charge_index(K_MIGRATE_ENABLE);
}

/** Total context switches per CPU, for perf-stat style reports. */
export function nr_context_switches(): number[] {
  return sched_state.rqs.map((r) => r.nr_switches);
}
