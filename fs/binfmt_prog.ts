/*
 * fs/binfmt_prog.ts - the program image format: a file that names a registered program.
 *
 * No Linux counterpart as such: it takes the place of fs/binfmt_elf.c's
 * load_elf_binary() in search_binary_handler()'s list. A user program is a
 * generator function (DESIGN.md section 7), registered by name at run time
 * (Kernel.register_program(), which wraps it in nolibc's _start); the
 * executable on tmpfs holds PROG_MAGIC and that name
 * (include/uapi/linux/binfmts.ts), so a script builds a /bin as a build
 * system has one, and execve() finds the code through the file as Linux
 * finds an ELF's entry point through its header. A file that does not
 * start with the magic, or names no registered program, is -ENOEXEC.
 * The registry is per boot (exec_init()).
 */
import type { UserGenerator } from '../kernel/sched/task.ts';
import { ENOEXEC } from '../include/uapi/asm-generic/errno.ts';
import { PROG_MAGIC } from '../include/uapi/linux/binfmts.ts';

/** A program's entry point: called with the initial user stack pointer (argc, argv, envp, auxv). */
export type ProgEntry = (sp: number) => UserGenerator;

export const binfmt_prog_state = {
  entries: new Map<string, ProgEntry>(),
};

export function binfmt_prog_init(): void {
  binfmt_prog_state.entries = new Map();
}

/** Register (or replace) program `name`. */
export function register_prog(name: string, entry: ProgEntry): void {
  binfmt_prog_state.entries.set(name, entry);
}

/**
 * load_prog_binary()'s check of bprm->buf (the file's first bytes): the
 * entry point, or -ENOEXEC. Nothing is changed before it succeeds.
 */
export function prog_binary_entry(buf: Uint8Array): ProgEntry | number {
  for (let i = 0; i < PROG_MAGIC.length; i++) if (buf[i] !== PROG_MAGIC.charCodeAt(i)) return -ENOEXEC;
  let name = '';
  for (let i = PROG_MAGIC.length; i < buf.length && buf[i] !== 0 && buf[i] !== 0x0a; i++) name += String.fromCharCode(buf[i]);
  return binfmt_prog_state.entries.get(name) ?? -ENOEXEC;
}
