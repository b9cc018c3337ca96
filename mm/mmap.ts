/*
 * mm/mmap.ts - VMAs: mmap, munmap, mprotect and the address-space layout.
 *
 * Mirrors mm/mmap.c, mm/vma.c and mm/mprotect.c: VMAs kept sorted by
 * address (Linux's maple tree; here a sorted array with binary search,
 * O(log n) lookup), a top-down get_unmapped_area() from mmap_base with
 * hint addresses and MAP_FIXED, munmap() splitting VMAs and zapping pages,
 * mprotect() splitting and changing the PTEs with one TLB flush.
 * Private anonymous memory, and file mappings (MAP_SHARED or MAP_PRIVATE)
 * of files whose f_op has ->mmap (tmpfs, ramfs): the VMA holds a file
 * reference and sits in the mapping's i_mmap (vma_link / remove_vma), so
 * truncation can unmap it; do_mmap() checks the open mode as Linux does
 * (-EACCES for a shared writable mapping of a file not open for writing,
 * or any mapping of one not open for reading; a shared mapping of a
 * read-only fd loses VM_MAYWRITE, so mprotect cannot add PROT_WRITE).
 * Simplified: no shared anonymous memory (-EINVAL), no VMA merging, no
 * rlimits, no stack guard gap, no mlock.
 */
import type { MmStruct } from './mm_struct.ts';
import { PAGE_SIZE, PAGE_ALIGN } from '../arch/x86/include/asm/page_types.ts';
import { TASK_SIZE } from '../arch/x86/include/asm/page_64_types.ts';
import { EEXIST, EINVAL, ENOMEM, ENODEV, EPERM } from '../include/uapi/asm-generic/errno.ts';
import { should_failslab } from './failslab.ts';
import { GFP_KERNEL } from './gfp.ts';
import { unmap_vmas, change_protection, free_pgtables } from './memory.ts';
import { tlb_gather_mmu, tlb_gather_mmu_fullmm, tlb_finish_mmu } from './mmu_gather.ts';
import { fdget, fput, task_files } from '../fs/file.ts';
import { FMODE_READ, FMODE_WRITE, type File } from '../include/linux/fs.ts';
import { EACCES, EBADF, EOVERFLOW } from '../include/uapi/asm-generic/errno.ts';
import { flush_tlb_mm_range } from '../arch/x86/mm/tlb.ts';
import { BUG } from '../kernel/panic.ts';
import { current } from '../kernel/sched/core.ts';
import { this_cpu } from '../kernel/smp.ts';
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import {
  PROT_READ, PROT_WRITE, PROT_EXEC, MAP_SHARED, MAP_PRIVATE, MAP_TYPE, MAP_FIXED, MAP_ANONYMOUS, MAP_POPULATE,
  MAP_FIXED_NOREPLACE,
} from '../include/uapi/linux/mman.ts';
import { VM_READ, VM_WRITE, VM_EXEC, VM_MAYREAD, VM_MAYWRITE, VM_MAYEXEC, VM_SHARED, VM_MAYSHARE } from '../include/linux/mm.ts';
import { VmAreaStruct, MmLayout } from '../include/linux/mm_types.ts';

const K_KMEM_CACHE_ALLOC = COST_KEY_INDEX.kmem_cache_alloc;
const K_KMEM_CACHE_FREE = COST_KEY_INDEX.kmem_cache_free;

export function mm_layout(mm: MmStruct): MmLayout {
  const l = mm.layout;
  if (!(l instanceof MmLayout)) BUG('mm %s has no layout', mm.name);
  return l;
}

export function vm_flags_from_prot(prot: number): number {
  let f = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (prot & PROT_READ) f |= VM_READ;
  if (prot & PROT_WRITE) f |= VM_WRITE | VM_READ; // x86 cannot map write-only
  if (prot & PROT_EXEC) f |= VM_EXEC | VM_READ;
  return f;
}

/** Index of the first VMA with vm_end > addr (find_vma), or vmas.length. */
function vma_index(l: MmLayout, addr: number): number {
  let lo = 0;
  let hi = l.vmas.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (l.vmas[mid].vm_end > addr) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** find_vma(): the first VMA ending above addr (it may start above addr too). */
export function find_vma(mm: MmStruct, addr: number): VmAreaStruct | null {
  const l = mm_layout(mm);
  const i = vma_index(l, addr);
  return i < l.vmas.length ? l.vmas[i] : null;
}

/** vma_lookup(): the VMA containing addr, if any. */
export function vma_lookup(mm: MmStruct, addr: number): VmAreaStruct | null {
  const v = find_vma(mm, addr);
  return v && v.vm_start <= addr ? v : null;
}

function range_free(l: MmLayout, start: number, end: number): boolean {
  const v = l.vmas[vma_index(l, start)];
  return !v || v.vm_start >= end;
}

/*
 * mmap_min_addr: the lowest address a process may map (64 KiB, the value
 * most distributions set; Kconfig's DEFAULT_MMAP_MIN_ADDR is 4096), so a
 * kernel NULL dereference can never reach user-controlled memory.
 */
const MMAP_MIN_ADDR = 65536;

/** get_unmapped_area(): the hint if free, else top-down below mmap_base. 0 if none. */
function get_unmapped_area(l: MmLayout, hint: number, len: number): number {
  if (hint >= MMAP_MIN_ADDR && hint + len <= TASK_SIZE && range_free(l, hint, hint + len)) return hint;
  let top = l.mmap_base;
  for (let i = l.vmas.length - 1; i >= 0; i--) {
    const v = l.vmas[i];
    if (v.vm_start >= top) continue;
    if (top >= Math.max(v.vm_end, MMAP_MIN_ADDR) + len) return top - len;
    top = v.vm_start;
  }
  return top >= MMAP_MIN_ADDR + len ? top - len : 0;
}

/* Split the VMAs so that none straddles addr: 0, or -ENOMEM when __split_vma()'s vm_area_dup() fails. */
function split_at(l: MmLayout, addr: number): number {
  const i = vma_index(l, addr);
  const v = l.vmas[i];
  if (!v || v.vm_start >= addr) return 0;
  if (should_failslab('vm_area_struct', GFP_KERNEL)) return -ENOMEM;
  const n = vm_area_dup(v);
  n.vm_start = addr;
  n.vm_pgoff = v.vm_pgoff + (addr - v.vm_start) / PAGE_SIZE;
  v.vm_end = addr;
  l.vmas.splice(i + 1, 0, n);
  vma_link_file(n);
  return 0;
}

/** vm_area_dup(): a copy of `v` (the file gains a reference; not yet linked anywhere). */
export function vm_area_dup(v: VmAreaStruct): VmAreaStruct {
  const n = new VmAreaStruct(v.vm_start, v.vm_end, v.vm_flags);
  this_cpu().charge_index(K_KMEM_CACHE_ALLOC);
  n.vm_mm = v.vm_mm;
  n.vm_pgoff = v.vm_pgoff;
  n.vm_ops = v.vm_ops;
  n.vm_file = v.vm_file;
  if (n.vm_file) n.vm_file.f_count++; // get_file()
  return n;
}

/* __vma_link_file(): a file VMA joins its mapping's i_mmap. */
function vma_link_file(vma: VmAreaStruct): void {
  const mapping = vma.vm_file?.f_mapping;
  if (!mapping) return;
  if ((vma.vm_flags & (VM_SHARED | VM_MAYWRITE)) === (VM_SHARED | VM_MAYWRITE)) mapping.i_mmap_writable++;
  mapping.i_mmap.add(vma);
}

/** vma_link(): insert `vma` (not overlapping any) into `mm`'s VMAs and its file's i_mmap. */
export function vma_link(mm: MmStruct, vma: VmAreaStruct): void {
  const l = mm_layout(mm);
  vma.vm_mm = mm;
  l.vmas.splice(vma_index(l, vma.vm_start), 0, vma);
  vma_link_file(vma);
}

/* remove_vma(): out of i_mmap, the file reference dropped, the struct freed. */
function remove_vma(vma: VmAreaStruct): void {
  const file = vma.vm_file;
  if (file) {
    const mapping = file.f_mapping;
    if (mapping && mapping.i_mmap.delete(vma) && (vma.vm_flags & (VM_SHARED | VM_MAYWRITE)) === (VM_SHARED | VM_MAYWRITE))
      mapping.i_mmap_writable--;
    vma.vm_file = null;
    fput(file);
  }
  this_cpu().charge_index(K_KMEM_CACHE_FREE); // vm_area_free()
}

/** do_vmi_munmap(): remove [start, end) from the VMAs, zap pages, flush. */
function do_munmap(mm: MmStruct, start: number, end: number): number {
  const l = mm_layout(mm);
  const err = split_at(l, start) || split_at(l, end);
  if (err) return err; // nothing unmapped (a split already made stays, as in Linux)
  const i = vma_index(l, start);
  let j = i;
  while (j < l.vmas.length && l.vmas[j].vm_start < end) j++;
  if (j === i) return 0;
  const gone = l.vmas.splice(i, j - i);
  const tlb = tlb_gather_mmu(mm);
  unmap_vmas(tlb, gone, start, end);
  free_pgtables(tlb, start, end, l);
  tlb_finish_mmu(tlb);
  for (const v of gone) remove_vma(v);
  return 0;
}

/** sys_mmap(addr, len, prot, flags, fd, off): the new mapping's address or -errno. */
export function do_mmap(mm: MmStruct, addr: number, len: number, prot: number, flags: number, fd: number, off: number): number {
  const l = mm_layout(mm);
  if (!Number.isInteger(len) || len <= 0) return -EINVAL;
  if (!Number.isInteger(addr) || addr < 0 || addr % PAGE_SIZE) {
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) return -EINVAL;
    addr = 0;
  }
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) return -EINVAL;
  const type = flags & MAP_TYPE;
  if (type !== MAP_PRIVATE && type !== MAP_SHARED) return -EINVAL;
  if (flags & ~(MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_POPULATE | MAP_FIXED_NOREPLACE)) return -EINVAL;
  if (!Number.isInteger(off) || off % PAGE_SIZE) return -EINVAL; // an anonymous mapping ignores an aligned offset
  let file: File | null = null;
  let vm_flags = vm_flags_from_prot(prot);
  if (!(flags & MAP_ANONYMOUS)) {
    // ksys_mmap_pgoff(): fget(fd); then do_mmap()'s checks of the open mode against the mapping.
    file = fdget(task_files(current()), fd);
    if (!file) return -EBADF;
    if (off < 0) return -EOVERFLOW; // a "negative" offset is past any file: pgoff + pages wraps
    if (!(file.f_mode & FMODE_READ)) return -EACCES;
    if (type === MAP_SHARED) {
      if ((prot & PROT_WRITE) && !(file.f_mode & FMODE_WRITE)) return -EACCES;
      vm_flags |= VM_SHARED | VM_MAYSHARE;
      if (!(file.f_mode & FMODE_WRITE)) vm_flags &= ~(VM_MAYWRITE | VM_SHARED);
    }
    if (!file.f_op.mmap) return -ENODEV;
  } else if (type === MAP_SHARED) {
    return -EINVAL; // shared anonymous memory is not modelled
  }
  len = PAGE_ALIGN(len);
  if (len > TASK_SIZE) return -ENOMEM;
  const pgoff = off / PAGE_SIZE;
  if (pgoff + len / PAGE_SIZE > 2 ** 31) return -EOVERFLOW; // the page index would overflow (MAX_LFS_FILESIZE)
  let start: number;
  if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
    if (addr + len > TASK_SIZE) return -ENOMEM;
    // security_mmap_addr() (cap_mmap_addr): below mmap_min_addr only CAP_SYS_RAWIO may map.
    if (addr < MMAP_MIN_ADDR) return -EPERM;
    if (!range_free(l, addr, addr + len)) {
      if (flags & MAP_FIXED_NOREPLACE) return -EEXIST;
      const err = do_munmap(mm, addr, addr + len);
      if (err) return err;
    }
    start = addr;
  } else {
    start = get_unmapped_area(l, addr, len);
    if (!start) return -ENOMEM;
  }
  // __mmap_region(): vm_area_alloc() failing is -ENOMEM, before anything is mapped.
  if (should_failslab('vm_area_struct', GFP_KERNEL)) return -ENOMEM;
  const vma = new VmAreaStruct(start, start + len, vm_flags);
  this_cpu().charge_index(K_KMEM_CACHE_ALLOC); // __mmap_region(): vm_area_alloc()
  vma.vm_mm = mm;
  if (file) {
    vma.vm_pgoff = pgoff;
    vma.vm_file = file;
    file.f_count++; // get_file()
    const err = file.f_op.mmap!(file, vma); // mmap_file()
    if (err) {
      vma.vm_file = null;
      fput(file);
      this_cpu().charge_index(K_KMEM_CACHE_FREE);
      return err;
    }
  }
  vma_link(mm, vma);
  return start;
}

/**
 * sys_munmap(): do_vmi_munmap()'s checks first. Registers are unsigned: a
 * "negative" start is an address above TASK_SIZE, and -EINVAL like any
 * other kernel address, never a walk of the kernel half.
 */
export function sys_munmap_mm(mm: MmStruct, addr: number, len: number): number {
  if (!Number.isInteger(addr) || addr % PAGE_SIZE || !Number.isInteger(len) || len <= 0) return -EINVAL;
  len = PAGE_ALIGN(len);
  if (addr < 0 || addr > TASK_SIZE || len > TASK_SIZE - addr) return -EINVAL;
  return do_munmap(mm, addr, addr + len);
}

/** sys_mprotect(): every page in range must be mapped (else -ENOMEM). */
export function do_mprotect(mm: MmStruct, addr: number, len: number, prot: number): number {
  const l = mm_layout(mm);
  if (!Number.isInteger(addr) || addr % PAGE_SIZE) return -EINVAL;
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) return -EINVAL;
  if (!Number.isInteger(len) || len < 0) return -EINVAL;
  if (len === 0) return 0;
  const end = addr + PAGE_ALIGN(len);
  if (end > TASK_SIZE) return -ENOMEM;
  // The range must be fully covered by VMAs, each allowing the new protection (VM_MAY*).
  const want = vm_flags_from_prot(prot) & (VM_READ | VM_WRITE | VM_EXEC);
  let cur = addr;
  for (let i = vma_index(l, addr); cur < end; i++) {
    const v = l.vmas[i];
    if (!v || v.vm_start > cur) return -ENOMEM;
    if (want & ~(v.vm_flags >> 4)) return -EACCES; // VM_MAYREAD = VM_READ << 4 ...
    cur = v.vm_end;
  }
  const err = split_at(l, addr) || split_at(l, end);
  if (err) return err;
  let changed = 0;
  for (let i = vma_index(l, addr); i < l.vmas.length && l.vmas[i].vm_start < end; i++) {
    const v = l.vmas[i];
    v.vm_flags = (v.vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | want;
    changed += change_protection(mm, v, v.vm_start, v.vm_end, v.vm_flags);
  }
  if (changed) flush_tlb_mm_range(mm, addr, end, 12, false);
  return 0;
}

/**
 * exit_mmap(): tear down every mapping and the page tables. The flush has
 * freed_tables set, so lazy CPUs still holding this mm drop it too.
 */
export function exit_mmap(mm: MmStruct): void {
  const l = mm_layout(mm);
  const tlb = tlb_gather_mmu_fullmm(mm);
  const gone = l.vmas.splice(0, l.vmas.length);
  for (const v of gone) unmap_vmas(tlb, [v], v.vm_start, v.vm_end);
  free_pgtables(tlb, 0, TASK_SIZE, l);
  tlb_finish_mmu(tlb);
  for (const v of gone) remove_vma(v);
}

/* ---- the entry points, given the argument registers ---- */

function current_mm(): MmStruct {
  const mm = current().mm;
  if (!mm) BUG('mm syscall from a kernel thread');
  return mm;
}

/** mmap(addr, len, prot, flags, fd, off) (arch/x86/kernel/sys_x86_64.c in Linux). */
export function sys_mmap(regs: readonly number[]): number {
  return do_mmap(current_mm(), regs[0], regs[1], regs[2], regs[3], regs[4], regs[5] ?? 0);
}

/** munmap(addr, len). */
export function sys_munmap(regs: readonly number[]): number {
  return sys_munmap_mm(current_mm(), regs[0], regs[1]);
}

/** mprotect(start, len, prot) (mm/mprotect.c in Linux). */
export function sys_mprotect(regs: readonly number[]): number {
  return do_mprotect(current_mm(), regs[0], regs[1], regs[2]);
}
