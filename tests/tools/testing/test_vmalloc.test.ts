/*
 * tests/tools/testing/test_vmalloc.test.ts - tools/testing/test_vmalloc.ts runs.
 *
 * Mirrors a `modprobe test_vmalloc run_test_mask=... nr_threads=...` run:
 * every case runs, align_shift_alloc_test is counted as xfailed, the
 * Summary and "All test took" lines come out in Linux's format, and the
 * kernel shuts down without a leaked page (main() calls k.shutdown()).
 * Loop counts are small: this checks behaviour, not speed. No debug_vm here:
 * full_fit_alloc_test builds 32768 areas and the debug checks are O(n) per
 * step, as Linux's DEBUG_AUGMENT_* are (test_vmalloc runs without them);
 * tests/mm/vmalloc.test.ts and vmap_alloc.test.ts run everything else
 * with them on.
 */
import { describe, expect, it } from 'vitest';
import { main, test_case_array, RUN_ALL_TESTS_MASK } from '../../../tools/testing/test_vmalloc.ts';
import { vmap_state } from '../../../mm/vmap_area.ts';
import { printk_state } from '../../../kernel/printk.ts';

const SUMMARY = /^Summary: (\w+) passed: (\d+) failed: (\d+) xfailed: (\d+) repeat: (\d+) loops: (\d+) avg: (\d+) usec$/;

describe('tools_testing_test_vmalloc', () => {
  describe('test_vmalloc', () => {
    it('runs every case on two workers and prints Linux\'s Summary lines; align_shift_alloc_test xfails', () => {
      const log = console.log;
      const out: string[] = [];
      console.log = (s: string): void => { out.push(s); };
      let r;
      try {
        r = main([`run_test_mask=${RUN_ALL_TESTS_MASK}`, 'test_loop_count=40', 'nr_threads=2', 'test_repeat_count=2',
          'mem=512M', 'cpus=2']);
      } finally {
        console.log = log;
        vmap_state.vmap_initialized = false;
      }
      expect(r.lines).toEqual(out);
      const summaries = out.filter((l) => l.startsWith('Summary:'));
      expect(summaries.length).toBe(2 * test_case_array.length);
      for (const l of summaries) {
        const m = SUMMARY.exec(l);
        expect(m, l).not.toBeNull();
        const [, name, passed, failed, xfailed, repeat, loops] = m as RegExpExecArray;
        expect(repeat).toBe('2');
        expect(loops).toBe('40');
        expect(failed).toBe('0');
        if (name === 'align_shift_alloc_test') expect([passed, xfailed]).toEqual(['0', '2']);
        else expect([passed, xfailed]).toEqual(['2', '0']);
      }
      expect(out.filter((l) => /^All test took CPU[01]=\d+ cycles$/.test(l)).length).toBe(2);
      expect(out.filter((l) => /^ {2}modelled: \w+ avg: \d+ cycles \(\d+ usec at \d+ MHz\)$/.test(l)).length)
        .toBe(2 * test_case_array.length);
      // Every case charged the simulated CPU something.
      for (const d of r.drivers) for (const c of d.data) expect(c.cycles).toBeGreaterThan(0);
      // The xfailing case warned as Linux does.
      expect(printk_state.log.map((x) => x.text).join('\n'))
        .toMatch(/vmalloc_node_range for size 8192 failed: Address range restricted to 0xffffc90000000000 - 0xffffe8ffffffffff/);
    });

    it('honours run_test_mask and sequential order on one worker', () => {
      const log = console.log;
      const out: string[] = [];
      console.log = (s: string): void => { out.push(s); };
      try {
        main(['run_test_mask=0x411', 'test_loop_count=20', 'sequential_test_order=1', 'nr_pages=3', 'mem=128M', 'cpus=1']);
      } finally {
        console.log = log;
        vmap_state.vmap_initialized = false;
      }
      const names = out.filter((l) => l.startsWith('Summary:')).map((l) => (SUMMARY.exec(l) as RegExpExecArray)[1]);
      expect(names).toEqual(['fix_size_alloc_test', 'fix_align_alloc_test', 'vm_map_ram_test']);
      expect(out[out.length - 1]).toMatch(/^All test took CPU0=\d+ cycles$/);
    });
  });
});
