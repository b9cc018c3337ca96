/*
 * fs/proc/cmdline.ts - /proc/cmdline.
 *
 * Mirrors fs/proc/cmdline.c: the command line the kernel booted with
 * (saved_command_line, verbatim) and a newline.
 */
import { seq_printf, type SeqFile } from '../seq_file.ts';
import { proc_create_single } from './generic.ts';

export const proc_cmdline_state = {
  /** saved_command_line, kept by proc_root_init() at boot. */
  saved_command_line: '',
};

function cmdline_proc_show(m: SeqFile<object>): number {
  seq_printf(m, proc_cmdline_state.saved_command_line + '\n');
  return 0;
}

/** proc_cmdline_init(). */
export function proc_cmdline_init(saved_command_line: string): void {
  proc_cmdline_state.saved_command_line = saved_command_line;
  proc_create_single('cmdline', 0, null, cmdline_proc_show);
}
