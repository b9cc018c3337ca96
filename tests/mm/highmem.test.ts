/*
 * tests/mm/highmem.test.ts - kmap_local_page() / kunmap_local(), direct and force_map.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel, in_kernel, run_one, pattern, __NR_kunit, kunit_activate_syscall_stub } from '../fs/helpers.ts';
import {
  kmap_local_page, kunmap_local, kmap_ctrl, kmap_local_slot_addr, highmem_state, KM_MAX_IDX, NR_KMAP_LOCAL_MAP,
} from '../../mm/highmem.ts';
import { FIX_KMAP_BEGIN, FIX_KMAP_END, __fix_to_virt } from '../../arch/x86/include/asm/fixmap.ts';
import { FIXADDR_TOP, MODULES_END } from '../../arch/x86/include/asm/pgtable_64_types.ts';
import { alloc_pages, __free_pages } from '../../mm/page_alloc.ts';
import { GFP_KERNEL } from '../../mm/gfp.ts';
import { page_address } from '../../mm/mm_types.ts';
import { this_cpu } from '../../kernel/smp.ts';
import { current, wake_up_process, find_task_by_pid } from '../../kernel/sched/core.ts';
import { TASK_INTERRUPTIBLE } from '../../kernel/sched/task.ts';
import { ERESTARTSYS } from '../../include/linux/errno.ts';
import { ptep_get, pte_none } from '../../arch/x86/mm/pgtable.ts';
import { copy_to_user } from '../../arch/x86/lib/usercopy_64.ts';
import { KernelPanic } from '../../kernel/panic.ts';
import { sum_vm_event } from '../../mm/vmstat.ts';
import { HW_INVLPG, HW_PAGE_FAULT } from '../../arch/x86/hw/events.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';

function page_with(data: Uint8Array): number {
  const pfn = alloc_pages(GFP_KERNEL, 0);
  if (pfn === null) throw new Error('no memory');
  this_cpu().write_bytes(page_address(pfn), data);
  return pfn;
}
function kread(addr: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  this_cpu().read_bytes(addr, out);
  return out;
}
function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
function slot_mapped(idx: number): boolean {
  const fix = idx + KM_MAX_IDX * this_cpu().id;
  return !pte_none(ptep_get(highmem_state.kmap_ptep[fix]));
}

describe('mm_highmem', () => {
  it('the fixmap kmap slots lie under FIXADDR_TOP, above the modules area', () => {
    /*
     *  FIXADDR_TOP  ff..7ff000   VSYSCALL_PAGE ... FIX_IO_APIC_BASE_END
     *               FIX_KMAP_BEGIN  (CPU 0 slot 0, highest)
     *               ...
     *               FIX_KMAP_END    (CPU NR_CPUS-1 slot 15, lowest)
     *  MODULES_END  ffffffffff000000
     */
    expect(__fix_to_virt(FIX_KMAP_BEGIN)).toBeLessThan(FIXADDR_TOP);
    expect(__fix_to_virt(FIX_KMAP_END)).toBeGreaterThanOrEqual(MODULES_END);
  });

  it('by default kmap_local_page() is the direct-map address and costs no TLB flush', () => {
    const k = start_kernel('mem=32M cpus=1');
    const r = in_kernel(k, () => {
      const pfn = page_with(pattern(4096, 1));
      const inv0 = this_cpu().ev[HW_INVLPG];
      const a = kmap_local_page(pfn);
      const ok = same(kread(a, 4096), pattern(4096, 1));
      kunmap_local(a);
      __free_pages(pfn, 0);
      return { direct: a === page_address(pfn), ok, invlpg: this_cpu().ev[HW_INVLPG] - inv0, migration: current().migration_disabled };
    });
    expect(r).toEqual({ direct: true, ok: true, invlpg: 0, migration: 0 });
    k.shutdown();
  });

  it('force_map: nesting to KM_MAX_IDX (16) works, the 17th is a BUG, unmapping flushes each slot', () => {
    const k = start_kernel('mem=32M cpus=2 kmap_local=force_map');
    const r = in_kernel(k, () => {
      const pages = Array.from({ length: KM_MAX_IDX + 1 }, (_, i) => page_with(pattern(4096, 100 + i)));
      const addrs = pages.slice(0, KM_MAX_IDX).map((p) => kmap_local_page(p));
      const slots_ok = addrs.every((a, i) => a === kmap_local_slot_addr(i) && a !== page_address(pages[i]));
      const data_ok = addrs.every((a, i) => same(kread(a, 4096), pattern(4096, 100 + i)));
      const migration = current().migration_disabled;
      let bug = '';
      try {
        kmap_local_page(pages[KM_MAX_IDX]);
      } catch (e) {
        bug = e instanceof KernelPanic ? e.reason : String(e);
      }
      current().migration_disabled--; // the failed map had disabled migration before it BUGged
      const inv0 = this_cpu().ev[HW_INVLPG];
      for (let i = KM_MAX_IDX - 1; i >= 0; i--) kunmap_local(addrs[i] + 123); // any address in the page
      const flushes = this_cpu().ev[HW_INVLPG] - inv0;
      const all_clear = addrs.every((_, i) => !slot_mapped(i));
      const after = { idx: kmap_ctrl(current()).idx, migration: current().migration_disabled };
      pages.forEach((p) => __free_pages(p, 0));
      return { slots_ok, data_ok, migration, bug, flushes, all_clear, after };
    });
    expect(r.slots_ok).toBe(true);
    expect(r.data_ok).toBe(true);
    expect(r.migration).toBe(KM_MAX_IDX);
    expect(r.bug).toMatch(/more than KM_MAX_IDX \(16\)/);
    expect(r.flushes).toBe(KM_MAX_IDX);
    expect(r.all_clear).toBe(true);
    expect(r.after).toEqual({ idx: 0, migration: 0 });
    expect(k.vmstat().nr_kmap_local_map).toBe(KM_MAX_IDX);
    k.shutdown(); // the fixmap page tables go back: the leak check passes
  });

  it('force_map: unmapping out of LIFO order is a BUG and leaves the stack intact', () => {
    const k = start_kernel('mem=32M cpus=1 kmap_local=force_map');
    const r = in_kernel(k, () => {
      const p1 = page_with(pattern(4096, 1));
      const p2 = page_with(pattern(4096, 2));
      const a = kmap_local_page(p1);
      const b = kmap_local_page(p2);
      let bug = '';
      try {
        kunmap_local(a);
      } catch (e) {
        bug = e instanceof KernelPanic ? e.reason : String(e);
      }
      const still = same(kread(a, 16), pattern(16, 1)) && same(kread(b, 16), pattern(16, 2));
      kunmap_local(b);
      kunmap_local(a);
      __free_pages(p1, 0);
      __free_pages(p2, 0);
      return { bug, still, idx: kmap_ctrl(current()).idx };
    });
    expect(r.bug).toMatch(/out of order.*strictly LIFO/);
    expect(r.still).toBe(true);
    expect(r.idx).toBe(0);
    k.shutdown();
  });

  it('force_map: a page fault taken inside a mapping leaves the slots as they were', () => {
    const k = start_kernel('mem=32M cpus=1 kmap_local=force_map');
    const r = in_kernel(k, (ubuf) => {
      const p1 = page_with(pattern(4096, 7));
      const p2 = page_with(pattern(4096, 8));
      const a = kmap_local_page(p1);
      const b = kmap_local_page(p2);
      const pf0 = this_cpu().ev[HW_PAGE_FAULT];
      const left = copy_to_user(ubuf, b, 4096); // ubuf was never touched: #PF, demand paging, retry
      const faults = this_cpu().ev[HW_PAGE_FAULT] - pf0;
      const intact = slot_mapped(0) && slot_mapped(1) && same(kread(a, 4096), pattern(4096, 7)) && same(kread(b, 4096), pattern(4096, 8));
      const out = new Uint8Array(4096);
      this_cpu().stac();
      this_cpu().read_bytes(ubuf, out);
      this_cpu().clac();
      kunmap_local(b);
      kunmap_local(a);
      __free_pages(p1, 0);
      __free_pages(p2, 0);
      return { left, faults, intact, copied: same(out, pattern(4096, 8)) };
    });
    expect(r).toEqual({ left: 0, faults: 1, intact: true, copied: true });
    k.shutdown();
  });

  it('force_map: a context switch saves and restores the slots; the other task sees its own page', () => {
    /*
     *  CPU 0:  A maps pA0, pA1 (slots 0, 1) and sleeps in the kernel
     *          -> sched_out clears both slots (INVLPG each)
     *          B runs: slots empty; B maps pB at slot 0 (same VA as A's slot 0),
     *          reads pB (not a stale pA0), unmaps, wakes A
     *          -> sched_in re-installs A's slots; A reads pA0, pA1 again
     */
    const k = start_kernel('mem=32M cpus=1 kmap_local=force_map');
    const rec: Record<string, unknown> = {};
    let a_pid = 0;
    const key = {};
    kunit_activate_syscall_stub(__NR_kunit, () => {
      const p = current();
      a_pid = p.pid;
      const pa0 = page_with(pattern(4096, 10));
      const pa1 = page_with(pattern(4096, 11));
      const a0 = kmap_local_page(pa0);
      const a1 = kmap_local_page(pa1);
      rec.a_before = same(kread(a0, 4096), pattern(4096, 10)) && same(kread(a1, 4096), pattern(4096, 11));
      rec.a_cpu = this_cpu().id;
      let slept = false;
      const cont = (): number => {
        if (!slept) {
          slept = true;
          p.state = TASK_INTERRUPTIBLE;
          p.wait = { kind: 'event', key };
          return -ERESTARTSYS;
        }
        rec.a_after = same(kread(a0, 4096), pattern(4096, 10)) && same(kread(a1, 4096), pattern(4096, 11));
        rec.a_after_cpu = this_cpu().id;
        kunmap_local(a1);
        kunmap_local(a0);
        __free_pages(pa0, 0);
        __free_pages(pa1, 0);
        return 0;
      };
      p.resume = cont;
      return cont();
    });
    kunit_activate_syscall_stub(__NR_kunit + 1, () => {
      rec.b_sees_empty = !slot_mapped(0) && !slot_mapped(1);
      const pb = page_with(pattern(4096, 20));
      const b0 = kmap_local_page(pb);
      rec.b_same_va = b0 === kmap_local_slot_addr(0);
      rec.b_own = same(kread(b0, 4096), pattern(4096, 20));
      kunmap_local(b0);
      __free_pages(pb, 0);
      const a = find_task_by_pid(a_pid);
      if (a) wake_up_process(a);
      return 0;
    });
    k.spawn('A', function* (u: Nolibc) { return yield* u.syscall(__NR_kunit); });
    k.spawn('B', function* (u: Nolibc) {
      yield* u.sched_yield();
      return yield* u.syscall(__NR_kunit + 1);
    });
    const r = k.run();
    expect(r.exited.map((e) => e.status)).toEqual([0, 0]);
    expect(rec).toEqual({ a_before: true, a_cpu: 0, b_sees_empty: true, b_same_va: true, b_own: true, a_after: true, a_after_cpu: 0 });
    k.shutdown();
  });

  it('force_map: a tmpfs read maps each page once and flushes it once', () => {
    const k = start_kernel('mem=32M cpus=1 kmap_local=force_map');
    let maps = 0;
    const status = run_one(k, function* (u) {
      const b = yield* u.mmap(0, 4 * 4096, 3, 0x22);
      const fd = yield* u.open('/f', 0o102, 0o644);
      u.poke(b, pattern(3 * 4096, 3));
      if ((yield* u.write(fd, b, 3 * 4096)) !== 3 * 4096) return 1;
      const m0 = sum_vm_event(NR_KMAP_LOCAL_MAP);
      if ((yield* u.pread64(fd, b + 4096, 3 * 4096, 0)) !== 3 * 4096) return 2;
      maps = sum_vm_event(NR_KMAP_LOCAL_MAP) - m0;
      return same(u.peek(b + 4096, 3 * 4096), pattern(3 * 4096, 3)) ? 0 : 3;
    });
    expect(status).toBe(0);
    expect(maps).toBe(3);
    k.shutdown();
  });
});
