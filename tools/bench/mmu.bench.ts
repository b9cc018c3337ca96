/*
 * tools/bench/mmu.bench.ts - host cost of simulated address translation.
 *
 * Translations per second on TLB hits and on misses (full 4-level walks),
 * and 32-bit loads through the MMU, each against random Uint32Array reads over
 * the same working set in the same run. Goals (issue 19): on a TLB hit a
 * translation costs at most 4x a raw typed-array random read, a load32 at
 * most 5x; each row says whether this run met its goal.
 * The data frames are written before timing (each word holds its index, as
 * the raw array does, and the sums are checked equal): a load from RAM that
 * was never written reads no chunk and would understate the cost.
 * The four loops are timed in turns, each turn after an untimed run of the
 * same loop (harness.ts ns_per_op_interleaved): a background compile then
 * slows every side alike, and each timed run starts with its own working
 * set warm. (Timed one after another, a process would now and then settle
 * with translate 50% slower and the ratio above 4.)
 *
 * Also timed, without a goal: whole-page copies through the MMU (the
 * machine's part of every read() of a page-cache page: two translations,
 * the cache model, the byte copy) against raw 4 KiB copyWithin()s over a
 * buffer of the same size, at the same random pages.
 */
import type { Machine } from '../../arch/x86/hw/smp.ts';
import { _PAGE_PRESENT, _PAGE_RW, _PAGE_GLOBAL } from '../../arch/x86/include/asm/pgtable_types.ts';
import { test_machine } from '../testing/pt_builder.ts';
import { RndState, prandom_u32_below } from '../../lib/prandom.ts';
import { ns_per_op_interleaved, print_rows, consume, type BenchRow } from './harness.ts';
import { fileURLToPath } from 'node:url';

const BASE = 0x888000000000;

/** Map `pages` 4 KiB global pages at BASE, and one more after them (a copy's destination), on CPU 0 with PCID 1; word i of the range holds i. */
function build(pages: number): Machine {
  const { m, pt, pgd } = test_machine({ mem: 1 << 30, pcid: 1 });
  const data = pt.next_frame + 1024; // above every table the builder will allocate
  const page = new Uint32Array(1024);
  const bytes = new Uint8Array(page.buffer);
  for (let i = 0; i <= pages; i++) {
    pt.map(pgd, BASE + i * 4096, (data + i) * 4096, _PAGE_PRESENT | _PAGE_RW | _PAGE_GLOBAL);
    for (let k = 0; k < 1024; k++) page[k] = i * 1024 + k;
    m.mem.write_from((data + i) * 4096, bytes);
  }
  return m;
}

/** "goal <= Nx: met" or "NOT met", for a ratio against the raw read. */
function goal(ratio: number, max: number): string {
  return `goal <= ${max}x: ${ratio <= max ? 'met' : 'NOT met'}`;
}

/** 4 KiB copies from random pages of the range to the page after it, through `cpu` and raw. */
function copy_row(cpu: Machine['cpus'][number], pages: number, label: string, rnd: RndState): BenchRow {
  const N = 1 << 16;
  const pidx = new Int32Array(N);
  for (let i = 0; i < N; i++) pidx[i] = prandom_u32_below(rnd, pages);
  const dst = pages * 4096;
  const buf = new Uint8Array((pages + 1) * 4096);
  for (let i = 0; i < buf.length; i += 4096) buf[i] = i >>> 12; // every page backed by the host
  const raw_fn = (): void => {
    let s = 0;
    for (let i = 0; i < N; i++) {
      const o = pidx[i] * 4096;
      buf.copyWithin(dst, o, o + 4096);
      s += buf[dst + (i & 4095)];
    }
    consume(s);
  };
  const sim_fn = (): void => {
    let s = 0;
    for (let i = 0; i < N; i++) s += cpu.copy(BASE + dst, BASE + pidx[i] * 4096, 4096); // bytes not copied: 0
    consume(s);
  };
  const [raw, sim] = ns_per_op_interleaved([raw_fn, sim_fn], N);
  return { name: `copy 4 KiB, ${label}`, ns_per_op: sim, baseline_ns: raw, ratio: sim / raw,
    target: 'vs raw 4 KiB copyWithin' };
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
    // The loads must read the data the raw reads do, or the comparison is not like for like.
    let want = 0, got = 0;
    for (let i = 0; i < 4096; i++) {
      want += raw[idx[i]];
      got += cpu.load32(vas[i]);
    }
    if (want !== got) throw new Error(`mmu bench: load32 read ${got}, the raw array ${want}: data frames not written`);
    const [base, base_va, tr, ld] = ns_per_op_interleaved([base_fn, base_va_fn, tr_fn, ld_fn], N);
    rows.push({ name: `raw read by VA, ${label}`, ns_per_op: base_va, baseline_ns: base, ratio: base_va / base });
    const hit = pages === 256;
    rows.push({ name: `translate, ${label}`, ns_per_op: tr, baseline_ns: base, ratio: tr / base,
      target: `${hit ? `${goal(tr / base, 4)}; ` : ''}${(tr / base_va).toFixed(2)}x the by-VA read` });
    rows.push({ name: `load32, ${label}`, ns_per_op: ld, baseline_ns: base, ratio: ld / base,
      target: `${hit ? `${goal(ld / base, 5)}; ` : ''}${(ld / base_va).toFixed(2)}x the by-VA read` });
    rows.push(copy_row(cpu, pages, label, rnd));
  }
  print_rows('mmu: simulated translation vs random Uint32Array reads (by index) over the same working set', rows);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
