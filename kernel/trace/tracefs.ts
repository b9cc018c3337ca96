/*
 * kernel/trace/tracefs.ts - the tracing files simulated processes open in
 * /sys/kernel/tracing.
 *
 * Mirrors the tracefs side of kernel/trace/trace.c and trace_events.c:
 *  - trace (tracing_fops): the header and every entry, read through
 *    seq_file without consuming; while it is open for reading, recording
 *    pauses (the pause-on-trace option, on by default: tracing_stop_tr),
 *    so the entries are those of the moment of open(). Opening it for
 *    writing with O_TRUNC empties the buffer (`echo > trace`); writes are
 *    accepted and ignored (tracing_write_stub).
 *  - trace_pipe (tracing_pipe_fops): consuming reads of whole lines, with
 *    a CPU's "[LOST n EVENTS]" first; what does not fit the reader's
 *    buffer stays in the file's page-sized trace_seq for the next read.
 *    Not seekable. Empty: -EAGAIN with O_NONBLOCK; otherwise the reader
 *    sleeps until an entry arrives (tracing_wait_pipe). Linux wakes it from
 *    the ring buffer's irq_work; here the sleeper polls, re-checking every
 *    TRACE_PIPE_POLL_NS of simulated time, so a wake-up lags the event by
 *    up to that much. With tracing off and something already read it
 *    returns 0 (end of file), as Linux does.
 *  - set_event (ftrace_set_event_fops): reads list the enabled events as
 *    "system:event"; each write() applies one token (trace_get_user: skip
 *    blanks, take one word, eat the blank after it) and returns the bytes
 *    it consumed, so `echo "a:b c:d"` takes two writes, as on Linux; "!"
 *    disables; a token naming no event is -EINVAL; O_TRUNC clears every
 *    event first (`>` versus `>>`).
 *  - events/enable, events/<system>/enable, events/<system>/<event>/enable
 *    (event_enable_fops, ftrace_system_enable_fops): read "0", "1" or "X"
 *    (mixed) and a newline; write a decimal 0 or 1 (kstrtoul_from_user:
 *    one trailing newline allowed), anything else -EINVAL.
 *  - tracing_on (rb_simple_fops) and available_events (show_event_seq_ops).
 * Files are made once at boot (tracer_init_tracefs) for the events declared
 * then. Reads and writes go through the MMU: copy_to_user()/copy_from_user()
 * from a kernel page (Linux's stack buffers and trace_seq page).
 * Simplified: one instance, no per-CPU directories, no format/id/filter/
 * trigger files, no trace_marker writes, no snapshot.
 */
import {
  type File, type Inode, FMODE_READ, FMODE_WRITE, FMODE_LSEEK, FMODE_PREAD, FMODE_PWRITE,
} from '../../include/linux/fs.ts';
import { O_TRUNC, O_NONBLOCK } from '../../include/uapi/asm-generic/fcntl.ts';
import { EAGAIN, EFAULT, EINVAL, ENOMEM, ERANGE } from '../../include/uapi/asm-generic/errno.ts';
import { ERESTARTSYS } from '../../include/linux/errno.ts';
import {
  seq_open, seq_read_iter, seq_lseek, seq_release, seq_printf, type SeqFile, type SeqOperations, type SeqItem,
} from '../../fs/seq_file.ts';
import type { Loff } from '../../fs/read_write.ts';
import { generic_file_llseek } from '../../fs/read_write.ts';
import { tracefs_create_file, tracefs_create_dir, tracefs_state } from '../../fs/tracefs/inode.ts';
import { copy_to_user, copy_from_user, access_ok } from '../../arch/x86/lib/usercopy_64.ts';
import { __get_free_pages, free_pages } from '../../mm/page_alloc.ts';
import { GFP_KERNEL } from '../../mm/gfp.ts';
import { this_cpu } from '../smp.ts';
import { current, sleep_until } from '../sched/core.ts';
import { ktime_get_ns } from '../time/timekeeping.ts';
import { BUG } from '../panic.ts';
import { trace_state, tracing_on, tracing_off, tracing_reset_online_cpus, type TraceEventCall } from './trace.ts';
import {
  available_events, enabled_events, trace_find_event, ftrace_set_clr_event, ftrace_clear_events,
} from './trace_events.ts';
import { print_trace_header, print_trace_line } from './trace_output.ts';
import {
  ring_buffer_iter, ring_buffer_overruns, ring_buffer_next_cpu, ring_buffer_consume, ring_buffer_entries,
  type RingBufferPerCpu, type TraceEntry,
} from './ring_buffer.ts';

const PAGE_SIZE = 4096;
/** How often a reader blocked on an empty trace_pipe looks again (stands in for the irq_work wake-up). */
export const TRACE_PIPE_POLL_NS = 1_000_000;
/** EVENT_BUF_SIZE: the longest set_event token. */
const EVENT_BUF_SIZE = 127;

export const tracefs_files_state = {
  /** A kernel page the small reads and writes bounce through (Linux: stack buffers). */
  bounce: 0,
  /** tracing_stop_tr() depth: readers of `trace` holding recording off. */
  stop_count: 0,
};

/* ---- moving bytes between user memory and the kernel ---- */

function to_bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

/** Copy `s` to user `ubuf` through the kernel page `kbuf`: bytes not copied. */
function copy_str_to_user(ubuf: number, kbuf: number, s: string): number {
  if (!s.length) return 0;
  this_cpu().write_bytes(kbuf, to_bytes(s));
  return copy_to_user(ubuf, kbuf, s.length);
}

/**
 * simple_read_from_buffer() (fs/libfs.c): copy `text` from *ppos on, at
 * most `count` bytes; the bytes read, or -EFAULT if none could be.
 */
function simple_read_from_buffer(ubuf: number, count: number, pos: number, text: string): number {
  if (pos < 0) return -EINVAL;
  if (pos >= text.length || !count) return 0;
  const part = text.slice(pos, pos + Math.min(count, PAGE_SIZE));
  const left = copy_str_to_user(ubuf, tracefs_files_state.bounce, part);
  if (left === part.length) return -EFAULT;
  return part.length - left;
}

/** Up to `n` bytes of user memory at `ubuf` as a string, or -EFAULT (copy_from_user). */
function copy_str_from_user(ubuf: number, n: number): string | number {
  if (!access_ok(ubuf, n)) return -EFAULT;
  const k = tracefs_files_state.bounce;
  let s = '';
  for (let done = 0; done < n;) {
    const len = Math.min(n - done, PAGE_SIZE);
    if (copy_from_user(k, ubuf + done, len)) return -EFAULT;
    const b = new Uint8Array(len);
    this_cpu().read_bytes(k, b);
    for (let i = 0; i < len; i++) s += String.fromCharCode(b[i]);
    done += len;
  }
  return s;
}

/** get_user() of one byte: the byte, or -EFAULT. */
function get_user_u8(uaddr: number): number {
  const k = tracefs_files_state.bounce;
  if (!access_ok(uaddr, 1) || copy_from_user(k, uaddr, 1)) return -EFAULT;
  const b = new Uint8Array(1);
  this_cpu().read_bytes(k, b);
  return b[0];
}

/**
 * kstrtoul_from_user(): at most 66 bytes, a decimal number with an
 * optional '+' and one trailing newline; -EINVAL, -ERANGE or -EFAULT.
 */
function kstrtoul_from_user(ubuf: number, count: number): number {
  const s = copy_str_from_user(ubuf, Math.min(count, 66));
  if (typeof s === 'number') return s;
  const m = /^\+?([0-9]+)\n?$/.exec(s.split('\0')[0]);
  if (!m) return -EINVAL;
  const v = Number(m[1]);
  if (!Number.isSafeInteger(v)) return -ERANGE;
  return v;
}

/* ---- pause-on-trace ---- */

/** tracing_stop_tr(): the first reader of `trace` turns recording off. */
function tracing_stop_tr(): void {
  if (tracefs_files_state.stop_count++ === 0) trace_state.buffer.record_disabled_count++;
}

/** tracing_start_tr(): the last one turns it back on. */
function tracing_start_tr(): void {
  if (tracefs_files_state.stop_count > 0 && --tracefs_files_state.stop_count === 0) trace_state.buffer.record_disabled_count--;
}

/* ---- trace ---- */

/** The iterator of an open `trace`: the entries of the moment it opened (recording paused). */
interface TraceIterator {
  header: string;
  entries: TraceEntry[];
  /** "##### CPU n buffer started ####" before entry i: the CPU, or -1. */
  started: number[];
}

type TraceRecord = { i: number };

function s_start(m: SeqFile<TraceRecord>, pos: Loff): SeqItem<TraceRecord> {
  const it = m.private as TraceIterator;
  return pos.v <= it.entries.length ? { i: pos.v } : null;
}

function s_next(m: SeqFile<TraceRecord>, _v: TraceRecord, pos: Loff): SeqItem<TraceRecord> {
  pos.v++;
  return s_start(m, pos);
}

function s_stop(): void {}

/** s_show(): the header first, then one line per entry. */
function s_show(m: SeqFile<TraceRecord>, v: TraceRecord): number {
  const it = m.private as TraceIterator;
  if (v.i === 0) {
    seq_printf(m, it.header);
    return 0;
  }
  const cpu = it.started[v.i - 1];
  if (cpu >= 0) seq_printf(m, `##### CPU ${cpu} buffer started ####\n`);
  seq_printf(m, print_trace_line(it.entries[v.i - 1]));
  return 0;
}

const tracer_seq_ops: SeqOperations<TraceRecord> = { start: s_start, next: s_next, stop: s_stop, show: s_show };

/** __tracing_open(): snapshot the buffer for a reader and pause recording. */
function tracing_open(_inode: Inode, file: File): number {
  if (file.f_mode & FMODE_WRITE && file.f_flags & O_TRUNC) tracing_reset_online_cpus();
  if (file.f_mode & FMODE_READ) {
    const buffer = trace_state.buffer;
    const annotate = ring_buffer_overruns(buffer) > 0;
    const entries = [...ring_buffer_iter(buffer)];
    const seen: boolean[] = [];
    const started = entries.map((e, idx) => {
      if (!annotate || seen[e.cpu]) return -1;
      seen[e.cpu] = true;
      return idx > 0 ? e.cpu : -1;
    });
    const m = seq_open(file, tracer_seq_ops);
    m.private = { header: print_trace_header(buffer), entries, started } satisfies TraceIterator;
    tracing_stop_tr();
  }
  return 0;
}

function tracing_release(file: File): void {
  if (!(file.f_mode & FMODE_READ)) return;
  seq_release(null, file);
  tracing_start_tr();
}

/** tracing_lseek(): a reader seeks in the text; a writer's position stays 0. */
function tracing_lseek(file: File, offset: number, whence: number): number {
  if (file.f_mode & FMODE_READ) return seq_lseek(file, offset, whence);
  file.f_pos = 0;
  return 0;
}

/* ---- trace_pipe ---- */

/** The iterator of an open trace_pipe: its trace_seq page and what is in it. */
interface PipeIterator {
  /** Kernel page of iter->seq. */
  page: number;
  /** The lines in iter->seq, and how far the reader has taken them. */
  seq: string;
  readpos: number;
  /** iter->pos: entries consumed through this file. */
  pos: number;
}

function tracing_open_pipe(_inode: Inode, file: File): number {
  const page = __get_free_pages(GFP_KERNEL, 0);
  if (!page) return -ENOMEM;
  file.private_data = { page, seq: '', readpos: 0, pos: 0 } satisfies PipeIterator;
  file.f_mode &= ~(FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE); // nonseekable_open()
  return 0;
}

function tracing_release_pipe(file: File): void {
  const it = file.private_data as PipeIterator | null;
  if (it) free_pages(it.page, 0);
  file.private_data = null;
}

/** trace_seq_to_user(): what iter->seq holds past readpos; -EBUSY-like 0 when empty. */
function trace_seq_to_user(it: PipeIterator, ubuf: number, cnt: number): number {
  const len = it.seq.length - it.readpos;
  if (len <= 0) return -1;
  const n = Math.min(cnt, len);
  this_cpu().write_bytes(it.page, to_bytes(it.seq));
  const left = copy_to_user(ubuf, it.page + it.readpos, n);
  if (left === n) return -EFAULT;
  it.readpos += n - left;
  if (it.readpos >= it.seq.length) {
    it.seq = '';
    it.readpos = 0;
  }
  return n - left;
}

/**
 * Consume whole lines into iter->seq while they fit its page, stopping
 * once it holds `cnt` bytes (tracing_read_pipe's loop).
 */
function trace_pipe_fill(it: PipeIterator, cnt: number): void {
  const buffer = trace_state.buffer;
  for (;;) {
    const cpu = ring_buffer_next_cpu(buffer, []);
    if (cpu < 0) return;
    const b = buffer.buffers[cpu] as RingBufferPerCpu;
    const lost = b.overrun - b.last_overrun;
    const line = (lost > 0 ? `CPU:${cpu} [LOST ${lost} EVENTS]\n` : '') + print_trace_line(b.peek(0));
    if (it.seq.length + line.length > PAGE_SIZE && it.seq.length > 0) return; // don't print partial lines
    ring_buffer_consume(buffer);
    it.pos++;
    it.seq += line.length > PAGE_SIZE ? line.slice(0, PAGE_SIZE) : line;
    if (it.seq.length >= cnt) return;
  }
}

/* What tracing_read_pipe() does on one try; -EAGAIN when it would have to wait. */
function tracing_read_pipe_once(file: File, ubuf: number, cnt: number): number {
  const it = file.private_data as PipeIterator;
  const left = trace_seq_to_user(it, ubuf, cnt);
  if (left !== -1) return left;
  if (ring_buffer_entries(trace_state.buffer) === 0) {
    // tracing_wait_pipe(): with tracing off and something read already, that was all.
    if (trace_state.buffer.record_disabled && it.pos) return 0;
    return -EAGAIN;
  }
  trace_pipe_fill(it, Math.min(cnt, PAGE_SIZE - 1));
  const r = trace_seq_to_user(it, ubuf, cnt);
  return r === -1 ? 0 : r;
}

/** tracing_read_pipe(): ->read of trace_pipe. */
function tracing_read_pipe(file: File, ubuf: number, cnt: number): number {
  const r = tracing_read_pipe_once(file, ubuf, cnt);
  if (r !== -EAGAIN || file.f_flags & O_NONBLOCK) return r;
  // wait_on_pipe(): sleep, look again, until something came.
  const p = current();
  const attempt = (): number => {
    const v = tracing_read_pipe_once(file, ubuf, cnt);
    if (v !== -EAGAIN) return v;
    sleep_until(p, ktime_get_ns() + TRACE_PIPE_POLL_NS);
    return -ERESTARTSYS;
  };
  sleep_until(p, ktime_get_ns() + TRACE_PIPE_POLL_NS);
  p.resume = attempt;
  return -ERESTARTSYS;
}

/* ---- set_event and available_events ---- */

type EventRecord = { id: string };

function event_list_seq_ops(list: () => string[]): SeqOperations<EventRecord> {
  const start = (m: SeqFile<EventRecord>, pos: Loff): SeqItem<EventRecord> => {
    if (pos.v === 0 || !m.private) m.private = list();
    const ids = m.private as string[];
    return pos.v < ids.length ? { id: ids[pos.v] } : null;
  };
  return {
    start,
    next: (m, _v, pos) => {
      pos.v++;
      return start(m, pos);
    },
    stop: () => {},
    show: (m, v) => {
      seq_printf(m, v.id + '\n');
      return 0;
    },
  };
}

/** s_show of set_event (t_show): the enabled events. */
const show_set_event_seq_ops = event_list_seq_ops(enabled_events);
/** show_event_seq_ops: every event. */
const show_event_seq_ops = event_list_seq_ops(available_events);

function ftrace_event_set_open(_inode: Inode, file: File): number {
  if (file.f_mode & FMODE_WRITE && file.f_flags & O_TRUNC) ftrace_clear_events();
  if (file.f_mode & FMODE_READ) seq_open(file, show_set_event_seq_ops);
  return 0;
}

function ftrace_event_release(file: File): void {
  if (file.f_mode & FMODE_READ) seq_release(null, file);
}

function isspace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

/**
 * ftrace_event_write(): trace_get_user() takes one token (after any
 * blanks, up to and including the blank that ends it), then
 * ftrace_set_clr_event() applies it. Returns the bytes consumed or -errno.
 */
function ftrace_event_write(_file: File, ubuf: number, cnt: number): number {
  if (!cnt) return 0;
  let read = 0;
  const get = (): string | number => {
    const c = get_user_u8(ubuf + read);
    if (c < 0) return c;
    read++;
    return String.fromCharCode(c);
  };
  let ch = get();
  if (typeof ch === 'number') return ch;
  while (read < cnt && isspace(ch)) {
    ch = get();
    if (typeof ch === 'number') return ch;
  }
  if (isspace(ch) || ch === '\0') return read; // only blanks were written
  let token = '';
  while (!isspace(ch) && ch !== '\0') {
    if (token.length >= EVENT_BUF_SIZE) return -EINVAL;
    token += ch;
    if (read === cnt) break;
    ch = get();
    if (typeof ch === 'number') return ch;
  }
  const set = token[0] !== '!';
  const err = ftrace_set_clr_event(set ? token : token.slice(1), set);
  return err || read;
}

/* ---- enable files ---- */

/** An enable file's target: one event, one system, or every event (null system). */
interface EnableTarget {
  system: string | null;
  call: TraceEventCall | null;
}

function enable_calls(t: EnableTarget): TraceEventCall[] {
  if (t.call) return [t.call];
  const out: TraceEventCall[] = [];
  for (const id of available_events()) {
    const [sys, name] = id.split(':');
    if (t.system !== null && sys !== t.system) continue;
    const call = trace_find_event(sys, name);
    if (call) out.push(call);
  }
  return out;
}

/** event_enable_read() / system_enable_read(): "0", "1", "X" (mixed) or "?" (none). */
function enable_text(t: EnableTarget): string {
  let set = 0;
  for (const call of enable_calls(t)) {
    set |= 1 << (call.ftrace_enabled ? 1 : 0);
    if (set === 3) break;
  }
  return '?01X'[set] + '\n';
}

function enable_read(file: File, ubuf: number, cnt: number, pos: number): number {
  return simple_read_from_buffer(ubuf, cnt, pos, enable_text(file.f_inode?.i_private as EnableTarget));
}

/** event_enable_write() / system_enable_write(): 0 or 1; the whole write is consumed. */
function enable_write(file: File, ubuf: number, cnt: number): number {
  const val = kstrtoul_from_user(ubuf, cnt);
  if (val < 0) return val;
  if (val !== 0 && val !== 1) return -EINVAL;
  const t = file.f_inode?.i_private as EnableTarget;
  for (const call of enable_calls(t)) ftrace_set_clr_event(call.id, val === 1);
  return cnt;
}

/* ---- tracing_on ---- */

function rb_simple_read(_file: File, ubuf: number, cnt: number, pos: number): number {
  return simple_read_from_buffer(ubuf, cnt, pos, trace_state.buffer.record_disabled ? '0\n' : '1\n');
}

function rb_simple_write(_file: File, ubuf: number, cnt: number): number {
  const val = kstrtoul_from_user(ubuf, cnt);
  if (val < 0) return val;
  if (val) tracing_on();
  else tracing_off();
  return cnt;
}

/* ---- making the files ---- */

/**
 * tracer_init_tracefs() + event_trace_init(): the files in the tracefs
 * root, and events/ with a directory per system and per event. Called at
 * boot once tracefs is mounted.
 */
export function tracer_init_tracefs(): void {
  const bounce = __get_free_pages(GFP_KERNEL, 0);
  if (!bounce) BUG('tracer_init_tracefs: out of memory');
  tracefs_files_state.bounce = bounce;
  tracefs_files_state.stop_count = 0;
  tracefs_state.on_put_super = () => {
    free_pages(tracefs_files_state.bounce, 0);
    tracefs_files_state.bounce = 0;
  };
  tracefs_create_file('trace', 0o644, null, null, {
    open: tracing_open, read_iter: seq_read_iter, write: (_f, _b, cnt) => cnt, llseek: tracing_lseek, release: tracing_release,
  });
  tracefs_create_file('trace_pipe', 0o440, null, null, {
    open: tracing_open_pipe, read: tracing_read_pipe, release: tracing_release_pipe,
  });
  tracefs_create_file('tracing_on', 0o644, null, null, {
    read: rb_simple_read, write: rb_simple_write, llseek: generic_file_llseek,
  });
  tracefs_create_file('available_events', 0o444, null, null, {
    open: (_i, file) => {
      seq_open(file, show_event_seq_ops);
      return 0;
    },
    read_iter: seq_read_iter, llseek: seq_lseek, release: (file) => seq_release(null, file),
  });
  tracefs_create_file('set_event', 0o644, null, null, {
    open: ftrace_event_set_open, read_iter: seq_read_iter, write: ftrace_event_write, llseek: tracing_lseek,
    release: ftrace_event_release,
  });
  const enable_fops = { read: enable_read, write: enable_write, llseek: generic_file_llseek };
  const events = tracefs_create_dir('events', null);
  tracefs_create_file('enable', 0o644, events, { system: null, call: null } satisfies EnableTarget, enable_fops);
  const systems = new Map<string, ReturnType<typeof tracefs_create_dir>>();
  for (const id of available_events()) {
    const [sys, name] = id.split(':');
    const call = trace_find_event(sys, name);
    if (!call) continue;
    let sysdir = systems.get(sys);
    if (!sysdir) {
      sysdir = tracefs_create_dir(sys, events);
      systems.set(sys, sysdir);
      tracefs_create_file('enable', 0o644, sysdir, { system: sys, call: null } satisfies EnableTarget, enable_fops);
    }
    const evdir = tracefs_create_dir(name, sysdir);
    tracefs_create_file('enable', 0o644, evdir, { system: sys, call } satisfies EnableTarget, enable_fops);
  }
}
