/*
 * tools/bench/page_alloc.bench.ts - host cost of the page allocator.
 *
 * No Linux counterpart (page_alloc has no in-tree microbenchmark; this is the
 * order-0 fast path such tools measure). Order-0 alloc_pages + __free_pages
 * pairs per second on a booted 256 MiB allocator, debug_vm off, against a
 * plain JS stack of pfns (pop + push on an Int32Array) measured in the same
 * run: the floor any free-page pool pays. Two patterns: one page taken and
 * given back (the pcp list head, never leaving this CPU's list), and bursts
 * of 256 (refills from and drains to the buddy lists, merging included).
 */
import { fileURLToPath } from 'node:url';
import { start_kernel } from '../../init/main.ts';
import { printk_state } from '../../kernel/printk.ts';
import { alloc_pages, __free_pages } from '../../mm/page_alloc.ts';
import { GFP_KERNEL } from '../../mm/gfp.ts';
import { ns_per_op, print_rows, consume, type BenchRow } from './harness.ts';

export function main(): BenchRow[] {
  printk_state.console_loglevel = 0;
  const k = start_kernel('mem=256M cpus=2');
  const N = 1 << 20;
  const BURST = 256;
  const stack = new Int32Array(65536);
  for (let i = 0; i < stack.length; i++) stack[i] = 256 + i;
  let sp = stack.length;

  const base_pair = ns_per_op(() => {
    let s = 0;
    for (let i = 0; i < N; i++) {
      const p = stack[--sp];
      s += p;
      stack[sp++] = p;
    }
    consume(s);
  }, N);
  const pair = ns_per_op(() => {
    let s = 0;
    for (let i = 0; i < N; i++) {
      const p = alloc_pages(GFP_KERNEL, 0)!;
      s += p;
      __free_pages(p, 0);
    }
    consume(s);
  }, N);

  const held = new Int32Array(BURST);
  const base_burst = ns_per_op(() => {
    let s = 0;
    for (let r = 0; r < N / BURST; r++) {
      for (let i = 0; i < BURST; i++) held[i] = stack[--sp];
      for (let i = BURST - 1; i >= 0; i--) { s += held[i]; stack[sp++] = held[i]; }
    }
    consume(s);
  }, N);
  const burst = ns_per_op(() => {
    let s = 0;
    for (let r = 0; r < N / BURST; r++) {
      for (let i = 0; i < BURST; i++) held[i] = alloc_pages(GFP_KERNEL, 0)!;
      for (let i = BURST - 1; i >= 0; i--) { s += held[i]; __free_pages(held[i], 0); }
    }
    consume(s);
  }, N);

  const leaks = k.shutdown().leaked.length;
  if (leaks) throw new Error(`page_alloc bench leaked ${leaks} pages`);
  const rows: BenchRow[] = [
    { name: 'Int32Array stack pop+push (baseline)', ns_per_op: base_pair, baseline_ns: base_pair, ratio: 1 },
    { name: 'alloc_pages+__free_pages order 0 (pcp)', ns_per_op: pair, baseline_ns: base_pair, ratio: pair / base_pair },
    { name: 'stack, bursts of 256 (baseline)', ns_per_op: base_burst, baseline_ns: base_burst, ratio: 1 },
    { name: 'order 0, bursts of 256 (refill/drain)', ns_per_op: burst, baseline_ns: base_burst, ratio: burst / base_burst },
  ];
  print_rows('page_alloc: order-0 alloc+free pairs vs a JS stack of pfns', rows);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
