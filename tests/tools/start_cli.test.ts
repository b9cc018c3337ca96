/*
 * tests/tools/start_cli.test.ts - `npm start`'s command line as users
 * expect it: --help from the parameter registry, Linux's notice for an
 * unknown parameter, one clean line for a bad one, the tracing and report
 * options, and Linux's `--` convention.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import '../../init/params_owners.ts';
import { registered_params, format_params_help } from '../../kernel/params.ts';
import { parse_start_args, start_variants, start_usage, DEFAULT_REPORT, DEFAULT_TRACE_VARIANT } from '../../tools/start.ts';
import { demo_shape } from '../../tools/demo/demo.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function npm_start(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tools/start.ts', ...args],
    { cwd: ROOT, encoding: 'utf8', timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tools_start_cli', () => {
  it('--help lists every registered parameter with its default and meaning', () => {
    const r = npm_start('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(start_usage());
    for (const p of registered_params()) {
      const syntax = p.help.split(' ')[0];
      expect(r.stdout).toContain(`  ${syntax}`);
    }
    expect(format_params_help()).toMatch(/^ {2}mem=<size>\[KMGT\] +512M +RAM size/m);
    expect(format_params_help()).toMatch(/^ {2}nopcid +off +Disable the PCID/m);
    expect(format_params_help()).toMatch(/^ {2}ephmap=\S+ +percpu +how page-cache/m);
    expect(r.stdout).toMatch(/DEBUG=.*mm:page_alloc/s);
  });

  it('an unknown kernel parameter prints Linux\'s notice; a bad one one line and exit 2', () => {
    const u = npm_start('--demo', 'mme=1G', 'mem=64M');
    expect(u.status).toBe(0);
    expect(u.stderr).toContain('Unknown kernel command line parameters "mme=1G", will be passed to user space.');
    const b = npm_start('costs=zen4');
    expect(b.status).toBe(2);
    expect(b.stderr).toBe("tskernel: bad command line: costs=: unknown profile 'zen4' (known: sapphire_rapids, skylake)\n");
    expect(b.stdout).toBe('');
  });

  it('takes --perfetto FILE and --trace=FILE, --report, and passes what follows a -- after the parameters to init', () => {
    const a = parse_start_args(['--perfetto', 'out.json', 'asi=on', '--trace=t.txt', '--report', 'r.html']);
    expect([a.trace.perfetto, a.trace.trace, a.params, a.report, a.trace_variants]).toEqual(['out.json', 't.txt', ['asi=on'], 'r.html', [DEFAULT_TRACE_VARIANT]]);
    expect(parse_start_args([]).report).toBe(DEFAULT_REPORT);
    expect(parse_start_args(['--no-report']).report).toBe(null);
    const i = parse_start_args(['--', 'asi=on', '--', 'single', 'x=1']);
    expect([i.params, i.init_args]).toEqual([['asi=on'], ['single', 'x=1']]);
    expect(start_variants(i.params, i.init_args)[0].cmdline).toBe('asi=off asi=on -- single x=1');
    expect(() => parse_start_args(['--perfetto'])).toThrow(/missing file name/);
    expect(parse_start_args(['-h']).mode).toBe('help');
  });

  it('the demo\'s workload is drawn from seed=: the same seed the same shape, another seed another', () => {
    expect(demo_shape(1)).toEqual(demo_shape(1));
    expect(demo_shape(2)).not.toEqual(demo_shape(1));
    const s = demo_shape(3);
    for (const p of s.child_pages) expect(p).toBeGreaterThanOrEqual(16);
  });
});
