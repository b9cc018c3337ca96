/*
 * tools/bench/fio.bench.ts - host time per simulated fio read.
 *
 * No Linux counterpart. Runs the seed's fio job (randread, 4 KiB, tmpfs,
 * --size=1G by default; FIO_BENCH_SIZE=256M or an argument for another)
 * through tools/fio and times the I/O phase alone (the jobs' start to
 * their end, the file layout left out) per read, against raw random
 * 4 KiB TypedArray copies over a buffer of the same size, measured in the
 * same run just before (non-allocating copies: copyWithin). Goal (issues
 * 16 and 19): a simulated read at 0.4 of the raw copy rate or better,
 * printed with whether this run met it.
 */
import { fileURLToPath } from 'node:url';
import { run_fio } from '../fio/fio.ts';
import { printk_state } from '../../kernel/printk.ts';
import { parse_size } from '../fio/options.ts';
import { print_rows, consume, type BenchRow } from './harness.ts';
import { Taus88 } from '../fio/rand.ts';

const BS = 4096;

/**
 * Best ns per raw random 4 KiB copy out of a `bytes`-sized buffer. The
 * copy allocates nothing: the destination page sits after the data in the
 * same buffer and each copy is one copyWithin (a subarray view per copy
 * would put an allocation on the raw side only).
 */
function raw_random_copy_ns(bytes: number, n: number): number {
  const buf = new Uint8Array(bytes + BS);
  for (let i = 0; i < bytes; i += BS) buf[i] = i >>> 12; // touch every page so the host backs it
  const dst = bytes;
  const blocks = bytes / BS;
  let best = Infinity;
  for (let r = 0; r < 4; r++) {
    const st = new Taus88(r + 1);
    const t0 = process.hrtime.bigint();
    let s = 0;
    for (let i = 0; i < n; i++) {
      const off = Math.floor(blocks * (st.next() / 4294967296)) * BS;
      buf.copyWithin(dst, off, off + BS);
      s += buf[dst + (i & 4095)];
    }
    consume(s);
    const dt = Number(process.hrtime.bigint() - t0);
    if (r > 0) best = Math.min(best, dt);
  }
  return best / n;
}

export function main(): BenchRow[] {
  printk_state.console_loglevel = 0;
  const size_arg = process.argv[2] ?? process.env.FIO_BENCH_SIZE ?? '1G';
  const size = parse_size(size_arg, 'size');
  const raw = raw_random_copy_ns(size, Math.min(size / BS, 262144));
  let t_start = 0n;
  let t_end = 0n;
  const wall0 = process.hrtime.bigint();
  const r = run_fio(['--name=randread_tmpfs', '--rw=randread', `--size=${size_arg}`, '--blocksize=4K', '--directory=/tmp',
    '--output-format=json'], {
    env: {},
    on_phase: (p) => {
      if (p === 'io_start') t_start = process.hrtime.bigint();
      else t_end = process.hrtime.bigint();
    },
  });
  const wall = Number(process.hrtime.bigint() - wall0) / 1e9;
  if (r.status !== 0) throw new Error(`fio.bench: fio failed: ${r.stderr}`);
  const ios = JSON.parse(r.stdout).jobs[0].read.total_ios as number;
  const ns = Number(t_end - t_start) / ios;
  const rows: BenchRow[] = [
    { name: `raw random 4 KiB copy over ${size_arg}`, ns_per_op: raw, baseline_ns: raw, ratio: 1 },
    { name: `fio randread 4 KiB, --size=${size_arg} (I/O phase)`, ns_per_op: ns, baseline_ns: raw, ratio: ns / raw,
      target: `${(raw / ns).toFixed(3)} of the raw copy rate; goal >= 0.4: ${raw / ns >= 0.4 ? 'met' : 'NOT met'}; whole run ${wall.toFixed(1)} s` },
  ];
  print_rows('fio: host time per simulated 4 KiB random read vs raw random 4 KiB copies', rows);
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
