/*
 * tools/testing/test_vmalloc.ts - the vmalloc stress and performance test.
 *
 * Mirrors lib/test_vmalloc.c (Uladzislau Rezki's module, the source of
 * every vmalloc figure in the seed thread): the same test cases, mask bits
 * and module parameters (test_loop_count, run_test_mask, nr_threads,
 * test_repeat_count, sequential_test_order, nr_pages, use_huge,
 * nr_pcpu_objects), the same xfail rule (align_shift_alloc_test is expected
 * to fail), and the same report:
 *   Summary: %s passed: %d failed: %d xfailed: %d repeat: %d loops: %d avg: %llu usec
 *   All test took CPU%d=%lu cycles
 * "avg" is, as in Linux, the time of all test_loop_count iterations of one
 * case divided by test_repeat_count (not a per-call figure), measured in
 * host microseconds. After each Summary line a "modelled:" line gives the
 * same average in the simulated CPU's cycles (its cpu.clock deltas) and in
 * microseconds at the profile's clock, so a change to vmalloc shows up in
 * modelled cost independent of the host. "All test took" reports modelled
 * cycles of the worker's CPU from its first step to its last.
 *
 * Workers: nr_threads workers (Linux's kthreads vmalloc_test/N) run
 * interleaved, one loop iteration at a time, worker i on CPU i % cpus
 * (switching k.machine.current), so they share the global trees and each
 * CPU has its own vmap_block queue, as in Linux; there are no locks to
 * contend on, so Rezki's 2024 lock-contention results are out of reach.
 * Stand-ins where tskernel lacks the subsystem, said here and in the code:
 *   - pcpu_alloc_test: no percpu allocator. Objects are bump-allocated in
 *     "chunks" of PCPU_UNIT_SIZE per CPU taken with vzalloc() and vfree()d
 *     when their last object goes: the chunk-level vmalloc traffic only.
 *   - kvfree_rcu_*_vmalloc_test: no RCU. kvfree_rcu() queues the pointer in
 *     a bulk block of KVFREE_BULK_MAX_ENTR entries; when the block is full
 *     a grace period is taken to have passed and they are all vfree()d.
 *   - no_block_alloc_test and vrealloc_test (Linux's bits 2048, 4096) are
 *     not included.
 * The pointer arrays Linux vmallocs (ptr[15000] ...) are vmalloc()ed here
 * too, for the same KVA and memory footprint, but the pointers are kept in
 * JS arrays.
 *
 * Run: npx tsx tools/testing/test_vmalloc.ts [param=value ...] [boot args ...]
 *   e.g. run_test_mask=0x7ff test_loop_count=10000 nr_threads=2 cpus=2 debug_vm
 * Arguments that are not module parameters go to start_kernel()'s command
 * line (default "mem=1G cpus=<nr_threads, at least 2>").
 */
import { fileURLToPath } from 'node:url';
import { start_kernel, type Kernel } from '../../init/main.ts';
import {
  vmalloc, vzalloc, vfree, vmalloc_huge, __vmalloc_node, vm_map_ram, vm_unmap_ram, vmalloc_init, vmalloc_shutdown,
  NUMA_NO_NODE,
} from '../../mm/vmalloc.ts';
import { vmap_state } from '../../mm/vmap_area.ts';
import { alloc_pages, __free_pages } from '../../mm/page_alloc.ts';
import { GFP_KERNEL, __GFP_ZERO } from '../../mm/gfp.ts';
import { fls } from '../../mm/vmap_purge.ts';
import { this_cpu, nr_cpu_ids } from '../../kernel/smp.ts';
import { pr_info, pr_err } from '../../kernel/printk.ts';
import { cycles_to_ns } from '../../arch/x86/hw/costs.ts';
import { RndState, prandom_u32_state, prandom_u32_below } from '../../lib/prandom.ts';
import { PAGE_SIZE, PAGE_SHIFT } from '../../arch/x86/include/asm/page_types.ts';

/** The module parameters (lib/test_vmalloc.c's __param list), with Linux's defaults. */
export interface TestVmallocParams {
  nr_threads: number;
  sequential_test_order: boolean;
  test_repeat_count: number;
  test_loop_count: number;
  nr_pages: number;
  use_huge: boolean;
  run_test_mask: number;
  nr_pcpu_objects: number;
}

export const TEST_VMALLOC_DEFAULTS: Readonly<TestVmallocParams> = {
  nr_threads: 0,
  sequential_test_order: false,
  test_repeat_count: 1,
  test_loop_count: 1_000_000,
  nr_pages: 0,
  use_huge: false,
  run_test_mask: 7,
  nr_pcpu_objects: 35000,
};

/** THREAD_ALIGN on x86-64 without KASAN: THREAD_SIZE, 16 KiB. */
const THREAD_ALIGN = 16384;
const BITS_PER_LONG = 64;
/** The stand-in percpu chunk: this much per CPU per chunk. */
export const PCPU_UNIT_SIZE = 32768;
/** Pointers per kvfree_rcu bulk block: (PAGE_SIZE - header) / sizeof(void *). */
export const KVFREE_BULK_MAX_ENTR = 510;

type TestFn = (t: TestCtx) => Generator<void, number, void>;

interface TestCaseDesc {
  test_name: string;
  test_func: TestFn;
  xfail: boolean;
}

/** What a running test case can reach: the parameters and the shared random state. */
interface TestCtx {
  p: TestVmallocParams;
  rnd: RndState;
}

function get_random_u8(rnd: RndState): number {
  return prandom_u32_state(rnd) & 0xff;
}

function get_random_u32_inclusive(rnd: RndState, lo: number, hi: number): number {
  return lo + prandom_u32_below(rnd, hi - lo + 1);
}

/** *((__u8 *)p) = v: a store through the MMU on this CPU. */
function touch(addr: number, v: number): boolean {
  return this_cpu().store8(addr, v);
}

function* random_size_align_alloc_test(t: TestCtx): Generator<void, number, void> {
  for (let i = 0; i < t.p.test_loop_count; i++) {
    const rnd = get_random_u8(t.rnd);
    const align = 2 ** (rnd % 23); // maximum 1024 pages
    const size = ((rnd % 10) + 1) * PAGE_SIZE; // maximum 10 pages
    const ptr = __vmalloc_node(size, align, GFP_KERNEL | __GFP_ZERO, 0, 'random_size_align_alloc_test');
    if (!ptr) return -1;
    vfree(ptr);
    yield;
  }
  return 0;
}

/** This test case is supposed to fail: alignments up to 2^63 cannot all fit. */
function* align_shift_alloc_test(): Generator<void, number, void> {
  for (let i = 0; i < BITS_PER_LONG; i++) {
    const align = 2 ** i;
    const ptr = __vmalloc_node(PAGE_SIZE, align, GFP_KERNEL | __GFP_ZERO, 0, 'align_shift_alloc_test');
    if (!ptr) return -1;
    vfree(ptr);
    yield;
  }
  return 0;
}

function* fix_align_alloc_test(t: TestCtx): Generator<void, number, void> {
  for (let i = 0; i < t.p.test_loop_count; i++) {
    const ptr = __vmalloc_node(5 * PAGE_SIZE, THREAD_ALIGN << 1, GFP_KERNEL | __GFP_ZERO, 0, 'fix_align_alloc_test');
    if (!ptr) return -1;
    vfree(ptr);
    yield;
  }
  return 0;
}

function* random_size_alloc_test(t: TestCtx): Generator<void, number, void> {
  for (let i = 0; i < t.p.test_loop_count; i++) {
    const n = get_random_u32_inclusive(t.rnd, 1, 100);
    const p = vmalloc(n * PAGE_SIZE);
    if (!p) return -1;
    touch(p, 1);
    vfree(p);
    yield;
  }
  return 0;
}

function* long_busy_list_alloc_test(t: TestCtx): Generator<void, number, void> {
  const ptr_array = vmalloc(8 * 15000);
  if (!ptr_array) return -1;
  const ptr: (number | null)[] = [];
  let rv = -1;
  for (let i = 0; i < 15000; i++) ptr.push(vmalloc(1 * PAGE_SIZE));
  yield;
  leave: {
    for (let i = 0; i < t.p.test_loop_count; i++) {
      const ptr_1 = vmalloc(100 * PAGE_SIZE);
      if (!ptr_1) break leave;
      const ptr_2 = vmalloc(1 * PAGE_SIZE);
      if (!ptr_2) {
        vfree(ptr_1);
        break leave;
      }
      touch(ptr_1, 0);
      touch(ptr_2, 1);
      vfree(ptr_1);
      vfree(ptr_2);
      yield;
    }
    rv = 0; // success
  }
  for (let i = 0; i < 15000; i++) vfree(ptr[i]);
  vfree(ptr_array);
  return rv;
}

function* full_fit_alloc_test(t: TestCtx): Generator<void, number, void> {
  const junk_length = fls(nr_cpu_ids()) * ((32 * 1024 * 1024) / PAGE_SIZE);
  const ptr_array = vmalloc(8 * junk_length);
  if (!ptr_array) return -1;
  const junk_array = vmalloc(8 * junk_length);
  if (!junk_array) {
    vfree(ptr_array);
    return -1;
  }
  const ptr: (number | null)[] = [];
  const junk_ptr: (number | null)[] = [];
  let rv = -1;
  for (let i = 0; i < junk_length; i++) {
    ptr.push(vmalloc(1 * PAGE_SIZE));
    junk_ptr.push(vmalloc(1 * PAGE_SIZE));
  }
  for (let i = 0; i < junk_length; i++) vfree(junk_ptr[i]);
  yield;
  error: {
    for (let i = 0; i < t.p.test_loop_count; i++) {
      const tmp = vmalloc(1 * PAGE_SIZE);
      if (!tmp) break error;
      touch(tmp, 1);
      vfree(tmp);
      yield;
    }
    rv = 0; // success
  }
  for (let i = 0; i < junk_length; i++) vfree(ptr[i]);
  vfree(ptr_array);
  vfree(junk_array);
  return rv;
}

function* fix_size_alloc_test(t: TestCtx): Generator<void, number, void> {
  const size = (t.p.nr_pages > 0 ? t.p.nr_pages : 1) * PAGE_SIZE;
  for (let i = 0; i < t.p.test_loop_count; i++) {
    const ptr = t.p.use_huge ? vmalloc_huge(size, GFP_KERNEL) : vmalloc(size);
    if (!ptr) return -1;
    touch(ptr, 0);
    vfree(ptr);
    yield;
  }
  return 0;
}

/** A stand-in percpu chunk (see the file comment). */
class PcpuChunk {
  used = 0;
  nr_objs = 0;
  constructor(readonly base: number) {}
}

function* pcpu_alloc_test(t: TestCtx): Generator<void, number, void> {
  let rv = 0;
  const n = t.p.nr_pcpu_objects;
  const pcpu_array = vmalloc(8 * n);
  if (!pcpu_array) return -1;
  const objs: (PcpuChunk | null)[] = [];
  let chunk: PcpuChunk | null = null;
  for (let i = 0; i < n; i++) {
    const size = get_random_u32_inclusive(t.rnd, 1, PAGE_SIZE / 4);
    const align = 2 ** get_random_u32_inclusive(t.rnd, 1, PAGE_SHIFT - 1); // maximum PAGE_SIZE
    // __alloc_percpu(size, align): bump in the current chunk, or a new chunk.
    let off = chunk === null ? 0 : Math.ceil(chunk.used / align) * align;
    if (chunk === null || off + size > PCPU_UNIT_SIZE) {
      const base = vzalloc(PCPU_UNIT_SIZE * nr_cpu_ids());
      chunk = base ? new PcpuChunk(base) : null;
      off = 0;
    }
    if (chunk === null) {
      rv = -1;
      objs.push(null);
    } else {
      chunk.used = off + size;
      chunk.nr_objs++;
      objs.push(chunk);
    }
    if (i % 64 === 63) yield;
  }
  // free_percpu(): a chunk goes back to vmalloc with its last object.
  for (let i = 0; i < n; i++) {
    const c = objs[i];
    if (c !== null && --c.nr_objs === 0) vfree(c.base);
  }
  vfree(pcpu_array);
  return rv;
}

/** kvfree_rcu() stand-in: a bulk block of pointers freed a grace period later (when full, or at the end). */
class KvfreeRcuBulk {
  private readonly ptrs: number[] = [];
  kvfree_rcu(p: number): void {
    this.ptrs.push(p);
    if (this.ptrs.length >= KVFREE_BULK_MAX_ENTR) this.drain();
  }
  drain(): void {
    for (const p of this.ptrs) vfree(p);
    this.ptrs.length = 0;
  }
}

function* kvfree_rcu_vmalloc_test(t: TestCtx): Generator<void, number, void> {
  const bulk = new KvfreeRcuBulk();
  for (let i = 0; i < t.p.test_loop_count; i++) {
    const p = vmalloc(1 * PAGE_SIZE);
    if (!p) {
      bulk.drain();
      return -1;
    }
    touch(p + 16, 0x61); // p->array[0] = 'a', after the rcu_head
    bulk.kvfree_rcu(p);
    yield;
  }
  bulk.drain();
  return 0;
}

function* vm_map_ram_test(t: TestCtx): Generator<void, number, void> {
  const map_nr_pages = t.p.nr_pages > 0 ? t.p.nr_pages : 1;
  const pages: number[] = [];
  // alloc_pages_bulk()
  for (let i = 0; i < map_nr_pages; i++) {
    const pfn = alloc_pages(GFP_KERNEL, 0);
    if (pfn === null) break;
    pages.push(pfn);
  }
  const nr_allocated = pages.length;
  if (nr_allocated === map_nr_pages) {
    for (let i = 0; i < t.p.test_loop_count; i++) {
      const v_ptr = vm_map_ram(pages, map_nr_pages, NUMA_NO_NODE);
      if (v_ptr) {
        touch(v_ptr, 0x61);
        vm_unmap_ram(v_ptr, map_nr_pages);
      }
      yield;
    }
  }
  for (const pfn of pages) __free_pages(pfn, 0);
  // 0 indicates success.
  return nr_allocated !== map_nr_pages ? 1 : 0;
}

/** test_case_array[]: the index is the bit in run_test_mask. */
export const test_case_array: readonly TestCaseDesc[] = [
  { test_name: 'fix_size_alloc_test', test_func: fix_size_alloc_test, xfail: false },
  { test_name: 'full_fit_alloc_test', test_func: full_fit_alloc_test, xfail: false },
  { test_name: 'long_busy_list_alloc_test', test_func: long_busy_list_alloc_test, xfail: false },
  { test_name: 'random_size_alloc_test', test_func: random_size_alloc_test, xfail: false },
  { test_name: 'fix_align_alloc_test', test_func: fix_align_alloc_test, xfail: false },
  { test_name: 'random_size_align_alloc_test', test_func: random_size_align_alloc_test, xfail: false },
  { test_name: 'align_shift_alloc_test', test_func: align_shift_alloc_test, xfail: true },
  { test_name: 'pcpu_alloc_test', test_func: pcpu_alloc_test, xfail: false },
  { test_name: 'kvfree_rcu_1_arg_vmalloc_test', test_func: kvfree_rcu_vmalloc_test, xfail: false },
  { test_name: 'kvfree_rcu_2_arg_vmalloc_test', test_func: kvfree_rcu_vmalloc_test, xfail: false },
  { test_name: 'vm_map_ram_test', test_func: vm_map_ram_test, xfail: false },
];

/** Every implemented case. */
export const RUN_ALL_TESTS_MASK = (1 << test_case_array.length) - 1;

/** struct test_case_data, plus the modelled cycles. */
export interface TestCaseData {
  test_passed: number;
  test_failed: number;
  test_xfailed: number;
  /** Host microseconds for all repeats, divided by test_repeat_count. */
  time: number;
  /** Modelled cycles of the worker's CPU over all repeats, divided by test_repeat_count. */
  cycles: number;
}

/** struct test_driver. */
export interface TestDriver {
  cpu: number;
  data: TestCaseData[];
  /** Modelled cycles of the worker's CPU from its first step to its last (t->stop - t->start). */
  start: number;
  stop: number;
}

export interface TestVmallocResult {
  params: TestVmallocParams;
  drivers: TestDriver[];
  /** The report, as printed. */
  lines: string[];
}

function shuffle_array(arr: number[], rnd: RndState): void {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = prandom_u32_below(rnd, i); // Linux's get_random_u32_below(i): never i itself
    const x = arr[i];
    arr[i] = arr[j];
    arr[j] = x;
  }
}

/**
 * do_concurrent_test() on a booted kernel (vmalloc_init() done): run the
 * selected cases on nr_threads interleaved workers and report.
 */
export function run_test_vmalloc(k: Kernel, params: Partial<TestVmallocParams> = {}): TestVmallocResult {
  const p: TestVmallocParams = { ...TEST_VMALLOC_DEFAULTS, ...params };
  // init_test_configuration()
  p.nr_threads = Math.min(Math.max(p.nr_threads, 1), 65535);
  if (p.test_repeat_count <= 0) p.test_repeat_count = 1;
  if (p.test_loop_count <= 0) p.test_loop_count = 1;
  const m = k.machine;
  const rnd = new RndState(k.params.seed);
  const ctx: TestCtx = { p, rnd };
  const ncase = test_case_array.length;

  interface Worker {
    drv: TestDriver;
    /** The case now running (-1 before the first and after the last). */
    cur: number;
    done: boolean;
    host_ns: Float64Array;
    cyc: Float64Array;
  }

  /** test_func(): one worker's cases in its (shuffled) order, each test_repeat_count times. */
  function* test_func(worker: Worker, order: readonly number[]): Generator<void, void, void> {
    for (const index of order) {
      if (!((p.run_test_mask >>> index) & 1)) continue;
      worker.cur = index;
      yield; // so that the step which starts this case is billed to it
      for (let j = 0; j < p.test_repeat_count; j++) {
        const ret = yield* test_case_array[index].test_func(ctx);
        const d = worker.drv.data[index];
        if (!ret && !test_case_array[index].xfail) d.test_passed++;
        else if (ret && test_case_array[index].xfail) d.test_xfailed++;
        else d.test_failed++;
      }
    }
    worker.cur = -1;
  }

  const workers: Worker[] = [];
  const gens: Generator<void, void, void>[] = [];
  for (let w = 0; w < p.nr_threads; w++) {
    const drv: TestDriver = {
      cpu: w % m.nr_cpus,
      data: test_case_array.map(() => ({ test_passed: 0, test_failed: 0, test_xfailed: 0, time: 0, cycles: 0 })),
      start: 0,
      stop: 0,
    };
    const order = test_case_array.map((_, i) => i);
    if (!p.sequential_test_order) shuffle_array(order, rnd);
    const worker: Worker = { drv, cur: -1, done: false, host_ns: new Float64Array(ncase), cyc: new Float64Array(ncase) };
    workers.push(worker);
    gens.push(test_func(worker, order));
  }

  // The workers run one step (one loop iteration) at a time, round robin.
  const saved_cpu = m.current;
  for (const w of workers) w.drv.start = m.cpus[w.drv.cpu].clock;
  let live = workers.length;
  while (live > 0) {
    for (let i = 0; i < workers.length; i++) {
      const w = workers[i];
      if (w.done) continue;
      m.current = w.drv.cpu;
      const cpu = m.cpus[w.drv.cpu];
      const c0 = cpu.clock;
      const t0 = process.hrtime.bigint();
      const before = w.cur;
      const r = gens[i].next();
      const dt = Number(process.hrtime.bigint() - t0);
      const idx = before >= 0 ? before : w.cur;
      if (idx >= 0) {
        w.host_ns[idx] += dt;
        w.cyc[idx] += cpu.clock - c0;
      }
      if (r.done) {
        w.done = true;
        w.drv.stop = cpu.clock;
        live--;
      }
    }
  }
  m.current = saved_cpu;

  const lines: string[] = [];
  const mhz = k.costs.cpu_mhz;
  for (const w of workers) {
    for (let j = 0; j < ncase; j++) {
      if (!((p.run_test_mask >>> j) & 1)) continue;
      const d = w.drv.data[j];
      d.time = Math.floor(w.host_ns[j] / 1000 / p.test_repeat_count);
      d.cycles = Math.floor(w.cyc[j] / p.test_repeat_count);
      const name = test_case_array[j].test_name;
      const line = `Summary: ${name} passed: ${d.test_passed} failed: ${d.test_failed} xfailed: ${d.test_xfailed} ` +
        `repeat: ${p.test_repeat_count} loops: ${p.test_loop_count} avg: ${d.time} usec`;
      const modelled = `  modelled: ${name} avg: ${d.cycles} cycles ` +
        `(${Math.floor(cycles_to_ns(k.costs, d.cycles) / 1000)} usec at ${mhz} MHz)`;
      pr_info('%s', line);
      pr_info('%s', modelled);
      lines.push(line, modelled);
    }
    const took = `All test took CPU${w.drv.cpu}=${Math.floor(w.drv.stop - w.drv.start)} cycles`;
    pr_info('%s', took);
    lines.push(took);
  }
  return { params: p, drivers: workers.map((w) => w.drv), lines };
}

const PARAM_NAMES = Object.keys(TEST_VMALLOC_DEFAULTS) as (keyof TestVmallocParams)[];

function parse_int(s: string): number {
  const v = Number(s);
  if (!Number.isInteger(v)) throw new RangeError(`test_vmalloc: not an integer: '${s}'`);
  return v;
}

/**
 * Command line: module parameters as name=value; anything else is a boot
 * argument. Boots, runs, prints the report, shuts down. Returns the result.
 */
export function main(args: readonly string[] = process.argv.slice(2)): TestVmallocResult {
  const params: Partial<TestVmallocParams> = {};
  const boot: string[] = [];
  for (const a of args) {
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const value = eq < 0 ? '' : a.slice(eq + 1);
    if ((PARAM_NAMES as string[]).includes(name)) {
      const key = name as keyof TestVmallocParams;
      if (key === 'sequential_test_order' || key === 'use_huge') params[key] = value === '' || value === '1' || value === 'y' || value === 'true';
      else params[key] = parse_int(value);
    } else {
      boot.push(a);
    }
  }
  const threads = Math.max(params.nr_threads ?? 0, 1);
  if (!boot.some((a) => a.startsWith('mem='))) boot.unshift('mem=1G');
  if (!boot.some((a) => a.startsWith('cpus='))) boot.push(`cpus=${Math.min(Math.max(threads, 2), 64)}`);
  const k = start_kernel(boot.join(' '));
  if (!vmap_state.vmap_initialized) vmalloc_init({ debug_vm: k.params.debug_vm, seed: k.params.seed });
  const r = run_test_vmalloc(k, params);
  for (const l of r.lines) console.log(l);
  const sd = vmalloc_shutdown();
  if (sd.busy_areas) pr_err('test_vmalloc: %d vmap areas still busy at the end', sd.busy_areas);
  k.shutdown();
  return r;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
