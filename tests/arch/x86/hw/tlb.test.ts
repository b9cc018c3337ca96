import { describe, it, expect } from 'vitest';
import { test_machine } from '../../../../tools/testing/pt_builder.ts';
import { _PAGE_PRESENT, _PAGE_RW, _PAGE_GLOBAL, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_USER } from '../../../../arch/x86/include/asm/pgtable_types.ts';
import { Tlb, TLB_GLOBAL, TLB_SIZE_4K } from '../../../../arch/x86/hw/tlb.ts';
import {
  INVPCID_TYPE_ALL_INCL_GLOBAL, INVPCID_TYPE_ALL_NON_GLOBAL, INVPCID_TYPE_INDIV_ADDR, INVPCID_TYPE_SINGLE_CTXT,
} from '../../../../arch/x86/include/asm/invpcid.ts';
import { X86_CR4_PGE } from '../../../../arch/x86/include/asm/processor-flags.ts';
import { HW_TLB_HIT, HW_TLB_MISS } from '../../../../arch/x86/hw/events.ts';

const KVA = 0x888000200000; // a kernel-half address
const KRW = _PAGE_PRESENT | _PAGE_RW;

describe('x86_hw_tlb', () => {
  it('caches a translation: second access hits, no walk', () => {
    const { m, pt, pgd } = test_machine();
    const cpu = m.cpus[0];
    const f = pt.alloc_frame();
    pt.map(pgd, KVA, f, KRW);
    expect(cpu.translate(KVA)).toBe(f);
    const misses = cpu.ev[HW_TLB_MISS];
    expect(cpu.translate(KVA + 8)).toBe(f + 8);
    expect(cpu.ev[HW_TLB_MISS]).toBe(misses);
    expect(cpu.ev[HW_TLB_HIT]).toBe(1);
  });

  it('counts every hit and charges it to the clock, however the counters are read', () => {
    const { m, pt, pgd } = test_machine();
    const cpu = m.cpus[0];
    pt.map(pgd, KVA, pt.alloc_frame(), KRW);
    cpu.translate(KVA);
    const hits = cpu.ev[HW_TLB_HIT];
    const clock = cpu.clock;
    for (let i = 0; i < 1000; i++) cpu.translate(KVA + 4 * (i % 1024));
    expect(cpu.clock).toBe(clock + 1000 * cpu.costs.tlb_hit);
    expect(cpu.ev[HW_TLB_HIT]).toBe(hits + 1000);
    cpu.clock = 5; // setting the clock keeps later hits
    cpu.translate(KVA);
    expect(cpu.clock).toBe(5 + cpu.costs.tlb_hit);
    expect(cpu.ev[HW_TLB_HIT]).toBe(hits + 1001);
  });

  it('one entry serves every access context: a new CPL, AC or access kind refills without a walk', () => {
    const { m, pt, pgd } = test_machine();
    const cpu = m.cpus[0];
    const UVA = 0x7f0000001000;
    pt.map(pgd, UVA, pt.alloc_frame(), KRW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY);
    cpu.stac();
    expect(cpu.store32(UVA, 5)).toBe(true); // the kernel writes the user page (copy_to_user)
    const misses = cpu.ev[HW_TLB_MISS];
    const hits = cpu.ev[HW_TLB_HIT];
    expect(cpu.load32(UVA)).toBe(5); // kernel read, AC set
    cpu.clac();
    cpu.cpl = 3;
    expect(cpu.load32(UVA)).toBe(5); // user read
    expect(cpu.store32(UVA, 6)).toBe(true); // user write
    expect(cpu.ev[HW_TLB_MISS]).toBe(misses);
    expect(cpu.ev[HW_TLB_HIT]).toBe(hits + 3); // each new context refilled from the TLB entry
  });

  it('keeps using a stale entry after its PTE changed without a flush', () => {
    const { m, pt, pgd } = test_machine();
    const cpu = m.cpus[0];
    const old = pt.alloc_frame();
    const neu = pt.alloc_frame();
    const ea = pt.map(pgd, KVA, old, KRW);
    cpu.store32(KVA, 0x1111);
    pt.map(pgd, KVA, neu, KRW); // PTE now points elsewhere
    expect(cpu.translate(KVA)).toBe(old); // the stale translation
    expect(cpu.load32(KVA)).toBe(0x1111);
    // Even clearing the PTE does not stop the cached translation.
    pt.set_entry(ea, 0, 0);
    expect(cpu.load32(KVA)).toBe(0x1111);
    cpu.invlpg(KVA);
    pt.map(pgd, KVA, neu, KRW);
    expect(cpu.translate(KVA)).toBe(neu);
  });

  it('isolates PCIDs: same VA, two PCIDs, two frames', () => {
    const { m, pt, pgd } = test_machine({ pcid: 1 });
    const cpu = m.cpus[0];
    const pgd2 = pt.new_pgd();
    const a = pt.alloc_frame();
    const b = pt.alloc_frame();
    const UVA = 0x400000;
    pt.map(pgd, UVA, a, KRW);
    pt.map(pgd2, UVA, b, KRW);
    expect(cpu.translate(UVA)).toBe(a);
    cpu.write_cr3(pgd2 + 2);
    expect(cpu.translate(UVA)).toBe(b);
    // Back to PCID 1 without flushing: its entry is still there.
    cpu.write_cr3(pgd + 1, true);
    expect(cpu.tlb.probe(UVA, 1)?.pfn).toBe(a / 4096);
    expect(cpu.translate(UVA)).toBe(a);
    expect(cpu.tlb.probe(UVA, 2)?.pfn).toBe(b / 4096);
  });

  it('a CR3 write flushes the new PCID only, and NOFLUSH keeps it', () => {
    const { m, pt, pgd } = test_machine({ pcid: 1 });
    const cpu = m.cpus[0];
    const f = pt.alloc_frame();
    pt.map(pgd, 0x400000, f, KRW);
    cpu.translate(0x400000);
    cpu.write_cr3(pgd + 2); // flushes PCID 2, not PCID 1
    expect(cpu.tlb.probe(0x400000, 1)).not.toBeNull();
    cpu.write_cr3(pgd + 1, true); // NOFLUSH
    expect(cpu.tlb.probe(0x400000, 1)).not.toBeNull();
    cpu.write_cr3(pgd + 1); // flushing write to PCID 1
    expect(cpu.tlb.probe(0x400000, 1)).toBeNull();
  });

  it('without PCIDE every CR3 write flushes non-global entries', () => {
    const { m, pt, pgd } = test_machine({ pcid: 0 });
    const cpu = m.cpus[0];
    cpu.write_cr4(cpu.read_cr4() & ~(1 << 17));
    const f = pt.alloc_frame();
    pt.map(pgd, 0x400000, f, KRW);
    pt.map(pgd, KVA, f, KRW | _PAGE_GLOBAL);
    cpu.translate(0x400000);
    cpu.translate(KVA);
    cpu.write_cr3(pgd);
    expect(cpu.tlb.probe(0x400000, 0)).toBeNull();
    expect(cpu.tlb.probe(KVA, 0)).not.toBeNull();
  });

  it('global entries survive CR3 writes and match every PCID', () => {
    const { m, pt, pgd } = test_machine({ pcid: 1 });
    const cpu = m.cpus[0];
    const f = pt.alloc_frame();
    pt.map(pgd, KVA, f, KRW | _PAGE_GLOBAL);
    cpu.translate(KVA);
    const pgd2 = pt.new_pgd(); // maps nothing at KVA
    cpu.write_cr3(pgd2 + 3);
    cpu.write_cr3(pgd2 + 3);
    expect(cpu.translate(KVA)).toBe(f); // served by the global entry
    expect((cpu.tlb.probe(KVA, 5)?.flags ?? 0) & TLB_GLOBAL).toBe(TLB_GLOBAL);
  });

  it('G without CR4.PGE is not global', () => {
    const { m, pt, pgd } = test_machine({ pcid: 1 });
    const cpu = m.cpus[0];
    cpu.write_cr4(cpu.read_cr4() & ~X86_CR4_PGE);
    const f = pt.alloc_frame();
    pt.map(pgd, KVA, f, KRW | _PAGE_GLOBAL);
    cpu.translate(KVA);
    cpu.write_cr3(pgd + 1);
    expect(cpu.tlb.probe(KVA, 1)).toBeNull();
  });

  it('INVLPG drops the address in the current PCID and global entries, not other PCIDs', () => {
    const { m, pt, pgd } = test_machine({ pcid: 1 });
    const cpu = m.cpus[0];
    const f = pt.alloc_frame();
    pt.map(pgd, 0x400000, f, KRW);
    pt.map(pgd, KVA, f, KRW | _PAGE_GLOBAL);
    cpu.translate(0x400000);
    cpu.translate(KVA);
    cpu.write_cr3(pgd + 2, true);
    cpu.translate(0x400000); // PCID 2 copy
    cpu.invlpg(0x400000);
    cpu.invlpg(KVA);
    expect(cpu.tlb.probe(0x400000, 2)).toBeNull();
    expect(cpu.tlb.probe(0x400000, 1)).not.toBeNull();
    expect(cpu.tlb.probe(KVA, 2)).toBeNull();
  });

  it('INVPCID types 0..3', () => {
    const { m, pt, pgd } = test_machine({ pcid: 1 });
    const cpu = m.cpus[0];
    const f = pt.alloc_frame();
    const fill = (): void => {
      cpu.write_cr3(pgd + 1, true);
      cpu.translate(0x400000);
      cpu.translate(0x401000);
      cpu.translate(KVA);
      cpu.write_cr3(pgd + 2, true);
      cpu.translate(0x400000);
    };
    pt.map(pgd, 0x400000, f, KRW);
    pt.map(pgd, 0x401000, f, KRW);
    pt.map(pgd, KVA, f, KRW | _PAGE_GLOBAL);
    const live = (va: number, p: number): boolean => cpu.tlb.probe(va, p) !== null;

    fill();
    cpu.invpcid(INVPCID_TYPE_INDIV_ADDR, 1, 0x400000);
    expect([live(0x400000, 1), live(0x401000, 1), live(0x400000, 2)]).toEqual([false, true, true]);
    cpu.invpcid(INVPCID_TYPE_INDIV_ADDR, 1, KVA); // globals excluded
    expect(live(KVA, 1)).toBe(true);

    fill();
    cpu.invpcid(INVPCID_TYPE_SINGLE_CTXT, 1);
    expect([live(0x400000, 1), live(0x401000, 1), live(0x400000, 2), live(KVA, 1)]).toEqual([false, false, true, true]);

    fill();
    cpu.invpcid(INVPCID_TYPE_ALL_NON_GLOBAL, 0);
    expect([live(0x400000, 1), live(0x400000, 2), live(KVA, 1)]).toEqual([false, false, true]);

    fill();
    cpu.invpcid(INVPCID_TYPE_ALL_INCL_GLOBAL, 0);
    expect(cpu.tlb.live_entries()).toEqual([]);
  });

  it('toggling CR4.PGE flushes everything, globals included', () => {
    const { m, pt, pgd } = test_machine({ pcid: 1 });
    const cpu = m.cpus[0];
    const f = pt.alloc_frame();
    pt.map(pgd, KVA, f, KRW | _PAGE_GLOBAL);
    pt.map(pgd, 0x400000, f, KRW);
    cpu.translate(KVA);
    cpu.translate(0x400000);
    const cr4 = cpu.read_cr4();
    cpu.write_cr4(cr4 ^ X86_CR4_PGE);
    cpu.write_cr4(cr4);
    expect(cpu.tlb.live_entries()).toEqual([]);
  });

  it('a large leaf is one entry covering every address in it', () => {
    const { m, pt, pgd } = test_machine();
    const cpu = m.cpus[0];
    pt.map(pgd, 0x888000000000, 0, KRW, true, 3); // 1 GiB
    pt.map(pgd, 0x888040000000, 0x200000, KRW, true, 2); // 2 MiB
    expect(cpu.translate(0x888000123456)).toBe(0x123456);
    expect(cpu.translate(0x888003fff000)).toBe(0x3fff000);
    expect(cpu.translate(0x8880401ff004)).toBe(0x3ff004);
    const sizes = cpu.tlb.live_entries().map((e) => e.size_shift).sort();
    expect(sizes).toEqual([21, 30]);
    cpu.invlpg(0x888000abc000); // any address in the page drops it
    expect(cpu.tlb.probe(0x888000000000, 1)).toBeNull();
  });

  it('has a finite capacity: the least recently used way of a full set is evicted', () => {
    const tlb = new Tlb({ entries_4k: 64, ways_4k: 2 });
    // Same set: page numbers differing by the set count (32).
    const va = (k: number): number => k * 32 * 4096;
    tlb.insert(va(0), 1, TLB_SIZE_4K, 100, 0);
    tlb.insert(va(1), 1, TLB_SIZE_4K, 101, 0);
    tlb.lookup(va(0), 1); // touch 0: 1 is now LRU
    tlb.insert(va(2), 1, TLB_SIZE_4K, 102, 0);
    expect(tlb.probe(va(0), 1)?.pfn).toBe(100);
    expect(tlb.probe(va(1), 1)).toBeNull();
    expect(tlb.probe(va(2), 1)?.pfn).toBe(102);
    expect(tlb.evictions).toBe(1);
  });

  it('FIFO replacement evicts the oldest insertion regardless of use', () => {
    const tlb = new Tlb({ entries_4k: 64, ways_4k: 2, replacement: 'fifo' });
    const va = (k: number): number => k * 32 * 4096;
    tlb.insert(va(0), 1, TLB_SIZE_4K, 100, 0);
    tlb.insert(va(1), 1, TLB_SIZE_4K, 101, 0);
    tlb.lookup(va(0), 1);
    tlb.insert(va(2), 1, TLB_SIZE_4K, 102, 0);
    expect(tlb.probe(va(0), 1)).toBeNull();
    expect(tlb.probe(va(1), 1)?.pfn).toBe(101);
  });

  it('a write through a clean entry re-walks and sets D', () => {
    const { m, pt, pgd } = test_machine();
    const cpu = m.cpus[0];
    const f = pt.alloc_frame();
    const ea = pt.map(pgd, KVA, f, KRW);
    cpu.load32(KVA);
    expect(m.mem.read32(ea) & _PAGE_DIRTY).toBe(0);
    expect(m.mem.read32(ea) & _PAGE_ACCESSED).toBe(_PAGE_ACCESSED);
    const misses = cpu.ev[HW_TLB_MISS];
    cpu.store32(KVA, 7);
    expect(cpu.ev[HW_TLB_MISS]).toBe(misses + 1);
    expect(m.mem.read32(ea) & _PAGE_DIRTY).toBe(_PAGE_DIRTY);
    cpu.store32(KVA, 8); // now a hit
    expect(cpu.ev[HW_TLB_MISS]).toBe(misses + 1);
  });
});
