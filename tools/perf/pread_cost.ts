/*
 * tools/perf/pread_cost.ts - what one 4 KiB tmpfs pread costs, by cost key.
 *
 * No Linux counterpart (the nearest is `perf stat -e` over a fio run plus a
 * per-symbol profile). A user process lays out a tmpfs file with write(),
 * then times preads from syscall entry to return, twice:
 *   hot:  the same page again and again (page, buffer and tables cached);
 *   cold: pages chosen at random over the whole file, as the seed's fio job
 *         (--rw=randread --size=1G --bs=4K) reads them.
 * For each it prints the modelled cycles and ns per pread and the breakdown
 * by cost key (count and cycles per pread, from the CPU's per-key counters),
 * and checks that the breakdown adds up to the clock's advance.
 *
 *   npx tsx tools/perf/pread_cost.ts [size_mib=1024] [reads=4096] [extra kernel parameters...]
 */
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../include/nolibc.ts';
import { O_RDWR, O_CREAT } from '../../include/uapi/asm-generic/fcntl.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../include/uapi/linux/mman.ts';
import { COST_KEYS, NR_COST_KEYS, cycles_to_ns } from '../../arch/x86/hw/costs.ts';
import { RndState, prandom_u32_below } from '../../lib/prandom.ts';

const PAGE = 4096;
const CHUNK = 64 * PAGE; // write() size while laying out the file

export interface PreadCost {
  name: string;
  reads: number;
  /** Clock advance per pread. */
  cycles: number;
  ns: number;
  /** Per key: charges and cycles per pread, largest first. */
  rows: { key: string; count: number; cycles: number }[];
}

/** Run both phases on a fresh cpus=1 kernel; `extra` are more kernel parameters. */
export function pread_cost(size_mib = 1024, reads = 4096, extra = ''): PreadCost[] {
  const pages = (size_mib * 2 ** 20) / PAGE;
  const mem = Math.max(256, 2 * size_mib + 256);
  const k = start_kernel(`mem=${mem}M cpus=1 ${extra}`);
  const cpu = k.machine.cpus[0];
  const out: PreadCost[] = [];
  k.spawn('pread_cost', function* (u: Nolibc) {
    const buf = yield* u.mmap(0, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    u.poke(buf, new Uint8Array(CHUNK).fill(0x5a));
    const fd = yield* u.open('/pread_cost', O_RDWR | O_CREAT, 0o644);
    for (let off = 0; off < pages * PAGE; off += CHUNK)
      if ((yield* u.write(fd, buf, Math.min(CHUNK, pages * PAGE - off))) <= 0) return 1;
    // Hot: one page, warmed first.
    const hot = (pages >> 1) * PAGE;
    yield* u.pread64(fd, buf, PAGE, hot);
    let t0 = { ev: Float64Array.from(cpu.cost_events), clock: cpu.clock };
    for (let i = 0; i < reads; i++) if ((yield* u.pread64(fd, buf, PAGE, hot)) !== PAGE) return 2;
    let t1 = { ev: Float64Array.from(cpu.cost_events), clock: cpu.clock };
    record('hot (same page)', t0, t1, reads);
    // Cold: random pages over the file, the seed's randread.
    const rnd = new RndState(1);
    t0 = { ev: Float64Array.from(cpu.cost_events), clock: cpu.clock };
    for (let i = 0; i < reads; i++)
      if ((yield* u.pread64(fd, buf, PAGE, prandom_u32_below(rnd, pages) * PAGE)) !== PAGE) return 3;
    t1 = { ev: Float64Array.from(cpu.cost_events), clock: cpu.clock };
    record(`cold (random over ${size_mib} MiB)`, t0, t1, reads);
    return 0;
  });
  /* The phases are delimited inside the program by snapshots of the per-key counters and the clock. */
  const snaps: { name: string; a: { ev: Float64Array; clock: number }; b: { ev: Float64Array; clock: number }; n: number }[] = [];
  function record(name: string, a: { ev: Float64Array; clock: number }, b: { ev: Float64Array; clock: number }, n: number): void {
    snaps.push({ name, a, b, n });
  }
  const res = k.run();
  if (res.exited[0]?.status !== 0) throw new Error(`pread_cost: the program failed (${res.exited[0]?.status})`);
  for (const s of snaps) measure_between(s.name, s.a, s.b, s.n);
  k.shutdown();
  return out;

  function measure_between(name: string, a: { ev: Float64Array; clock: number }, b: { ev: Float64Array; clock: number }, n: number): void {
    const dc = b.clock - a.clock;
    const rows = [];
    let sum = 0;
    for (let i = 0; i < NR_COST_KEYS; i++) {
      const d = b.ev[i] - a.ev[i];
      if (d === 0) continue;
      const cyc = d * cpu.cost_cycles[i];
      sum += cyc;
      rows.push({ key: COST_KEYS[i], count: d / n, cycles: cyc / n });
    }
    if (Math.abs(sum - dc) > 1e-6 * Math.max(1, dc))
      throw new Error(`${name}: breakdown ${sum} != clock advance ${dc}`);
    rows.sort((x, y) => y.cycles - x.cycles);
    out.push({ name, reads: n, cycles: dc / n, ns: cycles_to_ns(k.costs, dc / n), rows });
  }
}

export function format_pread_cost(r: PreadCost): string {
  const lines = [`${r.name}: ${r.cycles.toFixed(1)} cycles = ${r.ns.toFixed(1)} ns per pread (${r.reads} reads)`,
    `  ${'cost key'.padEnd(22)} ${'count/read'.padStart(11)} ${'cycles/read'.padStart(12)} ${'share'.padStart(7)}`];
  for (const row of r.rows)
    lines.push(`  ${row.key.padEnd(22)} ${row.count.toFixed(2).padStart(11)} ${row.cycles.toFixed(1).padStart(12)} ${((100 * row.cycles) / r.cycles).toFixed(1).padStart(6)}%`);
  lines.push(`  ${'total'.padEnd(22)} ${''.padStart(11)} ${r.rows.reduce((s, x) => s + x.cycles, 0).toFixed(1).padStart(12)}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [size, reads, ...extra] = process.argv.slice(2);
  for (const r of pread_cost(size ? Number(size) : 1024, reads ? Number(reads) : 4096, extra.join(' ')))
    console.log(format_pread_cost(r) + '\n');
}
