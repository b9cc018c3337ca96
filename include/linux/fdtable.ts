/*
 * include/linux/fdtable.ts - struct files_struct: a task's open files.
 *
 * Mirrors include/linux/fdtable.h: a table from small integers to open
 * files, shared by threads made with CLONE_FILES (count). fs/file.ts
 * allocates, looks up and closes its slots.
 * Simplified: one flat array (Linux's struct fdtable with its open_fds
 * bitmap and RCU resize); close_on_exec is a parallel array of flags.
 */
import type { File } from './fs.ts';

/** NR_OPEN_DEFAULT: the most fds a task may have open (RLIMIT_NOFILE's 1024 here). */
export const NR_OPEN_DEFAULT = 1024;

/** struct files_struct. */
export class FilesStruct {
  readonly fd: (File | null)[] = [];
  /** close_on_exec: FD_CLOEXEC per fd (O_CLOEXEC, fcntl F_SETFD); unset slots read as false. */
  readonly close_on_exec: boolean[] = [];
  count = 1;
}

