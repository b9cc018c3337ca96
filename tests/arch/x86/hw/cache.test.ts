import { describe, it, expect } from 'vitest';
import { test_machine } from '../../../../tools/testing/pt_builder.ts';
import { CacheLevel, CACHE_L2, CACHE_LLC, CACHE_DRAM } from '../../../../arch/x86/hw/cache.ts';
import { COST_KEY_INDEX, cycles_to_ns, type CostKey } from '../../../../arch/x86/hw/costs.ts';
import type { Cpu } from '../../../../arch/x86/hw/cpu.ts';

const KRW = 0x3; // present, writable, supervisor
const VA = 0x400000;

/** Cycles and key counts `fn` costs on `cpu`. */
function measure(cpu: Cpu, fn: () => void): { cycles: number; n: (k: CostKey) => number } {
  const c0 = cpu.clock;
  const e0 = cpu.cost_events.slice();
  fn();
  const cycles = cpu.clock - c0;
  const e1 = cpu.cost_events;
  return { cycles, n: (k) => e1[COST_KEY_INDEX[k]] - e0[COST_KEY_INDEX[k]] };
}

/** A machine with `pages` kernel pages mapped at VA, each its own frame. */
function mapped(pages: number, cpus = 1): { m: ReturnType<typeof test_machine>['m']; va: (i: number) => number; pa: number[] } {
  const { m, pt, pgd } = test_machine({ cpus, mem: 128 * 2 ** 20 });
  const pa: number[] = [];
  for (let i = 0; i < pages; i++) {
    pa.push(pt.alloc_frame());
    pt.map(pgd, VA + i * 4096, pa[i], KRW);
  }
  return { m, va: (i) => VA + i * 4096, pa };
}

describe('x86_cache', () => {
  it('a level is set-associative LRU over pfns', () => {
    /*
     *  one set of 4 ways (pfns 0, 8, 16, ... share set 0 of 8)
     *  touch 0 8 16 24   -> all four resident
     *  touch 0           -> 0 becomes most recent; 8 is now the LRU
     *  touch 32          -> evicts 8
     */
    const c = new CacheLevel(8 * 4 * 4, 4); // 32 pages: 8 sets x 4 ways
    expect([c.sets, c.ways, c.capacity]).toEqual([8, 4, 32]);
    for (const p of [0, 8, 16, 24]) expect(c.touch(p)).toBe(false);
    expect(c.touch(0)).toBe(true);
    expect(c.touch(32)).toBe(false);
    expect([0, 8, 16, 24, 32].map((p) => c.holds(p))).toEqual([true, false, true, true, true]);
    expect(c.evictions).toBe(1);
    expect(c.holds(1)).toBe(false); // other sets untouched
  });

  it('prices a 4 KiB copy by where its pages are: L2, LLC, DRAM (costs.md 6)', () => {
    const { m, va } = mapped(2 + 1024);
    const cpu = m.cpus[0];
    const k = m.costs;
    cpu.copy(va(1), va(0), 4096); // warm the TLB and page tables; both pages now in L2
    const hot = measure(cpu, () => cpu.copy(va(1), va(0), 4096));
    expect(hot.cycles).toBeCloseTo(k.copy_base + 4096 * k.copy_byte + 2 * k.tlb_hit, 9);
    expect(cycles_to_ns(k, hot.cycles - 2 * k.tlb_hit)).toBeGreaterThan(28); // ~31 ns
    expect(cycles_to_ns(k, hot.cycles)).toBeLessThan(34);
    // A source never touched comes from DRAM (destination hot): ~660 ns.
    cpu.load32(va(3)); // the source's TLB entry (loads do not touch the cache model)
    const cold = measure(cpu, () => cpu.copy(va(1), va(3), 4096));
    expect(cold.n('line_read_dram')).toBe(64);
    expect(cold.n('line_write_dram') + cold.n('line_write_llc')).toBe(0);
    const cold_copy = cold.cycles - 2 * k.tlb_hit;
    expect(cold_copy).toBeCloseTo(k.copy_base + 4096 * k.copy_byte + 64 * k.line_read_dram, 9);
    expect(cycles_to_ns(k, cold_copy)).toBeGreaterThan(600);
    expect(cycles_to_ns(k, cold_copy)).toBeLessThan(700);
    // Push page 3 out of L2 (512 pages on Sapphire Rapids), not out of the LLC.
    for (let i = 4; i < 4 + 1000; i++) cpu.fill(va(i), 0, 64);
    const llc = measure(cpu, () => cpu.copy(va(1), va(3), 4096));
    expect(llc.n('line_read_llc')).toBe(64);
    expect(llc.n('line_read_dram')).toBe(0);
  });

  it('prices a fill the same way: hot ~34 ns, cold (clear_page) ~300-460 ns', () => {
    const { m, va } = mapped(4);
    const cpu = m.cpus[0];
    const k = m.costs;
    cpu.store32(va(0), 0); // a dirty TLB entry (stores do not touch the cache model)
    const cold = measure(cpu, () => cpu.fill(va(0), 0, 4096));
    expect(cold.n('line_write_dram')).toBe(64);
    const cold_ns = cycles_to_ns(k, cold.cycles - cold.n('tlb_hit') * k.tlb_hit);
    expect(cold_ns).toBeGreaterThanOrEqual(300);
    expect(cold_ns).toBeLessThanOrEqual(460);
    const hot = measure(cpu, () => cpu.fill(va(0), 0, 4096));
    expect(hot.n('line_write_dram') + hot.n('line_write_llc')).toBe(0);
    expect(cycles_to_ns(k, hot.cycles - k.tlb_hit)).toBeCloseTo(34, 0);
  });

  it('an unaligned copy looks each page up once and counts each line once', () => {
    /*
     *  src  |....[=============|===]....|    4096 bytes from offset 100: two pages, 65 lines
     *  dst       [=================]         one page, 64 lines, split in two segments
     */
    const { m, va } = mapped(4);
    const cpu = m.cpus[0];
    cpu.load32(va(0));
    cpu.load32(va(1));
    cpu.load32(va(2)); // TLB entries and page tables; no data page touched
    const c = measure(cpu, () => cpu.copy(va(2), va(0) + 100, 4096));
    expect(c.n('line_read_dram')).toBe(65);
    expect(c.n('line_write_dram')).toBe(64);
    expect(m.cpus[0].l2.holds(0)).toBe(false);
  });

  it('each CPU has its own L2; the LLC is shared', () => {
    const { m, va, pa } = mapped(2, 2);
    const [c0, c1] = m.cpus;
    c0.copy(va(1), va(0), 4096);
    expect(c0.l2.holds(pa[0] / 4096)).toBe(true);
    expect(c1.l2.holds(pa[0] / 4096)).toBe(false);
    expect(c1.cache_touch(pa[0] / 4096)).toBe(CACHE_LLC);
    expect(c1.cache_touch(pa[0] / 4096)).toBe(CACHE_L2);
    expect(c1.cache_touch(pa[0] / 4096 + 7)).toBe(CACHE_DRAM);
  });

  it('a TLB miss costs by where the page tables are (costs.md 4: ~8.6 ns a refill when hot)', () => {
    const { m, va } = mapped(1);
    const cpu = m.cpus[0];
    const k = m.costs;
    // The page tables were written without the cache model: the first walk reads DRAM.
    const cold = measure(cpu, () => cpu.load32(va(0)));
    expect(cold.n('walk_step_dram')).toBe(4);
    expect(cold.cycles).toBe(4 * k.walk_step_dram + k.mem_access);
    cpu.write_cr3(cpu.read_cr3()); // flush PCID 1: the next access walks again, tables hot
    const hot = measure(cpu, () => cpu.load32(va(0)));
    expect(hot.n('walk_step_l2')).toBe(4);
    expect(cycles_to_ns(k, hot.cycles - k.mem_access)).toBeCloseTo(8.6, 0);
    expect(cold.cycles / hot.cycles).toBeGreaterThan(20);
  });
});
