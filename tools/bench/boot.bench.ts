/*
 * tools/bench/boot.bench.ts - host cost of booting and shutting down a big machine.
 *
 * No Linux counterpart. start_kernel('mem=64G cpus=64') and its shutdown(),
 * timed in wall-clock milliseconds (median of 5), with the host RSS the
 * boot added and the mem_map sections it allocated. Goals (issue 19): the
 * boot takes under a second and grows the host by under 64 MiB before any
 * page is touched; each row says whether this run met its goal. Against a
 * baseline of booting mem=64M cpus=1 in the same run: the ratio shows what
 * the 1024x larger, 64x wider machine costs on top of a boot's fixed part.
 * Tests check the RSS and the struct pages boot writes (tests/mm/
 * mm_types_sparse.test.ts), never the time: the time lives here.
 */
import { fileURLToPath } from 'node:url';
import { start_kernel } from '../../init/main.ts';
import { printk_state } from '../../kernel/printk.ts';
import { mem_map } from '../../mm/mm_types.ts';
import { print_rows, type BenchRow } from './harness.ts';

const MiB = 2 ** 20;

function rss(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
  return process.memoryUsage().rss;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Boot and shut down `cmdline` `runs` times: median boot ms, median shutdown ms, last boot's RSS growth. */
function measure(cmdline: string, runs: number): { boot: number; down: number; rss: number; sections: number } {
  const boot: number[] = [];
  const down: number[] = [];
  let grown = 0;
  let sections = 0;
  for (let r = 0; r < runs; r++) {
    const before = rss();
    const t0 = process.hrtime.bigint();
    const k = start_kernel(cmdline);
    const t1 = process.hrtime.bigint();
    grown = rss() - before;
    sections = mem_map.nr_sections_present;
    const t2 = process.hrtime.bigint();
    k.shutdown();
    const t3 = process.hrtime.bigint();
    boot.push(Number(t1 - t0) / 1e6);
    down.push(Number(t3 - t2) / 1e6);
  }
  return { boot: median(boot), down: median(down), rss: grown, sections };
}

export function main(): BenchRow[] {
  printk_state.console_loglevel = 0;
  measure('mem=64M cpus=1', 2); // warm up: the JIT compiles boot's loops
  const small = measure('mem=64M cpus=1', 5);
  const big = measure('mem=64G cpus=64', 5);
  const ms = (x: number): number => x * 1e6; // print_rows takes ns
  const rows: BenchRow[] = [
    { name: 'boot mem=64G cpus=64', ns_per_op: ms(big.boot), baseline_ns: ms(small.boot), ratio: big.boot / small.boot,
      target: `goal < 1000 ms: ${big.boot < 1000 ? 'met' : 'NOT met'}; ${big.boot.toFixed(0)} ms` },
    { name: 'shutdown mem=64G cpus=64', ns_per_op: ms(big.down), baseline_ns: ms(small.down), ratio: big.down / small.down,
      target: `${big.down.toFixed(0)} ms` },
  ];
  print_rows('boot: start_kernel and shutdown, median of 5 (baseline: mem=64M cpus=1)', rows);
  console.log(`  host RSS grown by boot, mem=64G cpus=64: ${(big.rss / MiB).toFixed(1)} MiB ` +
    `(goal < 64 MiB: ${big.rss < 64 * MiB ? 'met' : 'NOT met'}${(globalThis as { gc?: unknown }).gc ? '' : '; no --expose-gc, garbage included'}); ` +
    `mem_map sections allocated: ${big.sections} of ${64 * 1024 / 4}`);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
