/*
 * tests/tools/fio/fio.test.ts - fio runs on the simulated kernel.
 *
 * KUnit-style suite tools_fio: small runs of the seed's job shape
 * (randread, 4 KiB, tmpfs) give fio 3.33's JSON key for key, the text
 * reads like fio's, the same seed gives the same bytes, the reported
 * IOPS and latencies agree with the machine's counters, and bad input
 * or a kernel that will not boot exits 1 with one message.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run_fio } from '../../../tools/fio/fio.ts';
import { COST_KEY_INDEX, NR_COST_KEYS } from '../../../arch/x86/hw/costs.ts';
import type { Kernel } from '../../../init/main.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = (f: string): string => readFileSync(new URL(`./fixtures/${f}`, import.meta.url), 'utf8');

const SEED = ['--name=randread_tmpfs', '--rw=randread', '--size=1M', '--blocksize=4K', '--directory=/tmp'];

/** Every key path of a JSON value; bins' and percentiles' own keys left out (they are data). */
function key_paths(v: unknown, at = ''): string[] {
  if (v === null || typeof v !== 'object') return [];
  if (Array.isArray(v)) return v.flatMap((x) => key_paths(x, at + '[]'));
  const out: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    out.push(`${at}/${k}`);
    if (k !== 'bins' && k !== 'job options') out.push(...key_paths(x, `${at}/${k}`));
  }
  return out;
}

describe('tools_fio', () => {
  it.each([
    ['json', 'randread_tmpfs-1G.json'],
    ['json+', 'randread_tmpfs-1G.jsonplus.json'],
  ])('--output-format=%s has the keys of fio 3.33, in its order', (fmt, ref) => {
    const r = run_fio([...SEED, `--output-format=${fmt}`], { env: {} });
    expect(r.stderr).toMatch(/^randread_tmpfs: Laying out IO file \(1 file \/ 1MiB\)\n$/);
    expect(r.status).toBe(0);
    const got = JSON.parse(r.stdout);
    const want = JSON.parse(fixture(ref));
    expect(key_paths(got)).toEqual(key_paths(want));
    expect(Object.keys(got.jobs[0].read.clat_ns.percentile)).toEqual(Object.keys(want.jobs[0].read.clat_ns.percentile));
    expect(got.jobs[0]['job options']).toEqual({ name: 'randread_tmpfs', rw: 'randread', size: '1M', bs: '4K', directory: '/tmp' });
    // The layout of fio's json.c: `"key" : value`, doubles with six decimals.
    expect(r.stdout).toMatch(/^{\n  "fio version" : "fio-3.33",\n/);
    expect(r.stdout).toMatch(/\n {8}"iops" : \d+\.\d{6},\n/);
  });

  it('prints the text report in fio\'s shape', () => {
    const r = run_fio(SEED, { env: {} });
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const ref = fixture('randread_tmpfs-1G.normal.txt').split('\n');
    expect(lines[0]).toBe(ref[0]);
    expect(lines.slice(1, 4)).toEqual(['fio-3.33', 'Starting 1 process', 'randread_tmpfs: Laying out IO file (1 file / 1MiB)']);
    const shape = (l: string): string => l.replace(/\d+(\.\d+)?[kKMG]?(i?B)?/g, 'N').replace(/\s+/g, ' ');
    for (const prefix of ['  read: IOPS=', '    clat (nsec): min=', '     lat (nsec): min=', '    clat percentiles (nsec):',
      '  cpu          : usr=', '  IO depths    : ', '     issued rwts: total=', 'Run status group 0 (all jobs):', '   READ: bw=']) {
      const mine = lines.find((l) => l.startsWith(prefix));
      const theirs = ref.find((l) => l.startsWith(prefix));
      expect(mine, prefix).toBeDefined();
      expect(shape(mine!), prefix).toBe(shape(theirs!));
    }
    expect(r.stdout).toMatch(/issued rwts: total=256,0,0,0 /);
    expect(r.stdout).toMatch(/\n {5}\| {2}1\.00th=\[ *\d+\], {2}5\.00th=\[ *\d+\], 10\.00th=\[ *\d+\], 20\.00th=\[ *\d+\],\n/);
  });

  it('gives the same bytes for the same command line, and other offsets for another randseed', () => {
    const a = run_fio([...SEED, '--output-format=json+'], { env: {} }).stdout;
    const b = run_fio([...SEED, '--output-format=json+'], { env: {} }).stdout;
    expect(b).toBe(a);
    const c = run_fio([...SEED, '--output-format=json+', '--randseed=42'], { env: {} }).stdout;
    expect(c).not.toBe(a);
  });

  it('a randread run\'s IOPS and latencies agree with the machine\'s counters', () => {
    const snap = (k: Kernel): Float64Array<ArrayBufferLike> => {
      const s = new Float64Array(NR_COST_KEYS);
      for (const c of k.machine.cpus) c.cost_events.forEach((v, i) => { s[i] += v; });
      return s;
    };
    let at_start: Float64Array<ArrayBufferLike> = new Float64Array(0);
    let at_end: Float64Array<ArrayBufferLike> = new Float64Array(0);
    const r = run_fio([...SEED, '--size=2M', '--output-format=json'], {
      env: {},
      on_phase: (p, k) => { if (p === 'io_start') at_start = snap(k); else at_end = snap(k); },
    });
    const rd = JSON.parse(r.stdout).jobs[0].read;
    const n = 512; // 2 MiB / 4 KiB: the random map reads each block once
    expect(rd.total_ios).toBe(n);
    expect(rd.io_bytes).toBe(2 * 2 ** 20);
    const d = (key: keyof typeof COST_KEY_INDEX): number => at_end[COST_KEY_INDEX[key]] - at_start[COST_KEY_INDEX[key]];
    // fio's own work: one of each step per I/O.
    expect(d('fio_get_io_u')).toBe(n);
    expect(d('fio_td_io_queue')).toBe(n);
    expect(d('fio_io_completed')).toBe(n);
    // Each I/O is one pread64: SYSCALL/SYSRET at least n times (plus the job's open, mmap, close, exit).
    expect(d('syscall')).toBeGreaterThanOrEqual(n);
    expect(d('syscall')).toBeLessThan(n + 16);
    // IOPS as fio computes it, from the runtime in ms.
    expect(rd.iops).toBeCloseTo((n * 1000) / rd.runtime, 3);
    // The job's I/Os take at least N x mean latency, and the runtime covers them.
    expect(rd.lat_ns.mean).toBeGreaterThan(rd.clat_ns.mean);
    expect(rd.runtime * 1e6).toBeGreaterThanOrEqual(n * rd.lat_ns.mean);
    // The mean latency is at least the syscall path's own charges per read.
    const cyc = r.threads![0];
    expect(cyc.sys_ns).toBeCloseTo(rd.clat_ns.mean * n, -1);
  });

  it('runs a job file with numjobs and group_reporting: one report, the jobs summed', () => {
    const jobfile = '[global]\nbs=4k\nsize=512k\ndirectory=/tmp\ngroup_reporting\n[rr]\nrw=randrw\nrwmixread=75\nnumjobs=2\n';
    const r = run_fio(['--output-format=json', 'mix.fio'], { env: {}, read_file: () => jobfile });
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout).jobs;
    expect(j).toHaveLength(1);
    expect(j[0].read.total_ios + j[0].write.total_ios).toBe(2 * 128);
    expect(j[0].read.total_ios).toBeGreaterThan(j[0].write.total_ios);
    expect(r.stderr.match(/Laying out IO file/g)).toHaveLength(2);
  });

  it('does only whole blocks of a size= that is not a multiple of bs', () => {
    for (const rw of ['randread', 'read']) {
      const r = run_fio(['--name=odd', `--rw=${rw}`, '--size=10k', '--bs=4k', '--output-format=json'], { env: {} });
      expect(r.status).toBe(0);
      const rd = JSON.parse(r.stdout).jobs[0].read;
      expect([rd.total_ios, rd.io_bytes]).toEqual([2, 8192]);
    }
  });

  it('stops a time_based job at runtime= in simulated time', () => {
    const r = run_fio(['--name=t', '--rw=read', '--size=256k', '--bs=4k', '--time_based', '--runtime=2ms', '--ioengine=sync',
      '--output-format=json'], { env: {} });
    const rd = JSON.parse(r.stdout).jobs[0].read;
    expect(rd.runtime).toBe(2);
    expect(rd.total_ios).toBeGreaterThan(64); // more than one pass over the file
  });

  it('a kernel that refuses to boot is an error, not a crash', () => {
    const r = run_fio([...SEED], { env: { TSKERNEL_CMDLINE: 'pti=maybe' } });
    expect(r.status).toBe(1);
    expect(r.boot_error).toMatch(/pti=/);
    expect(r.stderr).toMatch(/^fio: tskernel refused to boot '.*pti=maybe': /);
    const o = run_fio([...SEED, '--kernel-cmdline=costs=nosuch'], { env: { TSKERNEL_CMDLINE: 'pti=maybe' } });
    expect(o.boot_error).toMatch(/unknown profile 'nosuch'/);
  });

  it('the CLI exits 1 with fio\'s message on an unknown option, and on no job', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'tools/fio/fio.ts', '--name=x', '--size=1m', '--direct=1'],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fio: unrecognized option '--direct=1'\n/);
    expect(r.stdout).toBe('');
    const none = run_fio([], { env: {} });
    expect([none.status, none.stderr.split('\n')[0]]).toEqual([1, 'No job(s) defined']);
    const nosize = run_fio(['--name=x'], { env: {} });
    expect([nosize.status, nosize.stderr]).toEqual([1, 'x: you need to specify size=\nfio: failed to setup job x\n']);
  });
});
