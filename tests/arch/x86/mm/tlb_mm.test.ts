import { describe, it, expect } from 'vitest';
import { start_kernel, type Kernel } from '../../../../init/main.ts';
import type { Nolibc } from '../../../../tools/include/nolibc.ts';
import { CLONE_VM, CLONE_FILES, CLONE_THREAD, CLONE_SIGHAND } from '../../../../include/uapi/linux/sched.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../../../include/uapi/linux/mman.ts';
import { HW_CR3_WRITE, HW_CR3_WRITE_NOFLUSH } from '../../../../arch/x86/hw/events.ts';
import { tlb_state } from '../../../../arch/x86/mm/tlb.ts';

const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const RW = PROT_READ | PROT_WRITE;
const THREAD = CLONE_VM | CLONE_FILES | CLONE_THREAD | CLONE_SIGHAND;

/** Every CPU's live TLB entries covering the page of va. */
function cached(k: Kernel, va: number): number[] {
  const page = va - (va % 4096);
  return k.machine.cpus.filter((c) => c.tlb.live_entries().some((e) => e.va <= page && page < e.va + 2 ** e.size_shift)).map((c) => c.id);
}

describe('x86_tlb_asid', () => {
  /* nprocs processes yield to each other on one CPU; p0 samples the counters mid-run. */
  function ping_pong(nprocs: number): { flush: number; noflush: number; miss: number; hit: number } {
    const k = start_kernel('mem=64M cpus=1');
    const c = k.machine.cpus[0];
    const snap = (): number[] => [c.ev[HW_CR3_WRITE], c.ev[HW_CR3_WRITE_NOFLUSH], k.vmstat().nr_asid_miss, k.vmstat().nr_asid_hit];
    let s0: number[] = [];
    let s1: number[] = [];
    for (let i = 0; i < nprocs; i++) {
      k.spawn(`p${i}`, function* (u: Nolibc) {
        const b = yield* u.mmap(0, 4096, RW, ANON);
        for (let r = 0; r < 30; r++) {
          if (i === 0 && r === 5) s0 = snap();
          if (i === 0 && r === 25) s1 = snap();
          u.poke32(b, r);
          yield* u.sched_yield();
        }
        return 0;
      });
    }
    k.run();
    k.shutdown();
    return { flush: s1[0] - s0[0], noflush: s1[1] - s0[1], miss: s1[2] - s0[2], hit: s1[3] - s0[3] };
  }

  it('six mms alternate on one CPU without flushing; a seventh evicts round-robin', () => {
    const six = ping_pong(6);
    const seven = ping_pong(7);
    // 20 rounds of 6 switches in the steady state: every switch finds its ASID, no flush.
    expect(six).toEqual({ flush: 0, noflush: 120, miss: 0, hit: 120 });
    // With seven in round-robin, each switch finds its slot taken: every one misses and flushes.
    expect(seven).toEqual({ flush: 140, noflush: 0, miss: 140, hit: 0 });
  });
});

describe('x86_tlb_coherence', () => {
  function munmap_scenario(cmdline: string, suppress: boolean): { after: number[]; before: number[] } {
    const k = start_kernel(cmdline);
    let before: number[] = [];
    let after: number[] = [];
    k.spawn('main', function* (u: Nolibc) {
      const b = yield* u.mmap(0, 2 * 4096, RW, ANON);
      u.poke32(b, 1);
      u.poke32(b + 4096, 1); // keeps the page table alive after the munmap below
      const flag = b + 4096 + 8;
      const tid = yield* u.clone(THREAD, function* (t: Nolibc) {
        t.peek32(b); // cache the translation on this CPU
        t.poke32(flag, 1);
        while (t.peek32(flag) !== 2) yield* t.sched_yield(); // stay on the CPU, mm loaded
        return 0;
      });
      while (u.peek32(flag) !== 1) yield* u.sched_yield();
      before = cached(k, b);
      tlb_state.suppress_flush_ipis = suppress;
      expect(yield* u.munmap(b, 4096)).toBe(0);
      after = cached(k, b);
      tlb_state.suppress_flush_ipis = false;
      u.poke32(flag, 2);
      void tid;
      return 0;
    });
    k.run();
    k.shutdown();
    return { before, after };
  }

  for (const opts of ['', 'nopcid', 'pti=on', 'pti=on nopcid']) {
    it(`after munmap returns no CPU translates the page (${opts || 'pcid, no pti'})`, () => {
      const r = munmap_scenario(`mem=64M cpus=2 ${opts}`, false);
      // Both threads had it cached, except under PTI without PCID, where every
      // return to user already flushes the user entries.
      expect(r.before).toEqual(opts === 'pti=on nopcid' ? [] : [0, 1]);
      expect(r.after).toEqual([]);
    });
  }

  it('without the shootdown IPI the other CPU keeps a stale entry (the test can fail)', () => {
    const r = munmap_scenario('mem=64M cpus=2', true);
    expect(r.before).toEqual([0, 1]);
    expect(r.after).toEqual([1]);
  });
});

describe('x86_tlb_gen', () => {
  it('a lazy CPU is skipped by the flush and catches up when its task returns, only then', () => {
    const k = start_kernel('mem=64M cpus=2');
    const log: Record<string, number[]> = {};
    k.spawn('main', function* (u: Nolibc) {
      const b = yield* u.mmap(0, 2 * 4096, RW, ANON);
      u.poke32(b, 1);
      u.poke32(b + 4096, 1);
      const flag = b + 4096 + 8;
      yield* u.clone(THREAD, function* (t: Nolibc) {
        t.peek32(b);
        t.poke32(flag, 1);
        yield* t.nanosleep(2_000_000); // CPU 1 goes idle, lazily keeping the mm
        const c1 = k.machine.cpus[1];
        log.woke = [c1.ev[HW_CR3_WRITE]];
        log.stale_after_wake = cached(k, b);
        yield* t.nanosleep(2_000_000); // nothing changed meanwhile: no flush on return
        log.again = [c1.ev[HW_CR3_WRITE] - log.woke[0]];
        t.poke32(flag, 3);
        return 0;
      });
      while (u.peek32(flag) !== 1) yield* u.sched_yield();
      yield* u.nanosleep(500_000);
      const ipis = k.vmstat().nr_tlb_remote_flush_received;
      log.flush_before = [k.machine.cpus[1].ev[HW_CR3_WRITE]];
      expect(yield* u.munmap(b, 4096)).toBe(0);
      log.ipis = [k.vmstat().nr_tlb_remote_flush_received - ipis];
      log.stale = cached(k, b);
      while (u.peek32(flag) !== 3) yield* u.nanosleep(1_000_000);
      return 0;
    });
    k.run();
    expect(log.ipis).toEqual([0]); // the lazy CPU got no IPI
    expect(log.stale).toEqual([1]); // and still holds the entry while lazy
    expect(log.woke[0]).toBe(log.flush_before[0] + 1); // one flushing CR3 load on switching back
    expect(log.stale_after_wake).toEqual([]);
    expect(log.again).toEqual([0]);
    k.shutdown();
  });
});
