/*
 * tools/testing/pt_builder.ts - raw page tables for machine-level tests.
 *
 * No Linux counterpart. Frames come from a bump allocator over physmem and
 * entries are written raw: this sets up only what the hardware walks, for
 * machine tests, benchmarks and the boot-less demo. Kernel page tables are
 * arch/x86/mm's business.
 */
import { Machine } from '../../arch/x86/hw/smp.ts';
import { _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_PSE, _PAGE_NX_HI } from '../../arch/x86/include/asm/pgtable_types.ts';
import { level_index } from '../../arch/x86/hw/mmu.ts';
import { X86_CR4_PAE, X86_CR4_PGE, X86_CR4_PCIDE, X86_CR4_SMAP, X86_CR4_SMEP } from '../../arch/x86/include/asm/processor-flags.ts';

export const TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER;

export class PtBuilder {
  next_frame: number;
  constructor(readonly m: Machine, first_frame = 16) {
    this.next_frame = first_frame;
  }

  alloc_frame(): number {
    const pa = this.next_frame++ * 4096;
    this.m.mem.fill(pa, 0, 4096);
    return pa;
  }

  new_pgd(): number {
    return this.alloc_frame();
  }

  /** Physical address of the entry for `va` at `level`, creating tables above it. */
  entry(pgd: number, va: number, level: number): number {
    let table = pgd;
    for (let l = 4; l > level; l--) {
      const ea = table + level_index(va, l) * 8;
      let lo = this.m.mem.read32(ea);
      if (!(lo & _PAGE_PRESENT)) {
        const t = this.alloc_frame();
        lo = (t | TABLE) >>> 0;
        this.m.mem.write32(ea, lo);
        this.m.mem.write32(ea + 4, Math.floor(t / 2 ** 32));
      }
      const hi = this.m.mem.read32(ea + 4);
      table = (hi & 0xfffff) * 2 ** 32 + ((lo & 0xfffff000) >>> 0);
    }
    return table + level_index(va, level) * 8;
  }

  /** Map one page of 2^(12 + 9*(level-1)) bytes at `va` to `pa` with low flags `flags`. */
  map(pgd: number, va: number, pa: number, flags: number, nx = false, level = 1): number {
    const ea = this.entry(pgd, va, level);
    const lo = ((pa % 2 ** 32) | flags | (level > 1 ? _PAGE_PSE : 0)) >>> 0;
    this.m.mem.write32(ea, lo);
    this.m.mem.write32(ea + 4, (Math.floor(pa / 2 ** 32) | (nx ? _PAGE_NX_HI : 0)) >>> 0);
    return ea;
  }

  set_entry(ea: number, lo: number, hi = 0): void {
    this.m.mem.write32(ea, lo >>> 0);
    this.m.mem.write32(ea + 4, hi >>> 0);
  }
}

/** A booted-looking machine: PGE, PCIDE, SMEP, SMAP on; CR3 at a fresh PGD with PCID 1. */
export function test_machine(opts: { pcid?: number; cpus?: number; mem?: number } = {}): { m: Machine; pt: PtBuilder; pgd: number } {
  const m = new Machine({ mem_bytes: opts.mem ?? 64 * 2 ** 20, nr_cpus: opts.cpus ?? 1 });
  const pt = new PtBuilder(m);
  const pgd = pt.new_pgd();
  for (const cpu of m.cpus) {
    cpu.write_cr4(X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PCIDE | X86_CR4_SMEP | X86_CR4_SMAP);
    cpu.write_cr3(pgd + (opts.pcid ?? 1));
  }
  return { m, pt, pgd };
}
