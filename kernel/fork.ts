/*
 * kernel/fork.ts - creating tasks and address spaces.
 *
 * Mirrors kernel/fork.c: mm_alloc() / mm_init() (a PGD from pgd_alloc()
 * with init_mm's kernel half, a fresh context via init_new_context()),
 * kernel_clone() / copy_process(); mm_init() makes the mm's ASI domains
 * (asi_init_mm_state()). With CLONE_VM the child shares the
 * parent's mm (a thread: mm_users++, same tgid). Without it copy_mm()
 * calls dup_mm(): a new mm whose dup_mmap() copies every VMA
 * (vm_area_dup, the file reference and i_mmap link with it) and, through
 * copy_page_range(), the present PTEs of private mappings, write-protected
 * on both sides for copy-on-write (mm/memory.ts). The parent's PTEs change
 * under CPUs that may cache them writable, so dup_mmap() marks a flush
 * pending (inc_tlb_flush_pending) while it copies and ends with one
 * flush_tlb_mm() of the parent, as Linux does. A process the kernel starts
 * (no parent, or a parent without an mm) gets a fresh, empty mm. The
 * child runs the program it was given (tskernel's programs are
 * generators, which cannot be duplicated), on the copied address space.
 * copy_files(): a thread made with CLONE_FILES shares its parent's fd
 * table, any other child gets a copy (dup_fd), and a process the kernel
 * starts (no parent) gets the console on 0, 1 and 2.
 * A "function pointer" passed to clone() is a handle from
 * register_user_fn(), the user program's text address in this model.
 */
import { TaskStruct, type UserGenerator } from './sched/task.ts';
import { alloc_pid, wake_up_new_task } from './sched/core.ts';
import { MmStruct, init_mm, init_new_context } from '../mm/mm_struct.ts';
import { MmLayout } from '../include/linux/mm_types.ts';
import { pgd_alloc } from '../arch/x86/mm/pgalloc.ts';
import { pti_state } from '../arch/x86/mm/pti.ts';
import { ephmap_setup } from '../mm/ephmap.ts';
import { task_files, set_task_files, console_files, dup_fd } from '../fs/file.ts';
import { EINVAL, ENOMEM } from '../include/uapi/asm-generic/errno.ts';
import { asi_init_mm_state } from '../mm/asi.ts';
import { pgd_free } from '../arch/x86/mm/pgalloc.ts';
import { copy_page_range } from '../mm/memory.ts';
import { mm_layout, vm_area_dup, vma_link } from '../mm/mmap.ts';
import { inc_tlb_flush_pending, dec_tlb_flush_pending, flush_tlb_mm } from '../mm/mmu_gather.ts';
import { mmput } from './exit.ts';
import { copy_process_signals } from './signal.ts';

import { CSIGNAL, CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND, CLONE_THREAD } from '../include/uapi/linux/sched.ts';

const CLONE_SUPPORTED = CSIGNAL | CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;

/** A program's entry: called once, in the new task, to start its generator. */
export type UserProgram = () => UserGenerator;

export const fork_state = {
  user_fns: [] as UserProgram[],
};

export function fork_init(): void {
  fork_state.user_fns = [];
}

/** The "address" of a user function, for clone(). */
export function register_user_fn(fn: UserProgram): number {
  fork_state.user_fns.push(fn);
  return fork_state.user_fns.length; // never 0
}

/** mm_alloc(): a new, empty user address space, or null on -ENOMEM. */
export function mm_alloc(name: string): MmStruct | null {
  const mm = new MmStruct(name);
  mm.pgd = pgd_alloc(init_mm().pgd, pti_state.enabled);
  if (!mm.pgd) return null;
  // mm_init(): the mm's restricted address spaces.
  if (asi_init_mm_state(mm) < 0) {
    pgd_free(mm.pgd, pti_state.enabled);
    return null;
  }
  init_new_context(mm);
  mm.layout = new MmLayout();
  ephmap_setup(mm); // the mm-local region's tables, so ephmap_get() never allocates
  return mm;
}

/**
 * dup_mmap(): copy `oldmm`'s VMAs and private PTEs into `mm`. 0 or
 * -ENOMEM (the caller drops the half-built mm, which frees what was
 * copied). The parent's write-protected PTEs are flushed once at the end.
 */
function dup_mmap(mm: MmStruct, oldmm: MmStruct): number {
  const ol = mm_layout(oldmm);
  const nl = mm_layout(mm);
  nl.mmap_base = ol.mmap_base;
  inc_tlb_flush_pending(oldmm);
  let err = 0;
  for (const mpnt of ol.vmas) {
    const tmp = vm_area_dup(mpnt);
    vma_link(mm, tmp);
    if (copy_page_range(mm, tmp, oldmm, mpnt) < 0) {
      err = -ENOMEM;
      break;
    }
  }
  flush_tlb_mm(oldmm);
  dec_tlb_flush_pending(oldmm);
  return err;
}

/** dup_mm(): a copy of `oldmm` for a child, or null on -ENOMEM. */
export function dup_mm(oldmm: MmStruct, name: string): MmStruct | null {
  const mm = mm_alloc(name);
  if (!mm) return null;
  if (dup_mmap(mm, oldmm) < 0) {
    mmput(mm);
    return null;
  }
  return mm;
}

/** copy_files(): the child's fd table, shared, copied, or the console's. 0 or -errno. */
function copy_files(clone_flags: number, parent: TaskStruct | null, tsk: TaskStruct): number {
  const oldf = parent ? task_files(parent) : null;
  if (!oldf) set_task_files(tsk, console_files());
  else if (clone_flags & CLONE_FILES) {
    oldf.count++;
    set_task_files(tsk, oldf);
  } else set_task_files(tsk, dup_fd(oldf));
  return 0;
}

/**
 * kernel_clone(): a new task running `program`. Returns the child or an
 * errno (negative number).
 */
export function kernel_clone(flags: number, program: UserProgram, comm: string, parent: TaskStruct | null): TaskStruct | number {
  if (flags & ~CLONE_SUPPORTED) return -EINVAL;
  if ((flags & CLONE_THREAD) && !(flags & CLONE_VM)) return -EINVAL;
  let mm: MmStruct;
  if (flags & CLONE_VM) {
    if (!parent || !parent.mm) return -EINVAL;
    mm = parent.mm;
    mm.mm_users++;
  } else {
    // copy_mm(): fork's copy-on-write copy of the parent's address space.
    const m = parent && parent.mm ? dup_mm(parent.mm, comm) : mm_alloc(comm);
    if (!m) return -ENOMEM;
    mm = m;
  }
  const p = new TaskStruct(alloc_pid(), comm, mm);
  if (flags & CLONE_THREAD && parent) p.tgid = parent.tgid;
  p.parent = parent;
  if (parent) parent.children.push(p);
  const r = copy_files(flags, parent, p);
  if (r < 0) return r; // (a full kernel would unwind here; copy_files fails before allocating)
  copy_process_signals(flags, parent, p); // copy_sighand(), copy_signal(), exit_signal
  p.gen = program();
  p.in_syscall = true; // a new task leaves the kernel through ret_from_fork
  wake_up_new_task(p);
  return p;
}
