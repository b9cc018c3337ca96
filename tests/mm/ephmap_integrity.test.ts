/*
 * tests/mm/ephmap_integrity.test.ts - every ephmap= variant against the
 * page-cache reference model (property; KUnit-style suite mm_ephmap_integrity).
 *
 * The fs integrity workload (tests/fs/integrity_model.ts: several processes
 * on several CPUs doing random open/read/write/pread/pwrite/readv/writev/
 * lseek/ftruncate/unlink on tmpfs, ramfs and a huge=always tmpfs) runs with
 * ephmap_wanted() forced on, so every page-cache copy goes through the
 * variant's mapping (or its physmap fallback). Every return value and byte
 * must match the model, as with the physmap copy (asi=off); shutdown finds
 * no leaked page for any variant.
 * Then the same with asi=on and no override: the copies go through the
 * mapping because the CPU runs restricted (and through the physmap, with an
 * exit, once a syscall has exited), as each variant really runs; and
 * ephmap=off. Fewer runs: the asi=off runs above cover the workload's
 * breadth, these that restricted mode changes neither bytes nor results.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { FILES, op_arb, run_case, type Op } from '../fs/integrity_model.ts';
import { O_RDWR, O_CREAT } from '../../include/uapi/linux/fcntl.ts';
import { ephmap_state } from '../../mm/ephmap.ts';
import { vmap_state } from '../../mm/vmap_area.ts';

describe('mm_ephmap_integrity', () => {
  for (const mode of ['percpu', 'vmalloc', 'kmap', 'mermap'] as const) {
    it(`ephmap=${mode}: random file syscalls from several processes on several CPUs match the reference model`, () => {
      let gets = 0;
      fc.assert(fc.property(
        fc.constantFrom('cpus=2', 'cpus=3', 'cpus=2 kmap_local=force_map'),
        fc.array(fc.tuple(fc.nat(FILES.length - 1), fc.array(op_arb, { minLength: 5, maxLength: 25, size: '+1' })),
          { minLength: 2, maxLength: 4 }),
        (cpus, progs) => {
          run_case(`mem=64M ${cpus} ephmap=${mode}`,
            progs.map(([file, ops]) => [{ k: 'open', file, flags: O_RDWR | O_CREAT } as Op, ...ops]),
            () => { ephmap_state.test_force = true; },
            (k) => {
              gets += k.vmstat().nr_ephmap_get;
              if (ephmap_state.nr_tables !== 0) throw new Error(`${ephmap_state.nr_tables} region tables left`);
            });
        }), { numRuns: 40, seed: 15 });
      expect(gets).toBeGreaterThan(0);
    }, 240_000);
  }

  for (const mode of ['percpu', 'vmalloc', 'kmap', 'mermap', 'off'] as const) {
    it(`asi=on ephmap=${mode}: the same workload matches the model, nothing leaked, no vmap area left`, () => {
      let gets = 0;
      fc.assert(fc.property(
        fc.constantFrom('cpus=2', 'cpus=3'),
        fc.array(fc.tuple(fc.nat(FILES.length - 1), fc.array(op_arb, { minLength: 5, maxLength: 25, size: '+1' })),
          { minLength: 2, maxLength: 4 }),
        (cpus, progs) => {
          let busy0 = 0;
          run_case(`mem=64M ${cpus} asi=on setcpuid=retbleed ephmap=${mode}`,
            progs.map(([file, ops]) => [{ k: 'open', file, flags: O_RDWR | O_CREAT } as Op, ...ops]),
            () => { busy0 = vmap_state.nr_busy; },
            (k) => {
              gets += k.vmstat().nr_ephmap_get;
              if (ephmap_state.nr_tables !== 0) throw new Error(`${ephmap_state.nr_tables} region tables left`);
              if (vmap_state.nr_busy !== busy0) throw new Error(`${vmap_state.nr_busy - busy0} vmap areas left`);
            });
          if (vmap_state.vmap_lazy_nr !== 0) throw new Error(`${vmap_state.vmap_lazy_nr} lazy vmap pages after shutdown`);
        }), { numRuns: 20, seed: 15 });
      if (mode === 'off') expect(gets).toBe(0);
      else expect(gets).toBeGreaterThan(0);
    }, 240_000);
  }

  it('the same check catches a seeded bug: ephmap_put without its flush returns stale bytes', () => {
    let msg = '';
    try {
      fc.assert(fc.property(
        fc.array(fc.tuple(fc.nat(FILES.length - 1), fc.array(op_arb, { minLength: 5, maxLength: 30, size: '+1' })),
          { minLength: 2, maxLength: 4 }),
        (progs) => {
          run_case('mem=64M cpus=2 ephmap=percpu',
            progs.map(([file, ops]) => [{ k: 'open', file, flags: O_RDWR | O_CREAT } as Op, ...ops]),
            () => { ephmap_state.test_force = true; ephmap_state.test_skip_put_flush = true; });
        }), { numRuns: 40, seed: 15, endOnFailure: true });
    } catch (e) {
      msg = String(e) + String((e as { cause?: unknown }).cause ?? '');
    }
    expect(msg).toMatch(/byte \d+ is \d+, model says \d+/); // a stale translation read another page's bytes
  }, 240_000);
});
