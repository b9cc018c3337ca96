/*
 * arch/x86/mm/extable.ts - exception fixups.
 *
 * Mirrors arch/x86/mm/extable.c's role: an access that is allowed to fault
 * (uaccess, *_nofault helpers) has a fixup, and a fault there is turned
 * into an error return instead of an oops. Linux finds the fixup by the
 * faulting instruction's address in __ex_table; tskernel has no
 * instruction addresses, so code about to make such an access enters a
 * fixup region on its CPU and leaves it after (the machine abandons the
 * access with FAULT_FIXUP and the helper returns -EFAULT or the bytes left).
 */
import { smp_processor_id, nr_cpu_ids } from '../../../kernel/smp.ts';

export const extable_state = {
  /** Per-CPU depth of fixup regions. */
  depth: [] as number[],
  /** Fixups taken (Linux has no counter; useful in tests). */
  fixups: 0,
};

export function extable_init(): void {
  extable_state.depth = new Array<number>(nr_cpu_ids()).fill(0);
  extable_state.fixups = 0;
}

/** Enter a region whose faulting accesses have a fixup. */
export function ex_region_enter(): void {
  extable_state.depth[smp_processor_id()]++;
}

export function ex_region_exit(): void {
  extable_state.depth[smp_processor_id()]--;
}

/** fixup_exception(): true if the faulting access on this CPU has a fixup. */
export function fixup_exception(cpu: number): boolean {
  if (extable_state.depth[cpu] > 0) {
    extable_state.fixups++;
    return true;
  }
  return false;
}
