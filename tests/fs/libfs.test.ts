/*
 * tests/fs/libfs.test.ts - dcache_dir_lseek on a directory.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { O_RDONLY, O_DIRECTORY } from '../../include/uapi/linux/fcntl.ts';
import { SEEK_SET, SEEK_CUR } from '../../include/uapi/linux/fs.ts';
import { EINVAL } from '../../include/uapi/asm-generic/errno.ts';

describe('fs_libfs_dcache_dir_lseek', () => {
  it('dir_lseek_offset_2_63: offsets >= 2^63 are negative loff_t values (-EINVAL), and f_pos stays', () => {
    const k = start_kernel('mem=32M cpus=1');
    const rec: Record<string, number> = {};
    k.spawn('t', function* (u: Nolibc) {
      yield* u.mkdir('/d');
      const fd = yield* u.open('/d', O_RDONLY | O_DIRECTORY);
      rec.set = yield* u.lseek(fd, 2 ** 63, SEEK_SET);
      rec.huge = yield* u.lseek(fd, 2 ** 64, SEEK_SET);
      rec.ok = yield* u.lseek(fd, 2 ** 62, SEEK_SET);
      rec.cur = yield* u.lseek(fd, 2 ** 62, SEEK_CUR); // 2^63: wraps negative
      rec.pos = yield* u.lseek(fd, 0, SEEK_CUR);
      return 0;
    });
    const r = k.run();
    expect(rec).toEqual({ set: -EINVAL, huge: -EINVAL, ok: 2 ** 62, cur: -EINVAL, pos: 2 ** 62 });
    expect(r.exited[0].status).toBe(0);
    k.shutdown();
  });
});
