/*
 * fs/exec.ts - execve(): a new program image in the calling process.
 *
 * Mirrors fs/exec.c: do_execveat_common() takes the name (getname), opens
 * the file for execution (do_open_execat: a regular file with an execute
 * bit, else -EACCES; lookup errors as open's, -ENOENT, -ENOTDIR), makes the
 * new mm (bprm_mm_init -> mm_alloc), counts and copies argv and envp from
 * the caller's memory (count(): -EFAULT for a bad pointer, -E2BIG past
 * MAX_ARG_STRLEN or the stack's quarter, _STK_LIM / 4), reads the file's
 * first BINPRM_BUF_SIZE bytes through the page cache (prepare_binprm ->
 * kernel_read) and asks the formats (search_binary_handler; one format
 * here, fs/binfmt_prog.ts: -ENOEXEC if it does not recognise the file).
 * Nothing has changed up to this point. Then begin_new_exec(), the point
 * of no return: de_thread() ends the other threads, exec_mmap() makes the
 * new mm current and drops the old one with mmput() (its page tables,
 * pages and ASI domain go), unshare_files() + do_close_on_exec() close the
 * O_CLOEXEC / FD_CLOEXEC fds, flush_signal_handlers() resets handled
 * signals to SIG_DFL, __set_task_comm() takes the file's basename;
 * setup_arg_pages() maps the stack below STACK_TOP and create_table() lays
 * out argc, argv[], envp[] and the auxiliary vector above the strings;
 * start_thread() points the task at the program's entry with that sp.
 *
 * Differences: Linux's copy_strings() writes the strings into the new
 * mm's stack pages (get_arg_page + kmap) before the point of no return;
 * here they are read from the old mm first (every -EFAULT / -E2BIG is
 * found there, as in Linux) and written through the new mm's user
 * mappings with copy_to_user() once it is current, from a kernel bounce
 * page. A failure there (out of memory) is past the point of no return
 * and kills the task with SIGSEGV, as Linux's force_fatal_sig() does.
 * The stack is one 8 MiB VMA (RLIMIT_STACK), demand-paged, with no
 * VM_GROWSDOWN and no randomisation. No noexec mounts, no setuid, no
 * binfmt_misc or #! scripts, no mm->exe_file.
 */
import type { TaskStruct } from '../kernel/sched/task.ts';
import { current } from '../kernel/sched/core.ts';
import { this_cpu } from '../kernel/smp.ts';
import type { MmStruct } from '../mm/mm_struct.ts';
import { mm_alloc } from '../kernel/fork.ts';
import { mmput, zap_other_threads } from '../kernel/exit.ts';
import { do_mmap } from '../mm/mmap.ts';
import { switch_mm_irqs_off } from '../arch/x86/mm/tlb.ts';
import { __get_free_pages, free_pages } from '../mm/page_alloc.ts';
import { GFP_KERNEL } from '../mm/gfp.ts';
import { get_user_u64, copy_to_user, strncpy_from_user, put_user_u64 } from '../arch/x86/lib/usercopy_64.ts';
import { getname, filename_lookup } from './namei.ts';
import { path_put } from './mount.ts';
import { vfs_open } from './open.ts';
import { fput, task_files, unshare_files, do_close_on_exec } from './file.ts';
import { S_ISREG, Kiocb, type File } from '../include/linux/fs.ts';
import { IovIter, ITER_DEST } from '../include/linux/uio.ts';
import { iov_iter_kvec } from '../lib/iov_iter.ts';
import { AT_FDCWD, O_RDONLY } from '../include/uapi/linux/fcntl.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED_NOREPLACE } from '../include/uapi/linux/mman.ts';
import { E2BIG, EACCES, EFAULT, EEXIST, ENOMEM, ENAMETOOLONG } from '../include/uapi/asm-generic/errno.ts';
import { DEFAULT_MAP_WINDOW } from '../arch/x86/include/asm/page_64_types.ts';
import { MAX_ARG_STRLEN, BINPRM_BUF_SIZE } from '../include/uapi/linux/binfmts.ts';
import { prog_binary_entry, binfmt_prog_init, type ProgEntry } from './binfmt_prog.ts';
import { flush_signal_handlers, recalc_sigpending, force_sigsegv } from '../kernel/signal.ts';

/** STACK_TOP: TASK_SIZE_LOW, the top of the user stack (no randomisation). */
export const STACK_TOP = DEFAULT_MAP_WINDOW;
/** The stack VMA's size: RLIMIT_STACK's default, 8 MiB (_STK_LIM). */
export const STACK_SIZE = 8 * 2 ** 20;
/** The most argv + envp may take on the stack: a quarter of the stack limit (bprm->argmin / ARG_MAX). */
export const ARG_MAX = STACK_SIZE / 4;

/* The auxiliary vector's entries (include/uapi/linux/auxvec.h). */
const AT_NULL = 0;
const AT_PAGESZ = 6;
const AT_EXECFN = 31;

/** exec_init(): every boot starts with no registered program. */
export function exec_init(): void {
  binfmt_prog_init();
}

/** struct linux_binprm: what execve() gathers before the point of no return. */
interface LinuxBinprm {
  filename: string;
  file: File;
  mm: MmStruct;
  argv: string[];
  envp: string[];
  entry: ProgEntry | null;
}

/*
 * setup_arg_pages()'s VMA: the stack below STACK_TOP; for a second stack in
 * the same mm (a thread's, made for its first signal frame) anywhere free.
 * Returns the stack's top, or -errno.
 */
export function exec_setup_stack(mm: MmStruct): number {
  const prot = PROT_READ | PROT_WRITE;
  let start = do_mmap(mm, STACK_TOP - STACK_SIZE, STACK_SIZE, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (start === -EEXIST) start = do_mmap(mm, 0, STACK_SIZE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return start < 0 ? start : start + STACK_SIZE;
}

/** do_open_execat(): the file, opened for reading, if it is a regular file with an execute bit. */
function do_open_execat(dfd: number, name: string): File | number {
  const path = filename_lookup(dfd, name, 0);
  if (typeof path === 'number') return path;
  const inode = path.dentry.d_inode;
  // may_open(MAY_EXEC) and the S_ISREG check: directories and files without x are -EACCES.
  if (!inode || !S_ISREG(inode.i_mode) || !(inode.i_mode & 0o111)) {
    path_put(path);
    return -EACCES;
  }
  const file = vfs_open(path, O_RDONLY);
  path_put(path);
  return file;
}

/**
 * count() + copy_strings(): the NULL-terminated array of string pointers at
 * `uptr` (0: none), read from the caller's memory. `room` is what is left
 * of ARG_MAX; returns the strings or -EFAULT / -E2BIG.
 */
function copy_strings_from_user(uptr: number, room: { left: number }): string[] | number {
  const out: string[] = [];
  if (!uptr) return out;
  for (let i = 0; ; i++) {
    const p = get_user_u64(uptr + i * 8);
    if (p < 0) return -EFAULT;
    if (p === 0) return out;
    room.left -= 8; // the pointer on the new stack
    const s = strncpy_from_user(p, MAX_ARG_STRLEN);
    if (s === -ENAMETOOLONG) return -E2BIG;
    if (typeof s === 'number') return s;
    room.left -= s.length + 1;
    if (room.left < 0) return -E2BIG;
    out.push(s);
  }
}

/** kernel_read(): the file's first bytes, through ->read_iter into a kernel buffer (ITER_KVEC). */
function kernel_read_header(file: File): Uint8Array | number {
  const read_iter = file.f_op.read_iter;
  if (!read_iter) return -EACCES;
  const kbuf = __get_free_pages(GFP_KERNEL, 0);
  if (!kbuf) return -ENOMEM;
  const kiocb = new Kiocb(file);
  const iter = new IovIter();
  iov_iter_kvec(iter, ITER_DEST, [{ iov_base: kbuf, iov_len: BINPRM_BUF_SIZE }], 1, BINPRM_BUF_SIZE);
  const n = read_iter(kiocb, iter);
  const buf = new Uint8Array(BINPRM_BUF_SIZE);
  if (n > 0) this_cpu().read_bytes(kbuf, buf.subarray(0, n));
  free_pages(kbuf, 0);
  return n < 0 ? n : buf;
}

/** exec_mmap(): the new mm becomes current; the old one is dropped (mmput: its last user tears it down). */
function exec_mmap(p: TaskStruct, mm: MmStruct): void {
  const old = p.mm;
  p.mm = mm;
  p.active_mm = mm;
  switch_mm_irqs_off(mm);
  if (old) mmput(old);
}

/*
 * The strings, then the tables, written on the new stack through the user
 * mappings (create_table()). Returns the initial sp, or -errno.
 */
function create_table(bprm: LinuxBinprm, top: number): number {
  const strings = [...bprm.argv, ...bprm.envp, bprm.filename];
  const bytes = strings.reduce((n, s) => n + s.length + 1, 0);
  const str_base = top - 8 - bytes; // an 8-byte end marker above the strings, as Linux leaves
  const bounce = __get_free_pages(GFP_KERNEL, 0);
  if (!bounce) return -ENOMEM;
  const addrs: number[] = [];
  let at = str_base;
  let err = 0;
  for (const s of strings) {
    addrs.push(at);
    for (let off = 0; off <= s.length && !err; off += 4096) {
      const n = Math.min(4096, s.length + 1 - off);
      const chunk = new Uint8Array(n);
      for (let i = 0; i < n; i++) chunk[i] = off + i < s.length ? s.charCodeAt(off + i) & 0xff : 0;
      this_cpu().write_bytes(bounce, chunk);
      if (copy_to_user(at + off, bounce, n)) err = -EFAULT;
    }
    at += s.length + 1;
  }
  free_pages(bounce, 0);
  if (err) return err;
  const argc = bprm.argv.length;
  const envc = bprm.envp.length;
  const auxv = [AT_PAGESZ, 4096, AT_EXECFN, addrs[addrs.length - 1], AT_NULL, 0];
  const words = [argc, ...addrs.slice(0, argc), 0, ...addrs.slice(argc, argc + envc), 0, ...auxv];
  const sp = Math.floor((str_base - words.length * 8) / 16) * 16; // 16-byte aligned at the entry, as the ABI wants
  for (let i = 0; i < words.length; i++) if (put_user_u64(sp + i * 8, words[i]) < 0) return -EFAULT;
  return sp;
}

/** __set_task_comm(): the file's basename, at most TASK_COMM_LEN - 1 (15) characters. */
function exec_comm(filename: string): string {
  const base = filename.slice(filename.lastIndexOf('/') + 1);
  return base.slice(0, 15);
}

/*
 * begin_new_exec() to start_thread(): the point of no return is passed on
 * entry. Returns 0; a failure from here on kills the task.
 */
function begin_new_exec(p: TaskStruct, bprm: LinuxBinprm): number {
  zap_other_threads(p); // de_thread()
  exec_mmap(p, bprm.mm);
  const files = task_files(p);
  if (files) {
    const own = unshare_files(files);
    p.files = own;
    do_close_on_exec(own);
  }
  flush_signal_handlers(p);
  p.comm = exec_comm(bprm.filename);
  p.resume = null;
  const top = exec_setup_stack(bprm.mm);
  const sp = top < 0 ? top : create_table(bprm, top);
  if (sp < 0 || !bprm.entry) {
    // force_fatal_sig(SIGSEGV): no image to return to.
    p.gen = null;
    force_sigsegv(p);
    return 0;
  }
  p.user_sp = sp; // start_thread(regs, entry, sp)
  p.gen = bprm.entry(sp);
  recalc_sigpending(p);
  return 0;
}

/** do_execveat_common(fd, filename, argv, envp). */
export function do_execveat_common(dfd: number, filename: number, argv: number, envp: number): number {
  const name = getname(filename);
  if (typeof name === 'number') return name;
  const p = current();
  const file = do_open_execat(dfd, name);
  if (typeof file === 'number') return file;
  const mm = mm_alloc(exec_comm(name)); // bprm_mm_init()
  const fail = (err: number): number => {
    if (mm) mmput(mm);
    fput(file);
    return err;
  };
  if (!mm) return fail(-ENOMEM);
  const room = { left: ARG_MAX };
  const args = copy_strings_from_user(argv, room);
  if (typeof args === 'number') return fail(args);
  const env = copy_strings_from_user(envp, room);
  if (typeof env === 'number') return fail(env);
  // Since Linux 5.18 an empty argv gets an empty argv[0], so argv[0] always exists.
  if (args.length === 0) args.push('');
  room.left -= name.length + 1;
  if (room.left < 0) return fail(-E2BIG);
  const buf = kernel_read_header(file); // prepare_binprm()
  if (typeof buf === 'number') return fail(buf);
  const entry = prog_binary_entry(buf); // search_binary_handler()
  if (typeof entry === 'number') return fail(entry);
  fput(file);
  return begin_new_exec(p, { filename: name, file, mm, argv: args, envp: env, entry });
}

/** execve(filename, argv, envp). */
export function sys_execve(regs: readonly number[]): number {
  return do_execveat_common(AT_FDCWD, regs[0], regs[1], regs[2]);
}
