/*
 * kernel/params.ts - the kernel command line: the parser and the registry.
 *
 * Mirrors kernel/params.c (parse_args, parse_one, parameq), the boot-time
 * half of init/main.c (parse_early_param, do_early_param,
 * unknown_bootoption, print_unknown_bootoptions, set_init_arg,
 * repair_env_string) and the __setup/early_param tables. Scanning
 * (next_arg, memparse, get_option) is in lib/cmdline.ts. No parameter lives
 * here: each subsystem registers its own next to its code, and
 * init/params_owners.ts lists those subsystems (see "Registering" below).
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
 *     here start_kernel hands the result to each subsystem's init function.
 *
 * Registering: a subsystem declares the fields its parameters fill on
 * KernelParams by declaration merging, and registers each parameter at
 * module load with register_param(), the way __setup() and early_param()
 * put an entry into a section:
 *
 *   declare module '../kernel/params.ts' {
 *     interface KernelParams { init_on_free: boolean }
 *   }
 *   register_param({
 *     name: 'init_on_free', value: 'required', help: 'init_on_free=<0|1> ...',
 *     set_default: (out) => { out.init_on_free = false; },
 *     parse: (val, out) => { out.init_on_free = parse_uint('init_on_free', 'value', val!, 0, 1) === 1; },
 *   });
 *
 * and adds its module to init/params_owners.ts, which start_kernel imports
 * first: the linker collects every __setup section whether or not anything
 * else calls into the file, and that list plays the linker's part. Entries
 * keep the order the owners' modules are loaded in (format_cmdline prints in
 * it), which params_owners.ts fixes as the link order does.
 */
import { pr_notice, pr_debug_ns } from './printk.ts';
import { next_arg, skip_spaces, kstrtoull } from '../lib/cmdline.ts';

/** COMMAND_LINE_SIZE (arch/x86/include/asm/setup.h): with the NUL, 2048 bytes. */
export const COMMAND_LINE_SIZE = 2048;
/** MAX_INIT_ARGS / MAX_INIT_ENVS (init/main.c): CONFIG_INIT_ENV_ARG_LIMIT, 32. */
export const MAX_INIT_ARGS = 32;
export const MAX_INIT_ENVS = 32;

/**
 * The parsed command line. The fields below are the parser's own; every
 * parameter's field is declared by its owner (declaration merging), next to
 * the register_param() that fills it.
 */
export interface KernelParams {
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

export interface ParseOptions {
  /** Host memory in bytes, for checks on host resources (mem='s mem_map); os.totalmem() if absent. */
  host_totalmem?: number;
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
  /** Put this parameter's default into a fresh KernelParams (for the fields it declares). */
  set_default?(out: KernelParams): void;
  /**
   * No Linux counterpart: check the value that won, once the whole command
   * line is read (a later `mem=` replaces an earlier one, so a check on the
   * host cannot run in parse()). Throws ParamError.
   */
  check?(p: KernelParams, opts: ParseOptions): void;
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

/**
 * No Linux counterpart (Documentation/admin-guide/kernel-parameters.txt is
 * written by hand): one line per registered parameter, its syntax, its
 * default and what it means, built from the registry so it cannot drift.
 * A help text gives its default as a trailing "[value]"; a flag without
 * one defaults to off, anything else to unset.
 */
export function format_params_help(): string {
  const rows = registered_params().map((p) => {
    const sp = p.help.indexOf(' ');
    const syntax = sp < 0 ? p.help : p.help.slice(0, sp);
    let meaning = sp < 0 ? '' : p.help.slice(sp + 1).trim();
    let def = p.value === 'none' ? 'off' : 'none';
    const m = /\s*\[([^\]]*)\]$/.exec(meaning);
    if (m) {
      def = m[1];
      meaning = meaning.slice(0, m.index);
    }
    return [syntax, def, meaning.replace(/^\[X86(-64)?\]\s*/, '')] as const;
  });
  const w0 = Math.min(40, Math.max(...rows.map((r) => r[0].length)));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([syn, def, mean]) => {
    const head = syn.length > w0 ? `${syn}\n  ${''.padEnd(w0)}` : syn.padEnd(w0);
    return `  ${head}  ${def.padEnd(w1)}  ${mean}`.trimEnd();
  }).join('\n') + '\n';
}

/* ---- helpers for the owners' parse and format functions ---- */

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

/** A value that must be one of `table`'s keys (own keys only: `toString` is no keyword). */
export function one_of<T extends string>(name: string, what: string, val: string, table: Readonly<Record<string, T>>): T {
  const v = Object.prototype.hasOwnProperty.call(table, val) ? table[val] : undefined;
  if (v === undefined) {
    const keys = Object.keys(table);
    throw param_error(name, what, val, `${keys.slice(0, -1).join(', ')} or ${keys[keys.length - 1]}`);
  }
  return v;
}

/** Quote an argument so next_arg reads it back whole. */
export function quote_arg(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  const eq = arg.indexOf('=');
  if (eq > 0 && !/[\s"]/.test(arg.slice(0, eq))) return `${arg.slice(0, eq)}="${arg.slice(eq + 1)}"`;
  return `"${arg}"`;
}

/** The fields of KernelParams that hold a boolean. */
export type BoolParamField = {
  [K in keyof KernelParams]: KernelParams[K] extends boolean ? K : never
}[keyof KernelParams];

/** A bare flag (`nopcid`) that sets the boolean field of its own name; false by default. */
export function flag_param(name: BoolParamField, help: string, early = false): KernelParam {
  return {
    name, value: 'none', help, early,
    set_default: (out) => { out[name] = false; },
    parse: (_val, out) => { out[name] = true; },
    format: (p) => (p[name] ? name : null),
  };
}

/** A KernelParams with every default, as if booted with an empty command line. */
export function default_kernel_params(): KernelParams {
  // The parser's own fields; the registered parameters fill theirs by set_default.
  const out = {
    unknown: [],
    argv_init: ['init'],
    envp_init: ['HOME=/', 'TERM=linux'],
    init_args: [],
    saved_command_line: '',
  } as Partial<KernelParams> as KernelParams;
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

/**
 * parse_one (kernel/params.c) for a registered parameter: check the value's
 * presence against what the entry takes, then let it parse.
 */
function parse_one(p: KernelParam, param: string, val: string | null, out: KernelParams): void {
  if (p.value === 'none' && val !== null)
    throw new ParamError(p.name, `${p.name}: takes no value (got '${param}=${val}')`);
  if (p.value === 'required' && val === null)
    throw new ParamError(p.name, `${p.name}=: missing value (got bare '${param}')`);
  p.parse(val, out);
}

/** do_early_param (init/main.c): in the early pass, only early_param()s run. */
function do_early_param(param: string, val: string | null, out: KernelParams): void {
  const p = registry.get(param_key(param));
  if (p?.early) parse_one(p, param, val, out);
}

/** parse_early_param (init/main.c): the early pass over the whole command line. */
function parse_early_param(cmdline: string, out: KernelParams): void {
  parse_args('early options', cmdline, (param, val) => do_early_param(param, val, out));
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

/**
 * Read a boot command line, as start_kernel does: parse_early_param(), then
 * parse_args("Booting kernel", ...) with unknown_bootoption, then the init
 * arguments after `--`. Throws ParamError for a malformed known parameter,
 * too many init arguments (Linux panics), an over-long command line, or a
 * value a parameter's check() refuses (a mem= the host cannot hold the
 * mem_map for); nothing is allocated before.
 */
export function parse_kernel_params(cmdline: string, opts: ParseOptions = {}): KernelParams {
  if (cmdline.length > COMMAND_LINE_SIZE - 1)
    throw new ParamError('', `command line is ${cmdline.length} bytes, longer than COMMAND_LINE_SIZE - 1 (${COMMAND_LINE_SIZE - 1})`);
  const out = default_kernel_params();
  out.saved_command_line = cmdline;

  parse_early_param(cmdline, out);

  const st: InitArgState = { panic_later: null, panic_param: '' };
  const after_dashes = parse_args('Booting kernel', cmdline, (param, val) => {
    const p = registry.get(param_key(param));
    if (p) {
      if (!p.early) parse_one(p, param, val, out);   // early ones ran above
      return;
    }
    unknown_bootoption(param, val, out, st);
  });
  print_unknown_bootoptions(out, st);
  if (after_dashes !== null)
    parse_args('Setting init args', after_dashes, (param, val) => set_init_arg(param, val, out, st));
  if (st.panic_later)
    throw new ParamError('', `Too many boot ${st.panic_later} vars at \`${st.panic_param}'`);

  // What a parameter checks on the value that won (mem= against the host).
  for (const p of registry.values()) p.check?.(out, opts);
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
