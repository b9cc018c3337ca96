/*
 * arch/x86/hw/costs.ts - the cycle cost profile, and the part it describes.
 *
 * Hardware, no Linux counterpart. Every hardware event and every modelled
 * kernel step charges cycles from a profile; results (IOPS, deltas) are
 * counted events times these costs, never constants written for an answer.
 * Each figure names its source in Documentation/costs.md, which holds costs.md (costs) and
 * anchors.md section 4 (anchors), with the label used there:
 *   [M] measured by the named source, [E] the source's estimate,
 *   [L] a microbenchmark: the reference author's (Ice Lake-SP guest) or
 *       this project's (tools/perf/host/, a Zen 4 guest),
 *   [I] our inference or estimate: no published figure exists,
 *   [S] the vendor's published specification of the part,
 *   [F] fitted: one of the model's two fitted parameters, set by
 *       tools/calibrate.ts from the seed's figures (Documentation/calibration.md);
 *       every other figure is left as its source gives it.
 * Profiles are data: chosen with costs=NAME, overridden per key with
 * costs=NAME,key=value (any numeric key: a cost, cpu_mhz, or a number of
 * the CPU description such as llc_kib or entries_4k).
 *
 * Accounting: a CPU charges a cost key, never bare cycles. charge(key, n)
 * adds n x profile[key] to its clock and n to its counter for that key
 * (Cpu.cost_events, indexed by COST_KEY_INDEX), so the clock's advance is,
 * up to float rounding, the sum over keys of count x cycles. Keys that price
 * a unit of time rather than an event (user_work, ipi_wait) cost 1 and count
 * cycles. Adding a key is one line in CostProfile and one in sapphire_rapids:
 * its index comes from the profile's key list.
 */
import type { TlbConfig } from './tlb.ts';

/**
 * Linux's names (arch/x86/include/asm/cpufeatures.h) for the CPU bugs a
 * part has, as cpu_set_bug_bits() would set them (issue 14's setcpuid= and
 * clearcpuid= start from this list).
 */
export type X86Bug =
  | 'X86_BUG_CPU_MELTDOWN' | 'X86_BUG_SPECTRE_V1' | 'X86_BUG_SPECTRE_V2' | 'X86_BUG_SPEC_STORE_BYPASS'
  | 'X86_BUG_L1TF' | 'X86_BUG_MDS' | 'X86_BUG_MSBDS_ONLY' | 'X86_BUG_SWAPGS' | 'X86_BUG_TAA'
  | 'X86_BUG_ITLB_MULTIHIT' | 'X86_BUG_SRBDS' | 'X86_BUG_MMIO_STALE_DATA' | 'X86_BUG_RETBLEED'
  | 'X86_BUG_EIBRS_PBRSB' | 'X86_BUG_GDS' | 'X86_BUG_RFDS' | 'X86_BUG_BHI' | 'X86_BUG_ITS'
  | 'X86_BUG_VMSCAPE';

/** The part a profile describes: what /proc/cpuinfo and the hardware manuals say of it. */
export interface CpuModel {
  /** /proc/cpuinfo "model name". */
  model_name: string;
  /** CPUID family and model (display values). */
  family: number;
  model: number;
  /** L2 per core, KiB, and its associativity: the cache model's per-CPU level (cache.ts). */
  l2_kib: number;
  l2_ways: number;
  /** Last-level cache of the socket, KiB, and its associativity: the cache model's shared level. */
  llc_kib: number;
  llc_ways: number;
  /** STLB geometry; the machine builds each CPU's TLB from it. */
  tlb: TlbConfig;
  /** The X86_BUG_* bits Linux sets on this part. */
  bugs: readonly X86Bug[];
}

export interface CostProfile {
  /** The part (not a cost: no key index; its numbers can still be overridden by name). */
  cpu: CpuModel;
  /** Core clock used to turn cycles into time (IOPS, trace timestamps). Not a cost key. */
  cpu_mhz: number;
  /** STLB hit: folded into load latency; a nominal cycle so hits are visible. */
  tlb_hit: number;
  /*
   * One paging-structure read of a page walk, by where the cache model
   * (cache.ts) finds the page-table page: a TLB miss's cost follows from
   * where the tables are. Paging-structure caches are not modelled apart:
   * upper-level tables are hot pages, so their steps price as L2 hits.
   */
  walk_step_l2: number;
  walk_step_llc: number;
  walk_step_dram: number;
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
  /** One cycle the sender of a synchronous IPI waits for the receivers' handlers (counted in cycles). */
  ipi_wait: number;
  /** Exception (#PF, #GP) entry and return, hardware part. */
  exception: number;
  /** Per-byte cost of rep movsb / rep stosb on L1/L2-hot data. */
  copy_byte: number;
  fill_byte: number;
  /** Fixed setup of one string copy or fill. */
  copy_base: number;
  /*
   * Memory traffic beyond L2, per 64-byte line a copy or fill touches on a
   * page the cache model does not find in this CPU's L2: extra cycles over
   * the hot per-byte cost, for a line read (a copy's source) or written (a
   * copy's destination, a fill), from the LLC or from DRAM.
   */
  line_read_llc: number;
  line_read_dram: number;
  line_write_llc: number;
  line_write_dram: number;
  /** SYSCALL and SYSRET instructions, each. */
  syscall: number;
  sysret: number;
  /** An ordinary load or store of up to 8 bytes (L1 hit; not priced through the cache model). */
  mem_access: number;
  /** One cycle of user-mode computation a program asks for (nolibc's compute(); counted in cycles). */
  user_work: number;
  /** STAC and CLAC (SMAP): setting and clearing RFLAGS.AC around each user access (copy_user_generic, get_user ...). */
  stac: number;
  clac: number;
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
  /*
   * User-space work of tools/fio per I/O (fio's own code, charged in user
   * mode): get_io_u() (io_u from the free list, next offset from the
   * random generator and the random map, start_time read), td_io_queue()'s
   * bookkeeping between start_time and the engine's syscall (issue_time
   * read), and io_completed() (completion time read, clat/lat samples, the
   * histogram, bw/iops window checks).
   */
  fio_get_io_u: number;
  fio_td_io_queue: number;
  fio_io_completed: number;
  /**
   * The rest of a page-cache read or write as Linux 6.x does it: the steps
   * between the syscall's entry and the copy that the keys above leave out.
   */
  /** syscall_exit_to_user_mode(): the work-flag tests, kstack offset, the pt_regs restore and SYSRET's checks. */
  syscall_exit_work: number;
  /** security_file_permission(): the LSM static-call list and one major LSM's file_permission fast path. */
  security_file_permission: number;
  /** fsnotify_file() for fsnotify_access/fsnotify_modify with nothing watching, and add_rchar/inc_syscr beside it. */
  fsnotify_file: number;
  /** folio_lock() (folio_trylock): one LOCK BTS on folio->flags. */
  folio_lock: number;
  /** folio_unlock(): one LOCK AND on folio->flags and the waiters test. */
  folio_unlock: number;
  /** folio_mark_accessed(): the referenced/active/unevictable/idle flag tests on an active folio. */
  folio_mark_accessed: number;
  /** copy_page_to_iter()/copy_page_from_iter() around one page's copy: page_copy_sane, kmap_local_page, the iterator step. */
  copy_page_iter: number;
  /** file_accessed() -> touch_atime() -> atime_needs_update(): the flag tests, current_time() and the relatime test. */
  touch_atime: number;
  /** touch_atime()'s update when relatime says so: mnt_get_write_access, inode_update_time, __mark_inode_dirty's tests. */
  inode_update_time: number;
  /** shmem_get_folio_gfp()'s own checks and filemap_get_entry()'s RCU and retry tests, and the read loop's per-folio tests. */
  shmem_get_folio: number;
  /** xas_reload(): after folio_try_get, the slot read again to check the folio is still the one cached. */
  xas_reload: number;
  /*
   * Kernel-wide primitives the allocators and the brief-mapping paths use,
   * charged where each is taken (mm/vmap_*.ts, mm/vmalloc.ts,
   * kernel/sched/core.ts, mm/ephmap.ts).
   */
  /** One uncontended spin_lock()/spin_unlock() pair: queued_spin_lock's fast path, the release store, preempt_count. */
  spin_lock: number;
  /** kmem_cache_alloc() (and kmalloc() of a small size) on SLUB's lockless per-CPU fast path. */
  kmem_cache_alloc: number;
  /** kmem_cache_free() / kfree() on SLUB's per-CPU fast path (do_slab_free to the CPU slab). */
  kmem_cache_free: number;
  /** One LOCK-prefixed read-modify-write (atomic_long_add_return and kin) on a line this CPU holds. */
  atomic_rmw: number;
  /** One dependent load of kernel metadata that misses L1 and hits L2 (a node of a tree too big for L1). */
  load_l2: number;
  /** migrate_disable(): the nesting test, then (outermost) preempt-guarded this_rq()->nr_pinned++. */
  migrate_disable: number;
  /** migrate_enable(): the nesting test, the cpus_ptr test, a barrier and this_rq()->nr_pinned--. */
  migrate_enable: number;
}

/** A key a CPU charges: every field of the profile that prices something. */
export type CostKey = Exclude<keyof CostProfile, 'cpu' | 'cpu_mhz'>;

/*
 * [L] The read path's kernel-step factor. The [I] figures of the software
 * steps a hot pread charges (syscall_work ... fsnotify_file, marked "x K"
 * below) were each sized by counting the instructions and dependent loads
 * the step runs, at 4-5 instructions per cycle with L1-hot data: an ideal
 * no measured kernel path reaches. Our microbenchmark
 * (tools/perf/host/pread_lat.c, Documentation/costs.md "Measured: a hot
 * pread on a Zen 4 guest") times the same read: a 1-byte hot tmpfs pread
 * takes 1089 TSC cycles, 387 of them the two mitigations that guest runs
 * and Sapphire Rapids does not (an SRSO safe-RET return thunk on each of
 * the path's ~25 returns, 15.0 each, a retpoline on f_op->read_iter, 12.0,
 * both timed by the same program); the remaining 702 TSC cycles are 999
 * core cycles (core/TSC 1.423). Less the model's non-step keys on that
 * read (SYSCALL/SYSRET, copy_base, STAC/CLAC, TLB hits: 216), the steps
 * take 783 cycles where their [I] figures sum to 445: K = 1.76, 1.66-1.86
 * for 23-27 returns; taken as 1.75. [I] A Zen 4 core cycle is taken as a
 * Golden Cove one (cores of one generation and width). Steps the pread does
 * not run keep their unscaled estimates: the measurement says nothing of them.
 */
const K = 1.75;

/*
 * Default: a Sapphire Rapids server, where the ASI figures were measured
 * (asi.md section 2.1). Few figures exist for that part; where one comes from
 * another microarchitecture it says so.
 */
const sapphire_rapids: CostProfile = {
  cpu: {
    model_name: 'Intel(R) Xeon(R) Platinum 8480+', // [S] a 56-core Sapphire Rapids SKU
    family: 6, // [S] INTEL_SAPPHIRERAPIDS_X is family 6, model 0x8f
    model: 143,
    l2_kib: 2048, // [S] Golden Cove server core: 2 MiB L2 per core, 16-way
    l2_ways: 16,
    llc_kib: 107520, // [S] 105 MiB LLC for 56 cores (1.875 MiB per core), 15-way
    llc_ways: 15,
    // [I] STLB: 2048 entries for 4 KiB pages, 1024 for 2 MiB, 32 for 1 GiB;
    // the split by size and the 8-way associativity are estimates (Intel does
    // not document the STLB's organisation beyond its size).
    tlb: { entries_4k: 2048, ways_4k: 8, entries_2m: 1024, ways_2m: 8, entries_1g: 32, ways_1g: 4, replacement: 'lru' },
    // [I] by Linux's cpu_set_bug_bits() (arch/x86/kernel/cpu/common.c): the
    // part enumerates RDCL_NO, MDS_NO, TAA_NO, PSCHANGE_MC_NO, GDS_NO and
    // eIBRS but not SSB_NO, PBRSB_NO or BHI_NO, and cpu_vuln_blacklist lists
    // SAPPHIRERAPIDS_X for VMSCAPE only: no Meltdown, L1TF, MDS, TAA, MMIO,
    // Retbleed or GDS. (setcpuid=retbleed adds an IBPB in asi_exit, as the
    // seed's benchmark did: asi.md 2.1.)
    bugs: ['X86_BUG_SPECTRE_V1', 'X86_BUG_SPECTRE_V2', 'X86_BUG_SPEC_STORE_BYPASS', 'X86_BUG_SWAPGS',
      'X86_BUG_EIBRS_PBRSB', 'X86_BUG_BHI', 'X86_BUG_VMSCAPE'],
  },
  cpu_mhz: 2800, // [I] all-core frequency of a Xeon 8480-class part; only scales time
  tlb_hit: 1, // [I] nominal
  // [M] costs.md 4: Luto's 512-page ping-pong, ~8.6 ns per refilled entry with
  // cached tables, ~24 cycles per 4-level walk at 2.8 GHz; anchors 4.3: Gregg's
  // ~17 cycles/walk. 6 per step gives 24 for four levels.
  walk_step_l2: 6,
  walk_step_llc: 80, // [I] a mesh-LLC load, ~30 ns: no Sapphire Rapids figure in costs.md 4
  walk_step_dram: 250, // [I] a DRAM load, ~90 ns at 2.8 GHz: no published walk figure (costs.md 4)
  cr3_write: 96, // [M] costs.md 4: Molnar 2015, CR3-write flush 96 cycles
  cr4_write: 750, // [M] costs.md 4: Luto, CR4.PGE twiddle ~539 ns (two writes) on Skylake, /2 at ~2.8 GHz
  invlpg: 260, // [M] costs.md 4: Molnar 2015, INVLPG 260 cycles ("about 100 ns", a5102476a24b)
  invpcid_addr: 350, // [M] costs.md 4: Hansen 2017, ~350 cycles per page
  invpcid_ctx: 1050, // [I] taken equal to type 2 below
  invpcid_all: 1050, // [M] costs.md 4: Luto d8bced79af1d, 376 ns on Skylake, ~1050 cycles at 2.8 GHz
  invpcid_nonglobal: 1050, // [I] taken equal to type 2
  // [F] fitted: IBPB has no published per-execution figure (costs.md 1; it was a 4000
  // [I] estimate). Fitted so asi=on ephmap=off setcpuid=retbleed (an IBPB and an RSB fill
  // on every read's exit) runs 70% below asi-off, RFC v2's figure (asi.md 2.2):
  // Documentation/calibration.md, tools/calibrate.ts.
  ibpb: 5868,
  rsb_fill: 91, // [L] costs.md 2: 16x2-call loop 84-88 cycles + trailing LFENCE ~3
  l1d_flush: 768, // [E] costs.md 3: writeback lower bound for a 48 KiB L1D (Golden Cove)
  verw: 500, // [I] costs.md 3: no published figure; an estimate
  ipi_send: 1000, // [I] costs.md 5: no primary per-IPI figure; shootdowns are "microseconds"
  ipi_receive: 1500, // [I] as above: interrupt entry, handler dispatch, EOI, return
  ipi_wait: 1, // the unit: one cycle spent in csd_lock_wait()
  exception: 250, // [I] anchors 4.3: lat_pagefault 0.111 us (~310 cycles) including the handler
  // [L] costs.md 6: rep movsb 4 KiB L1/L2-hot in 31 ns, ~87 cycles with the
  // startup: (87 - copy_base) / 4096, fitted.
  copy_byte: 0.01636,
  // [L] costs.md 6: rep stosb 4 KiB hot in 34 ns, ~95 cycles: (95 - copy_base) / 4096, fitted.
  fill_byte: 0.01831,
  copy_base: 20, // [I] string-op startup
  // [I] a 4 KiB copy from the LLC in ~145 ns (87 + 64 x 5 cycles), ~28 GB/s
  // per core from the mesh; costs.md 6 has no LLC figure.
  line_read_llc: 5,
  line_write_llc: 5, // [I] as line_read_llc
  // [L] costs.md 6: rep movsb 4 KiB streaming from DRAM 660 ns, 1848 cycles at
  // 2.8 GHz: (1848 - 87) / 64 lines, fitted (destination hot).
  line_read_dram: 27.5,
  // [L] costs.md 6: rep stosb 4 KiB to DRAM 460 ns, 1288 cycles: (1288 - 95) / 64,
  // fitted; Arora's clear_page at 13.7 GB/s (~300 ns, AMD Milan) is the low end.
  line_write_dram: 18.6,
  syscall: 87, // [M] costs.md 5: 210-cycle round trip on i7-9700 x0.83, halved per direction
  sysret: 87, // [M] as above
  mem_access: 1, // [I] L1 hit, nominal
  user_work: 1, // the unit: one cycle of the program's own computation
  // [I] no figure in costs.md or anchors.md for either instruction. Both write RFLAGS.AC,
  // which must take effect for the very next load or store (the SDM's SMAP rules), so
  // the core cannot let them run ahead like an ALU op; Intel implements them in
  // microcode. Sized like a flags-register write that orders later memory accesses.
  stac: 10,
  clac: 10, // [I] as stac
  // [M] costs.md 5: getpid round trip 210 cycles (i7-9700) x0.83 = 174, and
  // SYSCALL + SYSRET already take 174: the remaining dispatch is small. [I] 40, x K.
  syscall_work: 40 * K,
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
  fdget: 30 * K, // [I] x K: current->files, fdt, bounds check + array_index_nospec, the file, f_mode: ~4 dependent loads
  rw_verify_area: 30 * K, // [I] x K: mode and method tests, access_ok, pos/count checks, security_file_permission and fsnotify with nothing hooked
  iov_iter_init: 20 * K, // [I] x K: ~10 stores into kiocb and iov_iter, iocb_flags(), get_current_ioprio()
  xa_node: 15 * K, // [I] x K: one dependent slot load (~5) plus shift/mask and the xa_is_node test
  folio_get: 20 * K, // [I] x K: folio_try_get: one LOCK CMPXCHG on an L1-resident refcount
  folio_put: 20 * K, // [I] x K: one LOCK DEC (folio_put_testzero) on an L1-resident refcount
  page_free: 100, // [I] free_pages_prepare's flag checks, pcp list add and the count/high test; the pcp alloc side is 120
  buddy_order: 15, // [I] a free_area list head, or a list insert/delete and set_buddy_order on a struct page
  pte_alloc: 100, // [I] pagetable_pte_ctor (ptlock init, NR_PAGETABLE), pmd_install under pmd_lock, smp_wmb
  /*
   * fio's user time per I/O, [I] estimates: fio 3.33 on the seed's job
   * spends usr 20-33% of 2.1-2.7 us per I/O (reference/fio/README.md, an
   * EPYC VM), ~450-900 ns; we take the low end, ~1260 cycles (450 ns at
   * 2.8 GHz), split by what each step does. lat - clat, the queue step, is
   * 40-50 ns in those runs (randread_tmpfs-1G.json: 1934.7 - 1885.6 ns).
   */
  //
  // [F] fitted: U = fio_get_io_u + fio_io_completed, the part no reference run measured
  // step by step, fitted so asi-off runs the seed's job (--size=64M, npm start's default)
  // at the seed's 1,003,102 IOPS (asi.md 2.1): U = 1237 cycles (was 1140 = 500 + 640,
  // the low end above), kept in the [I] split 500:640 below. With td_io_queue that is
  // 1357 cycles, 485 ns per I/O: inside the reference's 450-900 ns, which checks the fit.
  // Documentation/calibration.md, tools/calibrate.ts.
  fio_get_io_u: 542, // [F] fitted (U), its share by the [I] split: taus88 draw, axmap test/set, io_u list ops, a clock read
  fio_td_io_queue: 120, // [I] reference lat - clat: ~45 ns
  // [F] fitted (U), its share by the [I] split: a clock read, two Welford updates,
  // plat_val_to_idx, lat buckets, window checks.
  fio_io_completed: 695,
  /*
   * The rest of the read/write path (Documentation/costs.md, "A hot pread,
   * step by step"). All [I], sized like the block above.
   */
  // [I] x K: exit_to_user_mode_prepare's TIF/SYSCALL_WORK loads, choose_random_kstack_offset's
  // RDTSC (~25, Agner Fog's tables; RANDOMIZE_KSTACK_OFFSET_DEFAULT=y in distro kernels),
  // POP_REGS and the RCX/R11 canonical tests before SYSRET.
  syscall_exit_work: 50 * K,
  // [I] x K: call_int_hook's static-call slots and one major LSM (a distro kernel has SELinux
  // or AppArmor): selinux_file_permission's cached sid/isid/seqno test, ~30 instructions
  // with 3-4 dependent loads through cred, file and inode security blobs.
  security_file_permission: 30 * K,
  // [I] x K: FMODE_NONOTIFY test, fsnotify_parent's dentry-flag test, fsnotify()'s sb/mount/inode
  // mark tests with nothing watched, then task io accounting (two adds).
  fsnotify_file: 15 * K,
  folio_lock: 20 * K, // [I] x K: folio_trylock: one LOCK BTS on an L1-resident flags word, like folio_get
  folio_unlock: 20 * K, // [I] x K: clear_bit_unlock_is_negative_byte: one LOCK AND, then the PG_waiters test
  folio_mark_accessed: 15 * K, // [I] x K: 3-4 flag tests on an active folio (MGLRU: folio_inc_refs' saturated-refs test)
  // [I] x K: page_copy_sane, kmap_local_page (page_address on x86-64), _copy_to_iter's direction and
  // might_fault, iterate_and_advance's type switch and count/offset updates, access_ok again.
  copy_page_iter: 30 * K,
  // [I] x K: O_NOATIME, S_NOATIME, IS_NOATIME, idmap and mount-flag tests, current_time()'s
  // coarse-clock seqcount read and timestamp_truncate, relatime's three timespec compares.
  touch_atime: 60 * K,
  // [I] mnt_get_write_access (a per-CPU counter and a barrier), inode_update_timestamps,
  // generic_update_time's __mark_inode_dirty tests (tmpfs: no writeback), mnt_put_write_access.
  inode_update_time: 100,
  // [I] x K: shmem_mapping, MAX_LFS and i_size tests, rcu_read_lock/unlock (PREEMPT_RCU: a nesting
  // count), xas_retry/xa_is_value, the folio->mapping re-check under the lock, PageHWPoison,
  // and the read loop's second i_size read, mapping_writably_mapped and cond_resched.
  shmem_get_folio: 25 * K,
  xas_reload: 5 * K, // [I] x K: one load from the leaf xa_node the walk just left in L1, and a compare
  /*
   * Locks, slab, atomics and L2 loads: all [I] (no per-op figure in
   * costs.md), sized like the block above for a 2.8 GHz Golden Cove core.
   */
  // [I] LOCK CMPXCHG on a lock word this CPU owns (~20, as folio_get's atomic) plus the
  // releasing store and preempt_count inc/dec around it (CONFIG_PREEMPT_COUNT).
  spin_lock: 25,
  // [I] SLUB fast path: c->tid and c->freelist loads, get_freepointer (a load from the object),
  // an unlocked CMPXCHG16B on the per-CPU slab (~15-20), slab_post_alloc_hook's memcg/KASAN/init tests.
  kmem_cache_alloc: 40,
  // [I] the mirror image: virt_to_slab, slab_free_hook's tests, set_freepointer, the CMPXCHG16B.
  kmem_cache_free: 40,
  atomic_rmw: 20, // [I] one LOCK XADD on an owned line, like folio_get's and folio_put's
  // [I] Golden Cove's L2 load-to-use latency is ~15-16 cycles (Intel's optimization manual;
  // ~16 measured on Sapphire Rapids by Chips and Cheese); not in costs.md.
  load_l2: 16,
  migrate_disable: 5, // [I] current->migration_disabled test and store, one per-CPU increment under preempt_disable
  migrate_enable: 8, // [I] as migrate_disable, plus the p->cpus_ptr != &p->cpus_mask test and a compiler barrier
};

/** A pre-ASI-era part for comparison runs: same model, older figures. */
const skylake: CostProfile = {
  ...sapphire_rapids,
  cpu: {
    model_name: 'Intel(R) Xeon(R) Platinum 8180 CPU @ 2.50GHz', // [S] a 28-core Skylake-SP SKU
    family: 6, // [S] INTEL_SKYLAKE_X is family 6, model 0x55
    model: 85,
    l2_kib: 1024, // [S] Skylake-SP: 1 MiB L2 per core, 16-way
    l2_ways: 16,
    llc_kib: 39424, // [S] 1.375 MiB of LLC per core, 28 cores (38.5 MiB), 11-way
    llc_ways: 11,
    // [S] Skylake's STLB holds 1536 4 KiB/2 MiB entries, 12-way, and 16 1 GiB
    // entries, 4-way (Intel's optimization manual); [I] the shared 4K/2M array is
    // modelled as two arrays of that size.
    tlb: { entries_4k: 1536, ways_4k: 12, entries_2m: 1536, ways_2m: 12, entries_1g: 16, ways_1g: 4, replacement: 'lru' },
    // [I] by cpu_set_bug_bits(): no RDCL_NO, MDS_NO or PSCHANGE_MC_NO, TSX
    // without TAA_NO, and cpu_vuln_blacklist lists SKYLAKE_X steppings up to
    // 5 (the 8180 is stepping 4) for MMIO, RETBLEED, GDS and VMSCAPE; ITS only
    // from stepping 6 (Cascade Lake). No eIBRS, so no EIBRS_PBRSB; BHI is set
    // on every Intel part without BHI_NO.
    bugs: ['X86_BUG_CPU_MELTDOWN', 'X86_BUG_SPECTRE_V1', 'X86_BUG_SPECTRE_V2', 'X86_BUG_SPEC_STORE_BYPASS',
      'X86_BUG_L1TF', 'X86_BUG_MDS', 'X86_BUG_SWAPGS', 'X86_BUG_TAA', 'X86_BUG_ITLB_MULTIHIT',
      'X86_BUG_MMIO_STALE_DATA', 'X86_BUG_RETBLEED', 'X86_BUG_GDS', 'X86_BUG_BHI', 'X86_BUG_VMSCAPE'],
  },
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

/** Every cost key, in the default profile's order: index i is counted in Cpu.cost_events[i]. */
export const COST_KEYS: readonly CostKey[] = Object.keys(sapphire_rapids)
  .filter((k): k is CostKey => k !== 'cpu' && k !== 'cpu_mhz');

export const NR_COST_KEYS = COST_KEYS.length;

/** A cost key's index in COST_KEYS (and in every per-CPU counter array). */
export const COST_KEY_INDEX: Readonly<Record<CostKey, number>> =
  Object.fromEntries(COST_KEYS.map((k, i) => [k, i])) as Record<CostKey, number>;

/** The profile's cycles per key, by key index (what Cpu.charge() multiplies). */
export function cost_cycles(p: CostProfile): Float64Array {
  const c = new Float64Array(NR_COST_KEYS);
  for (let i = 0; i < NR_COST_KEYS; i++) c[i] = p[COST_KEYS[i]];
  return c;
}

function bad_value(k: string, v: number): RangeError {
  return new RangeError(`costs=: bad value for '${k}': ${v}`);
}

/**
 * Resolve a profile by name with per-key overrides. An unknown profile or
 * key is an error naming it, never silently ignored. A key is any numeric
 * field: a cost, cpu_mhz, or a number of the CPU description (l2_kib,
 * llc_kib, entries_4k, ...), whose checks the cache and TLB constructors make.
 */
export function cost_profile(name: string, overrides: Record<string, number> = {}): CostProfile {
  const base = Object.hasOwn(COST_PROFILES, name) ? COST_PROFILES[name] : undefined;
  if (!base)
    throw new RangeError(`costs=: unknown profile '${name}' (known: ${Object.keys(COST_PROFILES).join(', ')})`);
  const cpu: CpuModel = { ...base.cpu, tlb: { ...base.cpu.tlb }, bugs: [...base.cpu.bugs] };
  const p: CostProfile = { ...base, cpu };
  const top = p as unknown as Record<string, unknown>;
  const model = cpu as unknown as Record<string, unknown>;
  const tlb = cpu.tlb as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(overrides)) {
    const where = [top, model, tlb].find((o) => Object.hasOwn(o, k) && typeof o[k] === 'number');
    if (!where) throw new RangeError(`costs=: unknown cost key '${k}'`);
    if (!Number.isFinite(v) || v < 0) throw bad_value(k, v);
    where[k] = v;
  }
  return p;
}

export function cycles_to_ns(p: CostProfile, cycles: number): number {
  return (cycles * 1000) / p.cpu_mhz;
}

/** One row of a cost breakdown: how often a key was charged and the cycles it added. */
export interface CostRow {
  key: CostKey;
  count: number;
  cycles: number;
}

/** What cost_breakdown() reads: a CPU's per-key counts and the cycles it charges per key. */
export interface CostCounted {
  readonly cost_events: Float64Array;
  readonly cost_cycles: Float64Array;
}

/**
 * Where the cycles went, per cost key, summed over `cpus` (one CPU or
 * all): count and count x cycles for every key charged at least once, in
 * profile order. The cycles add up to the CPUs' clock advance, less idle
 * time (a clock moved forward without work: sleeps, IPI catch-up).
 */
export function cost_breakdown(cpus: readonly CostCounted[]): CostRow[] {
  const count = new Float64Array(NR_COST_KEYS);
  const cycles = new Float64Array(NR_COST_KEYS);
  for (const c of cpus) {
    const ev = c.cost_events;
    const cyc = c.cost_cycles;
    for (let i = 0; i < NR_COST_KEYS; i++) {
      if (ev[i] === 0) continue;
      count[i] += ev[i];
      cycles[i] += ev[i] * cyc[i];
    }
  }
  const rows: CostRow[] = [];
  for (let i = 0; i < NR_COST_KEYS; i++)
    if (count[i] !== 0) rows.push({ key: COST_KEYS[i], count: count[i], cycles: cycles[i] });
  return rows;
}
