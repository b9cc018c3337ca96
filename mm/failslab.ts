/*
 * mm/failslab.ts - fault injection for the kernel's object caches.
 *
 * Mirrors mm/failslab.c (should_failslab and its knobs): the slab
 * allocator asks should_failslab() before every kmem_cache_alloc/kmalloc
 * and returns NULL when it says yes. tskernel has no slab allocator (its
 * objects are host objects, their cost a kmem_cache_alloc charge), so the
 * question is asked at the charge sites that have an error path up the
 * stack, each naming its cache:
 *
 *   vmap_area   alloc_vmap_area()     -> -ENOMEM (vmalloc, vm_map_ram, the
 *                                        vmalloc ephmap: NULL / 0)
 *   vm_struct   __get_vm_area_node()  -> NULL (vmalloc: NULL)
 *   vm_area_struct  do_mmap(), __split_vma() (munmap, MAP_FIXED over a
 *                                        mapping, mprotect) -> -ENOMEM
 *   filp        path_openat()'s alloc_empty_file() -> -ENOMEM from open
 *   radix_tree_node  __filemap_add_folio()'s xas_nomem() -> -ENOMEM (a
 *                                        read or write short or failing)
 *   ephmap      ephmap_get()          -> 0, the caller's documented fallback
 *               (not a slab cache: the per-CPU slot reservation, which the
 *               issue asks to fail the same way)
 *   pgtable     pgtable_alloc_page()  -> 0: the page-table walk's -ENOMEM
 *               (not a slab cache in Linux either: table pages come from
 *               the page allocator, which fail_page_alloc already covers;
 *               this knob fails them alone, as the issue asks)
 *
 * Turned on with failslab=<interval>,<probability>,<space>,<times>
 * (lib/fault-inject.c's syntax, parsed by mm/fail_page_alloc.ts's
 * parse_fault_attr), verbose with failslab_verbose=<0|1|2>. Like
 * fail_page_alloc, nothing fails until start_kernel() is done; __GFP_NOFAIL
 * is never failed. The space unit is one object. The random state is the
 * attr's own, seeded from seed=. failslab_cache_filter=<name>[,<name>...]
 * narrows injection to the named caches: Linux's cache-filter attribute
 * with /sys/kernel/slab/<cache>/failslab set on those caches.
 *
 * Left out: ignore-gfp-wait (Linux's default 1 would filter out every
 * site here, which all allocate with GFP_KERNEL), the task and
 * stacktrace filters.
 */
import { register_param, parse_uint, param_error, type KernelParams } from '../kernel/params.ts';
import { __GFP_NOFAIL, __GFP_NOWARN, type gfp_t } from './gfp.ts';
import {
  FAULT_NOWARN, fault_attr_initializer, parse_fault_attr, setup_fault_attr, should_fail_ex,
  type FaultAttr,
} from './fail_page_alloc.ts';

declare module '../kernel/params.ts' {
  interface KernelParams {
    /** failslab=: null when off. */
    failslab: FaultAttr | null;
    /** failslab's verbose. */
    failslab_verbose: number;
    /** failslab_cache_filter=: the caches that may fail; null: all of them. */
    failslab_cache_filter: readonly string[] | null;
  }
}

/** The failslab state (mm/failslab.c's struct failslab), rebuilt by failslab_init() at every boot. */
export const failslab = {
  attr: fault_attr_initializer('failslab'),
  /** Failures injected since boot, per cache name (no Linux counterpart; tests read it). */
  nr_failed: new Map<string, number>(),
  /** cache-filter: the caches with SLAB_FAILSLAB; null when the filter is off. */
  cache_filter: null as ReadonlySet<string> | null,
};

/** Apply failslab= and failslab_verbose= (called from mm_core_init with fail_page_alloc_init). */
export function failslab_init(p: KernelParams): void {
  const attr = setup_fault_attr('failslab', p.failslab ?? null, p.seed);
  attr.verbose = p.failslab_verbose ?? 2;
  failslab.attr = attr;
  failslab.nr_failed = new Map();
  failslab.cache_filter = p.failslab_cache_filter ? new Set(p.failslab_cache_filter) : null;
}

/** Total failures injected since boot. */
export function failslab_nr_failed(): number {
  let n = 0;
  for (const v of failslab.nr_failed.values()) n += v;
  return n;
}

/** should_failslab(s, gfpflags): true when the allocation from cache `name` must fail. */
export function should_failslab(name: string, gfp_mask: gfp_t): boolean {
  if (gfp_mask & __GFP_NOFAIL) return false;
  if (failslab.cache_filter && !failslab.cache_filter.has(name)) return false;
  if (!should_fail_ex(failslab.attr, 1, gfp_mask & __GFP_NOWARN ? FAULT_NOWARN : 0)) return false;
  failslab.nr_failed.set(name, (failslab.nr_failed.get(name) ?? 0) + 1);
  return true;
}

/*
 * failslab=<interval>,<probability>,<space>,<times>: failslab.c's
 * __setup("failslab=", setup_failslab). Off (null) by default.
 */
register_param({
  name: 'failslab', value: 'required',
  help: 'failslab=<interval>,<probability>,<space>,<times> fault injection for object caches (vmap_area, vm_struct, vm_area_struct, ephmap slots); times -1 is no limit.',
  set_default: (out) => { out.failslab = null; },
  parse: (val, out) => { out.failslab = parse_fault_attr('failslab', val!); },
  format: (p) => {
    const f = p.failslab;
    return f ? `failslab=${f.interval},${f.probability},${f.space},${f.times}` : null;
  },
});

/* The cache names should_failslab() is asked with. */
export const FAILSLAB_CACHES = ['vmap_area', 'vm_struct', 'vm_area_struct', 'filp', 'radix_tree_node', 'ephmap', 'pgtable'];

register_param({
  name: 'failslab_cache_filter', value: 'required',
  help: `failslab_cache_filter=<cache>[,<cache>...] inject only into these caches (cache-filter with SLAB_FAILSLAB on them): ${FAILSLAB_CACHES.join(', ')}.`,
  set_default: (out) => { out.failslab_cache_filter = null; },
  parse: (val, out) => {
    const names = val!.split(',');
    const bad = names.find((n) => !FAILSLAB_CACHES.includes(n));
    if (bad !== undefined) throw param_error('failslab_cache_filter', 'cache', bad, FAILSLAB_CACHES.join(', '));
    out.failslab_cache_filter = names;
  },
  format: (p) => (p.failslab_cache_filter ? `failslab_cache_filter=${p.failslab_cache_filter.join(',')}` : null),
});

register_param({
  name: 'failslab_verbose', value: 'required',
  help: 'failslab_verbose=<0|1|2> 0: inject failures silently; 1, 2: print FAULT_INJECTION lines (debugfs verbose). [2]',
  set_default: (out) => { out.failslab_verbose = 2; },
  parse: (val, out) => { out.failslab_verbose = parse_uint('failslab_verbose', 'level', val!, 0, 2); },
  format: (p) => (p.failslab_verbose !== 2 ? `failslab_verbose=${p.failslab_verbose}` : null),
});
