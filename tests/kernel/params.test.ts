/*
 * tests/kernel/params.test.ts - the boot command line (kernel/params.ts).
 *
 * KUnit-style suite kernel_params: defaults, every parameter valid and
 * invalid, Linux's quoting and `--`, the unknown-parameter notice word for
 * word, init's argv/envp limits, and two properties: memparse scales by its
 * suffix, and format_cmdline reads back as the same parameters.
 */
import { describe, it, expect, beforeEach } from 'vitest';
import fc from 'fast-check';
import '../../init/params_owners.ts';
import {
  parse_kernel_params, default_kernel_params, format_cmdline, register_param, unregister_param,
  registered_params, format_size, ParamError,
  type KernelParams, type ParseOptions,
  COMMAND_LINE_SIZE,
} from '../../kernel/params.ts';
import { host_mem_map_limit, MAX_PHYSMEM, MIN_PHYSMEM } from '../../arch/x86/kernel/e820.ts';
import { NR_CPUS } from '../../include/linux/threads.ts';
import { DEFAULT_COSTS_PROFILE } from '../../arch/x86/kernel/cpu/costs.ts';
import { memparse } from '../../lib/cmdline.ts';
import { printk_init, printk_state, KERN_NOTICE } from '../../kernel/printk.ts';
import { MAX_RAM_BYTES } from '../../arch/x86/hw/physmem.ts';
import { DEFAULT_COST_PROFILE } from '../../arch/x86/hw/costs.ts';

const K = 2 ** 10, M = 2 ** 20, G = 2 ** 30, T = 2 ** 40;
/** A host big enough for any legal mem=, so results do not depend on the test machine. */
const BIG_HOST: ParseOptions = { host_totalmem: 16 * G };

function parse(cmdline: string, opts: ParseOptions = BIG_HOST): KernelParams {
  return parse_kernel_params(cmdline, opts);
}

/** The ParamError message `cmdline` is refused with. */
function refusal(cmdline: string, opts: ParseOptions = BIG_HOST): string {
  try {
    parse(cmdline, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ParamError);
    return (e as ParamError).message;
  }
  throw new Error(`'${cmdline}' was accepted`);
}

function notices(): string[] {
  return printk_state.log.filter((r) => r.level === KERN_NOTICE).map((r) => r.text);
}

/** Everything but the verbatim command line. */
function sans_saved(p: KernelParams): Omit<KernelParams, 'saved_command_line'> {
  const { saved_command_line: _saved, ...rest } = p;
  return rest;
}

beforeEach(() => printk_init());

describe('kernel_params', () => {
  describe('defaults', () => {
    it('an empty command line gives every default', () => {
      const p = parse('');
      expect(p).toEqual(default_kernel_params());
      expect(p).toMatchObject({
        mem: 512 * M, cpus: 2, seed: 1,
        nopcid: false, nogbpages: false, noinvpcid: false, nosmap: false, nosmep: false,
        pti: 'off', asi: false,
        costs: { profile: 'sapphire_rapids', overrides: {} },
        trace_event: [], debug_vm: false, fail_page_alloc: null,
        kmap_local: 'direct', tlb_single_page_flush_ceiling: 33, loglevel: 4,
        unknown: [], argv_init: ['init'], envp_init: ['HOME=/', 'TERM=linux'], init_args: [],
        saved_command_line: '',
      });
      expect(notices()).toEqual([]);
    });

    it('whitespace alone is an empty command line', () => {
      expect(sans_saved(parse(' \t\n  '))).toEqual(sans_saved(default_kernel_params()));
    });

    it('asks the host (os.totalmem) when no host size is given, and the default fits', () => {
      expect(parse_kernel_params('').mem).toBe(512 * M);
    });

    it('agrees with the machine and the cost model on shared limits', () => {
      expect(MAX_PHYSMEM).toBe(MAX_RAM_BYTES);
      expect(DEFAULT_COSTS_PROFILE).toBe(DEFAULT_COST_PROFILE);
    });

    it('each call returns fresh objects', () => {
      const a = default_kernel_params();
      a.trace_event.push('x');
      a.costs.overrides.ibpb = 1;
      expect(default_kernel_params().trace_event).toEqual([]);
      expect(default_kernel_params().costs.overrides).toEqual({});
    });
  });

  describe('mem=', () => {
    it.each([
      ['mem=512M', 512 * M],
      ['mem=1G', G],
      ['mem=1g', G],
      ['mem=2048m', 2 * G],
      ['mem=16384k', 16 * M],
      ['mem=16384K', 16 * M],
      ['mem=16M', MIN_PHYSMEM],
      ['mem=64G', MAX_PHYSMEM],
      ['mem=65536M', MAX_PHYSMEM],
      ['mem=16777216', 16 * M],
      ['mem=0x1000000', 16 * M],
      ['mem=0X40000000', G],
      ['mem=0x400M', G],
      ['mem=020M', 16 * M],               // leading 0 is octal, as simple_strtoull reads it
      ['mem=17000000', 16998400],            // 4150 pages: rounded down
    ])('%s', (cmd, bytes) => {
      expect(parse(cmd).mem).toBe(bytes);
    });

    it('rounds down to a page', () => {
      expect(parse('mem=17000001').mem).toBe(Math.floor(17000001 / 4096) * 4096);
      expect(parse(`mem=${64 * G + 4095}`).mem).toBe(64 * G);
    });

    it.each(['12Q', '1GB', 'G', 'K', 'abc', '', '-1G', '1.5G', '0x', '08M'])(
      "refuses the malformed size '%s'", (v) => {
        expect(refusal(`mem=${v}`)).toBe(`mem=: invalid size '${v}' (expected <number>[KMGT])`);
      });

    it('names the parameter in the message Linux users expect', () => {
      expect(refusal('mem=12Q')).toBe("mem=: invalid size '12Q' (expected <number>[KMGT])");
    });

    it.each(['0', '0M', '15M', '16777215', '4095'])("refuses '%s', below MIN_PHYSMEM", (v) => {
      expect(refusal(`mem=${v}`)).toBe(`mem=: size '${v}' is below the minimum of 16M (MIN_PHYSMEM)`);
    });

    it.each(['65G', '1T', '1t', '1P', '1E', `${64 * G + 4096}`, '99999999999999999999999'])(
      "refuses '%s', above MAX_PHYSMEM", (v) => {
        expect(refusal(`mem=${v}`)).toBe(
          `mem=: size '${v}' exceeds MAX_PHYSMEM (64G), the most RAM the machine supports`);
      });

    it('refuses a bare mem', () => {
      expect(refusal('mem')).toBe("mem=: missing value (got bare 'mem')");
    });

    it('refuses what the host cannot hold the mem_map for, before allocating anything', () => {
      // 32 bytes per page in a quarter of the host: 1 GiB holds 32 GiB of mem_map exactly.
      expect(host_mem_map_limit(G)).toBe(32 * G);
      expect(host_mem_map_limit(512 * M)).toBe(16 * G);
      expect(parse('mem=32G', { host_totalmem: G }).mem).toBe(32 * G);
      expect(parse('mem=16G', { host_totalmem: 512 * M }).mem).toBe(16 * G);
      expect(refusal('mem=64G', { host_totalmem: 512 * M })).toBe(
        'mem=: 64G needs ~512M of mem_map on the host, more than 1/4 of its 512M');
    });

    it('the last mem= wins', () => {
      expect(parse('mem=1G mem=2G').mem).toBe(2 * G);
    });
  });

  describe('cpus= and nr_cpus=', () => {
    it.each([['cpus=1', 1], ['cpus=4', 4], [`cpus=${NR_CPUS}`, 64], ['cpus=0x10', 16], ['cpus=+3', 3],
      ['nr_cpus=8', 8], ['nr-cpus=8', 8]])('%s', (cmd, n) => {
      expect(parse(cmd).cpus).toBe(n);
    });

    it.each(['0', '65', '-1', 'abc', '4abc', '', '1.5', '0x'])("refuses cpus=%s", (v) => {
      expect(refusal(`cpus=${v}`)).toBe(`cpus=: invalid CPU count '${v}' (expected 1..64)`);
    });

    it('names the alias when nr_cpus= is malformed', () => {
      expect(refusal('nr_cpus=0')).toBe("nr_cpus=: invalid CPU count '0' (expected 1..64)");
    });

    it('cpus= and nr_cpus= are one setting: the last wins', () => {
      expect(parse('nr_cpus=8 cpus=3').cpus).toBe(3);
      expect(parse('cpus=3 nr_cpus=8').cpus).toBe(8);
    });
  });

  describe('seed=', () => {
    it.each([['seed=0', 0], ['seed=42', 42], ['seed=4294967295', 0xffffffff], ['seed=0xdeadbeef', 0xdeadbeef]])(
      '%s', (cmd, n) => {
        expect(parse(cmd).seed).toBe(n);
      });

    it.each(['4294967296', '-1', 'x', ''])("refuses seed=%s", (v) => {
      expect(refusal(`seed=${v}`)).toBe(`seed=: invalid seed '${v}' (expected 0..4294967295)`);
    });
  });

  describe('flags', () => {
    it.each(['nopcid', 'nogbpages', 'noinvpcid', 'nosmap', 'nosmep', 'debug_vm'] as const)('%s', (f) => {
      expect(parse(f)[f]).toBe(true);
      expect(default_kernel_params()[f]).toBe(false);
    });

    it.each(['nopcid', 'nogbpages', 'noinvpcid', 'nosmap', 'nosmep', 'debug_vm', 'nopti', 'quiet', 'debug'])(
      '%s takes no value', (f) => {
        expect(refusal(`${f}=1`)).toBe(`${f}: takes no value (got '${f}=1')`);
      });

    it("matches '-' and '_' alike, as parameq() does", () => {
      expect(parse('debug-vm').debug_vm).toBe(true);
      expect(parse('tlb-single-page-flush-ceiling=8').tlb_single_page_flush_ceiling).toBe(8);
    });
  });

  describe('pti= and nopti', () => {
    it.each([['pti=on', 'on'], ['pti=off', 'off'], ['pti=auto', 'auto'], ['nopti', 'off'],
      ['pti=on nopti', 'off'], ['nopti pti=auto', 'auto']])('%s', (cmd, mode) => {
      expect(parse(cmd).pti).toBe(mode);
    });

    it.each(['ON', '1', '', 'yes'])('refuses pti=%s', (v) => {
      expect(refusal(`pti=${v}`)).toBe(`pti=: invalid value '${v}' (expected on, off or auto)`);
    });
  });

  describe('asi=', () => {
    it('on and off', () => {
      expect(parse('asi=on').asi).toBe(true);
      expect(parse('asi=on asi=off').asi).toBe(false);
    });

    it.each(['1', 'yes', '', 'toString', '__proto__'])('refuses asi=%s', (v) => {
      expect(refusal(`asi=${v}`)).toBe(`asi=: invalid value '${v}' (expected on or off)`);
    });
  });

  describe('costs=', () => {
    it('a profile alone', () => {
      expect(parse('costs=skylake').costs).toEqual({ profile: 'skylake', overrides: {} });
    });

    it('a profile with overrides, the last of a key winning', () => {
      expect(parse('costs=sapphire_rapids,ibpb=5000,cr3_write=150.5,ibpb=6000').costs).toEqual({
        profile: 'sapphire_rapids', overrides: { ibpb: 6000, cr3_write: 150.5 },
      });
    });

    it('a later costs= replaces an earlier one whole', () => {
      expect(parse('costs=skylake,ibpb=1 costs=sapphire_rapids').costs)
        .toEqual({ profile: 'sapphire_rapids', overrides: {} });
    });

    it('a key named __proto__ is an ordinary key', () => {
      const o = parse('costs=x,__proto__=5').costs.overrides;
      expect(Object.getOwnPropertyNames(o)).toEqual(['__proto__']);
      expect(o['__proto__']).toBe(5);
    });

    it.each([
      ['', 'profile name', '', '[a-z0-9_]+'],
      [',ibpb=1', 'profile name', '', '[a-z0-9_]+'],
      ['Skylake', 'profile name', 'Skylake', '[a-z0-9_]+'],
      ['sky-lake', 'profile name', 'sky-lake', '[a-z0-9_]+'],
    ])("refuses costs=%s", (v, what, bad, expected) => {
      expect(refusal(`costs=${v}`)).toBe(`costs=: invalid ${what} '${bad}' (expected ${expected})`);
    });

    it.each(['ibpb', 'ibpb=', 'ibpb=-1', 'ibpb=x', 'IBPB=1', 'ibpb=1e3', 'ibpb=.5', ''])(
      "refuses the override '%s'", (o) => {
        expect(refusal(`costs=skylake,${o}`)).toBe(`costs=: invalid override '${o}' ` +
          '(expected <key>=<cycles>, key [a-z0-9_]+, cycles a non-negative number)');
      });
  });

  describe('trace_event=', () => {
    it('a comma-separated list, empty entries dropped', () => {
      expect(parse('trace_event=asi:*,tlb:tlb_flush').trace_event).toEqual(['asi:*', 'tlb:tlb_flush']);
      expect(parse('trace_event=,asi:*,,').trace_event).toEqual(['asi:*']);
      expect(parse('trace_event=').trace_event).toEqual([]);
    });

    it('the last trace_event= wins, as the boot buffer is overwritten', () => {
      expect(parse('trace_event=a:b trace_event=c:d').trace_event).toEqual(['c:d']);
    });
  });

  describe('fail_page_alloc=', () => {
    it('reads <interval>,<probability>,<space>,<times>', () => {
      expect(parse('fail_page_alloc=10,5,4096,3').fail_page_alloc)
        .toEqual({ interval: 10, probability: 5, space: 4096, times: 3 });
    });

    it('times -1 is no limit', () => {
      expect(parse('fail_page_alloc=1,100,0,-1').fail_page_alloc)
        .toEqual({ interval: 1, probability: 100, space: 0, times: -1 });
    });

    it.each(['1,2,3', '1,2,3,4,5', 'a,b,c,d', '1,2,-3,4', '', '1,2,3,'])(
      "refuses the malformed '%s'", (v) => {
        expect(refusal(`fail_page_alloc=${v}`)).toBe(`fail_page_alloc=: invalid value '${v}' ` +
          '(expected <interval>,<probability>,<space>,<times>)');
      });

    it('refuses a probability over 100 percent and times below -1', () => {
      expect(refusal('fail_page_alloc=1,101,0,-1'))
        .toBe("fail_page_alloc=: invalid probability '101' (expected 0..100 percent)");
      expect(refusal('fail_page_alloc=1,50,0,-2'))
        .toBe("fail_page_alloc=: invalid times '-2' (expected -1 (no limit) or 0..2147483647)");
    });
  });

  describe('kmap_local=', () => {
    it.each([['kmap_local=force_map', 'force_map'], ['kmap_local=direct', 'direct'],
      ['kmap_local=off', 'direct'], ['kmap_local=force_map kmap_local=off', 'direct']])('%s', (cmd, mode) => {
      expect(parse(cmd).kmap_local).toBe(mode);
    });

    it('refuses an unknown mode', () => {
      expect(refusal('kmap_local=on')).toBe("kmap_local=: invalid mode 'on' (expected force_map, direct or off)");
    });
  });

  describe('tlb_single_page_flush_ceiling=', () => {
    it.each([['0', 0], ['1', 1], ['64', 64], ['0x100', 256]])('%s', (v, n) => {
      expect(parse(`tlb_single_page_flush_ceiling=${v}`).tlb_single_page_flush_ceiling).toBe(n);
    });

    it.each(['-1', 'many', '2147483648'])('refuses %s', (v) => {
      expect(refusal(`tlb_single_page_flush_ceiling=${v}`))
        .toBe(`tlb_single_page_flush_ceiling=: invalid page count '${v}' (expected 0..2147483647)`);
    });
  });

  describe('loglevel=, quiet, debug', () => {
    it.each([['loglevel=0', 0], ['loglevel=7', 7], ['loglevel=8', 8], ['loglevel=15', 15],
      ['quiet', 4], ['debug', 10], ['debug quiet', 4], ['quiet debug', 10], ['debug loglevel=7', 7]])(
      '%s', (cmd, level) => {
        expect(parse(cmd).loglevel).toBe(level);
      });

    it.each(['16', '-1', 'high', ''])('refuses loglevel=%s', (v) => {
      expect(refusal(`loglevel=${v}`)).toBe(`loglevel=: invalid level '${v}' (expected 0..15)`);
    });
  });

  describe('order of the passes', () => {
    it('early params are read before the rest, so their error comes first', () => {
      //   seed=x is the first argument, but mem= is an early_param.
      expect(refusal('seed=x mem=0')).toMatch(/^mem=:/);
      expect(refusal('seed=x costs=')).toMatch(/^seed=:/);
    });
  });

  describe('quoting and whitespace', () => {
    it('a quoted value keeps its spaces and loses its quotes', () => {
      expect(parse('trace_event="asi:*,tlb:tlb_flush"').trace_event).toEqual(['asi:*', 'tlb:tlb_flush']);
      expect(parse('foo="a b  c"').unknown).toEqual(['foo=a b  c']);
    });

    it('a quoted whole argument is one argument', () => {
      expect(parse('"costs=skylake,ibpb=1" cpus=3')).toMatchObject({
        costs: { profile: 'skylake', overrides: { ibpb: 1 } }, cpus: 3,
      });
      expect(parse('"foo=a b"').unknown).toEqual(['foo=a b']);
      expect(parse('"a b"').unknown).toEqual(['a b']);
    });

    it('a quote inside a word groups without being removed', () => {
      expect(parse('a"b c"d e').unknown).toEqual(['a"b c"d', 'e']);
    });

    it('any run of spaces, tabs and newlines separates', () => {
      expect(parse('  mem=1G\t\tcpus=4 \n seed=7  ')).toMatchObject({ mem: G, cpus: 4, seed: 7 });
    });

    it('a value may itself contain "="', () => {
      expect(parse('foo=a=b').unknown).toEqual(['foo=a=b']);
    });
  });

  describe('--', () => {
    it('ends the kernel parameters; the rest goes to init', () => {
      const p = parse('cpus=4 -- single mem=1G "x y" z="1 2"');
      expect(p.cpus).toBe(4);
      expect(p.mem).toBe(512 * M);                   // after --: init's, not ours
      expect(p.init_args).toEqual(['single', 'mem=1G', 'x y', 'z=1 2']);
      expect(p.argv_init).toEqual(['init', 'single', 'mem=1G', 'x y', 'z=1 2']);
      expect(p.unknown).toEqual([]);
      expect(notices()).toEqual([]);
    });

    it('at the very end leaves no init args', () => {
      expect(parse('cpus=4 --').init_args).toEqual([]);
      expect(parse('--').init_args).toEqual([]);
    });

    it('a second -- ends the init args too', () => {
      expect(parse('-- a -- b').init_args).toEqual(['a']);
    });

    it('a quoted "--" is still the end; --=x is not', () => {
      expect(parse('"--" a').init_args).toEqual(['a']);
      expect(parse('--=x a').unknown).toEqual(['a', '--=x']);
    });

    it('unknown bare parameters come before the init args in argv_init', () => {
      expect(parse('foo -- bar').argv_init).toEqual(['init', 'foo', 'bar']);
    });
  });

  describe('unknown parameters', () => {
    it("are reported with Linux's exact text and kept", () => {
      const p = parse('foo bar=1');
      expect(p.unknown).toEqual(['foo', 'bar=1']);
      expect(notices()).toEqual([
        'Unknown kernel command line parameters "foo bar=1", will be passed to user space.',
      ]);
    });

    it('bare ones are listed before name=value ones, as init/main.c prints argv then envp', () => {
      const p = parse('bar=1 mem=1G foo baz=2 qux');
      expect(p.unknown).toEqual(['foo', 'qux', 'bar=1', 'baz=2']);
      expect(p.argv_init).toEqual(['init', 'foo', 'qux']);
      expect(p.envp_init).toEqual(['HOME=/', 'TERM=linux', 'bar=1', 'baz=2']);
      expect(notices()).toEqual([
        'Unknown kernel command line parameters "foo qux bar=1 baz=2", will be passed to user space.',
      ]);
    });

    it('a repeated NAME= replaces the earlier one in init\'s environment', () => {
      expect(parse('FOO=1 BAR=2 FOO=3').envp_init).toEqual(['HOME=/', 'TERM=linux', 'FOO=3', 'BAR=2']);
    });

    it('HOME= replaces the default and is not reported', () => {
      const p = parse('HOME=/root');
      expect(p.envp_init).toEqual(['HOME=/root', 'TERM=linux']);
      expect(p.unknown).toEqual([]);
      expect(notices()).toEqual([]);
    });

    it('dotted ones are unused module parameters, ignored silently', () => {
      const p = parse('asi.enabled=1 foo.bar');
      expect(p.unknown).toEqual([]);
      expect(notices()).toEqual([]);
    });

    it('are not fatal, nor does anything known print a notice', () => {
      expect(parse('mem=1G nopcid').unknown).toEqual([]);
      expect(notices()).toEqual([]);
    });

    it('up to 32 bare ones fit init\'s argv; the 33rd panics as Linux does', () => {
      const names = Array.from({ length: 33 }, (_, i) => `u${i + 1}`);
      expect(parse(names.slice(0, 32).join(' ')).argv_init).toHaveLength(33);
      expect(refusal(names.join(' '))).toBe("Too many boot init vars at `u33'");
    });

    it('up to 31 name=value ones fit init\'s environment; the 32nd panics', () => {
      const envs = Array.from({ length: 32 }, (_, i) => `e${i + 1}=1`);
      expect(parse(envs.slice(0, 31).join(' ')).envp_init).toHaveLength(33);
      expect(refusal(envs.join(' '))).toBe("Too many boot env vars at `e32=1'");
    });

    it('init args after -- share argv\'s limit', () => {
      const args = Array.from({ length: 33 }, (_, i) => `a${i + 1}`);
      expect(parse(`-- ${args.slice(0, 32).join(' ')}`).init_args).toHaveLength(32);
      expect(refusal(`-- ${args.join(' ')}`)).toBe("Too many boot init vars at `a33'");
    });
  });

  describe('saved_command_line and format_cmdline', () => {
    it('saved_command_line is the command line verbatim', () => {
      const cmd = '  mem=1G   "foo=a b" -- x ';
      expect(parse(cmd).saved_command_line).toBe(cmd);
    });

    it('refuses a command line longer than COMMAND_LINE_SIZE - 1', () => {
      const ok = `seed=1 ${'x'.repeat(COMMAND_LINE_SIZE - 1 - 7)}`;
      expect(ok).toHaveLength(COMMAND_LINE_SIZE - 1);
      expect(parse(ok).unknown).toHaveLength(1);
      expect(refusal(`${ok}y`)).toBe('command line is 2048 bytes, longer than COMMAND_LINE_SIZE - 1 (2047)');
    });

    it('defaults format as the empty command line', () => {
      expect(format_cmdline(default_kernel_params())).toBe('');
    });

    it('prints non-default parameters by their registered names', () => {
      const p = parse('nr-cpus=4 mem=1073741824 quiet debug "trace_event=a:b" nopti pti=auto ' +
        'costs=skylake,ibpb=5000 fail_page_alloc=1,100,0,-1 kmap_local=force_map asi=on ' +
        'nopcid debug_vm foo z="1 2" -- single "a b"');
      expect(format_cmdline(p)).toBe('mem=1G cpus=4 nopcid pti=auto asi=on costs=skylake,ibpb=5000 ' +
        'trace_event=a:b debug_vm fail_page_alloc=1,100,0,-1 kmap_local=force_map loglevel=10 ' +
        'foo z="1 2" -- single "a b"');
    });

    it('format_size picks the largest exact suffix', () => {
      expect([format_size(0), format_size(4096), format_size(16 * M), format_size(64 * G),
        format_size(T), format_size(1536 * M), format_size(1000)])
        .toEqual(['0', '4K', '16M', '64G', '1T', '1536M', '1000']);
    });

    it('property: format_cmdline reads back as the same parameters', () => {
      const known = new Set(registered_params().map((p) => p.name.replace(/-/g, '_')));
      const word = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/).filter((w) => !known.has(w));
      const value = fc.stringMatching(/^[a-z0-9 ,:*]{0,8}$/);
      const token = fc.oneof(
        fc.integer({ min: 16, max: 65536 }).map((n) => `mem=${n}M`),
        fc.integer({ min: 1, max: NR_CPUS }).map((n) => `cpus=${n}`),
        fc.integer({ min: 1, max: NR_CPUS }).map((n) => `nr_cpus=${n}`),
        fc.nat(0xffffffff).map((n) => `seed=${n}`),
        fc.constantFrom('nopcid', 'nogbpages', 'noinvpcid', 'nosmap', 'nosmep', 'nopti', 'debug_vm',
          'quiet', 'debug', 'pti=on', 'pti=auto', 'pti=off', 'asi=on', 'asi=off',
          'kmap_local=force_map', 'kmap_local=off', 'costs=skylake', 'costs=sapphire_rapids,ibpb=0'),
        fc.tuple(fc.nat(100), fc.integer({ min: -1, max: 5 }))
          .map(([prob, times]) => `fail_page_alloc=3,${prob},0,${times}`),
        fc.array(fc.constantFrom('asi:*', 'tlb:tlb_flush', 'x:y'), { maxLength: 3 })
          .map((l) => `trace_event=${l.join(',')}`),
        fc.nat(100).map((n) => `tlb_single_page_flush_ceiling=${n}`),
        fc.nat(15).map((n) => `loglevel=${n}`),
        fc.dictionary(fc.constantFrom('ibpb', 'cr3_write', 'invlpg'), fc.nat(9999), { maxKeys: 3 })
          .map((o) => `costs=skylake${Object.entries(o).map(([k, v]) => `,${k}=${v}`).join('')}`),
        word,
        fc.tuple(word, value).map(([w, v]) => `${w}="${v}"`),
      );
      const init = fc.array(fc.oneof(word, fc.tuple(word, value).map(([w, v]) => `${w}="${v}"`)), { maxLength: 4 });
      fc.assert(fc.property(fc.array(token, { maxLength: 12 }), fc.option(init), (toks, rest) => {
        const cmd = toks.join(' ') + (rest ? ` -- ${rest.join(' ')}` : '');
        const p = parse(cmd);
        const again = parse(format_cmdline(p));
        expect(sans_saved(again)).toEqual(sans_saved(p));
      }), { numRuns: 300 });
    });
  });

  describe('memparse', () => {
    const SUFFIX: readonly (readonly [string, number])[] = [
      ['', 1], ['k', K], ['K', K], ['m', M], ['M', M], ['g', G], ['G', G],
      ['t', T], ['T', T], ['p', 2 ** 50], ['P', 2 ** 50], ['e', 2 ** 60], ['E', 2 ** 60],
    ];

    it('property: memparse(`${n}${suffix}`) === n * multiplier', () => {
      fc.assert(fc.property(fc.maxSafeNat(), fc.constantFrom(...SUFFIX), (n, [suffix, mult]) => {
        const r = memparse(`${n}${suffix}`);
        expect(r.value).toBe(n * mult);
        expect(r.rest).toBe('');
      }));
    });

    it('property: the same in hex, for suffixes that are not hex digits', () => {
      const NOT_HEX = SUFFIX.filter(([s]) => !/[a-f]/i.test(s));
      fc.assert(fc.property(fc.maxSafeNat(), fc.constantFrom(...NOT_HEX), (n, [suffix, mult]) => {
        expect(memparse(`0x${n.toString(16)}${suffix}`).value).toBe(n * mult);
      }));
    });

    it('leaves what follows the suffix for the caller, as *retptr', () => {
      expect(memparse('12Q')).toEqual({ value: 12, rest: 'Q' });
      expect(memparse('1GB')).toEqual({ value: G, rest: 'B' });
      expect(memparse('64M@16M')).toEqual({ value: 64 * M, rest: '@16M' });
      expect(memparse('0x1e')).toEqual({ value: 30, rest: '' });        // 'e' is a hex digit here
    });
  });

  describe('register_param', () => {
    it('adds a parameter, with a default, an early pass and a format', () => {
      let seen: string[] = [];
      register_param({
        name: 'params_test_knob', value: 'optional', early: true,
        help: 'params_test_knob[=<x>] for this test only.',
        set_default: () => { seen = ['default']; },
        parse: (val, out) => { seen.push(`${val}:${out.seed}`); },
        format: () => 'params_test_knob=z',
      });
      try {
        const p = parse('seed=5 params_test_knob=a params-test-knob');
        // Early: ran before seed=5 was read, in command-line order.
        expect(seen).toEqual(['default', 'a:1', 'null:1']);
        expect(p.unknown).toEqual([]);
        expect(format_cmdline(p)).toBe('seed=5 params_test_knob=z');
        expect(() => register_param({ name: 'params-test-knob', value: 'none', help: '', parse: () => {} }))
          .toThrow("register_param: 'params-test-knob' is already registered");
      } finally {
        expect(unregister_param('params_test_knob')).toBe(true);
      }
      expect(parse('params_test_knob').unknown).toEqual(['params_test_knob']);
    });

    it('every core parameter has help starting with its syntax', () => {
      for (const p of registered_params()) expect(p.help.startsWith(p.name)).toBe(true);
    });

    it('ParamError carries the parameter name', () => {
      try {
        parse('cpus=0');
      } catch (e) {
        expect(e).toBeInstanceOf(ParamError);
        expect((e as ParamError).param).toBe('cpus');
        expect((e as ParamError).name).toBe('ParamError');
      }
      expect.assertions(3);
    });
  });
});
