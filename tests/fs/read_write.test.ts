/*
 * tests/fs/read_write.test.ts - new_sync_read()'s kiocb and iov_iter.
 *
 * Each task reuses one kiocb/iov_iter pair for its sync reads and writes
 * (Linux keeps them on the kernel stack). A ->read_iter that reads another
 * file nests a second sync read inside the first: it must get its own
 * pair, or the outer read's position and iterator would be overwritten.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel, in_kernel } from './helpers.ts';
import { File, FMODE_READ, type FileOperations, type Kiocb } from '../../include/linux/fs.ts';
import { O_RDONLY } from '../../include/uapi/linux/fcntl.ts';
import { Loff, vfs_read } from '../../fs/read_write.ts';
import { iov_iter_count } from '../../lib/iov_iter.ts';
import type { IovIter } from '../../include/linux/uio.ts';

describe('fs_read_write', () => {
  it('a sync read nested in a ->read_iter gets its own kiocb and iov_iter', () => {
    const k = start_kernel('mem=32M cpus=1');
    const seen: { filp: File; pos: number; count: number }[] = [];
    const inner_ops: FileOperations = {
      read_iter(iocb: Kiocb, to: IovIter): number {
        seen.push({ filp: iocb.ki_filp, pos: iocb.ki_pos, count: iov_iter_count(to) });
        return 0;
      },
    };
    const inner = new File(inner_ops, O_RDONLY, FMODE_READ);
    let ubuf = 0;
    const outer_ops: FileOperations = {
      read_iter(iocb: Kiocb, to: IovIter): number {
        const before = { filp: iocb.ki_filp, pos: iocb.ki_pos, count: iov_iter_count(to) };
        vfs_read(inner, ubuf + 4096, 7, new Loff(3));
        seen.push(before, { filp: iocb.ki_filp, pos: iocb.ki_pos, count: iov_iter_count(to) });
        return 0;
      },
    };
    const outer = new File(outer_ops, O_RDONLY, FMODE_READ);
    in_kernel(k, (buf) => {
      ubuf = buf;
      vfs_read(outer, buf, 100, new Loff(40));
      vfs_read(outer, buf, 50, new Loff(60)); // the task's pair again, reused
    });
    k.shutdown();
    expect(seen).toEqual([
      { filp: inner, pos: 3, count: 7 },
      { filp: outer, pos: 40, count: 100 },
      { filp: outer, pos: 40, count: 100 },
      { filp: inner, pos: 3, count: 7 },
      { filp: outer, pos: 60, count: 50 },
      { filp: outer, pos: 60, count: 50 },
    ]);
  });
});
