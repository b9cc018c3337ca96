/*
 * tests/kernel/time/timekeeping.test.ts - one clock: rdtsc, tsc_khz, ktime.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../../init/main.ts';
import { tsc_state, rdtsc } from '../../../arch/x86/kernel/tsc.ts';
import { cycles_to_ns, ns_to_cycles, ktime_get_ns } from '../../../kernel/time/timekeeping.ts';
import { this_cpu } from '../../../kernel/smp.ts';
import type { Nolibc } from '../../../tools/include/nolibc.ts';

describe('kernel_time_timekeeping', () => {
  it('tsc_init calibrates tsc_khz from the machine, per boot', () => {
    const k = start_kernel('mem=32M cpus=1');
    expect(tsc_state.tsc_khz).toBe(k.costs.cpu_mhz * 1000);
    k.shutdown();
    const k2 = start_kernel('mem=32M cpus=1 costs=skylake');
    expect(tsc_state.tsc_khz).toBe(2_600_000);
    expect(cycles_to_ns(2600)).toBe(1000);
    k2.shutdown();
  });

  it('rdtsc reads the CPU clock without moving it, TLB hits included', () => {
    const k = start_kernel('mem=32M cpus=2');
    const cpu = this_cpu();
    const t0 = rdtsc();
    expect(rdtsc()).toBe(t0);
    expect(t0).toBe(cpu.clock);
    cpu.charge('user_work', 2800);
    expect(rdtsc() - t0).toBe(2800);
    expect(ktime_get_ns()).toBeCloseTo(cycles_to_ns(t0 + 2800), 9);
    k.shutdown();
  });

  it('cycles and ns convert exactly both ways at the TSC frequency', () => {
    const k = start_kernel('mem=32M cpus=1'); // 2.8 GHz
    expect(cycles_to_ns(2_800_000)).toBe(1_000_000);
    expect(ns_to_cycles(1_000_000)).toBe(2_800_000);
    expect(ns_to_cycles(1)).toBeCloseTo(2.8, 12);
    for (const ns of [0, 1, 999, 123_456_789, 5e9]) expect(cycles_to_ns(ns_to_cycles(ns))).toBeCloseTo(ns, 6);
    k.shutdown();
  });

  it('a task sees monotonic time that includes its own work and its sleep', () => {
    const k = start_kernel('mem=32M cpus=1');
    const seen: number[] = [];
    k.spawn('clock', function* (u: Nolibc) {
      seen.push(ktime_get_ns());
      u.compute(2_800_000); // 1 ms of user work
      yield* u.getpid();
      seen.push(ktime_get_ns());
      yield* u.nanosleep(2_000_000);
      seen.push(ktime_get_ns());
      return 0;
    });
    k.run();
    expect(seen[1] - seen[0]).toBeGreaterThanOrEqual(1_000_000);
    expect(seen[2] - seen[1]).toBeGreaterThanOrEqual(2_000_000);
    k.shutdown();
  });
});
