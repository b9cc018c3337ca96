/*
 * kernel/printk.ts - the kernel log.
 *
 * Mirrors kernel/printk/printk.c in miniature: messages carry a KERN_* level
 * and go to a bounded log buffer (read back by tests and tools, like dmesg).
 * Messages more urgent than console_loglevel (level < console_loglevel, as
 * printk.c's suppress_message_printing()) are also written to stderr; tests
 * and benchmarks set it to 0 to keep quiet. pr_debug() is the `debug` package,
 * one namespace per subsystem ("mm:vmalloc"), enabled with DEBUG=mm:*.
 * loglevel=, quiet and debug are registered in init/loglevel.ts (Linux has
 * them in init/main.c), since kernel/params.ts prints through this file.
 */
import createDebug from 'debug';
import { vsprintf } from '../lib/vsprintf.ts';

export const KERN_EMERG = 0;
export const KERN_ALERT = 1;
export const KERN_CRIT = 2;
export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_NOTICE = 5;
export const KERN_INFO = 6;
export const KERN_DEBUG = 7;

/** include/linux/printk.h. */
export const CONSOLE_LOGLEVEL_QUIET = 4;
export const CONSOLE_LOGLEVEL_DEBUG = 10;
export const CONSOLE_LOGLEVEL_MOTORMOUTH = 15;
/**
 * The console level of a boot with no loglevel=, quiet or debug: 4, as if
 * `quiet` were given (Linux's CONSOLE_LOGLEVEL_DEFAULT is 7).
 */
export const DEFAULT_LOGLEVEL = CONSOLE_LOGLEVEL_QUIET;

const LOG_BUF_LEN = 4096; // messages kept; Linux sizes in bytes (CONFIG_LOG_BUF_SHIFT)

export interface LogRecord { level: number; text: string }

export const printk_state = {
  /** Default 4 (errors and worse), as CONSOLE_LOGLEVEL_QUIET boots. */
  console_loglevel: DEFAULT_LOGLEVEL,
  /**
   * No Linux counterpart: the most verbose console a boot may set. Tests
   * cap it at 0 so boots stay quiet whatever loglevel= says.
   */
  console_loglevel_cap: 15,
  log: [] as LogRecord[],
  /** Console sink; tools may redirect it. */
  console: (line: string): void => { process.stderr.write(line + '\n'); },
};

export function printk(level: number, text: string): void {
  const log = printk_state.log;
  if (log.length >= LOG_BUF_LEN) log.shift();
  log.push({ level, text });
  if (level < printk_state.console_loglevel) printk_state.console(text);
}

export function pr_err(fmt: string, ...args: unknown[]): void { printk(KERN_ERR, vsprintf(fmt, args)); }
export function pr_warn(fmt: string, ...args: unknown[]): void { printk(KERN_WARNING, vsprintf(fmt, args)); }
export function pr_notice(fmt: string, ...args: unknown[]): void { printk(KERN_NOTICE, vsprintf(fmt, args)); }
export function pr_info(fmt: string, ...args: unknown[]): void { printk(KERN_INFO, vsprintf(fmt, args)); }

/** dmesg: the log as text. */
export function dmesg(): string {
  return printk_state.log.map((r) => r.text).join('\n');
}

export function printk_init(): void {
  printk_state.log = [];
}

/**
 * At boot, once the command line is read: console_loglevel as loglevel=,
 * quiet or debug left it (init/main.c's early params write it directly),
 * never above console_loglevel_cap.
 */
export function console_loglevel_init(level: number): void {
  printk_state.console_loglevel = Math.min(level, printk_state.console_loglevel_cap);
}

const debuggers = new Map<string, createDebug.Debugger>();

/*
 * dynamic debug's role: Linux turns pr_debug() sites on per module, file
 * or function through <debugfs>/dynamic_debug/control; here per subsystem
 * with DEBUG= (DEBUG=mm:* for all of mm, DEBUG=mm:asi,x86:tlb for two,
 * DEBUG=*,-sched for all but one). Each namespace is one subsystem's file
 * set; the list is what --help prints.
 */
export const PR_DEBUG_NAMESPACES: readonly string[] = [
  'mm:page_alloc', 'mm:vmalloc', 'mm:asi', 'mm:ephmap', 'x86:tlb', 'fs:shmem', 'sched', 'kernel:params',
];

/**
 * pr_debug for subsystem `ns` ("mm:vmalloc"). Returns the `debug` instance so
 * hot paths can test `.enabled` before formatting anything:
 *
 *   const pr_debug = pr_debug_ns('mm:asi');
 *   if (pr_debug.enabled) pr_debug('asi_init: mm %d domain pgd %s', id, format_va(pgd));
 *
 * The format is the debug package's (%s, %d, %o, %j), its output stderr
 * with the namespace and the time since the previous message.
 */
export function pr_debug_ns(ns: string): createDebug.Debugger {
  let d = debuggers.get(ns);
  if (!d) {
    d = createDebug(ns);
    debuggers.set(ns, d);
  }
  return d;
}

/** The namespaces DEBUG= turned on, of those declared so far (for tools and tests). */
export function pr_debug_enabled_namespaces(): string[] {
  return [...debuggers.values()].filter((d) => d.enabled).map((d) => d.namespace);
}
