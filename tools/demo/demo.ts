/*
 * tools/demo/demo.ts - `npm start -- --demo`: boot tskernel and run a
 * demonstration workload.
 *
 * No Linux counterpart. Boots the given kernel command line (default
 * `mem=256M cpus=2`), runs a small workload (processes and threads that
 * mmap, touch, munmap and yield, write to the console and wait for
 * children, and fs_demo's file I/O), then prints what happened the way a
 * kernel developer reads it: a perf-stat summary per CPU, /proc/vmstat
 * counters, and meminfo. With asi=on it also prints the ASI exits by
 * reason and by the kernel site whose access faulted (k.asi_exit_sites(),
 * the seed's bpftrace histogram). This was `npm start` before the seed's
 * experiment took its place.
 */
import type { Kernel } from '../../init/main.ts';
import type { Nolibc } from '../include/nolibc.ts';
import { CLONE_VM, CLONE_FILES, CLONE_THREAD, CLONE_SIGHAND } from '../../include/uapi/linux/sched.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../include/uapi/linux/mman.ts';
import { console_state } from '../../fs/file.ts';
import { format_va } from '../../arch/x86/include/asm/page.ts';
import { fs_demo, fs_demo_counters } from './fs_demo.ts';
import { ASI_VMSTAT_NAMES } from '../../arch/x86/mm/asi.ts';
import { pti_state } from '../../arch/x86/mm/pti.ts';
import { RndState, prandom_u32_below } from '../../lib/prandom.ts';

const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const RW = PROT_READ | PROT_WRITE;
const THREAD = CLONE_VM | CLONE_FILES | CLONE_THREAD | CLONE_SIGHAND;

function* say(u: Nolibc, text: string): Generator<{ nr: number; args: readonly number[] }, void, number> {
  const s = yield* u.cstr(text, 1);
  yield* u.write(1, s, text.length);
}

/** A worker: maps a buffer, touches every page, yields, unmaps. */
function* worker(u: Nolibc, pages: number, rounds: number): Generator<{ nr: number; args: readonly number[] }, number, number> {
  for (let r = 0; r < rounds; r++) {
    const b = yield* u.mmap(0, pages * 4096, RW, ANON);
    if (b < 0) return 1;
    for (let i = 0; i < pages; i++) u.poke32(b + i * 4096, i + r);
    yield* u.sched_yield();
    let sum = 0;
    for (let i = 0; i < pages; i++) sum += u.peek32(b + i * 4096);
    if (sum !== (pages * (pages - 1)) / 2 + r * pages) return 2;
    yield* u.munmap(b, pages * 4096);
  }
  return 0;
}

/**
 * The workload's shape, drawn from the kernel's seed= the way fio's
 * --randrepeat=0 seeds from it: each child's and batch job's buffer size
 * and rounds, so a different seed is a visibly different run (its pages,
 * faults and flushes), and the same seed the same one.
 */
export interface DemoShape {
  child_pages: number[];
  child_rounds: number[];
  batch_pages: number[];
}

export function demo_shape(seed: number): DemoShape {
  const st = new RndState(seed);
  const draw = (lo: number, n: number): number => lo + prandom_u32_below(st, n);
  return {
    child_pages: [0, 1, 2].map(() => draw(16, 48)),
    child_rounds: [0, 1, 2].map(() => draw(2, 5)),
    batch_pages: [0, 1].map(() => draw(64, 128)),
  };
}

function spawn_demo(k: Kernel, shape: DemoShape): void {
  k.spawn('init', function* (u: Nolibc) {
    yield* say(u, `init: pid ${yield* u.getpid()} starting workers\n`);
    const kids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [pages, rounds] = [shape.child_pages[i], shape.child_rounds[i]];
      kids.push(yield* u.clone(0, function* (c: Nolibc) { return yield* worker(c, pages, rounds); }));
    }
    // Two threads of this process share its mm: TLB shootdowns between CPUs.
    const shared = yield* u.mmap(0, 64 * 4096, RW, ANON);
    for (let t = 0; t < 2; t++) {
      yield* u.clone(THREAD, function* (c: Nolibc) {
        for (let r = 0; r < 8; r++) {
          for (let i = 0; i < 64; i++) c.poke32(shared + i * 4096, r);
          yield* c.sched_yield();
        }
        return 0;
      });
    }
    for (const pid of kids) {
      const [p, status] = yield* u.waitpid(pid);
      yield* say(u, `init: child ${p} exited with status ${status >> 8}\n`);
    }
    yield* u.nanosleep(1_000_000);
    yield* u.munmap(shared, 64 * 4096);
    yield* say(u, `init: shared buffer at ${format_va(shared)} unmapped, done\n`);
    return 0;
  });
  for (let i = 0; i < 2; i++) k.spawn(`batch${i}`, function* (u: Nolibc) { return yield* worker(u, shape.batch_pages[i], 3); });
}

/**
 * Run the demonstration on a booted kernel `k`, printing as it goes; shuts
 * `k` down, after calling `before_shutdown` (a tool reading the trace).
 */
export function run_demo(k: Kernel, before_shutdown?: (k: Kernel) => void): void {
  const mi = k.meminfo();
  console.log(`tskernel: booted '${k.params.saved_command_line}': ${k.machine.nr_cpus} CPUs, MemTotal ${mi.MemTotal} kB, ` +
    `DirectMap1G ${mi.DirectMap1G} kB, DirectMap2M ${mi.DirectMap2M} kB, DirectMap4k ${mi.DirectMap4k} kB, pti=${pti_state.chosen}, asi=${k.params.asi ? 'on' : 'off'}, seed=${k.params.seed}`);
  const shape = demo_shape(k.params.seed);
  console.log(`workload from seed=${k.params.seed}: children map ${shape.child_pages.join('/')} pages ` +
    `${shape.child_rounds.join('/')} times, batch jobs ${shape.batch_pages.join('/')} pages 3 times`);
  console_state.echo = true;
  spawn_demo(k, shape);
  fs_demo(k);
  const r = k.run();
  console_state.echo = false;
  console.log(`\nrun: ${r.reason}; exited: ${r.exited.map((e) => `${e.comm}[${e.pid}]=${e.status}`).join(' ')}`);
  console.log(k.perf_stat('tskernel demo'));
  const v = k.vmstat();
  const keys = ['pgfault', 'pgalloc_normal', 'pgfree', 'nr_free_pages', 'nr_tlb_local_flush_one', 'nr_tlb_local_flush_all',
    'nr_tlb_remote_flush', 'nr_tlb_remote_flush_received', 'nr_asid_hit', 'nr_asid_miss'];
  console.log('/proc/vmstat (selected):');
  for (const key of keys) console.log(`  ${key.padEnd(30)} ${v[key] ?? 0}`);
  if (k.params.asi) {
    console.log('ASI exits (asi=on):');
    for (const key of ASI_VMSTAT_NAMES) console.log(`  ${key.padEnd(30)} ${v[key] ?? 0}`);
    console.log('ASI page-fault exits by faulting site:');
    for (const [site, n] of Object.entries(k.asi_exit_sites())) console.log(`  ${site.padEnd(30)} ${n}`);
  }
  console.log('page cache and copies:');
  for (const [key, val] of Object.entries(fs_demo_counters(k))) console.log(`  ${key.padEnd(30)} ${val}`);
  before_shutdown?.(k);
  k.shutdown();
  console.log('shutdown: every page returned');
}
