/*
 * mm/gfp.ts - GFP flags: how an allocation may behave and where it may come from.
 *
 * Mirrors include/linux/gfp_types.h (the ___GFP_*_BIT enum, the __GFP_*
 * modifiers and the GFP_* compositions), the helpers of include/linux/gfp.h
 * (gfp_migratetype, gfpflags_allow_blocking) and %pGg from lib/vsprintf.c with
 * the gfpflag_names table of include/trace/events/mmflags.h.
 *
 * Bit positions are those of an x86-64 build without CONFIG_KASAN_HW_TAGS
 * and without CONFIG_LOCKDEP (so __GFP_SKIP_ZERO, __GFP_SKIP_KASAN and
 * __GFP_NOLOCKDEP are 0) and with CONFIG_SLAB_OBJ_EXT (memcg), which gives
 * __GFP_NO_OBJ_EXT bit 24. ___GFP_SENSITIVE_BIT is the bit ASI's
 * "mm: ASI direct map management" series (Sep 2025) appends after it, and
 * GFP_USER carries it, so GFP_HIGHUSER(_MOVABLE) - anonymous memory and the
 * page cache - is sensitive and everything else is not (the "denylist").
 * gfp_freetype() turns a mask into the free lists to search.
 * Simplified against the series: the bit is always defined (the series makes
 * it 0 without CONFIG_MITIGATION_ADDRESS_SPACE_ISOLATION); with ASI off at
 * runtime gfp_freetype() ignores it. No slab is modelled, so the series'
 * "mm/slub: defer application of gfp_allowed_mask" has nothing to act on.
 */
import { MIGRATE_UNMOVABLE, page_alloc_asi, type freetype_t } from './mmzone.ts';

/* enum { ___GFP_DMA_BIT, ... ___GFP_LAST_BIT } */
export const ___GFP_DMA_BIT = 0;
export const ___GFP_HIGHMEM_BIT = 1;
export const ___GFP_DMA32_BIT = 2;
export const ___GFP_MOVABLE_BIT = 3;
export const ___GFP_RECLAIMABLE_BIT = 4;
export const ___GFP_HIGH_BIT = 5;
export const ___GFP_IO_BIT = 6;
export const ___GFP_FS_BIT = 7;
export const ___GFP_ZERO_BIT = 8;
export const ___GFP_UNUSED_BIT = 9;     // 0x200u unused
export const ___GFP_DIRECT_RECLAIM_BIT = 10;
export const ___GFP_KSWAPD_RECLAIM_BIT = 11;
export const ___GFP_WRITE_BIT = 12;
export const ___GFP_NOWARN_BIT = 13;
export const ___GFP_RETRY_MAYFAIL_BIT = 14;
export const ___GFP_NOFAIL_BIT = 15;
export const ___GFP_NORETRY_BIT = 16;
export const ___GFP_MEMALLOC_BIT = 17;
export const ___GFP_COMP_BIT = 18;
export const ___GFP_NOMEMALLOC_BIT = 19;
export const ___GFP_HARDWALL_BIT = 20;
export const ___GFP_THISNODE_BIT = 21;
export const ___GFP_ACCOUNT_BIT = 22;
export const ___GFP_ZEROTAGS_BIT = 23;
export const ___GFP_NO_OBJ_EXT_BIT = 24;   // CONFIG_SLAB_OBJ_EXT
/** ASI (CONFIG_MITIGATION_ADDRESS_SPACE_ISOLATION): after NO_OBJ_EXT, as in the Sep 2025 series. */
export const ___GFP_SENSITIVE_BIT = 25;
export const ___GFP_LAST_BIT = 26;

/** gfp_t: a bit mask below 2^__GFP_BITS_SHIFT. */
export type gfp_t = number;

/* Physical address zone modifiers */
export const __GFP_DMA = 1 << ___GFP_DMA_BIT;
export const __GFP_HIGHMEM = 1 << ___GFP_HIGHMEM_BIT;
export const __GFP_DMA32 = 1 << ___GFP_DMA32_BIT;
export const __GFP_MOVABLE = 1 << ___GFP_MOVABLE_BIT;          // page is movable
export const GFP_ZONEMASK = __GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE;

/* Page mobility and placement hints */
export const __GFP_RECLAIMABLE = 1 << ___GFP_RECLAIMABLE_BIT;  // page is reclaimable
export const __GFP_WRITE = 1 << ___GFP_WRITE_BIT;
export const __GFP_HARDWALL = 1 << ___GFP_HARDWALL_BIT;
export const __GFP_THISNODE = 1 << ___GFP_THISNODE_BIT;
export const __GFP_ACCOUNT = 1 << ___GFP_ACCOUNT_BIT;
export const __GFP_NO_OBJ_EXT = 1 << ___GFP_NO_OBJ_EXT_BIT;

/* Watermark modifiers */
export const __GFP_HIGH = 1 << ___GFP_HIGH_BIT;
export const __GFP_MEMALLOC = 1 << ___GFP_MEMALLOC_BIT;
export const __GFP_NOMEMALLOC = 1 << ___GFP_NOMEMALLOC_BIT;

/* Reclaim modifiers */
export const __GFP_IO = 1 << ___GFP_IO_BIT;
export const __GFP_FS = 1 << ___GFP_FS_BIT;
export const __GFP_DIRECT_RECLAIM = 1 << ___GFP_DIRECT_RECLAIM_BIT;  // caller can reclaim
export const __GFP_KSWAPD_RECLAIM = 1 << ___GFP_KSWAPD_RECLAIM_BIT;  // kswapd can wake
export const __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;
export const __GFP_RETRY_MAYFAIL = 1 << ___GFP_RETRY_MAYFAIL_BIT;
export const __GFP_NOFAIL = 1 << ___GFP_NOFAIL_BIT;
export const __GFP_NORETRY = 1 << ___GFP_NORETRY_BIT;

/* Action modifiers */
export const __GFP_NOWARN = 1 << ___GFP_NOWARN_BIT;
export const __GFP_COMP = 1 << ___GFP_COMP_BIT;
export const __GFP_ZERO = 1 << ___GFP_ZERO_BIT;
export const __GFP_ZEROTAGS = 1 << ___GFP_ZEROTAGS_BIT;
export const __GFP_SKIP_ZERO = 0;      // CONFIG_KASAN_HW_TAGS=n
export const __GFP_SKIP_KASAN = 0;     // CONFIG_KASAN_HW_TAGS=n
export const __GFP_NOLOCKDEP = 0;      // CONFIG_LOCKDEP=n

/**
 * __GFP_SENSITIVE: "Allocate sensitive memory, i.e. do not map it into ASI's
 * restricted address space." Part of GFP_USER, so of GFP_HIGHUSER and
 * GFP_HIGHUSER_MOVABLE; gfp_freetype() picks the sensitive free lists from it.
 */
export const __GFP_SENSITIVE = 1 << ___GFP_SENSITIVE_BIT;

export const __GFP_BITS_SHIFT = ___GFP_LAST_BIT;
export const __GFP_BITS_MASK = (1 << __GFP_BITS_SHIFT) - 1;

/* Useful GFP flag combinations */
export const GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
export const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
export const GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT;
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN;
export const GFP_NOIO = __GFP_RECLAIM;
export const GFP_NOFS = __GFP_RECLAIM | __GFP_IO;
/** GFP_USER: user data, so sensitive under ASI. */
export const GFP_USER = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL | __GFP_SENSITIVE;
export const GFP_DMA = __GFP_DMA;
export const GFP_DMA32 = __GFP_DMA32;
export const GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM;
export const GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN;
export const GFP_TRANSHUGE_LIGHT =
  (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM;
export const GFP_TRANSHUGE = GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM;

/* Mobility bits select the migratetype: (gfp & GFP_MOVABLE_MASK) >> GFP_MOVABLE_SHIFT. */
export const GFP_MOVABLE_MASK = __GFP_RECLAIMABLE | __GFP_MOVABLE;
export const GFP_MOVABLE_SHIFT = 3;

/**
 * gfp_migratetype: MIGRATE_MOVABLE for __GFP_MOVABLE, MIGRATE_RECLAIMABLE for
 * __GFP_RECLAIMABLE, else MIGRATE_UNMOVABLE. Both bits at once is a caller
 * bug (VM_WARN_ON in Linux) and reads as MIGRATE_HIGHATOMIC there; here it
 * is treated as unmovable, the safe choice, and reported by the caller's
 * debug_vm checks.
 */
export function gfp_migratetype(gfp: gfp_t): number {
  const mt = (gfp & GFP_MOVABLE_MASK) >>> GFP_MOVABLE_SHIFT;
  return mt === (GFP_MOVABLE_MASK >>> GFP_MOVABLE_SHIFT) ? MIGRATE_UNMOVABLE : mt;
}

/*
 * gfp_freetype: gfp_migratetype() plus the sensitivity of __GFP_SENSITIVE,
 * forced nonsensitive when ASI is off. __GFP_SENSITIVE is bit 25; shifted
 * down by 23 it is 4 = MIGRATE_TYPES, masked by page_alloc_asi.ft_sensitive.
 */
const GFP_SENSITIVE_TO_FT_SHIFT = ___GFP_SENSITIVE_BIT - 2;
export function gfp_freetype(gfp: gfp_t): freetype_t {
  return gfp_migratetype(gfp) | ((gfp & __GFP_SENSITIVE) >>> GFP_SENSITIVE_TO_FT_SHIFT & page_alloc_asi.ft_sensitive);
}

/** gfpflags_allow_blocking: the caller may sleep (direct reclaim, compaction, drains). */
export function gfpflags_allow_blocking(gfp: gfp_t): boolean {
  return (gfp & __GFP_DIRECT_RECLAIM) !== 0;
}

/** gfp_has_io_fs: both __GFP_IO and __GFP_FS. */
export function gfp_has_io_fs(gfp: gfp_t): boolean {
  return (gfp & (__GFP_IO | __GFP_FS)) === (__GFP_IO | __GFP_FS);
}

/** __def_gfpflag_names, in Linux's order: compositions first, so they win over their bits. */
export const gfpflag_names: readonly (readonly [number, string])[] = [
  [GFP_TRANSHUGE, 'GFP_TRANSHUGE'],
  [GFP_TRANSHUGE_LIGHT, 'GFP_TRANSHUGE_LIGHT'],
  [GFP_HIGHUSER_MOVABLE, 'GFP_HIGHUSER_MOVABLE'],
  [GFP_HIGHUSER, 'GFP_HIGHUSER'],
  [GFP_USER, 'GFP_USER'],
  [GFP_KERNEL_ACCOUNT, 'GFP_KERNEL_ACCOUNT'],
  [GFP_KERNEL, 'GFP_KERNEL'],
  [GFP_NOFS, 'GFP_NOFS'],
  [GFP_ATOMIC, 'GFP_ATOMIC'],
  [GFP_NOIO, 'GFP_NOIO'],
  [GFP_NOWAIT, 'GFP_NOWAIT'],
  [GFP_DMA, 'GFP_DMA'],
  [__GFP_HIGHMEM, '__GFP_HIGHMEM'],
  [GFP_DMA32, 'GFP_DMA32'],
  [__GFP_HIGH, '__GFP_HIGH'],
  [__GFP_IO, '__GFP_IO'],
  [__GFP_FS, '__GFP_FS'],
  [__GFP_NOWARN, '__GFP_NOWARN'],
  [__GFP_RETRY_MAYFAIL, '__GFP_RETRY_MAYFAIL'],
  [__GFP_NOFAIL, '__GFP_NOFAIL'],
  [__GFP_NORETRY, '__GFP_NORETRY'],
  [__GFP_COMP, '__GFP_COMP'],
  [__GFP_ZERO, '__GFP_ZERO'],
  [__GFP_NOMEMALLOC, '__GFP_NOMEMALLOC'],
  [__GFP_MEMALLOC, '__GFP_MEMALLOC'],
  [__GFP_HARDWALL, '__GFP_HARDWALL'],
  [__GFP_THISNODE, '__GFP_THISNODE'],
  [__GFP_RECLAIMABLE, '__GFP_RECLAIMABLE'],
  [__GFP_MOVABLE, '__GFP_MOVABLE'],
  [__GFP_ACCOUNT, '__GFP_ACCOUNT'],
  [__GFP_WRITE, '__GFP_WRITE'],
  [__GFP_RECLAIM, '__GFP_RECLAIM'],
  [__GFP_DIRECT_RECLAIM, '__GFP_DIRECT_RECLAIM'],
  [__GFP_KSWAPD_RECLAIM, '__GFP_KSWAPD_RECLAIM'],
  [__GFP_ZEROTAGS, '__GFP_ZEROTAGS'],
  [__GFP_SENSITIVE, '__GFP_SENSITIVE'],
];

/**
 * %pGg (format_flags in lib/vsprintf.c): each name whose whole mask is
 * still set, in table order, joined by '|', then any leftover bits as
 * 0x..; "" for 0. format_gfp(GFP_KERNEL | __GFP_ZERO) is "GFP_KERNEL|__GFP_ZERO".
 */
export function format_gfp(gfp: gfp_t): string {
  let flags = gfp >>> 0;
  let out = '';
  for (let i = 0; flags !== 0 && i < gfpflag_names.length; i++) {
    const [mask, name] = gfpflag_names[i];
    if (mask === 0 || (flags & mask) >>> 0 !== mask) continue;
    out += name;
    flags = (flags & ~mask) >>> 0;
    if (flags) out += '|';
  }
  if (flags) out += `0x${flags.toString(16)}`;
  return out;
}
