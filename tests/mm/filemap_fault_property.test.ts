/*
 * tests/mm/filemap_fault_property.test.ts - a tmpfs or ramfs file mapped
 * shared and privately, driven by random stores through either mapping,
 * pwrite(), and ftruncate() down and up, against a model of the file and
 * of the private mapping's copies.
 *
 * The model: the file is a list of pages (four 32-bit slots each); the
 * private mapping shows the file's page until its first store there, which
 * copies the page as it is then (copy-on-write), after which it shows its
 * copy. Truncation drops file pages beyond the new size and the private
 * copies there too (unmap_mapping_range with even_cows); growing the file
 * again brings zeros. After every step every slot of every page within
 * EOF is read through pread(), the shared mapping and the private
 * mapping; pages beyond EOF must be unmapped in both. Shutdown's leak scan
 * runs at the end of every case.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { RW, ANON } from '../fs/helpers.ts';
import { user_pte } from './cow_helpers.ts';
import { O_RDWR, O_CREAT } from '../../include/uapi/linux/fcntl.ts';
import { MAP_SHARED, MAP_PRIVATE } from '../../include/uapi/linux/mman.ts';
import { vm_debug } from '../../mm/debug.ts';

type Sys = Generator<{ nr: number; args: readonly number[] }, number, number>;
const P = 4096;
const NPAGES = 4;
const SLOTS = [0, 1000, 2048, 4092];

type Kind = 'shared' | 'private' | 'pwrite' | 'truncate';
interface Op { kind: Kind; page: number; slot: number; val: number }

function run_case(path: string, ops: readonly Op[]): string[] {
  const k = start_kernel('mem=32M cpus=1');
  const errors: string[] = [];
  let file: number[][] = [];
  const copies = new Map<number, number[]>();
  k.spawn('t', function* (u: Nolibc): Sys {
    const buf = yield* u.mmap(0, P, RW, ANON);
    const fd = yield* u.open(path, O_RDWR | O_CREAT);
    yield* u.ftruncate(fd, 3 * P);
    file = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]];
    const sm = yield* u.mmap(0, NPAGES * P, RW, MAP_SHARED, fd, 0);
    const pm = yield* u.mmap(0, NPAGES * P, RW, MAP_PRIVATE, fd, 0);
    const priv = (p: number): number[] => copies.get(p) ?? file[p];
    for (let step = 0; step < ops.length; step++) {
      const op = ops[step];
      const p = op.page % NPAGES;
      const off = p * P + SLOTS[op.slot];
      if (op.kind === 'truncate') {
        const n = p < file.length ? p : p + 1; // shrink to p pages, or grow to p + 1
        yield* u.ftruncate(fd, n * P);
        if (n < file.length) {
          file = file.slice(0, n);
          for (const q of [...copies.keys()]) if (q >= n) copies.delete(q);
        } else while (file.length < n) file.push([0, 0, 0, 0]);
      } else {
        if (p >= file.length) continue; // beyond EOF: SIGBUS, tested elsewhere
        if (op.kind === 'shared') u.poke32(sm + off, op.val);
        else if (op.kind === 'pwrite') {
          u.poke32(buf, op.val);
          yield* u.pwrite64(fd, buf, 4, off);
        } else {
          if (!copies.has(p)) copies.set(p, file[p].slice());
          u.poke32(pm + off, op.val);
        }
        if (op.kind === 'private') copies.get(p)![op.slot] = op.val;
        else file[p][op.slot] = op.val;
      }
      for (let q = 0; q < NPAGES; q++) {
        if (q >= file.length) {
          if (user_pte(sm + q * P) || user_pte(pm + q * P)) errors.push(`step ${step}: page ${q} beyond EOF still mapped`);
          continue;
        }
        for (let s = 0; s < SLOTS.length; s++) {
          const at = q * P + SLOTS[s];
          yield* u.pread64(fd, buf, 4, at);
          const got = [u.peek32(buf), u.peek32(sm + at), u.peek32(pm + at)];
          const want = [file[q][s], file[q][s], priv(q)[s]];
          if (got.join() !== want.join()) errors.push(`step ${step} ${op.kind}: page ${q} slot ${s}: ${got} want ${want}`);
        }
      }
      if (errors.length) break;
    }
    return 0;
  });
  const r = k.run();
  for (const e of r.exited) if (e.status !== 0) errors.push(`exit status ${e.status}`);
  if (vm_debug.nr_bad_pages) errors.push(`${vm_debug.nr_bad_pages} bad page(s)`);
  k.shutdown();
  return errors;
}

const op_arb = fc.record({
  kind: fc.constantFrom<Kind>('shared', 'private', 'private', 'pwrite', 'truncate'),
  page: fc.nat(NPAGES - 1),
  slot: fc.nat(SLOTS.length - 1),
  val: fc.integer({ min: 1, max: 0x7fffffff }),
});

describe('mm_filemap_fault_property', () => {
  for (const path of ['/f', '/ram/f']) {
    it(`${path}: stores through a shared and a private mapping, pwrite and truncate match the model`, () => {
      fc.assert(
        fc.property(fc.array(op_arb, { minLength: 4, maxLength: 30, size: 'medium' }), (ops) => {
          expect(run_case(path, ops)).toEqual([]);
        }),
        { numRuns: 25, seed: 21 },
      );
    });
  }
});
