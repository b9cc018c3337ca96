/*
 * init/main.ts - start_kernel(): boot tskernel from a command line.
 *
 * Mirrors init/main.c's start_kernel() in the order this kernel needs:
 * parse the command line (parse_early_param + parse_args), build the
 * machine it describes, then setup_arch() (memblock, the direct map and
 * kernel image page tables from memblock, the BSP's CR4/CR3), mm_core_init()
 * (mem_map, memblock_free_all into the buddy allocator), then bring up the
 * other CPUs on init_mm. Returns the Kernel object of DESIGN.md section 8
 * (init/kernel.ts, re-exported here).
 * One kernel runs at a time per host thread: every boot rebuilds each
 * subsystem's globals from nothing.
 */
import './params_owners.ts'; // first: every boot parameter registered, in link order
import { Machine } from '../arch/x86/hw/smp.ts';
import { tsc_init } from '../arch/x86/kernel/tsc.ts';
import { ktime_get_ns } from '../kernel/time/timekeeping.ts';
import { X86_TRAP_GP, X86_TRAP_PF, X86_TRAP_UD } from '../arch/x86/include/asm/trap_pf.ts';
import { __PHYSICAL_START, KERNEL_IMAGE_BYTES } from '../arch/x86/include/asm/page_64_types.ts';
import { parse_kernel_params } from '../kernel/params.ts';
import { printk_init, console_loglevel_init, pr_info } from '../kernel/printk.ts';
import { panic_init, set_panic_context, BUG } from '../kernel/panic.ts';
import { smp_init_machine } from '../kernel/smp.ts';
import { trace_init, trace_set_context } from '../kernel/trace/index.ts';
import { vmstat_init } from '../mm/vmstat.ts';
import { init_mm_init, init_mm } from '../mm/mm_struct.ts';
import { pgtable_early_init, pgtable_early_done } from '../arch/x86/mm/pgtable.ts';
import { pgalloc_init } from '../arch/x86/mm/pgalloc.ts';
import { init_mem_mapping } from '../arch/x86/mm/init_64.ts';
import { extable_init } from '../arch/x86/mm/extable.ts';
import { exc_page_fault, fault_init } from '../arch/x86/mm/fault.ts';
import { exc_general_protection } from '../arch/x86/kernel/traps.ts';
import { tlb_init, tlb_single_page_flush_ceiling_init } from '../arch/x86/mm/tlb.ts';
import { pti_check_boottime_disable, pti_state } from '../arch/x86/mm/pti.ts';
import { asi_check_boottime_disable, asi_cpu_init, asi_init_userspace_class, asi_state } from '../arch/x86/mm/asi.ts';
import { asi_global_init } from '../mm/asi.ts';
import { idtentry_init, idtentry_sysvec } from '../arch/x86/entry/idtentry.ts';
import { kernel_ip_init } from '../include/linux/instruction_pointer.ts';
import { sched_init, current } from '../kernel/sched/core.ts';
import { arch_cpu_step } from '../arch/x86/entry/usermode.ts';
import { hrtimers_init } from '../kernel/time/hrtimer.ts';
import { sysvec_apic_timer_interrupt } from '../arch/x86/kernel/apic/apic.ts';
import { LOCAL_TIMER_VECTOR } from '../arch/x86/include/asm/irq_vectors.ts';
import { fork_init } from '../kernel/fork.ts';
import { exit_init } from '../kernel/exit.ts';
import { entry_init } from '../arch/x86/entry/common.ts';
import { vfs_caches_init } from '../fs/namespace.ts';
import { kmap_local_init } from '../mm/highmem.ts';
import { folio_map_init } from '../mm/folio_map.ts';
import { vmalloc_init } from '../mm/vmalloc.ts';
import { console_init } from '../fs/file.ts';
import { signal_init } from '../kernel/signal.ts';
import { exec_init } from '../fs/exec.ts';
import { cpu_init_paging, cpu_setup_from, cpu_caps_cleared, cpu_caps_init } from '../arch/x86/kernel/cpu/common.ts';
import { boot_cost_profile } from '../arch/x86/kernel/cpu/costs.ts';
import { cpa_stats_init } from '../arch/x86/mm/pat/set_memory.ts';
import { memblock_init, memblock_add, memblock_reserve } from '../mm/memblock.ts';
import { mm_core_init, __get_free_pages } from '../mm/page_alloc.ts';
import { GFP_KERNEL } from '../mm/gfp.ts';
import { Kernel } from './kernel.ts';
import { fault_inject_boot_begin, fault_inject_boot_end } from '../mm/fail_page_alloc.ts';

export { Kernel };

/** start_kernel(cmdline): boot and return the kernel. Throws ParamError on a bad command line. */
export function start_kernel(cmdline = ''): Kernel {
  fault_inject_boot_begin();
  try {
    return start_kernel_boot(cmdline);
  } finally {
    // Also when the boot throws (a bad command line, a variant that cannot
    // boot): a later boot or partial boot in this process must not inherit it.
    fault_inject_boot_end();
  }
}

function start_kernel_boot(cmdline: string): Kernel {
  printk_init();
  panic_init();
  const params = parse_kernel_params(cmdline);
  console_loglevel_init(params.loglevel);
  const costs = boot_cost_profile(params);
  const m = new Machine({
    mem_bytes: params.mem,
    nr_cpus: params.cpus,
    costs,
    features: cpu_caps_cleared(params),
  });

  smp_init_machine(m);
  idtentry_init();
  kernel_ip_init();
  tsc_init();
  set_panic_context(() => ({ cpu: m.current, comm: `swapper/${m.current}`, pid: 0 }));
  trace_init({ nr_cpus: m.nr_cpus, trace_event: params.trace_event.join(',') });
  trace_set_context(() => {
    const c = m.cpus[m.current];
    return { cpu: c.id, comm: `swapper/${c.id}`, pid: 0, ts_ns: ktime_get_ns() };
  });
  vmstat_init();
  extable_init();
  init_mm_init();
  fault_init();
  tlb_single_page_flush_ceiling_init(params);
  cpa_stats_init();
  entry_init();
  fork_init();
  exit_init();
  signal_init();
  exec_init();
  m.set_intr_gate(X86_TRAP_PF, exc_page_fault);
  const die = (_c: unknown, _e: number, _a: number, reason: string): never => BUG('general protection fault: %s', reason);
  m.set_intr_gate(X86_TRAP_GP, exc_general_protection);
  m.set_intr_gate(X86_TRAP_UD, die);
  m.set_intr_gate(LOCAL_TIMER_VECTOR, idtentry_sysvec(sysvec_apic_timer_interrupt));
  hrtimers_init();
  m.set_cpu_step(arch_cpu_step);
  pr_info('Command line: %s', params.saved_command_line);
  // identify_boot_cpu(): the part's features and bugs, then clearcpuid= / setcpuid=.
  cpu_caps_init(m.features, costs.cpu.bugs, params);

  // setup_arch(): memblock, then page tables from memblock.
  memblock_init();
  memblock_add(0, params.mem);
  memblock_reserve(0, 0x100000); // the first 1 MiB: BIOS, real-mode trampoline
  memblock_reserve(__PHYSICAL_START, KERNEL_IMAGE_BYTES);
  // init_mem_mapping(): ASI and PTI are decided first (ASI turns PTI off), then the direct map;
  // kernel mappings are global only with neither ("don't use global pages when ASI enabled").
  asi_check_boottime_disable(params);
  pti_check_boottime_disable(params);
  pgalloc_init();
  pgtable_early_init();
  init_mem_mapping(params.mem, !params.nogbpages, !pti_state.enabled && !asi_state.enabled);

  // The BSP switches to init_mm: from here page tables are reached through the direct map.
  const setup = cpu_setup_from(m.cpus[0], params);
  tlb_init(m.nr_cpus, setup.pcid, pti_state.enabled, asi_state.enabled);
  asi_cpu_init();
  m.current = 0;
  cpu_init_paging(m.cpus[0], setup, init_mm().pgd);
  pgtable_early_done();

  mm_core_init(params);
  vmalloc_init({ debug_vm: params.debug_vm, seed: params.seed });

  // smp_init(): the other CPUs come up on init_mm.
  for (let i = 1; i < m.nr_cpus; i++) {
    m.current = i;
    cpu_init_paging(m.cpus[i], setup, init_mm().pgd);
  }
  m.current = 0;
  pr_info('smp: Brought up 1 node, %d CPUs', m.nr_cpus);

  // The scheduler.
  sched_init(m.nr_cpus, Math.round(0.75e-3 * costs.cpu_mhz * 1e6)); // sysctl_sched_base_slice 0.75 ms
  set_panic_context(() => {
    const p = current();
    return { cpu: m.current, comm: p.comm, pid: p.pid };
  });
  trace_set_context(() => {
    const c = m.cpus[m.current];
    const p = current();
    return { cpu: c.id, comm: p.pid === 0 ? `swapper/${c.id}` : p.comm, pid: p.pid, ts_ns: ktime_get_ns() };
  });
  kmap_local_init(params.kmap_local);
  folio_map_init(params);
  // asi_init_userspace_class() (start_kernel) and asi_global_init() (a subsys_initcall).
  asi_init_userspace_class();
  asi_global_init();
  vfs_caches_init(params);
  console_init(__get_free_pages(GFP_KERNEL, 0));
  // The boot is done: fail_page_alloc= and failslab= start failing once
  // start_kernel() returns (its finally).
  return new Kernel(params, m, costs);
}
