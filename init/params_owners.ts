/*
 * init/params_owners.ts - every file that registers a boot parameter.
 *
 * No Linux counterpart as a file: the linker gathers each object's __setup
 * and early_param entries into .init.setup, so a parameter exists whenever
 * its file is linked in, whether or not anything calls into it. Here a
 * parameter exists once its module is loaded, so this list loads them all;
 * start_kernel imports it first, and so does anything that parses a
 * command line without booting. A file that registers a parameter must be
 * listed (tests/init/params_owners.test.ts checks the list against the
 * registry and the README's table).
 *
 * The order is the link order: kernel/params.ts keeps entries in the order
 * they were registered, and format_cmdline prints in it. A module registers
 * after the modules it imports, so the heavy ones (init_64 and tlb pull in
 * most of mm/) come after the light ones.
 */
import '../arch/x86/kernel/e820.ts';          // mem=
import '../kernel/smp.ts';                    // cpus=, nr_cpus=
import '../lib/prandom.ts';                   // seed=
import '../arch/x86/kernel/cpu/common.ts';    // nopcid, noinvpcid, nosmap, nosmep
import '../arch/x86/mm/pti.ts';               // pti=, nopti
import '../arch/x86/mm/asi.ts';               // asi=
import '../arch/x86/kernel/cpu/costs.ts';     // costs=
import '../kernel/trace/trace_events_setup.ts'; // trace_event=
import '../mm/debug.ts';                      // debug_vm
import '../mm/fail_page_alloc.ts';            // fail_page_alloc= and its debugfs knobs
import '../mm/failslab.ts';                  // failslab=, failslab_verbose=, failslab_cache_filter=
import '../mm/highmem.ts';                    // kmap_local=
import '../mm/ephmap.ts';                     // ephmap=
import '../arch/x86/mm/init_64.ts';           // nogbpages
import '../arch/x86/mm/tlb.ts';               // tlb_single_page_flush_ceiling=
import '../fs/shmem_super.ts';                // transparent_hugepage_tmpfs=
import './loglevel.ts';                       // loglevel=, quiet, debug
