/*
 * tools/testing/asi_fuzz_pressure.ts - the fuzzer's memory-pressure steps:
 * the two halves of a pageblock changing sensitivity under a running
 * restricted CPU (issue 17's set_direct_map_sensitive() shootdown).
 *
 * No Linux counterpart (syzkaller reaches memory pressure through its
 * programs' big mappings and files; this names the shapes that matter to
 * ASI's direct map management, asi.md 4.8.3):
 *  - page tables: single pages mapped MAP_FIXED at a stride (2 MiB, 1 GiB
 *    or 512 GiB, so each needs a new PTE table, and a PMD or PUD table
 *    too) and read (a read fault maps the zero page: nothing sensitive is
 *    touched, so the CPU stays restricted while the fault path zeroes and
 *    fills the tables through the restricted direct map), then unmapped one
 *    page at a time (a one-page flush stays ranged: no asi_exit), which
 *    frees the tables, most often the last built first. Page tables are
 *    GFP_PGTABLE_KERNEL, nonsensitive: past the nonsensitive free memory
 *    the allocator turns a sensitive pageblock nonsensitive, and the
 *    unmaps can leave it wholly free while this CPU still caches its 2 MiB
 *    restricted translation;
 *  - fill: sensitive allocations, page-cache pages of a tmpfs file
 *    (fallocate in 256 KiB chunks, until it fails) or anonymous pages
 *    written one per page (half the time after a read pass that builds
 *    the PTE tables first), with a syscall every 64 pages; once no
 *    sensitive page is free, the allocator takes a free nonsensitive
 *    pageblock and unmaps it from the restricted direct map, which must
 *    shoot down every CPU's translation of it;
 *  - the race: a fork child fills (on the other CPU, as the parent keeps
 *    its own) while the parent builds and frees page tables, the fork
 *    placed before the tables are built, between, or after they are
 *    freed (fork write-protects the parent's pages, whose flush takes the
 *    parent out of the restricted space); a child forked before may wait
 *    for the parent's ftruncate() of a flag file, which says the tables
 *    are freed; the parent then polls wait4(WNOHANG) for the child, on its
 *    CPU, as a supervisor loop does.
 * On small machines (mem=16M: about 600 nonsensitive and 2000 sensitive
 * free pages after boot) both halves run out of their free memory. The
 * memory is given back or kept until exit, as drawn; a fill may end in an
 * OOM kill, as on Linux.
 */
import type { Nolibc } from '../include/nolibc.ts';
import { O_RDWR, O_CREAT, O_TRUNC } from '../../include/uapi/asm-generic/fcntl.ts';
import { MAP_FIXED } from '../../include/uapi/asm-generic/mman-common.ts';
import { WNOHANG } from '../../include/uapi/linux/wait.ts';
import { PAGE, RW, ANON, type Ctx, draw, pick, kid, note } from './asi_fuzz_ctx.ts';
import { cover } from './asi_fuzz_desc.ts';

type Step = Generator<{ nr: number; args: readonly number[] }, void, number>;

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const PGDIR = 2 ** 39;
/* Strides and where their pages go: PGD slots 8 .. 247, clear of the top-down mmaps (slot 255) and the fixed ones (slots 0, 2, 4). */
const STRIDES: readonly (readonly [number, number, number])[] = [
  // [stride, base, most pages]
  [2 * MiB, 96 * PGDIR, 256],
  [GiB, 96 * PGDIR, 512],
  [PGDIR, 8 * PGDIR, 240],
];

/* Map and read (or write) single pages at a stride; returns their addresses. */
function* build_tables(c: Ctx, u: Nolibc, big: boolean): Generator<{ nr: number; args: readonly number[] }, number[], number> {
  const [stride, base, most] = pick(c, big ? STRIDES.slice(1) : STRIDES);
  const n = Math.min(most, big ? 512 : pick(c, [16, 64, 256, 512]));
  const write = !big && draw(c, 4) === 0; // a write fault zeroes a sensitive page: the CPU leaves the restricted space
  cover(c, `pressure:pgtables${stride === PGDIR ? '_pgd' : stride === GiB ? '_pud' : '_pmd'}`, 'valid');
  const got: number[] = [];
  for (let i = 0; i < n; i++) {
    const at = base + i * stride;
    const a = note(c, 'mmap', yield* u.mmap(at, PAGE, RW, ANON | MAP_FIXED));
    if (a !== at) break; // -ENOMEM under pressure or fault injection
    got.push(a);
    if (write) u.poke32(a, i);
    else u.peek32(a);
  }
  return got;
}

/* Unmap them one page at a time (or keep them until exit): the tables go back to the allocator. */
function* free_tables(c: Ctx, u: Nolibc, got: number[], big: boolean): Step {
  if (!big && draw(c, 4) === 0) return; // kept until exit (exit_mmap frees them)
  if (draw(c, 4)) got.reverse(); // the last built first: the pageblock they took last is whole again soonest
  for (const a of got) note(c, 'munmap', yield* u.munmap(a, PAGE));
}

/* Page-cache pages of a tmpfs file, 256 KiB at a time, until `pages` or a failure (-ENOSPC at the tmpfs size, -ENOMEM). */
function* fill_file(c: Ctx, u: Nolibc, fds: number[], pages: number): Step {
  cover(c, 'pressure:fill_file', 'valid');
  const fd = note(c, 'open', yield* u.open(`/f${draw(c, 4)}`, O_RDWR | O_CREAT, 0o644));
  if (fd < 0) return;
  const chunk = 64 * PAGE;
  for (let off = 0; off < pages * PAGE; off += chunk)
    if (note(c, 'fallocate', yield* u.fallocate(fd, 0, off, chunk)) < 0) break;
  if (draw(c, 2)) note(c, 'ftruncate', yield* u.ftruncate(fd, pick(c, [0, 4096])));
  if (draw(c, 2)) note(c, 'close', yield* u.close(fd));
  else fds.push(fd);
}

/* Anonymous pages written one per page, a syscall every 64; half the time after a read pass. */
function* fill_anon(c: Ctx, u: Nolibc, pages: number): Step {
  const read_first = draw(c, 2) === 0;
  cover(c, read_first ? 'pressure:fill_anon_read_first' : 'pressure:fill_anon', 'valid');
  const a = note(c, 'mmap', yield* u.mmap(0, pages * PAGE, RW, ANON));
  if (a < 0) return;
  // One read per 2 MiB maps the zero page and builds the PTE tables, so the writes allocate only sensitive pages.
  if (read_first) for (let i = 0; i < pages; i += 512) u.peek32(a + i * PAGE);
  for (let i = 0; i < pages; i++) {
    u.poke32(a + i * PAGE, i);
    if (i % 64 === 63) note(c, 'sched_yield', yield* u.sched_yield());
  }
  if (draw(c, 2)) note(c, 'munmap', yield* u.munmap(a, pages * PAGE));
}

/*
 * Sensitive allocations: a file, anonymous memory, or (`big`, and one
 * time in four otherwise) a file to the tmpfs size, then anonymous memory
 * past what is left.
 */
function* fill_step(c: Ctx, u: Nolibc, fds: number[], big: boolean): Step {
  const how = big ? 2 : draw(c, 4);
  if (how !== 1) yield* fill_file(c, u, fds, big ? 4096 : pick(c, [256, 1024, 4096]));
  if (how !== 0) yield* fill_anon(c, u, big ? 2048 : pick(c, [256, 1024, 2048]));
}

/*
 * Fork a child that fills; returns its pid (or -errno). With `flag` (an fd
 * open on an empty file), the child first waits for the file to grow: the
 * parent's ftruncate() says its tables are freed (no page is allocated,
 * so the parent stays restricted).
 */
function* fork_filler(c: Ctx, u: Nolibc, big: boolean, flag: number): Generator<{ nr: number; args: readonly number[] }, number, number> {
  const k = kid(c, 'c');
  return note(c, 'clone', yield* u.clone(0, function* (v: Nolibc) {
    if (flag >= 0) {
      const buf = note(k, 'mmap', yield* v.mmap(0, PAGE, RW, ANON));
      if (buf < 0) return 1;
      for (let i = 0; i < 1000 && note(k, 'pread64', yield* v.pread64(flag, buf, 1, 0)) === 0; i++) v.compute(20000);
    }
    yield* fill_step(k, v, [], big);
    return 0;
  }));
}

/* Poll wait4(pid, WNOHANG) with a little work between polls, on this CPU; then wait for it. */
function* reap(c: Ctx, u: Nolibc, pid: number): Step {
  for (let i = 0; i < 1000; i++) {
    const [w] = yield* u.waitpid(pid, WNOHANG);
    if (note(c, 'wait4', w) !== 0) return; // reaped, or -ECHILD / -ENOMEM
    u.compute(20000);
  }
  note(c, 'wait4', (yield* u.waitpid(pid))[0]);
}

/**
 * One pressure step: page tables built and freed, a sensitive fill, or
 * the race (`big`: the program's pressure phase, always the race, with
 * enough tables and pages to run out of both kinds of free memory at
 * mem=16M).
 */
export function* pressure_step(c: Ctx, u: Nolibc, fds: number[], depth: number, big = false): Step {
  const shape = big ? 2 : draw(c, 3);
  if (shape === 0) {
    yield* free_tables(c, u, yield* build_tables(c, u, false), false);
    return;
  }
  if (shape === 1 || depth > 0) {
    yield* fill_step(c, u, fds, false);
    return;
  }
  /*
   * Fork before the tables are built, before they are freed, or after
   * (the phase: one of the first two). A child forked before they are
   * freed fills at once or waits for the parent's word that they are
   * (three times in four in the phase, half the time otherwise).
   */
  const when = big ? draw(c, 2) : draw(c, 3);
  const ordered = when < 2 && (big ? draw(c, 4) !== 0 : draw(c, 2) !== 0);
  cover(c, `pressure:race${when}${ordered ? '_ordered' : ''}`, 'valid');
  const flag = ordered ? note(c, 'open', yield* u.open('/pressure', O_RDWR | O_CREAT | O_TRUNC, 0o644)) : -1;
  let pid = when === 0 ? yield* fork_filler(c, u, big, flag) : -1;
  const got = yield* build_tables(c, u, big);
  if (when === 1) pid = yield* fork_filler(c, u, big, flag);
  yield* free_tables(c, u, got, big);
  if (flag >= 0) note(c, 'ftruncate', yield* u.ftruncate(flag, 1));
  if (when === 2) pid = yield* fork_filler(c, u, big, -1);
  if (pid > 0) yield* reap(c, u, pid);
  if (flag >= 0) note(c, 'close', yield* u.close(flag));
}
