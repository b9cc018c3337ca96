/*
 * tests/tools/include/nolibc.test.ts - the syscall wrappers' request objects.
 *
 * nolibc reuses a plain wrapper's request once its syscall has returned:
 * two wrappers held at once must still be two requests, and a trace
 * record must keep the arguments it was written with.
 */
import { describe, expect, it } from 'vitest';
import { start_kernel } from '../../../init/main.ts';
import type { Nolibc } from '../../../tools/include/nolibc.ts';
import { trace_entries } from '../../../kernel/trace/index.ts';
import { EBADF } from '../../../include/uapi/asm-generic/errno.ts';
import { O_RDWR, O_CREAT } from '../../../include/uapi/linux/fcntl.ts';

/** Run one program; returns what it recorded, then its exit status, then its pid. */
function run(cmdline: string, prog: (u: Nolibc, rec: number[]) => Generator<{ nr: number; args: readonly number[] }, number, number>): number[] {
  const k = start_kernel(cmdline);
  const rec: number[] = [];
  const pid = k.spawn('t', (u: Nolibc) => prog(u, rec));
  const r = k.run();
  rec.push(r.exited[0].status, pid);
  k.shutdown();
  return rec;
}

describe('tools_include_nolibc', () => {
  it('reuses a returned request, and two wrappers held at once stay two', () => {
    const rec = run('mem=32M cpus=1', function* (u, rec) {
      const fd = yield* u.open('/f', O_RDWR | O_CREAT, 0o644);
      const a = u.close(fd); // outstanding: the next close() must not clobber it
      const b = u.close(1000);
      rec.push(yield* b, yield* a);
      rec.push(yield* u.close(fd)); // already closed by a
      const c = u.getpid();
      const pid = yield* c;
      rec.push(pid, u.getpid() === c ? 1 : 0); // returned: reused
      const d = u.getpid();
      rec.push(u.getpid() === d ? 1 : 0); // not driven yet: a fresh one
      return 0;
    });
    const pid = rec[rec.length - 1];
    expect(rec).toEqual([-EBADF, 0, -EBADF, pid, 1, 0, 0, pid]);
  });

  it('a trace record keeps its own arguments when the request is reused', () => {
    const k = start_kernel('mem=32M cpus=1 trace_event=raw_syscalls:sys_enter');
    k.spawn('t', function* (u: Nolibc) {
      yield* u.close(7);
      yield* u.close(8);
      return 0;
    });
    k.run();
    const closes = trace_entries()
      .map((e) => e.fields as { nr: number; args: readonly number[] })
      .filter((f) => f.nr === 3);
    k.shutdown();
    expect(closes.map((f) => f.args[0])).toEqual([7, 8]);
  });
});

describe('tools_include_nolibc_compute', () => {
  it('compute_nan_or_negative: a count that is not a positive number burns nothing; the clock never goes back or stops', () => {
    const k = start_kernel('mem=32M cpus=1');
    const c = k.machine.cpus[0];
    const seen: number[] = [];
    k.spawn('t', function* (u: Nolibc) {
      yield* u.getpid();
      for (const n of [Number.NaN, -1e12, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 0]) {
        const t0 = c.clock;
        u.compute(n);
        seen.push(c.clock - t0);
      }
      return 0;
    });
    const r = k.run();
    expect(r.reason).toBe('done');
    expect(seen).toEqual([0, 0, 0, 0, 0]);
    expect(Number.isFinite(c.clock)).toBe(true);
    k.shutdown();
  });
});
