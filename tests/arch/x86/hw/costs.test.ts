import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test_machine } from '../../../../tools/testing/pt_builder.ts';
import { Machine } from '../../../../arch/x86/hw/smp.ts';
import { FAULT_FIXUP, FAULT_RETRY } from '../../../../arch/x86/hw/cpu.ts';
import {
  COST_KEYS, COST_PROFILES, cost_breakdown, cost_profile, type CostKey, type CostRow,
} from '../../../../arch/x86/hw/costs.ts';
import { X86_TRAP_GP, X86_TRAP_PF } from '../../../../arch/x86/include/asm/trap_pf.ts';
import { X86_CR4_PGE } from '../../../../arch/x86/include/asm/processor-flags.ts';
import { start_kernel } from '../../../../init/main.ts';
import type { Nolibc } from '../../../../tools/include/nolibc.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../../../include/uapi/linux/mman.ts';
import { O_RDWR, O_CREAT } from '../../../../include/uapi/asm-generic/fcntl.ts';

const KRW = 0x3;

const total = (rows: readonly CostRow[]): number => rows.reduce((s, r) => s + r.cycles, 0);

/** The keys the machine itself charges (arch/x86/hw): a mixed machine workload must reach each. */
const HW_KEYS: readonly CostKey[] = [
  'tlb_hit', 'walk_step_l2', 'walk_step_llc', 'walk_step_dram', 'cr3_write', 'cr4_write', 'invlpg',
  'invpcid_addr', 'invpcid_ctx', 'invpcid_all', 'invpcid_nonglobal', 'ibpb', 'rsb_fill', 'l1d_flush',
  'verw', 'ipi_send', 'ipi_receive', 'ipi_wait', 'exception', 'copy_byte', 'fill_byte', 'copy_base',
  'line_read_llc', 'line_read_dram', 'line_write_llc', 'line_write_dram', 'syscall', 'sysret',
  'mem_access', 'user_work',
];

describe('x86_costs', () => {
  it('breaks a mixed machine workload down by key, adding up to every clock', () => {
    const { m, pt, pgd } = test_machine({ cpus: 2, mem: 128 * 2 ** 20 });
    const [c0, c1] = m.cpus;
    const va = (i: number): number => 0x400000 + i * 4096;
    for (let i = 0; i < 600; i++) pt.map(pgd, va(i), pt.alloc_frame(), KRW);
    m.set_intr_gate(X86_TRAP_PF, (_c, _code, cr2) => {
      pt.map(pgd, cr2 - (cr2 % 4096), pt.alloc_frame(), KRW); // demand paging
      return FAULT_RETRY;
    });
    m.set_intr_gate(X86_TRAP_GP, () => FAULT_FIXUP);
    // Memory: loads and stores, copies and fills hot, from the LLC and from DRAM.
    c0.store32(va(0), 1);
    c0.load32(va(0));
    c0.copy(va(1), va(0), 4096);
    c0.copy(va(1), va(0), 4096);
    for (let i = 2; i < 600; i++) c0.fill(va(i), 0xaa, 4096); // pushes 0 and 1 out of L2
    c0.copy(va(0), va(1), 4096);
    c0.write_bytes(va(5), new Uint8Array(100));
    c0.read_bytes(va(5), new Uint8Array(100));
    c0.load32(va(1000)); // a fault the handler maps
    expect(c0.write_cr3(2 ** 47)).toBe(false); // #GP (reserved bits), fixed up
    // Flushes, mitigations, privilege transitions.
    c0.invlpg(va(0));
    for (let t = 0; t < 4; t++) c0.invpcid(t, 1, va(0));
    c0.write_cr3(c0.read_cr3(), true);
    c0.write_cr4(c0.read_cr4() & ~X86_CR4_PGE);
    c0.ibpb();
    c0.rsb_fill();
    c0.l1d_flush();
    c0.verw();
    c0.sysret();
    c0.charge('user_work', 1234.5);
    c0.syscall();
    // CPU 1 behind takes a shootdown and walks cold tables from the LLC.
    c0.charge('user_work', 50_000);
    m.send_ipi(c0, [1], (c) => { c.invlpg(va(0)); c.load32(va(3)); });
    expect(c1.ipi_catchup).toBeGreaterThan(0);
    for (const c of m.cpus) {
      const rows = cost_breakdown([c]);
      // Every cycle on the clock is a key's, but for the IPI catch-up (idle).
      expect(total(rows) + c.ipi_catchup).toBeCloseTo(c.clock, 6);
      for (const r of rows) expect(r.cycles).toBeCloseTo(r.count * m.costs[r.key], 6);
    }
    const all = cost_breakdown(m.cpus);
    expect(total(all) + c0.ipi_catchup + c1.ipi_catchup).toBeCloseTo(c0.clock + c1.clock, 6);
    const charged = new Set(all.map((r) => r.key));
    expect(HW_KEYS.filter((k) => !charged.has(k))).toEqual([]);
    expect(HW_KEYS.filter((k) => !COST_KEYS.includes(k))).toEqual([]);
  });

  it('breaks a booted kernel running a program down by key, adding up to the clock', () => {
    const k = start_kernel('mem=64M cpus=1');
    k.spawn('mixed', function* (u: Nolibc) {
      const buf = yield* u.mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      u.poke(buf, new Uint8Array(4 * 4096).fill(7));
      const fd = yield* u.open('/f', O_RDWR | O_CREAT, 0o644);
      if ((yield* u.write(fd, buf, 4 * 4096)) !== 4 * 4096) return 1;
      for (let i = 0; i < 8; i++) if ((yield* u.pread64(fd, buf, 4096, (i % 4) * 4096)) !== 4096) return 2;
      u.compute(10_000);
      yield* u.munmap(buf, 4 * 4096);
      return 0;
    });
    const r = k.run();
    expect(r.exited[0]?.status).toBe(0);
    const cpu = k.machine.cpus[0];
    const rows = cost_breakdown([cpu]);
    expect(total(rows)).toBeCloseTo(cpu.clock, 6);
    const keys = rows.map((x) => x.key);
    for (const key of ['syscall_work', 'context_switch', 'schedule', 'fault_work', 'pte_update', 'user_work'] as const)
      expect(keys).toContain(key);
    expect(rows.find((x) => x.key === 'user_work')?.count).toBe(10_000);
    k.shutdown();
  });

  it('resolves profiles by name, with overrides of any numeric key; unknown ones are a RangeError', () => {
    expect(() => cost_profile('nehalem')).toThrow(RangeError);
    expect(() => cost_profile('constructor')).toThrow(/unknown profile/);
    expect(() => cost_profile('sapphire_rapids', { walk_step: 5 })).toThrow(/unknown cost key 'walk_step'/);
    expect(() => cost_profile('sapphire_rapids', { cpu: 5 })).toThrow(/unknown cost key 'cpu'/);
    expect(() => cost_profile('sapphire_rapids', { model_name: 5 })).toThrow(/unknown cost key/);
    expect(() => cost_profile('sapphire_rapids', { ibpb: -1 })).toThrow(/bad value/);
    const p = cost_profile('sapphire_rapids', { ibpb: 1, cpu_mhz: 3000, llc_kib: 4096, entries_4k: 512, line_read_dram: 0 });
    expect([p.ibpb, p.cpu_mhz, p.cpu.llc_kib, p.cpu.tlb.entries_4k, p.line_read_dram]).toEqual([1, 3000, 4096, 512, 0]);
    // The named profile itself is untouched.
    expect(COST_PROFILES.sapphire_rapids.cpu.llc_kib).toBe(107520);
    expect(COST_PROFILES.sapphire_rapids.cpu.tlb.entries_4k).toBe(2048);
    // The machine builds its caches and TLBs from the part.
    const m = new Machine({ mem_bytes: 1 << 24, nr_cpus: 1, costs: p });
    expect(m.llc.capacity).toBe(1020); // 1024 pages, 15-way: 68 sets
    expect(m.cpus[0].tlb.config.entries_4k).toBe(512);
    const sky = new Machine({ mem_bytes: 1 << 24, nr_cpus: 1, costs: cost_profile('skylake') });
    expect(sky.cpus[0].l2.capacity).toBe(256);
    expect([sky.cpus[0].tlb.config.entries_4k, sky.cpus[0].tlb.config.ways_4k]).toEqual([1536, 12]);
  });

  it('profiles name the part and its bugs: Sapphire Rapids has no Meltdown, L1TF or MDS; Skylake-SP has them', () => {
    const spr = COST_PROFILES.sapphire_rapids.cpu;
    const skx = COST_PROFILES.skylake.cpu;
    expect([spr.family, spr.model, skx.family, skx.model]).toEqual([6, 0x8f, 6, 0x55]);
    expect(spr.model_name).toMatch(/Xeon/);
    for (const bug of ['X86_BUG_CPU_MELTDOWN', 'X86_BUG_L1TF', 'X86_BUG_MDS', 'X86_BUG_RETBLEED'] as const) {
      expect(spr.bugs).not.toContain(bug);
      expect(skx.bugs).toContain(bug);
    }
    expect(spr.bugs).toContain('X86_BUG_SPECTRE_V2');
    for (const p of Object.values(COST_PROFILES)) expect(Object.keys(p).filter((x) => x !== 'cpu' && x !== 'cpu_mhz')).toEqual(COST_KEYS);
  });

  it('every key of the default profile says where its figure comes from', () => {
    const src = readFileSync(fileURLToPath(new URL('../../../../arch/x86/hw/costs.ts', import.meta.url)), 'utf8');
    const body = src.slice(src.indexOf('const sapphire_rapids'), src.indexOf('const skylake'));
    const lines = body.split('\n');
    const unlabelled = COST_KEYS.filter((key) => {
      const at = lines.findIndex((l) => l.trimStart().startsWith(`${key}:`));
      if (at < 0) return true;
      // The key's own line, or the comment lines just above it.
      let text = lines[at];
      for (let i = at - 1; i >= 0 && lines[i].trimStart().startsWith('//'); i--) text += lines[i];
      return !/\[(M|E|L|I|S)\]|the unit/.test(text);
    });
    expect(unlabelled).toEqual([]);
  });
});
