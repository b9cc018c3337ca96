/*
 * include/linux/mm.ts - vm_flags.
 *
 * Mirrors the VM_* bits of include/linux/mm.h that tskernel's VMAs carry
 * (no VM_GROWSDOWN, VM_LOCKED, VM_HUGEPAGE ...), and struct vm_fault /
 * struct vm_operations_struct for file mappings (the fault handler only:
 * no map_pages fault-around, no page_mkwrite, no huge_fault).
 * vm_flags_from_prot() in mm/mmap.ts turns PROT_* into these.
 */
import type { VmAreaStruct } from './mm_types.ts';
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;

/* enum fault_flag */
export const FAULT_FLAG_WRITE = 0x1;

/* vm_fault_t bits (include/linux/mm_types.h) */
export const VM_FAULT_OOM = 0x000001;
export const VM_FAULT_SIGBUS = 0x000002;
export const VM_FAULT_SIGSEGV = 0x000040;
export const VM_FAULT_NOPAGE = 0x000100;
export const VM_FAULT_LOCKED = 0x000200;

/** struct vm_fault: what ->fault() is asked and what it answers. */
export class VmFault {
  /** page: out, the page-cache page for pgoff, with a reference the caller owns. */
  page = -1;
  constructor(
    readonly vma: VmAreaStruct,
    /** address: the faulting user address, page aligned. */
    readonly address: number,
    /** pgoff: the file page that address maps (vma->vm_pgoff + offset in the VMA). */
    readonly pgoff: number,
    /** flags: FAULT_FLAG_*. */
    readonly flags: number,
  ) {}
}

/** struct vm_operations_struct (the subset used). */
export interface VmOperationsStruct {
  /** The name a kernel developer greps for (generic_file_vm_ops, shmem_vm_ops); no Linux field. */
  readonly name: string;
  /** fault: find (or make) the page for vmf.pgoff; 0 with vmf.page set, or VM_FAULT_* bits. */
  fault(vmf: VmFault): number;
}
