/*
 * tools/bench/run.ts - `npm run bench`: every host benchmark, one after another.
 *
 * No Linux counterpart. Each *.bench.ts exports main() and prints its own
 * table of ratios against a baseline measured in the same run. Pass names to
 * run a subset: `npm run bench -- mmu rbtree`.
 * Each benchmark runs in a process of its own (a "fork", as JMH calls it):
 * in one shared process the JIT would compile a benchmark's hot functions
 * with the type feedback the benchmarks before it left (the read path after
 * the mmu loops, say), so a table would depend on which ran first.
 */
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort()
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace('.bench.ts', '')));

let failed = 0;
for (const f of files) {
  // The same node and the same TypeScript loader (tsx) this process runs under.
  const r = spawnSync(process.execPath, [...process.execArgv, `${here}/${f}`], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench: ${f} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
    failed++;
  }
}
process.exitCode = failed ? 1 : 0;
