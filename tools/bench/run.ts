/*
 * tools/bench/run.ts - `npm run bench`: every host benchmark, one after another.
 *
 * No Linux counterpart. Each *.bench.ts exports main() and prints its own
 * table of ratios against a baseline measured in the same run. Pass names to
 * run a subset: `npm run bench -- mmu rbtree`.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort()
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace('.bench.ts', '')));

for (const f of files) {
  const mod = (await import(pathToFileURL(`${here}/${f}`).href)) as { main?: () => unknown };
  if (typeof mod.main !== 'function') throw new Error(`${f} exports no main()`);
  await mod.main();
}
