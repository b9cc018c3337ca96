/*
 * tools/testing/syz_descs.ts - the fuzzer's per-syscall descriptions: for
 * every row of arch/x86/entry/syscall_64.ts's table, the kind of each
 * argument, from which the generator draws valid values and the invalid
 * kinds of issue 17 (bad pointers: 0, kernel, non-canonical, unmapped,
 * read-only where the kernel writes; huge lengths; negative and closed
 * fds; bad flags; overlong and unterminated paths).
 *
 * No Linux counterpart in the kernel tree: syzkaller's sys/linux/*.txt
 * descriptions play this role (`read(fd fd, buf buffer[out], count len[buf])`).
 * Simplified: a handful of argument types, no resources beyond fds, no
 * structs beyond the iovec and timespec the generator places itself.
 * A test enumerates the syscall table and fails when a row has no entry
 * here, so a new syscall cannot go unfuzzed.
 */

/** The type of one argument, as the generator sees it. */
export type SyzArg =
  | 'fd'        // a file descriptor
  | 'ptr_in'    // user memory the kernel reads (write's buffer, nanosleep's timespec)
  | 'ptr_out'   // user memory the kernel writes (read's buffer, fstat's statbuf)
  | 'iov_in'    // a struct iovec array the kernel reads, buffers read from
  | 'iov_out'   // a struct iovec array, buffers written to
  | 'len'       // a byte or element count
  | 'off'       // a file offset
  | 'flags'     // a flag word (valid set per syscall below)
  | 'path'      // a NUL-terminated path string
  | 'pid'       // a process id (wait4)
  | 'int';      // any other integer (exit code, mode)

/** The invalid-argument kinds the fuzzer generates. */
export type SyzKind =
  | 'null_ptr' | 'kernel_ptr' | 'noncanonical_ptr' | 'unmapped_ptr' | 'readonly_ptr'
  | 'huge_len' | 'negative_fd' | 'closed_fd' | 'bad_flags' | 'long_path' | 'unterminated_path';

export interface SyzDesc {
  /** The arguments, in register order. */
  readonly args: readonly SyzArg[];
  /** Valid values for each 'flags' argument (in order of appearance). */
  readonly flags?: readonly (readonly number[])[];
  /** Invalid values for each 'flags' argument (bits Linux rejects). */
  readonly bad_flags?: readonly (readonly number[])[];
}

/* Which invalid kinds an argument type admits. */
const KINDS_OF: Readonly<Record<SyzArg, readonly SyzKind[]>> = {
  fd: ['negative_fd', 'closed_fd'],
  ptr_in: ['null_ptr', 'kernel_ptr', 'noncanonical_ptr', 'unmapped_ptr'],
  ptr_out: ['null_ptr', 'kernel_ptr', 'noncanonical_ptr', 'unmapped_ptr', 'readonly_ptr'],
  iov_in: ['null_ptr', 'kernel_ptr', 'noncanonical_ptr', 'unmapped_ptr'],
  iov_out: ['null_ptr', 'kernel_ptr', 'noncanonical_ptr', 'unmapped_ptr'],
  len: ['huge_len'],
  off: [],
  flags: ['bad_flags'],
  path: ['null_ptr', 'kernel_ptr', 'noncanonical_ptr', 'unmapped_ptr', 'long_path', 'unterminated_path'],
  pid: [],
  int: [],
};

/** The invalid kinds argument type `a` admits. */
export function syz_arg_kinds(a: SyzArg): readonly SyzKind[] {
  return KINDS_OF[a];
}

/** Every invalid kind a description lists (the union over its arguments). */
export function syz_desc_kinds(d: SyzDesc): SyzKind[] {
  const s = new Set<SyzKind>();
  for (const a of d.args) for (const k of KINDS_OF[a]) s.add(k);
  return [...s];
}

const O_FLAGS = [0, 1, 2, 0o100 | 2, 0o1000 | 2, 0o2000 | 1, 0o200000];
const O_BAD = [0o777777 | 0o20000000, 3, -1]; // O_ACCMODE 3, every bit, a negative word
const PROT = [1, 3, 0];
const PROT_BAD = [0x8, 0xff, -1];

/* The descriptions, by syscall name (the table's second column). */
export const syz_descs: Readonly<Record<string, SyzDesc>> = {
  read: { args: ['fd', 'ptr_out', 'len'] },
  write: { args: ['fd', 'ptr_in', 'len'] },
  open: { args: ['path', 'flags', 'int'], flags: [O_FLAGS], bad_flags: [O_BAD] },
  close: { args: ['fd'] },
  fstat: { args: ['fd', 'ptr_out'] },
  lseek: { args: ['fd', 'off', 'flags'], flags: [[0, 1, 2]], bad_flags: [[3, 5, 99, -1]] },
  mmap: {
    // MAP_PRIVATE / MAP_SHARED without MAP_ANONYMOUS map the fd (a tmpfs file, or a bad fd: -EBADF).
    args: ['ptr_in', 'len', 'flags', 'flags', 'fd', 'off'],
    flags: [PROT, [0x22, 0x21, 0x2, 0x1, 0x8001]],
    bad_flags: [PROT_BAD, [0x20, 0x23, 0x2f]], // no MAP_TYPE, both PRIVATE|SHARED, a bad type
  },
  mprotect: { args: ['ptr_in', 'len', 'flags'], flags: [PROT], bad_flags: [PROT_BAD] },
  munmap: { args: ['ptr_in', 'len'] },
  pread64: { args: ['fd', 'ptr_out', 'len', 'off'] },
  pwrite64: { args: ['fd', 'ptr_in', 'len', 'off'] },
  readv: { args: ['fd', 'iov_out', 'len'] },
  writev: { args: ['fd', 'iov_in', 'len'] },
  sched_yield: { args: [] },
  nanosleep: { args: ['ptr_in', 'ptr_out'] },
  getpid: { args: [] },
  clone: { args: ['flags'], flags: [[0]], bad_flags: [[0x00010000, 0x80000000, 0x00010000 | 0x00000800]] },
  exit: { args: ['int'] },
  wait4: { args: ['pid', 'ptr_out', 'flags'], flags: [[0, 1]], bad_flags: [[0x80, 0x7fffffff, -1]] },
  ftruncate: { args: ['fd', 'len'] },
  mkdir: { args: ['path', 'int'] },
  unlink: { args: ['path'] },
  gettid: { args: [] },
  exit_group: { args: ['int'] },
  openat: { args: ['fd', 'path', 'flags', 'int'], flags: [O_FLAGS], bad_flags: [O_BAD] },
  fallocate: { args: ['fd', 'flags', 'off', 'len'], flags: [[0, 1, 3]], bad_flags: [[2, 0x40, -1]] },
  // MS_ASYNC, MS_INVALIDATE, MS_SYNC; both ASYNC and SYNC, or an unknown bit, is -EINVAL.
  msync: { args: ['ptr_in', 'len', 'flags'], flags: [[0, 1, 2, 4, 6]], bad_flags: [[5, 8, -1]] },
  // Signals: only SIGUSR1/SIGUSR2 get actions and only signal 0 is sent, so a
  // fuzz program never kills another; rt_sigreturn without a frame is SIGSEGV.
  rt_sigaction: { args: ['flags', 'ptr_in', 'ptr_out', 'len'], flags: [[10, 12]], bad_flags: [[0, 65, 9, 19, -1]] },
  rt_sigprocmask: { args: ['flags', 'ptr_in', 'ptr_out', 'len'], flags: [[0, 1, 2]], bad_flags: [[3, 99, -1]] },
  rt_sigreturn: { args: [] },
  execve: { args: ['path', 'ptr_in', 'ptr_in'] },
  kill: { args: ['pid', 'flags'], flags: [[0]], bad_flags: [[65, 1000, -1]] },
  fcntl: { args: ['fd', 'flags', 'int'], flags: [[0, 1, 2, 3, 1030]], bad_flags: [[99, 1234, -1]] },
  tgkill: { args: ['pid', 'pid', 'flags'], flags: [[0]], bad_flags: [[65, 1000, -1]] },
};
