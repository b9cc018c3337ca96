/*
 * mm/filemap_fault.ts - page-cache pages mapped into user space on fault.
 *
 * Mirrors the mmap half of mm/filemap.c (the read and write half is
 * fs/filemap.ts): filemap_fault() finds the page-cache folio of the
 * faulting file page, creating and filling it through ->read_folio when
 * it is not cached (page_cache_sync_readahead has nothing to read ahead
 * from in memory), and hands the page to do_fault() with a reference;
 * an offset at or beyond EOF is VM_FAULT_SIGBUS. generic_file_mmap()
 * installs generic_file_vm_ops (ramfs's ->mmap).
 * Simplified: no fault-around (filemap_map_pages), no readahead, no
 * page_mkwrite (in-memory files need no dirty tracking), no mmap_miss.
 */
import type { File } from '../include/linux/fs.ts';
import { i_size_read } from '../include/linux/fs.ts';
import type { VmAreaStruct } from '../include/linux/mm_types.ts';
import { type VmFault, type VmOperationsStruct, VM_FAULT_SIGBUS, VM_FAULT_OOM } from '../include/linux/mm.ts';
import { folio_file_page, folio_test_uptodate, folio_put, mapping_gfp_mask } from '../include/linux/pagemap.ts';
import { __filemap_get_folio, filemap_remove_folio, FGP_CREAT } from '../fs/filemap.ts';
import { ENOMEM, EEXIST } from '../include/uapi/asm-generic/errno.ts';
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';

/** filemap_fault(): the page-cache page for vmf.pgoff, with a reference; SIGBUS beyond EOF. */
export function filemap_fault(vmf: VmFault): number {
  const file = vmf.vma.vm_file;
  const mapping = file?.f_mapping;
  if (!file || !mapping) return VM_FAULT_SIGBUS;
  const max_idx = Math.ceil(i_size_read(mapping.host) / PAGE_SIZE);
  if (vmf.pgoff >= max_idx) return VM_FAULT_SIGBUS;
  for (;;) {
    const r = __filemap_get_folio(mapping, vmf.pgoff, FGP_CREAT, mapping_gfp_mask(mapping));
    if (r === -EEXIST) continue; // raced with another add: look again
    if (typeof r === 'number') return r === -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
    if (!folio_test_uptodate(r)) {
      // filemap_read_folio(): an in-memory file's page never written reads as zeros.
      const err = mapping.a_ops?.read_folio?.(file, r) ?? -1;
      if (err) {
        if (r.mapping) filemap_remove_folio(r);
        folio_put(r);
        return VM_FAULT_SIGBUS;
      }
    }
    vmf.page = folio_file_page(r, vmf.pgoff);
    return 0;
  }
}

export const generic_file_vm_ops: VmOperationsStruct = {
  name: 'generic_file_vm_ops',
  fault: filemap_fault,
};

/** generic_file_mmap(): ->mmap of a file served by the page cache. */
export function generic_file_mmap(_file: File, vma: VmAreaStruct): number {
  vma.vm_ops = generic_file_vm_ops;
  return 0;
}
