/*
 * kernel/trace/trace_events_setup.ts - the trace_event= boot parameter.
 *
 * Mirrors the __setup("trace_event=", setup_trace_event) of
 * kernel/trace/trace_events.c. A file of its own (no Linux counterpart as
 * a file) so that only init/params_owners.ts loads it: parameters register
 * in the order their modules load, which is the order format_cmdline
 * prints in, and trace_events.ts is imported early by any file that
 * declares a tracepoint.
 */
import { register_param, quote_arg } from '../params.ts';

declare module '../params.ts' {
  interface KernelParams {
    /** trace_event=: event specs as given ("asi:*", "tlb:tlb_flush"), empty ones dropped. */
    trace_event: string[];
  }
}

/*
 * trace_event=[event-list]: trace_events.c's __setup("trace_event=",
 * setup_trace_event), which keeps the list in bootup_event_buf for
 * early_enable_events() to apply, comma separated, in set_event syntax
 * (Documentation/trace/events.rst, "Boot option"). A later trace_event=
 * replaces an earlier one, as the buffer is overwritten; start_kernel hands
 * the list to trace_init().
 */
register_param({
  name: 'trace_event', value: 'required',
  help: 'trace_event=[event-list] events to enable at boot, comma separated ("asi:*,tlb:tlb_flush").',
  set_default: (out) => { out.trace_event = []; },
  parse: (val, out) => { out.trace_event = val!.split(',').filter((e) => e !== ''); },
  format: (p) => (p.trace_event.length ? quote_arg(`trace_event=${p.trace_event.join(',')}`) : null),
});

