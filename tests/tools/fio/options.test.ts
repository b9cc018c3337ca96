/*
 * tests/tools/fio/options.test.ts - fio's command line and job files.
 *
 * KUnit-style suite tools_fio_options: values parse as fio parses them
 * (sizes in kb_base=1024 compatibility mode, times, booleans), options
 * before the first --name and in [global] are defaults for the jobs after
 * them, and bad input is fio's kind of error (FioError; the CLI exits 1).
 */
import { describe, it, expect } from 'vitest';
import { parse_cmdline, parse_size, parse_time_us, parse_job_file, default_job_options, FioError, FIO_RANDSEED } from '../../../tools/fio/options.ts';

const no_files = (p: string): string => {
  throw new Error(`no file ${p}`);
};

describe('tools_fio_options', () => {
  it('parses sizes as fio does with kb_base=1024: k/K/kb are 1024, KiB is 1000', () => {
    expect(parse_size('4k', 'bs')).toBe(4096);
    expect(parse_size('4K', 'bs')).toBe(4096);
    expect(parse_size('4KB', 'bs')).toBe(4096);
    expect(parse_size('4KiB', 'bs')).toBe(4000);
    expect(parse_size('1G', 'size')).toBe(2 ** 30);
    expect(parse_size('1m', 'size')).toBe(2 ** 20);
    expect(parse_size('512', 'bs')).toBe(512);
    expect(() => parse_size('4q', 'bs')).toThrow(/fio: failed parsing bs=4q/);
    expect(() => parse_size('', 'bs')).toThrow(FioError);
  });

  it('parses times in seconds unless suffixed', () => {
    expect(parse_time_us('10', 'runtime')).toBe(10e6);
    expect(parse_time_us('250ms', 'runtime')).toBe(250e3);
    expect(parse_time_us('2m', 'runtime')).toBe(120e6);
    expect(parse_time_us('7us', 'runtime')).toBe(7);
    expect(() => parse_time_us('3fortnights', 'runtime')).toThrow(/failed parsing runtime=3fortnights/);
  });

  it('reads the seed command line: one job, canonical names in "job options"', () => {
    const c = parse_cmdline(['--name=randread_tmpfs', '--rw=randread', '--size=1G', '--blocksize=4K', '--directory=/tmp',
      '--output-format=json+'], no_files);
    expect(c.jobs).toHaveLength(1);
    const j = c.jobs[0];
    expect([j.name, j.rw, j.size, j.bs, j.directory, j.ioengine, j.numjobs, j.randrepeat, j.randseed])
      .toEqual(['randread_tmpfs', 'randread', 2 ** 30, 4096, '/tmp', 'psync', 1, true, FIO_RANDSEED]);
    expect(j.given).toEqual([['name', 'randread_tmpfs'], ['rw', 'randread'], ['size', '1G'], ['bs', '4K'], ['directory', '/tmp']]);
    expect(c.output_format).toEqual(['json+']);
  });

  it('applies options before the first --name to every job, and each --name starts a job', () => {
    const c = parse_cmdline(['--bs=8k', '--size=1m', '--name=a', '--rw=randrw', '--rwmixread=70', '--name=b', '--numjobs=3',
      '--time_based', '--runtime=2s', '--group_reporting', '--ioengine=sync', '--randrepeat=0', '--randseed=7', '--loops=2'], no_files);
    expect(c.jobs.map((j) => [j.name, j.bs, j.size, j.rw, j.rwmixread])).toEqual([['a', 8192, 2 ** 20, 'randrw', 70], ['b', 8192, 2 ** 20, 'read', 50]]);
    const b = c.jobs[1];
    expect([b.numjobs, b.time_based, b.runtime_us, b.group_reporting, b.ioengine, b.randrepeat, b.randseed, b.randseed_set, b.loops])
      .toEqual([3, true, 2e6, true, 'sync', false, 7, true, 2]);
    expect(c.global).toEqual([['bs', '8k'], ['size', '1m']]);
  });

  it('reads job files: [global] defaults, one job per section, comments', () => {
    const text = `
; the seed's job, twice
[global]
rw=randread
bs=4k
size=1m
# a comment
[one]
directory=/tmp

[two]
rw=write
numjobs=2
group_reporting
`;
    const c = parse_cmdline(['--output-format=json', 'seed.fio'], (p) => (p === 'seed.fio' ? text : no_files(p)));
    expect(c.jobs.map((j) => [j.name, j.rw, j.bs, j.size, j.directory, j.numjobs, j.group_reporting]))
      .toEqual([['one', 'randread', 4096, 2 ** 20, '/tmp', 1, false], ['two', 'write', 4096, 2 ** 20, '', 2, true]]);
  });

  it.each([
    [['--name=x', '--rw=randomread'], /^fio: failed parsing rw=randomread$/],
    [['--name=x', '--blocksze=4k'], /^fio: unrecognized option '--blocksze=4k'\nDid you mean blocksize\?$/],
    [['--name=x', '--ioengine=libaio'], /^fio: engine libaio not loadable/],
    [['--name=x', '--rwmixread=101'], /failed parsing rwmixread=101/],
    [['--name=x', '--numjobs=zero'], /failed parsing numjobs=zero/],
    [['--name=x', '--output-format=xml'], /unknown output format xml/],
    [['--name=x', '--time_based=maybe'], /failed parsing time_based=maybe/],
  ])('%j is an error', (argv, msg) => {
    let err: unknown = null;
    try {
      parse_cmdline(argv, no_files);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FioError);
    expect((err as Error).message).toMatch(msg);
  });

  it.each([
    ['rw=read\n[job]\n', /option <rw=read> outside of \[\] job section/],
    ['[job\nrw=read\n', /bad job section header <\[job>/],
    ['[job]\nfrobnicate=1\n', /Bad option <frobnicate=1>[\s\S]*failed parsing bad.fio:2/],
    ['[job]\nbs=four\n', /failed parsing bs=four/],
  ])('a malformed job file is an error: %j', (text, msg) => {
    expect(() => parse_job_file(text, 'bad.fio', default_job_options())).toThrow(msg);
  });

  it('a missing job file is an error', () => {
    expect(() => parse_cmdline(['nosuch.fio'], no_files)).toThrow(/unable to open 'nosuch.fio' job file/);
  });
});
