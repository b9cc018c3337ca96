/*
 * tests/mm/cow_property.test.ts - fork, write, read and exit at random
 * over several processes on several CPUs, against a reference model of
 * who sees which page.
 *
 * The model gives each process a view: per page of one shared mapping,
 * 'none' (never touched), 'zero' (the zero page, after a read) or a frame
 * (a physical page with a value and the number of processes mapping it).
 * fork copies the view (every frame gains a user); a write to a frame
 * others map must copy exactly one page (nr_cow_copy +1) and leave their
 * frame alone, a write to an exclusive frame copies nothing, a write to
 * the zero page zeroes one page (nr_cow_zero +1). After every step the
 * acting process's page tables must agree with the model: the pfn's
 * refcount and mapcount are the frame's users (so no page can be freed
 * while mapped; debug_vm's bad_page() would also catch one); a frame is
 * never the zero page; at the end no bad page was reported and shutdown's
 * leak scan finds nothing.
 *
 * The steps run one at a time in program order: each process spins
 * (sched_yield) until the global cursor names it, so counter deltas are
 * exact even with the processes spread over CPUs.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { RW, ANON } from '../fs/helpers.ts';
import { user_pte } from './cow_helpers.ts';
import { ZERO_PAGE } from '../../mm/zero_page.ts';
import { vm_debug } from '../../mm/debug.ts';

type Sys = Generator<{ nr: number; args: readonly number[] }, number, number>;
const NPAGES = 6;

type Kind = 'fork' | 'write' | 'read' | 'check' | 'exit';
interface RawOp { kind: Kind; who: number; page: number; val: number }
interface Op { kind: Kind; proc: number; page: number; val: number; child: number }

/* Resolve "who" against the processes alive at each step; drop steps once none is left. */
function resolve(raw: readonly RawOp[]): Op[] {
  const live = [0];
  let next = 1;
  const out: Op[] = [];
  for (const r of raw) {
    if (!live.length) break;
    const proc = live[r.who % live.length];
    const op: Op = { kind: r.kind, proc, page: r.page, val: r.val, child: -1 };
    if (r.kind === 'fork') {
      if (live.length >= 6) continue;
      op.child = next++;
      live.push(op.child);
    } else if (r.kind === 'exit') {
      live.splice(live.indexOf(proc), 1);
    }
    out.push(op);
  }
  return out;
}

type Slot = 'none' | 'zero' | number;
interface Frame { value: number; users: number }

function run_case(raw: readonly RawOp[], cpus: number): string[] {
  const ops = resolve(raw);
  const k = start_kernel(`mem=32M cpus=${cpus} seed=3`);
  const errors: string[] = [];
  const views = new Map<number, Slot[]>([[0, new Array<Slot>(NPAGES).fill('none')]]);
  const frames = new Map<number, Frame>();
  let next_frame = 1;
  let cursor = 0;
  let base = 0;
  const fail = (me: number, what: string): void => {
    errors.push(`step ${cursor - 1} proc ${me}: ${what}`);
  };

  /* The acting process's page tables against its view. */
  const check_ptes = (me: number): void => {
    const view = views.get(me)!;
    for (let p = 0; p < NPAGES; p++) {
      const pte = user_pte(base + p * 4096);
      const s = view[p];
      if (s === 'none') {
        if (pte) fail(me, `page ${p} mapped (pfn ${pte.pfn}) but never touched`);
      } else if (s === 'zero') {
        if (!pte || pte.pfn !== ZERO_PAGE(0) || pte.writable) fail(me, `page ${p} should map the zero page read-only`);
      } else {
        const f = frames.get(s)!;
        if (!pte) fail(me, `page ${p} (frame ${s}) not mapped`);
        else if (pte.pfn === ZERO_PAGE(0)) fail(me, `page ${p} (frame ${s}) maps the zero page`);
        else if (pte.ref !== f.users || pte.map !== f.users)
          fail(me, `page ${p} pfn ${pte.pfn}: ref ${pte.ref} map ${pte.map}, model users ${f.users}`);
        else if (f.users > 1 && pte.writable) fail(me, `page ${p} shared by ${f.users} but writable`);
      }
    }
  };

  const drop_view = (me: number): void => {
    for (const s of views.get(me)!) if (typeof s === 'number') frames.get(s)!.users--;
    views.delete(me);
  };

  const expect_value = (me: number, u: Nolibc, p: number): void => {
    const view = views.get(me)!;
    const s = view[p];
    const want = typeof s === 'number' ? frames.get(s)!.value : 0;
    const v0 = k.vmstat();
    const got = u.peek32(base + p * 4096);
    const zmaps = k.vmstat().nr_zero_page_map - v0.nr_zero_page_map;
    if (got !== want) fail(me, `page ${p} reads ${got}, model ${want}`);
    if (zmaps !== (s === 'none' ? 1 : 0)) fail(me, `page ${p}: ${zmaps} zero-page maps for a read of a ${s} slot`);
    if (s === 'none') view[p] = 'zero';
  };

  function* proc(me: number, u: Nolibc): Sys {
    for (;;) {
      if (cursor >= ops.length) {
        drop_view(me); // the end of the script: every process exits
        return 0;
      }
      const op = ops[cursor];
      if (op.proc !== me) {
        yield* u.sched_yield();
        continue;
      }
      cursor++;
      const view = views.get(me)!;
      const addr = base + op.page * 4096;
      switch (op.kind) {
        case 'fork': {
          views.set(op.child, view.slice());
          for (const s of view) if (typeof s === 'number') frames.get(s)!.users++;
          const pid: number = yield* u.clone(0, (c: Nolibc) => proc(op.child, c));
          if (pid <= 0) fail(me, `clone: ${pid}`);
          break;
        }
        case 'write': {
          const s = view[op.page];
          const f = typeof s === 'number' ? frames.get(s)! : null;
          const v0 = k.vmstat();
          u.poke32(addr, op.val);
          const v1 = k.vmstat();
          const copies = v1.nr_cow_copy - v0.nr_cow_copy, zeroes = v1.nr_cow_zero - v0.nr_cow_zero;
          const want_copies = f && f.users > 1 ? 1 : 0, want_zeroes = s === 'zero' ? 1 : 0;
          if (copies !== want_copies || zeroes !== want_zeroes)
            fail(me, `write to a ${f ? `frame of ${f.users}` : s} page: ${copies} copies, ${zeroes} zero fills`);
          if (f && f.users === 1) f.value = op.val;
          else {
            if (f) f.users--;
            frames.set(next_frame, { value: op.val, users: 1 });
            view[op.page] = next_frame++;
          }
          if (u.peek32(addr) !== op.val) fail(me, 'write not read back');
          break;
        }
        case 'read':
          expect_value(me, u, op.page);
          break;
        case 'check':
          for (let p = 0; p < NPAGES; p++) expect_value(me, u, p);
          break;
        case 'exit':
          drop_view(me);
          return 0;
      }
      check_ptes(me);
    }
  }

  k.spawn('p0', function* (u: Nolibc): Sys {
    base = yield* u.mmap(0, NPAGES * 4096, RW, ANON);
    return yield* proc(0, u);
  });
  const r = k.run();
  if (r.reason !== 'done') errors.push(`run ended: ${r.reason}`);
  for (const e of r.exited) if (e.status !== 0) errors.push(`${e.comm}[${e.pid}] exited with ${e.status}`);
  if (vm_debug.nr_bad_pages) errors.push(`${vm_debug.nr_bad_pages} bad page(s) reported`);
  k.shutdown(); // BUGs if a page leaked
  return errors;
}

const op_arb = fc.record({
  kind: fc.constantFrom<Kind>('fork', 'fork', 'write', 'write', 'write', 'write', 'read', 'check', 'exit'),
  who: fc.nat(15),
  page: fc.nat(NPAGES - 1),
  val: fc.integer({ min: 1, max: 0x7fffffff }),
});

describe('mm_cow_property', () => {
  it('random fork/write/read/exit over several processes and CPUs match the reference model', () => {
    fc.assert(
      fc.property(fc.array(op_arb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 3 }), (raw, cpus) => {
        expect(run_case(raw, cpus)).toEqual([]);
      }),
      { numRuns: 60, seed: 20 },
    );
  });

  it('a fixed tree: three generations write the same pages, each view stays its own', () => {
    const w = (who: number, page: number, val: number): RawOp => ({ kind: 'write', who, page, val });
    const f = (who: number): RawOp => ({ kind: 'fork', who, page: 0, val: 0 });
    const c = (who: number): RawOp => ({ kind: 'check', who, page: 0, val: 0 });
    const x = (who: number): RawOp => ({ kind: 'exit', who, page: 0, val: 0 });
    const raw = [w(0, 0, 10), w(0, 1, 11), { kind: 'read' as Kind, who: 0, page: 2, val: 0 }, f(0), f(1), w(1, 0, 20), w(2, 0, 30),
      w(2, 2, 32), c(0), c(1), c(2), x(0), w(0, 1, 21), c(1), x(1), c(0), x(0)];
    expect(run_case(raw, 3)).toEqual([]);
  });
});
