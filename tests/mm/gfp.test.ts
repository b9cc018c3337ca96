/*
 * tests/mm/gfp.test.ts - GFP flag values, compositions and %pGg.
 *
 * The values are Linux's for x86-64 without KASAN_HW_TAGS and LOCKDEP (the
 * ones a kernel developer sees in "mode:0xcc0(GFP_KERNEL)" reports).
 */
import { describe, it, expect } from 'vitest';
import {
  GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_NOIO, GFP_NOFS, GFP_USER, GFP_HIGHUSER, GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL_ACCOUNT, GFP_TRANSHUGE_LIGHT, GFP_TRANSHUGE, __GFP_ZERO, __GFP_NOWARN, __GFP_SENSITIVE,
  ___GFP_SENSITIVE_BIT, __GFP_MOVABLE, __GFP_RECLAIMABLE, __GFP_COMP, __GFP_DMA, __GFP_BITS_MASK,
  gfp_migratetype, gfp_freetype, gfpflags_allow_blocking, format_gfp,
} from '../../mm/gfp.ts';
import { MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_TYPES, page_alloc_asi_init, page_alloc_asi,
  free_to_migratetype, freetype_sensitive } from '../../mm/mmzone.ts';

describe('mm_gfp', () => {
  it('has Linux values for the compositions', () => {
    expect([GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_NOIO, GFP_NOFS].map((g) => g.toString(16)))
      .toEqual(['cc0', '820', '2800', 'c00', 'c40']);
    // GFP_USER carries __GFP_SENSITIVE (0x2000000), as in the ASI series with ASI compiled in.
    expect([GFP_USER, GFP_HIGHUSER, GFP_HIGHUSER_MOVABLE, GFP_KERNEL_ACCOUNT].map((g) => g.toString(16)))
      .toEqual(['2100cc0', '2100cc2', '2100cca', '400cc0']);
    expect([GFP_TRANSHUGE_LIGHT, GFP_TRANSHUGE].map((g) => g.toString(16))).toEqual(['21c20ca', '21c24ca']);
  });

  it('puts __GFP_SENSITIVE in GFP_USER (so page cache and anon memory) and nowhere else', () => {
    expect(___GFP_SENSITIVE_BIT).toBe(25);
    expect(__GFP_SENSITIVE & __GFP_BITS_MASK).toBe(__GFP_SENSITIVE);
    for (const g of [GFP_USER, GFP_HIGHUSER, GFP_HIGHUSER_MOVABLE]) expect(g & __GFP_SENSITIVE).toBe(__GFP_SENSITIVE);
    for (const g of [GFP_KERNEL, GFP_ATOMIC, GFP_NOWAIT, GFP_NOIO, GFP_NOFS, GFP_KERNEL_ACCOUNT]) expect(g & __GFP_SENSITIVE).toBe(0);
  });

  it('derives the migratetype from the mobility bits', () => {
    expect(gfp_migratetype(GFP_KERNEL)).toBe(MIGRATE_UNMOVABLE);
    expect(gfp_migratetype(GFP_HIGHUSER_MOVABLE)).toBe(MIGRATE_MOVABLE);
    expect(gfp_migratetype(GFP_KERNEL | __GFP_RECLAIMABLE)).toBe(MIGRATE_RECLAIMABLE);
    expect(gfp_migratetype(__GFP_MOVABLE | __GFP_RECLAIMABLE)).toBe(MIGRATE_UNMOVABLE);
    expect([gfpflags_allow_blocking(GFP_KERNEL), gfpflags_allow_blocking(GFP_ATOMIC), gfpflags_allow_blocking(GFP_NOWAIT)])
      .toEqual([true, false, false]);
  });

  it('gfp_freetype: migratetype x sensitivity with ASI on, the bare migratetype with ASI off', () => {
    const was = page_alloc_asi.enabled;
    try {
      page_alloc_asi_init(true);
      expect(gfp_freetype(GFP_KERNEL)).toBe(MIGRATE_UNMOVABLE);
      expect(gfp_freetype(GFP_USER)).toBe(MIGRATE_TYPES + MIGRATE_UNMOVABLE);
      expect(gfp_freetype(GFP_HIGHUSER_MOVABLE)).toBe(MIGRATE_TYPES + MIGRATE_MOVABLE);
      expect(gfp_freetype(GFP_KERNEL | __GFP_RECLAIMABLE | __GFP_SENSITIVE)).toBe(MIGRATE_TYPES + MIGRATE_RECLAIMABLE);
      const ft = gfp_freetype(GFP_HIGHUSER_MOVABLE);
      expect([free_to_migratetype(ft), freetype_sensitive(ft)]).toEqual([MIGRATE_MOVABLE, true]);
      page_alloc_asi_init(false);
      // Sensitivity forced false: freetypes are what a kernel without ASI uses.
      for (const g of [GFP_KERNEL, GFP_USER, GFP_HIGHUSER_MOVABLE, GFP_KERNEL | __GFP_RECLAIMABLE | __GFP_SENSITIVE])
        expect(gfp_freetype(g)).toBe(gfp_migratetype(g));
    } finally {
      page_alloc_asi_init(was);
    }
  });

  it('formats like %pGg: compositions first, leftovers in hex', () => {
    expect(format_gfp(GFP_KERNEL | __GFP_ZERO)).toBe('GFP_KERNEL|__GFP_ZERO');
    expect(format_gfp(GFP_HIGHUSER_MOVABLE | __GFP_COMP)).toBe('GFP_HIGHUSER_MOVABLE|__GFP_COMP');
    expect(format_gfp(GFP_TRANSHUGE)).toBe('GFP_TRANSHUGE');
    expect(format_gfp(GFP_NOWAIT)).toBe('GFP_NOWAIT');
    expect(format_gfp(GFP_ATOMIC | __GFP_NOWARN)).toBe('GFP_ATOMIC|__GFP_NOWARN');
    expect(format_gfp(GFP_KERNEL_ACCOUNT)).toBe('GFP_KERNEL_ACCOUNT');
    expect(format_gfp(__GFP_DMA | 0x200)).toBe('GFP_DMA|0x200');
    expect(format_gfp(__GFP_SENSITIVE)).toBe('__GFP_SENSITIVE');
    expect(format_gfp(0)).toBe('');
  });
});
