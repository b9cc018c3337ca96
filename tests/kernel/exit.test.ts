import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { CLONE_VM, CLONE_FILES, CLONE_THREAD, CLONE_SIGHAND } from '../../include/uapi/linux/sched.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../include/uapi/linux/mman.ts';
import { drain_all_pages } from '../../mm/page_alloc.ts';
import { this_tlbstate } from '../../arch/x86/mm/tlb.ts';
import { init_mm } from '../../mm/mm_struct.ts';
import { cpu_rq } from '../../kernel/sched/core.ts';

const THREAD = CLONE_VM | CLONE_FILES | CLONE_THREAD | CLONE_SIGHAND;

/*
 * Main on CPU 0, a thread spinning in sched_yield() on CPU 1 (current
 * there), then `kill` ends the group from CPU 0.
 */
function group_exit_with_running_sibling(kill: (u: Nolibc, b: number) => Generator<{ nr: number; args: readonly number[] }, number, number>) {
  const k = start_kernel('mem=64M cpus=2');
  drain_all_pages();
  const free0 = k.vmstat().nr_free_pages;
  let thread_exits = 0;
  const main_pid = k.spawn('main', function* (u: Nolibc) {
    const b = yield* u.mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    u.poke32(b, 0);
    yield* u.clone(THREAD, function* (t: Nolibc) {
      t.poke32(b, 1);
      for (;;) yield* t.sched_yield(); // current on CPU 1 until killed
    });
    while (u.peek32(b) !== 1) yield* u.sched_yield();
    return yield* kill(u, b);
  });
  const r = k.run();
  const m = k.machine;
  const cpls = m.cpus.map((c) => c.cpl);
  const loaded_freed: boolean[] = [];
  for (let i = 0; i < m.nr_cpus; i++) {
    m.current = i;
    const mm = this_tlbstate().loaded_mm;
    loaded_freed.push(mm !== null && mm !== init_mm() && mm.pgd === 0);
    expect(cpu_rq(i).curr).toBe(cpu_rq(i).idle);
  }
  m.current = 0;
  for (const e of r.exited) if (e.pid !== main_pid) thread_exits++;
  drain_all_pages();
  const leaked = free0 - k.vmstat().nr_free_pages;
  k.shutdown();
  return { r, cpls, loaded_freed, thread_exits, leaked };
}

describe('kernel_exit_group_running_sibling', () => {
  it('exit_group_running_sibling_exits_once: the thread current on CPU 1 dies once, in its own kernel code', () => {
    const out = group_exit_with_running_sibling(function* (u) {
      yield* u.exit_group(3);
      return 0;
    });
    expect(out.r.reason).toBe('done');
    expect(out.r.exited.map((e) => e.status)).toEqual([3, 3]);
    expect(out.thread_exits).toBe(1);
    expect(out.cpls).toEqual([0, 0]);
    expect(out.loaded_freed).toEqual([false, false]);
    expect(out.leaked).toBe(0);
  });

  it('fatal_signal_running_sibling_exits_once: a segfault in main kills the running thread once (139)', () => {
    const out = group_exit_with_running_sibling(function* (u) {
      u.poke32(4096 * 20, 1); // unmapped: SIGSEGV
      return 0;
    });
    expect(out.r.reason).toBe('done');
    expect(out.r.exited.map((e) => e.status)).toEqual([139, 139]);
    expect(out.thread_exits).toBe(1);
    expect(out.cpls).toEqual([0, 0]);
    expect(out.loaded_freed).toEqual([false, false]);
    expect(out.leaked).toBe(0);
  });

  it('oom_kill_running_sibling_exits_once: an OOM kill of main takes the running thread once (137)', () => {
    const out = group_exit_with_running_sibling(function* (u) {
      const len = 128 * 2 ** 20; // more than RAM
      const b = yield* u.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      for (let off = 0; off < len; off += 4096) u.poke32(b + off, 1);
      return 0;
    });
    expect(out.r.reason).toBe('done');
    expect(out.r.exited.map((e) => e.status)).toEqual([137, 137]);
    expect(out.thread_exits).toBe(1);
    expect(out.cpls).toEqual([0, 0]);
    expect(out.loaded_freed).toEqual([false, false]);
    expect(out.leaked).toBe(0);
  });
});
