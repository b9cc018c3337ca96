/*
 * mm/fail_page_alloc.ts - fault injection for the page allocator.
 *
 * Mirrors mm/fail_page_alloc.c (should_fail_alloc_page and its knobs) and
 * the parts of lib/fault-inject.c it stands on (struct fault_attr,
 * FAULT_ATTR_INITIALIZER, setup_fault_attr, should_fail_ex, fail_dump).
 *
 * Turned on with fail_page_alloc=<interval>,<probability>,<space>,<times>
 * (registered here, as mm/fail_page_alloc.c's __setup does). Linux's debugfs knobs
 * (/sys/kernel/debug/fail_page_alloc/...) are boot parameters here, since
 * there is no debugfs; '-' and '_' are the same in a parameter name, so the
 * debugfs spelling works as a suffix too (fail_page_alloc_ignore-gfp-wait=0):
 *
 *   fail_page_alloc_ignore_gfp_wait=<0|1>     ignore-gfp-wait: never fail
 *       allocations that may direct-reclaim (__GFP_DIRECT_RECLAIM). [1]
 *   fail_page_alloc_ignore_gfp_highmem=<0|1>  ignore-gfp-highmem. [1]
 *   fail_page_alloc_min_order=<n>             min-order: never fail below
 *       this order. [1]
 *   fail_page_alloc_verbose=<0|1|2>           verbose: 0 silent, 1 and 2
 *       print "FAULT_INJECTION: forcing a failure." (2 would add a stack
 *       dump in Linux). [2]
 *
 * With Linux's defaults, GFP_KERNEL and order-0 allocations are never
 * failed: set fail_page_alloc_ignore_gfp_wait=0 and fail_page_alloc_min_order=0
 * to reach them. __GFP_NOFAIL allocations are never failed.
 *
 * should_fail_ex, in order: probability 0 never fails; times 0 never fails
 * (-1: no limit); the first `space` units pass (a unit is a page: the
 * allocator passes 1 << order as the size, though the documentation speaks
 * of bytes); with interval > 1 only every interval-th call that got this far
 * may fail; then it fails when get_random_u32_below(100) < probability. A
 * failure prints (unless __GFP_NOWARN or verbose=0, rate limited to 10 per
 * 5 s of the CPU clock) and uses up one of `times`. The randomness is a
 * lib/prandom RndState seeded from seed=, so a command line and seed fail the
 * same allocations on every run.
 *
 * Boot allocations are never failed: Linux's knobs live in debugfs, so in
 * practice injection starts once userspace configures it, after boot.
 * start_kernel() holds injection off (fault_inject_boot_begin) until its
 * last step (fault_inject_boot_end), so `fail_page_alloc=` with every
 * filter off boots and then fails what the workload allocates. A bare
 * mm boot (tests' boot_mm) never holds it.
 *
 * Left out: the task filter (make-it-fail), the stacktrace filters
 * (require-start/end, reject-start/end, stacktrace-depth), fail_nth.
 */
import { register_param, parse_uint, param_error, type KernelParams } from '../kernel/params.ts';
import { printk, KERN_NOTICE } from '../kernel/printk.ts';
import { RndState, prandom_u32_below } from '../lib/prandom.ts';
import { __GFP_DIRECT_RECLAIM, __GFP_HIGHMEM, __GFP_NOFAIL, __GFP_NOWARN, type gfp_t } from './gfp.ts';
import { NR_PAGE_ORDERS } from './mmzone.ts';
import { RatelimitState, __ratelimit } from './debug.ts';

/** The boot-settable part of struct fault_attr (include/linux/fault-inject.h). */
export interface FaultAttr {
  interval: number;     // fail one call in `interval` (0 and 1: every eligible call)
  probability: number;  // percent, 0..100
  space: number;        // bytes of allocation to let through before failing
  times: number;        // failures left; -1 means no limit
}

declare module '../kernel/params.ts' {
  interface KernelParams {
    /** fail_page_alloc=: null when fault injection is off. */
    fail_page_alloc: FaultAttr | null;
    /** fail_page_alloc's ignore-gfp-wait (ignore_gfp_reclaim). */
    fail_page_alloc_ignore_gfp_wait: boolean;
    /** fail_page_alloc's ignore-gfp-highmem. */
    fail_page_alloc_ignore_gfp_highmem: boolean;
    /** fail_page_alloc's min-order. */
    fail_page_alloc_min_order: number;
    /** fail_page_alloc's verbose. */
    fail_page_alloc_verbose: number;
  }
}

/** FAULT_NOWARN (fault-inject.h): do not print the failure. */
export const FAULT_NOWARN = 1 << 0;

/** struct fault_attr. */
export interface FaultAttrState {
  probability: number;
  interval: number;
  /** atomic_t times: failures left, -1 for no limit. */
  times: number;
  /** atomic_t space: units to let through before failing. */
  space: number;
  verbose: number;
  /** Calls that passed the space check (for interval). */
  count: number;
  ratelimit_state: RatelimitState;
  dname: string;
  /** The attr's own random state (seeded from seed=), so two attrs do not perturb each other. */
  rnd: RndState;
}

/**
 * Whether start_kernel() is still running: should_fail_ex fails nothing
 * then (see the file comment). Linux's system_state < SYSTEM_RUNNING.
 */
export const fault_inject_boot = { booting: false };

/** start_kernel()'s first step: no injected failure until fault_inject_boot_end(). */
export function fault_inject_boot_begin(): void { fault_inject_boot.booting = true; }

/** start_kernel()'s last step: the boot is done, injection is armed. */
export function fault_inject_boot_end(): void { fault_inject_boot.booting = false; }

/** FAULT_ATTR_INITIALIZER: probability 0, so nothing fails until configured. */
export function fault_attr_initializer(dname: string, seed = 1): FaultAttrState {
  return { probability: 0, interval: 1, times: 1, space: 0, verbose: 2, count: 0,
    ratelimit_state: new RatelimitState(5, 10), dname, rnd: new RndState(seed) };
}

/** The fail_page_alloc state, rebuilt by fail_page_alloc_init() at every boot. */
export const fail_page_alloc = {
  attr: fault_attr_initializer('fail_page_alloc'),
  ignore_gfp_highmem: true,
  ignore_gfp_reclaim: true,
  min_order: 1,
  /** Failures injected since boot (no Linux counterpart; tests read it). */
  nr_failed: 0,
};

/** Apply the boot parameters: setup_fault_attr for fail_page_alloc= plus the knobs. */
export function fail_page_alloc_init(p: KernelParams): void {
  const attr = setup_fault_attr('fail_page_alloc', p.fail_page_alloc, p.seed);
  attr.verbose = p.fail_page_alloc_verbose ?? 2;
  fail_page_alloc.attr = attr;
  fail_page_alloc.ignore_gfp_highmem = p.fail_page_alloc_ignore_gfp_highmem ?? true;
  fail_page_alloc.ignore_gfp_reclaim = p.fail_page_alloc_ignore_gfp_wait ?? true;
  fail_page_alloc.min_order = p.fail_page_alloc_min_order ?? 1;
  fail_page_alloc.nr_failed = 0;
}

/** setup_fault_attr (lib/fault-inject.c): a fault_attr from its boot parameter (null: off). */
export function setup_fault_attr(dname: string, f: FaultAttr | null, seed: number): FaultAttrState {
  const attr = fault_attr_initializer(dname, seed);
  if (f) {
    attr.probability = f.probability;
    attr.interval = f.interval;
    attr.times = f.times;
    attr.space = f.space;
  }
  return attr;
}

function fail_dump(attr: FaultAttrState): void {
  if (attr.verbose > 0 && __ratelimit(attr.ratelimit_state, 'fail_dump'))
    printk(KERN_NOTICE, 'FAULT_INJECTION: forcing a failure.\n' +
      `name ${attr.dname}, interval ${attr.interval}, probability ${attr.probability}, ` +
      `space ${attr.space}, times ${attr.times}`);
}

/** should_fail_ex (lib/fault-inject.c). */
export function should_fail_ex(attr: FaultAttrState, size: number, flags: number): boolean {
  // No need to check any other properties if the probability is 0.
  if (attr.probability === 0) return false;
  if (fault_inject_boot.booting) return false;
  if (attr.times === 0) return false;
  if (attr.space > size) {
    attr.space -= size;
    return false;
  }
  if (attr.interval > 1) {
    attr.count++;
    if (attr.count % attr.interval) return false;
  }
  if (attr.probability <= prandom_u32_below(attr.rnd, 100)) return false;
  if (!(flags & FAULT_NOWARN)) fail_dump(attr);
  if (attr.times !== -1) attr.times--;
  return true;
}

/** should_fail_alloc_page: called once per allocation, before the free lists are searched. */
export function should_fail_alloc_page(gfp_mask: gfp_t, order: number): boolean {
  const f = fail_page_alloc;
  if (order < f.min_order) return false;
  if (gfp_mask & __GFP_NOFAIL) return false;
  if (f.ignore_gfp_highmem && gfp_mask & __GFP_HIGHMEM) return false;
  if (f.ignore_gfp_reclaim && gfp_mask & __GFP_DIRECT_RECLAIM) return false;
  const flags = gfp_mask & __GFP_NOWARN ? FAULT_NOWARN : 0;
  if (!should_fail_ex(f.attr, 1 << order, flags)) return false;
  f.nr_failed++;
  return true;
}

/* ---- boot parameters ---- */

/** setup_fault_attr (lib/fault-inject.c): "<interval>,<probability>,<space>,<times>". */
export function parse_fault_attr(name: string, val: string): FaultAttr {
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

/*
 * fail_page_alloc=<interval>,<probability>,<space>,<times>: fail_page_alloc.c's
 * __setup("fail_page_alloc=", setup_fail_page_alloc), read by
 * setup_fault_attr() (Documentation/fault-injection/fault-injection.rst,
 * "Boot option"). Off (null) by default; fail_page_alloc_init() applies it.
 */
register_param({
  name: 'fail_page_alloc', value: 'required',
  help: 'fail_page_alloc=<interval>,<probability>,<space>,<times> fault injection for the page allocator; times -1 is no limit.',
  set_default: (out) => { out.fail_page_alloc = null; },
  parse: (val, out) => { out.fail_page_alloc = parse_fault_attr('fail_page_alloc', val!); },
  format: (p) => {
    const f = p.fail_page_alloc;
    return f ? `fail_page_alloc=${f.interval},${f.probability},${f.space},${f.times}` : null;
  },
});

/*
 * The debugfs knobs (/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait,
 * ignore-gfp-highmem, min-order, verbose) as boot parameters, with
 * Linux's defaults.
 */

function bool_knob(name: 'fail_page_alloc_ignore_gfp_wait' | 'fail_page_alloc_ignore_gfp_highmem', help: string): void {
  register_param({
    name, value: 'required', help,
    set_default: (out) => { out[name] = true; },
    parse: (val, out) => { out[name] = parse_uint(name, 'value', val!, 0, 1) === 1; },
    format: (p) => (p[name] ? null : `${name}=0`),
  });
}

bool_knob('fail_page_alloc_ignore_gfp_wait',
  'fail_page_alloc_ignore_gfp_wait=<0|1> fail_page_alloc leaves allocations that may direct-reclaim alone (debugfs ignore-gfp-wait). [1]');
bool_knob('fail_page_alloc_ignore_gfp_highmem',
  'fail_page_alloc_ignore_gfp_highmem=<0|1> fail_page_alloc leaves __GFP_HIGHMEM allocations alone (debugfs ignore-gfp-highmem). [1]');

register_param({
  name: 'fail_page_alloc_min_order', value: 'required',
  help: `fail_page_alloc_min_order=<0..${NR_PAGE_ORDERS}> fail_page_alloc fails no allocation below this order (debugfs min-order). [1]`,
  set_default: (out) => { out.fail_page_alloc_min_order = 1; },
  parse: (val, out) => {
    out.fail_page_alloc_min_order = parse_uint('fail_page_alloc_min_order', 'order', val!, 0, NR_PAGE_ORDERS);
  },
  format: (p) => (p.fail_page_alloc_min_order !== 1 ? `fail_page_alloc_min_order=${p.fail_page_alloc_min_order}` : null),
});

register_param({
  name: 'fail_page_alloc_verbose', value: 'required',
  help: 'fail_page_alloc_verbose=<0|1|2> 0: inject failures silently; 1, 2: print FAULT_INJECTION lines (debugfs verbose). [2]',
  set_default: (out) => { out.fail_page_alloc_verbose = 2; },
  parse: (val, out) => {
    out.fail_page_alloc_verbose = parse_uint('fail_page_alloc_verbose', 'level', val!, 0, 2);
  },
  format: (p) => (p.fail_page_alloc_verbose !== 2 ? `fail_page_alloc_verbose=${p.fail_page_alloc_verbose}` : null),
});
