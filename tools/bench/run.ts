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
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort()
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace('.bench.ts', '')));

/**
 * Run one benchmark file; resolves to an error message or null. Its output
 * is passed through as it comes; a file that printed nothing (a missing
 * self-run guard: importing it runs nothing) counts as failed.
 */
function run_bench(f: string): Promise<string | null> {
  return new Promise((resolve) => {
    // The same node and the same TypeScript loader (tsx) this process runs under.
    const child = spawn(process.execPath, [...process.execArgv, `${here}/${f}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let printed = false;
    child.stdout.on('data', (chunk: Buffer) => {
      printed = true;
      process.stdout.write(chunk);
    });
    child.on('error', (e) => resolve(e.message));
    child.on('close', (code, signal) => {
      if (code !== 0) resolve(`exit ${code ?? signal}`);
      else resolve(printed ? null : 'printed nothing: no self-run guard?');
    });
  });
}

let failed = 0;
for (const f of files) {
  const err = await run_bench(f);
  if (err !== null) {
    console.error(`bench: ${f} failed (${err})`);
    failed++;
  }
}
process.exitCode = failed ? 1 : 0;
