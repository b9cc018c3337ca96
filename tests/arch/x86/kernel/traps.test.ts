import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../../../init/main.ts';
import type { Nolibc } from '../../../../tools/include/nolibc.ts';

describe('x86_traps_gp_user', () => {
  it('user_gp_non_canonical_segfaults: a user access to a non-canonical or negative address kills only that process (139)', () => {
    const k = start_kernel('mem=32M cpus=2');
    const seen: number[] = [];
    for (const addr of [-4096, 2 ** 48, 2 ** 63, Number.NaN, 0.5]) {
      k.spawn('gp', function* (u: Nolibc) {
        yield* u.getpid();
        u.peek32(addr);
        return 0;
      });
    }
    k.spawn('bystander', function* (u: Nolibc) {
      seen.push(yield* u.getpid());
      u.compute(10_000);
      seen.push(yield* u.getpid());
      return 7;
    });
    const r = k.run();
    expect(r.reason).toBe('done');
    const by = r.exited.filter((e) => e.comm === 'gp');
    expect(by.map((e) => e.status)).toEqual([139, 139, 139, 139, 139]);
    expect(r.exited.find((e) => e.comm === 'bystander')?.status).toBe(7);
    expect(seen.length).toBe(2);
    for (const c of k.machine.cpus) expect(c.cpl).toBe(0);
    k.shutdown();
  });

  it('a user store to a non-canonical address is a SIGSEGV too', () => {
    const k = start_kernel('mem=32M cpus=1');
    k.spawn('gp', function* (u: Nolibc) {
      yield* u.getpid();
      u.poke32(2 ** 47, 1);
      return 0;
    });
    const r = k.run();
    expect(r.exited[0].status).toBe(139);
    k.shutdown();
  });
});
