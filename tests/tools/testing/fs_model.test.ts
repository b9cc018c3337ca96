/*
 * tests/tools/testing/fs_model.test.ts - the fs reference model itself
 * (KUnit-style suite fs_model): sparse files, holes, truncation, the tree.
 */
import { describe, it, expect } from 'vitest';
import { FsModel, MFile } from '../../../tools/testing/fs_model.ts';

describe('fs_model', () => {
  it('a sparse file: a write at 2^40 sets the size, holes read as zeros, one page is held', () => {
    const f = new MFile();
    f.write(2 ** 40, new Uint8Array([1, 2, 3]));
    expect(f.size).toBe(2 ** 40 + 3);
    expect(f.pages.size).toBe(1);
    expect([...f.read(2 ** 40 - 2, 10)]).toEqual([0, 0, 1, 2, 3]);
    expect([...f.read(0, 4)]).toEqual([0, 0, 0, 0]);
  });

  it('shrink then regrow reads zeros where the bytes were; a punched hole reads zeros', () => {
    /*
     *  0    4096   8192
     *  xxxxxxxxxxxxx      written 0..6000
     *  xxx                truncated to 100
     *  xxx..........      regrown to 6000: 100.. is zero
     */
    const f = new MFile();
    f.write(0, new Uint8Array(6000).fill(7));
    f.resize(100);
    f.resize(6000);
    expect(f.read(99, 2)).toEqual(new Uint8Array([7, 0]));
    expect(f.read(4000, 2000).every((b) => b === 0)).toBe(true);
    f.write(0, new Uint8Array(50).fill(9));
    f.zero(10, 20);
    expect([...f.read(8, 4)]).toEqual([9, 9, 0, 0]);
    expect([...f.read(29, 2)]).toEqual([0, 9]);
  });

  it('the tree: create needs a parent, mkdir refuses a taken name, unlink takes files only, .. and . resolve', () => {
    const m = new FsModel();
    expect(m.create('/d/f')).toBe(null);
    expect(m.mkdir('/d')).toBe(true);
    expect(m.mkdir('/d')).toBe(false);
    expect(m.create('/d/f')).not.toBe(null);
    expect(m.lookup('/d/./../d/f')?.kind).toBe('file');
    expect(m.lookup('')).toBe(null);
    expect(m.unlink('/d')).toBe(false);
    expect(m.files().map(([p]) => p)).toEqual(['/d/f']);
    expect(m.unlink('/d/f')).toBe(true);
    expect(m.lookup('/d/f')).toBe(null);
  });
});
