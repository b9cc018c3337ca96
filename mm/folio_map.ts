/*
 * mm/folio_map.ts - the page-cache copy through a brief mapping: the
 * ephmap= switch between the ephmap and its rivals.
 *
 * No Linux counterpart as a file: the ASI branch open-codes the ephmap in
 * shmem_file_read_iter() (asi.md 4.9.5): migrate_disable(); ephemeral =
 * ephmap_get(page, offset + nr); if it is NULL, fall back to the physmap
 * copy (which, restricted, faults and exits ASI); else copy_to_iter()
 * from ephemeral + offset, ephmap_put(), migrate_enable(). Here that step
 * is one helper per direction, shared by shmem_file_read_iter() and
 * filemap_read() (the hook Lorenzo Stoakes suggested) and by
 * generic_perform_write(), with the mapping chosen by ephmap=:
 *  - percpu:  the ephmap (mm/ephmap.ts): the covered pages at once, up to
 *             the 2 MiB slot;
 *  - vmalloc: a vmap area per I/O (mm/ephmap_vmalloc.ts);
 *  - kmap:    kmap_local slots force-mapped (__kmap_local_pfn_prot), one
 *             page at a time, LIFO, as Matthew Wilcox suggested adapting;
 *  - mermap:  the mermap (mm/mermap.ts);
 *  - off:     never called: ephmap_wanted() is false, the physmap copy runs.
 * A get that fails falls back to the physmap copy for that chunk, counted
 * in nr_ephmap_fallback and traced as ephmap:ephmap_fallback.
 */
import { PAGE_SIZE } from '../arch/x86/include/asm/page_types.ts';
import { __kmap_local_pfn_prot, kunmap_local_indexed, highmem_state, kmap_local_init_slots, __folio_zero_segments } from './highmem.ts';
import {
  copy_to_iter, copy_from_iter, copy_page_to_iter, copy_page_from_iter, NR_COPY_TO_ITER, NR_COPY_TO_ITER_BYTES,
  NR_COPY_FROM_ITER, NR_COPY_FROM_ITER_BYTES,
} from '../lib/iov_iter.ts';
import type { IovIter } from '../include/linux/uio.ts';
import type { Folio } from '../include/linux/pagemap.ts';
import { migrate_disable, migrate_enable } from '../kernel/sched/core.ts';
import { count_vm_event, count_vm_events } from './vmstat.ts';
import type { KernelParams } from '../kernel/params.ts';
import {
  ephmap_state, ephmap_init, ephmap_ops, ephmap_wanted, NR_EPHMAP_GET, NR_EPHMAP_PUT, NR_EPHMAP_FALLBACK,
} from './ephmap.ts';
import { this_cpu } from '../kernel/smp.ts';
import { mermap_ops } from './mermap.ts';
import { ephmap_vmalloc_ops } from './ephmap_vmalloc.ts';
import type { FolioMapOps } from '../include/linux/ephmap.ts';
import { trace_ephmap_get, trace_ephmap_put, trace_ephmap_fallback } from '../kernel/trace/events/ephmap.ts';

/** kmap_local_page() force-mapped, whatever kmap_local= says: one page per get, 16 per task, LIFO. */
export const kmap_ops: FolioMapOps = {
  name: 'kmap',
  max_pages: 1,
  get: (page) => {
    const va = __kmap_local_pfn_prot(page, highmem_state.kmap_prot);
    count_vm_event(NR_EPHMAP_GET);
    if (trace_ephmap_get.enabled) trace_ephmap_get.emit({ variant: 'kmap', vaddr: va, pfn: page, nr_pages: 1 });
    return va;
  },
  put: (vaddr) => {
    kunmap_local_indexed(vaddr);
    count_vm_event(NR_EPHMAP_PUT);
    if (trace_ephmap_put.enabled) trace_ephmap_put.emit({ variant: 'kmap', vaddr, nr_pages: 1 });
  },
};

/** The selected mapping, or null for off. */
export function folio_map_ops(): FolioMapOps | null {
  switch (ephmap_state.mode) {
    case 'percpu': return ephmap_ops;
    case 'vmalloc': return ephmap_vmalloc_ops;
    case 'kmap': return kmap_ops;
    case 'mermap': return mermap_ops;
    default: return null;
  }
}

/** At boot, after kmap_local_init(): the mode; ephmap=kmap needs the kmap_local slot tables. */
export function folio_map_init(p: KernelParams): void {
  ephmap_init(p);
  if (p.ephmap === 'kmap') kmap_local_init_slots();
  highmem_state.zero_segments_hook = folio_map_zero_segments;
}

/*
 * folio_zero_segments() when ephmap_wanted(): a new or truncated
 * page-cache folio is zeroed through the mapping too (shmem_get_folio,
 * shmem_write_end, simple_write_begin/end, truncate_inode_partial_folio),
 * since the physmap store would exit just as the copy would.
 */
function folio_map_zero_segments(folio: { readonly page: number; readonly order: number }, start1: number, end1: number,
  start2: number, end2: number): boolean {
  if (!ephmap_wanted()) return false;
  if (end1 > start1) folio_map_zero(folio, start1, end1);
  if (end2 > start2) folio_map_zero(folio, start2, end2);
  return true;
}

function folio_map_zero(folio: { readonly page: number; readonly order: number }, start: number, end: number): void {
  const ops = folio_map_ops();
  if (ops === null) {
    __folio_zero_segments(folio, start, end, 0, 0);
    return;
  }
  for (let off = start; off < end;) {
    const first = Math.floor(off / PAGE_SIZE);
    const last = Math.min(Math.ceil(end / PAGE_SIZE), first + ops.max_pages);
    const nr_pages = last - first;
    const len = Math.min(end, last * PAGE_SIZE) - off;
    migrate_disable();
    const va = ops.get(folio.page + first, nr_pages);
    if (va) {
      this_cpu().fill(va + (off - first * PAGE_SIZE), 0, len);
      ops.put(va, nr_pages);
    } else {
      count_vm_event(NR_EPHMAP_FALLBACK);
      if (trace_ephmap_fallback.enabled) trace_ephmap_fallback.emit({ variant: ops.name, pfn: folio.page + first, nr_pages });
      __folio_zero_segments(folio, off, off + len, 0, 0);
    }
    migrate_enable();
    off += len;
  }
}

const TO = 0;
const FROM = 1;

/*
 * Copy [offset, offset + bytes) of the folio to or from the iterator in
 * chunks the mapping can take, each mapped, copied and unmapped with
 * migration disabled; a chunk whose get fails goes through the physmap.
 * Stops at a short copy. Returns the bytes copied.
 */
function folio_map_copy(folio: Folio, offset: number, bytes: number, i: IovIter, dir: number): number {
  const ops = folio_map_ops();
  const fsize = PAGE_SIZE << folio.order;
  if (ops === null) {
    return dir === TO ? copy_page_to_iter(folio.page, offset, bytes, i, fsize)
      : copy_page_from_iter(folio.page, offset, bytes, i, fsize);
  }
  let done = 0;
  while (done < bytes) {
    const off = offset + done;
    const first = Math.floor(off / PAGE_SIZE);
    const last = Math.min(Math.ceil((offset + bytes) / PAGE_SIZE), first + ops.max_pages);
    const nr_pages = last - first;
    const len = Math.min(offset + bytes, last * PAGE_SIZE) - off;
    migrate_disable();
    const va = ops.get(folio.page + first, nr_pages);
    let n: number;
    if (va) {
      const kaddr = va + (off - first * PAGE_SIZE);
      n = dir === TO ? copy_to_iter(kaddr, len, i) : copy_from_iter(kaddr, len, i);
      ops.put(va, nr_pages);
      if (n) {
        if (dir === TO) count_copy(NR_COPY_TO_ITER, NR_COPY_TO_ITER_BYTES, n);
        else count_copy(NR_COPY_FROM_ITER, NR_COPY_FROM_ITER_BYTES, n);
      }
    } else {
      count_vm_event(NR_EPHMAP_FALLBACK);
      if (trace_ephmap_fallback.enabled) trace_ephmap_fallback.emit({ variant: ops.name, pfn: folio.page + first, nr_pages });
      n = dir === TO ? copy_page_to_iter(folio.page, off, len, i, fsize) : copy_page_from_iter(folio.page, off, len, i, fsize);
    }
    migrate_enable();
    done += n;
    if (n < len) break;
  }
  return done;
}

function count_copy(item: number, bytes_item: number, n: number): void {
  count_vm_event(item);
  count_vm_events(bytes_item, n);
}

/** copy_folio_to_iter() through the ephmap= mapping (the read paths, when ephmap_wanted()). */
export function ephmap_copy_folio_to_iter(folio: Folio, offset: number, bytes: number, i: IovIter): number {
  return folio_map_copy(folio, offset, bytes, i, TO);
}

/** copy_folio_from_iter_atomic() through the ephmap= mapping (generic_perform_write, when ephmap_wanted()). */
export function ephmap_copy_folio_from_iter(folio: Folio, offset: number, bytes: number, i: IovIter): number {
  return folio_map_copy(folio, offset, bytes, i, FROM);
}
