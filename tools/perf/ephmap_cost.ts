/*
 * tools/perf/ephmap_cost.ts - what each ephmap= variant adds to a 4 KiB
 * tmpfs pread, by cost key and by counted event.
 *
 * No Linux counter part (the thread's numbers came from fio and perf). A
 * cpus=1 kernel per variant lays out a tmpfs file and times random 4 KiB
 * preads over it (the seed's fio job shape: --rw=randread --bs=4K, one
 * job), from syscall entry to return:
 *   physmap:  ephmap_wanted() false, the plain physmap copy (asi=off);
 *   percpu, vmalloc, kmap, mermap: the test override on, so every copy goes
 *             through that variant's mapping (asi=off: the mapping work
 *             alone; with asi=on it is the same work and no exit, which
 *             tools/perf/pread_cost.ts "asi=on ephmap=X" measures).
 * For each it prints cycles per read, the cost keys that differ from the
 * physmap run (count and cycles per read), and the events per read that
 * explain them. Deterministic: same arguments, same numbers.
 *
 * With vmap_areas=N (a tool option, not a kernel parameter) the KVA space
 * is populated first as a running system's is (module text, VMAP_STACK
 * kernel stacks, ...): N 8 KiB vmalloc areas, every other one freed and
 * purged, so the free tree holds N/2 holes for the lowest-fit search to
 * walk, where a fresh boot has almost none.
 *
 *   npx tsx tools/perf/ephmap_cost.ts [size_mib=64] [reads=4096] [vmap_areas=N] [extra kernel parameters...]
 */
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../include/nolibc.ts';
import { O_RDWR, O_CREAT } from '../../include/uapi/asm-generic/fcntl.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../include/uapi/linux/mman.ts';
import { COST_KEYS, NR_COST_KEYS } from '../../arch/x86/hw/costs.ts';
import { RndState, prandom_u32_below } from '../../lib/prandom.ts';
import { ephmap_state } from '../../mm/ephmap.ts';
import type { EphmapMode } from '../../include/linux/ephmap.ts';
import { vmalloc, vfree, purge_vmap_area_lazy } from '../../mm/vmalloc.ts';

const PAGE = 4096;
const CHUNK = 64 * PAGE;

export const EVENTS = ['nr_ephmap_get', 'nr_ephmap_fallback', 'nr_tlb_local_flush_one', 'nr_tlb_local_flush_all',
  'nr_ephmap_vmap_alloc', 'nr_vmap_purge', 'nr_tlb_remote_flush_received', 'nr_kmap_local_map', 'nr_mermap_flush'];

export interface EphmapCost {
  name: string;
  cycles: number;
  /** Per cost key: charges and cycles per read. */
  keys: Map<string, { count: number; cycles: number }>;
  /** Per event: count per read. */
  events: Record<string, number>;
}

/** Random 4 KiB preads of a size_mib tmpfs file under `variant` (physmap: no override). */
export function ephmap_cost(variant: EphmapMode | 'physmap', size_mib = 64, reads = 4096, extra = '', vmap_areas = 0): EphmapCost {
  const pages = (size_mib * 2 ** 20) / PAGE;
  const k = start_kernel(`mem=${Math.max(256, 2 * size_mib + 256)}M cpus=1 ephmap=${variant === 'physmap' ? 'percpu' : variant} ${extra}`);
  ephmap_state.test_force = variant !== 'physmap';
  const areas: number[] = [];
  for (let i = 0; i < vmap_areas; i++) {
    const a = vmalloc(2 * PAGE);
    if (a === null) throw new Error('ephmap_cost: vmalloc failed');
    if (i % 2) vfree(a);
    else areas.push(a);
  }
  purge_vmap_area_lazy();
  const cpu = k.machine.cpus[0];
  let a = { ev: new Float64Array(0), clock: 0, vm: {} as Record<string, number> };
  let b = a;
  k.spawn('ephmap_cost', function* (u: Nolibc) {
    const buf = yield* u.mmap(0, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    u.poke(buf, new Uint8Array(CHUNK).fill(0x5a));
    const fd = yield* u.open('/ephmap_cost', O_RDWR | O_CREAT, 0o644);
    for (let off = 0; off < pages * PAGE; off += CHUNK)
      if ((yield* u.write(fd, buf, Math.min(CHUNK, pages * PAGE - off))) <= 0) return 1;
    const rnd = new RndState(1);
    for (let i = 0; i < 256; i++) yield* u.pread64(fd, buf, PAGE, prandom_u32_below(rnd, pages) * PAGE); // warm-up
    a = { ev: Float64Array.from(cpu.cost_events), clock: cpu.clock, vm: k.vmstat() };
    for (let i = 0; i < reads; i++)
      if ((yield* u.pread64(fd, buf, PAGE, prandom_u32_below(rnd, pages) * PAGE)) !== PAGE) return 2;
    b = { ev: Float64Array.from(cpu.cost_events), clock: cpu.clock, vm: k.vmstat() };
    return 0;
  });
  const res = k.run();
  if (res.exited[0]?.status !== 0) throw new Error(`ephmap_cost: the program failed (${res.exited[0]?.status})`);
  const keys = new Map<string, { count: number; cycles: number }>();
  for (let i = 0; i < NR_COST_KEYS; i++) {
    const d = b.ev[i] - a.ev[i];
    if (d) keys.set(COST_KEYS[i], { count: d / reads, cycles: (d * cpu.cost_cycles[i]) / reads });
  }
  const events: Record<string, number> = {};
  for (const e of EVENTS) events[e] = ((b.vm[e] ?? 0) - (a.vm[e] ?? 0)) / reads;
  for (const a of areas) vfree(a);
  k.shutdown();
  return { name: variant, cycles: (b.clock - a.clock) / reads, keys, events };
}

/** The variant against the physmap baseline: the keys that moved, largest first. */
export function format_ephmap_cost(r: EphmapCost, base: EphmapCost): string {
  const lines = [`${r.name}: ${r.cycles.toFixed(1)} cycles per 4 KiB pread (${(r.cycles - base.cycles >= 0 ? '+' : '')}${(r.cycles - base.cycles).toFixed(1)} vs physmap)`];
  const rows: { key: string; dc: number; dn: number }[] = [];
  for (const key of new Set([...r.keys.keys(), ...base.keys.keys()])) {
    const x = r.keys.get(key) ?? { count: 0, cycles: 0 };
    const y = base.keys.get(key) ?? { count: 0, cycles: 0 };
    if (Math.abs(x.cycles - y.cycles) > 0.05) rows.push({ key, dc: x.cycles - y.cycles, dn: x.count - y.count });
  }
  rows.sort((p, q) => Math.abs(q.dc) - Math.abs(p.dc));
  for (const row of rows) lines.push(`  ${row.key.padEnd(16)} ${row.dn >= 0 ? '+' : ''}${row.dn.toFixed(2).padStart(8)} charges ${row.dc >= 0 ? '+' : ''}${row.dc.toFixed(1).padStart(8)} cycles`);
  const ev = Object.entries(r.events).filter(([, v]) => v).map(([e, v]) => `${e}=${v.toFixed(3)}`).join(' ');
  lines.push(`  events/read: ${ev || '(none)'}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [size, reads, ...rest] = process.argv.slice(2);
  const va = rest.find((x) => x.startsWith('vmap_areas='));
  const extra = rest.filter((x) => x !== va);
  const args = [size ? Number(size) : 64, reads ? Number(reads) : 4096, extra.join(' '), va ? Number(va.slice(11)) : 0] as const;
  const base = ephmap_cost('physmap', ...args);
  console.log(`physmap: ${base.cycles.toFixed(1)} cycles per 4 KiB pread\n`);
  for (const v of ['percpu', 'vmalloc', 'kmap', 'mermap'] as const) console.log(format_ephmap_cost(ephmap_cost(v, ...args), base) + '\n');
}
