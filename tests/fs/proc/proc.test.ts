/*
 * tests/fs/proc/proc.test.ts - /proc/meminfo, cpuinfo, cmdline, <pid>/status
 * and maps, and Linux's errno for what /proc refuses.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel, type Kernel } from '../../../init/main.ts';
import type { Nolibc, Sys } from '../../../tools/include/nolibc.ts';
import { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_DIRECTORY } from '../../../include/uapi/asm-generic/fcntl.ts';
import { SEEK_SET, SEEK_CUR, SEEK_END } from '../../../include/uapi/linux/fs.ts';
import {
  EACCES, EINVAL, EIO, EISDIR, ENOENT, ENOTDIR, EPERM, ESPIPE, EBADF,
} from '../../../include/uapi/asm-generic/errno.ts';
import { CLONE_VM, CLONE_THREAD, CLONE_SIGHAND, CLONE_FILES } from '../../../include/uapi/linux/sched.ts';
import { cat, write_str, peek_str, BUF_BYTES } from './helpers.ts';
import { run_one, in_kernel, RW, ANON } from '../helpers.ts';
import { File, FMODE_READ, FMODE_LSEEK, FMODE_PREAD } from '../../../include/linux/fs.ts';
import { seq_read_iter, seq_lseek, single_open, single_release, seq_printf, type SeqFile } from '../../../fs/seq_file.ts';
import { vfs_read, Loff } from '../../../fs/read_write.ts';
import { copy_from_user } from '../../../arch/x86/lib/usercopy_64.ts';
import { __get_free_pages, free_pages } from '../../../mm/page_alloc.ts';
import { GFP_KERNEL } from '../../../mm/gfp.ts';
import { this_cpu } from '../../../kernel/smp.ts';

/* Run one process that reads `paths`; the texts (or -errno) by path. */
function read_paths(k: Kernel, paths: string[], chunk = 4096): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  run_one(k, function* (u: Nolibc): Sys {
    const buf = yield* u.mmap(0, BUF_BYTES, RW, ANON);
    for (const p of paths) out[p] = yield* cat(u, p, buf, chunk);
    return 0;
  });
  return out;
}

function field(text: string | number, name: string): string {
  if (typeof text === 'number') throw new Error(`read failed: ${text}`);
  // "Name:\tvalue" (status, meminfo) or "name\t\t: value" (cpuinfo)
  const l = text.split('\n').find((x) => x.startsWith(name) && /^\s*:/.test(x.slice(name.length)));
  if (l === undefined) throw new Error(`no ${name}`);
  return l.slice(l.indexOf(':') + 1).trim();
}

describe('fs_proc_meminfo', () => {
  it("Linux's format, and the figures k.meminfo() reports", () => {
    const k = start_kernel('mem=128M cpus=1');
    const t = read_paths(k, ['/proc/meminfo'])['/proc/meminfo'] as string;
    const mi = k.meminfo();
    expect(t.split('\n')[0]).toMatch(/^MemTotal: {7}\s*\d+ kB$/);
    for (const l of t.trimEnd().split('\n')) expect(l).toMatch(/^[A-Za-z0-9_()]+: +\d+( kB)?$/);
    expect(t.startsWith(`MemTotal:       ${String(mi.MemTotal).padStart(8)} kB\nMemFree:        `)).toBe(true);
    for (const key of ['MemTotal', 'VmallocTotal', 'VmallocUsed', 'DirectMap4k', 'DirectMap2M', 'DirectMap1G'])
      expect(Number(field(t, key).split(' ')[0])).toBe(mi[key]);
    expect(t).toContain('HugePages_Total:       0\n');
    expect(t).toContain('Hugepagesize:       2048 kB\n');
    const names = t.trimEnd().split('\n').map((l) => l.split(':')[0]);
    expect(names.indexOf('Cached')).toBeLessThan(names.indexOf('Shmem'));
    expect(names.indexOf('VmallocChunk')).toBeLessThan(names.indexOf('ShmemHugePages'));
    expect(names.at(-1)).toBe('DirectMap1G');
    k.shutdown();
  });

  it('Cached and Shmem count a tmpfs file\'s pages', () => {
    const k = start_kernel('mem=64M cpus=1');
    let t = '';
    run_one(k, function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, BUF_BYTES, RW, ANON);
      const fd = yield* u.open('/f', O_RDWR | O_CREAT);
      for (let i = 0; i < 4; i++) yield* u.write(fd, buf, 4096);
      const r = yield* cat(u, '/proc/meminfo', buf);
      t = typeof r === 'string' ? r : '';
      return 0;
    });
    expect(field(t, 'Cached')).toBe('16 kB');
    expect(field(t, 'Shmem')).toBe('16 kB');
    k.shutdown();
  });
});

describe('fs_proc_cpuinfo', () => {
  it('one block per CPU, flags with pcid/invpcid and asi when booted with it, bugs from setcpuid=', () => {
    const k = start_kernel('mem=64M cpus=3 asi=on setcpuid=retbleed');
    const t = read_paths(k, ['/proc/cpuinfo'], 333)['/proc/cpuinfo'] as string;
    const blocks = t.split('\n\n').filter((b) => b !== '');
    expect(blocks).toHaveLength(3);
    blocks.forEach((b, i) => {
      expect(field(b, 'processor')).toBe(String(i));
      expect(field(b, 'model name')).toBe(k.costs.cpu.model_name);
      expect(field(b, 'cpu MHz')).toBe('2800.000');
      const flags = field(b, 'flags').split(' ');
      for (const f of ['pcid', 'invpcid', 'pge', 'smep', 'smap', 'asi']) expect(flags).toContain(f);
      expect(flags).not.toContain('pti'); // ASI turns PTI off
      expect(flags.indexOf('pcid')).toBeLessThan(flags.indexOf('invpcid'));
      expect(field(b, 'bugs').split(' ')).toContain('retbleed');
    });
    expect(t.endsWith('power management:\n\n')).toBe(true);
    k.shutdown();
  });

  it('pti=on shows pti; nopcid and noinvpcid take their flags away; no asi without asi=on', () => {
    const k = start_kernel('mem=64M cpus=1 pti=on nopcid noinvpcid');
    const flags = field(read_paths(k, ['/proc/cpuinfo'])['/proc/cpuinfo'], 'flags').split(' ');
    expect(flags).toContain('pti');
    expect(flags).not.toContain('pcid');
    expect(flags).not.toContain('invpcid');
    expect(flags).not.toContain('asi');
    k.shutdown();
  });
});

describe('fs_proc_cmdline', () => {
  it('the command line as booted, and a newline', () => {
    const cmd = 'mem=64M cpus=1 seed=7 trace_event=tlb:tlb_flush';
    const k = start_kernel(cmd);
    expect(read_paths(k, ['/proc/cmdline'])['/proc/cmdline']).toBe(cmd + '\n');
    k.shutdown();
  });
});

describe('fs_seq_file_grow', () => {
  it('a record larger than a page doubles the buffer until it fits; reads at offsets inside it work', () => {
    const k = start_kernel('mem=64M cpus=1');
    const big = Array.from({ length: 1000 }, (_, i) => `line ${String(i).padStart(4, '0')}\n`).join(''); // 11000 bytes
    const got = in_kernel(k, (ubuf) => {
      const file = new File({ read_iter: seq_read_iter, llseek: seq_lseek }, O_RDONLY, FMODE_READ | FMODE_LSEEK | FMODE_PREAD);
      single_open(file, (m) => {
        seq_printf(m, big);
        return 0;
      });
      const kbuf = __get_free_pages(GFP_KERNEL, 2);
      const read_at = (pos: number, len: number): string => {
        const n = vfs_read(file, ubuf, len, new Loff(pos));
        if (n < 0) return `error ${n}`;
        copy_from_user(kbuf, ubuf, n);
        const b = new Uint8Array(n);
        this_cpu().read_bytes(kbuf, b);
        return Buffer.from(b).toString('latin1');
      };
      const whole = read_at(0, 16384);
      const size = (file.private_data as SeqFile<object>).size;
      const mid = read_at(5000, 100);
      const tail = read_at(10990, 100);
      const eof = read_at(11000, 100);
      single_release(null, file);
      free_pages(kbuf, 2);
      return { whole, size, mid, tail, eof };
    }, 16384);
    expect(got.whole).toBe(big);
    expect(got.size).toBe(16384); // 4 KiB, 8 KiB, then 16 KiB held the 11000-byte record
    expect(got.mid).toBe(big.slice(5000, 5100));
    expect(got.tail).toBe(big.slice(10990));
    expect(got.eof).toBe('');
    expect(k.shutdown().leaked).toEqual([]);
  });
});

describe('fs_proc_pid', () => {
  it('/proc/self/status: Name, State, Tgid, Pid, PPid, VmRSS, Threads of the caller', () => {
    const k = start_kernel('mem=64M cpus=2');
    let self = '';
    let child = '';
    let pid = 0;
    let cpid = 0;
    run_one(k, function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, BUF_BYTES, RW, ANON);
      for (let i = 0; i < 5; i++) u.poke32(buf + i * 4096, 1); // 5 pages touched
      pid = yield* u.getpid();
      // a thread: Threads counts it while it lives
      const flags = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_FILES;
      yield* u.clone(flags, function* (t: Nolibc): Sys {
        yield* t.nanosleep(2_000_000);
        return 0;
      });
      const r = yield* cat(u, '/proc/self/status', buf);
      self = typeof r === 'string' ? r : String(r);
      cpid = yield* u.clone(0, function* (c: Nolibc): Sys {
        yield* c.nanosleep(5_000_000);
        return 0;
      });
      yield* u.nanosleep(1_000_000); // the child is asleep by now
      const r2 = yield* cat(u, `/proc/${cpid}/status`, buf);
      child = typeof r2 === 'string' ? r2 : String(r2);
      yield* u.waitpid(cpid);
      return 0;
    }, 'statusprog');
    expect(field(self, 'Name')).toBe('statusprog');
    expect(field(self, 'State')).toBe('R (running)');
    expect(field(self, 'Tgid')).toBe(String(pid));
    expect(field(self, 'Pid')).toBe(String(pid));
    expect(field(self, 'PPid')).toBe('0');
    expect(field(self, 'Threads')).toBe('2');
    expect(Number(field(self, 'VmRSS').split(' ')[0])).toBeGreaterThanOrEqual(20);
    expect(field(self, 'VmRSS')).toBe(field(self, 'RssAnon'));
    expect(field(self, 'Uid')).toBe('0\t0\t0\t0');
    expect(field(self, 'Cpus_allowed_list')).toBe('0-1');
    expect(self.split('\n')[0]).toBe('Name:\tstatusprog');
    expect(field(child, 'Pid')).toBe(String(cpid));
    expect(field(child, 'PPid')).toBe(String(pid));
    expect(field(child, 'State')).toBe('S (sleeping)');
    expect(field(child, 'Threads')).toBe('1');
    k.shutdown();
  });

  it('/proc/self/maps: one line per VMA in Linux\'s format', () => {
    const k = start_kernel('mem=64M cpus=1');
    let maps = '';
    let a = 0;
    let b = 0;
    run_one(k, function* (u: Nolibc): Sys {
      a = yield* u.mmap(0, 3 * 4096, RW, ANON);
      b = yield* u.mmap(0, 4096, 1, ANON); // PROT_READ
      const r = yield* cat(u, '/proc/self/maps', a, 17); // short reads
      maps = typeof r === 'string' ? r : String(r);
      return 0;
    });
    const hex = (v: number): string => v.toString(16).padStart(8, '0');
    expect(maps).toContain(`${hex(a)}-${hex(a + 3 * 4096)} rw-p 00000000 00:00 0 \n`);
    expect(maps).toContain(`${hex(b)}-${hex(b + 4096)} r--p 00000000 00:00 0 \n`);
    for (const l of maps.split('\n').filter((x) => x !== '')) expect(l).toMatch(/^[0-9a-f]{8,}-[0-9a-f]{8,} [r-][w-][x-][ps] 00000000 00:00 0 $/);
    k.shutdown();
  });
});

describe('fs_proc_errno', () => {
  it("bad paths, read-only files and the directory get Linux's errno", () => {
    const k = start_kernel('mem=64M cpus=1');
    const r: Record<string, number> = {};
    run_one(k, function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, 8192, RW, ANON);
      r.noent = yield* u.open('/proc/no_such_file', O_RDONLY);
      r.nopid = yield* u.open('/proc/99999/status', O_RDONLY);
      r.zero_pid = yield* u.open('/proc/0/status', O_RDONLY);
      r.notdir = yield* u.open('/proc/meminfo/x', O_RDONLY);
      r.notdir2 = yield* u.open('/proc/meminfo', O_RDONLY | O_DIRECTORY);
      r.dir_wr = yield* u.open('/proc', O_WRONLY);
      r.create = yield* u.open('/proc/newfile', O_WRONLY | O_CREAT);
      r.mkdir = yield* u.mkdir('/proc/newdir');
      r.unlink = yield* u.unlink('/proc/meminfo');
      const dfd = yield* u.open('/proc', O_RDONLY | O_DIRECTORY);
      r.dir_read = yield* u.read(dfd, buf, 100);
      // root may open a 0444 /proc file for writing; the write is -EIO (proc_reg_write)
      const wfd = yield* u.open('/proc/meminfo', O_WRONLY | O_TRUNC);
      r.wfd_ok = wfd >= 0 ? 1 : wfd;
      r.write_meminfo = yield* write_str(u, wfd, buf, 'x\n');
      r.read_wronly = yield* u.read(wfd, buf, 10);
      const sfd = yield* u.open('/proc/self/status', O_RDWR);
      r.write_status = yield* write_str(u, sfd, buf, '1'); // no ->write at all: -EINVAL
      const vfd = yield* u.open('/proc/vmstat', O_RDONLY);
      r.write_rdonly = yield* write_str(u, vfd, buf, '1');
      r.seek_end = yield* u.lseek(vfd, 0, SEEK_END);
      r.seek_neg = yield* u.lseek(vfd, -5, SEEK_SET);
      r.pwrite = yield* u.pwrite64(vfd, buf, 1, 0);
      return 0;
    });
    expect(r).toEqual({
      noent: -ENOENT, nopid: -ENOENT, zero_pid: -ENOENT, notdir: -ENOTDIR, notdir2: -ENOTDIR, dir_wr: -EISDIR,
      create: -EACCES, mkdir: -EPERM, unlink: -EPERM, dir_read: -EISDIR, wfd_ok: 1, write_meminfo: -EIO,
      read_wronly: -EBADF, write_status: -EINVAL, write_rdonly: -EBADF, seek_end: -EINVAL, seek_neg: -EINVAL,
      pwrite: -ESPIPE,
    });
    expect(k.shutdown().leaked).toEqual([]);
  });

  it('/proc/<pid> of a task that exited is gone; an open status file then reads -ESRCH', () => {
    const k = start_kernel('mem=64M cpus=2');
    const r: Record<string, number | string> = {};
    run_one(k, function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, 8192, RW, ANON);
      const c = yield* u.clone(0, function* (): Sys {
        return 0;
      });
      const fd = yield* u.open(`/proc/${c}/status`, O_RDONLY);
      r.open = fd >= 0 ? 'ok' : fd;
      yield* u.waitpid(c);
      r.read = yield* u.read(fd, buf, 100);
      r.reopen = yield* u.open(`/proc/${c}/status`, O_RDONLY);
      return 0;
    });
    expect(r).toEqual({ open: 'ok', read: -3, reopen: -ENOENT });
    k.shutdown();
  });
});

describe('fs_seq_file', () => {
  it('short reads, reads at offsets and lseek all see one text', () => {
    const k = start_kernel('mem=64M cpus=8');
    const r: Record<string, unknown> = {};
    run_one(k, function* (u: Nolibc): Sys {
      const buf = yield* u.mmap(0, BUF_BYTES, RW, ANON);
      const whole = yield* cat(u, '/proc/cpuinfo', buf, BUF_BYTES);
      if (typeof whole !== 'string') return 1;
      r.len = whole.length;
      r.small = (yield* cat(u, '/proc/cpuinfo', buf, 7)) === whole;
      r.odd = (yield* cat(u, '/proc/cpuinfo', buf, 1000)) === whole;
      const fd = yield* u.open('/proc/cpuinfo', O_RDONLY);
      let ok = true;
      for (const off of [0, 1, 700, 4095, 4096, 4097, whole.length - 3, whole.length, whole.length + 10]) {
        const n = yield* u.pread64(fd, buf, 50, off);
        if (peek_str(u, buf, Math.max(n, 0)) !== whole.slice(off, off + 50)) ok = false;
      }
      r.pread = ok;
      r.seek = yield* u.lseek(fd, 1234, SEEK_SET);
      let n = yield* u.read(fd, buf, 20);
      r.after_seek = peek_str(u, buf, n) === whole.slice(1234, 1254);
      r.cur = yield* u.lseek(fd, 10, SEEK_CUR);
      n = yield* u.read(fd, buf, 20);
      r.after_cur = peek_str(u, buf, n) === whole.slice(1264, 1284);
      yield* u.close(fd);
      return 0;
    });
    expect(r.len).toBeGreaterThan(8 * 600);
    expect(r).toMatchObject({ small: true, odd: true, pread: true, seek: 1234, after_seek: true, cur: 1264, after_cur: true });
    expect(k.shutdown().leaked).toEqual([]);
  });
});
