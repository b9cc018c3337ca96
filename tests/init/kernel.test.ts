/*
 * tests/init/kernel.test.ts - the Kernel object: perf stat shows work, not sleep.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { ns_to_cycles } from '../../kernel/time/timekeeping.ts';

/** The per-CPU values of one counter in perf stat -A text ("CPU1   2,800,000   cycles ..."). */
function perf_counter(text: string, name: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^CPU(\d+)\s+([\d,.]+)\s+(?:msec\s+)?(\S+)/.exec(line);
    if (m && m[3] === name) out[Number(m[1])] = Number(m[2].replace(/,/g, ''));
  }
  return out;
}

describe('init_kernel', () => {
  it('perf_stat: a CPU that sleeps shows idle-cycles, and its cycles exclude the sleep', () => {
    const k = start_kernel('mem=64M cpus=2');
    const SLEEP_NS = 10_000_000; // 10 ms = 28M cycles at 2.8 GHz
    k.spawn('worker', function* (u: Nolibc) {
      for (let i = 0; i < 20; i++) {
        u.compute(100_000);
        yield* u.getpid();
      }
      return 0;
    });
    k.spawn('sleeper', function* (u: Nolibc) {
      yield* u.nanosleep(SLEEP_NS);
      yield* u.getpid();
      return 0;
    });
    const r = k.run();
    expect(r.reason).toBe('done');
    const cpus = k.machine.cpus;
    const text = k.perf_stat();
    const cycles = perf_counter(text, 'cycles');
    const idle = perf_counter(text, 'idle-cycles');
    const task_clock = perf_counter(text, 'task-clock'); // msec

    // The worker's CPU never waited; the sleeper's CPU waited out the sleep.
    expect(idle[0]).toBe(0);
    expect(idle[1]).toBeGreaterThanOrEqual(Math.floor(ns_to_cycles(SLEEP_NS)) - 3_000_000);
    // Busy cycles are the work: the worker's 2M cycles of user code and
    // more; the sleeper's few syscalls, far less than its sleep.
    expect(cycles[0]).toBeGreaterThan(2_000_000);
    expect(cycles[1]).toBeLessThan(ns_to_cycles(SLEEP_NS) / 20);
    // Busy plus idle is the CPU's clock, as the machine counts them.
    for (let c = 0; c < 2; c++) {
      expect(cycles[c]).toBe(Math.round(cpus[c].busy_cycles));
      expect(cpus[c].busy_cycles + cpus[c].idle_cycles).toBeCloseTo(r.cycles[c], 3);
    }
    // task-clock is the busy time; elapsed time still includes the sleep.
    expect(task_clock[1]).toBeCloseTo(cpus[1].busy_cycles / 2.8e6, 2);
    expect(text).toMatch(/CPU1\s+[\d,]+\s+idle-cycles\s+#\s+\d+\.\d\d% idle/);
    const elapsed = Number(/([\d.]+) seconds time elapsed/.exec(text)?.[1]);
    expect(elapsed).toBeGreaterThanOrEqual(SLEEP_NS / 1e9);
    k.shutdown();
  });

  it('perf_stat: a CPU woken from idle by another CPU counts the wait as idle', () => {
    const k = start_kernel('mem=64M cpus=2');
    k.spawn('parent', function* (u: Nolibc) {
      u.compute(5_000_000); // CPU 1 has nothing to do meanwhile
      const pid = yield* u.clone(0, function* (c: Nolibc) {
        yield* c.getpid();
        return 0;
      });
      yield* u.waitpid(pid);
      return 0;
    });
    k.run();
    const [c0, c1] = k.machine.cpus;
    // The child was placed on idle CPU 1, which could not start it before
    // the clone: its clock came up to CPU 0's, all of it waiting.
    expect(c1.idle_cycles).toBeGreaterThan(5_000_000);
    expect(c1.busy_cycles).toBeLessThan(1_000_000);
    expect(c0.busy_cycles).toBeGreaterThan(5_000_000);
    k.shutdown();
  });
});
