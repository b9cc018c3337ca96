/*
 * tests/mm/cow_helpers.ts - what a test may see of a process's pages.
 *
 * No Linux counterpart (tools/testing/selftests/mm/cow.c reads
 * /proc/self/pagemap for the same purpose): the pfn a user address maps
 * in the current task's page tables, with its refcount and mapcount.
 */
import { current } from '../../kernel/sched/core.ts';
import { machine } from '../../kernel/smp.ts';
import { __pa } from '../../arch/x86/include/asm/page_64_types.ts';
import { page_ref_count, page_mapcount } from '../../mm/mm_types.ts';
import { _PAGE_RW, _PAGE_PRESENT } from '../../arch/x86/include/asm/pgtable_types.ts';

export interface UserPte {
  pfn: number;
  writable: boolean;
  ref: number;
  map: number;
}

/*
 * The PTE mapping user address `va` in the current task's mm, or null if
 * none: a walk of physical memory, as a hardware debugger would make it
 * (the test runs in user mode, where the kernel's tables are out of reach).
 */
export function user_pte(va: number): UserPte | null {
  const mm = current().mm;
  if (!mm) return null;
  const mem = machine().mem;
  let table = __pa(mm.pgd);
  let lo = 0, hi = 0;
  for (const shift of [39, 30, 21, 12]) {
    const ea = table + (Math.floor(va / 2 ** shift) % 512) * 8;
    lo = mem.read32(ea);
    hi = mem.read32(ea + 4);
    if (!(lo & _PAGE_PRESENT)) return null;
    table = (hi & 0xfffff) * 2 ** 32 + (lo >>> 12) * 4096; // bits 51..12 of the entry
  }
  const pfn = table / 4096;
  return { pfn, writable: (lo & _PAGE_RW) !== 0, ref: page_ref_count(pfn), map: page_mapcount(pfn) };
}

/** The vmstat deltas `keys` between two k.vmstat() snapshots. */
export function vm_delta(a: Record<string, number>, b: Record<string, number>, keys: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of keys) out[key] = (b[key] ?? 0) - (a[key] ?? 0);
  return out;
}
