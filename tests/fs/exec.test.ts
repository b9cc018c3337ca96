/*
 * tests/fs/exec.test.ts - execve(): the new image, its argv and envp, the
 * old mm dropped, close-on-exec, signal actions reset, and Linux's errno
 * (KUnit-style suites fs_exec_*).
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../init/main.ts';
import { type Nolibc, WEXITSTATUS, WTERMSIG } from '../../tools/include/nolibc.ts';
import { O_RDONLY, O_RDWR, O_CREAT, O_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_DUPFD, F_DUPFD_CLOEXEC, FD_CLOEXEC } from '../../include/uapi/asm-generic/fcntl.ts';
import { ENOENT, EACCES, ENOEXEC, EFAULT, E2BIG, ENOTDIR, EBADF, EINVAL } from '../../include/uapi/asm-generic/errno.ts';
import { SIGUSR1, SIGUSR2, SIG_IGN, SIGCHLD, SIG_BLOCK } from '../../include/uapi/asm-generic/signal.ts';
import { MAX_ARG_STRLEN } from '../../include/uapi/linux/binfmts.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../include/uapi/linux/mman.ts';
import { drain_all_pages } from '../../mm/page_alloc.ts';

function boot(extra = '') {
  return start_kernel(`mem=64M cpus=2 seed=1 ${extra}`);
}

describe('fs_exec_image', () => {
  it('the new image sees its argv and envp, keeps its pid, takes the file name as comm, and its exit status reaches wait4', () => {
    const k = boot();
    let seen: { argv: string[]; envp: string[]; pid: number } | null = null;
    k.register_program('cc1', function* (u: Nolibc, argv: string[], envp: string[]) {
      seen = { argv, envp, pid: yield* u.getpid() };
      return 3;
    });
    let child = 0;
    let status = -1;
    k.spawn('make', function* (u: Nolibc) {
      expect(yield* u.mkdir('/bin')).toBe(0);
      expect(yield* u.install('/bin/cc1', 'cc1')).toBe(0);
      child = yield* u.clone(SIGCHLD, function* (c: Nolibc) {
        const r = yield* c.execve('/bin/cc1', ['cc1', '-O2', 'init/main.c'], ['PATH=/bin', 'KBUILD=1']);
        return 100 + -r; // only reached on failure
      });
      const [w, st] = yield* u.waitpid(child);
      expect(w).toBe(child);
      status = st;
      return 0;
    });
    const r = k.run();
    expect(r.reason).toBe('done');
    expect(seen).toEqual({ argv: ['cc1', '-O2', 'init/main.c'], envp: ['PATH=/bin', 'KBUILD=1'], pid: child });
    expect(WEXITSTATUS(status)).toBe(3);
    k.shutdown();
  });

  it('an empty argv gets an empty argv[0]; exec replaces the address space (the old mm\'s pages all come back)', () => {
    const k = boot('asi=on');
    drain_all_pages();
    const free0 = k.vmstat().nr_free_pages;
    let argv_seen: string[] = [];
    let comm = '';
    let old_mapping_gone = false;
    k.register_program('ld', function* (u: Nolibc, argv: string[]) {
      argv_seen = argv;
      // The old image's mapping is gone: touching it faults (a SIGSEGV handler would say so).
      const r = yield* u.munmap(0x10000000, 4096);
      old_mapping_gone = r === 0;
      return 0;
    });
    k.spawn('sh', function* (u: Nolibc) {
      const a = yield* u.mmap(0x10000000, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | 0x10);
      for (let i = 0; i < 64; i++) u.poke32(a + i * 4096, i);
      yield* u.install('/ld', 'ld');
      yield* u.execve('/ld', []);
      return 1;
    });
    const r = k.run();
    comm = r.exited[0].comm;
    expect(r.exited[0].status).toBe(0);
    expect(argv_seen).toEqual(['']);
    expect(comm).toBe('ld');
    expect(old_mapping_gone).toBe(true);
    drain_all_pages();
    expect(free0 - k.vmstat().nr_free_pages).toBeLessThan(16); // page cache of /ld and the dentries only
    k.shutdown();
  });
});

describe('fs_exec_de_thread', () => {
  it('execve from a threaded process ends the other threads (de_thread) and frees the old mm once they are gone', () => {
    const k = boot('asi=on');
    drain_all_pages();
    const free0 = k.vmstat().nr_free_pages;
    let ran = false;
    k.register_program('solo', function* (u: Nolibc) {
      ran = true;
      yield* u.nanosleep(1e6);
      return 5;
    });
    k.spawn('threaded', function* (u: Nolibc) {
      yield* u.install('/solo', 'solo');
      const b = yield* u.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      u.poke32(b, 0);
      for (let i = 0; i < 2; i++) {
        yield* u.clone(0x100 | 0x400 | 0x800 | 0x10000, function* (t: Nolibc) {
          t.poke32(b, t.peek32(b) + 1);
          for (;;) yield* t.sched_yield();
        });
      }
      while (u.peek32(b) < 2) yield* u.sched_yield();
      yield* u.execve('/solo', ['solo']);
      return 1;
    });
    const r = k.run();
    expect(r.reason).toBe('done');
    expect(ran).toBe(true);
    const main = r.exited.find((e) => e.comm === 'solo');
    expect(main?.status).toBe(5);
    drain_all_pages();
    expect(free0 - k.vmstat().nr_free_pages).toBeLessThan(16);
    k.shutdown();
  });
});

describe('fs_exec_cloexec', () => {
  it('O_CLOEXEC and FD_CLOEXEC fds are closed by execve, the others stay open; fcntl reads and sets the flag', () => {
    const k = boot();
    const got: Record<string, number> = {};
    k.register_program('child', function* (u: Nolibc) {
      got.kept = yield* u.fcntl(3, F_GETFD);
      got.cloexec_open = yield* u.fcntl(4, F_GETFD);
      got.cloexec_setfd = yield* u.fcntl(5, F_GETFD);
      got.kept_fl = yield* u.fcntl(3, F_GETFL);
      return 0;
    });
    k.spawn('p', function* (u: Nolibc) {
      yield* u.install('/child', 'child');
      const a = yield* u.open('/a', O_RDWR | O_CREAT);
      const b = yield* u.open('/b', O_RDWR | O_CREAT | O_CLOEXEC);
      const c = yield* u.open('/c', O_RDWR | O_CREAT);
      expect([a, b, c]).toEqual([3, 4, 5]);
      got.b_flag = yield* u.fcntl(b, F_GETFD);
      got.c_flag0 = yield* u.fcntl(c, F_GETFD);
      got.setfd = yield* u.fcntl(c, F_SETFD, FD_CLOEXEC);
      got.c_flag1 = yield* u.fcntl(c, F_GETFD);
      got.dup = yield* u.fcntl(a, F_DUPFD, 10);
      got.dup_flag = yield* u.fcntl(got.dup, F_GETFD);
      got.dupc = yield* u.fcntl(a, F_DUPFD_CLOEXEC, 0);
      got.dupc_flag = yield* u.fcntl(got.dupc, F_GETFD);
      got.badfd = yield* u.fcntl(77, F_GETFD);
      got.badcmd = yield* u.fcntl(a, 9999);
      got.baddup = yield* u.fcntl(a, F_DUPFD, -1);
      yield* u.execve('/child', ['child']);
      return 1;
    });
    const r = k.run();
    expect(r.exited[0].status).toBe(0);
    expect(got).toEqual({
      b_flag: FD_CLOEXEC, c_flag0: 0, setfd: 0, c_flag1: FD_CLOEXEC, dup: 10, dup_flag: 0, dupc: 6, dupc_flag: FD_CLOEXEC,
      badfd: -EBADF, badcmd: -EINVAL, baddup: -EINVAL,
      kept: 0, cloexec_open: -EBADF, cloexec_setfd: -EBADF, kept_fl: O_RDWR | O_CREAT,
    });
    void O_RDONLY;
    k.shutdown();
  });
});

describe('fs_exec_signals', () => {
  it('handled signals go back to SIG_DFL, ignored ones stay ignored, the mask survives', () => {
    const k = boot();
    let mask = -1;
    let ign_ret = -1;
    k.register_program('img', function* (u: Nolibc) {
      mask = (yield* u.sigprocmask(SIG_BLOCK, null))[1];
      const me = yield* u.getpid();
      ign_ret = yield* u.kill(me, SIGUSR2); // still ignored: nothing happens
      yield* u.kill(me, SIGUSR1); // default action now: terminate
      return 0;
    });
    k.spawn('p', function* (u: Nolibc) {
      yield* u.install('/img', 'img');
      yield* u.sigaction(SIGUSR1, function* () { /* the old image's handler */ });
      yield* u.sigaction(SIGUSR2, SIG_IGN);
      yield* u.sigprocmask(SIG_BLOCK, [SIGCHLD]);
      yield* u.execve('/img', ['img']);
      return 1;
    });
    const r = k.run();
    expect(mask).toBe(1 << (SIGCHLD - 1));
    expect(ign_ret).toBe(0);
    expect(r.exited[0].status).toBe(128 + SIGUSR1);
    expect(WTERMSIG(r.exited[0].signal)).toBe(SIGUSR1);
    k.shutdown();
  });
});

describe('fs_exec_errno', () => {
  it('ENOENT, EACCES (mode, directory), ENOEXEC (bad magic, unknown program), ENOTDIR, EFAULT, E2BIG; the caller goes on', () => {
    const k = boot();
    const got: Record<string, number> = {};
    k.register_program('known', function* () { return 0; });
    k.spawn('p', function* (u: Nolibc) {
      yield* u.mkdir('/bin');
      yield* u.install('/bin/ok', 'known');
      yield* u.install('/bin/noexec', 'known', 0o644);
      yield* u.install('/bin/unknown', 'nosuchprog');
      const fd = yield* u.open('/bin/script', O_RDWR | O_CREAT, 0o755);
      yield* u.write_str(fd, '#!/bin/sh\necho hi\n');
      yield* u.close(fd);
      got.enoent = yield* u.execve('/bin/missing', ['x']);
      got.eacces = yield* u.execve('/bin/noexec', ['x']);
      got.eacces_dir = yield* u.execve('/bin', ['x']);
      got.enoexec = yield* u.execve('/bin/script', ['x']);
      got.enoexec_unknown = yield* u.execve('/bin/unknown', ['x']);
      got.enotdir = yield* u.execve('/bin/ok/x', ['x']);
      got.efault_name = yield* u.syscall(59, 0x7000_0000_0000, 0, 0);
      const p = yield* u.cstr('/bin/ok');
      got.efault_argv = yield* u.syscall(59, p, 0x7000_0000_0000, 0);
      const a = yield* u.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      u.poke64(a, 0x7000_0000_0000); // argv[0] points nowhere
      u.poke64(a + 8, 0);
      got.efault_str = yield* u.syscall(59, p, a, 0);
      got.efault_envp = yield* u.syscall(59, p, 0, 0x7000_0000_0000);
      got.e2big = yield* u.execve('/bin/ok', ['x', 'y'.repeat(MAX_ARG_STRLEN)]);
      got.e2big_total = yield* u.execve('/bin/ok', Array.from({ length: 40 }, () => 'z'.repeat(60000)));
      got.still_here = yield* u.getpid();
      return 0;
    });
    const r = k.run();
    expect(r.exited[0].status).toBe(0);
    expect(got).toEqual({
      enoent: -ENOENT, eacces: -EACCES, eacces_dir: -EACCES, enoexec: -ENOEXEC, enoexec_unknown: -ENOEXEC, enotdir: -ENOTDIR,
      efault_name: -EFAULT, efault_argv: -EFAULT, efault_str: -EFAULT, efault_envp: -EFAULT, e2big: -E2BIG, e2big_total: -E2BIG,
      still_here: 1,
    });
    k.shutdown();
  });
});
