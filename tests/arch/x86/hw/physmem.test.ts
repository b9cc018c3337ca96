import { describe, it, expect } from 'vitest';
import { PhysMem, MachineCheck, CHUNK_SIZE } from '../../../../arch/x86/hw/physmem.ts';

describe('x86_hw_physmem', () => {
  it('a 64 GiB RAM constructs without backing it, and grows only with touched chunks', () => {
    const before = process.memoryUsage().arrayBuffers;
    const mem = new PhysMem(64 * 2 ** 30);
    expect(mem.nr_pages).toBe(16 * 2 ** 20);
    expect(mem.host_bytes).toBe(0);
    expect(mem.read32(60 * 2 ** 30)).toBe(0); // reading does not allocate
    expect(mem.host_bytes).toBe(0);
    mem.write32(63 * 2 ** 30 + 8, 0xdeadbeef);
    mem.write8(5, 1);
    expect(mem.host_bytes).toBe(2 * CHUNK_SIZE);
    expect(mem.read32(63 * 2 ** 30 + 8)).toBe(0xdeadbeef);
    // Zero-filling untouched RAM allocates nothing either.
    mem.fill(2 ** 30, 0, 1 << 20);
    expect(mem.chunks_allocated).toBe(2);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(4 << 20);
  });

  it('refuses accesses beyond RAM and RAM above 64 GiB', () => {
    const mem = new PhysMem(1 << 20);
    expect(() => mem.read32(1 << 20)).toThrow(MachineCheck);
    expect(() => mem.write8((1 << 20) + 5, 0)).toThrow(/beyond RAM/);
    expect(() => mem.copy(0, (1 << 20) - 2, 4)).toThrow(MachineCheck);
    // Whole pages between two chunks, the fast path's shape, with either side outside RAM.
    mem.write8(0, 1);
    mem.write8(CHUNK_SIZE, 1);
    expect(() => mem.copy(-4096, CHUNK_SIZE, 4096)).toThrow(MachineCheck);
    expect(() => mem.copy(CHUNK_SIZE, -4096, 4096)).toThrow(MachineCheck);
    expect(() => mem.copy(1 << 20, 0, 4096)).toThrow(MachineCheck);
    expect(() => mem.copy(0, 1 << 20, 4096)).toThrow(MachineCheck);
    expect(() => mem.read32(2)).toThrow(MachineCheck); // misaligned word
    expect(() => new PhysMem(65 * 2 ** 30)).toThrow(/64 GiB/);
    expect(() => new PhysMem(1000)).toThrow(MachineCheck);
  });

  it('whole-page copies see the source page as it is now, in and across chunks', () => {
    const mem = new PhysMem(1 << 20);
    const page = (v: number): Uint8Array => new Uint8Array(4096).fill(v);
    const read = (pa: number): Uint8Array => {
      const out = new Uint8Array(4096);
      mem.read_into(pa, out);
      return out;
    };
    mem.write_from(2 * 4096, page(1));
    mem.copy(CHUNK_SIZE + 4096, 2 * 4096, 4096); // another chunk
    expect(read(CHUNK_SIZE + 4096)).toEqual(page(1));
    mem.write8(2 * 4096 + 17, 9); // change the source, copy again
    mem.copy(CHUNK_SIZE + 4096, 2 * 4096, 4096);
    expect(read(CHUNK_SIZE + 4096)[17]).toBe(9);
    mem.copy(5 * 4096, 2 * 4096, 4096); // the same chunk
    expect(read(5 * 4096)[17]).toBe(9);
    mem.copy(CHUNK_SIZE + 4096, 4 * CHUNK_SIZE, 4096); // from untouched RAM: zeros
    expect(read(CHUNK_SIZE + 4096)).toEqual(page(0));
  });

  it('copies and fills across chunk boundaries, memmove-safe', () => {
    const mem = new PhysMem(1 << 20);
    const src = new Uint8Array(3 * CHUNK_SIZE / 2).map((_, i) => i % 251);
    mem.write_from(CHUNK_SIZE - 100, src);
    mem.copy(3 * CHUNK_SIZE + 7, CHUNK_SIZE - 100, src.length);
    const out = new Uint8Array(src.length);
    mem.read_into(3 * CHUNK_SIZE + 7, out);
    expect(out).toEqual(src);
    // overlapping forward move
    mem.copy(CHUNK_SIZE - 90, CHUNK_SIZE - 100, 200);
    mem.read_into(CHUNK_SIZE - 90, out.subarray(0, 200));
    expect(out.subarray(0, 200)).toEqual(src.subarray(0, 200));
    mem.fill(CHUNK_SIZE - 4, 0xab, 8);
    expect(mem.read32(CHUNK_SIZE - 4)).toBe(0xabababab);
    expect(mem.read32(CHUNK_SIZE)).toBe(0xabababab);
    // copying from untouched RAM writes zeros
    mem.copy(CHUNK_SIZE - 4, 8 * CHUNK_SIZE, 8);
    expect(mem.read32(CHUNK_SIZE)).toBe(0);
  });
});
