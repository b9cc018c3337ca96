/*
 * Setup for the files that share a worker process (vitest.config.ts).
 *
 * The parameter registry is in the order its owners were first imported,
 * as Linux's __setup table is in link order: the first file in a worker
 * must not decide it, so the owners are imported here first, in
 * init/params_owners.ts's order, as start_kernel's importer does.
 *
 * A boot re-initialises every subsystem, but the seeded-bug switches that
 * no boot clears are put back before each file, so that a file failing
 * half-way through a seeded-bug test cannot hand the next file a buggy
 * kernel.
 */
import '../init/params_owners.ts';
import { cpa_asi_test } from '../arch/x86/mm/pat/set_memory.ts';
import { page_alloc_asi_test } from '../mm/page_alloc.ts';

cpa_asi_test.skip_flush_tlb_kernel_range = false;
page_alloc_asi_test.skip_set_direct_map = false;
