/*
 * tests/lib/cmdline.test.ts - lib/cmdline.ts: next_arg, get_option, the
 * strtoull family. memparse's properties are in tests/kernel/params.test.ts.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { next_arg, get_option, simple_strtoull, kstrtoull, skip_spaces } from '../../lib/cmdline.ts';

describe('lib_cmdline', () => {
  describe('next_arg', () => {
    it.each([
      // input                 param        val        rest
      ['foo', 'foo', null, ''],
      ['foo bar', 'foo', null, 'bar'],
      ['foo=1   bar', 'foo', '1', 'bar'],
      ['foo=', 'foo', '', ''],
      ['foo=a=b', 'foo', 'a=b', ''],
      ['foo="a b" c', 'foo', 'a b', 'c'],
      ['"x=1 2" y', 'x', '1 2', 'y'],
      ['"a b"', 'a b', null, ''],
      ['a"b c"d e', 'a"b c"d', null, 'e'],
      ['foo="bar"baz', 'foo', 'bar"baz', ''],     // only a closing quote at the end goes
      ['foo="', 'foo', '', ''],
      ['"foo="bar""', 'foo', 'bar"', ''],          // C clears one byte, not two
      ['=a=b', '=a', 'b', ''],                    // '=' at 0 does not split, as in C
      ['foo\tbar', 'foo', null, 'bar'],
      ['"unterminated x', 'unterminated x', null, ''],
    ] as const)('%j', (input, param, val, rest) => {
      expect(next_arg(input)).toEqual({ param, val, rest });
    });

    it('property: unquoted words separated by spaces come back one by one', () => {
      const word = fc.stringMatching(/^[a-z0-9_.,:=-]{1,10}$/).filter((w) => w[0] !== '=');
      fc.assert(fc.property(fc.array(word, { minLength: 1, maxLength: 8 }), (words) => {
        let args = words.join('  ');
        for (const w of words) {
          const a = next_arg(args);
          const eq = w.indexOf('=');
          expect(a.param).toBe(eq < 0 ? w : w.slice(0, eq));
          expect(a.val).toBe(eq < 0 ? null : w.slice(eq + 1));
          args = a.rest;
        }
        expect(args).toBe('');
      }));
    });
  });

  describe('get_option', () => {
    it.each([
      ['', 0, 0, ''],
      ['abc', 0, 0, 'abc'],
      ['4', 1, 4, ''],
      ['4abc', 1, 4, 'abc'],
      ['-3', 1, -3, ''],
      ['1,2,3', 2, 1, '2,3'],
      ['5-7', 3, 5, '-7'],
      ['0x10', 1, 16, ''],
      ['010', 1, 8, ''],
    ] as const)('%j', (input, ret, value, rest) => {
      expect(get_option(input)).toEqual({ ret, value, rest });
    });
  });

  describe('simple_strtoull and kstrtoull', () => {
    it('pick the radix as _parse_integer_fixup_radix does', () => {
      expect(simple_strtoull('123x')).toEqual({ value: 123, rest: 'x' });
      expect(simple_strtoull('0x1fz')).toEqual({ value: 31, rest: 'z' });
      expect(simple_strtoull('0xz')).toEqual({ value: 0, rest: 'xz' });   // no hex digit: octal "0"
      expect(simple_strtoull('0777')).toEqual({ value: 511, rest: '' });
      expect(simple_strtoull('09')).toEqual({ value: 0, rest: '9' });
      expect(simple_strtoull('ff', 16)).toEqual({ value: 255, rest: '' });
      expect(simple_strtoull('-1')).toEqual({ value: 0, rest: '-1' });
    });

    it('kstrtoull takes the whole string or nothing', () => {
      expect(kstrtoull('42')).toBe(42);
      expect(kstrtoull('+42')).toBe(42);
      expect(kstrtoull('42\n')).toBe(42);
      expect(kstrtoull('0')).toBe(0);
      expect(kstrtoull('0x2A')).toBe(42);
      expect(kstrtoull('0x0x5', 16)).toBeNull();
      for (const bad of ['', '+', '-1', '42 ', '4x', '0x', '42\n\n', '08'])
        expect(kstrtoull(bad)).toBeNull();
    });

    it('skip_spaces chews isspace() characters only', () => {
      expect(skip_spaces(' \t\n\v\f\rx y')).toBe('x y');
      expect(skip_spaces('\u00a0x')).toBe('\u00a0x');
    });
  });
});
