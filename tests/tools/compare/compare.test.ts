/*
 * tests/tools/compare/compare.test.ts - the variant comparison.
 *
 * KUnit-style suite tools_compare: arguments, the seed's table with Δ
 * against the first variant, a variant whose kernel refuses to boot shown
 * as an error, counters per I/O that add up, and the same numbers whether
 * samples run in this thread or in worker threads.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compare, format_compare, parse_compare_args, cost_group, DEFAULT_VARIANTS, DEFAULT_FIO_ARGS } from '../../../tools/compare/compare.ts';
import { sample_fio_args } from '../../../tools/compare/sample.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIO = ['--name=randread_tmpfs', '--rw=randread', '--size=1M', '--blocksize=4K', '--directory=/tmp'];

describe('tools_compare', () => {
  it('parses variants, samples and the fio workload after --', () => {
    const a = parse_compare_args(['--samples=5', '--workers=0', 'asi-off=asi=off', '--variant=pti-on="pti=on nopcid"', '--json',
      '--', '--name=x', '--size=1m']);
    expect(a.opts.variants).toEqual([{ name: 'asi-off', cmdline: 'asi=off' }, { name: 'pti-on', cmdline: 'pti=on nopcid' }]);
    expect([a.opts.samples, a.opts.workers, a.json, a.opts.fio_args]).toEqual([5, 0, true, ['--name=x', '--size=1m']]);
    const d = parse_compare_args([]);
    expect([d.opts.variants, d.opts.fio_args]).toEqual([DEFAULT_VARIANTS, DEFAULT_FIO_ARGS]);
    expect(() => parse_compare_args(['--frob'])).toThrow(/unknown option '--frob'/);
    expect(() => parse_compare_args(['a=x', 'a=y'])).toThrow(/given twice/);
  });

  it('samples differ by seed unless the workload pins randseed=, and always report json', () => {
    expect(sample_fio_args(['--name=x', '--output-format=normal'])).toEqual(['--name=x', '--randrepeat=0', '--output-format=json']);
    expect(sample_fio_args(['--name=x', '--randseed=3'])).toEqual(['--name=x', '--randseed=3', '--output-format=json']);
  });

  it('groups cost keys by where the cycles went, unknown keys included', () => {
    expect(['fio_get_io_u', 'syscall', 'copy_byte', 'ibpb', 'walk_step_l2', 'fdget', 'asi_exit_someday'].map(cost_group))
      .toEqual(['user', 'syscall entry/exit', 'copy', 'exits and mitigations', 'TLB refill and flush', 'other kernel', 'exits and mitigations']);
  });

  it('prints the seed\'s table, Δ against the first variant, and a variant that will not boot as an error', async () => {
    const c = await compare({
      variants: [{ name: 'asi-off', cmdline: 'asi=off' }, { name: 'pti-on', cmdline: 'pti=on' }, { name: 'bad', cmdline: 'pti=maybe' }],
      samples: 2, fio_args: FIO, workers: 0,
    });
    const [off, pti, on] = c.variants;
    expect([off.samples, pti.samples, on.samples]).toEqual([2, 2, 0]);
    expect(on.error).toMatch(/pti=/);
    expect(off.delta).toBeNull();
    expect(pti.delta).toBeCloseTo(pti.mean / off.mean - 1, 12);
    expect(pti.delta!).toBeLessThan(0); // PTI's CR3 switches cost something
    expect(off.min).toBeLessThanOrEqual(off.mean);
    expect(off.max).toBeGreaterThanOrEqual(off.mean);
    // Samples differ (other offsets), the variant's numbers are per-sample means.
    const rs = c.results.filter((r) => r.variant === 'asi-off');
    expect(rs.map((r) => r.kernel_cmdline)).toEqual([expect.stringMatching(/asi=off seed=1$/), expect.stringMatching(/asi=off seed=2$/)]);
    // Per I/O: PTI writes CR3 on every entry and exit, asi-off does not.
    expect(pti.per_io.events['cr3-writes-noflush']).toBeGreaterThan(1.9);
    expect(off.per_io.events['cr3-writes-noflush'] ?? 0).toBeLessThan(0.1);
    // The cycle groups add up to the cycles by key.
    const sum = (o: Record<string, number>): number => Object.values(o).reduce((s, x) => s + x, 0);
    expect(sum(off.per_io.cycles_by_group)).toBeCloseTo(sum(off.per_io.cycles_by_key), 6);
    expect(off.per_io.count_by_key.fio_get_io_u).toBe(1);
    const text = format_compare(c);
    expect(text).toMatch(/\| variant +\| samples \| +mean \| +min \| +max \| Δ mean \|/);
    expect(text).toMatch(/\| pti-on +\| +2 \| +[\d,]+ \| +[\d,]+ \| +[\d,]+ \| +−\d+\.\d% \|/);
    expect(text).toMatch(/\| bad +\| +0 \| error \(below\) \|/);
    expect(text).toMatch(/bad \("pti=maybe"\): error: pti=/);
    expect(text).toMatch(/\| cycles: user +\| +1260 \| +1260 \|/);
  });

  it('worker threads give the numbers of a run in this thread', async () => {
    const o = { variants: [{ name: 'asi-off', cmdline: 'asi=off' }, { name: 'pti-on', cmdline: 'pti=on' }], samples: 1, fio_args: FIO };
    const inline = await compare({ ...o, workers: 0 });
    const threads = await compare({ ...o, workers: 2 });
    const strip = (c: typeof inline): unknown => c.results.map(({ host_ms: _h, ...r }) => r);
    expect(strip(threads)).toEqual(strip(inline));
  });
});

describe('tools_compare_cli', () => {
  it('piped: the table on stdout, no progress on stderr, exit 1 when a variant fails to boot; --json parses', () => {
    const run = (...extra: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath,
      ['--import', 'tsx', 'tools/compare/compare.ts', '--samples=1', '--workers=0', ...extra, 'asi-off=asi=off', 'bad=pti=maybe', '--', ...FIO],
      { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    const r = run();
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('');
    expect(String(r.stdout)).toMatch(/^fio --name=randread_tmpfs .*\n\nIOPS \(simulated\)\n\n\| variant/);
    const j = run('--json');
    const doc = JSON.parse(String(j.stdout));
    expect(doc.variants.map((v: { name: string; samples: number }) => [v.name, v.samples])).toEqual([['asi-off', 1], ['bad', 0]]);
    expect(doc.results[0].host_ms).toBeUndefined();
  });
});
