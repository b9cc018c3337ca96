import { describe, it, expect } from 'vitest';
import { test_machine } from '../../../../tools/testing/pt_builder.ts';
import { Machine } from '../../../../arch/x86/hw/smp.ts';
import { GeneralProtection, FAULT_FIXUP, FAULT_RETRY } from '../../../../arch/x86/hw/cpu.ts';
import { cost_profile } from '../../../../arch/x86/hw/costs.ts';
import * as ev from '../../../../arch/x86/hw/events.ts';
import { X86_CR4_PAE, X86_CR4_PCIDE } from '../../../../arch/x86/include/asm/processor-flags.ts';
import { X86_TRAP_GP, X86_TRAP_PF, X86_PF_USER } from '../../../../arch/x86/include/asm/trap_pf.ts';
import { _PAGE_PRESENT, _PAGE_RW, _PAGE_USER } from '../../../../arch/x86/include/asm/pgtable_types.ts';
import { MachineCheck } from '../../../../arch/x86/hw/physmem.ts';

describe('x86_hw_cpu', () => {
  it('rejects bad CR3 values with a #GP naming the reason', () => {
    const m = new Machine({ mem_bytes: 1 << 24, nr_cpus: 1 });
    const cpu = m.cpus[0];
    expect(() => cpu.write_cr3(0x5000 + 0x123)).toThrow(/misaligned CR3/); // PCIDE=0
    expect(() => cpu.write_cr3(0x5000, true)).toThrow(/NOFLUSH/);
    expect(() => cpu.write_cr3(2 ** 47)).toThrow(/reserved bits/);
    expect(() => cpu.write_cr3(-4096)).toThrow(GeneralProtection);
    expect(() => cpu.write_cr3(1 << 30)).toThrow(/beyond RAM/);
    cpu.write_cr3(0x5000 | 0x18); // PWT|PCD are legal
    expect(cpu.read_cr3()).toBe(0x5018);
    expect(() => cpu.write_cr4(X86_CR4_PAE | X86_CR4_PCIDE)).toThrow(/CR3\[11:0\]/);
  });

  it('a #GP handler may take a fixup instead', () => {
    const m = new Machine({ mem_bytes: 1 << 24, nr_cpus: 1 });
    const reasons: string[] = [];
    m.set_intr_gate(X86_TRAP_GP, (_c, _e, _cr2, reason) => { reasons.push(reason); return FAULT_FIXUP; });
    expect(m.cpus[0].write_cr3(0x5001)).toBe(false);
    expect(reasons[0]).toMatch(/misaligned/);
    expect(m.cpus[0].ev[ev.HW_GP]).toBe(1);
  });

  it('rejects unknown INVPCID types and PCIDs, and INVPCID without the feature', () => {
    const { m } = test_machine();
    const cpu = m.cpus[0];
    expect(() => cpu.invpcid(4, 1)).toThrow(/unknown type 4/);
    expect(() => cpu.invpcid(1, 4096)).toThrow(/4095/);
    expect(() => cpu.invpcid(0, 1, 2 ** 48)).toThrow(/non-canonical/);
    const m2 = new Machine({ mem_bytes: 1 << 24, nr_cpus: 1, features: { invpcid: false } });
    expect(() => m2.cpus[0].invpcid(1, 1)).toThrow(/#UD/);
  });

  it('a CPU without PCID refuses CR4.PCIDE', () => {
    const m = new Machine({ mem_bytes: 1 << 24, nr_cpus: 1, features: { pcid: false } });
    expect(() => m.cpus[0].write_cr4(X86_CR4_PAE | X86_CR4_PCIDE)).toThrow(/PCIDE/);
  });

  it('a page walk through a table beyond RAM is a machine check', () => {
    const { m, pt, pgd } = test_machine();
    const ea = pt.entry(pgd, 0x888000000000, 4);
    m.mem.write32(ea, 0x3); // present, RW, table at physical 0 ...
    m.mem.write32(ea + 4, 0x10); // ... plus 2^36: beyond 64 MiB of RAM
    expect(() => m.cpus[0].load32(0x888000000000)).toThrow(MachineCheck);
  });

  it('charges every instruction its profile cost and counts it', () => {
    const costs = cost_profile('sapphire_rapids', { ibpb: 1234 });
    const m = new Machine({ mem_bytes: 1 << 24, nr_cpus: 1, costs });
    const cpu = m.cpus[0];
    const t0 = cpu.clock;
    cpu.ibpb();
    expect(cpu.clock - t0).toBe(1234);
    cpu.rsb_fill();
    cpu.verw();
    cpu.l1d_flush();
    expect(cpu.clock - t0).toBe(1234 + costs.rsb_fill + costs.verw + costs.l1d_flush);
    expect([cpu.ev[ev.HW_IBPB], cpu.ev[ev.HW_RSB_FILL], cpu.ev[ev.HW_VERW], cpu.ev[ev.HW_L1D_FLUSH]]).toEqual([1, 1, 1, 1]);
    expect(() => cost_profile('nehalem')).toThrow(/unknown profile/);
    expect(() => cost_profile('sapphire_rapids', { ibpbb: 1 })).toThrow(/unknown cost key 'ibpbb'/);
  });

  it('a CR3 write without NOFLUSH costs later walks: the flush shows as refills', () => {
    const { m, pt, pgd } = test_machine({ pcid: 1 });
    const cpu = m.cpus[0];
    const f = pt.alloc_frame();
    for (let i = 0; i < 64; i++) pt.map(pgd, 0x400000 + i * 4096, f, 3);
    const touch = (): number => {
      const c0 = cpu.clock;
      for (let i = 0; i < 64; i++) cpu.load32(0x400000 + i * 4096);
      return cpu.clock - c0;
    };
    touch();
    cpu.write_cr3(pgd + 1, true);
    const warm = touch();
    cpu.write_cr3(pgd + 1);
    const cold = touch();
    // A hit costs tlb_hit; a miss walks four levels instead.
    expect(cold - warm).toBe(64 * (4 * m.costs.walk_step_l2 - m.costs.tlb_hit));
  });

  it('an IPI runs its handler on the receiver and charges both sides', () => {
    const { m } = test_machine({ cpus: 3 });
    const seen: number[] = [];
    m.send_ipi(m.cpus[0], [1, 2], (c) => { seen.push(c.id, m.current); c.charge('user_work', 100); });
    expect(seen).toEqual([1, 1, 2, 2]);
    expect(m.current).toBe(0);
    expect(m.cpus[0].ev[ev.HW_IPI_SENT]).toBe(2);
    expect(m.cpus[1].ev[ev.HW_IPI_RECEIVED]).toBe(1);
    // wait=1: the sender's clock reaches the last receiver's finish
    expect(m.cpus[0].clock).toBeGreaterThanOrEqual(m.cpus[2].clock);
  });
  it('a #PF from user mode runs its handler at CPL 0; IRET returns to CPL 3 with EFLAGS.AC', () => {
    const { m, pt, pgd } = test_machine();
    const cpu = m.cpus[0];
    const UVA = 0x7f0000001000;
    const in_handler: [number, boolean][] = [];
    m.set_intr_gate(X86_TRAP_PF, (c, code) => {
      in_handler.push([c.cpl, c.ac]);
      expect(code & X86_PF_USER).toBe(X86_PF_USER);
      c.stac(); // the handler's own user access; IRET must undo it
      pt.map(pgd, UVA, pt.alloc_frame(), _PAGE_PRESENT | _PAGE_RW | _PAGE_USER);
      return FAULT_RETRY;
    });
    cpu.cpl = 3;
    expect(cpu.store32(UVA, 7)).toBe(true);
    expect(in_handler).toEqual([[0, false]]);
    expect(cpu.cpl).toBe(3);
    expect(cpu.ac).toBe(false);
    // Back in user mode, a supervisor-only page still faults as a user access.
    const KVA = 0x888000200000;
    pt.map(pgd, KVA, pt.alloc_frame(), _PAGE_PRESENT | _PAGE_RW);
    m.set_intr_gate(X86_TRAP_PF, (c, code) => {
      in_handler.push([c.cpl, c.ac]);
      expect(code & X86_PF_USER).toBe(X86_PF_USER);
      return FAULT_FIXUP;
    });
    expect(cpu.load32(KVA)).toBe(-1);
    expect(in_handler[1]).toEqual([0, false]);
    expect(cpu.cpl).toBe(3);
  });

  it('a kernel #PF handler keeps CPL 0, and IRET restores the AC of a user copy', () => {
    const { m, pt, pgd } = test_machine();
    const cpu = m.cpus[0];
    const UVA = 0x7f0000002000;
    m.set_intr_gate(X86_TRAP_PF, (c) => {
      expect(c.cpl).toBe(0);
      c.clac(); // as the entry code's ASM_CLAC
      pt.map(pgd, UVA, pt.alloc_frame(), _PAGE_PRESENT | _PAGE_RW | _PAGE_USER);
      return FAULT_RETRY;
    });
    cpu.stac();
    expect(cpu.store32(UVA, 1)).toBe(true); // retried with AC set again, so SMAP allows it
    expect(cpu.ac).toBe(true);
    cpu.clac();
  });

  it('a handler that never returns leaves the CPU in kernel mode', () => {
    const { m } = test_machine();
    const cpu = m.cpus[0];
    m.set_intr_gate(X86_TRAP_PF, () => { throw new Error('fatal signal'); });
    cpu.cpl = 3;
    expect(() => cpu.load32(0x7f0000003000)).toThrow('fatal signal');
    expect(cpu.cpl).toBe(0);
  });
});
