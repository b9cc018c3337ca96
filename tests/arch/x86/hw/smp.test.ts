import { describe, it, expect } from 'vitest';
import { test_machine } from '../../../../tools/testing/pt_builder.ts';
import { start_kernel } from '../../../../init/main.ts';
import type { Nolibc } from '../../../../tools/include/nolibc.ts';
import { CLONE_VM, CLONE_FILES, CLONE_THREAD, CLONE_SIGHAND } from '../../../../include/uapi/linux/sched.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../../../include/uapi/linux/mman.ts';
import { HW_IPI_SENT, HW_IPI_RECEIVED } from '../../../../arch/x86/hw/events.ts';

const THREAD = CLONE_VM | CLONE_FILES | CLONE_THREAD | CLONE_SIGHAND;

describe('x86_smp_ipi', () => {
  /*
   * sender  |--send--|.......wait.......|
   * CPU 1          |--receive--|handler|        behind: brought to the send time
   * CPU 1 far ahead:                   |--receive--|handler|   takes it at its own time
   * Either way the sender pays ipi_send + the receiver's work, never the lead.
   */
  function one_ipi(lead: number): { sender: number; receiver: number; catchup: number } {
    const { m } = test_machine({ cpus: 2 });
    const [c0, c1] = m.cpus;
    c0.clock = 100_000;
    c1.clock = 100_000 + lead;
    const s0 = c0.clock, r0 = c1.clock;
    m.send_ipi(c0, [1], (c) => c.charge('user_work', 700));
    return { sender: c0.clock - s0, receiver: c1.clock - r0, catchup: c1.ipi_catchup };
  }

  it('charges the sender delivery and the handler work, whatever the receiver clock', () => {
    const { m } = test_machine({ cpus: 2 });
    const { ipi_send, ipi_receive } = m.costs;
    const work = ipi_receive + 700;
    const ahead = one_ipi(10_000_000);
    expect(ahead).toEqual({ sender: ipi_send + work, receiver: work, catchup: 0 });
    const behind = one_ipi(-5_000);
    // The receiver first catches up to the send time: idle, not work, kept apart.
    expect(behind).toEqual({ sender: ipi_send + work, receiver: 5_000 + ipi_send + work, catchup: 5_000 + ipi_send });
  });

  it('receivers handle in parallel: the sender waits for the last to finish', () => {
    const { m } = test_machine({ cpus: 3 });
    const { ipi_send, ipi_receive } = m.costs;
    const c0 = m.cpus[0];
    const s0 = c0.clock;
    // CPU 1's handler is long, CPU 2's short: the wait ends with CPU 1's.
    m.send_ipi(c0, [1, 2], (c) => c.charge('user_work', c.id === 1 ? 10_000 : 10));
    expect(c0.clock - s0).toBe(ipi_send + ipi_receive + 10_000);
    const s1 = c0.clock;
    m.send_ipi(c0, [1, 2], (c) => c.charge('user_work', 10), false); // no wait: delivery only
    expect(c0.clock - s1).toBe(2 * ipi_send);
  });

  /* The munmap shootdown of tests/arch/x86/mm/tlb_mm.test.ts: main on CPU 0, a thread on CPU 1 sharing the mm. */
  function munmap_cost(cpu1_lead: number): { cycles: number; ipis: number; received: number } {
    const k = start_kernel('mem=64M cpus=2');
    const [c0, c1] = k.machine.cpus;
    const out = { cycles: 0, ipis: 0, received: 0 };
    k.spawn('main', function* (u: Nolibc) {
      const b = yield* u.mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      u.poke32(b, 1);
      u.poke32(b + 4096, 1);
      const flag = b + 4096 + 8;
      yield* u.clone(THREAD, function* (t: Nolibc) {
        t.peek32(b);
        t.poke32(flag, 1);
        while (t.peek32(flag) !== 2) yield* t.sched_yield(); // stays on CPU 1 with the mm loaded
        return 0;
      });
      while (u.peek32(flag) !== 1) yield* u.sched_yield();
      c1.clock += cpu1_lead;
      const sent = c0.ev[HW_IPI_SENT], got = c1.ev[HW_IPI_RECEIVED];
      const t0 = c0.clock;
      expect(yield* u.munmap(b, 4096)).toBe(0);
      out.cycles = c0.clock - t0;
      out.ipis = c0.ev[HW_IPI_SENT] - sent;
      out.received = c1.ev[HW_IPI_RECEIVED] - got;
      u.poke32(flag, 2);
      return 0;
    });
    k.run();
    k.shutdown();
    return out;
  }

  it('ipi_skew_shootdown: the same munmap shootdown costs the sender the same with CPU 1 10M cycles ahead', () => {
    const in_step = munmap_cost(0);
    const ahead = munmap_cost(10_000_000);
    expect(in_step.ipis).toBe(1);
    expect(ahead.ipis).toBe(1);
    expect(ahead.received).toBe(1);
    const ratio = ahead.cycles / in_step.cycles;
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});
