/*
 * tools/testing/asi_oracle_cost.ts - what the isolation oracle costs on
 * the host: the oracle workload (asi_oracle_workload.ts) with the oracle
 * off and on, the median of several runs each.
 *
 * No Linux counterpart. Usage: npx tsx tools/testing/asi_oracle_cost.ts
 * [runs] [cmdline]. Host time is measured around k.run() only (boot and
 * shutdown excluded); the simulated machine is the same either way (the
 * oracle reads tables physically and charges nothing). A second figure,
 * steadier on a busy host, is the time spent inside the oracle's hook
 * calls during one run.
 */
import { start_kernel } from '../../init/main.ts';
import { asi_oracle, asi_oracle_install } from './asi_oracle.ts';
import { asi_oracle_workload } from './asi_oracle_workload.ts';
import { asi_oracle_hook } from '../../arch/x86/mm/asi.ts';

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1];
}

const runs = Number(process.argv[2] ?? 7);
const cmdline = process.argv[3] ?? 'mem=64M cpus=2 asi=on';
const ms: Record<'off' | 'on', number[]> = { off: [], on: [] };
let checks = 0;
let syscalls = 0;
for (let i = 0; i < runs; i++) {
  for (const on of [false, true]) {
    const k = start_kernel(cmdline);
    if (on) asi_oracle_install(k, { force: true });
    asi_oracle_workload(k, { nproc: 4, rounds: 30 });
    const t0 = performance.now();
    k.run();
    ms[on ? 'on' : 'off'].push(performance.now() - t0);
    if (on) checks = asi_oracle.checks;
    syscalls = k.vmstat().asi_enters;
    k.shutdown();
  }
}
const off = median(ms.off);
const on = median(ms.on);
console.log(`${cmdline}: 4 processes x 30 rounds, ${runs} runs each`);
console.log(`oracle off ${off.toFixed(1)} ms, on ${on.toFixed(1)} ms (+${((on / off - 1) * 100).toFixed(0)}%), ` +
  `${checks} checks (${syscalls} asi_enters), ${((on - off) * 1000 / checks).toFixed(1)} us per check`);

/* The time spent inside the oracle itself during one run, timed around each hook call. */
{
  const k = start_kernel(cmdline);
  asi_oracle_install(k, { force: true });
  const check = asi_oracle_hook.fn!;
  let inside = 0;
  asi_oracle_hook.fn = () => {
    const t0 = performance.now();
    check();
    inside += performance.now() - t0;
  };
  asi_oracle_workload(k, { nproc: 4, rounds: 30 });
  const t0 = performance.now();
  k.run();
  const total = performance.now() - t0;
  k.shutdown();
  console.log(`inside the oracle: ${inside.toFixed(1)} of ${total.toFixed(1)} ms (${(inside / total * 100).toFixed(0)}%), ` +
    `${(inside * 1000 / asi_oracle.checks).toFixed(1)} us per check`);
}
