/*
 * arch/x86/hw/costs.ts - the cycle cost profile.
 *
 * Hardware, no Linux counterpart. Every hardware event and every modelled
 * kernel step charges cycles from a profile; results (IOPS, deltas) are
 * counted events times these costs, never constants written for an answer.
 * Each figure names its source in ../shared/reference/costs.md (costs) or
 * anchors.md section 4 (anchors), with the label used there:
 *   [M] measured by the named source, [E] the source's estimate,
 *   [L] the reference author's microbenchmark (Ice Lake-SP guest),
 *   [I] our inference or estimate: no published figure exists.
 * Profiles are data: chosen with costs=NAME, overridden per key with
 * costs=NAME,key=value.
 */

export interface CostProfile {
  /** Core clock used to turn cycles into time (IOPS, trace timestamps). */
  cpu_mhz: number;
  /** STLB hit: folded into load latency; a nominal cycle so hits are visible. */
  tlb_hit: number;
  /** One paging-structure read in a page walk. */
  walk_step: number;
  /** MOV to CR3 (serialising), with or without flush; the flush's real cost shows as later walks. */
  cr3_write: number;
  /** MOV to CR4 (a PGE toggle is two of these). */
  cr4_write: number;
  invlpg: number;
  invpcid_addr: number;
  invpcid_ctx: number;
  invpcid_all: number;
  invpcid_nonglobal: number;
  ibpb: number;
  rsb_fill: number;
  l1d_flush: number;
  verw: number;
  /** Sending one IPI (APIC write, per target). */
  ipi_send: number;
  /** Taking an IPI on the receiver: interrupt entry and exit. */
  ipi_receive: number;
  /** Exception (#PF, #GP) entry and return, hardware part. */
  exception: number;
  /** Per-byte cost of rep movsb / rep stosb on hot data. */
  copy_byte: number;
  fill_byte: number;
  /** Fixed setup of one string copy or fill. */
  copy_base: number;
  /** SYSCALL and SYSRET instructions, each. */
  syscall: number;
  sysret: number;
  /** An ordinary load or store of up to 8 bytes (L1 hit). */
  mem_access: number;
  /*
   * Modelled kernel steps (software, not instructions). They are charged by
   * kernel code, so a change in a path shows up as a change in cycles.
   */
  /** entry_SYSCALL_64's stub and do_syscall_64's dispatch, excluding SYSCALL/SYSRET. */
  syscall_work: number;
  /** context_switch() + __switch_to(): registers, FPU, stack, bookkeeping. */
  context_switch: number;
  /** pick_next_task and runqueue bookkeeping in schedule(). */
  schedule: number;
  /**
   * handle_mm_fault() software path (VMA checks, rmap, LRU, accounting),
   * excluding the page allocation (page_alloc), page-table pages
   * (pte_alloc), the PTE write (pte_update) and the clear.
   */
  fault_work: number;
  /** One page-table entry update in kernel code (set_pte and its bookkeeping). */
  pte_update: number;
  /** Page allocator fast path: a block taken from this CPU's pcp list (rmqueue_pcplist). */
  page_alloc: number;
  /*
   * Modelled kernel steps: the syscall, page-cache, allocator and
   * page-table paths. Each is charged once where the kernel does the step,
   * per call (or per level/order where it says so), so a path's cost is the
   * count of its steps times these figures.
   */
  /** fdget() / __fget_light(): fd to struct file for a syscall (no atomic: files_struct not shared). */
  fdget: number;
  /** vfs_read()/vfs_write()'s checks: FMODE bits, access_ok, rw_verify_area with its LSM/fsnotify hooks (none loaded). */
  rw_verify_area: number;
  /** import_ubuf() / iov_iter_ubuf() / iov_iter_init() with init_sync_kiocb(): setting up one request. */
  iov_iter_init: number;
  /** One xa_node level of an xarray walk (xas_descend: a slot load and the offset arithmetic). */
  xa_node: number;
  /** folio_get() / folio_try_get(): one atomic increment of the refcount. */
  folio_get: number;
  /** folio_put(): one atomic decrement (freeing on the last one is the allocator's). */
  folio_put: number;
  /** Page allocator free fast path: a block put on this CPU's pcp list (free_frozen_page_commit). */
  page_free: number;
  /** One order of the buddy path: a free_area probed by __rmqueue_smallest, split by expand() or merged by __free_one_page. */
  buddy_order: number;
  /** A page-table page's bookkeeping (__pte_alloc: pagetable ctor, populate under the lock), excluding its allocation and clear. */
  pte_alloc: number;
}

export type CostKey = keyof CostProfile;

/*
 * Default: a Sapphire Rapids server, where the ASI figures were measured
 * (asi.md section 2.1). Few figures exist for that part; where one comes from
 * another microarchitecture it says so.
 */
const sapphire_rapids: CostProfile = {
  cpu_mhz: 2800, // [I] all-core frequency of a Xeon 8480-class part; only scales time
  tlb_hit: 1, // [I] nominal
  // [M] costs.md 4: Luto's 512-page ping-pong, ~8.6 ns per refilled entry with
  // cached tables, ~24 cycles per 4-level walk at 2.8 GHz; anchors 4.3: Gregg's
  // ~17 cycles/walk. 6 per step gives 24 for four levels.
  walk_step: 6,
  cr3_write: 96, // [M] costs.md 4: Molnar 2015, CR3-write flush 96 cycles
  cr4_write: 750, // [M] costs.md 4: Luto, CR4.PGE twiddle ~539 ns (two writes) on Skylake, /2 at ~2.8 GHz
  invlpg: 260, // [M] costs.md 4: Molnar 2015, INVLPG 260 cycles ("about 100 ns", a5102476a24b)
  invpcid_addr: 350, // [M] costs.md 4: Hansen 2017, ~350 cycles per page
  invpcid_ctx: 1050, // [I] taken equal to type 2 below
  invpcid_all: 1050, // [M] costs.md 4: Luto d8bced79af1d, 376 ns on Skylake, ~1050 cycles at 2.8 GHz
  invpcid_nonglobal: 1050, // [I] taken equal to type 2
  ibpb: 4000, // [I] costs.md 1: no published per-execution figure; an estimate
  rsb_fill: 91, // [L] costs.md 2: 16x2-call loop 84-88 cycles + trailing LFENCE ~3
  l1d_flush: 768, // [E] costs.md 3: writeback lower bound for a 48 KiB L1D (Golden Cove)
  verw: 500, // [I] costs.md 3: no published figure; an estimate
  ipi_send: 1000, // [I] costs.md 5: no primary per-IPI figure; shootdowns are "microseconds"
  ipi_receive: 1500, // [I] as above: interrupt entry, handler dispatch, EOI, return
  exception: 250, // [I] anchors 4.3: lat_pagefault 0.111 us (~310 cycles) including the handler
  copy_byte: 0.0212, // [L] costs.md 6: rep movsb 4 KiB hot in ~87 cycles
  fill_byte: 0.0232, // [L] costs.md 6: rep stosb 4 KiB hot in 34 ns (~95 cycles)
  copy_base: 20, // [I] string-op startup
  syscall: 87, // [M] costs.md 5: 210-cycle round trip on i7-9700 x0.83, halved per direction
  sysret: 87, // [M] as above
  mem_access: 1, // [I] L1 hit, nominal
  // [M] costs.md 5: getpid round trip 210 cycles (i7-9700) x0.83 = 174, and
  // SYSCALL + SYSRET already take 174: the remaining dispatch is small. [I] 40.
  syscall_work: 40,
  context_switch: 500, // [I] no sourced figure; Luto's ~100 ns PCID saving (costs.md 4) bounds the CR3 part
  schedule: 150, // [I]
  // [I] between lmbench lat_pagefault's 0.111 us on a Xeon 8575C (anchors 4.3,
  // ~310 cycles, a file-backed minor fault) and the [L] 1.85 us anon write fault
  // in a VM guest (costs.md 5, inflated by EPT and cold memory). It was 1500
  // with the page allocation inside; that is page_alloc's 120 now.
  fault_work: 1380,
  pte_update: 10, // [I]
  page_alloc: 120, // [I] pcp fast path, tens of ns
  /*
   * Modelled kernel steps. No published per-step figures exist: all [I],
   * sized for a 2.8 GHz Golden Cove core with the data L1/L2-hot (an
   * L1 load ~5 cycles, a locked RMW on an owned line ~20), counting the
   * instructions and dependent loads each step does in Linux 6.x.
   */
  fdget: 30, // [I] current->files, fdt, bounds check + array_index_nospec, the file, f_mode: ~4 dependent loads
  rw_verify_area: 30, // [I] mode and method tests, access_ok, pos/count checks, security_file_permission and fsnotify with nothing hooked
  iov_iter_init: 20, // [I] ~10 stores into kiocb and iov_iter, iocb_flags(), get_current_ioprio()
  xa_node: 15, // [I] one dependent slot load (~5) plus shift/mask and the xa_is_node test
  folio_get: 20, // [I] folio_try_get: one LOCK CMPXCHG on an L1-resident refcount
  folio_put: 20, // [I] one LOCK DEC (folio_put_testzero) on an L1-resident refcount
  page_free: 100, // [I] free_pages_prepare's flag checks, pcp list add and the count/high test; the pcp alloc side is 120
  buddy_order: 15, // [I] a free_area list head, or a list insert/delete and set_buddy_order on a struct page
  pte_alloc: 100, // [I] pagetable_pte_ctor (ptlock init, NR_PAGETABLE), pmd_install under pmd_lock, smp_wmb
};

/** A pre-ASI-era part for comparison runs: same model, older figures. */
const skylake: CostProfile = {
  ...sapphire_rapids,
  cpu_mhz: 2600, // [I]
  cr4_write: 700, // [M] costs.md 4: 539 ns for the toggle at 2.6 GHz, per write
  invpcid_all: 980, // [M] costs.md 4: 376 ns at 2.6 GHz
  invpcid_ctx: 980, // [I]
  invpcid_nonglobal: 980, // [I]
  l1d_flush: 512, // [E] costs.md 3: 32 KiB L1D (Skylake)
};

export const COST_PROFILES: Readonly<Record<string, Readonly<CostProfile>>> = {
  sapphire_rapids,
  skylake,
};

export const DEFAULT_COST_PROFILE = 'sapphire_rapids';

/**
 * Resolve a profile by name with per-key overrides. An unknown profile or
 * key is an error naming it, never silently ignored.
 */
export function cost_profile(name: string, overrides: Record<string, number> = {}): CostProfile {
  const base = COST_PROFILES[name];
  if (!base)
    throw new RangeError(`costs=: unknown profile '${name}' (known: ${Object.keys(COST_PROFILES).join(', ')})`);
  const p: CostProfile = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in p)) throw new RangeError(`costs=: unknown cost key '${k}'`);
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`costs=: bad value for '${k}': ${v}`);
    p[k as CostKey] = v;
  }
  return p;
}

export function cycles_to_ns(p: CostProfile, cycles: number): number {
  return (cycles * 1000) / p.cpu_mhz;
}
