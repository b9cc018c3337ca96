import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../init/main.ts';
import { ParamError } from '../../kernel/params.ts';
import { alloc_pages } from '../../mm/page_alloc.ts';
import { GFP_KERNEL } from '../../mm/gfp.ts';
import { KernelPanic } from '../../kernel/panic.ts';
import { fault_inject_boot } from '../../mm/fail_page_alloc.ts';

describe('init_main', () => {
  it('boots, reports memory, and shuts down without leaks', () => {
    const k = start_kernel('mem=64M cpus=2 seed=3');
    const mi = k.meminfo();
    // less the low 1 MiB, the 4 MiB image, mem_map and the early page tables
    expect(mi.MemTotal).toBeLessThan(64 * 1024 - 5 * 1024);
    expect(mi.MemTotal).toBeGreaterThan(57 * 1024);
    expect(mi.MemFree).toBeLessThanOrEqual(mi.MemTotal);
    expect(k.vmstat().nr_free_pages).toBe(mi.MemFree / 4);
    expect(k.dmesg()).toMatch(/Command line: mem=64M cpus=2 seed=3/);
    const r = k.shutdown();
    expect(r.leaked).toEqual([]);
  });

  it('shutdown reports a leaked page as an error', () => {
    const k = start_kernel('mem=32M cpus=1');
    const pfn = alloc_pages(GFP_KERNEL, 0);
    expect(pfn).not.toBeNull();
    expect(() => k.shutdown()).toThrow(KernelPanic);
    expect(() => k.shutdown()).toThrow(/twice/);
  });

  it('refuses bad command lines with the parameter named', () => {
    expect(() => start_kernel('mem=12Q')).toThrow(ParamError);
    expect(() => start_kernel('mem=0')).toThrow(/mem=/);
    expect(() => start_kernel('cpus=0')).toThrow(/cpus=/);
    expect(() => start_kernel('cpus=lots')).toThrow(/cpus=/);
    expect(() => start_kernel('mem=128G')).toThrow(/mem=/);
    expect(() => start_kernel('costs=nehalem')).toThrow(/costs=/);
    expect(() => start_kernel('costs=sapphire_rapids,nosuchkey=3')).toThrow(/nosuchkey/);
  });

  it('leaves no boot-time fault-injection exemption behind a boot that throws', () => {
    expect(() => start_kernel('mem=12Q')).toThrow(ParamError);
    expect(fault_inject_boot.booting).toBe(false);
  });

  it('reports unknown parameters as Linux does and boots on', () => {
    const k = start_kernel('mem=32M frobnicate=1 quietly');
    expect(k.dmesg()).toMatch(/Unknown kernel command line parameters "quietly frobnicate=1", will be passed to user space\./);
    k.shutdown();
  });

  it('is deterministic: same command line, same counters', () => {
    const run = (): string => {
      const k = start_kernel('mem=64M cpus=2 seed=7');
      const out = JSON.stringify([k.vmstat(), k.perf_stat()]);
      k.shutdown();
      return out;
    };
    expect(run()).toBe(run());
  });

  it('mem=64G boots with host memory bounded by what is touched', () => {
    const k = start_kernel('mem=64G cpus=1');
    expect(k.machine.mem.host_bytes).toBeLessThan(8 << 20);
    expect(k.meminfo().DirectMap1G).toBe(64 * 1048576);
    k.shutdown();
  });
});
