/*
 * tests/init/params_owners.test.ts - every boot parameter is registered at
 * boot, by the file the README names, with the README's default.
 *
 * KUnit-style suite init_params_owners. init/params_owners.ts plays the
 * linker's part for __setup sections: it must list every file that calls
 * register_param(), since a parameter whose file is not loaded silently
 * becomes an unknown one passed to init. The README's table must list
 * exactly the registered parameters, each with the default its help line
 * gives and the file that registers it.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../init/params_owners.ts';
import { registered_params, default_kernel_params, format_cmdline } from '../../kernel/params.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_DIRS = ['arch', 'fs', 'include', 'init', 'kernel', 'lib', 'mm'];

function source_files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = join(dir, e.name);
    if (e.isDirectory()) return source_files(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

/** Files whose code (not a comment) calls register_param(), kernel/params.ts's definition aside. */
function registering_files(): string[] {
  return SOURCE_DIRS.flatMap(source_files).filter((f) => f !== join('kernel', 'params.ts')).filter((f) =>
    readFileSync(join(ROOT, f), 'utf8').split('\n').some((l) => /\bregister_param\(/.test(l) && !/^\s*(\*|\/\/)/.test(l)),
  ).sort();
}

/** The files init/params_owners.ts imports, relative to the repository. */
function listed_owners(): string[] {
  const src = readFileSync(join(ROOT, 'init', 'params_owners.ts'), 'utf8');
  return [...src.matchAll(/^import '([^']+)';/gm)]
    .map((m) => relative(ROOT, join(ROOT, 'init', m[1]!))).sort();
}

interface ReadmeRow { names: string[]; defaults: string; file: string }

/** The rows of the README's "Command-line parameters" table. */
function readme_rows(): ReadmeRow[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Command-line parameters'));
  const table = section.slice(section.indexOf('| parameter |'));
  const lines = table.split('\n').slice(2);
  const rows: ReadmeRow[] = [];
  for (const line of lines) {
    if (!line.startsWith('|')) break;
    const cells = line.replace(/\\\|/g, '/').split('|').slice(1, -1).map((c) => c.trim());
    const names = [...cells[0]!.matchAll(/`([a-z_][a-z0-9_]*)/g)].map((m) => m[1]!);
    rows.push({ names, defaults: cells[1]!, file: cells[3]!.replace(/`/g, '') });
  }
  return rows;
}

describe('init_params_owners', () => {
  it('params_owners.ts lists exactly the files that register a parameter', () => {
    expect(listed_owners()).toEqual(registering_files());
  });

  it('the README table lists exactly the registered parameters', () => {
    const readme = readme_rows().flatMap((r) => r.names).sort();
    const registered = registered_params().map((p) => p.name).sort();
    expect(readme).toEqual(registered);
  });

  it('each README row names the file that registers its parameters', () => {
    for (const row of readme_rows()) {
      const src = readFileSync(join(ROOT, row.file), 'utf8');
      for (const name of row.names) expect(src, `${name} in ${row.file}`).toMatch(new RegExp(`'${name}'`));
    }
  });

  it("each README default is the one the parameter's help line gives", () => {
    const rows = readme_rows();
    for (const p of registered_params()) {
      const m = /\[([^\]]+)\]$/.exec(p.help);
      if (!m) continue;
      const row = rows.find((r) => r.names.includes(p.name))!;
      expect(row.defaults, p.name).toContain(m[1]!);
    }
  });

  it('flags default to off, and the defaults format as the empty command line', () => {
    const d = default_kernel_params() as unknown as Record<string, unknown>;
    for (const p of registered_params()) {
      if (p.value !== 'none' || !(p.name in d)) continue;   // nopti, quiet, debug set another field
      expect(d[p.name], p.name).toBe(false);
      expect(readme_rows().find((r) => r.names.includes(p.name))!.defaults, p.name).toBe('off');
    }
    expect(format_cmdline(default_kernel_params())).toBe('');
  });
});
