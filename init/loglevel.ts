/*
 * init/loglevel.ts - loglevel=, quiet and debug: the console log level.
 *
 * Mirrors init/main.c's early params debug_kernel ("debug",
 * CONSOLE_LOGLEVEL_DEBUG), quiet_kernel ("quiet", CONSOLE_LOGLEVEL_QUIET)
 * and loglevel ("loglevel=", any level), which write console_loglevel; the
 * last one given wins. Here they fill KernelParams.loglevel and
 * start_kernel hands it to console_loglevel_init() (kernel/printk.ts).
 * A file of its own rather than init/main.ts, so that parsing a command
 * line sees them without booting, and not in kernel/printk.ts, which
 * kernel/params.ts itself prints through.
 * Changed: loglevel= takes 0..15 (CONSOLE_LOGLEVEL_MOTORMOUTH), where Linux
 * takes any int; the default is 4, as if `quiet` were given (Linux's is 7).
 */
import { register_param, parse_uint } from '../kernel/params.ts';
import {
  CONSOLE_LOGLEVEL_QUIET, CONSOLE_LOGLEVEL_DEBUG, CONSOLE_LOGLEVEL_MOTORMOUTH, DEFAULT_LOGLEVEL,
} from '../kernel/printk.ts';

declare module '../kernel/params.ts' {
  interface KernelParams {
    /** console_loglevel after loglevel= / quiet / debug. */
    loglevel: number;
  }
}

/* loglevel=<0..15>: init/main.c's early_param("loglevel", loglevel). */
register_param({
  name: 'loglevel', value: 'required', early: true,
  help: `loglevel=<0..15> console log level: messages below it reach the console. [${DEFAULT_LOGLEVEL}]`,
  set_default: (out) => { out.loglevel = DEFAULT_LOGLEVEL; },
  parse: (val, out) => { out.loglevel = parse_uint('loglevel', 'level', val!, 0, CONSOLE_LOGLEVEL_MOTORMOUTH); },
  format: (p) => (p.loglevel !== DEFAULT_LOGLEVEL ? `loglevel=${p.loglevel}` : null),
});

/* quiet: init/main.c's early_param("quiet", quiet_kernel), CONSOLE_LOGLEVEL_QUIET. */
register_param({
  name: 'quiet', value: 'none', early: true,
  help: 'quiet set the console log level to 4 (warnings and worse).',
  parse: (_val, out) => { out.loglevel = CONSOLE_LOGLEVEL_QUIET; },
});

/* debug: init/main.c's early_param("debug", debug_kernel), CONSOLE_LOGLEVEL_DEBUG. */
register_param({
  name: 'debug', value: 'none', early: true,
  help: 'debug set the console log level to 10 (everything, kernel debugging messages too).',
  parse: (_val, out) => { out.loglevel = CONSOLE_LOGLEVEL_DEBUG; },
});
