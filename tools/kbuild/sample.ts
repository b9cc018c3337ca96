/*
 * tools/kbuild/sample.ts - one kbuild sample for tools/compare.
 *
 * No Linux counterpart. tools/compare runs samples of a workload on each
 * variant; with --workload=kbuild a sample is one build (tools/kbuild/
 * kbuild.ts) on a kernel booted with the variant's command line and
 * seed=<sample + 1> (the tree's sizes are drawn from the same seed), read
 * as compare reads an fio sample: an "I/O" is a compile unit, "IOPS" is
 * units per second of modelled build time and the completion latency is
 * the build's elapsed time; cost keys, machine events, vmstat events and
 * ASI exit sites are the change over the build phase alone.
 */
import type { Kernel } from '../../init/main.ts';
import { COST_KEYS, NR_COST_KEYS } from '../../arch/x86/hw/costs.ts';
import { HW_EVENT_NAMES } from '../../arch/x86/hw/events.ts';
import type { SampleTask, SampleResult } from '../compare/sample.ts';
import { run_kbuild, parse_kbuild_args } from './kbuild.ts';

interface Counters {
  cost: Float64Array;
  hw: Float64Array;
}

function counters(k: Kernel): Counters {
  const cost = new Float64Array(NR_COST_KEYS);
  const hw = new Float64Array(HW_EVENT_NAMES.length);
  for (const c of k.machine.cpus) {
    for (let i = 0; i < NR_COST_KEYS; i++) cost[i] += c.cost_events[i];
    for (let i = 0; i < hw.length; i++) hw[i] += c.ev[i];
  }
  return { cost, hw };
}

export function run_kbuild_sample(t: SampleTask): SampleResult {
  const t0 = performance.now();
  const out: SampleResult = {
    variant: t.variant, sample: t.sample, kernel_cmdline: `${t.cmdline} seed=${t.sample + 1}`.trim(),
    fio_iops: 0, iops: 0, clat_mean_ns: 0, total_ios: 0, cost: {}, events: {}, vmstat: {}, exit_sites: {}, host_ms: 0,
  };
  let args: ReturnType<typeof parse_kbuild_args>;
  try {
    args = parse_kbuild_args(t.fio_args);
  } catch (e) {
    out.error = (e as Error).message;
    return out;
  }
  let a: Counters | null = null;
  let b: Counters | null = null;
  let cyc: Float64Array | null = null;
  const r = run_kbuild({ name: t.variant, cmdline: out.kernel_cmdline }, { ...args.o, seed: t.sample + 1 }, (phase, k) => {
    if (phase === 'build_start') a = counters(k);
    else {
      b = counters(k);
      cyc = k.machine.cpus[0].cost_cycles;
    }
  });
  out.host_ms = performance.now() - t0;
  if (r.error || !a || !b || !cyc) {
    out.error = r.error ?? 'kbuild: no build phase';
    return out;
  }
  const sa: Counters = a;
  const sb: Counters = b;
  const per: Float64Array = cyc;
  out.total_ios = r.built;
  out.clat_mean_ns = r.elapsed_ns;
  out.iops = r.elapsed_ns > 0 ? (r.built * 1e9) / r.elapsed_ns : 0;
  out.fio_iops = out.iops;
  for (let i = 0; i < NR_COST_KEYS; i++) {
    const n = sb.cost[i] - sa.cost[i];
    if (n !== 0) out.cost[COST_KEYS[i]] = [n, n * per[i]];
  }
  HW_EVENT_NAMES.forEach((name, i) => {
    const d = sb.hw[i] - sa.hw[i];
    if (d !== 0) out.events[name] = d;
  });
  out.vmstat = r.vmstat;
  out.exit_sites = r.exit_sites;
  return out;
}
