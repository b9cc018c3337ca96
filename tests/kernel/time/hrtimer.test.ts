/*
 * tests/kernel/time/hrtimer.test.ts - timer sleeps on the local APIC timer.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../../init/main.ts';
import type { Nolibc } from '../../../tools/include/nolibc.ts';
import { CLONE_VM, CLONE_FILES, CLONE_THREAD, CLONE_SIGHAND } from '../../../include/uapi/linux/sched.ts';
import { ns_to_cycles } from '../../../kernel/time/timekeeping.ts';

const THREAD = CLONE_VM | CLONE_FILES | CLONE_THREAD | CLONE_SIGHAND;

describe('kernel_time_hrtimer', () => {
  it('nanosleep arms the CPU timer for the earliest sleeper and disarms it when the last wakes', () => {
    const k = start_kernel('mem=32M cpus=1');
    const cpu = k.machine.cpus[0];
    const armed: number[] = [];
    let t0 = 0;
    k.spawn('a', function* (u: Nolibc) {
      t0 = cpu.clock;
      yield* u.nanosleep(3_000_000);
      return 0;
    });
    k.spawn('b', function* (u: Nolibc) {
      armed.push(cpu.tsc_deadline); // a's sleep
      yield* u.nanosleep(1_000_000);
      return 0;
    });
    k.spawn('c', function* (u: Nolibc) {
      armed.push(cpu.tsc_deadline); // b's, the earlier
      yield* u.getpid();
      return 0;
    });
    const r = k.run();
    expect(r.reason).toBe('done');
    expect(armed[0]).toBeGreaterThan(t0 + ns_to_cycles(3_000_000));
    expect(armed[1]).toBeLessThan(armed[0]);
    expect(cpu.tsc_deadline).toBe(0);
    k.shutdown();
  });

  it('sleeper_killed_elsewhere: a thread sleeping on an idle CPU dies in exit_group; the run does not wait out its sleep', () => {
    const k = start_kernel('mem=64M cpus=2');
    k.spawn('main', function* (u: Nolibc) {
      yield* u.clone(THREAD, function* (c: Nolibc) {
        yield* c.nanosleep(1_000_000_000); // 1 s on CPU 1
        return 0;
      });
      yield* u.nanosleep(1_000_000);
      yield* u.exit_group(0);
    });
    const r = k.run();
    expect(r.reason).toBe('done');
    // Both CPUs end a few ms in, not at the dead thread's 1 s timer.
    for (const c of r.cycles) expect(c).toBeLessThan(ns_to_cycles(10_000_000));
    expect(k.machine.cpus.map((c) => c.tsc_deadline)).toEqual([0, 0]);
    k.shutdown();
  });
});
