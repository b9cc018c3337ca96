/*
 * fs/fcntl.ts - fcntl(): the fd flag and the file status flags.
 *
 * Mirrors fs/fcntl.c's do_fcntl() for the commands tskernel models:
 * F_GETFD / F_SETFD (FD_CLOEXEC, the one fd flag, which execve() honours:
 * fs/exec.ts), F_GETFL (the open flags, O_CLOEXEC not among them: it is a
 * property of the fd, not of the open file), F_DUPFD and F_DUPFD_CLOEXEC
 * (the lowest free fd at or above arg, sharing the open file). -EBADF for
 * a closed fd, -EINVAL for an unknown command or a negative F_DUPFD base.
 * Simplified: F_SETFL, locks, leases, owners, pipes' sizes and seals are
 * not modelled (-EINVAL).
 */
import { current } from '../kernel/sched/core.ts';
import { fdget, task_files, fd_install_new, set_close_on_exec, close_on_exec } from './file.ts';
import { NR_OPEN_DEFAULT } from '../include/linux/fdtable.ts';
import { EBADF, EINVAL } from '../include/uapi/asm-generic/errno.ts';
import { F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, FD_CLOEXEC, O_CLOEXEC } from '../include/uapi/asm-generic/fcntl.ts';

/** fcntl(fd, cmd, arg). */
export function sys_fcntl(regs: readonly number[]): number {
  const [fd, cmd, arg] = regs;
  const files = task_files(current());
  const f = fdget(files, fd);
  if (!f || !files) return -EBADF;
  switch (cmd) {
    case F_GETFD:
      return close_on_exec(files, fd) ? FD_CLOEXEC : 0;
    case F_SETFD:
      set_close_on_exec(files, fd, (arg & FD_CLOEXEC) !== 0);
      return 0;
    case F_GETFL:
      return f.f_flags & ~O_CLOEXEC;
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      if (!Number.isInteger(arg) || arg < 0 || arg >= NR_OPEN_DEFAULT) return -EINVAL;
      const nfd = fd_install_new(files, f, cmd === F_DUPFD_CLOEXEC, arg);
      if (nfd >= 0) f.f_count++; // get_file()
      return nfd;
    }
    default:
      return -EINVAL;
  }
}
