/*
 * tools/start.ts - `npm start`: build the machine and show what it does.
 *
 * No Linux counterpart. Takes a kernel command line (`npm start -- mem=1G
 * cpus=4 nopcid`), builds the simulated machine it describes, prints its
 * configuration and walks through the hazard the kernel must manage: a page
 * walk, a TLB hit, a stale entry after a PTE change, and the flush that
 * ends it.
 */
import { Machine } from '../arch/x86/hw/smp.ts';
import { cost_profile } from '../arch/x86/hw/costs.ts';
import { HW_EVENT_NAMES } from '../arch/x86/hw/events.ts';
import { parse_kernel_params, format_size, ParamError, type KernelParams } from '../kernel/params.ts';
import { PtBuilder } from './testing/pt_builder.ts';
import { format_va } from '../arch/x86/include/asm/page.ts';
import { KERNEL_MEMORY_MAP } from '../arch/x86/include/asm/pgtable_64_types.ts';
import { _PAGE_PRESENT, _PAGE_RW, _PAGE_GLOBAL } from '../arch/x86/include/asm/pgtable_types.ts';
import { X86_CR4_PAE, X86_CR4_PCIDE, X86_CR4_PGE, X86_CR4_SMAP, X86_CR4_SMEP } from '../arch/x86/include/asm/processor-flags.ts';
import { PAGE_OFFSET } from '../arch/x86/include/asm/page_64_types.ts';
import { perf_stat_format } from '../kernel/trace/index.ts';

const cmdline = process.argv.slice(2).join(' ') || 'mem=512M cpus=2';
let p: KernelParams;
try {
  p = parse_kernel_params(cmdline);
} catch (e) {
  if (!(e instanceof ParamError)) throw e;
  console.error(`tskernel: bad command line: ${e.message}`);
  process.exit(2);
}
const costs = cost_profile(p.costs.profile, p.costs.overrides);
const m = new Machine({
  mem_bytes: p.mem,
  nr_cpus: p.cpus,
  costs,
  features: { pcid: !p.nopcid, invpcid: !p.noinvpcid, smap: !p.nosmap, smep: !p.nosmep },
});
const cpu = m.cpus[0];
const t = cpu.tlb.config;

console.log(`tskernel machine: ${p.cpus} CPU(s), ${format_size(p.mem)} RAM (${m.mem.nr_pages} pages), costs=${p.costs.profile} @ ${costs.cpu_mhz} MHz`);
console.log(`  features: ${Object.entries(m.features).filter(([, v]) => v).map(([k]) => k).join(' ')}`);
console.log(`  TLB per CPU: ${t.entries_4k} x 4K (${t.ways_4k}-way), ${t.entries_2m} x 2M, ${t.entries_1g} x 1G, ${t.replacement} replacement`);
console.log(`  host memory backing RAM so far: ${m.mem.host_bytes} bytes`);
console.log('\nKernel virtual memory map (4-level):');
for (const r of KERNEL_MEMORY_MAP)
  console.log(`  ${format_va(r.start)} - ${format_va(r.end - 1)}  ${r.name}`);

// A PGD with one 4 KiB kernel page, PCID 1 if the CPU has PCIDs.
const pt = new PtBuilder(m);
const pgd = pt.new_pgd();
const pcid = m.features.pcid ? 1 : 0;
cpu.write_cr4(X86_CR4_PAE | X86_CR4_PGE | (pcid ? X86_CR4_PCIDE : 0) |
  (m.features.smep ? X86_CR4_SMEP : 0) | (m.features.smap ? X86_CR4_SMAP : 0));
cpu.write_cr3(pgd + pcid);
const va = PAGE_OFFSET + 0x200000;
const a = pt.alloc_frame();
const b = pt.alloc_frame();
pt.map(pgd, va, a, _PAGE_PRESENT | _PAGE_RW);
m.mem.write32(a, 0xaaaa);
m.mem.write32(b, 0xbbbb);

const step = (what: string, fn: () => string): void => {
  const c0 = cpu.clock;
  const r = fn();
  console.log(`  ${what.padEnd(46)} ${r.padEnd(28)} +${(cpu.clock - c0).toFixed(0)} cycles`);
};
console.log(`\nDemonstration on CPU 0 (CR3 = ${cpu.read_cr3().toString(16)}, PCID ${pcid}):`);
step(`load ${format_va(va)}: TLB miss, 4-level walk`, () => `0x${cpu.load32(va).toString(16)} from pa ${a.toString(16)}`);
step('load again: TLB hit', () => `0x${cpu.load32(va).toString(16)}`);
pt.map(pgd, va, b, _PAGE_PRESENT | _PAGE_RW | _PAGE_GLOBAL);
step('PTE now points at another frame, no flush', () => `0x${cpu.load32(va).toString(16)} (stale!)`);
step('invlpg, then load', () => { cpu.invlpg(va); return `0x${cpu.load32(va).toString(16)} from pa ${b.toString(16)}`; });
step('CR3 write (flushes PCID, keeps globals)', () => { cpu.write_cr3(pgd + pcid); return `0x${cpu.load32(va).toString(16)} (global entry kept)`; });

const counters: Record<string, number[]> = {};
HW_EVENT_NAMES.forEach((name, i) => {
  if (cpu.ev[i]) counters[name] = [cpu.ev[i]];
});
console.log('\n' + perf_stat_format(counters, { target: 'machine demo', elapsed_cycles: cpu.clock, cpu_ghz: costs.cpu_mhz / 1000 }));
