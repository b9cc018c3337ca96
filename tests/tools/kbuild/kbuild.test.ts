/*
 * tests/tools/kbuild/kbuild.test.ts - the kbuild workload: every unit
 * builds through fork + execve + wait4 with SIGCHLD, the same seed gives
 * the same counters, and ASI exits appear only with asi=on (KUnit-style
 * suite tools_kbuild).
 */
import { describe, it, expect } from 'vitest';
import { run_kbuild, format_kbuild, type KbuildOptions } from '../../../tools/kbuild/kbuild.ts';

const SMALL: KbuildOptions = { cpus: 2, mem_mb: 128, units_per_cpu: 3, jobs: 0, size: 0.5, seed: 7 };

describe('tools_kbuild', () => {
  it('builds every unit: make forks and execs cc1 -j at a time, reaps each with wait4, takes SIGCHLD', () => {
    const r = run_kbuild({ name: 'asi-off', cmdline: 'asi=off' }, SMALL);
    expect(r.error).toBeUndefined();
    expect(r.units).toBe(6);
    expect(r.built).toBe(6);
    expect(r.sigchld).toBeGreaterThan(0);
    expect(r.sigchld).toBeLessThanOrEqual(6); // legacy signals coalesce
    expect(r.elapsed_ns).toBeGreaterThan(0);
    expect(r.vmstat.pgfault).toBeGreaterThan(6 * 16);
    expect(r.context_switches).toBeGreaterThan(0);
    expect(r.vmstat.asi_exits ?? 0).toBe(0);
  });

  it('is deterministic: the same seed gives the same counters, another seed other ones', () => {
    const v = { name: 'asi-on', cmdline: 'asi=on setcpuid=retbleed' };
    const a = run_kbuild(v, SMALL);
    const b = run_kbuild(v, SMALL);
    const c = run_kbuild(v, { ...SMALL, seed: 8 });
    expect(a.error).toBeUndefined();
    expect(b).toEqual(a);
    expect(c.vmstat).not.toEqual(a.vmstat);
  });

  it('asi=on setcpuid=retbleed exits at its own sites (the zeroing of new pages among them) and takes longer', () => {
    const off = run_kbuild({ name: 'asi-off', cmdline: 'asi=off' }, SMALL);
    const on = run_kbuild({ name: 'asi-on', cmdline: 'asi=on setcpuid=retbleed' }, SMALL);
    expect(on.vmstat.asi_exits).toBeGreaterThan(0);
    expect(on.exits_per_s.asi_exit_page_fault).toBeGreaterThan(0);
    expect(Object.keys(on.exit_sites).some((s) => /clear_page/.test(s))).toBe(true);
    expect(on.elapsed_ns).toBeGreaterThan(off.elapsed_ns);
    const text = format_kbuild([off, on], SMALL);
    expect(text).toMatch(/elapsed \(modelled, ms\)/);
    expect(text).toMatch(/context switches \/s/);
    expect(text).toMatch(/page_fault \/s/);
  });
});

describe('tools_kbuild_compare', () => {
  it('tools/compare runs kbuild as it runs fio: --workload=kbuild, one unit per "I/O", exits by site', async () => {
    const { parse_compare_args, compare, format_compare } = await import('../../../tools/compare/compare.ts');
    const args = parse_compare_args(['--workload=kbuild', '--workers=0', '--samples=1', 'off=asi=off', 'on=asi=on setcpuid=retbleed', '--',
      '--cpus=2', '--units-per-cpu=2', '--size=0.5']);
    expect(args.opts.workload).toBe('kbuild');
    expect(parse_compare_args(['--workload=kbuild']).opts.fio_args).toEqual([]);
    const c = await compare(args.opts);
    expect(c.variants.map((v) => v.error)).toEqual([undefined, undefined]);
    expect(c.variants.map((v) => v.ios)).toEqual([4, 4]);
    expect(c.variants[1].delta).toBeLessThan(0); // fewer units per second with ASI on
    expect(Object.keys(c.variants[1].exit_sites).length).toBeGreaterThan(0);
    expect(format_compare(c)).toMatch(/^kbuild --cpus=2/);
  });
});

describe('tools_kbuild_fault_injection', () => {
  it('under fail_page_alloc and failslab units fail or are OOM-killed, make counts them as failed, nothing leaks', () => {
    const fail = 'fail_page_alloc=1,3,0,-1 fail_page_alloc_ignore_gfp_wait=0 fail_page_alloc_ignore_gfp_highmem=0 fail_page_alloc_min_order=0 ' +
      'fail_page_alloc_verbose=0 failslab=1,3,0,-1 failslab_verbose=0 loglevel=0';
    for (const asi of ['asi=off', 'asi=on setcpuid=retbleed']) {
      const r = run_kbuild({ name: asi, cmdline: `${asi} ${fail}` }, { ...SMALL, seed: 3 }); // shutdown() inside BUGs on a leak
      expect(r.built).toBeLessThan(6);
    }
  });
});
