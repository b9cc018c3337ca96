/*
 * tests/arch/x86/mm/pgalloc.test.ts - page-table page accounting across boots.
 *
 * KUnit-style suite x86_pgalloc. pgalloc_state counts the table pages a boot
 * took from memblock and from the buddy allocator; start_kernel must start
 * it from zero (pgalloc_init), or a second boot in the same host thread
 * inherits the first one's counts.
 */
import { describe, it, expect } from 'vitest';
import { start_kernel } from '../../../../init/main.ts';
import { pgalloc_state } from '../../../../arch/x86/mm/pgalloc.ts';

/** Boot, note pgalloc_state as boot left it, shut down. */
function boot_counts(cmdline: string): { early_pages: number; nr_pagetable: number } {
  const k = start_kernel(cmdline);
  const counts = { ...pgalloc_state };
  k.shutdown();
  return counts;
}

describe('x86_pgalloc', () => {
  it('a second boot starts from a clean pgalloc_state', () => {
    const first = boot_counts('mem=64M cpus=1');
    expect(first.early_pages).toBeGreaterThan(0);       // the direct map's and the image's tables
    // A bigger boot in between leaves more behind if nothing resets the counts.
    boot_counts('mem=1G cpus=2 nogbpages');
    const again = boot_counts('mem=64M cpus=1');
    expect(again).toEqual(first);
  });
});
