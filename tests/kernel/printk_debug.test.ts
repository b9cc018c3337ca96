/*
 * tests/kernel/printk_debug.test.ts - pr_debug through DEBUG= namespaces:
 * each subsystem's namespace speaks when enabled (a boot, a small
 * workload and a shutdown under asi=on reach every one) and is silent,
 * its call sites not even formatting, when it is not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import createDebug from 'debug';
import { format } from 'node:util';
import { pr_debug_ns, pr_debug_enabled_namespaces, PR_DEBUG_NAMESPACES, printk_state } from '../../kernel/printk.ts';
import { start_kernel } from '../../init/main.ts';
import type { Nolibc } from '../../tools/include/nolibc.ts';
import { O_CREAT, O_RDWR } from '../../include/uapi/asm-generic/fcntl.ts';

/** Capture what each namespace prints while `fn` runs with DEBUG=`spec`. */
function capture(spec: string, fn: () => void): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const saved = createDebug.disable();
  createDebug.enable(spec);
  const dbgs = PR_DEBUG_NAMESPACES.map((ns) => pr_debug_ns(ns));
  const logs = dbgs.map((d) => d.log);
  dbgs.forEach((d) => {
    d.log = (...args: unknown[]): void => {
      const l = out.get(d.namespace) ?? [];
      l.push(format(...args)); // what debug's own log() writes to stderr
      out.set(d.namespace, l);
    };
  });
  try {
    fn();
  } finally {
    dbgs.forEach((d, i) => { d.log = logs[i]; });
    createDebug.enable(saved);
  }
  return out;
}

function workload(): void {
  const k = start_kernel('mem=64M cpus=2 asi=on');
  k.spawn('w', function* (u: Nolibc) {
    const fd = yield* u.open('/f', O_CREAT | O_RDWR, 0o644);
    yield* u.fallocate(fd, 0, 0, 65536);
    yield* u.close(fd);
    yield* u.unlink('/f');
    return 0;
  });
  k.spawn('y', function* (u: Nolibc) {
    for (let i = 0; i < 4; i++) yield* u.sched_yield();
    return 0;
  });
  k.run();
  k.shutdown();
}

describe('kernel_printk_debug', () => {
  afterEach(() => { printk_state.console_loglevel = 0; });

  it('every subsystem namespace prints with DEBUG=*', () => {
    const out = capture('*', workload);
    for (const ns of ['mm:page_alloc', 'mm:asi', 'mm:ephmap', 'x86:tlb', 'fs:shmem', 'sched', 'kernel:params'])
      expect(out.get(ns)?.length ?? 0, ns).toBeGreaterThan(0);
    expect(out.get('mm:asi')!.join('\n')).toMatch(/asi_init: class 1 domain pgd/);
    expect(out.get('fs:shmem')!.join('\n')).toMatch(/shmem_fallocate: ino \d+ mode 0x0 offset 0 len 65536/);
  });

  it('DEBUG=mm:* turns on mm only; nothing is printed without DEBUG', () => {
    const mm = capture('mm:*', workload);
    expect([...mm.keys()].every((ns) => ns.startsWith('mm:'))).toBe(true);
    expect(mm.get('mm:asi')?.length ?? 0).toBeGreaterThan(0);
    const none = capture('', () => {
      expect(pr_debug_enabled_namespaces()).toEqual([]);
      workload();
    });
    expect(none.size).toBe(0);
  });
});
