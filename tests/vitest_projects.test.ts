/*
 * tests/vitest_projects.test.ts - the files that cannot share a worker
 * process are listed where vitest.config.ts isolates them.
 *
 * No Linux counterpart (KUnit runs in one kernel; here each vitest worker
 * keeps one kernel's modules across the files it runs). A test file that
 * declares trace events of its own replaces the kernel's in the event
 * registry for every later file of its worker, and a file that boots only
 * part of a kernel relies on the state of the subsystems it leaves out, so
 * both must be in FRESH;
 * a file that measures the process's memory must be in RSS, to run in a
 * process of its own; a listed file that no longer exists means a renamed
 * file now runs shared.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FRESH, RSS } from '../vitest.config.ts';

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '..'));

function test_files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...test_files(p));
    else if (name.endsWith('.test.ts')) out.push(relative(ROOT, p).split(sep).join('/'));
  }
  return out;
}

/** Whether a line of code (not a comment) calls one of the event-declaring macros. */
export function declares_trace_events(src: string): boolean {
  return src.split('\n').some((l) => /\b(DEFINE_EVENT|DEFINE_SPAN|TRACE_EVENT)\s*[<(]/.test(l) && !/^\s*(\*|\/\/)/.test(l));
}

describe('vitest_projects', () => {
  it('recognises an event declaration and ignores a comment naming one', () => {
    expect(declares_trace_events("const t = DEFINE_EVENT<{ a: number }>('x', 'y', () => '');")).toBe(true);
    expect(declares_trace_events("const s = DEFINE_SPAN('syscalls', 'sys_span');")).toBe(true);
    expect(declares_trace_events(' * DEFINE_EVENT(...) is how the kernel declares one')).toBe(false);
    expect(declares_trace_events('import { DEFINE_EVENT } from "../trace.ts";')).toBe(false);
  });

  it('every test file declaring trace events runs on a fresh module graph', () => {
    const self = relative(ROOT, fileURLToPath(import.meta.url)).split(sep).join('/'); // its examples above
    const files = test_files(join(ROOT, 'tests')).filter((f) => f !== self);
    expect(files.length).toBeGreaterThan(50);
    const declaring = files.filter((f) => declares_trace_events(readFileSync(join(ROOT, f), 'utf8')));
    expect(declaring.length).toBeGreaterThan(0);
    expect(declaring.filter((f) => !FRESH.includes(f))).toEqual([]);
  });

  it('every test file measuring the process\'s memory runs first, one per worker', () => {
    const self = relative(ROOT, fileURLToPath(import.meta.url)).split(sep).join('/');
    const measuring = test_files(join(ROOT, 'tests')).filter((f) => f !== self)
      .filter((f) => /process\.memoryUsage\(|process\.resourceUsage\(/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(measuring.length).toBeGreaterThan(0);
    expect(measuring.filter((f) => !RSS.includes(f))).toEqual([]);
    expect(RSS.length).toBeLessThanOrEqual(2); // one per worker on the 2-core machines the suite is sized for
  });

  it('every test file booting part of a kernel runs on a fresh module graph', () => {
    const partial = test_files(join(ROOT, 'tests')).filter((f) =>
      /\b(smp_init_machine|mm_core_init)\(|from '\.\/page_alloc_boot\.ts'/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.filter((f) => !FRESH.includes(f))).toEqual([]);
  });

  it('every listed file exists', () => {
    expect([...RSS, ...FRESH].filter((f) => !existsSync(join(ROOT, f)))).toEqual([]);
  });
});
