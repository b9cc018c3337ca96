/*
 * kernel/params.ts - the kernel command line: boot parameters and parse_args.
 *
 * Mirrors kernel/params.c (parse_args, parse_one, parameq), the boot-time
 * half of init/main.c (parse_early_param, unknown_bootoption,
 * print_unknown_bootoptions, set_init_arg, repair_env_string) and the
 * __setup/early_param tables, with the semantics that
 * Documentation/admin-guide/kernel-parameters.txt gives each parameter.
 * Scanning (next_arg, memparse, get_option) is in lib/cmdline.ts.
 *
 * How a command line is read, as on Linux:
 *   - arguments are separated by whitespace; each is `name=value` or a bare
 *     `name`; double quotes group whitespace (`foo="a b"`, `"foo=a b"`);
 *   - '-' and '_' in a name are the same character (parameq);
 *   - the early pass runs early_param()s first, then the main pass runs the
 *     rest in command-line order; when a parameter repeats, the last wins;
 *   - `--` ends the kernel's parameters; what follows goes to init's argv;
 *   - an unknown parameter is not an error: a bare `foo` joins init's argv,
 *     `foo=bar` joins init's environment, a dotted `mod.param` (an unused
 *     module parameter) is ignored, and the unknown ones are reported with
 *     Linux's KERN_NOTICE text ("Unknown kernel command line parameters ...").
 *
 * Simplified or changed:
 *   - One registry replaces the __setup, early_param and core_param
 *     sections; an entry is matched by its whole name (Linux's __setup
 *     matches by prefix) and says whether it takes a value.
 *   - A malformed value for a known parameter throws ParamError naming the
 *     parameter. Linux prints "Malformed early option" or "`x' invalid for
 *     parameter `y'" and boots on with the default; here a misread knob would
 *     silently change an experiment, so the boot is refused.
 *   - Parsing fills a KernelParams object and touches no subsystem: the
 *     setup functions in Linux write globals (console_loglevel, pti_mode),
 *     here start_kernel applies the result.
 *   - loglevel= takes 0..15 (Linux takes any int); the default loglevel is
 *     4, as if `quiet` were given, matching printk.ts (Linux's is 7).
 *   - pti= defaults to off (Linux: auto): PTI is measured when asked for.
 *   - cpus=, seed=, costs=, asi=, kmap_local=, debug_vm and
 *     tlb_single_page_flush_ceiling= are tskernel's own (the last is a
 *     debugfs file on Linux, the ASI RFC adds asi=).
 *
 * Room for more: a subsystem adds its parameter with register_param(). If it
 * needs a field of its own, it declares it on KernelParams by declaration
 * merging and fills the default with set_default:
 *
 *   declare module '../kernel/params.ts' {
 *     interface KernelParams { init_on_free: boolean }
 *   }
 *   register_param({
 *     name: 'init_on_free', value: 'required', help: 'init_on_free=<0|1> ...',
 *     set_default: (out) => { out.init_on_free = false; },
 *     parse: (val, out) => { out.init_on_free = parse_uint('init_on_free', 'value', val!, 0, 1) === 1; },
 *   });
 */
import { totalmem } from 'node:os';
import { pr_notice, pr_debug_ns } from './printk.ts';
import { next_arg, skip_spaces, memparse, kstrtoull } from '../lib/cmdline.ts';
import { PAGE_SIZE, PAGE_ALIGN_DOWN } from '../arch/x86/include/asm/page_types.ts';
import { NR_CPUS } from '../include/linux/threads.ts';

/** COMMAND_LINE_SIZE (arch/x86/include/asm/setup.h): with the NUL, 2048 bytes. */
export const COMMAND_LINE_SIZE = 2048;
/** MAX_INIT_ARGS / MAX_INIT_ENVS (init/main.c): CONFIG_INIT_ENV_ARG_LIMIT, 32. */
export const MAX_INIT_ARGS = 32;
export const MAX_INIT_ENVS = 32;

/**
 * MAX_PHYSMEM: the most RAM the emulated machine supports, 64 GiB; equal to
 * MAX_RAM_BYTES in arch/x86/hw/physmem.ts, which backs RAM sparsely, so
 * the cap is what a 64 GiB mem_map costs the host, not the RAM itself.
 */
export const MAX_PHYSMEM = 64 * 2 ** 30;
/**
 * MIN_PHYSMEM (no Linux counterpart): below 16 MiB the boot allocations
 * (page tables, the direct map's tables, per-CPU areas) leave too little to
 * run anything, so mem= refuses it rather than failing later in mm/.
 */
export const MIN_PHYSMEM = 16 * 2 ** 20;
/** Estimated host bytes of per-page metadata (the struct-of-arrays mem_map) per 4 KiB page. */
export const MEM_MAP_BYTES_PER_PAGE = 32; // mm/mm_types.ts's typed arrays: ~25 bytes measured, rounded up
/** mem_map may take at most 1/HOST_MEM_MAP_FRACTION of the host's memory. */
export const HOST_MEM_MAP_FRACTION = 4;

/** include/linux/printk.h. */
export const CONSOLE_LOGLEVEL_QUIET = 4;
export const CONSOLE_LOGLEVEL_DEBUG = 10;
export const CONSOLE_LOGLEVEL_MOTORMOUTH = 15;

export const DEFAULT_MEM = 512 * 2 ** 20;
export const DEFAULT_CPUS = 2;
export const DEFAULT_SEED = 1;
/** The same name as DEFAULT_COST_PROFILE in arch/x86/hw/costs.ts. */
export const DEFAULT_COSTS_PROFILE = 'sapphire_rapids';
/** tlb_single_page_flush_ceiling (arch/x86/mm/tlb.c): 33 pages. */
export const DEFAULT_TLB_SINGLE_PAGE_FLUSH_CEILING = 33;
export const DEFAULT_LOGLEVEL = CONSOLE_LOGLEVEL_QUIET;

/** pti_mode (arch/x86/mm/pti.c): PTI_AUTO, PTI_FORCE_ON, PTI_FORCE_OFF. */
export type PtiMode = 'auto' | 'on' | 'off';

/**
 * kmap_local_page() on 64-bit: 'direct' returns the direct-map address (no
 * mapping, Linux's default); 'force_map' installs a per-CPU slot PTE as
 * CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP does.
 */
export type KmapLocalMode = 'direct' | 'force_map';

/** costs=<profile>[,<key>=<cycles>...]. Keys and profile are checked by arch/x86/hw/costs.ts. */
export interface CostsParam {
  profile: string;
  /** key -> cycles, each >= 0; a prototype-less object (a key may be any [a-z0-9_]+). */
  overrides: Record<string, number>;
}

/** The boot-settable part of struct fault_attr (include/linux/fault-inject.h). */
export interface FaultAttr {
  interval: number;     // fail one call in `interval` (0 and 1: every eligible call)
  probability: number;  // percent, 0..100
  space: number;        // bytes of allocation to let through before failing
  times: number;        // failures left; -1 means no limit
}

/** Everything the core parameters set. See KernelParams. */
export interface CoreKernelParams {
  /** mem=: bytes of RAM, page aligned, MIN_PHYSMEM..MAX_PHYSMEM. */
  mem: number;
  /** cpus= / nr_cpus=: CPUs the machine has, 1..NR_CPUS (Linux: nr_cpu_ids). */
  cpus: number;
  /** seed=: the one PRNG's seed, a u32. */
  seed: number;
  nopcid: boolean;
  nogbpages: boolean;
  noinvpcid: boolean;
  nosmap: boolean;
  nosmep: boolean;
  /** pti= / nopti. */
  pti: PtiMode;
  /** asi=on|off. */
  asi: boolean;
  costs: CostsParam;
  /** trace_event=: event specs as given ("asi:*", "tlb:tlb_flush"), empty ones dropped. */
  trace_event: string[];
  /** debug_vm: CONFIG_DEBUG_VM-style invariant checks. */
  debug_vm: boolean;
  /** fail_page_alloc=: null when fault injection is off. */
  fail_page_alloc: FaultAttr | null;
  kmap_local: KmapLocalMode;
  tlb_single_page_flush_ceiling: number;
  /** console_loglevel after loglevel= / quiet / debug. */
  loglevel: number;

  /** Unknown parameters in the order Linux reports them: bare ones, then name=value. */
  unknown: string[];
  /** init's argv: "init", unknown bare parameters, then everything after `--`. */
  argv_init: string[];
  /** init's environment: "HOME=/", "TERM=linux", then unknown name=value parameters. */
  envp_init: string[];
  /** The arguments after `--`, as given (also at the end of argv_init). */
  init_args: string[];
  /** The command line exactly as booted (/proc/cmdline). */
  saved_command_line: string;
}

/**
 * The parsed command line. Open for declaration merging: a subsystem that
 * registers a parameter with a field of its own declares the field here.
 */
export interface KernelParams extends CoreKernelParams {}

/** A known parameter with a malformed value, or a command line Linux would panic on. */
export class ParamError extends Error {
  /** The parameter's name as registered ('' for the command line as a whole). */
  readonly param: string;
  constructor(param: string, message: string) {
    super(message);
    this.name = 'ParamError';
    this.param = param;
  }
}

/**
 * One boot parameter: an entry of __setup(), early_param() or core_param()
 * in one shape.
 */
export interface KernelParam {
  /** As written on the command line, without '='. */
  name: string;
  /** 'none': a flag (`nopcid`); 'required': `name=value`; 'optional': either. */
  value: 'none' | 'required' | 'optional';
  /** One line in the voice of kernel-parameters.txt, starting with the syntax. */
  help: string;
  /** early_param(): run in the early pass, before every other parameter. */
  early?: boolean;
  /** Store `val` into `out`; throw ParamError (see param_error) if it is malformed. */
  parse(val: string | null, out: KernelParams): void;
  /** Put this parameter's default into a fresh KernelParams (for fields it adds). */
  set_default?(out: KernelParams): void;
  /** The argument that reproduces `p`'s setting, or null at the default (format_cmdline). */
  format?(p: KernelParams): string | null;
}

/** dash2underscore + parameq (kernel/params.c): '-' and '_' compare equal. */
function param_key(name: string): string {
  return name.replace(/-/g, '_');
}

/** The table; static like Linux's sections (filled at module load, not per boot). */
const registry = new Map<string, KernelParam>();

/** Add a parameter. Registering a name twice is a bug in the caller. */
export function register_param(p: KernelParam): void {
  const key = param_key(p.name);
  if (registry.has(key)) throw new Error(`register_param: '${p.name}' is already registered`);
  registry.set(key, p);
}

/** No Linux counterpart (sections are fixed at link time): for tests and tools that register their own. */
export function unregister_param(name: string): boolean {
  return registry.delete(param_key(name));
}

/** The registered parameters in registration order (for a `help` listing). */
export function registered_params(): readonly KernelParam[] {
  return [...registry.values()];
}

/** Build a ParamError in the house format: "mem=: invalid size '12Q' (expected ...)". */
export function param_error(name: string, what: string, val: string, expected: string): ParamError {
  return new ParamError(name, `${name}=: invalid ${what} '${val}' (expected ${expected})`);
}

/** A size as memparse reads it back: the largest suffix that divides it exactly. */
export function format_size(bytes: number): string {
  for (const [shift, suffix] of [[40, 'T'], [30, 'G'], [20, 'M'], [10, 'K']] as const) {
    const unit = 2 ** shift;
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}

/**
 * An unsigned integer parameter, strictly (kstrtoull, base 0: decimal, 0x
 * hex, leading-0 octal), in min..max.
 */
export function parse_uint(name: string, what: string, val: string, min: number, max: number): number {
  const n = kstrtoull(val, 0);
  if (n === null || n < min || n > max) throw param_error(name, what, val, `${min}..${max}`);
  return n;
}

/** mem=: memparse, whole string, rounded down to a page, within MIN_PHYSMEM..MAX_PHYSMEM. */
function parse_mem(name: string, val: string): number {
  const r = memparse(val);
  // memparse('K') is 0 with nothing left over: insist on a digit first.
  if (!/^[0-9]/.test(val) || r.rest !== '')
    throw param_error(name, 'size', val, '<number>[KMGT]');
  const mem = PAGE_ALIGN_DOWN(r.value);
  if (mem < MIN_PHYSMEM)
    throw new ParamError(name, `${name}=: size '${val}' is below the minimum of ${format_size(MIN_PHYSMEM)} (MIN_PHYSMEM)`);
  if (mem > MAX_PHYSMEM)
    throw new ParamError(name, `${name}=: size '${val}' exceeds MAX_PHYSMEM (${format_size(MAX_PHYSMEM)}), the most RAM the machine supports`);
  return mem;
}

/**
 * No Linux counterpart: a host-resource check, not kernel logic. The
 * largest mem= whose mem_map (MEM_MAP_BYTES_PER_PAGE per page) fits in
 * 1/HOST_MEM_MAP_FRACTION of the host's memory. The only place that asks
 * the host (os.totalmem()); it refuses a boot, it never changes a result.
 */
export function host_mem_map_limit(host_totalmem: number = totalmem()): number {
  const pages = Math.floor(host_totalmem / HOST_MEM_MAP_FRACTION / MEM_MAP_BYTES_PER_PAGE);
  return pages * PAGE_SIZE;
}

function check_host_resources(out: KernelParams, host_totalmem: number): void {
  if (out.mem <= host_mem_map_limit(host_totalmem)) return;
  const meta = (out.mem / PAGE_SIZE) * MEM_MAP_BYTES_PER_PAGE;
  throw new ParamError('mem',
    `mem=: ${format_size(out.mem)} needs ~${format_size(meta)} of mem_map on the host, ` +
    `more than 1/${HOST_MEM_MAP_FRACTION} of its ${format_size(host_totalmem)}`);
}

/** setup_fault_attr (lib/fault-inject.c): "<interval>,<probability>,<space>,<times>". */
function parse_fault_attr(name: string, val: string): FaultAttr {
  const m = /^(\d+),(\d+),(\d+),(-?\d+)$/.exec(val);
  if (!m) throw param_error(name, 'value', val, '<interval>,<probability>,<space>,<times>');
  const [interval, probability, space, times] = [m[1]!, m[2]!, m[3]!, m[4]!].map(Number) as
    [number, number, number, number];
  if (!Number.isSafeInteger(interval) || !Number.isSafeInteger(space))
    throw param_error(name, 'value', val, 'interval and space below 2^53');
  if (probability > 100)
    throw param_error(name, 'probability', m[2]!, '0..100 percent');
  if (times < -1 || times > 0x7fffffff)
    throw param_error(name, 'times', m[4]!, `-1 (no limit) or 0..${0x7fffffff}`);
  return { interval, probability, space, times };
}

const COST_NAME = /^[a-z0-9_]+$/;
const COST_OVERRIDE = /^([a-z0-9_]+)=(\d+(?:\.\d+)?)$/;

function parse_costs(name: string, val: string): CostsParam {
  const [profile, ...rest] = val.split(',');
  if (profile === undefined || !COST_NAME.test(profile))
    throw param_error(name, 'profile name', profile ?? '', '[a-z0-9_]+');
  const overrides = Object.create(null) as Record<string, number>;
  for (const o of rest) {
    const m = COST_OVERRIDE.exec(o);
    if (!m) throw param_error(name, 'override', o, '<key>=<cycles>, key [a-z0-9_]+, cycles a non-negative number');
    overrides[m[1]!] = Number(m[2]!);
  }
  return { profile, overrides };
}

function one_of<T extends string>(name: string, what: string, val: string, table: Readonly<Record<string, T>>): T {
  const v = Object.prototype.hasOwnProperty.call(table, val) ? table[val] : undefined;
  if (v === undefined) {
    const keys = Object.keys(table);
    throw param_error(name, what, val, `${keys.slice(0, -1).join(', ')} or ${keys[keys.length - 1]}`);
  }
  return v;
}

/** Quote an argument so next_arg reads it back whole. */
function quote_arg(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  const eq = arg.indexOf('=');
  if (eq > 0 && !/[\s"]/.test(arg.slice(0, eq))) return `${arg.slice(0, eq)}="${arg.slice(eq + 1)}"`;
  return `"${arg}"`;
}

type BoolField = {
  [K in keyof CoreKernelParams]: CoreKernelParams[K] extends boolean ? K : never
}[keyof CoreKernelParams];

function flag_param(name: BoolField, help: string, early = false): KernelParam {
  return {
    name, value: 'none', help, early,
    parse: (_val, out) => { out[name] = true; },
    format: (p) => (p[name] ? name : null),
  };
}

/* The core parameters, in the order format_cmdline prints them. */

register_param({
  name: 'mem', value: 'required', early: true,
  help: 'mem=<size>[KMGT] RAM size, rounded down to a page; 16M..64G. [512M]',
  parse: (val, out) => { out.mem = parse_mem('mem', val!); },
  format: (p) => (p.mem !== DEFAULT_MEM ? `mem=${format_size(p.mem)}` : null),
});

// Early, like its alias nr_cpus=, so the two are one setting and the last wins.
register_param({
  name: 'cpus', value: 'required', early: true,
  help: `cpus=<n> number of CPUs, 1..${NR_CPUS}. [${DEFAULT_CPUS}]`,
  parse: (val, out) => { out.cpus = parse_uint('cpus', 'CPU count', val!, 1, NR_CPUS); },
  format: (p) => (p.cpus !== DEFAULT_CPUS ? `cpus=${p.cpus}` : null),
});

register_param({
  name: 'nr_cpus', value: 'required', early: true,
  help: 'nr_cpus=<n> same as cpus=.',
  parse: (val, out) => { out.cpus = parse_uint('nr_cpus', 'CPU count', val!, 1, NR_CPUS); },
});

register_param({
  name: 'seed', value: 'required',
  help: `seed=<u32> seed of the PRNG; the same command line and seed replay byte for byte. [${DEFAULT_SEED}]`,
  parse: (val, out) => { out.seed = parse_uint('seed', 'seed', val!, 0, 0xffffffff); },
  format: (p) => (p.seed !== DEFAULT_SEED ? `seed=${p.seed}` : null),
});

register_param(flag_param('nopcid', 'nopcid [X86-64] Disable the PCID cpu feature.', true));
register_param(flag_param('nogbpages', 'nogbpages [X86] Do not use GB pages for kernel direct mappings.', true));
register_param(flag_param('noinvpcid', 'noinvpcid [X86] Disable the INVPCID cpu feature.'));
register_param(flag_param('nosmap', 'nosmap [X86] Disable SMAP (Supervisor Mode Access Prevention).'));
register_param(flag_param('nosmep', 'nosmep [X86] Disable SMEP (Supervisor Mode Execution Prevention).'));

register_param({
  name: 'pti', value: 'required', early: true,
  help: 'pti=on|off|auto [X86-64] Page Table Isolation: force on, force off, or by CPU. [off]',
  parse: (val, out) => {
    out.pti = one_of('pti', 'value', val!, { on: 'on', off: 'off', auto: 'auto' } as const);
  },
  format: (p) => (p.pti !== 'off' ? `pti=${p.pti}` : null),
});

register_param({
  name: 'nopti', value: 'none', early: true,
  help: 'nopti [X86-64] Equivalent to pti=off.',
  parse: (_val, out) => { out.pti = 'off'; },
});

register_param({
  name: 'asi', value: 'required', early: true,
  help: 'asi=on|off [X86-64] Address Space Isolation. [off]',
  parse: (val, out) => { out.asi = one_of('asi', 'value', val!, { on: 'on', off: 'off' } as const) === 'on'; },
  format: (p) => (p.asi ? 'asi=on' : null),
});

register_param({
  name: 'costs', value: 'required',
  help: `costs=<profile>[,<key>=<cycles>...] cycle cost profile and per-key overrides. [${DEFAULT_COSTS_PROFILE}]`,
  parse: (val, out) => { out.costs = parse_costs('costs', val!); },
  format: (p) => {
    const o = Object.entries(p.costs.overrides).map(([k, v]) => `,${k}=${v}`).join('');
    return p.costs.profile !== DEFAULT_COSTS_PROFILE || o !== '' ? `costs=${p.costs.profile}${o}` : null;
  },
});

register_param({
  name: 'trace_event', value: 'required',
  help: 'trace_event=[event-list] events to enable at boot, comma separated ("asi:*,tlb:tlb_flush").',
  parse: (val, out) => { out.trace_event = val!.split(',').filter((e) => e !== ''); },
  format: (p) => (p.trace_event.length ? quote_arg(`trace_event=${p.trace_event.join(',')}`) : null),
});

register_param(flag_param('debug_vm', 'debug_vm turn on CONFIG_DEBUG_VM-style invariant checks.'));

register_param({
  name: 'fail_page_alloc', value: 'required',
  help: 'fail_page_alloc=<interval>,<probability>,<space>,<times> fault injection for the page allocator; times -1 is no limit.',
  parse: (val, out) => { out.fail_page_alloc = parse_fault_attr('fail_page_alloc', val!); },
  format: (p) => {
    const f = p.fail_page_alloc;
    return f ? `fail_page_alloc=${f.interval},${f.probability},${f.space},${f.times}` : null;
  },
});

register_param({
  name: 'kmap_local', value: 'required',
  help: 'kmap_local=force_map|direct|off force_map maps every kmap_local_page() in a slot; direct and off return the direct map. [direct]',
  parse: (val, out) => {
    out.kmap_local = one_of('kmap_local', 'mode', val!,
      { force_map: 'force_map', direct: 'direct', off: 'direct' } as const);
  },
  format: (p) => (p.kmap_local !== 'direct' ? `kmap_local=${p.kmap_local}` : null),
});

register_param({
  name: 'tlb_single_page_flush_ceiling', value: 'required',
  help: `tlb_single_page_flush_ceiling=<pages> flush a range page by page up to this many pages, else the whole TLB. [${DEFAULT_TLB_SINGLE_PAGE_FLUSH_CEILING}]`,
  parse: (val, out) => {
    out.tlb_single_page_flush_ceiling = parse_uint('tlb_single_page_flush_ceiling', 'page count', val!, 0, 0x7fffffff);
  },
  format: (p) => (p.tlb_single_page_flush_ceiling !== DEFAULT_TLB_SINGLE_PAGE_FLUSH_CEILING
    ? `tlb_single_page_flush_ceiling=${p.tlb_single_page_flush_ceiling}` : null),
});

register_param({
  name: 'loglevel', value: 'required', early: true,
  help: `loglevel=<0..15> console log level: messages below it reach the console. [${DEFAULT_LOGLEVEL}]`,
  parse: (val, out) => { out.loglevel = parse_uint('loglevel', 'level', val!, 0, CONSOLE_LOGLEVEL_MOTORMOUTH); },
  format: (p) => (p.loglevel !== DEFAULT_LOGLEVEL ? `loglevel=${p.loglevel}` : null),
});

register_param({
  name: 'quiet', value: 'none', early: true,
  help: 'quiet set the console log level to 4 (warnings and worse).',
  parse: (_val, out) => { out.loglevel = CONSOLE_LOGLEVEL_QUIET; },
});

register_param({
  name: 'debug', value: 'none', early: true,
  help: 'debug set the console log level to 10 (everything, kernel debugging messages too).',
  parse: (_val, out) => { out.loglevel = CONSOLE_LOGLEVEL_DEBUG; },
});

/** A KernelParams with every default, as if booted with an empty command line. */
export function default_kernel_params(): KernelParams {
  const core: CoreKernelParams = {
    mem: DEFAULT_MEM,
    cpus: DEFAULT_CPUS,
    seed: DEFAULT_SEED,
    nopcid: false,
    nogbpages: false,
    noinvpcid: false,
    nosmap: false,
    nosmep: false,
    pti: 'off',
    asi: false,
    costs: { profile: DEFAULT_COSTS_PROFILE, overrides: Object.create(null) as Record<string, number> },
    trace_event: [],
    debug_vm: false,
    fail_page_alloc: null,
    kmap_local: 'direct',
    tlb_single_page_flush_ceiling: DEFAULT_TLB_SINGLE_PAGE_FLUSH_CEILING,
    loglevel: DEFAULT_LOGLEVEL,
    unknown: [],
    argv_init: ['init'],
    envp_init: ['HOME=/', 'TERM=linux'],
    init_args: [],
    saved_command_line: '',
  };
  // Fields added by declaration merging are filled by their set_default.
  const out = core as KernelParams;
  for (const p of registry.values()) p.set_default?.(out);
  return out;
}

const pr_debug = pr_debug_ns('kernel:params');

/**
 * parse_args (kernel/params.c): feed each argument of `args` to `handle`,
 * in order. Stops at a bare `--` and returns what follows it (possibly ''),
 * or null if there was none. `doing` names the pass in debug output.
 */
export function parse_args(doing: string, args: string,
  handle: (param: string, val: string | null) => void): string | null {
  args = skip_spaces(args);
  if (args !== '' && pr_debug.enabled) pr_debug("doing %s, parsing ARGS: '%s'", doing, args);
  while (args !== '') {
    const a = next_arg(args);
    args = a.rest;
    if (a.val === null && a.param === '--') return args;
    handle(a.param, a.val);
  }
  return null;
}

function run_param(p: KernelParam, param: string, val: string | null, out: KernelParams): void {
  if (p.value === 'none' && val !== null)
    throw new ParamError(p.name, `${p.name}: takes no value (got '${param}=${val}')`);
  if (p.value === 'required' && val === null)
    throw new ParamError(p.name, `${p.name}=: missing value (got bare '${param}')`);
  p.parse(val, out);
}

/** Boot state init/main.c keeps in file-scope statics. */
interface InitArgState {
  panic_later: string | null;
  panic_param: string;
}

/** repair_env_string (init/main.c): put the '=' back; next_arg already dropped the quotes. */
function repair_env_string(param: string, val: string | null): string {
  return val === null ? param : `${param}=${val}`;
}

/** unknown_bootoption (init/main.c), for a parameter nothing registered. */
function unknown_bootoption(param: string, val: string | null, out: KernelParams, st: InitArgState): void {
  // Unused module parameter.
  if (param.includes('.')) return;
  if (st.panic_later) return;
  const arg = repair_env_string(param, val);
  if (val !== null) {
    // Environment option: a later NAME= replaces an earlier one.
    const envp = out.envp_init;
    let i = 0;
    for (; i < envp.length; i++) {
      if (i === MAX_INIT_ENVS) { st.panic_later = 'env'; st.panic_param = arg; }
      if (envp[i]!.startsWith(`${param}=`)) break;
    }
    envp[i] = arg;
  } else {
    // Command line option.
    const argv = out.argv_init;
    if (argv.length >= MAX_INIT_ARGS + 1) { st.panic_later = 'init'; st.panic_param = arg; }
    argv.push(arg);
  }
}

/** print_unknown_bootoptions (init/main.c). */
function print_unknown_bootoptions(out: KernelParams, st: InitArgState): void {
  if (st.panic_later || (out.argv_init.length < 2 && out.envp_init.length < 3)) return;
  out.unknown = [...out.argv_init.slice(1), ...out.envp_init.slice(2)];
  pr_notice('Unknown kernel command line parameters "%s", will be passed to user space.',
    out.unknown.join(' '));
}

/** set_init_arg (init/main.c): an argument after `--`. */
function set_init_arg(param: string, val: string | null, out: KernelParams, st: InitArgState): void {
  if (st.panic_later) return;
  const arg = repair_env_string(param, val);
  if (out.argv_init.length >= MAX_INIT_ARGS + 1) {
    st.panic_later = 'init';
    st.panic_param = arg;
    return;
  }
  out.argv_init.push(arg);
  out.init_args.push(arg);
}

export interface ParseOptions {
  /** Host memory in bytes for the mem_map check; os.totalmem() if absent. */
  host_totalmem?: number;
}

/**
 * Read a boot command line, as start_kernel does: parse_early_param(), then
 * parse_args("Booting kernel", ...) with unknown_bootoption, then the init
 * arguments after `--`. Throws ParamError for a malformed known parameter,
 * too many init arguments (Linux panics), an over-long command line, or a
 * mem= the host cannot hold the mem_map for; nothing is allocated before.
 */
export function parse_kernel_params(cmdline: string, opts: ParseOptions = {}): KernelParams {
  if (cmdline.length > COMMAND_LINE_SIZE - 1)
    throw new ParamError('', `command line is ${cmdline.length} bytes, longer than COMMAND_LINE_SIZE - 1 (${COMMAND_LINE_SIZE - 1})`);
  const out = default_kernel_params();
  out.saved_command_line = cmdline;

  // parse_early_param(): early_param()s only, in order.
  parse_args('early options', cmdline, (param, val) => {
    const p = registry.get(param_key(param));
    if (p?.early) run_param(p, param, val, out);
  });

  const st: InitArgState = { panic_later: null, panic_param: '' };
  const after_dashes = parse_args('Booting kernel', cmdline, (param, val) => {
    const p = registry.get(param_key(param));
    if (p) {
      if (!p.early) run_param(p, param, val, out);   // early ones ran above
      return;
    }
    unknown_bootoption(param, val, out, st);
  });
  print_unknown_bootoptions(out, st);
  if (after_dashes !== null)
    parse_args('Setting init args', after_dashes, (param, val) => set_init_arg(param, val, out, st));
  if (st.panic_later)
    throw new ParamError('', `Too many boot ${st.panic_later} vars at \`${st.panic_param}'`);

  check_host_resources(out, opts.host_totalmem ?? totalmem());
  return out;
}

/**
 * format_cmdline: a canonical command line for `p`: every registered
 * parameter not at its default (by its registered name, in registration
 * order), the unknown ones, then `--` and the init arguments.
 * parse_kernel_params(format_cmdline(p)) gives `p` back, except
 * saved_command_line (the verbatim original) and what Linux's quoting
 * cannot express (a '"' inside a value).
 */
export function format_cmdline(p: KernelParams): string {
  const args: string[] = [];
  for (const param of registry.values()) {
    const a = param.format?.(p);
    if (a) args.push(a);
  }
  for (const u of p.unknown) args.push(quote_arg(u));
  if (p.init_args.length) args.push('--', ...p.init_args.map(quote_arg));
  return args.join(' ');
}
