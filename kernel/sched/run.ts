/*
 * kernel/sched/run.ts - the CPUs executing: tskernel's main loop.
 *
 * No Linux counterpart: this plays the hardware running N CPUs in one host
 * thread (DESIGN.md section 6). Each step picks the CPU with the smallest
 * cycle clock that has work, makes it the current CPU, and lets its current
 * task run user code until the next syscall, which runs to completion in
 * kernel mode (entry_SYSCALL_64). Idle CPUs skip ahead to the next timer
 * when nothing else can run. A fatal signal raised in user code (a
 * segfault) unwinds the task's generator and ends the task.
 */
import { machine } from '../smp.ts';
import { cycles_to_ns, ns_to_cycles } from '../time/timekeeping.ts';
import { sched_state, schedule, wake_up_process, type Rq } from './core.ts';
import { TASK_INTERRUPTIBLE, type TaskStruct } from './task.ts';
import { entry_SYSCALL_64, exit_to_user_mode } from '../../arch/x86/entry/common.ts';
import { do_exit, do_group_exit, exit_state, type ExitRecord } from '../exit.ts';
import { TaskKilled } from '../signal.ts';
import { pr_info } from '../printk.ts';

export interface RunResult {
  /** Why run() returned. */
  reason: 'done' | 'cycle_limit' | 'deadlock';
  /** Tasks reaped without a parent (spawned ones), in exit order. */
  exited: ExitRecord[];
  /** Cycle clock per CPU at the end. */
  cycles: number[];
}

export interface RunOptions {
  /** Stop once every CPU with work has passed this many cycles. */
  max_cycles?: number;
}

function has_work(rq: Rq): boolean {
  return rq.curr !== rq.idle || rq.queue.length > 0;
}

/* Wake every timer sleeper whose time has come on its own CPU's clock. */
function expire_timers(): void {
  if (!any_timer_sleeper()) return;
  const m = machine();
  for (const p of sched_state.tasks.values()) {
    if (p.state !== TASK_INTERRUPTIBLE || p.wait.kind !== 'timer') continue;
    if (cycles_to_ns(m.cpus[p.cpu].rdtsc()) >= p.wait.until_ns) wake_on_its_cpu(p);
  }
}

/* The timer interrupt of p's CPU wakes it. */
function wake_on_its_cpu(p: TaskStruct): void {
  const m = machine();
  const saved = m.current;
  m.current = p.cpu;
  wake_up_process(p);
  m.current = saved;
}

/* Cheap pre-check: a timer sleeper exists (hrtimer's "is the queue empty"). */
function any_timer_sleeper(): boolean {
  return sched_state.timer_sleepers > 0;
}

/* No CPU has work: move the CPU of the earliest timer sleeper forward to it. */
function idle_until_next_timer(): boolean {
  const m = machine();
  let first: TaskStruct | null = null;
  for (const p of sched_state.tasks.values()) {
    if (p.state !== TASK_INTERRUPTIBLE || p.wait.kind !== 'timer') continue;
    if (!first || (first.wait.kind === 'timer' && p.wait.until_ns < first.wait.until_ns)) first = p;
  }
  if (!first || first.wait.kind !== 'timer') return false;
  const cpu = m.cpus[first.cpu];
  cpu.clock = Math.max(cpu.clock, Math.ceil(ns_to_cycles(first.wait.until_ns)));
  wake_on_its_cpu(first); // directly: converting back to ns may round below until_ns
  return true;
}

/** Run user code of `p` (current on this CPU) up to its next syscall, and that syscall. */
function run_user_step(p: TaskStruct): void {
  if (!exit_to_user_mode(p)) return;
  const gen = p.gen;
  if (!gen) {
    do_exit(0);
    return;
  }
  let r: IteratorResult<{ nr: number; args: readonly number[] }, number | void>;
  try {
    r = gen.next(p.pending_ret);
  } catch (e) {
    task_killed(p, e);
    return;
  }
  if (r.done) {
    task_returned(p, r.value);
    return;
  }
  entry_SYSCALL_64(p, r.value);
}

/*
 * A fatal signal unwound the task's user code: it is delivered in the
 * kernel. The fault that raised it entered CPL 0 and never returned, so the
 * CPU is in kernel mode already.
 */
function task_killed(p: TaskStruct, e: unknown): void {
  if (!(e instanceof TaskKilled)) throw e;
  p.in_syscall = true;
  do_group_exit(e.status, e.signal);
}

/*
 * The task's function returned `v`. Returning from main() calls
 * exit_group(status); returning from a thread's start function ends only
 * that thread (nolibc's clone wrapper calls exit()).
 */
function task_returned(p: TaskStruct, v: number | void): void {
  const cpu = machine().cpus[machine().current];
  cpu.syscall();
  p.in_syscall = true;
  const status = typeof v === 'number' ? v & 0xff : 0;
  if (p.pid !== p.tgid) do_exit(status);
  else do_group_exit(status);
}

/** Run until every task has exited (or a cycle limit, or nothing can ever run). */
export function sched_run(opts: RunOptions = {}): RunResult {
  const m = machine();
  const first_exit = exit_state.orphans_exited.length;
  let reason: RunResult['reason'] = 'done';
  for (;;) {
    if (sched_state.tasks.size === 0) break;
    expire_timers();
    // The CPU with work and the smallest clock (lowest number on ties), and
    // the one the next pass would pick after it: the rival.
    let best = -1;
    let rival = -1;
    for (let c = 0; c < m.nr_cpus; c++) {
      if (!has_work(sched_state.rqs[c])) continue;
      if (best < 0) {
        best = c;
      } else if (m.cpus[c].clock < m.cpus[best].clock) {
        rival = best;
        best = c;
      } else if (rival < 0 || m.cpus[c].clock < m.cpus[rival].clock) {
        rival = c;
      }
    }
    if (best < 0) {
      if (idle_until_next_timer()) continue;
      reason = 'deadlock';
      pr_info('sched_run: %d task(s) blocked with nothing to wake them', sched_state.tasks.size);
      break;
    }
    if (opts.max_cycles !== undefined && m.cpus[best].clock >= opts.max_cycles) {
      reason = 'cycle_limit';
      break;
    }
    m.current = best;
    const rq = sched_state.rqs[best];
    if (rq.curr === rq.idle) schedule();
    if (rq.curr === rq.idle) continue;
    const rival_clock = rival < 0 ? Infinity : m.cpus[rival].clock;
    const enqueues = sched_state.nr_enqueues;
    for (;;) {
      run_user_step(rq.curr);
      // Go on with this CPU while the next pass would pick it again anyway:
      // nothing was enqueued anywhere (no CPU gained work), no timer can
      // expire, it still has a task, and its clock has not passed the
      // rival's (ties go to the lower CPU number, as the scan breaks them).
      // Other CPUs' clocks only grow meanwhile, so this never runs a step
      // the scan would have given to another CPU.
      if (sched_state.nr_enqueues !== enqueues || any_timer_sleeper()) break;
      if (rq.curr === rq.idle || sched_state.tasks.size === 0) break;
      const clock = m.cpus[best].clock;
      if (clock > rival_clock || (clock === rival_clock && best > rival)) break;
      if (opts.max_cycles !== undefined && clock >= opts.max_cycles) break;
      m.current = best;
    }
  }
  m.current = 0;
  return { reason, exited: exit_state.orphans_exited.slice(first_exit), cycles: m.cpus.map((c) => c.clock) };
}
