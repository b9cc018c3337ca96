/*
 * tests/arch/x86/hw/costs_kernel.test.ts - the modelled kernel steps are charged where they happen.
 *
 * No Linux counterpart. A user process opens a tmpfs file of 256 pages,
 * preads one 4 KiB page once to warm it, then once more between two reads
 * of its CPU's clock: syscall entry to return. Each kernel-step key is then
 * counted by running the same workload with that key raised by BUMP
 * cycles: the clock difference divided by BUMP is how many times the key
 * was charged. The hot pread must charge each read-path step exactly as
 * often as Linux does the step; the allocator, page-table and fault keys
 * must be charged somewhere in the whole run (setup, faults, exit).
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../../../init/main.ts';
import { this_cpu } from '../../../../kernel/smp.ts';
import type { Nolibc } from '../../../../tools/include/nolibc.ts';
import { O_RDWR, O_CREAT } from '../../../../include/uapi/asm-generic/fcntl.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../../../include/uapi/linux/mman.ts';
import { COST_PROFILES, DEFAULT_COST_PROFILE, cycles_to_ns, type CostKey } from '../../../../arch/x86/hw/costs.ts';

const PAGES = 256;
const BUMP = 1000;

interface Run {
  /** Cycles of the timed pread, syscall entry to return. */
  pread: number;
  /** Every CPU's clock summed at the end of the run. */
  total: number;
}

function workload(override: string): Run {
  const k = start_kernel(`mem=64M cpus=1${override ? ` costs=${DEFAULT_COST_PROFILE},${override}` : ''}`);
  let pread = -1;
  k.spawn('reader', function* (u: Nolibc) {
    const buf = yield* u.mmap(0, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    u.poke(buf, new Uint8Array(PAGES * 4096).fill(0x5a));
    const fd = yield* u.open('/hot', O_RDWR | O_CREAT, 0o644);
    if ((yield* u.write(fd, buf, PAGES * 4096)) !== PAGES * 4096) return 1;
    const off = 100 * 4096;
    if ((yield* u.pread64(fd, buf, 4096, off)) !== 4096) return 2; // warm: the page and its TLB entries
    const c0 = this_cpu().clock;
    const r = yield* u.pread64(fd, buf, 4096, off);
    pread = this_cpu().clock - c0;
    if (r !== 4096) return 3;
    return 0;
  });
  const res = k.run();
  expect(res.exited[0]?.status).toBe(0);
  const total = k.machine.cpus.reduce((s, c) => s + c.clock, 0);
  k.shutdown();
  return { pread, total };
}

/** How many times `key` was charged in the timed pread and in the whole run. */
function count(key: CostKey, base: Run): { pread: number; total: number } {
  const v = COST_PROFILES[DEFAULT_COST_PROFILE][key];
  const bumped = workload(`${key}=${v + BUMP}`);
  // Clocks are floating point (fractional per-byte costs): round off the noise.
  const n = (d: number): number => Math.round((d / BUMP) * 1000) / 1000 + 0; // + 0: no -0
  return { pread: n(bumped.pread - base.pread), total: n(bumped.total - base.total) };
}

describe('x86_costs_kernel_steps', () => {
  const base = workload('');

  /*
   * One hot 4 KiB pread of a 256-page tmpfs file: one fd lookup, one set of
   * VFS checks, one iov_iter, a two-level xarray walk (256 indices need a
   * node at shift 6 above the leaf), one folio reference taken and dropped.
   * Also as Linux 6.x does it: the LSM hook, the fsnotify tests, the folio
   * locked and unlocked in shmem_get_folio, xas_reload after the reference,
   * folio_mark_accessed, one page through copy_page_to_iter, the atime test
   * (no update: the warm-up read updated it), and the syscall's exit work.
   */
  const PREAD_STEPS: [CostKey, number][] = [
    ['syscall_work', 1], ['fdget', 1], ['rw_verify_area', 1], ['iov_iter_init', 1], ['xa_node', 2],
    ['folio_get', 1], ['folio_put', 1],
    ['syscall_exit_work', 1], ['security_file_permission', 1], ['fsnotify_file', 1], ['folio_lock', 1],
    ['folio_unlock', 1], ['folio_mark_accessed', 1], ['copy_page_iter', 1], ['touch_atime', 1],
    ['inode_update_time', 0], ['shmem_get_folio', 1], ['xas_reload', 1],
  ];
  for (const [key, n] of PREAD_STEPS) {
    it(`a hot pread charges ${key} ${n} time(s)`, () => {
      expect(count(key, base).pread).toBe(n);
    });
  }

  it('a hot pread allocates nothing, faults nothing and does not schedule', () => {
    for (const key of ['page_alloc', 'page_free', 'buddy_order', 'pte_alloc', 'fault_work', 'schedule'] as CostKey[])
      expect(count(key, base).pread).toBe(0);
  });

  for (const key of ['page_alloc', 'page_free', 'buddy_order', 'pte_alloc', 'fault_work', 'pte_update',
    'schedule', 'context_switch'] as CostKey[]) {
    it(`the whole run (setup, faults, reads, exit) charges ${key}`, () => {
      expect(count(key, base).total).toBeGreaterThanOrEqual(1);
    });
  }

  it('the hot pread costs what its steps add up to', () => {
    const p = COST_PROFILES[DEFAULT_COST_PROFILE];
    const steps = p.syscall + p.sysret + p.syscall_work + p.fdget + p.rw_verify_area + p.iov_iter_init +
      2 * p.xa_node + p.folio_get + p.folio_put + p.copy_base + 4096 * p.copy_byte +
      p.syscall_exit_work + p.security_file_permission + p.fsnotify_file + p.folio_lock + p.folio_unlock +
      p.folio_mark_accessed + p.copy_page_iter + p.touch_atime + p.shmem_get_folio + p.xas_reload +
      p.stac + p.clac;
    // The rest is TLB hits of the copy (a nominal cycle each).
    expect(base.pread - steps).toBeGreaterThanOrEqual(0);
    expect(base.pread - steps).toBeLessThan(10);
    expect(cycles_to_ns(p, base.pread)).toBeGreaterThan(150);
  });
});
