/*
 * tests/fs/proc/vmstat.test.ts - /proc/vmstat as a simulated process reads it.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../../init/main.ts';
import type { Nolibc, Sys } from '../../../tools/include/nolibc.ts';
import { O_RDWR, O_CREAT, O_RDONLY } from '../../../include/uapi/asm-generic/fcntl.ts';
import { SEEK_SET } from '../../../include/uapi/linux/fs.ts';
import { cat, peek_str, BUF_BYTES } from './helpers.ts';
import { run_one, RW, ANON } from '../helpers.ts';

function parse(text: string): [string, number][] {
  return text.trimEnd().split('\n').map((l) => {
    const [n, v] = l.split(' ');
    return [n, Number(v)];
  });
}

/* Read /proc/vmstat after some work, with k.vmstat() taken just before the read. */
function read_after_work(cmdline: string): { text: string; snap: Record<string, number>; after: Record<string, number> } {
  const k = start_kernel(cmdline);
  let text = '';
  let snap: Record<string, number> = {};
  let after: Record<string, number> = {};
  run_one(k, function* (u: Nolibc): Sys {
    const buf = yield* u.mmap(0, BUF_BYTES, RW, ANON);
    for (let i = 0; i < BUF_BYTES; i += 4096) u.poke32(buf + i, i); // fault the buffer in first
    const fd = yield* u.open('/tmp_data', O_RDWR | O_CREAT);
    for (let i = 0; i < 8; i++) yield* u.write(fd, buf, 4096);
    yield* u.pread64(fd, buf, 4096, 0);
    yield* u.close(fd);
    // The first read allocates the seq_file's buffer (a page: pgalloc_normal moves); a read from
    // offset 0 generates the text again, in a syscall that allocates nothing before ->start.
    const vfd = yield* u.open('/proc/vmstat', O_RDONLY);
    if ((yield* u.read(vfd, buf, 1)) !== 1) return 1;
    if ((yield* u.lseek(vfd, 0, SEEK_SET)) !== 0) return 2;
    snap = k.vmstat();
    const n = yield* u.read(vfd, buf, BUF_BYTES);
    after = k.vmstat();
    if (n <= 0) return 3;
    text = peek_str(u, buf, n);
    if ((yield* u.read(vfd, buf, BUF_BYTES)) !== 0) return 4;
    yield* u.close(vfd);
    const again = yield* cat(u, '/proc/vmstat', buf, 100); // short reads agree with the counters too
    if (typeof again === 'number') return 5;
    return 0;
  });
  expect(k.shutdown().leaked).toEqual([]);
  return { text, snap, after };
}

describe('fs_proc_vmstat', () => {
  it('a process reads exactly the numbers k.vmstat() returns at that moment', () => {
    const { text, snap } = read_after_work('mem=64M cpus=2 seed=1');
    const lines = parse(text);
    expect(Object.fromEntries(lines)).toEqual(snap);
    expect(lines.length).toBe(Object.keys(snap).length);
    expect(snap.nr_file_pages).toBe(8);
    expect(snap.pgalloc_normal).toBeGreaterThan(0);
  });

  it('the read itself moves the counters afterwards, not in the text (the snapshot is taken at ->start)', () => {
    const { text, snap, after } = read_after_work('mem=64M cpus=1 seed=2');
    expect(Object.fromEntries(parse(text))).toEqual(snap);
    expect(after.nr_free_pages).toBeLessThanOrEqual(snap.nr_free_pages + 1);
  });

  it('asi=on: the same, with the ASI counters moving', () => {
    const { text, snap } = read_after_work('mem=64M cpus=2 seed=1 asi=on setcpuid=retbleed ephmap=off');
    expect(Object.fromEntries(parse(text))).toEqual(snap);
    expect(snap.asi_exits).toBeGreaterThan(0);
    expect(snap.asi_enters).toBeGreaterThan(0);
  });

  it("lines follow vmstat_text's order for Linux's names; tskernel's own after their kind", () => {
    const { text } = read_after_work('mem=64M cpus=1');
    const names = parse(text).map(([n]) => n);
    const at = (n: string): number => names.indexOf(n);
    expect(at('nr_free_pages')).toBe(0);
    expect(at('nr_file_pages')).toBeLessThan(at('nr_shmem'));
    expect(at('nr_shmem')).toBeLessThan(at('pgalloc_normal'));
    expect(at('pgalloc_normal')).toBeLessThan(at('pgfree'));
    expect(at('pgfree')).toBeLessThan(at('pgfault'));
    expect(at('pgfault')).toBeLessThan(at('nr_tlb_remote_flush'));
    expect(at('nr_tlb_remote_flush')).toBeLessThan(at('nr_tlb_remote_flush_received'));
    expect(at('nr_tlb_local_flush_all')).toBeLessThan(at('nr_tlb_local_flush_one'));
    expect(at('nr_tlb_local_flush_one')).toBeLessThan(at('asi_exits'));
    // a stat tskernel adds (nr_vmalloc) comes before the first event
    expect(at('nr_vmalloc')).toBeLessThan(at('pgalloc_normal'));
    for (const l of text.trimEnd().split('\n')) expect(l).toMatch(/^[a-z0-9_]+ -?\d+$/);
  });
});
