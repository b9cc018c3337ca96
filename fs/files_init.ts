/*
 * fs/files_init.ts - wiring files into fork and exit.
 *
 * Mirrors copy_files() in kernel/fork.c and exit_files() in kernel/exit.c:
 * a thread made with CLONE_FILES shares its parent's table, any other child
 * gets a copy (dup_fd), a process the kernel starts gets the console on
 * 0, 1 and 2; exit drops the task's reference.
 */
import { fork_state, CLONE_FILES } from '../kernel/fork.ts';
import { exit_state } from '../kernel/exit.ts';
import { task_files, set_task_files, console_files, dup_fd, put_files_struct } from './file.ts';
import { read_write_init } from './read_write.ts';

export function files_init(): void {
  fork_state.copy_hooks.push((parent, child, flags) => {
    const pf = parent ? task_files(parent) : null;
    if (!pf) set_task_files(child, console_files());
    else if (flags & CLONE_FILES) {
      pf.count++;
      set_task_files(child, pf);
    } else set_task_files(child, dup_fd(pf));
    return 0;
  });
  exit_state.hooks.push((p) => {
    const f = task_files(p);
    if (f) {
      set_task_files(p, null);
      put_files_struct(f);
    }
  });
  read_write_init();
}
