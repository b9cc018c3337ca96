/*
 * tests/fs/vfs.test.ts - the file syscalls: semantics and bad input.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel, run_one, pattern, bytes, free_pages_now, RW, ANON, type Prog } from './helpers.ts';
import { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, AT_FDCWD } from '../../include/uapi/linux/fcntl.ts';
import { SEEK_SET, SEEK_CUR, SEEK_END } from '../../include/uapi/linux/fs.ts';
import { do_mount } from '../../fs/namespace.ts';
import {
  EBADF, EFAULT, EISDIR, ENOENT, EEXIST, ENOTDIR, EINVAL, ESPIPE, ENAMETOOLONG, EFBIG, ENODEV,
} from '../../include/uapi/asm-generic/errno.ts';
import { __NR_mkdir, __NR_open } from '../../arch/x86/include/uapi/asm/unistd_64.ts';
import { MAX_LFS_FILESIZE } from '../../include/linux/fs.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';

type Rec = Record<string, number>;

function record(cmdline: string, body: (u: Nolibc, r: Rec, buf: number) => Generator<{ nr: number; args: readonly number[] }, void, number>): Rec {
  const k = start_kernel(cmdline);
  const free0 = free_pages_now(k);
  const r: Rec = {};
  const prog: Prog = function* (u) {
    const buf = yield* u.mmap(0, 16 * 4096, RW, ANON);
    yield* body(u, r, buf);
    return 0;
  };
  r.exit = run_one(k, prog);
  r.leaked_after_exit = free0 - free_pages_now(k); // open files closed at exit; files on disk stay
  k.shutdown();
  return r;
}

describe('fs_vfs', () => {
  it('open/write/read/lseek move f_pos; pread/pwrite do not; O_APPEND writes at EOF', () => {
    const r = record('mem=32M cpus=1 debug_vm', function* (u, r, buf) {
      u.poke(buf, bytes('0123456789'));
      const fd = yield* u.open('/f', O_RDWR | O_CREAT, 0o644);
      r.fd = fd;
      r.w1 = yield* u.write(fd, buf, 10);
      r.pos1 = yield* u.lseek(fd, 0, SEEK_CUR);
      r.pw = yield* u.pwrite64(fd, buf, 3, 20); // hole 10..19
      r.pos2 = yield* u.lseek(fd, 0, SEEK_CUR);
      r.set = yield* u.lseek(fd, 5, SEEK_SET);
      r.rd = yield* u.read(fd, buf + 4096, 100);
      const got = u.peek(buf + 4096, 18);
      r.rd_ok = got.every((b, i) => b === [53, 54, 55, 56, 57, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 48, 49, 50][i]) ? 1 : 0;
      r.eof = yield* u.read(fd, buf + 4096, 100);
      r.end = yield* u.lseek(fd, -3, SEEK_END);
      r.past = yield* u.lseek(fd, 1000, SEEK_END);
      r.read_past = yield* u.read(fd, buf + 4096, 10);
      r.pread_past = yield* u.pread64(fd, buf + 4096, 10, 5000);
      yield* u.close(fd);
      const afd = yield* u.open('/f', O_WRONLY | O_APPEND);
      r.append = yield* u.write(afd, buf, 2);
      r.apos = yield* u.lseek(afd, 0, SEEK_CUR);
      r.pappend = yield* u.pwrite64(afd, buf, 1, 0); // Linux: O_APPEND wins over the offset
      r.st = yield* u.fstat(afd, buf + 8192);
      r.size = u.peek64(buf + 8192 + 48);
      r.mode = u.peek32(buf + 8192 + 24);
      r.nlink = u.peek64(buf + 8192 + 16);
      r.blksize = u.peek64(buf + 8192 + 56);
      r.blocks = u.peek64(buf + 8192 + 64);
      yield* u.close(afd);
    });
    expect(r).toMatchObject({
      exit: 0, fd: 3, w1: 10, pos1: 10, pw: 3, pos2: 10, set: 5, rd: 18, rd_ok: 1, eof: 0, end: 20, past: 1023, read_past: 0,
      pread_past: 0, append: 2, apos: 25, pappend: 1, st: 0, size: 26, mode: 0o100644, nlink: 1, blksize: 4096, blocks: 8,
      leaked_after_exit: 1,
    });
  });

  it('O_TRUNC empties, O_EXCL refuses an existing name, O_DIRECTORY wants a directory, openat resolves against a dirfd', () => {
    const r = record('mem=32M cpus=1', function* (u, r, buf) {
      const fd = yield* u.open('/t', O_RDWR | O_CREAT, 0o600);
      yield* u.write(fd, buf, 5000);
      yield* u.close(fd);
      r.excl = yield* u.open('/t', O_RDWR | O_CREAT | O_EXCL);
      const tfd = yield* u.open('/t', O_RDWR | O_TRUNC);
      yield* u.fstat(tfd, buf);
      r.trunc_size = u.peek64(buf + 48);
      r.trunc_blocks = u.peek64(buf + 64);
      r.notdir = yield* u.open('/t', O_RDONLY | O_DIRECTORY);
      r.mkdir = yield* u.mkdir('/d', 0o755);
      const dfd = yield* u.open('/d', O_RDONLY | O_DIRECTORY);
      r.dfd = dfd;
      r.at_create = yield* u.openat(dfd, 'inner', O_RDWR | O_CREAT, 0o644);
      r.at_lookup = yield* u.open('/d/inner', O_RDONLY);
      r.at_dotdot = yield* u.openat(dfd, '../t', O_RDONLY);
      r.at_cwd = yield* u.openat(AT_FDCWD, 'd/./inner', O_RDONLY);
      r.dir_read = yield* u.read(dfd, buf, 10);
      r.dir_pread = yield* u.pread64(dfd, buf, 10, 0);
      r.dir_stat = yield* u.fstat(dfd, buf);
      r.dir_mode = u.peek32(buf + 24);
      r.dir_nlink = u.peek64(buf + 16);
      r.root_dotdot = yield* u.open('/../../d/inner', O_RDONLY);
      r.ram_dotdot = yield* u.open('/ram/../d/inner', O_RDONLY);
      r.creat_mode = 0;
      yield* u.fstat(r.at_create, buf);
      r.creat_mode = u.peek32(buf + 24);
      r.mode_umask = 0;
      const m = yield* u.open('/umask', O_RDWR | O_CREAT, 0o777);
      yield* u.fstat(m, buf);
      r.mode_umask = u.peek32(buf + 24);
    });
    expect(r).toMatchObject({
      exit: 0, excl: -EEXIST, trunc_size: 0, trunc_blocks: 0, notdir: -ENOTDIR, mkdir: 0, dir_read: -EISDIR, dir_pread: -EISDIR,
      dir_stat: 0, dir_mode: 0o40755, dir_nlink: 2, creat_mode: 0o100644, mode_umask: 0o100755,
    });
    for (const key of ['dfd', 'at_create', 'at_lookup', 'at_dotdot', 'at_cwd', 'root_dotdot', 'ram_dotdot']) expect(r[key], key).toBeGreaterThan(2);
  });

  it('unlink of an open file keeps its data until the last close, then frees its pages', () => {
    const k = start_kernel('mem=32M cpus=1 debug_vm');
    const free0 = free_pages_now(k);
    const r: Rec = {};
    r.exit = run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 8 * 4096, RW, ANON);
      u.poke(buf, pattern(4 * 4096, 9));
      for (const path of ['/gone', '/ram/gone']) {
        const fd = yield* u.open(path, O_RDWR | O_CREAT);
        yield* u.write(fd, buf, 4 * 4096);
        r[path + ':unlink'] = yield* u.unlink(path);
        r[path + ':reopen'] = yield* u.open(path, O_RDONLY);
        r[path + ':read'] = yield* u.pread64(fd, buf + 4 * 4096, 4 * 4096, 0);
        r[path + ':same'] = u.peek(buf + 4 * 4096, 4 * 4096).every((b, i) => b === pattern(4 * 4096, 9)[i]) ? 1 : 0;
        r[path + ':files'] = k.vmstat().nr_file_pages;
        yield* u.close(fd);
        r[path + ':after'] = k.vmstat().nr_file_pages;
        r[path + ':again'] = yield* u.unlink(path);
      }
      return 0;
    });
    r.leak = free0 - free_pages_now(k);
    expect(r).toMatchObject({
      exit: 0, '/gone:unlink': 0, '/gone:reopen': -ENOENT, '/gone:read': 16384, '/gone:same': 1, '/gone:files': 4, '/gone:after': 0,
      '/gone:again': -ENOENT, '/ram/gone:unlink': 0, '/ram/gone:reopen': -ENOENT, '/ram/gone:read': 16384, '/ram/gone:same': 1,
      '/ram/gone:files': 4, '/ram/gone:after': 0, leak: 0,
    });
    k.shutdown();
  });

  it('readv and writev gather and scatter across segments and pages', () => {
    const r = record('mem=32M cpus=1', function* (u, r, buf) {
      const data = pattern(10000, 4);
      u.poke(buf, data);
      const iov = buf + 12 * 4096;
      u.put_iovec(iov, [[buf, 3000], [buf + 3000, 0], [buf + 3000, 7000]]);
      const fd = yield* u.open('/v', O_RDWR | O_CREAT);
      r.wv = yield* u.writev(fd, iov, 3);
      r.pos = yield* u.lseek(fd, 0, SEEK_SET);
      u.put_iovec(iov, [[buf + 4 * 4096, 1], [buf + 5 * 4096, 4095], [buf + 6 * 4096, 8192]]);
      r.rv = yield* u.readv(fd, iov, 3);
      const a = u.peek(buf + 4 * 4096, 1), b = u.peek(buf + 5 * 4096, 4095), c = u.peek(buf + 6 * 4096, 10000 - 4096);
      const got = new Uint8Array([...a, ...b, ...c]);
      r.same = got.every((x, i) => x === data[i]) ? 1 : 0;
      u.put_iovec(iov, [[buf, 6]]);
      u.poke(buf, bytes('hello\n'));
      r.console = yield* u.writev(1, iov, 1);
      r.zero = yield* u.readv(fd, iov, 0);
      yield* u.close(fd);
    });
    expect(r).toMatchObject({ exit: 0, wv: 10000, pos: 0, rv: 10000, same: 1, console: 6, zero: 0 });
  });

  it('bad input gets -errno: EBADF, EISDIR, ENOENT, EEXIST, ENOTDIR, EINVAL, ESPIPE, ENAMETOOLONG, EFBIG', () => {
    const r = record('mem=32M cpus=1', function* (u, r, buf) {
      const fd = yield* u.open('/file', O_RDWR | O_CREAT);
      yield* u.mkdir('/dir');
      const ro = yield* u.open('/file', O_RDONLY);
      const wo = yield* u.open('/file', O_WRONLY);
      const neither = yield* u.open('/file', 3);
      // EBADF
      r.read_bad = yield* u.read(99, buf, 1);
      r.write_ro = yield* u.write(ro, buf, 1);
      r.read_wo = yield* u.read(wo, buf, 1);
      r.read_neither = yield* u.read(neither, buf, 1);
      r.fstat_bad = yield* u.fstat(99, buf);
      r.lseek_bad = yield* u.lseek(-1, 0, SEEK_SET);
      r.ftrunc_bad = yield* u.ftruncate(42, 0);
      r.pread_bad = yield* u.pread64(7, buf, 1, 0);
      r.readv_bad = yield* u.readv(99, buf, 1);
      r.openat_bad = yield* u.openat(77, 'x', O_RDONLY);
      r.close_twice = (yield* u.close(wo)) + 100 * (yield* u.close(wo));
      // EISDIR
      r.open_dir_w = yield* u.open('/dir', O_WRONLY);
      r.open_dir_rw = yield* u.open('/', O_RDWR);
      r.open_dir_trunc = yield* u.open('/dir', O_RDONLY | O_TRUNC);
      r.open_dir_creat = yield* u.open('/dir', O_RDWR | O_CREAT);
      r.creat_slash = yield* u.open('/new/', O_RDWR | O_CREAT);
      r.unlink_dir = yield* u.unlink('/dir');
      r.unlink_root = yield* u.unlink('/');
      // ENOENT
      r.open_missing = yield* u.open('/missing', O_RDONLY);
      r.creat_in_missing = yield* u.open('/missing/x', O_RDWR | O_CREAT);
      r.unlink_missing = yield* u.unlink('/missing');
      r.mkdir_in_missing = yield* u.mkdir('/missing/d');
      r.open_empty = yield* u.open('', O_RDONLY);
      // EEXIST
      r.excl = yield* u.open('/file', O_RDWR | O_CREAT | O_EXCL);
      r.excl_dir = yield* u.open('/dir', O_RDONLY | O_CREAT | O_EXCL);
      r.mkdir_again = yield* u.mkdir('/dir');
      r.mkdir_file = yield* u.mkdir('/file');
      r.mkdir_root = yield* u.mkdir('/');
      // ENOTDIR
      r.through_file = yield* u.open('/file/x', O_RDONLY);
      r.creat_through_file = yield* u.open('/file/x', O_RDWR | O_CREAT);
      r.file_slash = yield* u.open('/file/', O_RDONLY);
      r.unlink_file_slash = yield* u.unlink('/file/');
      r.mkdir_through_file = yield* u.mkdir('/file/d');
      r.openat_file = yield* u.openat(fd, 'x', O_RDONLY);
      r.openat_console = yield* u.openat(1, 'x', O_RDONLY);
      // EINVAL
      r.pread_neg = yield* u.pread64(fd, buf, 1, -1);
      r.pwrite_neg = yield* u.pwrite64(fd, buf, 1, -4096);
      r.lseek_neg = yield* u.lseek(fd, -1, SEEK_SET);
      r.lseek_cur_neg = yield* u.lseek(fd, -10, SEEK_CUR);
      r.lseek_whence = yield* u.lseek(fd, 0, 9);
      r.ftrunc_neg = yield* u.ftruncate(fd, -1);
      r.ftrunc_ro = yield* u.ftruncate(ro, 0);
      r.ftrunc_dir = yield* u.ftruncate(yield* u.open('/dir', O_RDONLY), 0);
      r.creat_directory = yield* u.open('/z', O_RDWR | O_CREAT | O_DIRECTORY);
      r.readv_many = yield* u.readv(fd, buf, 1025);
      // ESPIPE: the console cannot seek
      r.pread_console = yield* u.pread64(0, buf, 1, 0);
      r.lseek_console = yield* u.lseek(1, 0, SEEK_SET);
      // ENAMETOOLONG
      r.long_name = yield* u.open('/' + 'x'.repeat(256), O_RDWR | O_CREAT);
      r.ok_name = yield* u.open('/' + 'y'.repeat(255), O_RDWR | O_CREAT);
      // EFBIG
      r.efbig = yield* u.pwrite64(fd, buf, 1, MAX_LFS_FILESIZE);
      r.ftrunc_big = yield* u.ftruncate(fd, MAX_LFS_FILESIZE + 1);
      r.pread_far = yield* u.pread64(fd, buf, 1, MAX_LFS_FILESIZE + 10);
      // A bad path pointer
      r.open_badptr = yield* u.syscall(__NR_open, 0x1000, O_RDONLY, 0);
      r.mkdir_badptr = yield* u.syscall(__NR_mkdir, 0xffff88800000, 0o755);
      r.open_nan = yield* u.syscall(__NR_open, buf, Number.NaN, 0);
      r.file_size_unchanged = 0;
      yield* u.fstat(fd, buf);
      r.file_size_unchanged = u.peek64(buf + 48);
    });
    expect(r).toMatchObject({
      exit: 0,
      read_bad: -EBADF, write_ro: -EBADF, read_wo: -EBADF, read_neither: -EBADF, fstat_bad: -EBADF, lseek_bad: -EBADF,
      ftrunc_bad: -EBADF, pread_bad: -EBADF, readv_bad: -EBADF, openat_bad: -EBADF, close_twice: -100 * EBADF,
      open_dir_w: -EISDIR, open_dir_rw: -EISDIR, open_dir_trunc: -EISDIR, open_dir_creat: -EISDIR, creat_slash: -EISDIR,
      unlink_dir: -EISDIR, unlink_root: -EISDIR,
      open_missing: -ENOENT, creat_in_missing: -ENOENT, unlink_missing: -ENOENT, mkdir_in_missing: -ENOENT, open_empty: -ENOENT,
      excl: -EEXIST, excl_dir: -EEXIST, mkdir_again: -EEXIST, mkdir_file: -EEXIST, mkdir_root: -EEXIST,
      through_file: -ENOTDIR, creat_through_file: -ENOTDIR, file_slash: -ENOTDIR, unlink_file_slash: -ENOTDIR,
      mkdir_through_file: -ENOTDIR, openat_file: -ENOTDIR, openat_console: -ENOTDIR,
      pread_neg: -EINVAL, pwrite_neg: -EINVAL, lseek_neg: -EINVAL, lseek_cur_neg: -EINVAL, lseek_whence: -EINVAL,
      ftrunc_neg: -EINVAL, ftrunc_ro: -EINVAL, ftrunc_dir: -EINVAL, creat_directory: -EINVAL, readv_many: -EINVAL,
      pread_console: -ESPIPE, lseek_console: -ESPIPE,
      long_name: -ENAMETOOLONG, efbig: -EFBIG, ftrunc_big: -EFBIG, pread_far: 0,
      open_badptr: -EFAULT, mkdir_badptr: -EFAULT, open_nan: -EINVAL, file_size_unchanged: 0,
    });
    expect(r.ok_name).toBeGreaterThan(2);
  });

  it('EFAULT: a read into a partly bad buffer returns the bytes copied before the fault', () => {
    /*
     *  user:  [ page 0 rw ][ page 1 unmapped ][ page 2 read-only ]
     *  file:  12 KiB of pattern
     */
    const r = record('mem=32M cpus=1', function* (u, r, buf) {
      const data = pattern(3 * 4096, 12);
      u.poke(buf, data);
      for (const path of ['/e', '/ram/e']) {
        const fd = yield* u.open(path, O_RDWR | O_CREAT);
        yield* u.write(fd, buf, 3 * 4096);
        const b = yield* u.mmap(0, 3 * 4096, RW, ANON);
        yield* u.munmap(b + 4096, 4096);
        yield* u.mprotect(b + 8192, 4096, 1);
        r[path + ':cross'] = yield* u.pread64(fd, b + 4096 - 100, 300, 50);
        r[path + ':same'] = u.peek(b + 4096 - 100, 100).every((x, i) => x === data[50 + i]) ? 1 : 0;
        r[path + ':at_hole'] = yield* u.pread64(fd, b + 4096, 10, 0);
        r[path + ':readonly'] = yield* u.pread64(fd, b + 8192, 10, 0);
        r[path + ':kernel'] = yield* u.pread64(fd, 0xffff88800000, 10, 0);
        r[path + ':null'] = yield* u.pread64(fd, 0, 10, 0);
        r[path + ':pos_after_fault'] = yield* u.lseek(fd, 0, SEEK_CUR);
        yield* u.lseek(fd, 0, SEEK_SET);
        r[path + ':read_cross'] = yield* u.read(fd, b + 4096 - 8, 4096);
        r[path + ':pos'] = yield* u.lseek(fd, 0, SEEK_CUR);
        u.put_iovec(buf + 15 * 4096, [[b, 16], [b + 4096, 16]]);
        r[path + ':readv_cross'] = yield* u.readv(fd, buf + 15 * 4096, 2);
        r[path + ':readv_badvec'] = yield* u.readv(fd, 0x1000, 1);
        // a write from a partly bad buffer stores what it could read, and no more
        r[path + ':write_cross'] = yield* u.pwrite64(fd, b + 4096 - 10, 100, 0);
        yield* u.fstat(fd, buf + 14 * 4096);
        r[path + ':size'] = u.peek64(buf + 14 * 4096 + 48);
        r[path + ':write_bad'] = yield* u.pwrite64(fd, b + 4096, 100, 1 << 20);
        yield* u.fstat(fd, buf + 14 * 4096);
        r[path + ':size2'] = u.peek64(buf + 14 * 4096 + 48);
        yield* u.munmap(b, 3 * 4096);
        yield* u.close(fd);
      }
    });
    for (const p of ['/e', '/ram/e']) {
      expect(r, p).toMatchObject({
        [p + ':cross']: 100, [p + ':same']: 1, [p + ':at_hole']: -EFAULT, [p + ':readonly']: -EFAULT, [p + ':kernel']: -EFAULT,
        [p + ':null']: -EFAULT, [p + ':pos_after_fault']: 3 * 4096, [p + ':read_cross']: 8, [p + ':pos']: 8, [p + ':readv_cross']: 16,
        [p + ':readv_badvec']: -EFAULT, [p + ':write_cross']: 10, [p + ':size']: 3 * 4096, [p + ':write_bad']: -EFAULT,
        [p + ':size2']: 3 * 4096,
      });
    }
  });

  it('mounts: /ram is a ramfs on its own device, do_mount() adds more, bad options are -EINVAL', () => {
    const k = start_kernel('mem=32M cpus=1');
    expect(do_mount('nosuchfs', '/ram')).toBe(-ENODEV);
    expect(do_mount('tmpfs', '/nodir')).toBe(-ENOENT);
    expect(do_mount('tmpfs', '/', 'huge=sometimes')).toBe(-EINVAL);
    const r: Rec = {};
    r.exit = run_one(k, function* (u) {
      const buf = yield* u.mmap(0, 4096, RW, ANON);
      r.mk = yield* u.mkdir('/mnt');
      r.unlink_mp = yield* u.unlink('/ram');
      const fd = yield* u.open('/ram', O_RDONLY | O_DIRECTORY);
      yield* u.fstat(fd, buf);
      r.ram_dev = u.peek32(buf);
      const rfd = yield* u.open('/', O_RDONLY);
      yield* u.fstat(rfd, buf);
      r.root_dev = u.peek32(buf);
      return 0;
    });
    expect(do_mount('tmpfs', '/mnt', 'huge=sometimes')).toBe(-EINVAL);
    expect(do_mount('tmpfs', '/mnt', 'size=1M,nr_inodes=10,huge=always,mode=700')).toBe(0);
    expect(r).toMatchObject({ exit: 0, mk: 0, unlink_mp: -EISDIR });
    expect(r.ram_dev).not.toBe(r.root_dev);
    k.shutdown();
  });
});
