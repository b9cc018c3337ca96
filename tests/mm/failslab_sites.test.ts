/*
 * tests/mm/failslab_sites.test.ts - the failslab sites issue 17 added
 * (KUnit-style suite mm_failslab_sites): filp at open, radix_tree_node in
 * the page cache's xarray, vm_area_struct at a VMA split, pgtable pages;
 * and failslab_cache_filter=, which narrows injection to named caches.
 * Each failure reaches the user as -ENOMEM (or a short count, or EFAULT
 * where a user page could not be mapped), with no leak and no BUG.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../include/uapi/linux/mman.ts';
import { O_CREAT, O_RDWR } from '../../include/uapi/asm-generic/fcntl.ts';
import { ENOMEM } from '../../include/uapi/asm-generic/errno.ts';
import { failslab } from '../../mm/failslab.ts';
import { parse_kernel_params, ParamError } from '../../kernel/params.ts';
import { xa_store_needs_node, xa_store, XArray } from '../../lib/xarray.ts';
import { asi_fuzz } from '../../tools/testing/asi_fuzz.ts';

const RW = PROT_READ | PROT_WRITE, ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/* Boot with every allocation from `cache` failing; run `prog`; return its results, the failures and the leak count. */
function with_failing(cache: string, prog: (u: Nolibc, out: number[]) => Generator<{ nr: number; args: readonly number[] }, number, number>) {
  const k = start_kernel(`mem=64M cpus=2 failslab=1,100,0,-1 failslab_verbose=0 failslab_cache_filter=${cache}`);
  const out: number[] = [];
  k.spawn('t', (u) => prog(u, out));
  const r = k.run();
  const failed = failslab.nr_failed.get(cache) ?? 0;
  const others = [...failslab.nr_failed].filter(([n]) => n !== cache).length;
  const leaked = k.shutdown().leaked.length;
  return { out, failed, others, leaked, reason: r.reason };
}

describe('mm_failslab_sites', () => {
  it('filp: open() fails with -ENOMEM before the walk, so O_CREAT creates nothing', () => {
    const r = with_failing('filp', function* (u, out) {
      out.push(yield* u.open('/new', O_CREAT | O_RDWR, 0o644));
      out.push(yield* u.mkdir('/dir')); // not a file: unaffected
      return 0;
    });
    expect(r.out).toEqual([-ENOMEM, 0]);
    expect([r.failed, r.others, r.leaked]).toEqual([1, 0, 0]);
  });

  it('radix_tree_node: a write needing a new xarray node fails with -ENOMEM, and the file stays empty', () => {
    const r = with_failing('radix_tree_node', function* (u, out) {
      const b = yield* u.mmap(0, 4096, RW, ANON);
      u.poke32(b, 7);
      const fd = yield* u.open('/f', O_CREAT | O_RDWR, 0o644);
      out.push(yield* u.pwrite64(fd, b, 4096, 0)); // index 0 sits in the head: no node
      out.push(yield* u.pwrite64(fd, b, 4096, 4096)); // index 1 needs the first node
      out.push(yield* u.pread64(fd, b, 8192, 0));
      return 0;
    });
    expect(r.out).toEqual([4096, -ENOMEM, 4096]);
    expect(r.failed).toBeGreaterThan(0);
    expect([r.others, r.leaked]).toEqual([0, 0]);
  });

  it('vm_area_struct: munmap() and mprotect() of the middle of a mapping fail with -ENOMEM and change nothing', () => {
    const r = with_failing('vm_area_struct', function* (u, out) {
      out.push(yield* u.mmap(0, 4096, RW, ANON)); // do_mmap's vm_area_alloc fails too
      return 0;
    });
    expect(r.out).toEqual([-ENOMEM]);
    const k = start_kernel('mem=64M cpus=2 failslab=2,100,0,-1 failslab_verbose=0 failslab_cache_filter=vm_area_struct');
    // interval 2: every other allocation fails; the mmap below takes the first (it succeeds), the splits the next ones.
    const out: number[] = [];
    k.spawn('t', function* (u) {
      const a = yield* u.mmap(0, 3 * 4096, RW, ANON);
      out.push(a > 0 ? 0 : a);
      u.poke32(a + 4096, 5);
      out.push(yield* u.munmap(a + 4096, 4096));
      out.push(yield* u.mprotect(a + 4096, 4096, PROT_READ));
      out.push(u.peek32(a + 4096)); // still mapped, still there
      return 0;
    });
    expect(k.run().reason).toBe('done');
    expect(out[0]).toBe(0);
    expect(out.slice(1, 3).some((x) => x === -ENOMEM)).toBe(true);
    expect(k.shutdown().leaked).toEqual([]);
  });

  it('pgtable: a user fault that needs a page-table page takes the OOM path (SIGKILL, as pagefault_out_of_memory), no leak', () => {
    const k = start_kernel('mem=64M cpus=2 failslab=1,100,0,-1 failslab_verbose=0 failslab_cache_filter=pgtable');
    let mapped = 0;
    k.spawn('t', function* (u) {
      mapped = yield* u.mmap(0, 4096, RW, ANON); // a VMA only: no table yet
      u.poke32(mapped, 1); // the fault needs a PTE page, which fails
      return 0;
    });
    const r = k.run();
    expect(mapped).toBeGreaterThan(0);
    expect(r.exited.map((e) => e.signal)).toEqual([9]);
    expect(failslab.nr_failed.get('pgtable')).toBeGreaterThan(0);
    expect(k.shutdown().leaked).toEqual([]);
  });

  it('xa_store_needs_node: true exactly where xa_store would make a node', () => {
    const xa = new XArray<number>();
    expect(xa_store_needs_node(xa, 0)).toBe(false);
    expect(xa_store_needs_node(xa, 1)).toBe(true);
    xa_store(xa, 1, 1);
    expect(xa_store_needs_node(xa, 63)).toBe(false);
    expect(xa_store_needs_node(xa, 64)).toBe(true);
    expect(xa_store_needs_node(xa, 2 ** 40)).toBe(true);
  });

  it('failslab_cache_filter= takes known cache names only', () => {
    expect(parse_kernel_params('failslab_cache_filter=filp,pgtable').failslab_cache_filter).toEqual(['filp', 'pgtable']);
    expect(() => parse_kernel_params('failslab_cache_filter=dentry')).toThrow(ParamError);
  });

  it('the fuzzer at 10% on each new site alone: faults injected, 0 exceptions, BUGs, violations, mismatches, leaks', () => {
    for (const cache of ['filp', 'radix_tree_node', 'vm_area_struct', 'pgtable']) {
      const s = asi_fuzz({ seed: 4, runs: 6, cmdline: `mem=64M cpus=2 asi=on failslab=1,10,0,-1 failslab_verbose=0 failslab_cache_filter=${cache}` });
      expect(s.faults, cache).toBeGreaterThan(0);
      expect([s.exceptions, s.violations, s.mismatches, s.leaks], `${cache}: ${s.first}`).toEqual([0, 0, 0, 0]);
    }
  }, 120_000);
});
