/*
 * tests/tools/calibrate.test.ts - the calibration's arithmetic, and the
 * model's sensitivity to the IBPB's cost.
 *
 * KUnit-style suite tools_calibrate. The closed-form fit moves U by the
 * asi-off cycles missing per I/O and the IBPB by what ephmap=off still
 * misses after U's share; the residual rows compare model and seed.
 * Sensitivity (issue 16's acceptance): doubling the IBPB's cycles moves
 * asi=on ephmap=off (an IBPB per read) far more than the per-CPU ephmap
 * (an IBPB only on the rare exit), and leaves asi-off, which never does
 * one, exactly where it was.
 */
import { describe, it, expect } from 'vitest';
import { fit_parameters, fit_infeasible, calibration_rows, SEED } from '../../tools/calibrate.ts';
import { compare, type VariantSummary } from '../../tools/compare/compare.ts';
import { START_VARIANTS } from '../../tools/start.ts';
import { COST_PROFILES, DEFAULT_COST_PROFILE, COST_KEYS } from '../../arch/x86/hw/costs.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIO = ['--name=randread_tmpfs', '--rw=randread', '--size=4M', '--blocksize=4K', '--directory=/tmp'];

describe('tools_calibrate', () => {
  it('costs.ts has at most two fitted parameters: the IBPB and U (fio_get_io_u + fio_io_completed)', () => {
    const src = readFileSync(fileURLToPath(new URL('../../arch/x86/hw/costs.ts', import.meta.url)), 'utf8');
    const start = src.indexOf('const sapphire_rapids: CostProfile = {');
    const lines = src.slice(start, src.indexOf('\n};', start)).split('\n');
    const fitted = COST_KEYS.filter((key) => {
      const at = lines.findIndex((l) => new RegExp(`^\\s*${key}:`).test(l));
      let text = lines[at];
      for (let j = at - 1; j >= 0 && lines[j].trim().startsWith('//'); j--) text += lines[j];
      return /\[F\]/.test(text);
    });
    expect(fitted).toEqual(['ibpb', 'fio_get_io_u', 'fio_io_completed']);
    // No other profile moves a fitted figure away from the default's.
    for (const p of Object.values(COST_PROFILES))
      for (const k of fitted) expect(p[k]).toBe(COST_PROFILES[DEFAULT_COST_PROFILE][k]);
  });

  it('fits U to asi-off and then the IBPB to ephmap=off, in closed form', () => {
    const f = fit_parameters({
      cpu_mhz: 2800, fio_get_io_u: 500, fio_io_completed: 640, ibpb: 4000,
      off_iops: 2800e6 / 2300, off_u_per_io: 1,
      e70_iops: 2800e6 / 7000, e70_u_per_io: 1, e70_ibpb_per_io: 1,
    });
    const want_off = 2800e6 / SEED.asi_off_iops;             // 2791.3 cycles per I/O
    expect(f.off_cycles_target).toBeCloseTo(want_off, 6);
    expect(f.u).toBe(Math.round(1140 + want_off - 2300));
    expect(f.fio_get_io_u + f.fio_io_completed).toBe(f.u);
    expect(f.fio_get_io_u / f.u).toBeCloseTo(500 / 1140, 2);  // the [I] split is kept
    expect(f.e70_cycles_target).toBeCloseTo(want_off / 0.3, 6);
    expect(f.ibpb).toBe(Math.round(4000 + want_off / 0.3 - 7000 - (f.u - 1140)));
  });

  it('refuses a fit that needs negative fio user time, and takes one that does not', () => {
    const at = (off_cycles: number) => fit_parameters({
      cpu_mhz: 2800, fio_get_io_u: 542, fio_io_completed: 695, ibpb: 5868,
      off_iops: 2800e6 / off_cycles, off_u_per_io: 1,
      e70_iops: 2800e6 / (off_cycles + 6500), e70_u_per_io: 1, e70_ibpb_per_io: 1,
    });
    // 1237 cycles of U above the seed's 2791.3 per I/O: U would be -195 (the 1G job).
    const bad = at(2791.3 + 1237 + 195);
    expect(bad.u).toBeLessThan(0);
    expect(fit_infeasible(bad)).toMatch(/^U = -\d+: /);
    expect(fit_infeasible(at(2791.3))).toBeNull();
  });

  it('reports the fitted figures and the predictions with their residuals', () => {
    // Only a summary's name, samples and mean are read.
    const v = (name: string, mean: number): VariantSummary => ({ name, mean, samples: 1 }) as unknown as VariantSummary;
    const vs = [v('asi-off', 1_000_000), v('asi-on/ephmap=off', 300_000), v('asi-on/percpu', 900_000),
      v('asi-on/vmalloc', 810_000), v('pti-on', 950_000)];
    const rows = calibration_rows(vs);
    const r = Object.fromEntries(rows.map((x) => [x.what, x]));
    expect(r['asi-off IOPS'].residual).toBe(1_000_000 - SEED.asi_off_iops);
    expect(r['asi-on ephmap=off Δ'].model).toBeCloseTo(-0.7, 12);
    expect(r['asi-on percpu Δ'].kind).toBe('predicted');
    expect(r['asi-on percpu Δ'].residual).toBeCloseTo(-0.1 - SEED.percpu_delta, 12);
    expect(r['vmalloc vs percpu'].model).toBeCloseTo(-0.1, 12);
    expect(r['pti-on Δ'].residual).toBeNull();
  });

  it('sensitivity: doubling the IBPB moves ephmap=off far more than percpu and leaves asi-off unchanged', async () => {
    const ibpb = COST_PROFILES[DEFAULT_COST_PROFILE].ibpb;
    const double = `costs=${DEFAULT_COST_PROFILE},ibpb=${2 * ibpb}`;
    const base = START_VARIANTS.slice(0, 3);
    const c = await compare({
      variants: [...base, ...base.map((v) => ({ name: `${v.name}+2ibpb`, cmdline: `${v.cmdline} ${double}` }))],
      samples: 1, fio_args: FIO, workers: 0,
    });
    const m = Object.fromEntries(c.variants.map((v) => [v.name, v.mean]));
    const move = (n: string): number => 1 - m[`${n}+2ibpb`] / m[n];
    expect(m['asi-off+2ibpb']).toBe(m['asi-off']);
    expect(move('asi-on/ephmap=off')).toBeGreaterThan(0.2);     // an IBPB on every read
    expect(move('asi-on/percpu')).toBeGreaterThan(0);           // still an IBPB on the rare exit
    expect(move('asi-on/ephmap=off')).toBeGreaterThan(10 * move('asi-on/percpu'));
  });
});
