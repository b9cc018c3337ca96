/*
 * tools/fio/job.ts - fio's backend as tskernel user processes: lay out the
 * files, fork the jobs, run each job's I/O loop with the psync/sync engine.
 *
 * Mirrors fio's backend.c (run_threads(): with create_serialize=1, the
 * default, the parent lays every job's file out in turn, then forks the
 * jobs and waits for them), filesetup.c (create_work_dirs(), extend_file():
 * open O_CREAT|O_TRUNC, fallocate (fallocate=native), ftruncate, then for
 * jobs that read, write the file in bs-sized chunks), io_u.c (get_io_u():
 * data direction by rwmixread, next offset sequential or random with the
 * random map; io_completed(): clat from issue to completion, lat from
 * start_time, the histogram) and
 * engines/sync.c (psync: pread/pwrite at the offset; sync: lseek then
 * read/write). Every step is a real syscall through nolibc; fio's own
 * user-space work per I/O is charged as user cycles from the cost
 * profile's fio_* keys. Times come from each CPU's cycle clock through the
 * vDSO-style clock_gettime (whole ns).
 * Simplified: no fsync after layout
 * (create_fsync; a no-op on tmpfs), no fadvise/cache invalidation (no-ops
 * on tmpfs), rwmix switches direction per I/O rather than in fio's batches,
 * ctx comes from the task's context-switch counts (getrusage's stand-in),
 * majf/minf are 0.
 */
import type { Nolibc } from '../include/nolibc.ts';
import { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC } from '../../include/uapi/asm-generic/fcntl.ts';
import { SEEK_SET } from '../../include/uapi/linux/fs.ts';
import { PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS } from '../../include/uapi/linux/mman.ts';
import { EEXIST, ENOSYS } from '../../include/uapi/asm-generic/errno.ts';
import { COST_KEY_INDEX } from '../../arch/x86/hw/costs.ts';
import { find_task_by_pid } from '../../kernel/sched/core.ts';
import type { JobOptions } from './options.ts';
import { Axmap } from './axmap.ts';
import { Taus88, fio_rand_seeds, init_rand_seed, rand_between, FIO_RAND_BLOCK_OFF, FIO_RAND_MIX_OFF } from './rand.ts';
import { DirStat, LatDist } from './stat.ts';

export const DDIR_READ = 0;
export const DDIR_WRITE = 1;

const K_GET_IO_U = COST_KEY_INDEX.fio_get_io_u;
const K_TD_IO_QUEUE = COST_KEY_INDEX.fio_td_io_queue;
const K_IO_COMPLETED = COST_KEY_INDEX.fio_io_completed;

/** bw_avg_time / iops_avg_time defaults: one bandwidth and IOPS sample per 500 ms. */
const AVG_TIME_NS = 500e6;

/** What one job (one of numjobs) measured: fio's struct thread_stat, less what tskernel lacks. */
export class ThreadStat {
  readonly dir = [new DirStat(), new DirStat()];
  readonly latd = new LatDist();
  pid = 0;
  error = 0;
  /** Time the job process started (fio's epoch) and its I/O started and ended, ns of its CPU's clock. */
  epoch_ns = 0;
  start_ns = 0;
  end_ns = 0;
  /** CPU time in the engine's syscalls, and the rest (fio's own code), ns. */
  sys_ns = 0;
  usr_ns = 0;
  ctx = 0;

  constructor(readonly o: JobOptions, readonly jobnum: number, readonly thread_number: number) {}
}

/** A job's file: fio's "jobname.jobnumber.filenumber" in directory=, or filename=. */
export function job_file_name(o: JobOptions, jobnum: number): string {
  const dir = o.directory ? o.directory.replace(/\/+$/, '') : '';
  const base = o.filename || `${o.name}.${jobnum}.0`;
  if (base.startsWith('/')) return base;
  return dir ? `${dir}/${base}` : `/${base}`;
}

function reads(o: JobOptions): boolean {
  return o.rw === 'read' || o.rw === 'randread' || o.rw === 'rw' || o.rw === 'randrw';
}
function writes(o: JobOptions): boolean {
  return o.rw === 'write' || o.rw === 'randwrite' || o.rw === 'rw' || o.rw === 'randrw';
}
function random(o: JobOptions): boolean {
  return o.rw === 'randread' || o.rw === 'randwrite' || o.rw === 'randrw';
}

type Gen<T> = Generator<{ nr: number; args: readonly number[] }, T, number>;

/** create_work_dirs(): make each missing directory of `path`'s parent. */
function* create_work_dirs(u: Nolibc, path: string): Gen<number> {
  const parts = path.split('/').filter((p) => p !== '');
  let at = '';
  for (let i = 0; i < parts.length - 1; i++) {
    at += '/' + parts[i];
    const r = yield* u.mkdir(at, 0o755);
    if (r < 0 && r !== -EEXIST) return r;
  }
  return 0;
}

/** A message fio would print, with where it goes (log_info to stdout, log_err to stderr). */
export interface FioLog {
  info(s: string): void;
  err(s: string): void;
}

/**
 * extend_file(): lay a job's file out. Jobs that read get the file written
 * in bs chunks (the data must exist to be read); write-only jobs get it
 * sized only, as fio does.
 */
function* extend_file(u: Nolibc, o: JobOptions, path: string, buf: number, log: FioLog): Gen<number> {
  const r = yield* create_work_dirs(u, path);
  if (r < 0) return r;
  const fd = yield* u.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644);
  if (fd < 0) return fd;
  // fallocate=native, fio's default on Linux: a failure other than ENOSYS is reported, and the layout goes on.
  const fa = yield* u.fallocate(fd, 0, 0, o.size);
  if (fa < 0 && fa !== -ENOSYS) log.err(`fio: native_fallocate call failed: ${strerror(-fa)}\n`);
  let err = yield* u.ftruncate(fd, o.size);
  if (err >= 0 && reads(o)) {
    for (let left = o.size; left > 0;) {
      const n = Math.min(o.bs, left);
      const w = yield* u.write(fd, buf, n);
      if (w < 0) {
        err = w;
        break;
      }
      if (w === 0) break;
      left -= w;
    }
  }
  yield* u.close(fd);
  return err < 0 ? err : 0;
}

/** Fill a user buffer with fio-like random data (fill_io_buffer), in user mode. */
function fill_buffer(u: Nolibc, buf: number, len: number, seed: number): void {
  const st = new Taus88(seed);
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i += 4) {
    const v = st.next();
    b[i] = v & 0xff;
    b[i + 1] = (v >>> 8) & 0xff;
    b[i + 2] = (v >>> 16) & 0xff;
    b[i + 3] = v >>> 24;
  }
  u.poke(buf, b);
}

/** The user-facing options a job's run needs beyond JobOptions. */
export interface JobEnv {
  /** The kernel's seed=: what randrepeat=0 without randseed= seeds from (the machine's /dev/urandom). */
  kernel_seed: number;
}

/** The job's seeds: fio's setup_random_seeds(). */
function job_seeds(o: JobOptions, thread_number: number, env: JobEnv): bigint[] {
  if (!o.randrepeat && !o.randseed_set)
    return fio_rand_seeds((env.kernel_seed * 0x9e3779b1 + thread_number) >>> 0, thread_number);
  return fio_rand_seeds(o.randseed, thread_number);
}

/** One job's process: open, the I/O loop, close (fio's thread_main and do_io). */
function* job_main(u: Nolibc, ts: ThreadStat, env: JobEnv, path: string): Gen<number> {
  const o = ts.o;
  ts.epoch_ns = u.clock_gettime_ns();
  ts.pid = yield* u.getpid();
  const bs = o.bs;
  const buf = yield* u.mmap(0, bs, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (buf < 0) return (ts.error = -buf);
  const seeds = job_seeds(o, ts.thread_number, env);
  if (writes(o)) fill_buffer(u, buf, bs, Number(seeds[0] & 0xffffffffn));
  const flags = reads(o) && writes(o) ? O_RDWR : writes(o) ? O_WRONLY : O_RDONLY;
  const fd = yield* u.open(path, flags, 0o644);
  if (fd < 0) return (ts.error = -fd);

  const rnd = random(o);
  const block_state = init_rand_seed(seeds[FIO_RAND_BLOCK_OFF]);
  const mix_state = init_rand_seed(seeds[FIO_RAND_MIX_OFF]);
  const lastb = Math.floor(o.size / bs);
  // A loop does the whole blocks of size= (a partial last block is not done, as in fio).
  const io_limit = lastb * bs;
  const map = rnd ? new Axmap(lastb) : null;
  const mixed = o.rw === 'rw' || o.rw === 'randrw';
  const only = reads(o) ? DDIR_READ : DDIR_WRITE;
  const last_pos = [0, 0];
  const sync_engine = o.ioengine === 'sync';
  const [rd, wr] = ts.dir;

  ts.start_ns = u.clock_gettime_ns();
  const runtime_ns = o.runtime_us * 1000;
  // The bw/iops windows (add_bw_samples / add_iops_samples).
  let win_start = ts.start_ns;
  const win_bytes = [0, 0];
  const win_ios = [0, 0];
  let sys_ns = 0;
  let done = false;
  let t = ts.start_ns;

  for (let loop = 0; loop < o.loops && !done; loop++) {
    if (map) map.reset();
    last_pos[0] = last_pos[1] = 0;
    let issued = 0;
    while (!done) {
      if (issued >= io_limit) {
        if (!o.time_based) break;
        // time_based: the file is done, start it over (fio_file_reset).
        if (map) map.reset();
        last_pos[0] = last_pos[1] = 0;
        issued = 0;
      }
      // get_io_u(): direction, offset.
      u.compute_index(K_GET_IO_U);
      const ddir = mixed ? (rand_between(mix_state, 1, 100) <= o.rwmixread ? DDIR_READ : DDIR_WRITE) : only;
      let off: number;
      if (map) {
        const r = block_state.next();
        let b = Math.floor(lastb * (r / 4294967296));
        if (map.isset(b)) b = map.next_free(b);
        map.set(b);
        off = b * bs;
      } else {
        if (last_pos[ddir] + bs > lastb * bs) last_pos[ddir] = 0;
        off = last_pos[ddir];
        last_pos[ddir] += bs;
      }
      const t_start = u.clock_gettime_ns();
      // td_io_queue(): bookkeeping, then the engine.
      u.compute_index(K_TD_IO_QUEUE);
      const t_issue = u.clock_gettime_ns();
      let ret: number;
      if (sync_engine) {
        const s = yield* u.lseek(fd, off, SEEK_SET);
        ret = s < 0 ? s : ddir === DDIR_READ ? yield* u.read(fd, buf, bs) : yield* u.write(fd, buf, bs);
      } else {
        ret = ddir === DDIR_READ ? yield* u.pread64(fd, buf, bs, off) : yield* u.pwrite64(fd, buf, bs, off);
      }
      t = u.clock_gettime_ns();
      sys_ns += t - t_issue;
      if (ret < 0) {
        ts.error = -ret;
        done = true;
        break;
      }
      // io_completed(): the samples.
      u.compute_index(K_IO_COMPLETED);
      const clat = t - t_issue;
      (ddir === DDIR_READ ? rd : wr).add(clat, t - t_start, ret);
      ts.latd.mark(clat);
      issued += bs;
      win_bytes[ddir] += ret;
      win_ios[ddir]++;
      if (t - win_start >= AVG_TIME_NS) {
        add_samples(ts, win_bytes, win_ios, t - win_start);
        win_start = t;
      }
      if (runtime_ns && t - ts.start_ns >= runtime_ns) done = true;
    }
  }
  ts.end_ns = t;
  ts.sys_ns = sys_ns;
  ts.usr_ns = Math.max(0, ts.end_ns - ts.epoch_ns - sys_ns);
  const me = find_task_by_pid(ts.pid);
  if (me) ts.ctx = me.nvcsw + me.nivcsw;
  yield* u.close(fd);
  return ts.error ? 1 : 0;
}

/** __add_stat_to_log's rate samples for a window of `spent_ns`: KiB/s and IOPS per direction with I/O. */
function add_samples(ts: ThreadStat, bytes: number[], ios: number[], spent_ns: number): void {
  const spent_ms = Math.floor(spent_ns / 1e6);
  if (spent_ms <= 0) return;
  for (let d = 0; d < 2; d++) {
    if (bytes[d]) ts.dir[d].bw_stat.add(Math.floor(Math.floor((bytes[d] * 1000) / spent_ms) / 1024));
    if (ios[d]) ts.dir[d].iops_stat.add(Math.floor((ios[d] * 1000) / spent_ms));
    bytes[d] = 0;
    ios[d] = 0;
  }
}

/**
 * The fio parent process: lay out each job's file (once per distinct
 * file), then fork every job and wait for them all.
 */
export function fio_main(jobs: ThreadStat[], env: JobEnv, log: FioLog): (u: Nolibc, on_start?: () => void) => Gen<number> {
  return function* (u: Nolibc, on_start?: () => void) {
    let buf = 0;
    const max_bs = Math.max(...jobs.map((j) => j.o.bs));
    buf = yield* u.mmap(0, max_bs, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (buf < 0) return 1;
    fill_buffer(u, buf, max_bs, 0x5eed);
    const laid = new Set<string>();
    for (const j of jobs) {
      const path = job_file_name(j.o, j.jobnum);
      if (laid.has(path)) continue;
      laid.add(path);
      log.info(`${j.o.name}: Laying out IO file (1 file / ${mib_str(j.o.size)})\n`);
      const r = yield* extend_file(u, j.o, path, buf, log);
      if (r < 0) {
        log.err(`fio: pid=${yield* u.getpid()}, err=${-r}/file:filesetup.c:extend_file, func=open(${path}), error=${strerror(-r)}\n`);
        j.error = -r;
        return 1;
      }
    }
    on_start?.();
    const pids: number[] = [];
    for (const j of jobs) {
      const path = job_file_name(j.o, j.jobnum);
      const pid = yield* u.clone(0, (c: Nolibc) => job_main(c, j, env, path));
      if (pid < 0) return 1;
      pids.push(pid);
    }
    let bad = 0;
    for (const pid of pids) {
      const [r, status] = yield* u.waitpid(pid);
      if (r < 0 || status !== 0) bad++;
    }
    return bad ? 1 : 0;
  };
}

function mib_str(bytes: number): string {
  return bytes % 1048576 === 0 ? `${bytes / 1048576}MiB` : bytes % 1024 === 0 ? `${bytes / 1024}KiB` : `${bytes}B`;
}

const ERRNO_TEXT: Record<number, string> = {
  2: 'No such file or directory', 95: 'Operation not supported', 12: 'Cannot allocate memory', 13: 'Permission denied', 17: 'File exists',
  20: 'Not a directory', 21: 'Is a directory', 22: 'Invalid argument', 27: 'File too large', 28: 'No space left on device',
};

export function strerror(e: number): string {
  return ERRNO_TEXT[e] ?? `errno ${e}`;
}
