/*
 * tests/tools/start.test.ts - `npm start`: the seed's experiment, and a
 * bad command line refused cleanly.
 *
 * KUnit-style suite tools_start. A bad command line prints one line,
 * "tskernel: bad command line: <reason>", and exits 2: no host stack trace,
 * whichever subsystem's parameter is at fault (a syntax error found by the
 * parser, a name found unknown by the cost model at boot), before any
 * sample runs. The experiment prints the seed's table for its five
 * variants, the counters per read and the exit histogram, the same bytes
 * twice. The demonstration (--demo; it was `npm start` before) boots
 * asi=on and prints the exits by reason and by faulting site.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse_start_args, start_variants, START_VARIANTS, DEFAULT_SIZE, DEFAULT_SAMPLES } from '../../tools/start.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function npm_start(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tools/start.ts', ...args],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tools_start', () => {
  it.each([
    ['costs=nosuch', /^tskernel: bad command line: costs=: unknown profile 'nosuch'/],
    ['costs=sapphire_rapids,nokey=1', /^tskernel: bad command line: costs=: unknown cost key 'nokey'/],
    ['mem=12Q', /^tskernel: bad command line: mem=: invalid size '12Q'/],
    ['asi=maybe', /^tskernel: bad command line: asi=/],
  ])('%s: one line on stderr and exit status 2', (arg, line) => {
    const r = npm_start(arg);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(line);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);   // no stack trace
    expect(r.stdout).toBe('');
  });

  it('asi=on boots, runs the demo and prints the ASI exits by reason and by faulting site', () => {
    const r = npm_start('--demo', 'mem=256M', 'cpus=2', 'asi=on', 'setcpuid=retbleed');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ASI exits \(asi=on\):\n  asi_exits +[1-9]/);
    expect(r.stdout).toMatch(/ASI page-fault exits by faulting site:\n  [a-z_?]+ +[1-9]/);
    expect(r.stdout).toMatch(/shutdown: every page returned/);
  });

  it('an unknown option: one line on stderr and exit status 2', () => {
    const r = npm_start('--frob');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tskernel: unknown or bad option '--frob'/)]);
    expect(r.stdout).toBe('');
  });

  it('defaults to the seed\'s five variants, retbleed on every asi=on one; --full is the 1 GiB job with 10 samples', () => {
    const d = parse_start_args([]);
    expect([d.mode, d.size, d.samples, d.params]).toEqual(['experiment', DEFAULT_SIZE, DEFAULT_SAMPLES, []]);
    expect(START_VARIANTS.map((v) => v.name)).toEqual(['asi-off', 'asi-on/ephmap=off', 'asi-on/percpu', 'asi-on/vmalloc', 'pti-on']);
    for (const v of START_VARIANTS) if (/asi=on/.test(v.cmdline)) expect(v.cmdline).toMatch(/setcpuid=retbleed/);
    const f = parse_start_args(['--full']);
    expect([f.size, f.samples]).toEqual(['1G', 10]);
    const p = parse_start_args(['--', 'costs=skylake', '--samples=2']);
    expect([p.samples, p.params]).toEqual([2, ['costs=skylake']]);
    expect(start_variants(p.params).every((v) => v.cmdline.endsWith(' costs=skylake'))).toBe(true);
    expect(parse_start_args(['--demo', 'mem=1G']).mode).toBe('demo');
  });

  it('prints the table, the counters per read and the exit histogram, the same bytes twice', () => {
    const args = ['--size=1M', '--samples=1', '--workers=1'];
    const a = npm_start(...args);
    const b = npm_start(...args);
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(/\| variant +\| samples \| +mean \| +min \| +max \| Δ mean \|/);
    for (const v of START_VARIANTS) expect(a.stdout).toMatch(new RegExp(`\\| ${v.name.replace(/[/=]/g, '\\$&')} +\\| +1 \\| +[0-9,]+ `));
    expect(a.stdout).toMatch(/\| asi-on\/ephmap=off +\| +1 \|.*\| +−[0-9.]+% \|/);
    expect(a.stdout).toMatch(/cycles: exits and mitigations/);
    expect(a.stdout).toMatch(/vmstat asi_exit_page_fault/);
    expect(a.stdout).toMatch(/\| ibpb /);
    expect(a.stdout).toMatch(/ASI page-fault exits by faulting site/);
    expect(a.stdout).toMatch(/copy_page_to_iter/);
    expect(a.stderr).toBe(''); // progress only on a terminal
    expect(b.stdout).toBe(a.stdout);
  });
});
