/*
 * tests/mm/fail_page_alloc_workload.test.ts - fail_page_alloc= on a booted kernel.
 *
 * No Linux counterpart as a file: what Documentation/fault-injection
 * promises a user who turns fail_page_alloc on with every filter off. The
 * boot is never failed (injection is armed at the end of start_kernel);
 * a user workload (fork, tmpfs writes and reads, mmap and touch) then runs
 * to completion with injected failures turned into -ENOMEM or an OOM kill,
 * no host exception, no BUG and no leaked page at shutdown.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../include/uapi/linux/mman.ts';
import { O_CREAT, O_RDWR } from '../../include/uapi/asm-generic/fcntl.ts';
import { ENOMEM } from '../../include/uapi/asm-generic/errno.ts';
import { fail_page_alloc, fault_inject_boot } from '../../mm/fail_page_alloc.ts';
import { failslab_nr_failed } from '../../mm/failslab.ts';
import { warn_alloc } from '../../mm/page_alloc.ts';
import { GFP_KERNEL } from '../../mm/gfp.ts';
import { dmesg } from '../../kernel/printk.ts';

const ALL_OFF = 'fail_page_alloc_ignore_gfp_wait=0 fail_page_alloc_ignore_gfp_highmem=0 fail_page_alloc_min_order=0';

/** Six forked children each write, read back and mmap+touch; returns every syscall result. */
function workload(cmdline: string) {
  const k = start_kernel(`mem=64M cpus=2 ${cmdline}`);
  const rets: number[] = [];
  function* work(u: Nolibc, i: number): ReturnType<Nolibc["getpid"]> {
    const buf = yield* u.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    rets.push(buf);
    if (buf < 0) return 1;
    u.poke32(buf, i);
    const fd = yield* u.open(`/f${i}`, O_CREAT | O_RDWR);
    rets.push(fd);
    if (fd >= 0) {
      for (let j = 0; j < 4; j++) rets.push(yield* u.pwrite64(fd, buf, 4096, j * 4096));
      rets.push(yield* u.pread64(fd, buf, 4096, 0));
      rets.push(yield* u.close(fd));
    }
    const b = yield* u.mmap(0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    rets.push(b);
    if (b >= 0) {
      for (let j = 0; j < 8; j++) u.poke32(b + j * 4096, j);
      rets.push(yield* u.munmap(b, 8 * 4096));
    }
    return 5;
  }
  k.spawn('parent', function* (u: Nolibc) {
    const pids: number[] = [];
    for (let i = 0; i < 6; i++) {
      const pid = yield* u.clone(0, function* (c: Nolibc) { return yield* work(c, i); });
      rets.push(pid);
      if (pid > 0) pids.push(pid);
    }
    for (const p of pids) rets.push((yield* u.waitpid(p))[1]);
    return 0;
  });
  const r = k.run();
  const injected = fail_page_alloc.nr_failed;
  const slab = failslab_nr_failed();
  const log = dmesg();
  const report = k.shutdown();
  return { r, rets, injected, slab, log, report };
}

describe('mm_fail_page_alloc_workload', () => {
  it('boots with every filter off and probability 100: boot allocations are never failed', () => {
    const k = start_kernel(`mem=64M fail_page_alloc=1,100,0,-1 ${ALL_OFF} fail_page_alloc_verbose=0`);
    expect(fault_inject_boot.booting).toBe(false);
    expect(fail_page_alloc.nr_failed).toBe(0);
    k.shutdown();
  });

  it('a 10% workload completes over several seeds: -ENOMEM or OOM kills, injected > 0, no leak', () => {
    let injected = 0, enomem = 0, killed = 0;
    for (const seed of [1, 2, 3, 4]) {
      const o = workload(`seed=${seed} fail_page_alloc=1,10,0,-1 ${ALL_OFF} fail_page_alloc_verbose=0`);
      expect(o.r.reason).toBe('done');
      expect(o.log).not.toMatch(/kernel BUG|Bad page state/);
      expect(o.report.leaked).toEqual([]);
      // Every failure is a negative errno in Linux's range.
      for (const v of o.rets) if (v < 0) expect(v).toBeGreaterThanOrEqual(-4095);
      injected += o.injected;
      enomem += o.rets.filter((v) => v === -ENOMEM).length;
      killed += (o.log.match(/Out of memory: Killed process/g) ?? []).length;
    }
    expect(injected).toBeGreaterThan(0);
    expect(enomem + killed).toBeGreaterThan(0);
    expect(enomem).toBeGreaterThan(0);
  });

  it('fail_page_alloc and failslab together at 1%, 5%, 10% across asi=off, both ephmaps and pti=on: no BUG, no leak', () => {
    let injected = 0, slab = 0;
    for (const v of ['asi=off', 'asi=on ephmap=percpu', 'asi=on ephmap=vmalloc', 'pti=on']) {
      for (const pr of [1, 5, 10]) {
        const o = workload(`${v} seed=3 fail_page_alloc=1,${pr},0,-1 failslab=1,${pr},0,-1 ${ALL_OFF} ` +
          'fail_page_alloc_verbose=0 failslab_verbose=0');
        expect(o.r.reason).toBe('done');
        expect(o.log).not.toMatch(/kernel BUG|Bad page state/);
        expect(o.report.leaked).toEqual([]);
        for (const x of o.rets) if (x < 0) expect(x).toBeGreaterThanOrEqual(-4095);
        injected += o.injected;
        slab += o.slab;
      }
    }
    expect(injected).toBeGreaterThan(0);
    expect(slab).toBeGreaterThan(0);
  });

  it('the same workload with fail_page_alloc off fails nothing', () => {
    const o = workload('seed=1');
    expect(o.injected).toBe(0);
    expect(o.rets.filter((v) => v < 0)).toEqual([]);
    expect(o.report.leaked).toEqual([]);
  });

  it('warn_alloc names the current task, not swapper/N', () => {
    const k = start_kernel('mem=64M');
    k.spawn('allocator', function* (u: Nolibc) {
      warn_alloc(GFP_KERNEL, 'test failure: order:%d', 3);
      return yield* u.getpid();
    });
    k.run();
    expect(dmesg()).toMatch(/allocator: test failure: order:3, mode:0x[0-9a-f]+\(GFP_KERNEL\)/);
    expect(dmesg()).toMatch(/CPU: \d PID: 1 Comm: allocator/);
    k.shutdown();
  });
});
