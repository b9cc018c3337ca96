import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../../init/main.ts';
import type { Nolibc } from '../../../tools/include/nolibc.ts';
import { WEXITSTATUS } from '../../../tools/include/nolibc.ts';
import { CLONE_VM, CLONE_FILES } from '../../../include/uapi/linux/sched.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../../include/uapi/linux/mman.ts';
import { console_state, CONSOLE_OUTPUT_MAX } from '../../../fs/file.ts';
import { drain_all_pages } from '../../../mm/page_alloc.ts';

const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const RW = PROT_READ | PROT_WRITE;

describe('kernel_sched', () => {
  it('runs processes to completion and reports their exit status', () => {
    const k = start_kernel('mem=64M cpus=2');
    drain_all_pages();
    const free0 = k.vmstat().nr_free_pages;
    k.spawn('a', function* (u: Nolibc) {
      const pid = yield* u.getpid();
      expect(pid).toBeGreaterThan(0);
      return 3;
    });
    k.spawn('b', function* (u: Nolibc) {
      yield* u.sched_yield();
      yield* u.exit_group(7);
      return 99; // never reached
    });
    const r = k.run();
    expect(r.reason).toBe('done');
    expect(r.exited.map((e) => [e.comm, e.status]).sort()).toEqual([['a', 3], ['b', 7]]);
    drain_all_pages(); // after every exit, free pages equal the post-boot count
    expect(k.vmstat().nr_free_pages).toBe(free0);
    k.shutdown();
  });

  it('a task alone on its CPU gets a new slice when its slice ends, not a schedule() per syscall', () => {
    const k = start_kernel('mem=64M cpus=1');
    const cost: number[] = [];
    k.spawn('alone', function* (u: Nolibc) {
      const cpu = k.machine.cpus[0];
      for (let round = 0; round < 2; round++) {
        if (round > 0) u.compute(3_000_000); // past the end of the slice
        yield* u.getpid(); // after the compute the slice has expired: schedule() picks it again
        const c0 = cpu.clock;
        for (let i = 0; i < 100; i++) yield* u.getpid();
        cost.push(cpu.clock - c0);
      }
      return 0;
    });
    k.run();
    expect(cost[1]).toBeCloseTo(cost[0], 6); // clocks are float sums (fractional copy costs)
    k.shutdown();
  });

  it('places tasks on both CPUs and round-robins within a CPU', () => {
    const k = start_kernel('mem=64M cpus=2');
    const seen = new Map<string, Set<number>>();
    for (const name of ['p1', 'p2', 'p3', 'p4']) {
      k.spawn(name, function* (u: Nolibc) {
        for (let i = 0; i < 5; i++) {
          const s = seen.get(name) ?? new Set<number>();
          s.add(k.machine.current);
          seen.set(name, s);
          u.compute(1_000_000);
          yield* u.sched_yield();
        }
        return 0;
      });
    }
    const r = k.run();
    expect(r.exited.length).toBe(4);
    const cpus = new Set([...seen.values()].flatMap((s) => [...s]));
    expect(cpus).toEqual(new Set([0, 1]));
    expect(Math.abs(r.cycles[0] - r.cycles[1]) / Math.max(...r.cycles)).toBeLessThan(0.5);
    k.shutdown();
  });

  it('threads share memory; wait4 reaps children with their status', () => {
    const k = start_kernel('mem=64M cpus=2');
    let observed = -1;
    k.spawn('parent', function* (u: Nolibc) {
      const buf = yield* u.mmap(0, 4096, RW, ANON);
      const tid = yield* u.clone(CLONE_VM | CLONE_FILES, function* (c: Nolibc) {
        c.poke32(buf, 0xabcd);
        return 5;
      });
      expect(tid).toBeGreaterThan(0);
      const [pid, status] = yield* u.waitpid(tid);
      expect(pid).toBe(tid);
      expect(WEXITSTATUS(status)).toBe(5);
      observed = u.peek32(buf);
      const [none] = yield* u.waitpid(-1);
      expect(none).toBe(-10); // -ECHILD
      return 0;
    });
    k.run();
    expect(observed).toBe(0xabcd);
    k.shutdown();
  });

  it('nanosleep advances simulated time; sleepers wake in order', () => {
    const k = start_kernel('mem=64M cpus=1');
    const order: string[] = [];
    for (const [name, ns] of [['long', 3_000_000], ['short', 1_000_000]] as const) {
      k.spawn(name, function* (u: Nolibc) {
        expect(yield* u.nanosleep(ns)).toBe(0);
        order.push(name);
        return 0;
      });
    }
    const r = k.run();
    expect(order).toEqual(['short', 'long']);
    expect(r.cycles[0] / k.costs.cpu_mhz / 1000).toBeGreaterThanOrEqual(3); // ms
    k.shutdown();
  });

  it('timer_wakeup_rounding: a sleep whose end rounds between cycles still wakes (was a livelock)', () => {
    const k = start_kernel('mem=32M cpus=2');
    let done = 0;
    for (let t = 0; t < 2; t++) {
      k.spawn(`s${t}`, function* (u: Nolibc) {
        for (let i = 1; i <= 50; i++) expect(yield* u.nanosleep(1_234_567 + i * 7919 + t)).toBe(0);
        done++;
        return 0;
      });
    }
    const r = k.run({ max_cycles: 1e10 });
    expect(r.reason).toBe('done');
    expect(done).toBe(2);
    k.shutdown();
  });

  it('write(1) reaches the console through copy_from_user', () => {
    const k = start_kernel('mem=32M cpus=1');
    k.spawn('hello', function* (u: Nolibc) {
      const s = yield* u.cstr('hello, world\n');
      expect(yield* u.write(1, s, 13)).toBe(13);
      return 0;
    });
    k.run();
    expect(console_state.output).toBe('hello, world\n');
    k.shutdown();
  });

  it('the console keeps a bounded scrollback: 8 MiB of zero-page bytes written to fd 1 hold at most 2 MiB of host string', () => {
    // Found by the fuzzer: write(1, buf, MAX_RW_COUNT) over an untouched
    // anonymous mapping reads the zero page and once grew the host to 4 GiB.
    const k = start_kernel('mem=32M cpus=1');
    const len = 8 << 20;
    let ret = 0;
    k.spawn('big', function* (u: Nolibc) {
      const buf = yield* u.mmap(0, len, PROT_READ, ANON);
      const tail = yield* u.cstr('the end\n');
      ret = yield* u.write(1, buf, len);
      yield* u.write(1, tail, 8);
      return 0;
    });
    expect(k.run().reason).toBe('done');
    expect(ret).toBe(len);
    expect(console_state.output.length).toBeLessThanOrEqual(2 * CONSOLE_OUTPUT_MAX);
    expect(console_state.output.length).toBeGreaterThanOrEqual(CONSOLE_OUTPUT_MAX);
    expect(console_state.output.endsWith('\0the end\n')).toBe(true);
    k.shutdown();
  });

  it('a segfault kills the process with status 139 and a report; others go on', () => {
    const k = start_kernel('mem=64M cpus=2');
    k.spawn('bad', function* (u: Nolibc) {
      yield* u.getpid();
      u.poke32(0x1000, 1); // nothing mapped there
      return 0;
    });
    k.spawn('good', function* (u: Nolibc) {
      yield* u.sched_yield();
      return 0;
    });
    const r = k.run();
    const bad = r.exited.find((e) => e.comm === 'bad');
    expect(bad?.status).toBe(139);
    expect(r.exited.find((e) => e.comm === 'good')?.status).toBe(0);
    expect(k.dmesg()).toMatch(/bad\[\d+\]: segfault at 1000/);
    k.shutdown();
  });

  it('is deterministic: the same command line gives the same counters', () => {
    const once = (): string => {
      const k = start_kernel('mem=64M cpus=2 seed=5');
      for (let i = 0; i < 3; i++) {
        k.spawn(`w${i}`, function* (u: Nolibc) {
          const b = yield* u.mmap(0, 64 * 1024, RW, ANON);
          for (let j = 0; j < 16; j++) u.poke32(b + j * 4096, j);
          yield* u.sched_yield();
          yield* u.munmap(b, 64 * 1024);
          return 0;
        });
      }
      k.run();
      const out = JSON.stringify([k.vmstat(), k.perf_stat()]);
      k.shutdown();
      return out;
    };
    expect(once()).toBe(once());
  });
});
