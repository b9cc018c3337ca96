/*
 * tools/testing/asi_oracle_workload.ts - the small multi-process tmpfs
 * workload the isolation oracle's tests and cost measurement run.
 *
 * No Linux counterpart. `nproc` processes each own a file: pwrite it,
 * pread it back in 4 KiB pieces, map, touch and unmap scratch memory, fork
 * a child that preads the parent's file and exits, and wait for it. Used
 * with asi=on cpus=2, the processes interleave on both CPUs.
 */
import type { Kernel } from '../../init/main.ts';
import type { Nolibc } from '../include/nolibc.ts';
import { O_RDWR, O_CREAT } from '../../include/uapi/asm-generic/fcntl.ts';

type Sys = Generator<{ nr: number; args: readonly number[] }, number, number>;

const RW = 3;
const ANON = 0x22;

export interface WorkloadOpts {
  nproc?: number;
  rounds?: number;
  /** Close each file at the end (the real programs do; the seeded-bug tests may keep it open). */
  close?: boolean;
  /** User cycles burnt before each round's pread, so time slices run out at syscall exits (preemption there). */
  compute?: number;
}

/** One worker's program. */
export function asi_oracle_worker(id: number, rounds: number, close = true, compute = 0) {
  return function* (u: Nolibc): Sys {
    const fd = yield* u.open(`/w${id}`, O_RDWR | O_CREAT, 0o644);
    if (fd < 0) return 1;
    const buf = yield* u.mmap(0, 4 * 4096, RW, ANON);
    if (buf < 0) return 2;
    for (let i = 0; i < 4096; i += 64) u.poke32(buf + 4 * i, (id << 24) + i);
    if ((yield* u.pwrite64(fd, buf, 4 * 4096, 0)) !== 4 * 4096) return 3;
    for (let r = 0; r < rounds; r++) {
      if (compute) u.compute(compute);
      if ((yield* u.pread64(fd, buf + 4096 * (r % 2), 4096, 4096 * (r % 4))) !== 4096) return 4;
      const scratch = yield* u.mmap(0, 3 * 4096, RW, ANON);
      if (scratch < 0) return 5;
      u.poke32(scratch, r);
      u.poke32(scratch + 2 * 4096, r);
      if ((yield* u.pwrite64(fd, scratch, 4096, 4096 * (r % 4))) !== 4096) return 6;
      if ((yield* u.munmap(scratch, 3 * 4096)) !== 0) return 7;
      if (r % 3 === 1) {
        const pid = yield* u.clone(0, function* (c: Nolibc): Sys {
          const b = yield* c.mmap(0, 4096, RW, ANON);
          if ((yield* c.pread64(fd, b, 4096, 0)) !== 4096) return 9;
          return 0;
        });
        if (pid < 0) return 8;
        const [w, st] = yield* u.waitpid(pid);
        if (w !== pid || st !== 0) return 10;
      }
      yield* u.sched_yield();
    }
    if (close) yield* u.close(fd);
    return 0;
  };
}

/** Spawn the workload's processes on `k` (k.run() runs them). */
export function asi_oracle_workload(k: Kernel, opts: WorkloadOpts = {}): void {
  const nproc = opts.nproc ?? 4;
  const rounds = opts.rounds ?? 12;
  for (let i = 0; i < nproc; i++) k.spawn(`w${i}`, asi_oracle_worker(i, rounds, opts.close ?? true, opts.compute ?? 0));
}
