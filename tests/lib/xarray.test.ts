/*
 * tests/lib/xarray.test.ts - xarray tests.
 *
 * In the spirit of lib/test_xarray.c: stores and erases that grow and shrink
 * the tree, xa_find across node boundaries, a 2 MiB folio's 512 indices, and a
 * fast-check property running random store/erase/load/find sequences over
 * three index ranges against a Map, with xa_check() verifying the tree's
 * shape after every step.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  XArray, XaNode, XA_CHUNK_SIZE, XA_MAX_INDEX, type XaIndex, xa_empty, xa_erase, xa_find, xa_find_after,
  xa_for_each, xa_for_each_start, xa_load, xa_store,
} from '../../lib/xarray.ts';

class Item {
  constructor(readonly id: number) {}
}

/**
 * The structural invariants: every node's count is its non-null slots and
 * is not 0 (empty nodes are freed); a child's parent and offset name the slot
 * holding it and its shift is 6 less; leaves (shift 0) hold entries, inner
 * nodes only nodes; the top node has no parent and is not shrinkable (it does
 * not hold slot 0 alone). Returns the number of nodes.
 */
function xa_check<T>(xa: XArray<T>): number {
  const head = xa.xa_head;
  if (!(head instanceof XaNode)) return 0;
  expect(head.parent).toBeNull();
  expect(head.count === 1 && head.slots[0] !== null).toBe(false);
  let nodes = 0;
  const walk = (node: XaNode<T>): void => {
    nodes++;
    expect(node.slots.length).toBe(XA_CHUNK_SIZE);
    let count = 0;
    node.slots.forEach((slot, offset) => {
      if (slot === null) return;
      count++;
      if (node.shift === 0) {
        expect(slot instanceof XaNode).toBe(false);
        return;
      }
      expect(slot instanceof XaNode).toBe(true);
      const child = slot as XaNode<T>;
      expect(child.parent).toBe(node);
      expect(child.offset).toBe(offset);
      expect(child.shift).toBe(node.shift - 6);
      walk(child);
    });
    expect(node.count).toBe(count);
    expect(count).toBeGreaterThan(0);
  };
  walk(head);
  return nodes;
}

/** The least top-node shift reaching `max` (what a minimal tree must have). */
function min_shift(max: number): number {
  let shift = 0;
  while (max > 2 ** (shift + 6) - 1) shift += 6;
  return shift;
}

describe('lib_xarray', () => {
  it('keeps index 0 alone in the head, and grows and shrinks around it', () => {
    const xa = new XArray<Item>();
    const a = new Item(0), b = new Item(1);
    expect(xa_empty(xa)).toBe(true);
    expect(xa_store(xa, 0, a)).toBeNull();
    expect(xa.xa_head).toBe(a); // no node for index 0 alone
    expect(xa_load(xa, 0)).toBe(a);
    expect(xa_load(xa, 1)).toBeNull();
    /*
     *  head -> node(shift 0): [a b . . ...]   index 1 needs a node
     */
    xa_store(xa, 1, b);
    expect(xa.xa_head).toBeInstanceOf(XaNode);
    expect(xa_check(xa)).toBe(1);
    /*
     *  head -> node(shift 6): [n0 . ... n63]  index 4095 needs a second level
     */
    xa_store(xa, 4095, b);
    const top = xa.xa_head as XaNode<Item>;
    expect(top.shift).toBe(6);
    expect(xa_check(xa)).toBe(3);
    expect(xa_erase(xa, 4095)).toBe(b); // back to one leaf node
    expect((xa.xa_head as XaNode<Item>).shift).toBe(0);
    expect(xa_check(xa)).toBe(1);
    expect(xa_erase(xa, 1)).toBe(b); // back to the bare entry
    expect(xa.xa_head).toBe(a);
    expect(xa_erase(xa, 0)).toBe(a);
    expect(xa_empty(xa)).toBe(true);
    expect(xa_erase(xa, 0)).toBeNull();
  });

  it('builds a tall tree for a far index and frees it all on erase', () => {
    const xa = new XArray<Item>();
    const a = new Item(0);
    const far = 2 ** 40 + 12345;
    xa_store(xa, far, a);
    expect((xa.xa_head as XaNode<Item>).shift).toBe(min_shift(far));
    expect(xa_check(xa)).toBe(min_shift(far) / 6 + 1);
    expect(xa_load(xa, far)).toBe(a);
    expect(xa_load(xa, far - 1)).toBeNull();
    expect(xa_load(xa, 12345)).toBeNull();
    expect(xa_load(xa, 2 ** 52)).toBeNull();
    xa_store(xa, XA_MAX_INDEX, a);
    expect(xa_load(xa, XA_MAX_INDEX)).toBe(a);
    expect(xa_check(xa)).toBeGreaterThan(0);
    xa_erase(xa, XA_MAX_INDEX);
    expect((xa.xa_head as XaNode<Item>).shift).toBe(min_shift(far));
    expect(xa_erase(xa, far)).toBe(a);
    expect(xa_empty(xa)).toBe(true);
  });

  it('finds across empty slots, leaves and levels', () => {
    const xa = new XArray<Item>();
    const idx = [5, 63, 64, 4096, 262143, 2 ** 30 + 7, 2 ** 36];
    for (const i of idx) xa_store(xa, i, new Item(i));
    expect([...xa_for_each(xa)].map(([i]) => i)).toEqual(idx);
    expect([...xa_for_each_start(xa, 65)].map(([i]) => i)).toEqual(idx.slice(3));
    const at: XaIndex = { index: 6 };
    expect(xa_find(xa, at, 62)).toBeNull();
    expect(at.index).toBe(6);
    expect(xa_find(xa, at, 63)?.id).toBe(63);
    expect(at.index).toBe(63);
    expect(xa_find_after(xa, at, XA_MAX_INDEX)?.id).toBe(64);
    at.index = 4097;
    expect(xa_find(xa, at, 2 ** 30 + 6)?.id).toBe(262143);
    expect(xa_find_after(xa, at, 2 ** 30 + 6)).toBeNull();
    expect(at.index).toBe(262143);
  });

  it('stores a 2 MiB folio under its 512 indices and erases it cleanly', () => {
    const xa = new XArray<Item>();
    const small = new Item(1), thp = new Item(512);
    xa_store(xa, 1, small);
    const base = 512 * 3; // a PMD-aligned file offset, in pages
    for (let i = 0; i < 512; i++) expect(xa_store(xa, base + i, thp)).toBeNull();
    xa_check(xa);
    for (let i = 0; i < 512; i++) expect(xa_load(xa, base + i)).toBe(thp);
    expect(xa_load(xa, base - 1)).toBeNull();
    expect(xa_load(xa, base + 512)).toBeNull();
    // 512 indices: 8 full leaves under one shift-6 node, plus index 1's leaf.
    const top = xa.xa_head as XaNode<Item>;
    expect(top.shift).toBe(6);
    expect(top.count).toBe(9);
    const at: XaIndex = { index: base + 100 };
    expect(xa_find(xa, at, XA_MAX_INDEX)).toBe(thp);
    expect(at.index).toBe(base + 100);
    for (let i = 0; i < 512; i++) {
      expect(xa_erase(xa, base + i)).toBe(thp);
      if (i % 8 === 7) xa_check(xa);
    }
    expect(xa.xa_head).toBeInstanceOf(XaNode);
    expect((xa.xa_head as XaNode<Item>).shift).toBe(0);
    expect(xa_load(xa, 1)).toBe(small);
    xa_erase(xa, 1);
    expect(xa_empty(xa)).toBe(true);
  });

  it('matches a Map under random store/erase/load/find, and stays minimal', () => {
    type Op =
      | { op: 'store'; index: number; id: number }
      | { op: 'erase'; index: number; pick: number | null }
      | { op: 'load'; index: number; pick: number | null }
      | { op: 'find'; index: number; span: number };
    const index = fc.oneof(
      fc.integer({ min: 0, max: 200 }),
      fc.integer({ min: 2 ** 20 - 100, max: 2 ** 20 + 100 }),
      fc.integer({ min: 2 ** 36 - 100, max: 2 ** 36 + 100 }),
    );
    // erase and load mostly pick a present index (pick % size), else a random one.
    const pick = fc.option(fc.nat(), { freq: 4 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      { arbitrary: fc.record({ op: fc.constant('store' as const), index, id: fc.nat(1000) }), weight: 4 },
      { arbitrary: fc.record({ op: fc.constant('erase' as const), index, pick }), weight: 3 },
      { arbitrary: fc.record({ op: fc.constant('load' as const), index, pick }), weight: 1 },
      {
        arbitrary: fc.record({
          op: fc.constant('find' as const), index,
          span: fc.oneof(fc.nat(300), fc.constant(2 ** 20), fc.constant(XA_MAX_INDEX)),
        }),
        weight: 2,
      },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 150 }), (ops) => {
        const xa = new XArray<Item>();
        const ref = new Map<number, Item>();
        for (const o of ops) {
          const i = (o.op === 'erase' || o.op === 'load') && o.pick !== null && ref.size > 0
            ? [...ref.keys()][o.pick % ref.size]! : o.index;
          switch (o.op) {
            case 'store': {
              const item = new Item(o.id);
              expect(xa_store(xa, o.index, item)).toBe(ref.get(o.index) ?? null);
              ref.set(o.index, item);
              break;
            }
            case 'erase':
              expect(xa_erase(xa, i)).toBe(ref.get(i) ?? null);
              ref.delete(i);
              break;
            case 'load':
              expect(xa_load(xa, i)).toBe(ref.get(i) ?? null);
              break;
            case 'find': {
              const max = Math.min(XA_MAX_INDEX, o.index + o.span);
              let want: number | null = null;
              for (const k of ref.keys()) if (k >= o.index && k <= max && (want === null || k < want)) want = k;
              const at: XaIndex = { index: o.index };
              const got = xa_find(xa, at, max);
              if (want === null) {
                expect(got).toBeNull();
                expect(at.index).toBe(o.index);
              } else {
                expect(got).toBe(ref.get(want));
                expect(at.index).toBe(want);
              }
              break;
            }
          }
          // After every step: shape, every present index loads, the walk is the sorted Map.
          xa_check(xa);
          const keys = [...ref.keys()].sort((a, b) => a - b);
          const head = xa.xa_head;
          if (keys.length === 0) expect(head).toBeNull();
          else if (keys.length === 1 && keys[0] === 0) expect(head).toBe(ref.get(0));
          else expect((head as XaNode<Item>).shift).toBe(min_shift(keys[keys.length - 1]!));
          for (const k of keys) expect(xa_load(xa, k)).toBe(ref.get(k));
          expect([...xa_for_each(xa)]).toEqual(keys.map((k) => [k, ref.get(k)]));
        }
      }),
      { numRuns: 300 },
    );
  });
});
