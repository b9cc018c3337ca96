/*
 * tests/arch/x86/entry/usermode.test.ts - a user program's garbage is that program's error.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../../../init/main.ts';
import type { Nolibc } from '../../../../tools/include/nolibc.ts';
import type { SyscallRequest } from '../../../../kernel/sched/task.ts';
import { ENOSYS } from '../../../../include/uapi/asm-generic/errno.ts';

describe('x86_entry_usermode_garbage', () => {
  it('yield_undefined_or_null: a request that is not one reads as syscall -1 (-ENOSYS), no host TypeError', () => {
    const k = start_kernel('mem=32M cpus=1');
    const rec: number[] = [];
    k.spawn('t', function* (_u: Nolibc) {
      rec.push(yield undefined as unknown as SyscallRequest);
      rec.push(yield null as unknown as SyscallRequest);
      rec.push(yield 42 as unknown as SyscallRequest);
      rec.push(yield { nr: 39, args: null } as unknown as SyscallRequest); // getpid, no argument array
      return 5;
    });
    const r = k.run();
    expect(rec.slice(0, 3)).toEqual([-ENOSYS, -ENOSYS, -ENOSYS]);
    expect(rec[3]).toBeGreaterThan(0);
    expect(r.exited[0].status).toBe(5);
    k.shutdown();
  });
});
