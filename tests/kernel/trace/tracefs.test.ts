/*
 * tests/kernel/trace/tracefs.test.ts - /sys/kernel/tracing from a simulated process.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel, type Kernel } from '../../../init/main.ts';
import type { Nolibc, Sys } from '../../../tools/include/nolibc.ts';
import {
  O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_NONBLOCK,
} from '../../../include/uapi/asm-generic/fcntl.ts';
import { SEEK_SET } from '../../../include/uapi/linux/fs.ts';
import { EAGAIN, EINVAL, ESPIPE, ENOENT, EACCES, ENOTDIR } from '../../../include/uapi/asm-generic/errno.ts';
import { cat, read_fd, write_str, BUF_BYTES } from '../../fs/proc/helpers.ts';
import { run_one, RW, ANON } from '../../fs/helpers.ts';
import { TRACE_PIPE_POLL_NS } from '../../../kernel/trace/tracefs.ts';

const T = '/sys/kernel/tracing';
const ASI_CMDLINE = 'mem=64M cpus=1 asi=on setcpuid=retbleed ephmap=off';

/* echo TEXT > PATH (or >> with append): the write's result, or the open's error. */
function* echo(u: Nolibc, path: string, buf: number, text: string, append = false): Sys {
  const fd = yield* u.open(path, O_WRONLY | (append ? O_APPEND : O_TRUNC));
  if (fd < 0) return fd;
  const r = yield* write_str(u, fd, buf, text);
  yield* u.close(fd);
  return r;
}

/* The seed's workload: cached tmpfs preads, each an ASI exit with ephmap=off. */
function* pread_workload(u: Nolibc, buf: number, n: number): Sys {
  const fd = yield* u.open('/data', O_RDWR | O_CREAT);
  for (let i = 0; i < 1024; i++) u.poke32(buf + 4 * i, i);
  if ((yield* u.write(fd, buf, 4096)) !== 4096) return -1;
  u.poke32(buf + 4096, 0);
  for (let r = 0; r < n; r++) if ((yield* u.pread64(fd, buf + 4096, 4096, 0)) !== 4096) return -2;
  yield* u.close(fd);
  return 0;
}

function boot(cmdline = ASI_CMDLINE): Kernel {
  return start_kernel(cmdline);
}

describe('trace_tracefs_events', () => {
  it('echo 1 > events/asi/enable from a process turns asi:asi_exit_pf on; trace_pipe returns its lines', () => {
    const k = boot();
    const r: Record<string, unknown> = {};
    run_one(k, function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, BUF_BYTES, RW, ANON);
      r.before = yield* cat(u, `${T}/events/asi/enable`, buf);
      r.write = yield* echo(u, `${T}/events/asi/enable`, buf, '1');
      r.after = yield* cat(u, `${T}/events/asi/asi_exit_pf/enable`, buf);
      r.set_event = yield* cat(u, `${T}/set_event`, buf);
      r.work = yield* pread_workload(u, buf + 8192, 4);
      const fd = yield* u.open(`${T}/trace_pipe`, O_RDONLY | O_NONBLOCK);
      r.pipe = yield* read_fd(u, fd, buf, 200); // short reads: whole lines carry over
      r.again = yield* u.read(fd, buf, 100);
      r.seek = yield* u.lseek(fd, 0, SEEK_SET);
      r.pread = yield* u.pread64(fd, buf, 10, 0);
      yield* u.close(fd);
      return 0;
    });
    expect(r).toMatchObject({ before: '0\n', write: 1, after: '1\n', work: 0, seek: -ESPIPE, pread: -ESPIPE });
    // The system's enable turns on every asi event, as Linux's does.
    expect((r.set_event as string).split('\n').filter((l) => l !== '').sort()).toEqual(['asi:asi_enter', 'asi:asi_exit', 'asi:asi_exit_pf']);
    // The pipe read until -EAGAIN: read_fd returns the error, so collect what came first.
    expect(r.pipe).toBe(-EAGAIN);
    k.shutdown();
  });

  it('the lines trace_pipe gives are the ftrace text of each exit, consumed once', () => {
    const k = boot();
    let text = '';
    let again = 0;
    run_one(k, function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, BUF_BYTES, RW, ANON);
      yield* echo(u, `${T}/events/asi/enable`, buf, '1\n');
      if ((yield* pread_workload(u, buf + 8192, 4)) !== 0) return 1;
      yield* echo(u, `${T}/events/asi/enable`, buf, '0'); // no more exits recorded from here
      const fd = yield* u.open(`${T}/trace_pipe`, O_RDONLY | O_NONBLOCK);
      for (;;) {
        const n = yield* u.read(fd, buf, 150);
        if (n <= 0) {
          again = n;
          break;
        }
        text += Buffer.from(u.peek(buf, n)).toString('latin1');
      }
      yield* u.close(fd);
      return 0;
    }, 'reader');
    const all = text.split('\n').filter((l) => l !== '');
    // events/asi/enable also turns on asi_enter/asi_exit; the page-fault exits are checked here.
    const lines = all.filter((l) => l.includes(' asi_exit_pf: '));
    expect(all.every((l) => /: asi_(enter|exit|exit_pf): /.test(l))).toBe(true);
    expect(again).toBe(-EAGAIN);
    expect(lines.length).toBeGreaterThanOrEqual(4); // one exit per cached pread, at least
    for (const l of lines)
      expect(l).toMatch(/^ +reader-1 +\[000\] \S{5} +\d+\.\d{6}: asi_exit_pf: address=0x[0-9a-f]{16} ip=\S+ error_code=0x[0-9a-f]+, user_mode=0$/);
    expect(lines.some((l) => l.includes('ip=copy_page_to_iter'))).toBe(true);
    expect(k.trace()).not.toContain('asi_exit_pf'); // consumed
    k.shutdown();
  });

  it('a blocking read of an empty trace_pipe sleeps until an entry arrives', () => {
    const k = boot('mem=64M cpus=2 asi=on setcpuid=retbleed ephmap=off');
    const r: Record<string, unknown> = {};
    k.spawn('pipe_reader', function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, BUF_BYTES, RW, ANON);
      const fd = yield* u.open(`${T}/trace_pipe`, O_RDONLY);
      const t0 = u.clock_gettime_ns();
      const n = yield* u.read(fd, buf, 4096);
      r.waited_ns = u.clock_gettime_ns() - t0;
      r.n = n;
      r.text = n > 0 ? Buffer.from(u.peek(buf, n)).toString('latin1') : '';
      yield* u.close(fd);
      return 0;
    });
    k.spawn('worker', function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, BUF_BYTES, RW, ANON);
      yield* u.nanosleep(3_000_000); // the reader is asleep by now
      yield* echo(u, `${T}/set_event`, buf, 'asi:asi_exit_pf');
      yield* pread_workload(u, buf + 8192, 2);
      return 0;
    });
    const res = k.run();
    expect(res.reason).toBe('done');
    expect(r.n as number).toBeGreaterThan(0);
    expect(r.text as string).toContain('asi_exit_pf: address=');
    expect(r.waited_ns as number).toBeGreaterThanOrEqual(3_000_000);
    expect(r.waited_ns as number).toBeLessThan(3_000_000 + 10 * TRACE_PIPE_POLL_NS);
    k.shutdown();
  });
});

describe('trace_tracefs_set_event', () => {
  it('set_event takes one token per write, "!" disables, O_TRUNC clears, O_APPEND adds', () => {
    const k = boot('mem=64M cpus=1');
    const r: Record<string, unknown> = {};
    run_one(k, function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, BUF_BYTES, RW, ANON);
      const fd = yield* u.open(`${T}/set_event`, O_WRONLY | O_TRUNC);
      r.w1 = yield* write_str(u, fd, buf, 'asi:* tlb:tlb_flush\n'); // "asi:* " only
      r.w2 = yield* write_str(u, fd, buf, 'tlb:tlb_flush\n');
      r.w3 = yield* write_str(u, fd, buf, '   ');
      r.bad = yield* write_str(u, fd, buf, 'nosuch:event');
      yield* u.close(fd);
      r.list = yield* cat(u, `${T}/set_event`, buf);
      r.tlb = yield* cat(u, `${T}/events/tlb/enable`, buf);
      r.all = yield* cat(u, `${T}/events/enable`, buf);
      r.off = yield* echo(u, `${T}/set_event`, buf, '!asi:asi_exit_pf', true);
      r.list2 = yield* cat(u, `${T}/set_event`, buf);
      r.sys = yield* echo(u, `${T}/set_event`, buf, 'raw_syscalls', true); // a bare system name
      r.list3 = yield* cat(u, `${T}/set_event`, buf);
      r.clear = yield* echo(u, `${T}/set_event`, buf, ' '); // > set_event: O_TRUNC clears
      r.list4 = yield* cat(u, `${T}/set_event`, buf);
      return 0;
    });
    const sorted = (t: unknown): string[] => (t as string).split('\n').filter((l) => l !== '').sort();
    expect(r).toMatchObject({
      w1: 6, w2: 14, w3: 3, bad: -EINVAL, tlb: '1\n', all: 'X\n', off: 16, sys: 12, clear: 1, list4: '',
    });
    expect(sorted(r.list)).toEqual(['asi:asi_enter', 'asi:asi_exit', 'asi:asi_exit_pf', 'tlb:tlb_flush']);
    expect(sorted(r.list2)).toEqual(['asi:asi_enter', 'asi:asi_exit', 'tlb:tlb_flush']);
    expect(sorted(r.list3)).toEqual(['asi:asi_enter', 'asi:asi_exit', 'raw_syscalls:sys_enter', 'raw_syscalls:sys_exit', 'tlb:tlb_flush']);
    k.shutdown();
  });

  it("enable files read 0/1/X and take only 0 or 1 (Linux's EINVAL otherwise)", () => {
    const k = boot('mem=64M cpus=1');
    const r: Record<string, unknown> = {};
    run_one(k, function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, BUF_BYTES, RW, ANON);
      r.two = yield* echo(u, `${T}/events/asi/enable`, buf, '2');
      r.word = yield* echo(u, `${T}/events/asi/enable`, buf, 'on');
      r.neg = yield* echo(u, `${T}/events/enable`, buf, '-1');
      r.space = yield* echo(u, `${T}/events/enable`, buf, ' 1');
      r.empty = yield* echo(u, `${T}/events/enable`, buf, '\n');
      r.plus = yield* echo(u, `${T}/events/tlb/tlb_flush/enable`, buf, '+1\n');
      r.sys = yield* cat(u, `${T}/events/tlb/enable`, buf);
      r.top = yield* cat(u, `${T}/events/enable`, buf);
      r.all_on = yield* echo(u, `${T}/events/enable`, buf, '1');
      r.top2 = yield* cat(u, `${T}/events/enable`, buf);
      r.all_off = yield* echo(u, `${T}/events/enable`, buf, '0');
      r.top3 = yield* cat(u, `${T}/events/enable`, buf);
      // offsets: the second byte of "1\n", then end of file
      const fd = yield* u.open(`${T}/events/tlb/enable`, O_RDONLY);
      r.p1 = yield* u.pread64(fd, buf, 10, 1);
      r.p2 = yield* u.pread64(fd, buf, 10, 2);
      yield* u.close(fd);
      return 0;
    });
    expect(r).toMatchObject({
      two: -EINVAL, word: -EINVAL, neg: -EINVAL, space: -EINVAL, empty: -EINVAL, plus: 3,
      sys: '1\n', top: 'X\n', all_on: 1, top2: '1\n', all_off: 1, top3: '0\n', p1: 1, p2: 0,
    });
    k.shutdown();
  });

  it('bad paths and directories get Linux\'s errno', () => {
    const k = boot('mem=64M cpus=1');
    const r: Record<string, number> = {};
    run_one(k, function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, BUF_BYTES, RW, ANON);
      r.noent = yield* u.open(`${T}/events/nosuch/enable`, O_RDONLY);
      r.notdir = yield* u.open(`${T}/trace/x`, O_RDONLY);
      r.create = yield* u.open(`${T}/newfile`, O_WRONLY | O_CREAT);
      const fd = yield* u.open(`${T}/trace_pipe`, O_WRONLY);
      r.pipe_write = yield* write_str(u, fd, buf, 'x');
      return 0;
    });
    expect(r).toEqual({ noent: -ENOENT, notdir: -ENOTDIR, create: -EACCES, pipe_write: -EINVAL });
    k.shutdown();
  });
});

describe('trace_tracefs_trace', () => {
  it('trace shows the header and the entries without consuming; > trace clears; reading pauses recording', () => {
    const k = boot();
    const r: Record<string, unknown> = {};
    run_one(k, function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, BUF_BYTES, RW, ANON);
      yield* echo(u, `${T}/events/asi/enable`, buf, '1');
      yield* pread_workload(u, buf + 8192, 3);
      const t1 = yield* cat(u, `${T}/trace`, buf, 333);
      const t2 = yield* cat(u, `${T}/trace`, buf, 4096);
      r.same = t1 === t2;
      r.t1 = t1;
      // pause-on-trace: exits while `trace` is open for reading are not recorded
      const fd = yield* u.open(`${T}/trace`, O_RDONLY);
      const before = (t1 as string).split('\n').filter((l) => l.includes('asi_exit_pf')).length;
      yield* pread_workload(u, buf + 8192, 3);
      yield* u.close(fd);
      const t3 = yield* cat(u, `${T}/trace`, buf);
      r.paused = (t3 as string).split('\n').filter((l) => l.includes('asi_exit_pf')).length === before;
      r.clear = yield* echo(u, `${T}/trace`, buf, '');
      r.t4 = yield* cat(u, `${T}/trace`, buf);
      return 0;
    });
    const t1 = r.t1 as string;
    expect(r.same).toBe(true);
    expect(t1.startsWith('# tracer: nop\n#\n# entries-in-buffer/entries-written: ')).toBe(true);
    expect(t1).toContain(': asi_exit_pf: address=');
    expect(r.paused).toBe(true);
    expect(r.clear).toBe(0);
    expect(r.t4).toMatch(/entries-in-buffer\/entries-written: 0\/0 /);
    expect(r.t4).not.toContain('asi_exit_pf');
    expect(k.shutdown().leaked).toEqual([]);
  });

  it('tracing_on and available_events', () => {
    const k = boot('mem=64M cpus=1');
    const r: Record<string, unknown> = {};
    run_one(k, function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, BUF_BYTES, RW, ANON);
      r.on = yield* cat(u, `${T}/tracing_on`, buf);
      r.off = yield* echo(u, `${T}/tracing_on`, buf, '0\n');
      r.on2 = yield* cat(u, `${T}/tracing_on`, buf);
      yield* echo(u, `${T}/tracing_on`, buf, '1');
      r.avail = yield* cat(u, `${T}/available_events`, buf);
      yield* echo(u, '/sys/kernel/debug/tracing/events/tlb/enable', buf, '1'); // the same tracefs
      r.same = yield* cat(u, `${T}/events/tlb/enable`, buf);
      return 0;
    });
    expect(r).toMatchObject({ on: '1\n', off: 2, on2: '0\n', same: '1\n' });
    expect((r.avail as string).split('\n')).toEqual(expect.arrayContaining(['asi:asi_exit_pf', 'tlb:tlb_flush', 'sched:sched_switch']));
    k.shutdown();
  });
});
