import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { test_machine, PtBuilder } from '../../../../tools/testing/pt_builder.ts';
import {
  _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PSE, _PAGE_NX_HI,
} from '../../../../arch/x86/include/asm/pgtable_types.ts';
import {
  X86_PF_PROT, X86_PF_WRITE, X86_PF_USER, X86_PF_RSVD, X86_PF_INSTR, X86_TRAP_PF,
} from '../../../../arch/x86/include/asm/trap_pf.ts';
import { X86_CR0_WP, X86_CR4_SMAP } from '../../../../arch/x86/include/asm/processor-flags.ts';
import { FAULT_FIXUP, FAULT_RETRY, type Cpu } from '../../../../arch/x86/hw/cpu.ts';
import { Machine } from '../../../../arch/x86/hw/smp.ts';
import { MachineCheck } from '../../../../arch/x86/hw/physmem.ts';
import { walk, WalkResult, entry_pfn, level_index } from '../../../../arch/x86/hw/mmu.ts';

const KVA = 0x888000200000;
const UVA = 0x00007f0000001000;
const P = _PAGE_PRESENT, RW = _PAGE_RW, US = _PAGE_USER;

interface Fault { code: number; cr2: number }

/** Install a #PF handler that records and abandons the access. */
function record_faults(m: Machine): Fault[] {
  const faults: Fault[] = [];
  m.set_intr_gate(X86_TRAP_PF, (cpu: Cpu, code: number, cr2: number) => {
    faults.push({ code, cr2 });
    expect(cpu.cr2).toBe(cr2);
    return FAULT_FIXUP;
  });
  return faults;
}

describe('x86_hw_mmu_fault', () => {
  it('not present: error code 0 (kernel read), CR2 = address', () => {
    const { m } = test_machine();
    const faults = record_faults(m);
    expect(m.cpus[0].load32(KVA + 0x10)).toBe(-1);
    expect(faults).toEqual([{ code: 0, cr2: KVA + 0x10 }]);
  });

  it('user write to a not-present page: WRITE|USER', () => {
    const { m } = test_machine();
    const faults = record_faults(m);
    const cpu = m.cpus[0];
    cpu.cpl = 3;
    expect(cpu.store32(UVA, 1)).toBe(false);
    expect(faults).toEqual([{ code: X86_PF_WRITE | X86_PF_USER, cr2: UVA }]);
  });

  it('write to read-only: faults in kernel mode with CR0.WP, not without', () => {
    const { m, pt, pgd } = test_machine();
    const faults = record_faults(m);
    const cpu = m.cpus[0];
    const f = pt.alloc_frame();
    pt.map(pgd, KVA, f, P);
    expect(cpu.store32(KVA, 5)).toBe(false);
    expect(faults).toEqual([{ code: X86_PF_PROT | X86_PF_WRITE, cr2: KVA }]);
    cpu.write_cr0(cpu.read_cr0() & ~X86_CR0_WP);
    expect(cpu.store32(KVA, 5)).toBe(true);
    expect(m.mem.read32(f)).toBe(5);
    // User mode always honours R/O.
    pt.map(pgd, UVA, f, P | US);
    cpu.cpl = 3;
    expect(cpu.store32(UVA, 6)).toBe(false);
    expect(faults[1]).toEqual({ code: X86_PF_PROT | X86_PF_WRITE | X86_PF_USER, cr2: UVA });
  });

  it('a read-only upper level makes the leaf read-only', () => {
    const { m, pt, pgd } = test_machine();
    const faults = record_faults(m);
    const f = pt.alloc_frame();
    pt.map(pgd, KVA, f, P | RW);
    const pmd_ea = pt.entry(pgd, KVA, 2);
    m.mem.write32(pmd_ea, m.mem.read32(pmd_ea) & ~RW);
    expect(m.cpus[0].store32(KVA, 1)).toBe(false);
    expect(faults[0].code).toBe(X86_PF_PROT | X86_PF_WRITE);
  });

  it('user access to a supervisor page: PROT|USER', () => {
    const { m, pt, pgd } = test_machine();
    const faults = record_faults(m);
    const cpu = m.cpus[0];
    pt.map(pgd, KVA, pt.alloc_frame(), P | RW);
    cpu.cpl = 3;
    expect(cpu.load32(KVA)).toBe(-1);
    expect(faults).toEqual([{ code: X86_PF_PROT | X86_PF_USER, cr2: KVA }]);
  });

  it('instruction fetch from an NX page: PROT|INSTR', () => {
    const { m, pt, pgd } = test_machine();
    const faults = record_faults(m);
    const cpu = m.cpus[0];
    pt.map(pgd, KVA, pt.alloc_frame(), P | RW, true);
    expect(cpu.load32(KVA)).toBe(0); // data reads are fine
    expect(cpu.fetch(KVA)).toBe(false);
    expect(faults).toEqual([{ code: X86_PF_PROT | X86_PF_INSTR, cr2: KVA }]);
    pt.map(pgd, KVA + 4096, pt.alloc_frame(), P | RW);
    expect(cpu.fetch(KVA + 4096)).toBe(true);
  });

  it('SMEP: the kernel may not execute a user page', () => {
    const { m, pt, pgd } = test_machine();
    const faults = record_faults(m);
    const cpu = m.cpus[0];
    pt.map(pgd, UVA, pt.alloc_frame(), P | RW | US);
    expect(cpu.fetch(UVA)).toBe(false);
    expect(faults).toEqual([{ code: X86_PF_PROT | X86_PF_INSTR, cr2: UVA }]);
    cpu.cpl = 3;
    expect(cpu.fetch(UVA)).toBe(true);
  });

  it('SMAP: kernel data access to a user page faults unless AC (stac)', () => {
    const { m, pt, pgd } = test_machine();
    const faults = record_faults(m);
    const cpu = m.cpus[0];
    const f = pt.alloc_frame();
    pt.map(pgd, UVA, f, P | RW | US);
    expect(cpu.load32(UVA)).toBe(-1);
    expect(cpu.store32(UVA, 1)).toBe(false);
    expect(faults).toEqual([
      { code: X86_PF_PROT, cr2: UVA },
      { code: X86_PF_PROT | X86_PF_WRITE, cr2: UVA },
    ]);
    cpu.stac();
    expect(cpu.store32(UVA, 0x1234)).toBe(true);
    expect(cpu.load32(UVA)).toBe(0x1234);
    cpu.clac();
    expect(cpu.load32(UVA)).toBe(-1);
    expect(faults.length).toBe(3);
  });

  it('a cached translation is re-checked when CPL, AC, CR0.WP or CR4.SMAP change', () => {
    const { m, pt, pgd } = test_machine();
    const faults = record_faults(m);
    const cpu = m.cpus[0];
    const cr4 = cpu.read_cr4();
    pt.map(pgd, UVA, pt.alloc_frame(), P | US); // user, read-only
    pt.map(pgd, KVA, pt.alloc_frame(), P | RW);
    cpu.stac();
    expect(cpu.load32(UVA)).toBe(0); // cached with AC set
    cpu.clac();
    expect(cpu.load32(UVA)).toBe(-1); // same entry, AC clear: SMAP
    cpu.write_cr4(cr4 & ~X86_CR4_SMAP);
    expect(cpu.load32(UVA)).toBe(0);
    cpu.write_cr4(cr4);
    expect(cpu.load32(UVA)).toBe(-1);
    cpu.write_cr0(cpu.read_cr0() & ~X86_CR0_WP);
    cpu.stac();
    expect(cpu.store32(UVA, 7)).toBe(true); // WP=0: the kernel may write read-only pages
    cpu.write_cr0(cpu.read_cr0() | X86_CR0_WP);
    expect(cpu.store32(UVA, 8)).toBe(false);
    cpu.clac();
    expect(cpu.load32(KVA)).toBe(0);
    cpu.cpl = 3;
    expect(cpu.load32(KVA)).toBe(-1); // a supervisor page cached at CPL0
    expect(cpu.load32(UVA)).toBe(7);
    expect(faults.map((f) => f.code)).toEqual([
      X86_PF_PROT, X86_PF_PROT, X86_PF_PROT | X86_PF_WRITE, X86_PF_PROT | X86_PF_USER,
    ]);
  });

  it('reserved bits: RSVD|PROT for address bits above MAXPHYADDR, PS in a PGD, a misaligned 2M leaf', () => {
    const { m, pt, pgd } = test_machine();
    const faults = record_faults(m);
    const cpu = m.cpus[0];
    const ea = pt.map(pgd, KVA, pt.alloc_frame(), P | RW);
    m.mem.write32(ea + 4, 1 << 15); // bit 47 of the entry: above MAXPHYADDR (46)
    expect(cpu.load32(KVA)).toBe(-1);
    expect(faults[0]).toEqual({ code: X86_PF_PROT | X86_PF_RSVD, cr2: KVA });
    // PS in a PGD entry
    const va2 = 0x900000000000;
    const pgd_ea = pgd + level_index(va2, 4) * 8;
    m.mem.write32(pgd_ea, P | RW | _PAGE_PSE);
    expect(cpu.load32(va2)).toBe(-1);
    expect(faults[1].code).toBe(X86_PF_PROT | X86_PF_RSVD);
    // 2M leaf with bit 13 set (reserved)
    const va3 = 0x888080000000;
    pt.map(pgd, va3, 0x200000 | 0x2000, P | RW, false, 2);
    cpu.cpl = 3;
    expect(cpu.load32(va3)).toBe(-1);
    expect(faults[2].code).toBe(X86_PF_PROT | X86_PF_RSVD | X86_PF_USER);
  });

  it('sets A on every level of a walk and D on the leaf of a write', () => {
    const { m, pt, pgd } = test_machine();
    const cpu = m.cpus[0];
    const leaf = pt.map(pgd, KVA, pt.alloc_frame(), P | RW);
    const levels = [4, 3, 2].map((l) => pt.entry(pgd, KVA, l));
    for (const ea of [...levels, leaf]) expect(m.mem.read32(ea) & _PAGE_ACCESSED).toBe(0);
    cpu.load32(KVA);
    for (const ea of [...levels, leaf]) expect(m.mem.read32(ea) & _PAGE_ACCESSED).toBe(_PAGE_ACCESSED);
    expect(m.mem.read32(leaf) & _PAGE_DIRTY).toBe(0);
    cpu.store8(KVA + 1, 1);
    expect(m.mem.read32(leaf) & _PAGE_DIRTY).toBe(_PAGE_DIRTY);
    for (const ea of levels) expect(m.mem.read32(ea) & _PAGE_DIRTY).toBe(0);
  });

  it('retries the access when the handler fixes the mapping', () => {
    const { m, pt, pgd } = test_machine();
    const cpu = m.cpus[0];
    const f = pt.alloc_frame();
    let calls = 0;
    m.set_intr_gate(X86_TRAP_PF, (_c, code, cr2) => {
      calls++;
      expect(code).toBe(X86_PF_WRITE);
      pt.map(pgd, cr2 - (cr2 % 4096), f, P | RW);
      return FAULT_RETRY;
    });
    expect(cpu.store32(KVA + 12, 99)).toBe(true);
    expect(calls).toBe(1);
    expect(m.mem.read32(f + 12)).toBe(99);
  });

  it('spurious fault: a permission upgrade without flush faults once, then the re-walk succeeds', () => {
    const { m, pt, pgd } = test_machine();
    const cpu = m.cpus[0];
    const f = pt.alloc_frame();
    pt.map(pgd, KVA, f, P);
    cpu.load32(KVA); // cached read-only
    pt.map(pgd, KVA, f, P | RW); // upgraded, no flush
    let calls = 0;
    m.set_intr_gate(X86_TRAP_PF, () => { calls++; return FAULT_RETRY; });
    expect(cpu.store32(KVA, 3)).toBe(true);
    expect(calls).toBe(1);
  });

  it('a retry loop without progress is a machine BUG, not a hang', () => {
    const { m } = test_machine();
    m.set_intr_gate(X86_TRAP_PF, () => FAULT_RETRY);
    expect(() => m.cpus[0].load32(KVA)).toThrow(/without progress/);
  });

  it('an unhandled #PF is a clear error', () => {
    const { m } = test_machine();
    expect(() => m.cpus[0].load32(KVA)).toThrow(/no handler/);
  });

  it('copies across page boundaries into discontiguous frames, and stops at a hole', () => {
    const { m, pt, pgd } = test_machine();
    const faults = record_faults(m);
    const cpu = m.cpus[0];
    const a = pt.alloc_frame(), b = pt.alloc_frame(), c = pt.alloc_frame();
    pt.alloc_frame();
    const d = pt.alloc_frame();
    pt.map(pgd, KVA, a, P | RW);
    pt.map(pgd, KVA + 4096, b, P | RW);
    pt.map(pgd, KVA + 0x10000, c, P | RW);
    pt.map(pgd, KVA + 0x11000, d, P | RW);
    const src = new Uint8Array(6000).map((_, i) => (i * 7) & 0xff);
    expect(cpu.write_bytes(KVA + 100, src)).toBe(0);
    // 3000 + 6000 runs 808 bytes past the second page into a hole.
    expect(cpu.copy(KVA + 0x10000 + 3000, KVA + 100, 6000)).toBe(808);
    const out = new Uint8Array(5192);
    expect(cpu.read_bytes(KVA + 0x10000 + 3000, out)).toBe(0);
    expect(out).toEqual(src.subarray(0, 5192));
    expect(m.mem.read8(d + 4095)).toBe(src[5191]);
    // Copy into a range whose second page is missing: partial, bytes left reported.
    expect(cpu.copy(KVA + 4096 - 10, KVA + 0x10000, 30)).toBe(0);
    expect(cpu.copy(KVA + 8192 - 10, KVA + 0x10000, 30)).toBe(20);
    expect(faults.at(-1)).toEqual({ code: X86_PF_WRITE, cr2: KVA + 8192 });
    // A 32-bit load spanning two pages.
    m.mem.write8(a + 4095, 0x11);
    m.mem.write8(b, 0x22);
    m.mem.write8(b + 1, 0x33);
    m.mem.write8(b + 2, 0x44);
    expect(cpu.load32(KVA + 4095)).toBe(0x44332211);
  });

  it('a misaligned store32 that would fault on its second page stores nothing', () => {
    const { m, pt, pgd } = test_machine();
    record_faults(m);
    const cpu = m.cpus[0];
    const a = pt.alloc_frame();
    pt.map(pgd, KVA, a, P | RW);
    expect(cpu.store32(KVA + 4094, 0xffffffff)).toBe(false);
    expect(m.mem.read8(a + 4094)).toBe(0);
  });
});

/*
 * Property: for random page-table contents, the walker agrees with a
 * straightforward reference walk for every address tried.
 */
function ref_walk(m: Machine, pgd: number, va: number): { ok: boolean; rsvd: boolean; pa: number; rw: boolean; us: boolean; nx: boolean } {
  const bits = (x: number, lo: number, n: number): number => Math.floor(x / 2 ** lo) % 2 ** n;
  let table = pgd;
  let rw = true, us = true, nx = false;
  for (let level = 4; level >= 1; level--) {
    const idx = bits(va, 12 + 9 * (level - 1), 9);
    const lo = m.mem.read32(table + idx * 8);
    const hi = m.mem.read32(table + idx * 8 + 4);
    const e = hi * 2 ** 32 + lo; // loses nothing we test below bit 53 but NX
    if (!(lo & 1)) return { ok: false, rsvd: false, pa: 0, rw, us, nx };
    const addr_hi = bits(hi, 0, 20);
    if (addr_hi >= 2 ** 14) return { ok: false, rsvd: true, pa: 0, rw, us, nx };
    const ps = (lo & 0x80) !== 0;
    rw &&= (lo & 2) !== 0;
    us &&= (lo & 4) !== 0;
    nx ||= hi >= 2 ** 31;
    if (level === 4 && ps) return { ok: false, rsvd: true, pa: 0, rw, us, nx };
    const frame = addr_hi * 2 ** 32 + (lo - (lo % 4096)) % 2 ** 32;
    void e;
    if (level === 1 || ps) {
      const size = 2 ** (12 + 9 * (level - 1));
      if (level > 1 && bits(frame, 13, 9 * (level - 1) - 1) !== 0) return { ok: false, rsvd: true, pa: 0, rw, us, nx };
      const base = frame - (frame % size);
      return { ok: true, rsvd: false, pa: base + (va % size), rw, us, nx };
    }
    table = frame;
  }
  throw new Error('unreachable');
}

describe('x86_hw_mmu_walk_property', () => {
  it('agrees with a reference walk on random tables', () => {
    let walks_ok = 0;
    const idx = fc.integer({ min: 0, max: 3 }).map((k) => [0, 1, 273, 511][k]);
    fc.assert(fc.property(
      fc.array(fc.record({
        i4: idx, i3: idx, i2: idx, i1: idx,
        level: fc.integer({ min: 1, max: 3 }),
        flags: fc.integer({ min: 0, max: 0x1fff }),
        nx: fc.boolean(),
        frame: fc.integer({ min: 0, max: 2047 }),
        rsvd: fc.integer({ min: 0, max: 9 }), // 0: set a reserved high bit
        upper: fc.integer({ min: 0, max: 15 }), // clear RW/US / set NX on an upper level
      }), { maxLength: 40 }),
      fc.array(fc.tuple(idx, idx, idx, idx, fc.integer({ min: 0, max: 2 ** 21 - 1 })), { minLength: 1, maxLength: 30 }),
      (maps, picks) => {
        const m = new Machine({ mem_bytes: 8 << 20, nr_cpus: 1 });
        const pt = new PtBuilder(m, 0);
        const pgd = pt.alloc_frame();
        for (const w of maps) {
          const va = w.i4 * 2 ** 39 + w.i3 * 2 ** 30 + w.i2 * 2 ** 21 + w.i1 * 2 ** 12;
          let ea: number;
          try {
            const size = 2 ** (12 + 9 * (w.level - 1));
            const pa = (w.frame * 4096) - ((w.frame * 4096) % size);
            ea = pt.map(pgd, va, pa, (w.flags & ~_PAGE_PSE) | P, w.nx, w.level);
            if (w.level > 1 && (w.flags & 0x2000) === 0 && w.rsvd === 1)
              m.mem.write32(ea, m.mem.read32(ea) | 0x2000); // misaligned large leaf
          } catch {
            continue; // an earlier leaf sits where a table would go and points outside RAM
          }
          if (w.rsvd === 0) m.mem.write32(ea + 4, m.mem.read32(ea + 4) | (1 << 16));
          if (w.upper && w.level < 4) {
            try {
              const up = pt.entry(pgd, va, w.level + 1);
              let lo = m.mem.read32(up);
              if (w.upper & 1) lo &= ~RW;
              if (w.upper & 2) lo &= ~US;
              m.mem.write32(up, lo >>> 0);
              if (w.upper & 4) m.mem.write32(up + 4, (m.mem.read32(up + 4) | _PAGE_NX_HI) >>> 0);
              if (w.upper === 8) m.mem.write32(up, (lo & ~P) >>> 0);
            } catch {
              continue; // the upper level is itself a leaf pointing outside RAM
            }
          }
        }
        const r = new WalkResult();
        for (const [a, b, c, d, off] of picks) {
          const va = a * 2 ** 39 + b * 2 ** 30 + c * 2 ** 21 + d * 2 ** 12 + (off % 4096);
          let ref: ReturnType<typeof ref_walk>;
          try {
            ref = ref_walk(m, pgd, va);
          } catch {
            // a table pointer beyond RAM: the walker must stop with a machine check too
            expect(() => walk(m.mem, pgd, va, true, r)).toThrow(MachineCheck);
            continue;
          }
          walk(m.mem, pgd, va, true, r);
          if (!ref.ok) {
            expect(r.faulted).toBe(true);
            expect((r.err & X86_PF_RSVD) !== 0).toBe(ref.rsvd);
            continue;
          }
          expect(r.faulted).toBe(false);
          walks_ok++;
          expect(r.pfn * 4096 + (va % 2 ** r.shift)).toBe(ref.pa);
          expect((r.flags & 1) !== 0).toBe(ref.rw);
          expect((r.flags & 2) !== 0).toBe(ref.us);
          expect((r.flags & 4) !== 0).toBe(ref.nx);
        }
      }), { numRuns: 300 });
    expect(walks_ok).toBeGreaterThan(100); // the property saw real translations
  });

  it('entry_pfn reads bits 51..12 from two halves', () => {
    expect(entry_pfn(0xabcde000 | 0x63, 0x80000012)).toBe(0x12abcde);
    void _PAGE_NX_HI;
  });
});
