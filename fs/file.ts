/*
 * fs/file.ts - per-process fd tables, the last fput(), and the console.
 *
 * Mirrors fs/file.c (alloc_fd, close_fd, fdget/fdput) and
 * fs/file_table.c (fput); struct file is include/linux/fs.ts's, struct
 * files_struct include/linux/fdtable.ts's. A task's files_struct maps small
 * integers to open files; threads created with CLONE_FILES share it.
 * Every process starts with fds 0, 1, 2 on the console, a character device
 * whose output the kernel keeps (the emulator's serial console).
 * A file on a filesystem carries its path (a dentry reference, dropped by
 * __fput) and inode; its f_op reaches the page cache through read_iter /
 * write_iter, the console's through read / write.
 * Close-on-exec: __set_close_on_exec() per fd, unshare_files() and
 * do_close_on_exec() for execve (fs/exec.ts).
 * Simplified: no dup/dup2 (fcntl's F_DUPFD only), a fixed NR_OPEN_DEFAULT limit of
 * 1024 (RLIMIT_NOFILE), no file locking.
 */
import { COST_KEY_INDEX } from '../arch/x86/hw/costs.ts';
import type { TaskStruct } from '../kernel/sched/task.ts';
import { EBADF, EMFILE, EFAULT } from '../include/uapi/asm-generic/errno.ts';
import { this_cpu } from '../kernel/smp.ts';
import { copy_from_user } from '../arch/x86/lib/usercopy_64.ts';
import { File, FMODE_READ, FMODE_WRITE, type FileOperations } from '../include/linux/fs.ts';
import { FilesStruct, NR_OPEN_DEFAULT } from '../include/linux/fdtable.ts';
import { path_put } from './mount.ts';
import { ephmap_file_closed } from '../mm/ephmap.ts';
import { O_RDONLY, O_WRONLY } from '../include/uapi/asm-generic/fcntl.ts';

/* Cost-key indices as module locals: an imported binding is a getter under the TS loaders. */
const K_FDGET = COST_KEY_INDEX.fdget;
const K_KMEM_CACHE_FREE = COST_KEY_INDEX.kmem_cache_free;

export function task_files(p: TaskStruct): FilesStruct | null {
  return p.files;
}

export function set_task_files(p: TaskStruct, f: FilesStruct | null): void {
  p.files = f;
}

/** alloc_fd() + fd_install(): the lowest free fd at or above `start`, FD_CLOEXEC if asked (O_CLOEXEC). */
export function fd_install_new(files: FilesStruct, file: File, cloexec = false, start = 0): number {
  let fd = files.fd.indexOf(null, start);
  if (fd < 0) fd = Math.max(files.fd.length, start);
  if (fd >= NR_OPEN_DEFAULT) return -EMFILE;
  while (files.fd.length < fd) files.fd.push(null);
  files.fd[fd] = file;
  files.close_on_exec[fd] = cloexec;
  return fd;
}

/** __set_close_on_exec() / __clear_close_on_exec(). */
export function set_close_on_exec(files: FilesStruct, fd: number, flag: boolean): void {
  files.close_on_exec[fd] = flag;
}

/** close_on_exec(): FD_CLOEXEC is set on fd. */
export function close_on_exec(files: FilesStruct, fd: number): boolean {
  return files.close_on_exec[fd] === true;
}

/** unshare_files(): execve gets a table of its own if a CLONE_FILES sibling shares this one. */
export function unshare_files(files: FilesStruct): FilesStruct {
  if (files.count === 1) return files;
  const own = dup_fd(files);
  files.count--;
  return own;
}

/** do_close_on_exec(): close every fd marked FD_CLOEXEC. */
export function do_close_on_exec(files: FilesStruct): void {
  for (let fd = 0; fd < files.fd.length; fd++) {
    const f = files.fd[fd];
    if (!f || !files.close_on_exec[fd]) continue;
    files.fd[fd] = null;
    files.close_on_exec[fd] = false;
    fput(f);
  }
}

/** fdget(): the open file behind fd, or null. */
export function fdget(files: FilesStruct | null, fd: number): File | null {
  this_cpu().charge_one(K_FDGET);
  if (!files || !Number.isInteger(fd) || fd < 0 || fd >= files.fd.length) return null;
  return files.fd[fd];
}

/** fput(): the last reference runs __fput(): ->release, then the path goes (dput, iput). */
export function fput(file: File): void {
  if (--file.f_count !== 0) return;
  ephmap_file_closed(); // current's mm loses logical access to the file's pages
  file.f_op.release?.(file);
  if (file.f_path) this_cpu().charge_index(K_KMEM_CACHE_FREE); // file_free(): kmem_cache_free(filp_cachep) (not the console's static files)
  if (file.f_path) {
    const p = file.f_path;
    file.f_path = null;
    file.f_inode = null;
    path_put(p);
  }
}

/** close_fd(). */
export function close_fd(files: FilesStruct | null, fd: number): number {
  const f = fdget(files, fd);
  if (!f || !files) return -EBADF;
  files.fd[fd] = null;
  files.close_on_exec[fd] = false;
  fput(f);
  return 0;
}

/** put_files_struct(): the last user closes everything. */
export function put_files_struct(files: FilesStruct): void {
  if (--files.count > 0) return;
  for (let fd = 0; fd < files.fd.length; fd++) {
    const f = files.fd[fd];
    if (f) {
      files.fd[fd] = null;
      fput(f);
    }
  }
}

/** exit_files(): an exiting task drops its reference to its table (do_exit). */
export function exit_files(p: TaskStruct): void {
  const files = task_files(p);
  if (files) {
    set_task_files(p, null);
    put_files_struct(files);
  }
}

/* ---- the console: fds 0..2 ---- */

/*
 * What the console keeps: the last 1 MiB, as a terminal's scrollback
 * would. Unbounded, one write(1, buf, MAX_RW_COUNT) of a zero-page-backed
 * buffer would hold 2 GiB of host string (the fuzzer found it).
 */
export const CONSOLE_OUTPUT_MAX = 1 << 20;

export const console_state = {
  /** What was written to the console, in order: the last CONSOLE_OUTPUT_MAX characters or more. */
  output: '',
  /** Also echo to the host's stdout (npm start does). */
  echo: false,
  /** Kernel address of the bounce page. */
  bounce: 0,
};

/*
 * Console writes copy from the user buffer into a kernel bounce page with
 * copy_from_user() (the bytes cross the MMU as in any write), then the
 * "device" reads the bounce page.
 */
const BOUNCE = 4096;

export function console_init(bounce_kva: number): void {
  console_state.output = '';
  console_state.bounce = bounce_kva;
}

const console_fops: FileOperations = {
  read: () => 0, // EOF: no input
  write: (_f, buf, count) => {
    let done = 0;
    const host = new Uint8Array(BOUNCE);
    while (done < count) {
      const n = Math.min(count - done, BOUNCE);
      const left = copy_from_user(console_state.bounce, buf + done, n);
      const ok = n - left;
      this_cpu().read_bytes(console_state.bounce, host.subarray(0, ok));
      const s = String.fromCharCode(...host.subarray(0, ok));
      console_state.output += s;
      // Trimmed at twice the bound so the slice is amortised over many writes.
      if (console_state.output.length > 2 * CONSOLE_OUTPUT_MAX) console_state.output = console_state.output.slice(-CONSOLE_OUTPUT_MAX);
      if (console_state.echo) process.stdout.write(s);
      done += ok;
      if (left) return done ? done : -EFAULT;
    }
    return done;
  },
};

export function console_files(): FilesStruct {
  const files = new FilesStruct();
  files.fd.push(new File(console_fops, O_RDONLY, FMODE_READ));
  files.fd.push(new File(console_fops, O_WRONLY, FMODE_WRITE));
  files.fd.push(new File(console_fops, O_WRONLY, FMODE_WRITE));
  return files;
}

/** dup_fd(): a copy of the table, each open file shared (f_count++). */
export function dup_fd(old: FilesStruct): FilesStruct {
  const files = new FilesStruct();
  for (let fd = 0; fd < old.fd.length; fd++) {
    const f = old.fd[fd];
    if (f) f.f_count++;
    files.fd.push(f);
    files.close_on_exec.push(f !== null && old.close_on_exec[fd] === true);
  }
  return files;
}
