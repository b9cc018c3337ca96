/*
 * tests/tools/report/report.test.ts - the HTML report: a self-contained page
 * with the three ECharts SVG charts, the tables and the commands that
 * reproduce it, and no URL in it; and compare's trace of a sample.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare } from '../../../tools/compare/compare.ts';
import { render_report, write_report, sample_command } from '../../../tools/report/report.ts';
import { default_trace_options } from '../../../tools/lib/trace_out.ts';
import { check_chrome_trace } from '../../../tools/lib/trace_check.ts';
import { printk_state } from '../../../kernel/printk.ts';

describe('tools_report', () => {
  it('renders IOPS, cycles and exit-site charts as inline SVG, the tables and the commands, with no URL', async () => {
    printk_state.console_loglevel = 0;
    const dir = mkdtempSync(join(tmpdir(), 'tskernel-report-'));
    const trace = { ...default_trace_options(), perfetto: join(dir, 't.json'), trace: join(dir, 't.txt') };
    const c = await compare({
      variants: [{ name: 'asi-off', cmdline: 'asi=off' }, { name: 'asi-on/ephmap=off', cmdline: 'asi=on setcpuid=retbleed ephmap=off' }],
      samples: 1, workers: 0,
      fio_args: ['--name=r', '--rw=randread', '--size=512K', '--blocksize=4K', '--directory=/tmp'],
      trace: { variants: ['asi-on/ephmap=off'], opts: trace },
    });
    expect(c.results.every((r) => r.trace === undefined)).toBe(true); // written, not kept
    const file = join(dir, 'r.html');
    write_report(file, { title: 'test <report>', command: 'npm run compare -- --samples=1', result: c });
    const html = readFileSync(file, 'utf8');
    expect(html).toBe(render_report({ title: 'test <report>', command: 'npm run compare -- --samples=1', result: c }));
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<title>test &lt;report&gt;</title>');
    for (const id of ['chart-iops', 'chart-cycles', 'chart-exits']) expect(html).toMatch(new RegExp(`<div class="chart" id="${id}"><svg `));
    expect(html.match(/<svg /g)).toHaveLength(3);
    // Bars: the IOPS means, the stacked cost groups, one bar per variant and site.
    expect(html).toMatch(/IOPS \(simulated\): mean, whiskers min–max/);
    expect(html).toMatch(/exits and mitigations/);
    expect(html).toMatch(/copy_page_to_iter/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script|<link|src=/i);
    // The tables and the commands.
    expect(html).toMatch(/<td>asi-on\/ephmap=off<\/td><td class="n">1<\/td>/);
    expect(html).toMatch(/<td>vmstat asi_exits<\/td>/);
    expect(html).toContain('npm run compare -- --samples=1');
    expect(html).toContain(sample_command(c, c.variants[1], 0));
    expect(sample_command(c, c.variants[1], 0)).toBe(
      "npx tsx tools/fio/fio.ts '--kernel-cmdline=asi=on setcpuid=retbleed ephmap=off seed=1' --name=r --rw=randread " +
      '--size=512K --blocksize=4K --directory=/tmp --randrepeat=0 --output-format=json');
    // The traced sample's files.
    const chk = check_chrome_trace(JSON.parse(readFileSync(trace.perfetto, 'utf8')));
    expect(chk.errors).toEqual([]);
    expect(Object.values(chk.cpus).some((s) => s.syscall_slices > 0 && s.asi_exits > 0)).toBe(true);
    expect(readFileSync(trace.trace, 'utf8')).toMatch(/^# tracer: nop/);
  });
});
