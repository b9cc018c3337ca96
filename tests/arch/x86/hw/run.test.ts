/*
 * tests/arch/x86/hw/run.test.ts - Machine.run(): turns by smallest clock,
 * HLT and wake-ups, the TSC-deadline timer, idle cycles.
 */
import { describe, it, expect } from 'vitest';
import { Machine } from '../../../../arch/x86/hw/smp.ts';
import { FAULT_RETRY, type Cpu } from '../../../../arch/x86/hw/cpu.ts';
import { LOCAL_TIMER_VECTOR } from '../../../../arch/x86/include/asm/irq_vectors.ts';

function machine(nr_cpus: number): Machine {
  return new Machine({ mem_bytes: 1 << 24, nr_cpus });
}

describe('x86_machine_run', () => {
  it('gives each turn to the CPU with the smallest clock, the lower number on ties', () => {
    const m = machine(3);
    const cost = [300, 200, 500];
    const turns: number[] = [];
    m.set_cpu_step((cpu) => {
      expect(m.current).toBe(cpu.id);
      turns.push(cpu.id);
      cpu.charge('user_work', cost[cpu.id]);
      if (turns.filter((t) => t === cpu.id).length === 3) cpu.hlt();
    });
    expect(m.run()).toBe('idle');
    /*
     * clocks before each turn (cpu0 cpu1 cpu2)  turn
     *   0    0    0                            0   (tie: lowest number)
     *   300  0    0                            1
     *   300  200  0                            2
     *   300  200  500                          1
     *   300  400  500                          0
     *   600  400  500                          1   (third turn: halts)
     *   600  -    500                          2
     *   600  -    1000                         0   (halts)
     *   -    -    1000                         2   (halts)
     */
    expect(turns).toEqual([0, 1, 2, 1, 0, 1, 2, 0, 2]);
    expect(m.current).toBe(0);
    expect(m.cpus.map((c) => c.idle_cycles)).toEqual([0, 0, 0]);
  });

  it('a halted CPU has no turn until woken; it resumes at the waker time, the wait counted idle', () => {
    const m = machine(2);
    const [c0, c1] = m.cpus;
    c1.hlt();
    let woke_at = -1;
    m.set_cpu_step((cpu) => {
      if (cpu.id === 1) {
        expect(cpu.clock).toBe(woke_at);
        cpu.charge('user_work', 10);
        cpu.hlt();
        return;
      }
      cpu.charge('user_work', 1000);
      if (cpu.clock === 5000) {
        woke_at = cpu.clock;
        m.wake(cpu, 1);
        m.wake(cpu, 1); // a second event before it runs changes nothing more
      }
      if (cpu.clock >= 8000) cpu.hlt();
    });
    expect(m.run()).toBe('idle');
    expect(c1.clock).toBe(5010);
    expect(c1.idle_cycles).toBe(5000);
    expect(c1.busy_cycles).toBe(10);
    expect(c0.idle_cycles).toBe(0);
    expect(c0.busy_cycles).toBe(8000);
    expect(m.nr_wakeups).toBe(1);
  });

  it('a wake-up does not move a CPU that is running', () => {
    const m = machine(2);
    const [c0, c1] = m.cpus;
    c1.charge('user_work', 100);
    c0.charge('user_work', 5000);
    m.wake(c0, 1);
    expect(c1.clock).toBe(100);
    expect(c1.idle_cycles).toBe(0);
  });

  it('with every CPU halted, the earliest timer ends the wait on a whole cycle and its interrupt runs', () => {
    const m = machine(2);
    const [c0, c1] = m.cpus;
    const fired: [number, number, number][] = [];
    m.set_intr_gate(LOCAL_TIMER_VECTOR, (cpu: Cpu) => {
      fired.push([cpu.id, m.current, cpu.clock]);
      expect(cpu.tsc_deadline).toBe(0); // one-shot: disarmed as it fires
      if (cpu.id === 1) m.wake(cpu, 1); // the handler wakes a task here
      return FAULT_RETRY;
    });
    c0.charge('user_work', 100);
    c1.charge('user_work', 200);
    c0.write_tsc_deadline(9000.25);
    c1.write_tsc_deadline(3000.5);
    c0.hlt();
    c1.hlt();
    const turns: number[] = [];
    m.set_cpu_step((cpu) => {
      turns.push(cpu.id);
      cpu.charge('user_work', 50);
      cpu.hlt();
    });
    expect(m.run()).toBe('idle');
    // CPU 1's timer first: it waits to 3001, takes it and runs; CPU 0's
    // handler wakes nothing, so it only waits (to 9001) and takes it.
    expect(fired).toEqual([[1, 1, 3001], [0, 0, 9001]]);
    expect(turns).toEqual([1]);
    expect(c1.idle_cycles).toBe(3001 - 200);
    expect(c1.busy_cycles).toBe(200 + 50);
    expect(c0.idle_cycles).toBe(9001 - 100);
    expect(c0.clock).toBe(9001);
    expect(m.nr_timers_armed).toBe(0);
  });

  it('a due timer interrupts a busy CPU with no idle time', () => {
    const m = machine(1);
    const c0 = m.cpus[0];
    let fired_at = -1;
    m.set_intr_gate(LOCAL_TIMER_VECTOR, (cpu: Cpu) => {
      fired_at = cpu.clock;
      return FAULT_RETRY;
    });
    c0.write_tsc_deadline(2500);
    m.set_cpu_step((cpu) => {
      cpu.charge('user_work', 1000);
      if (cpu.clock >= 4000) cpu.hlt();
    });
    expect(m.run()).toBe('idle');
    expect(fired_at).toBe(3000); // checked before each turn
    expect(c0.idle_cycles).toBe(0);
  });

  it('stops at the cycle limit, and needs a step installed', () => {
    const m = machine(2);
    expect(() => m.run()).toThrow(/no CPU step/);
    m.set_cpu_step((cpu) => cpu.charge('user_work', 700));
    expect(m.run({ max_cycles: 3000 })).toBe('cycle_limit');
    expect(m.cpus.map((c) => c.clock)).toEqual([3500, 3500]);
  });

  it('an IPI to an idle CPU counts its wait for the interrupt as idle, and leaves it halted', () => {
    const m = machine(2);
    const [c0, c1] = m.cpus;
    c1.hlt();
    c0.charge('user_work', 10_000);
    m.send_ipi(c0, [1], (c) => c.charge('user_work', 100));
    // It cannot take the interrupt before it was sent: the wait is idle;
    // taking it and the handler are busy.
    expect(c1.idle_cycles).toBeGreaterThanOrEqual(10_000);
    expect(c1.busy_cycles).toBeGreaterThanOrEqual(100);
    expect(c1.busy_cycles).toBeLessThan(10_000);
    expect(c1.busy_cycles + c1.idle_cycles).toBe(c1.clock);
    expect(c1.halted).toBe(true);
  });
});
