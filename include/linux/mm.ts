/*
 * include/linux/mm.ts - vm_flags.
 *
 * Mirrors the VM_* bits of include/linux/mm.h that tskernel's VMAs carry
 * (private anonymous memory: no VM_GROWSDOWN, VM_LOCKED, VM_HUGEPAGE ...).
 * vm_flags_from_prot() in mm/mmap.ts turns PROT_* into these.
 */
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
