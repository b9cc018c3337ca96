/*
 * tools/compare/sample.ts - one sample of a comparison: boot a variant's
 * kernel, run the fio workload, read what the machine counted.
 *
 * No Linux counterpart (the seed's falba loop boots a kernel per variant
 * and runs fio on it, with bpftrace and perf beside it). A sample is one
 * run_fio() with the variant's kernel command line plus seed=<n>; unless
 * the workload fixes its own randseed=, it also gets --randrepeat=0, so
 * fio seeds its offsets from the kernel's seed (tools/fio/rand.ts) and
 * samples differ the way repeated real runs do. Counters are the change
 * over the I/O phase alone (from the jobs' start to their end, the file
 * layout left out), summed over CPUs: cycles and counts per cost key,
 * the machine's perf events, /proc/vmstat's event counters (its
 * page-state gauges left out) and the ASI page-fault exits by faulting
 * kernel site (the seed's bpftrace histogram). Everything is plain data, so a worker
 * thread can send it back.
 */
import { run_fio } from '../fio/fio.ts';
import type { Kernel } from '../../init/main.ts';
import { COST_KEYS, NR_COST_KEYS } from '../../arch/x86/hw/costs.ts';
import { HW_EVENT_NAMES } from '../../arch/x86/hw/events.ts';
import { run_kbuild_sample } from '../kbuild/sample.ts';
import { trace_start, trace_capture, type TraceRequest, type TraceCapture } from '../lib/trace_out.ts';

export interface SampleTask {
  variant: string;
  /** The variant's kernel command line (without seed=). */
  cmdline: string;
  /** Sample number, from 0; the kernel gets seed=<sample + 1>. */
  sample: number;
  fio_args: string[];
  /** The workload: fio (default) or kbuild (tools/kbuild/sample.ts; fio_args are then kbuild's options). */
  workload?: 'fio' | 'kbuild';
  /** Trace this sample (tools/lib/trace_out.ts); tracing costs no simulated cycles, so its result is unchanged. */
  trace?: TraceRequest;
}

export interface SampleResult {
  variant: string;
  sample: number;
  /** The full kernel command line the sample booted (or tried to). */
  kernel_cmdline: string;
  /** Set when the kernel refused to boot or fio failed. */
  error?: string;
  /** fio's IOPS (jobs[].read.iops + write.iops, summed over reports). */
  fio_iops: number;
  /** I/Os per second of simulated time at full precision: total I/Os over the longest job's I/O span. */
  iops: number;
  /** Mean completion latency over all I/Os, ns. */
  clat_mean_ns: number;
  total_ios: number;
  /** Per cost key: [count, cycles] over the I/O phase. */
  cost: Record<string, [number, number]>;
  /** Machine events (perf names) and vmstat events over the I/O phase. */
  events: Record<string, number>;
  vmstat: Record<string, number>;
  /** ASI page-fault exits by faulting kernel site over the I/O phase (k.asi_exit_sites(); empty with asi=off). */
  exit_sites: Record<string, number>;
  /** Host wall time of the sample, ms (not part of any result; for progress lines). */
  host_ms: number;
  /** What the task's trace request captured. */
  trace?: TraceCapture;
}

/** /proc/vmstat's page-state items (gauges, not events): left out of the deltas. */
const VMSTAT_GAUGE = /^nr_(free_pages|file_pages|shmem|shmem_hugepages|file_hugepages|vmalloc|anon_pages|mapped|page_table_pages|kernel_stack|slab\w*)$/;

interface Snap {
  cost: Float64Array;
  hw: Float64Array;
  vm: Record<string, number>;
  sites: Record<string, number>;
}

function snap(k: Kernel): Snap {
  const cost = new Float64Array(NR_COST_KEYS);
  const hw = new Float64Array(HW_EVENT_NAMES.length);
  for (const c of k.machine.cpus) {
    const ce = c.cost_events;
    for (let i = 0; i < NR_COST_KEYS; i++) cost[i] += ce[i];
    const ev = c.ev;
    for (let i = 0; i < hw.length; i++) hw[i] += ev[i];
  }
  return { cost, hw, vm: k.vmstat(), sites: k.asi_exit_sites() };
}

/** Workload arguments as sampled: --randrepeat=0 unless the workload pins its seed. */
export function sample_fio_args(args: readonly string[]): string[] {
  const pinned = args.some((a) => /^--?(randrepeat|rand_repeatable|randseed)(=|$)/.test(a));
  const out = args.filter((a) => !/^--?output-format(=|$)/.test(a));
  if (!pinned) out.push('--randrepeat=0');
  out.push('--output-format=json');
  return out;
}

export function run_sample(t: SampleTask): SampleResult {
  if (t.workload === 'kbuild') return run_kbuild_sample(t);
  const t0 = performance.now();
  const kernel_cmdline_user = `${t.cmdline} seed=${t.sample + 1}`.trim();
  let a: Snap | null = null;
  let b: Snap | null = null;
  // The sample's cost keys must be read with the profile of the kernel that ran: cycles per key from its CPUs.
  let cycles_per_key: Float64Array | null = null;
  let capture: TraceCapture | undefined;
  const r = run_fio(sample_fio_args(t.fio_args), {
    env: { TSKERNEL_CMDLINE: kernel_cmdline_user },
    on_boot: t.trace ? (k) => trace_start(k, t.trace!) : undefined,
    on_done: t.trace ? (k) => { capture = trace_capture(k, t.trace!); } : undefined,
    on_phase: (p, k) => {
      if (p === 'io_start') a = snap(k);
      else b = snap(k);
      cycles_per_key = k.machine.cpus[0].cost_cycles;
    },
  });
  const out: SampleResult = {
    variant: t.variant, sample: t.sample, kernel_cmdline: r.kernel_cmdline ?? kernel_cmdline_user,
    fio_iops: 0, iops: 0, clat_mean_ns: 0, total_ios: 0, cost: {}, events: {}, vmstat: {}, exit_sites: {}, host_ms: 0,
  };
  if (r.status !== 0 || !r.threads || !a || !b || !cycles_per_key) {
    out.error = r.boot_error ?? (r.stderr.trim().split('\n').pop() || `fio exited ${r.status}`);
    out.host_ms = performance.now() - t0;
    return out;
  }
  const sa: Snap = a;
  const sb: Snap = b;
  const cyc: Float64Array = cycles_per_key;
  const doc = JSON.parse(r.stdout) as { jobs: { read: { iops: number }; write: { iops: number } }[] };
  out.fio_iops = doc.jobs.reduce((s, j) => s + j.read.iops + j.write.iops, 0);
  let ios = 0;
  let clat_sum = 0;
  let span = 0;
  for (const th of r.threads) {
    for (const d of th.dir) {
      ios += d.total_ios;
      clat_sum += d.clat.mean * d.clat.samples;
    }
    span = Math.max(span, th.end_ns - th.start_ns);
  }
  out.total_ios = ios;
  out.clat_mean_ns = ios ? clat_sum / ios : 0;
  out.iops = span > 0 ? (ios * 1e9) / span : 0;
  for (let i = 0; i < NR_COST_KEYS; i++) {
    const n = sb.cost[i] - sa.cost[i];
    if (n !== 0) out.cost[COST_KEYS[i]] = [n, n * cyc[i]];
  }
  HW_EVENT_NAMES.forEach((name, i) => {
    const d = sb.hw[i] - sa.hw[i];
    if (d !== 0) out.events[name] = d;
  });
  for (const [key, v] of Object.entries(sb.vm)) {
    if (VMSTAT_GAUGE.test(key)) continue;
    const d = v - (sa.vm[key] ?? 0);
    if (d !== 0) out.vmstat[key] = d;
  }
  for (const [site, n] of Object.entries(sb.sites)) {
    const d = n - (sa.sites[site] ?? 0);
    if (d !== 0) out.exit_sites[site] = d;
  }
  out.host_ms = performance.now() - t0;
  if (capture) out.trace = capture;
  return out;
}
