/*
 * arch/x86/lib/usercopy_64.ts - copy_to_user, copy_from_user and friends.
 *
 * Mirrors arch/x86/include/asm/uaccess.h / uaccess_64.h and lib/usercopy.c:
 * access_ok() bounds the range below TASK_SIZE_MAX, then the copy runs
 * under STAC/CLAC (SMAP) as rep movsb through the MMU on the current CPU,
 * both sides translated under the current CR3. A fault on the user side
 * that the mm cannot resolve takes the exception-table fixup: the copy
 * stops and the helpers return the bytes NOT copied, as Linux's do;
 * strncpy_from_user and get_user/put_user return -EFAULT.
 */
import { this_cpu } from '../../../kernel/smp.ts';
import type { Cpu } from '../hw/cpu.ts';
import { ex_region_enter, ex_region_exit } from '../mm/extable.ts';
import { TASK_SIZE_MAX } from '../include/asm/page_64_types.ts';
import { EFAULT, ENAMETOOLONG } from '../../../include/uapi/asm-generic/errno.ts';
import { ksym, kernel_ip_enter_weak, kernel_ip_exit } from '../../../include/linux/instruction_pointer.ts';

/* The sites these helpers name for the #PF handler (include/linux/instruction_pointer.ts). */
const SYM_COPY_TO_USER = ksym('copy_to_user');
const SYM_COPY_FROM_USER = ksym('copy_from_user');
const SYM_CLEAR_USER = ksym('clear_user');

/** access_ok(): [addr, addr + size) lies in user space. */
export function access_ok(addr: number, size: number): boolean {
  return Number.isInteger(addr) && Number.isInteger(size) && addr >= 0 && size >= 0 && addr + size <= TASK_SIZE_MAX;
}

/** user_access_begin(): STAC, and accesses from here on take the exception-table fixup. */
function user_access_begin(): Cpu {
  const cpu = this_cpu();
  cpu.stac();
  ex_region_enter();
  return cpu;
}

function user_access_end(cpu: Cpu): void {
  ex_region_exit();
  cpu.clac();
}

/* The single accesses; the bulk helpers below avoid the closure, as they run on every read() and write(). */
function user_access<T>(fn: () => T): T {
  const cpu = user_access_begin();
  try {
    return fn();
  } finally {
    user_access_end(cpu);
  }
}

/** copy_to_user(to, from, n): `from` is a kernel address. Returns bytes not copied. */
export function copy_to_user(to: number, from: number, n: number): number {
  if (n <= 0) return 0;
  if (!access_ok(to, n)) return n;
  return raw_copy_user(to, from, n, SYM_COPY_TO_USER);
}

/** copy_from_user(to, from, n): `to` is a kernel address. Returns bytes not copied. */
export function copy_from_user(to: number, from: number, n: number): number {
  if (n <= 0) return 0;
  if (!access_ok(from, n)) return n;
  return raw_copy_user(to, from, n, SYM_COPY_FROM_USER);
}

/** copy_user_generic(): rep movsb between STAC and CLAC, under an exception-table entry. */
function raw_copy_user(to: number, from: number, n: number, sym: number): number {
  const ip = kernel_ip_enter_weak(sym);
  const cpu = user_access_begin();
  try {
    return cpu.copy(to, from, n);
  } finally {
    user_access_end(cpu);
    kernel_ip_exit(ip);
  }
}

/** clear_user(): zero user memory. Returns bytes not cleared. */
export function clear_user(to: number, n: number): number {
  if (n <= 0) return 0;
  if (!access_ok(to, n)) return n;
  const ip = kernel_ip_enter_weak(SYM_CLEAR_USER);
  const cpu = user_access_begin();
  try {
    return cpu.fill(to, 0, n);
  } finally {
    user_access_end(cpu);
    kernel_ip_exit(ip);
  }
}

/** get_user() of a u32: the value, or -EFAULT. */
export function get_user_u32(addr: number): number {
  if (!access_ok(addr, 4)) return -EFAULT;
  const v = user_access(() => this_cpu().load32(addr));
  return v < 0 ? -EFAULT : v;
}

/** put_user() of a u32: 0 or -EFAULT. */
export function put_user_u32(addr: number, v: number): number {
  if (!access_ok(addr, 4)) return -EFAULT;
  return user_access(() => this_cpu().store32(addr, v)) ? 0 : -EFAULT;
}

/** put_user() of a u64 given as a JS number below 2^53: 0 or -EFAULT. */
export function put_user_u64(addr: number, v: number): number {
  if (!access_ok(addr, 8)) return -EFAULT;
  const lo = v % 4294967296;
  const hi = Math.floor(v / 4294967296);
  return user_access(() => this_cpu().store32(addr, lo) && this_cpu().store32(addr + 4, hi)) ? 0 : -EFAULT;
}

/** get_user() of a u64 (below 2^53): the value or -EFAULT. */
export function get_user_u64(addr: number): number {
  if (!access_ok(addr, 8)) return -EFAULT;
  return user_access(() => {
    const lo = this_cpu().load32(addr);
    const hi = lo < 0 ? -1 : this_cpu().load32(addr + 4);
    return lo < 0 || hi < 0 ? -EFAULT : hi * 4294967296 + lo;
  });
}

/**
 * strncpy_from_user() into a kernel string (getname()): the bytes are read
 * through the MMU one at a time until NUL. Returns the string, or -EFAULT,
 * or -ENAMETOOLONG if no NUL within `max` bytes.
 */
export function strncpy_from_user(src: number, max: number): string | number {
  if (!access_ok(src, 1)) return -EFAULT;
  return user_access(() => {
    const cpu = this_cpu();
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      if (src + i >= TASK_SIZE_MAX) return -EFAULT;
      const b = cpu.load8(src + i);
      if (b < 0) return -EFAULT;
      if (b === 0) return String.fromCharCode(...bytes);
      bytes.push(b);
    }
    return -ENAMETOOLONG;
  });
}
