/*
 * tools/fio/options.ts - fio's options: the command line and job files.
 *
 * Mirrors fio's options.c/parse.c/init.c for the options tskernel's fio
 * supports (README "fio and compare"): an option table with fio's names and
 * aliases, fio's value parsers (sizes with k/m/g/t/p suffixes in fio's
 * default kb_base=1024 compatibility mode, where "4k" and "4KB" are 4096 but
 * "4KiB" is 4000; times with us/ms/s/m/h/d suffixes, seconds by default;
 * booleans as 0/1 or a bare name), `[global]` and job sections in job
 * files, and the command line's rule that options before the first --name
 * are global. Errors are fio's kind of message; the caller exits nonzero.
 * Left out: every other option (an error, never ignored), $VAR expansion,
 * include directives, stonewall/new_group (one reporting group), bs ranges
 * and per-direction bs lists.
 */

/** An error fio would print before exiting 1. */
export class FioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FioError';
  }
}

export type RwMode = 'read' | 'randread' | 'write' | 'randwrite' | 'rw' | 'randrw';

/** One job as fio's struct thread_options holds it, for the supported options. */
export interface JobOptions {
  name: string;
  rw: RwMode;
  /** Percentage of reads in rw/randrw. */
  rwmixread: number;
  bs: number;
  /** Bytes of I/O per loop (size=); 0 means the file's size, which must then be given. */
  size: number;
  filename: string;
  directory: string;
  numjobs: number;
  ioengine: 'psync' | 'sync';
  iodepth: number;
  loops: number;
  /** runtime= in microseconds; 0 for none. */
  runtime_us: number;
  time_based: boolean;
  randrepeat: boolean;
  randseed: number;
  /** randseed= given explicitly (fio_option_is_set). */
  randseed_set: boolean;
  group_reporting: boolean;
  /** The options as given ("job options" in JSON): fio's canonical names, raw values. */
  given: [string, string][];
}

/** FIO_RANDSEED (fio.h): the default randseed=. */
export const FIO_RANDSEED = 0xb1899bed;

export function default_job_options(): JobOptions {
  return {
    name: '', rw: 'read', rwmixread: 50, bs: 4096, size: 0, filename: '', directory: '', numjobs: 1,
    ioengine: 'psync', iodepth: 1, loops: 1, runtime_us: 0, time_based: false, randrepeat: true,
    randseed: FIO_RANDSEED, randseed_set: false, group_reporting: false, given: [],
  };
}

type Setter = (o: JobOptions, v: string, raw: string) => void;

interface FioOption {
  name: string;
  alias?: string[];
  /** Takes no value (a bare name sets it to 1). */
  bool?: boolean;
  set: Setter;
}

const SIZE_MULT: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5 };

/**
 * str_to_decimal() with a size suffix, kb_base=1024 (fio's default
 * compatibility mode): k/K, kb/KB are 1024; KiB is 1000 (fio documents
 * this inversion). No suffix is bytes.
 */
export function parse_size(s: string, opt: string): number {
  const m = /^(\d+)([kmgtp]?)(i?)(b?)$/i.exec(s.trim());
  if (!m || (m[3] && !m[2])) throw new FioError(`fio: failed parsing ${opt}=${s}`);
  const n = Number(m[1]);
  const pow = m[2] ? SIZE_MULT[m[2].toLowerCase()] : 0;
  const base = m[3] ? 1000 : 1024;
  return n * base ** pow;
}

const TIME_MULT_US: Record<string, number> = { us: 1, usec: 1, ms: 1e3, msec: 1e3, s: 1e6, sec: 1e6, m: 60e6, min: 60e6, h: 3600e6, d: 86400e6 };

/** A time value (runtime=): seconds unless suffixed us/ms/s/m/h/d. In microseconds. */
export function parse_time_us(s: string, opt: string): number {
  const m = /^(\d+)([a-z]*)$/i.exec(s.trim());
  const mult = m ? (m[2] ? TIME_MULT_US[m[2].toLowerCase()] : 1e6) : undefined;
  if (!m || mult === undefined) throw new FioError(`fio: failed parsing ${opt}=${s}`);
  return Number(m[1]) * mult;
}

function parse_int(s: string, opt: string, min: number, max: number): number {
  const t = s.trim();
  const n = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t, 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isFinite(n)) throw new FioError(`fio: failed parsing ${opt}=${s}`);
  if (n < min || n > max) throw new FioError(`fio: failed parsing ${opt}=${s}\nfio: value out of range: ${n} (${max} max)`);
  return n;
}

function parse_bool(s: string, opt: string): boolean {
  return parse_int(s, opt, 0, 1) === 1;
}

const RW_MODES: Record<string, RwMode> = {
  read: 'read', randread: 'randread', write: 'write', randwrite: 'randwrite',
  rw: 'rw', readwrite: 'rw', randrw: 'randrw',
};

/** The supported options, by fio's names (options.c). */
const OPTIONS: FioOption[] = [
  { name: 'name', set: (o, v) => { o.name = v; } },
  {
    name: 'rw', alias: ['readwrite'], set: (o, v) => {
      const m = RW_MODES[v];
      if (!m) throw new FioError(`fio: failed parsing rw=${v}`);
      o.rw = m;
    },
  },
  { name: 'rwmixread', set: (o, v) => { o.rwmixread = parse_int(v, 'rwmixread', 0, 100); } },
  { name: 'rwmixwrite', set: (o, v) => { o.rwmixread = 100 - parse_int(v, 'rwmixwrite', 0, 100); } },
  {
    name: 'bs', alias: ['blocksize'], set: (o, v) => {
      const n = parse_size(v, 'bs');
      if (n < 1) throw new FioError(`fio: failed parsing bs=${v}`);
      o.bs = n;
    },
  },
  { name: 'size', set: (o, v) => { o.size = parse_size(v, 'size'); } },
  { name: 'filename', set: (o, v) => { o.filename = v; } },
  { name: 'directory', set: (o, v) => { o.directory = v; } },
  { name: 'numjobs', set: (o, v) => { o.numjobs = parse_int(v, 'numjobs', 1, 64); } },
  {
    name: 'ioengine', set: (o, v) => {
      if (v !== 'psync' && v !== 'sync')
        throw new FioError(`fio: engine ${v} not loadable\nfio: failed to load engine`);
      o.ioengine = v;
    },
  },
  { name: 'iodepth', set: (o, v) => { o.iodepth = parse_int(v, 'iodepth', 1, 65536); } },
  { name: 'loops', alias: ['loop'], set: (o, v) => { o.loops = parse_int(v, 'loops', 1, 2 ** 31); } },
  { name: 'runtime', alias: ['timeout'], set: (o, v) => { o.runtime_us = parse_time_us(v, 'runtime'); } },
  { name: 'time_based', bool: true, set: (o, v) => { o.time_based = parse_bool(v, 'time_based'); } },
  { name: 'randrepeat', alias: ['rand_repeatable'], set: (o, v) => { o.randrepeat = parse_bool(v, 'randrepeat'); } },
  {
    name: 'randseed', set: (o, v) => {
      o.randseed = parse_int(v, 'randseed', 0, 2 ** 53);
      o.randseed_set = true;
    },
  },
  { name: 'group_reporting', bool: true, set: (o, v) => { o.group_reporting = parse_bool(v, 'group_reporting'); } },
];

const BY_NAME = new Map<string, FioOption>();
for (const o of OPTIONS) {
  BY_NAME.set(o.name, o);
  for (const a of o.alias ?? []) BY_NAME.set(a, o);
}

/** Every name fio's parser here knows, for "Did you mean". */
export function option_names(): string[] {
  return [...BY_NAME.keys()];
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** show_closest_option(): "Did you mean X?" when an option is a typo away from a known one. */
export function closest_option(name: string): string | null {
  let best: string | null = null;
  let bd = Infinity;
  for (const n of BY_NAME.keys()) {
    const d = levenshtein(name, n);
    if (d < bd) {
      bd = d;
      best = n;
    }
  }
  return bd <= 2 ? best : null;
}

/**
 * Apply one `name[=value]` to `o`. Unknown options and bad values throw
 * FioError with fio's message.
 */
export function apply_option(o: JobOptions, name: string, value: string | undefined): void {
  const opt = BY_NAME.get(name);
  if (!opt) {
    const near = closest_option(name);
    throw new FioError(`Bad option <${name}${value === undefined ? '' : '=' + value}>${near ? `\nDid you mean ${near}?` : ''}`);
  }
  if (value === undefined) {
    if (!opt.bool) throw new FioError(`fio: failed parsing ${name}\nfio: option <${name}> requires an argument`);
    value = '1';
  }
  opt.set(o, value, value);
  const given = o.given.findIndex(([k]) => k === opt.name);
  if (given >= 0) o.given.splice(given, 1);
  o.given.push([opt.name, value]);
}

function clone_options(o: JobOptions): JobOptions {
  return { ...o, given: o.given.map(([k, v]) => [k, v] as [string, string]) };
}

/** What the command line asks for besides jobs. */
export interface FioCommand {
  jobs: JobOptions[];
  /** Options in [global] sections and before the first --name ("global options" in JSON). */
  global: [string, string][];
  output_format: ('normal' | 'json' | 'json+')[];
  /** --kernel-cmdline=: tskernel's boot command line (also TSKERNEL_CMDLINE). */
  kernel_cmdline: string | null;
  version: boolean;
  help: boolean;
}

/** Read a job file's text into jobs, starting from `global` (fio's parse_jobs_ini). */
export function parse_job_file(text: string, file: string, global: JobOptions): JobOptions[] {
  const jobs: JobOptions[] = [];
  let cur: JobOptions | null = null;
  let in_global = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line[0] === '#' || line[0] === ';') continue;
    if (line[0] === '[') {
      const m = /^\[([^\]]+)\]$/.exec(line);
      if (!m) throw new FioError(`fio: bad job section header <${line}> in ${file}:${i + 1}\nfio: failed parsing jobfile`);
      const name = m[1].trim();
      if (name === 'global') {
        in_global = true;
        cur = null;
      } else {
        in_global = false;
        cur = clone_options(global);
        cur.given = [];
        cur.name = name;
        jobs.push(cur);
      }
      continue;
    }
    if (!in_global && cur === null)
      throw new FioError(`fio: option <${line}> outside of [] job section\nfio: failed parsing jobfile`);
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    const val = eq < 0 ? undefined : line.slice(eq + 1).trim();
    try {
      if (in_global) {
        apply_option(global, key, val);
      } else {
        apply_option(cur as JobOptions, key, val);
      }
    } catch (e) {
      if (e instanceof FioError) throw new FioError(`${e.message}\nfio: failed parsing ${file}:${i + 1}`);
      throw e;
    }
  }
  return jobs;
}

/**
 * Parse fio's argv (without "fio"). Job files are read with `read_file`
 * (the host's file system: fio reads its job file before any job runs).
 */
export function parse_cmdline(argv: readonly string[], read_file: (path: string) => string): FioCommand {
  const cmd: FioCommand = { jobs: [], global: [], output_format: ['normal'], kernel_cmdline: null, version: false, help: false };
  const global = default_job_options();
  let cur: JobOptions | null = null;
  const files: string[] = [];
  for (const arg of argv) {
    if (!arg.startsWith('-')) {
      files.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const key = eq < 0 ? body : body.slice(0, eq);
    const val = eq < 0 ? undefined : body.slice(eq + 1);
    switch (key) {
      case 'output-format': {
        const fmts = (val ?? '').split(',');
        for (const f of fmts)
          if (f !== 'normal' && f !== 'json' && f !== 'json+')
            throw new FioError(`fio: unknown output format ${f}`);
        cmd.output_format = fmts as FioCommand['output_format'];
        continue;
      }
      case 'kernel-cmdline':
        cmd.kernel_cmdline = val ?? '';
        continue;
      case 'version':
        cmd.version = true;
        continue;
      case 'help':
      case 'h':
        cmd.help = true;
        continue;
      case 'minimal':
      case 'terse':
      case 'output':
        throw new FioError(`fio: option '--${key}' is not supported by tskernel's fio`);
    }
    if (!BY_NAME.has(key)) {
      const near = closest_option(key);
      throw new FioError(`fio: unrecognized option '${arg}'${near ? `\nDid you mean ${near}?` : ''}`);
    }
    if (key === 'name') {
      cur = clone_options(global);
      cur.given = [];
      cmd.jobs.push(cur);
    }
    apply_option(cur ?? global, key, val);
  }
  cmd.global = global.given.map(([k, v]) => [k, v] as [string, string]);
  const from_files: JobOptions[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = read_file(f);
    } catch {
      throw new FioError(`fio: unable to open '${f}' job file`);
    }
    from_files.push(...parse_job_file(text, f, clone_options(global)));
  }
  cmd.jobs.push(...from_files);
  return cmd;
}

/** Checks fio makes once a job is complete (fixup_options and friends). */
export function check_job(o: JobOptions): void {
  if (!o.size) throw new FioError(`${o.name}: you need to specify size=\nfio: failed to setup job ${o.name}`);
  if (o.size < o.bs) throw new FioError(`${o.name}: size=${o.size} is smaller than bs=${o.bs}\nfio: failed to setup job ${o.name}`);
  if (o.time_based && !o.runtime_us) throw new FioError(`fio: time_based requires a runtime to be set\nfio: failed to setup job ${o.name}`);
}
