/*
 * mm/maccess.ts - access kernel memory that may not be mapped.
 *
 * Mirrors mm/maccess.c: copy_from_kernel_nofault() and get_kernel_nofault()
 * read through the MMU on the current CPU and return -EFAULT instead of
 * oopsing when the address does not translate (a fixup region, see
 * arch/x86/mm/extable.ts). Used by tests and debugging tools to probe
 * mappings the way a kernel developer would.
 */
import { this_cpu } from '../kernel/smp.ts';
import { ex_region_enter, ex_region_exit } from '../arch/x86/mm/extable.ts';

export const EFAULT = 14;

/** get_kernel_nofault(): the u32 at `addr`, or -EFAULT. */
export function get_kernel_nofault(addr: number): number {
  ex_region_enter();
  try {
    const v = this_cpu().load32(addr);
    return v < 0 ? -EFAULT : v;
  } finally {
    ex_region_exit();
  }
}

/** copy_to_kernel_nofault() for one u32: 0 or -EFAULT. */
export function put_kernel_nofault(addr: number, v: number): number {
  ex_region_enter();
  try {
    return this_cpu().store32(addr, v) ? 0 : -EFAULT;
  } finally {
    ex_region_exit();
  }
}

/** copy_from_kernel_nofault(dst, src, size): 0 or -EFAULT. */
export function copy_from_kernel_nofault(dst: number, src: number, size: number): number {
  ex_region_enter();
  try {
    return this_cpu().copy(dst, src, size) === 0 ? 0 : -EFAULT;
  } finally {
    ex_region_exit();
  }
}
