/*
 * tests/mm/failslab.test.ts - object cache fault injection (failslab=).
 *
 * Mirrors what Documentation/fault-injection/fault-injection.rst promises
 * for failslab, at the sites tskernel has: vmap_area (alloc_vmap_area),
 * vm_struct (__get_vm_area_node), vm_area_struct (do_mmap) and the ephmap
 * slot (ephmap_get). Each failure goes up the stack as Linux's does
 * (-ENOMEM, NULL, the ephmap fallback), the boot is never failed, and
 * nothing leaks: no page, no vmap area.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../include/uapi/linux/mman.ts';
import { O_CREAT, O_RDWR } from '../../include/uapi/asm-generic/fcntl.ts';
import { ENOMEM } from '../../include/uapi/asm-generic/errno.ts';
import { failslab, failslab_nr_failed } from '../../mm/failslab.ts';
import { vmalloc, vm_map_ram } from '../../mm/vmalloc.ts';
import { vmap_state } from '../../mm/vmap_area.ts';
import { purge_vmap_area_lazy } from '../../mm/vmap_purge.ts';
import { alloc_pages, __free_pages } from '../../mm/page_alloc.ts';
import { GFP_KERNEL } from '../../mm/gfp.ts';
import { dmesg } from '../../kernel/printk.ts';
import { parse_kernel_params, format_cmdline, ParamError } from '../../kernel/params.ts';

/** Six forked children: mmap+touch a buffer, write a tmpfs file, read it back. */
function workload(cmdline: string) {
  const k = start_kernel(`mem=64M cpus=2 ${cmdline}`);
  const busy0 = vmap_state.nr_busy;
  const rets: number[] = [];
  function* work(u: Nolibc, i: number): ReturnType<Nolibc['getpid']> {
    const buf = yield* u.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    rets.push(buf);
    if (buf < 0) return 1;
    u.poke32(buf, i);
    const fd = yield* u.open(`/f${i}`, O_CREAT | O_RDWR);
    rets.push(fd);
    if (fd >= 0) {
      for (let j = 0; j < 4; j++) rets.push(yield* u.pwrite64(fd, buf, 4096, j * 4096));
      for (let j = 0; j < 8; j++) rets.push(yield* u.pread64(fd, buf, 4096, (j % 4) * 4096));
      rets.push(yield* u.close(fd));
    }
    return 0;
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
  purge_vmap_area_lazy();
  const busy_leaked = vmap_state.nr_busy - busy0;
  const nr_failed = new Map(failslab.nr_failed);
  const ephmap_failed = k.vmstat().nr_ephmap_get_failed ?? 0;
  const log = dmesg();
  const report = k.shutdown();
  return { r, rets, busy_leaked, nr_failed, ephmap_failed, log, report };
}

describe('mm_failslab', () => {
  it('parses Linux fault-attr syntax and prints it back', () => {
    const p = parse_kernel_params('failslab=2,50,0,-1 failslab_verbose=0', { host_totalmem: 2 ** 36 });
    expect(p.failslab).toEqual({ interval: 2, probability: 50, space: 0, times: -1 });
    expect(format_cmdline(p)).toMatch(/failslab=2,50,0,-1 failslab_verbose=0/);
    expect(() => parse_kernel_params('failslab=1,101,0,-1')).toThrow(ParamError);
    expect(parse_kernel_params('').failslab).toBeNull();
  });

  it('boots at probability 100 (the boot is never failed), then fails vmalloc, vm_map_ram and mmap cleanly', () => {
    const k = start_kernel('mem=64M failslab=1,100,0,-1');
    expect(failslab_nr_failed()).toBe(0);
    const busy0 = vmap_state.nr_busy;
    expect(vmalloc(8192)).toBeNull();
    const page = alloc_pages(GFP_KERNEL, 0)!;
    expect(vm_map_ram([page], 1, -1)).toBeNull();
    expect(vm_map_ram([page, page + 1, page + 2, page + 3, page + 4, page + 5, page + 6, page + 7,
      page + 8, page + 9, page + 10, page + 11, page + 12, page + 13, page + 14, page + 15, page + 16,
      page + 17, page + 18, page + 19, page + 20, page + 21, page + 22, page + 23, page + 24, page + 25,
      page + 26, page + 27, page + 28, page + 29, page + 30, page + 31, page + 32, page + 33], 34, -1)).toBeNull();
    __free_pages(page, 0);
    let mmap_ret = 0;
    k.spawn('mapper', function* (u: Nolibc) {
      mmap_ret = yield* u.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      return 0;
    });
    expect(k.run().reason).toBe('done');
    expect(mmap_ret).toBe(-ENOMEM);
    expect(failslab.nr_failed.get('vm_struct')).toBeGreaterThan(0);
    expect(failslab.nr_failed.get('vm_area_struct')).toBe(1);
    expect(dmesg()).toMatch(/FAULT_INJECTION: forcing a failure\.\nname failslab, interval 1, probability 100/);
    expect(dmesg()).not.toMatch(/kernel BUG/);
    purge_vmap_area_lazy();
    expect(vmap_state.nr_busy).toBe(busy0);
    expect(k.shutdown().leaked).toEqual([]);
  });

  it('a 10% workload over asi=off and both ephmaps completes: -ENOMEM, ephmap fallbacks, no leak', () => {
    const seen = new Map<string, number>();
    let enomem = 0;
    for (const v of ['asi=off', 'asi=on ephmap=percpu', 'asi=on ephmap=vmalloc']) {
      for (const seed of [1, 2]) {
        const o = workload(`${v} seed=${seed} failslab=1,10,0,-1 failslab_verbose=0`);
        expect(o.r.reason).toBe('done');
        expect(o.log).not.toMatch(/kernel BUG|Bad page state/);
        expect(o.report.leaked).toEqual([]);
        expect(o.busy_leaked).toBe(0);
        for (const x of o.rets) if (x < 0) expect(x).toBeGreaterThanOrEqual(-4095);
        // Reads through a failed ephmap_get fell back: every pread64 still read its page.
        expect(o.rets.filter((x) => x === -ENOMEM).length + o.rets.filter((x) => x === 4096).length)
          .toBeGreaterThan(0);
        for (const [name, n] of o.nr_failed) seen.set(name, (seen.get(name) ?? 0) + n);
        enomem += o.rets.filter((x) => x === -ENOMEM).length;
        if (v !== 'asi=off') expect(o.ephmap_failed).toBeGreaterThanOrEqual(o.nr_failed.get('ephmap') ?? 0);
      }
    }
    expect(seen.get('ephmap')).toBeGreaterThan(0);
    expect(seen.get('vmap_area')).toBeGreaterThan(0);
    expect(seen.get('vm_area_struct')).toBeGreaterThan(0);
    expect(enomem).toBeGreaterThan(0);
  });

  it('is off without failslab=', () => {
    const o = workload('asi=on seed=1');
    expect(failslab_nr_failed()).toBe(0);
    expect(o.rets.filter((x) => x < 0)).toEqual([]);
  });
});
