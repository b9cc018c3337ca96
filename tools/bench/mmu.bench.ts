/*
 * tools/bench/mmu.bench.ts - host cost of simulated address translation.
 *
 * Translations per second on TLB hits and on misses (full 4-level walks),
 * and 32-bit loads through the MMU, each against random Uint32Array reads over
 * the same working set in the same run. Target (issue: Foundation): a
 * TLB-hit translation costs at most 4x a raw typed-array read.
 * The four loops are timed in turns, each turn after an untimed run of the
 * same loop (harness.ts ns_per_op_interleaved): a background compile then
 * slows every side alike, and each timed run starts with its own working
 * set warm. (Timed one after another, a process would now and then settle
 * with translate 50% slower and the ratio above 4.)
 */
import type { Machine } from '../../arch/x86/hw/smp.ts';
import { _PAGE_PRESENT, _PAGE_RW, _PAGE_GLOBAL } from '../../arch/x86/include/asm/pgtable_types.ts';
import { test_machine } from '../testing/pt_builder.ts';
import { RndState, prandom_u32_below } from '../../lib/prandom.ts';
import { ns_per_op_interleaved, print_rows, consume, type BenchRow } from './harness.ts';
import { fileURLToPath } from 'node:url';

const BASE = 0x888000000000;

/** Map `pages` 4 KiB global pages at BASE, on CPU 0 with PCID 1. */
function build(pages: number): Machine {
  const { m, pt, pgd } = test_machine({ mem: 1 << 30, pcid: 1 });
  const data = pt.next_frame + 1024; // above every table the builder will allocate
  for (let i = 0; i < pages; i++) pt.map(pgd, BASE + i * 4096, (data + i) * 4096, _PAGE_PRESENT | _PAGE_RW | _PAGE_GLOBAL);
  return m;
}

export function main(): BenchRow[] {
  const N = 1 << 20;
  const rnd = new RndState(1);
  const rows: BenchRow[] = [];

  for (const [label, pages] of [['TLB hit (256 pages, 1 MiB)', 256], ['TLB miss (65536 pages, 256 MiB)', 65536]] as const) {
    const m = build(pages);
    const cpu = m.cpus[0];
    const words = pages * 1024;
    const idx = new Int32Array(N);
    for (let i = 0; i < N; i++) idx[i] = prandom_u32_below(rnd, words);
    const vas = new Float64Array(N);
    for (let i = 0; i < N; i++) vas[i] = BASE + idx[i] * 4;
    const raw = new Uint32Array(words).map((_, i) => i);
    const base_fn = (): void => {
      let s = 0;
      for (let i = 0; i < N; i++) s += raw[idx[i]];
      consume(s);
    };
    // The same reads addressed by the same VA array the MMU gets: equal input work.
    const base_va_fn = (): void => {
      let s = 0;
      for (let i = 0; i < N; i++) s += raw[((vas[i] - BASE) / 4) | 0];
      consume(s);
    };
    const tr_fn = (): void => {
      let s = 0;
      for (let i = 0; i < N; i++) s += cpu.translate(vas[i]);
      consume(s);
    };
    const ld_fn = (): void => {
      let s = 0;
      for (let i = 0; i < N; i++) s += cpu.load32(vas[i]);
      consume(s);
    };
    const [base, base_va, tr, ld] = ns_per_op_interleaved([base_fn, base_va_fn, tr_fn, ld_fn], N);
    rows.push({ name: `raw read by VA, ${label}`, ns_per_op: base_va, baseline_ns: base, ratio: base_va / base });
    rows.push({ name: `translate, ${label}`, ns_per_op: tr, baseline_ns: base, ratio: tr / base,
      target: pages === 256 ? `target <= 4x; ${(tr / base_va).toFixed(2)}x the by-VA read` : undefined });
    rows.push({ name: `load32, ${label}`, ns_per_op: ld, baseline_ns: base, ratio: ld / base,
      target: `${(ld / base_va).toFixed(2)}x the by-VA read` });
  }
  print_rows('mmu: simulated translation vs random Uint32Array reads (by index) over the same working set', rows);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
