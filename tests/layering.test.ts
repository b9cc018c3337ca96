/*
 * tests/layering.test.ts - the import graph keeps DESIGN.md's layers.
 *
 * No Linux counterpart (Linux's header discipline is enforced by the C
 * compiler and by review). The test reads every .ts file of the repository
 * and scans its import and export-from statements with a regex: a
 * statement that brings in types only (`import type`, or braces whose
 * every name is `type X`) costs nothing at runtime and is left out of the
 * graph, as madge's skipTypeImports does. On that graph it checks that
 *  - no runtime import cycle exists (a cycle makes module initialisation
 *    order-dependent: a binding read before its module ran is undefined);
 *  - nothing under mm/ fs/ kernel/ lib/ include/ imports arch/x86/entry/
 *    at runtime (the entry code calls down into the kernel, never back);
 *  - no file mentions the registration call the static table replaced, and
 *    only arch/x86/entry/syscall_64.ts binds a syscall number to a function.
 * The scanner and the cycle finder are checked first on small inputs with
 * a known answer, so a broken scanner cannot pass the real checks vacuously.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '..'));

/* ---- the scanner ---- */

/** `import ... from 'x'`, `import 'x'`, `export ... from 'x'` at the start of a line. */
const STATEMENT = /^(import|export)\s+(?:([^;'"]*?)\s+from\s+)?['"]([^'"]+)['"]/gm;

/** The specifiers of the statements in `src` that are imported at runtime. */
export function runtime_imports(src: string): string[] {
  const out: string[] = [];
  for (const m of src.matchAll(STATEMENT)) {
    const [, kind, clause = '', spec] = m;
    if (kind === 'export' && clause === '') continue; // not a re-export
    if (/^type\b/.test(clause)) continue; // import type / export type
    const braces = /\{([^}]*)\}/.exec(clause);
    const outside = braces ? clause.replace(braces[0], '').replace(/,/g, '').trim() : clause.trim();
    if (braces && outside === '') {
      const names = braces[1].split(',').map((n) => n.trim()).filter((n) => n !== '');
      if (names.length > 0 && names.every((n) => /^type\s/.test(n))) continue;
    }
    out.push(spec);
  }
  return out;
}

export type Graph = Map<string, string[]>;

/**
 * A cycle of `g` as a list of nodes (first repeated at the end), or null.
 * Depth-first search: an edge to a node still on the stack closes a cycle.
 */
export function find_cycle(g: Graph): string[] | null {
  const state = new Map<string, 1 | 2>(); // 1: on the stack, 2: done
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    state.set(n, 1);
    stack.push(n);
    for (const m of g.get(n) ?? []) {
      const s = state.get(m);
      if (s === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (s === undefined) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return null;
  };
  for (const n of [...g.keys()].sort()) {
    if (state.has(n)) continue;
    const c = visit(n);
    if (c) return c;
  }
  return null;
}

/* ---- the repository ---- */

function files_named(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files_named(p, ext));
    else if (ext.test(name)) out.push(p);
  }
  return out;
}

/** Repository-relative path with forward slashes. */
function rel(p: string): string {
  return relative(ROOT, p).split(sep).join('/');
}

const files = files_named(ROOT, /\.ts$/).map((p) => ({ path: rel(p), src: readFileSync(p, 'utf8') }));
const docs = files_named(ROOT, /\.md$/).map((p) => ({ path: rel(p), src: readFileSync(p, 'utf8') }));

/** The runtime import graph of the repository's own files (packages and node: left out). */
function repo_graph(): Graph {
  const g: Graph = new Map();
  for (const f of files) {
    const edges: string[] = [];
    for (const spec of runtime_imports(f.src)) {
      if (!spec.startsWith('.')) continue;
      edges.push(rel(join(ROOT, dirname(f.path), spec)));
    }
    g.set(f.path, edges);
  }
  return g;
}

const KERNEL_DIRS = ['mm/', 'fs/', 'kernel/', 'lib/', 'include/'];

/* No kernel file imports arch/x86/entry/ at runtime: the machine runs the loop (arch/x86/hw/run.ts). */
const ENTRY_IMPORT_EXCEPTIONS = new Set<string>();

/** The name of the boot-time registration call the static table replaced. */
const REGISTER = ['register', 'syscall'].join('_');

describe('tskernel_layering', () => {
  it('the scanner skips type-only imports and keeps the runtime ones', () => {
    const src = [
      "import type { A } from './a.ts';",
      "import { type B, type C } from './b.ts';",
      "import { type D, e } from './c.ts';",
      "import * as f from './d.ts';",
      "import g from './e.ts';",
      "import {\n  h,\n  type I,\n} from './f.ts';",
      "import './g.ts';",
      "export type { J } from './h.ts';",
      "export { k } from './i.ts';",
      "export * from './j.ts';",
      "export const l = 1;",
      " * import { m } from './in_a_comment.ts';",
    ].join('\n');
    expect(runtime_imports(src)).toEqual(['./c.ts', './d.ts', './e.ts', './f.ts', './g.ts', './i.ts', './j.ts']);
  });

  it('the cycle finder finds a seeded cycle and passes a DAG', () => {
    const dag: Graph = new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]]);
    expect(find_cycle(dag)).toBeNull();
    const seeded: Graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a', 'd']], ['d', []]]);
    expect(find_cycle(seeded)).toEqual(['a', 'b', 'c', 'a']);
    expect(find_cycle(new Map([['x', ['x']]]))).toEqual(['x', 'x']);
  });

  it('the scan sees the tree: mm/memory.ts imports mm/page_alloc.ts at runtime', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(repo_graph().get('mm/memory.ts')).toContain('mm/page_alloc.ts');
  });

  it('no runtime import cycle', () => {
    expect(find_cycle(repo_graph())).toBeNull();
  });

  it('nothing under mm/ fs/ kernel/ lib/ include/ imports arch/x86/entry/ at runtime', () => {
    const bad: string[] = [];
    for (const [file, edges] of repo_graph()) {
      if (!KERNEL_DIRS.some((d) => file.startsWith(d)) || ENTRY_IMPORT_EXCEPTIONS.has(file)) continue;
      for (const e of edges) if (e.startsWith('arch/x86/entry/')) bad.push(`${file} -> ${e}`);
    }
    expect(bad).toEqual([]);
  });

  it('no file mentions the old registration call', () => {
    expect([...files, ...docs].filter((f) => f.src.includes(REGISTER)).map((f) => f.path)).toEqual([]);
  });

  it('only arch/x86/entry/syscall_64.ts binds syscall numbers to functions', () => {
    // A table row: [<number>, '<name>', <entry point>].
    const row = /\[\s*\d+\s*,\s*'[a-z0-9_]+'\s*,\s*(?:__x64_)?sys_\w+\s*\]/;
    // A store into the table: sys_call_table[...] = ...
    const store = /sys_call_table\s*\[[^\]]*\]\s*=(?!=)/;
    // The KUnit stub helper may point one slot at a test's function for one boot.
    const STUB = 'tests/fs/helpers.ts';
    const binders = files
      .filter((f) => row.test(f.src) || (store.test(f.src) && f.path !== STUB))
      .map((f) => f.path)
      .filter((p) => p !== 'tests/layering.test.ts');
    expect(binders).toEqual(['arch/x86/entry/syscall_64.ts']);
  });
});
