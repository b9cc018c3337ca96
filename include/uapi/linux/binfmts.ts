/*
 * include/uapi/linux/binfmts.ts - execve()'s limits, and tskernel's program image header.
 *
 * Mirrors include/uapi/linux/binfmts.h (MAX_ARG_STRLEN, MAX_ARG_STRINGS,
 * BINPRM_BUF_SIZE). PROG_MAGIC has no Linux counterpart: it opens the
 * image format of fs/binfmt_prog.ts, which stands in for ELF (a program
 * here is a generator function registered by name, so the "binary" on
 * tmpfs only names it). prog_image() builds such a file's content.
 */
/** MAX_ARG_STRLEN: the longest argument or environment string, with its NUL (32 pages). */
export const MAX_ARG_STRLEN = 32 * 4096;
/** MAX_ARG_STRINGS: the most argv or envp entries. */
export const MAX_ARG_STRINGS = 0x7fffffff;
/** BINPRM_BUF_SIZE: how much of the file the formats look at. */
export const BINPRM_BUF_SIZE = 256;

/** The first four bytes of a program image ("\x7fPRG", as ELF's "\x7fELF"). */
export const PROG_MAGIC = '\x7fPRG';

/** The content of an image file naming registered program `name`: PROG_MAGIC, the name, a newline. */
export function prog_image(name: string): string {
  return `${PROG_MAGIC}${name}\n`;
}
