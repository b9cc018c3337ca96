/*
 * tools/lib/trace_check.ts - check a Chrome Trace Event JSON file against
 * the format, and count what it shows per CPU.
 *
 * No Linux counterpart. The checks are what the format (the "Trace Event
 * Format" document: JSON Object Format) and Perfetto's JSON importer need
 * for a file to load without import errors:
 *   - a traceEvents array of objects with a string name, a known phase, a
 *     numeric pid and tid, and a finite ts (metadata 'M' excepted);
 *   - 'X' slices have dur >= 0 and nest on their track (a child ends
 *     before its parent does); 'B'/'E' pairs match on their track;
 *   - time stamps never go back on a track (in file order);
 *   - every flow id has one start ('s') and one end ('f'), the end no
 *     earlier than the start, and a 'f' with bp:'e' lies inside a slice
 *     of its track (the slice it binds to).
 * The summary counts, per kernel (pid) and CPU, the syscall slices, the
 * restricted-mode slices, the ASI exit instants and the IPI flows sent.
 *
 *   npx tsx tools/lib/trace_check.ts out.json
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChromeTrace, ChromeTraceEvent } from '../../kernel/trace/index.ts';

const PHASES = new Set(['i', 'I', 'B', 'E', 'X', 'M', 'C', 's', 't', 'f']);
/** Microsecond stamps are ns / 1000 in floating point: allow rounding. */
const EPS = 1e-6;

export interface CpuSummary {
  syscall_slices: number;
  restricted_slices: number;
  asi_exits: number;
  ipi_flows_sent: number;
  ipi_flows_received: number;
}

export interface TraceCheck {
  errors: string[];
  /** "pid/CPU n" -> counts. */
  cpus: Record<string, CpuSummary>;
  events: number;
}

function blank(): CpuSummary {
  return { syscall_slices: 0, restricted_slices: 0, asi_exits: 0, ipi_flows_sent: 0, ipi_flows_received: 0 };
}

/** Check a parsed trace; the errors are empty for a valid one. */
export function check_chrome_trace(doc: unknown): TraceCheck {
  const errors: string[] = [];
  const out: TraceCheck = { errors, cpus: {}, events: 0 };
  const t = doc as ChromeTrace;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(t.traceEvents)) {
    errors.push('no traceEvents array');
    return out;
  }
  const names = new Map<string, string>(); // "pid/tid" -> thread_name
  for (const e of t.traceEvents)
    if (e && e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}/${e.tid}`, String(e.args?.name));
  const cpu_of = (e: ChromeTraceEvent): string | null => {
    const n = names.get(`${e.pid}/${e.tid}`);
    const m = n ? /^CPU (\d+)/.exec(n) : null;
    return m ? `${e.pid}/CPU ${m[1]}` : null;
  };
  const sum = (e: ChromeTraceEvent): CpuSummary | null => {
    const k = cpu_of(e);
    return k ? (out.cpus[k] ??= blank()) : null;
  };
  const last_ts = new Map<string, number>();
  const open_x = new Map<string, number[]>(); // track -> stack of end times
  const open_b = new Map<string, number>();
  const flows = new Map<number, { s?: ChromeTraceEvent; f?: ChromeTraceEvent }>();
  const slices = new Map<string, [number, number][]>();
  t.traceEvents.forEach((e, i) => {
    const where = `event ${i}`;
    if (typeof e !== 'object' || e === null) { errors.push(`${where}: not an object`); return; }
    if (typeof e.name !== 'string') errors.push(`${where}: no name`);
    if (!PHASES.has(e.ph)) { errors.push(`${where}: unknown phase '${String(e.ph)}'`); return; }
    if (typeof e.pid !== 'number' || typeof e.tid !== 'number') errors.push(`${where}: pid/tid not numbers`);
    if (e.ph === 'M') return;
    out.events++;
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts)) { errors.push(`${where}: bad ts`); return; }
    // Counters are process tracks of their own name; everything else is the thread's.
    const track = e.ph === 'C' ? `${e.pid}/C/${e.name}` : `${e.pid}/${e.tid}`;
    const prev = last_ts.get(track);
    if (prev !== undefined && e.ts < prev - EPS) errors.push(`${where}: ts ${e.ts} goes back on track ${track} (after ${prev})`);
    last_ts.set(track, e.ts);
    const stack = open_x.get(track) ?? [];
    open_x.set(track, stack);
    // Slices that ended by now are no one's parent any more.
    while (stack.length && stack[stack.length - 1] <= e.ts + EPS) stack.pop();
    switch (e.ph) {
      case 'X': {
        if (typeof e.dur !== 'number' || !(e.dur >= 0)) { errors.push(`${where}: X without dur >= 0`); break; }
        const end = e.ts + e.dur;
        const parent = stack[stack.length - 1];
        if (parent !== undefined && end > parent + EPS)
          errors.push(`${where}: slice '${e.name}' [${e.ts}, ${end}] overlaps its parent ending at ${parent} on ${track}`);
        stack.push(end);
        (slices.get(track) ?? slices.set(track, []).get(track)!).push([e.ts, end]);
        const s = sum(e);
        if (s && e.cat === 'syscall') s.syscall_slices++;
        if (s && e.cat === 'asi' && e.name === 'restricted') s.restricted_slices++;
        break;
      }
      case 'B':
        open_b.set(track, (open_b.get(track) ?? 0) + 1);
        break;
      case 'E': {
        const n = open_b.get(track) ?? 0;
        if (n === 0) errors.push(`${where}: E without B on ${track}`);
        else open_b.set(track, n - 1);
        break;
      }
      case 'i': {
        const s = sum(e);
        if (s && e.name === 'asi_exit') s.asi_exits++;
        break;
      }
      case 's':
      case 'f': {
        if (typeof e.id !== 'number') { errors.push(`${where}: flow without id`); break; }
        const fl = flows.get(e.id) ?? {};
        if (fl[e.ph]) errors.push(`${where}: flow ${e.id} has two '${e.ph}'`);
        fl[e.ph] = e;
        flows.set(e.id, fl);
        break;
      }
      default:
        break;
    }
  });
  for (const [track, n] of open_b) if (n) errors.push(`${n} B without E on ${track}`);
  for (const [id, fl] of flows) {
    if (!fl.s || !fl.f) { errors.push(`flow ${id} is not paired`); continue; }
    if (fl.f.ts! < fl.s.ts! - EPS) errors.push(`flow ${id} ends before it starts`);
    if (fl.f.bp === 'e') {
      const inside = (slices.get(`${fl.f.pid}/${fl.f.tid}`) ?? []).some(([a, b]) => a <= fl.f!.ts! + EPS && fl.f!.ts! <= b + EPS);
      if (!inside) errors.push(`flow ${id}: its end binds to no slice`);
    }
    const s = sum(fl.s);
    if (s) s.ipi_flows_sent++;
    const r = sum(fl.f);
    if (r) r.ipi_flows_received++;
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: npx tsx tools/lib/trace_check.ts FILE.json\n');
    process.exitCode = 2;
  } else {
    const r = check_chrome_trace(JSON.parse(readFileSync(file, 'utf8')));
    for (const e of r.errors.slice(0, 20)) process.stdout.write(`error: ${e}\n`);
    process.stdout.write(`${r.events} events, ${r.errors.length} errors\n`);
    for (const [k, s] of Object.entries(r.cpus)) {
      process.stdout.write(`${k}: syscall slices ${s.syscall_slices}, restricted slices ${s.restricted_slices}, ` +
        `ASI exits ${s.asi_exits}, IPI flows sent ${s.ipi_flows_sent}, received ${s.ipi_flows_received}\n`);
    }
    process.exitCode = r.errors.length ? 1 : 0;
  }
}
