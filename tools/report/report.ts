/*
 * tools/report/report.ts - the comparison as a self-contained HTML page.
 *
 * No Linux counterpart: what a kernel developer pastes into a cover letter
 * or opens beside the patch, rather than the terminal table. From one
 * CompareResult (tools/compare) it renders
 *   - the variants' IOPS as bars (mean) with min/max whiskers and the
 *     seed's table (samples, mean, min, max, Δ mean);
 *   - the modelled cycles per I/O stacked by where they went (the cost
 *     groups of tools/compare);
 *   - the ASI page-fault exits by faulting kernel site, per 1000 I/Os,
 *     one bar per variant;
 *   - the counters per I/O table (machine events and /proc/vmstat);
 *   - the command lines that reproduce it: the tool's own, and per
 *     variant the fio command of each sample.
 * Charts are Apache ECharts rendered on the host to SVG (its server-side
 * renderer: no browser, no script in the page), inlined without their
 * namespace attributes (an HTML parser puts <svg> in the SVG namespace by
 * itself), so the file refers to no URL at all and opens offline.
 */
import { createRequire } from 'node:module';
import type * as EC from 'echarts/types/dist/echarts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { COST_GROUPS, OTHER_GROUP } from '../compare/cost_groups.ts';
import type { CompareResult, VariantSummary } from '../compare/compare.ts';
import { sample_fio_args } from '../compare/sample.ts';

export interface ReportInput {
  title: string;
  /** The command that produced it, as typed (reproduces the whole report). */
  command: string;
  result: CompareResult;
  /** Free text under the title (e.g. the seed's figures to compare with). */
  note?: string;
}

/*
 * echarts' types are `export =` (CommonJS style), which an ES module under
 * NodeNext cannot import by name without esModuleInterop; its CommonJS
 * build, required, is the same library with those types.
 */
const echarts = createRequire(import.meta.url)('echarts') as typeof EC;
type EChartsOption = EC.EChartsOption;
type CustomSeriesRenderItem = EC.CustomSeriesRenderItem;

const WIDTH = 1100;
const PALETTE = ['#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272', '#fc8452', '#9a60b4', '#ea7ccc'];

/**
 * ECharts' SSR: one option to one SVG string, inline-ready. zrender names
 * its CSS classes after a per-process instance counter ("zr5-cls-3"); an
 * inline <svg>'s <style> applies to the whole page, so each chart gets its
 * own prefix `id` and its classes are numbered in order of appearance:
 * fixed rather than counted, so the same report is the same bytes.
 */
export function render_svg(option: EChartsOption, width: number, height: number, id: string): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ animation: false, color: PALETTE, textStyle: { fontFamily: 'sans-serif' }, ...option });
    const seen = new Map<string, string>();
    return chart.renderToSVGString().replace(/\s+xmlns(:\w+)?="[^"]*"/g, '')
      .replace(/\bzr\d+-cls-\d+\b/g, (c) => seen.get(c) ?? (seen.set(c, `${id}-cls-${seen.size}`), `${id}-cls-${seen.size - 1}`));
  } finally {
    chart.dispose();
  }
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function int(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

function fig(x: number | undefined): string {
  if (x === undefined || x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 99.5) return int(x);
  if (a >= 0.995) return x.toFixed(2);
  if (a >= 0.0001) return x.toFixed(4);
  return x.toExponential(1);
}

function pct(d: number | null): string {
  if (d === null) return '';
  return `${d >= 0 ? '+' : '−'}${Math.abs(d * 100).toFixed(1)}%`;
}

/** Mean IOPS bars with a min-max whisker on each. */
export function iops_chart(vs: readonly VariantSummary[]): string {
  const names = vs.map((v) => v.name);
  const whisker: CustomSeriesRenderItem = (_params, api) => {
    const x = api.value(0) as number;
    const lo = api.coord([x, api.value(1)]);
    const hi = api.coord([x, api.value(2)]);
    const half = ((api.size?.([1, 0]) as number[] | undefined)?.[0] ?? 40) * 0.12;
    const style = { stroke: '#222', lineWidth: 1.5 };
    return {
      type: 'group',
      children: [
        { type: 'line', shape: { x1: lo[0], y1: lo[1], x2: hi[0], y2: hi[1] }, style },
        { type: 'line', shape: { x1: lo[0] - half, y1: lo[1], x2: lo[0] + half, y2: lo[1] }, style },
        { type: 'line', shape: { x1: hi[0] - half, y1: hi[1], x2: hi[0] + half, y2: hi[1] }, style },
      ],
    };
  };
  return render_svg({
    title: { text: 'IOPS (simulated): mean, whiskers min–max over samples', left: 'center', textStyle: { fontSize: 14 } },
    grid: { left: 90, right: 30, top: 50, bottom: 60 },
    xAxis: { type: 'category', data: names, axisLabel: { interval: 0 } },
    yAxis: { type: 'value', name: 'IOPS', axisLabel: { formatter: (v: number) => `${Math.round(v / 1000)}k` } },
    series: [
      {
        type: 'bar', name: 'mean', barWidth: '45%',
        data: vs.map((v, i) => ({ value: v.mean, itemStyle: { color: PALETTE[i % PALETTE.length] } })),
        label: { show: true, position: 'insideTop', formatter: (p: { dataIndex: number }) => `${int(vs[p.dataIndex].mean)}\n${pct(vs[p.dataIndex].delta)}`, fontSize: 11 },
      },
      { type: 'custom', name: 'min–max', renderItem: whisker, data: vs.map((v, i) => [i, v.min, v.max]), z: 10 },
    ],
  }, WIDTH, 380, 'iops');
}

/** The cost groups in report order (tools/compare's, then "other kernel"). */
function groups(vs: readonly VariantSummary[]): string[] {
  const all = [...COST_GROUPS.map(([g]) => g), OTHER_GROUP];
  return all.filter((g) => vs.some((v) => (v.per_io.cycles_by_group[g] ?? 0) !== 0));
}

/** Cycles per I/O, stacked by where they went. */
export function cycles_chart(vs: readonly VariantSummary[]): string {
  const gs = groups(vs);
  return render_svg({
    title: { text: 'Modelled cycles per I/O, by where they went', left: 'center', textStyle: { fontSize: 14 } },
    legend: { bottom: 0 },
    grid: { left: 90, right: 30, top: 50, bottom: 80 },
    xAxis: { type: 'category', data: vs.map((v) => v.name), axisLabel: { interval: 0 } },
    yAxis: { type: 'value', name: 'cycles / I/O' },
    series: gs.map((g) => ({
      type: 'bar' as const, name: g, stack: 'cycles', barWidth: '45%',
      data: vs.map((v) => Math.round(v.per_io.cycles_by_group[g] ?? 0)),
    })),
  }, WIDTH, 420, 'cycles');
}

/** ASI page-fault exits per 1000 I/Os by faulting site, a bar per variant. Empty string when no variant exited. */
export function exit_sites_chart(vs: readonly VariantSummary[]): string {
  const with_exits = vs.filter((v) => Object.keys(v.exit_sites).length);
  if (!with_exits.length) return '';
  const sites = [...new Set(with_exits.flatMap((v) => Object.keys(v.exit_sites)))];
  const per_k = (v: VariantSummary, s: string): number => (v.ios ? ((v.exit_sites[s] ?? 0) * 1000) / v.ios : 0);
  return render_svg({
    title: { text: 'ASI page-fault exits per 1000 I/Os, by faulting kernel site (asi:asi_exit_pf)', left: 'center', textStyle: { fontSize: 14 } },
    legend: { bottom: 0 },
    grid: { left: 170, right: 40, top: 50, bottom: 70 },
    yAxis: { type: 'category', data: sites, inverse: true },
    xAxis: { type: 'log', name: 'exits / 1k I/O', min: 0.01 },
    series: with_exits.map((v) => ({
      type: 'bar' as const, name: v.name,
      data: sites.map((s) => {
        const x = per_k(v, s);
        return x > 0 ? Number(x.toPrecision(4)) : null;
      }),
    })),
  }, WIDTH, Math.max(260, 90 + sites.length * with_exits.length * 16), 'exits');
}

function table(head: readonly string[], rows: readonly (readonly string[])[], cls = ''): string {
  const th = head.map((h, i) => `<th${i ? ' class="n"' : ''}>${esc(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c, i) => `<td${i ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

/** The counters per I/O: every machine event and vmstat event any variant counted. */
export function counters_table(vs: readonly VariantSummary[]): string {
  const ok = vs.filter((v) => v.samples);
  const rows: string[][] = [];
  rows.push(['clat mean (ns)', ...ok.map((v) => v.clat_mean_ns.toFixed(1))]);
  for (const g of groups(ok)) rows.push([`cycles: ${g}`, ...ok.map((v) => fig(v.per_io.cycles_by_group[g]))]);
  const list = (pick: (v: VariantSummary) => Record<string, number>, label: string): void => {
    for (const k of new Set(ok.flatMap((v) => Object.keys(pick(v))))) rows.push([label + k, ...ok.map((v) => fig(pick(v)[k]))]);
  };
  list((v) => v.per_io.events, '');
  list((v) => v.per_io.vmstat, 'vmstat ');
  return table(['counter per I/O', ...ok.map((v) => v.name)], rows, 'counters');
}

/** The fio command that reproduces sample `i` of a variant on its own. */
export function sample_command(c: CompareResult, v: VariantSummary, i: number): string {
  const q = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return ['npx tsx tools/fio/fio.ts', q(`--kernel-cmdline=${v.cmdline} seed=${i + 1}`), ...sample_fio_args(c.fio_args).map(q)].join(' ');
}

const CSS = `body{font-family:sans-serif;margin:24px auto;max-width:1140px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 8px}
th{background:#f3f3f3}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f6f6;padding:8px;white-space:pre-wrap;font-size:12px}.chart{margin:12px 0}
.err{color:#b00}`;

/** The report page. */
export function render_report(r: ReportInput): string {
  const c = r.result;
  const vs = c.variants;
  const ok = vs.filter((v) => v.samples);
  const parts: string[] = [];
  parts.push(`<h1>${esc(r.title)}</h1>`);
  parts.push(`<p>fio ${esc(c.fio_args.join(' '))}</p>`);
  if (r.note) parts.push(`<pre>${esc(r.note)}</pre>`);
  parts.push('<h2>IOPS</h2>');
  parts.push(table(['variant', 'samples', 'mean', 'min', 'max', 'Δ mean'],
    vs.map((v) => (v.error && !v.samples ? [v.name, '0', 'error', '', '', ''] : [v.name, String(v.samples), int(v.mean), int(v.min), int(v.max), pct(v.delta)]))));
  for (const v of vs.filter((x) => x.error)) parts.push(`<p class="err">${esc(v.name)}: ${esc(v.error!)}</p>`);
  if (ok.length) {
    parts.push(`<div class="chart" id="chart-iops">${iops_chart(ok)}</div>`);
    parts.push('<h2>Cycles per I/O</h2>');
    parts.push(`<div class="chart" id="chart-cycles">${cycles_chart(ok)}</div>`);
    const ex = exit_sites_chart(ok);
    parts.push('<h2>ASI exits by site</h2>');
    parts.push(ex ? `<div class="chart" id="chart-exits">${ex}</div>` : '<p>No variant took an ASI page-fault exit.</p>');
    parts.push('<h2>Counters per I/O (I/O phase, mean over samples)</h2>');
    parts.push(counters_table(ok));
  }
  parts.push('<h2>Reproduce</h2>');
  parts.push(`<p>The whole report:</p><pre>${esc(r.command)}</pre>`);
  parts.push('<p>One sample of each variant (sample 1; sample <i>n</i> boots with <code>seed=<i>n</i></code>):</p>');
  parts.push(`<pre>${vs.map((v) => `# ${esc(v.name)}\n${esc(sample_command(c, v, 0))}`).join('\n')}</pre>`);
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>\n<style>${CSS}</style></head>\n<body>\n${parts.join('\n')}\n</body></html>\n`;
}

/** Write the page, making its folder. */
export function write_report(path: string, r: ReportInput): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, render_report(r));
}
