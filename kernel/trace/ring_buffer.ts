/*
 * kernel/trace/ring_buffer.ts - the per-CPU trace ring buffer.
 *
 * Mirrors kernel/trace/ring_buffer.c: one buffer per CPU, written only by its
 * CPU; in overwrite mode (ftrace's default "overwrite" option) a full buffer
 * drops its oldest entry and counts it in `overrun`. Readers either iterate
 * without consuming (the `trace` file) or consume (`trace_pipe`); a consuming
 * reader learns how many entries were overwritten since its last read
 * (lost_events), as rb_get_reader_page() reports them.
 * Simplified: capacity is counted in entries, not in pages of bytes, and an
 * overwrite drops one entry, not a whole page; entries are JS objects holding
 * the raw fields, formatted only when read; no reader page, no time deltas.
 * Per-CPU buffers are created on a CPU's first write, so a kernel that
 * never traces allocates nothing.
 */
import { BUG } from '../panic.ts';
import type { TraceEventCall } from './trace.ts';

/**
 * Chrome trace phases an entry can carry: 'i' an instant (every tracepoint),
 * 'B'/'E' the begin and end of a span on this CPU (trace_marker.ts).
 */
export type TracePhase = 'i' | 'B' | 'E';

/**
 * One raw record: struct trace_entry (common_pid, common_flags,
 * common_preempt_count) plus the event's fields and the time stamp the ring
 * buffer keeps beside it. Never changed after it is written.
 */
export interface TraceEntry {
  readonly ts_ns: number;
  readonly cpu: number;
  readonly pid: number;
  readonly comm: string;
  /** The five latency-format columns, already rendered ("d..1."). */
  readonly flags: string;
  /** The event that wrote it (tracepoint or span class). */
  readonly tp: TraceEventCall;
  /** The TP_STRUCT__entry fields (or span args), as the call site passed them. */
  readonly fields: object;
  readonly ph: TracePhase;
  /** Event name for instants; the span's name for 'B'/'E'. */
  readonly name: string;
}

/** struct ring_buffer_per_cpu. */
export class RingBufferPerCpu {
  private readonly slots: (TraceEntry | undefined)[] = [];
  /** Slot of the oldest unread entry. */
  private head = 0;
  /** Unread entries in the buffer. */
  count = 0;
  /** Entries ever written (cpu_buffer->entries before subtracting). */
  entries = 0;
  /** Entries overwritten before anyone read them. */
  overrun = 0;
  /** Entries consumed by a consuming reader. */
  read = 0;
  /** overrun at the last consuming read (cpu_buffer->last_overrun). */
  last_overrun = 0;

  constructor(readonly cpu: number, readonly capacity: number) {}

  write(e: TraceEntry): void {
    const cap = this.capacity;
    if (this.count === cap) {
      // Overwrite mode: the oldest unread entry goes.
      this.slots[this.head] = e;
      this.head = this.head + 1 === cap ? 0 : this.head + 1;
      this.overrun++;
    } else {
      let tail = this.head + this.count;
      if (tail >= cap) tail -= cap;
      this.slots[tail] = e;
      this.count++;
    }
    this.entries++;
  }

  /** The i-th unread entry, oldest first (i < count); does not consume. */
  peek(i: number): TraceEntry {
    let idx = this.head + i;
    if (idx >= this.capacity) idx -= this.capacity;
    return this.slots[idx] as TraceEntry;
  }

  /** Remove and return the oldest unread entry. */
  consume(): TraceEntry | undefined {
    if (this.count === 0) return undefined;
    const e = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    this.count--;
    this.read++;
    return e;
  }

  reset(): void {
    this.slots.length = 0;
    this.head = 0;
    this.count = 0;
    this.entries = 0;
    this.overrun = 0;
    this.read = 0;
    this.last_overrun = 0;
  }
}

/** struct trace_buffer: the per-CPU buffers of one trace instance. */
export class TraceBuffer {
  readonly buffers: (RingBufferPerCpu | undefined)[] = [];
  /** ring_buffer_record_off(): writes are dropped while set. */
  record_disabled = false;
  /** ring_buffer_record_disable() depth (tracing_stop: a reader of `trace` pauses recording). */
  record_disabled_count = 0;
  constructor(readonly capacity: number) {}
}

/** ring_buffer_alloc(): `size` is in entries per CPU here, not bytes. */
export function ring_buffer_alloc(size: number): TraceBuffer {
  if (!Number.isInteger(size) || size < 1)
    BUG('ring_buffer_alloc: bad size %d', size);
  return new TraceBuffer(size);
}

/** The CPU's buffer, created on first use. */
export function ring_buffer_cpu(buffer: TraceBuffer, cpu: number): RingBufferPerCpu {
  let b = buffer.buffers[cpu];
  if (b === undefined) {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu > 4095)
      BUG('ring_buffer: bad cpu %d', cpu);
    b = new RingBufferPerCpu(cpu, buffer.capacity);
    buffer.buffers[cpu] = b;
  }
  return b;
}

/** ring_buffer_write(): append to the entry's CPU buffer. */
export function ring_buffer_write(buffer: TraceBuffer, e: TraceEntry): void {
  if (buffer.record_disabled || buffer.record_disabled_count) return;
  ring_buffer_cpu(buffer, e.cpu).write(e);
}

/** Unread entries on one CPU (ring_buffer_entries_cpu). */
export function ring_buffer_entries_cpu(buffer: TraceBuffer, cpu: number): number {
  return buffer.buffers[cpu]?.count ?? 0;
}

/** Entries lost to overwriting on one CPU (ring_buffer_overrun_cpu). */
export function ring_buffer_overrun_cpu(buffer: TraceBuffer, cpu: number): number {
  return buffer.buffers[cpu]?.overrun ?? 0;
}

/** Unread entries on all CPUs (ring_buffer_entries). */
export function ring_buffer_entries(buffer: TraceBuffer): number {
  let n = 0;
  for (const b of buffer.buffers) if (b) n += b.count;
  return n;
}

/** Overwritten entries on all CPUs (ring_buffer_overruns). */
export function ring_buffer_overruns(buffer: TraceBuffer): number {
  let n = 0;
  for (const b of buffer.buffers) if (b) n += b.overrun;
  return n;
}

/** ring_buffer_reset(): empty every CPU's buffer and zero its counters. */
export function ring_buffer_reset(buffer: TraceBuffer): void {
  for (const b of buffer.buffers) if (b) b.reset();
}

/**
 * The CPU whose next unread entry (at per-CPU offset pos[cpu]) is oldest:
 * the smallest time stamp, ties to the lowest CPU; within a CPU entries keep
 * their write order. This is __find_next_entry() in kernel/trace/trace.c.
 * Returns -1 when every CPU is exhausted.
 */
export function ring_buffer_next_cpu(buffer: TraceBuffer, pos: readonly number[]): number {
  let best = -1;
  let best_ts = 0;
  const bufs = buffer.buffers;
  for (let cpu = 0; cpu < bufs.length; cpu++) {
    const b = bufs[cpu];
    if (!b) continue;
    const i = pos[cpu] ?? 0;
    if (i >= b.count) continue;
    const ts = b.peek(i).ts_ns;
    if (best < 0 || ts < best_ts) {
      best = cpu;
      best_ts = ts;
    }
  }
  return best;
}

/** Every unread entry, merged across CPUs in time order, without consuming. */
export function* ring_buffer_iter(buffer: TraceBuffer): Generator<TraceEntry> {
  const pos: number[] = [];
  for (;;) {
    const cpu = ring_buffer_next_cpu(buffer, pos);
    if (cpu < 0) return;
    const i = pos[cpu] ?? 0;
    pos[cpu] = i + 1;
    yield (buffer.buffers[cpu] as RingBufferPerCpu).peek(i);
  }
}

/**
 * ring_buffer_consume() across CPUs: take the oldest entry. `lost_events`
 * counts entries that CPU overwrote since its previous consuming read.
 */
export function ring_buffer_consume(buffer: TraceBuffer): { entry: TraceEntry; lost_events: number } | null {
  const cpu = ring_buffer_next_cpu(buffer, []);
  if (cpu < 0) return null;
  const b = buffer.buffers[cpu] as RingBufferPerCpu;
  const lost_events = b.overrun - b.last_overrun;
  b.last_overrun = b.overrun;
  return { entry: b.consume() as TraceEntry, lost_events };
}
